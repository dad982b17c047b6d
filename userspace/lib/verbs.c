// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The only part of libp2pmr that needs libibverbs, in an object of its own:
 * a static link pulls it in only for programs that call p2pmr_reg_mr().
 */
#include <errno.h>
#include <string.h>
#include <infiniband/verbs.h>

#include "internal.h"

int p2pmr_reg_mr(struct ibv_pd *pd, uint64_t offset, size_t length,
		 uint64_t iova, int dmabuf_fd, int access,
		 struct ibv_mr **mrp)
{
	const char *name;
	struct ibv_mr *mr;
	int err;

	p2pmr_clear_error();
	if (!pd || dmabuf_fd < 0 || !length)
		return p2pmr_fail(-EINVAL,
				  "p2pmr_reg_mr: needs a PD, a dma-buf fd and a non-zero length");
	mr = ibv_reg_dmabuf_mr(pd, offset, length, iova, dmabuf_fd, access);
	if (mr) {
		*mrp = mr;
		return 0;
	}
	err = errno ? errno : EIO;
	name = ibv_get_device_name(pd->context->device);
	switch (err) {
	case EOPNOTSUPP:
	case ENOSYS:
		return p2pmr_fail(-EOPNOTSUPP,
				  "RDMA device %s lacks dma-buf MR support (Soft-RoCE needs p2pmr's rebuilt rdma_rxe; see p2pmr(1))",
				  name);
	case EINVAL:
		return p2pmr_fail(-EINVAL,
				  "RDMA device %s refused the dma-buf MR (offset 0x%llx length 0x%zx iova 0x%llx access 0x%x): out of the dma-buf's bounds, bad access flags, or fd %d is not a dma-buf",
				  name, (unsigned long long)offset, length,
				  (unsigned long long)iova, access, dmabuf_fd);
	case EBADF:
		return p2pmr_fail(-EBADF, "p2pmr_reg_mr: fd %d is not open",
				  dmabuf_fd);
	case EPERM:
	case EACCES:
		return p2pmr_fail(-err,
				  "RDMA device %s: permission denied registering the dma-buf MR: %s",
				  name, strerror(err));
	case ENOMEM:
		return p2pmr_fail(-ENOMEM,
				  "RDMA device %s: out of memory registering the dma-buf MR",
				  name);
	}
	return p2pmr_fail(-err, "RDMA device %s: ibv_reg_dmabuf_mr: %s", name,
			  strerror(err));
}
