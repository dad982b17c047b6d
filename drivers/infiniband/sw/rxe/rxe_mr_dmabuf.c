// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * Soft-RoCE memory regions over dma-bufs.
 *
 * rxe moves data with the CPU, so a dma-buf MR is imported for CPU access
 * (ib_umem_dmabuf_cpu_get()) and every access goes through the umem's copy
 * helpers, which use MMIO-safe accessors: the buffer may be a PCI BAR.  Once
 * the exporter revokes the buffer every access fails: the responder answers
 * an RDMA or atomic request with a remote access error NAK and completes a
 * receive into the MR with a local protection error; the requester
 * completes a work request using the MR with a local protection error.
 * The MR stays in that state; the
 * application registers a new one (no transparent remap: an MR whose
 * contents silently moved to new memory would break RDMA semantics).
 */
#include <rdma/ib_umem_dmabuf_cpu.h>

#include "rxe.h"
#include "rxe_loc.h"

static struct ib_umem_dmabuf_cpu *rxe_mr_dmabuf(struct rxe_mr *mr)
{
	return ib_umem_to_dmabuf_cpu(mr->umem);
}

/**
 * rxe_mr_dmabuf_init - Initialise a user MR over a dma-buf.
 * @rxe: the device
 * @offset: start of the MR in the dma-buf
 * @length: length of the MR
 * @iova: the MR's I/O virtual address
 * @fd: the dma-buf
 * @access: IB_ACCESS_* flags
 * @mr: the MR being created
 *
 * Return: 0 or a negative errno (-EOPNOTSUPP for a dma-buf without CPU
 * access, -ENODEV if it is revoked).
 */
int rxe_mr_dmabuf_init(struct rxe_dev *rxe, u64 offset, u64 length, u64 iova,
		       int fd, int access, struct rxe_mr *mr)
{
	struct ib_umem_dmabuf_cpu *cpu;

	rxe_mr_init(access, mr);
	cpu = ib_umem_dmabuf_cpu_get(&rxe->ib_dev, offset, length, fd, access);
	if (IS_ERR(cpu)) {
		rxe_dbg_mr(mr, "cannot import dma-buf, err = %ld\n",
			   PTR_ERR(cpu));
		return PTR_ERR(cpu);
	}
	mr->umem = ib_umem_dmabuf_cpu_umem(cpu);
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;
	mr->ibmr.type = IB_MR_TYPE_USER;
	mr->state = RXE_MR_STATE_VALID;
	return 0;
}

/* Context: range already checked against the MR by the caller. */
int rxe_mr_dmabuf_copy(struct rxe_mr *mr, u64 iova, void *addr,
		       unsigned int length, enum rxe_mr_copy_dir dir)
{
	struct ib_umem_dmabuf_cpu *cpu = rxe_mr_dmabuf(mr);
	u64 offset = iova - mr->ibmr.iova;
	int err;

	if (dir == RXE_TO_MR_OBJ)
		err = ib_umem_dmabuf_cpu_copy_to(cpu, offset, addr, length);
	else
		err = ib_umem_dmabuf_cpu_copy_from(cpu, addr, offset, length);
	if (err)
		rxe_dbg_mr(mr, "dma-buf access failed (revoked?), err = %d\n",
			   err);
	return err;
}

static int rxe_mr_dmabuf_check_atomic(struct rxe_mr *mr, u64 iova)
{
	if (mr_check_range(mr, iova, sizeof(u64))) {
		rxe_dbg_mr(mr, "iova out of range\n");
		return RESPST_ERR_RKEY_VIOLATION;
	}
	/*
	 * See IBA A19.4.2: atomics must be 8-byte aligned.  What must be
	 * aligned is the word in the buffer (the MR's offset in the dma-buf
	 * plus the offset in the MR), not the iova.
	 */
	if ((mr->umem->address + (iova - mr->ibmr.iova)) & 7) {
		rxe_dbg_mr(mr, "iova not aligned\n");
		return RESPST_ERR_MISALIGNED_ATOMIC;
	}
	return RESPST_NONE;
}

/* The responder's state for an error of ib_umem_dmabuf_cpu_atomic(). */
static int rxe_mr_dmabuf_atomic_err(struct rxe_mr *mr, int err)
{
	if (!err)
		return RESPST_NONE;
	if (err == -EINVAL) {
		/* The word is not 8-byte aligned in the buffer itself. */
		rxe_dbg_mr(mr, "dma-buf word not aligned\n");
		return RESPST_ERR_MISALIGNED_ATOMIC;
	}
	rxe_dbg_mr(mr, "dma-buf atomic failed (revoked?), err = %d\n", err);
	return RESPST_ERR_RKEY_VIOLATION;
}

/*
 * Atomics on a dma-buf MR: a read-modify-write with single 8-byte accesses
 * (ib_umem_dmabuf_cpu_atomic()), under rxe's atomic_ops_lock, which makes
 * them atomic with respect to all other rxe atomics, as for host memory,
 * also those through another MR over the same buffer.  (A PCIe device
 * writing the same word concurrently is not excluded: that needs a real
 * atomic-capable NIC.)
 */
int rxe_mr_dmabuf_atomic_op(struct rxe_mr *mr, u64 iova, int opcode,
			    u64 compare, u64 swap_add, u64 *orig_val,
			    spinlock_t *atomic_lock)
{
	enum ib_umem_dmabuf_cpu_atomic_op op;
	int err;

	err = rxe_mr_dmabuf_check_atomic(mr, iova);
	if (err != RESPST_NONE)
		return err;

	op = opcode == IB_OPCODE_RC_COMPARE_SWAP ? IB_UMEM_DMABUF_CPU_CMP_SWAP :
						   IB_UMEM_DMABUF_CPU_FETCH_ADD;
	spin_lock_bh(atomic_lock);
	err = ib_umem_dmabuf_cpu_atomic(rxe_mr_dmabuf(mr), iova - mr->ibmr.iova,
					op, compare, swap_add, orig_val);
	spin_unlock_bh(atomic_lock);
	return rxe_mr_dmabuf_atomic_err(mr, err);
}

/*
 * ATOMIC_WRITE takes atomic_ops_lock too: a FETCH_ADD or CMP_SWAP through
 * any MR over the buffer reads and writes the word in two accesses, and a
 * write between them would be lost.
 */
int rxe_mr_dmabuf_atomic_write(struct rxe_mr *mr, u64 iova, u64 value,
			       spinlock_t *atomic_lock)
{
	int err;

	err = rxe_mr_dmabuf_check_atomic(mr, iova);
	if (err != RESPST_NONE)
		return err;
	/* Do the atomic write after all prior writes have been posted. */
	wmb();
	spin_lock_bh(atomic_lock);
	err = ib_umem_dmabuf_cpu_atomic(rxe_mr_dmabuf(mr), iova - mr->ibmr.iova,
					IB_UMEM_DMABUF_CPU_WRITE, 0, value,
					NULL);
	spin_unlock_bh(atomic_lock);
	return rxe_mr_dmabuf_atomic_err(mr, err);
}
