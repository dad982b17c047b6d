// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr_umemcpu: a one-shot check of the CPU-access umem API, run at load.
 *
 *   insmod p2pmr_umemcpu.ko fd=N netdev=veth0
 *
 * imports the first page of dma-buf N (an fd of the insmod process) for the
 * RDMA device on @netdev, as a software RDMA driver does, sets the umem's
 * private field as a driver may (mlx5 keeps its MR there), then checks that
 * the umem is still known as a CPU-access umem, that an 8-byte word written
 * through it reads back, and releases it.  Also that a dma-buf umem the
 * core made without importer ops (a static attachment for a DMA device,
 * legal from 7.x on) is not taken for a CPU-access one: an ib_umem_dmabuf
 * laid out as such, never used for I/O.  Loading fails, with the reason
 * in the kernel log, if a check fails; rmmod it after a successful load.
 */
#include <linux/dma-buf.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/net_namespace.h>
#include <rdma/ib_umem_dmabuf_cpu.h>
#include <rdma/ib_verbs.h>

static int fd = -1;
module_param(fd, int, 0444);
MODULE_PARM_DESC(fd, "dma-buf file descriptor of the loading process");

static char *netdev = "veth0";
module_param(netdev, charp, 0444);
MODULE_PARM_DESC(netdev, "network device of the software RDMA device");

static int umemcpu_check(struct ib_device *ibdev)
{
	const u64 word = 0x5a5aa5a512345678ULL;
	struct ib_umem_dmabuf_cpu *cpu;
	struct ib_umem_dmabuf *umem_dmabuf;
	struct ib_umem *umem;
	u64 back = 0;
	int ret;

	cpu = ib_umem_dmabuf_cpu_get(ibdev, 0, PAGE_SIZE, fd,
				     IB_ACCESS_LOCAL_WRITE);
	if (IS_ERR(cpu)) {
		pr_err("p2pmr_umemcpu: import failed: %pe\n", cpu);
		return PTR_ERR(cpu);
	}
	umem = ib_umem_dmabuf_cpu_umem(cpu);
	umem_dmabuf = to_ib_umem_dmabuf(umem);
	/* The driver's field: whatever it holds, the umem stays CPU-access. */
	umem_dmabuf->private = &fd;

	if (ib_umem_to_dmabuf_cpu(umem) != cpu) {
		pr_err("p2pmr_umemcpu: a CPU-access umem with its private field set is not known as one\n");
		ret = -EBADMSG;
		goto out_release;
	}
	ret = ib_umem_dmabuf_cpu_copy_to(cpu, 0, &word, sizeof(word));
	if (!ret)
		ret = ib_umem_dmabuf_cpu_copy_from(cpu, &back, 0, sizeof(back));
	if (ret) {
		pr_err("p2pmr_umemcpu: copy failed: %d\n", ret);
		goto out_release;
	}
	if (back != word) {
		pr_err("p2pmr_umemcpu: read back %#llx, wrote %#llx\n", back, word);
		ret = -EIO;
		goto out_release;
	}
	pr_info("p2pmr_umemcpu: ok: known as CPU-access with private set, word read back\n");

out_release:
	ib_umem_release(umem);
	return ret;
}

/* A core dma-buf umem with a static attachment: not ours. */
static int umemcpu_check_foreign(struct ib_device *ibdev, struct device *other)
{
	struct dma_buf_attachment attach = { .dev = other };
	struct ib_umem_dmabuf umem_dmabuf = {
		.umem = { .ibdev = ibdev, .is_dmabuf = 1 },
		.attach = &attach,
	};

	if (ib_umem_to_dmabuf_cpu(&umem_dmabuf.umem)) {
		pr_err("p2pmr_umemcpu: a dma-buf umem without importer ops, attached for another device, is taken for a CPU-access umem\n");
		return -EBADMSG;
	}
	pr_info("p2pmr_umemcpu: ok: a static dma-buf umem of the core is not taken for a CPU-access one\n");
	return 0;
}

static int __init umemcpu_init(void)
{
	struct net_device *ndev;
	struct ib_device *ibdev;
	int ret;

	ndev = dev_get_by_name(&init_net, netdev);
	if (!ndev)
		return -ENODEV;
	ibdev = ib_device_get_by_netdev(ndev, RDMA_DRIVER_RXE);
	if (!ibdev) {
		pr_err("p2pmr_umemcpu: no rxe device on %s\n", netdev);
		ret = -ENODEV;
		goto out_put_ndev;
	}
	ret = umemcpu_check(ibdev);
	if (!ret)
		ret = umemcpu_check_foreign(ibdev, &ndev->dev);
	ib_device_put(ibdev);
out_put_ndev:
	dev_put(ndev);
	return ret;
}

static void __exit umemcpu_exit(void)
{
}

module_init(umemcpu_init);
module_exit(umemcpu_exit);

MODULE_DESCRIPTION("p2pmr test: the CPU-access umem API, checked at load");
MODULE_LICENSE("GPL");
