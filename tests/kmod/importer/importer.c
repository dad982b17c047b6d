// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmr_importer: a test-only dma-buf importer for vfio-pci-p2p's tests.
 *
 * It binds to QEMU's edu device so that it has a real PCI DMA device to map
 * for, and exposes /dev/p2pmr_importer: each open file is one attachment,
 * which userspace maps, vmaps, reads and writes through ioctls and whose
 * invalidations it counts.  An invalidation unmaps and vunmaps at once, or
 * 300 ms later from a work item (IMP_LAZY_UNMAP) so that tests can see that
 * the exporter waits for the unmap.  IMP_DMA_WRITE makes edu's DMA engine
 * write to the mapped DMA address, as a NIC would.  IMP_UMEM* attach through
 * the RDMA core's ib_umem importer instead (umem.c).
 */
#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "importer.h"
#include "../../lib/pattern.h"

/* edu's DMA engine decodes 28 address bits unless QEMU is told otherwise. */
static unsigned int dma_bits = 28;
module_param(dma_bits, uint, 0444);
MODULE_PARM_DESC(dma_bits, "address bits of edu's DMA engine (QEMU's edu dma_mask)");

static struct pci_dev *imp_pdev;	/* the bound edu device */
static void __iomem *imp_regs;		/* its BAR0 */
static DEFINE_MUTEX(imp_pdev_lock);	/* also serialises the DMA engine */

/* QEMU edu (docs/specs/edu.rst): a 4 KiB buffer and a DMA engine. */
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2	/* edu buffer -> bus address */
#define EDU_BUF		0x40000
#define EDU_BUF_SIZE	4096

static void imp_unmap_locked(struct imp *imp)
{
	dma_resv_assert_held(imp->dmabuf->resv);
	if (imp->sgt) {
		dma_buf_unmap_attachment(imp->attach, imp->sgt,
					 DMA_BIDIRECTIONAL);
		imp->sgt = NULL;
		imp->st.last_unmap_ns = ktime_get_ns();
	}
	if (!iosys_map_is_null(&imp->map)) {
		dma_buf_vunmap(imp->dmabuf, &imp->map);
		iosys_map_clear(&imp->map);
		imp->st.last_unmap_ns = ktime_get_ns();
	}
}

static void imp_lazy_unmap(struct work_struct *work)
{
	struct imp *imp = container_of(work, struct imp, lazy.work);

	dma_resv_lock(imp->dmabuf->resv, NULL);
	imp->lazy_pending = false;
	imp_unmap_locked(imp);
	dma_resv_unlock(imp->dmabuf->resv);
}

static const char *imp_fence_name(struct dma_fence *fence)
{
	return "p2pmr_importer";
}

static const struct dma_fence_ops imp_fence_ops = {
	.get_driver_name = imp_fence_name,
	.get_timeline_name = imp_fence_name,
};

/* IMP_FENCE: the device's work in flight completes. */
static void imp_fence_signal(struct imp *imp)
{
	struct dma_fence *fence = xchg(&imp->fence, NULL);

	if (!fence)
		return;
	WRITE_ONCE(imp->st.fence_signal_ns, ktime_get_ns());
	dma_fence_signal(fence);
	dma_fence_put(fence);
}

static void imp_fence_work(struct work_struct *work)
{
	imp_fence_signal(container_of(work, struct imp, fence_work.work));
}

/* IMP_FENCE: work in flight on the new mapping, as a fence in the resv. */
static int imp_fence_add(struct imp *imp)
{
	struct dma_fence *fence;
	int ret;

	dma_resv_assert_held(imp->dmabuf->resv);
	if (READ_ONCE(imp->fence))
		return 0;
	ret = dma_resv_reserve_fences(imp->dmabuf->resv, 1);
	if (ret)
		return ret;
	fence = kzalloc_obj(*fence, GFP_KERNEL);
	if (!fence)
		return -ENOMEM;
	dma_fence_init(fence, &imp_fence_ops, &imp->fence_lock,
		       dma_fence_context_alloc(1), 1);
	dma_resv_add_fence(imp->dmabuf->resv, fence, DMA_RESV_USAGE_BOOKKEEP);
	imp->fence = fence;
	imp->st.fences++;
	return 0;
}

static void imp_invalidate(struct dma_buf_attachment *attach)
{
	struct imp *imp = attach->importer_priv;
	unsigned int delay = imp->flags & IMP_SLOW_VUNMAP ? 7000 : 300;

	dma_resv_assert_held(attach->dmabuf->resv);
	imp->st.invalidates++;
	/* The exporter must invalidate while the BAR still decodes. */
	if (!iosys_map_is_null(&imp->map) && !imp->lazy_pending &&
	    ioread32(imp->map.vaddr_iomem) != imp->probe)
		imp->st.late_invalidates++;
	if (READ_ONCE(imp->fence))
		schedule_delayed_work(&imp->fence_work, msecs_to_jiffies(400));
	if ((imp->flags & (IMP_LAZY_UNMAP | IMP_SLOW_VUNMAP)) && (imp->sgt ||
	    !iosys_map_is_null(&imp->map))) {
		/* Stop using the mapping now, give it back later. */
		imp->lazy_pending = true;
		schedule_delayed_work(&imp->lazy, msecs_to_jiffies(delay));
		return;
	}
	imp_unmap_locked(imp);
}

static const struct dma_buf_attach_ops imp_ops = {
	.allow_peer2peer = true,
	.IMP_INVALIDATE_OP = imp_invalidate,
};

static const struct dma_buf_attach_ops imp_ops_no_p2p = {
	.allow_peer2peer = false,
	.IMP_INVALIDATE_OP = imp_invalidate,
};

static const struct dma_buf_attach_ops imp_ops_no_invalidate = {
	.allow_peer2peer = true,
};

static struct miscdevice imp_misc;

static int imp_attach(struct imp *imp, struct imp_attach __user *uarg)
{
	const struct dma_buf_attach_ops *ops = &imp_ops;
	struct dma_buf_attachment *attach;
	struct imp_attach arg;
	struct dma_buf *dmabuf;
	struct device *dev;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (imp->dmabuf)
		return -EBUSY;
	if (arg.flags & (IMP_UMEM | IMP_UMEM_PINNED))
		return imp_umem_attach(imp, &arg);

	mutex_lock(&imp_pdev_lock);
	dev = imp_pdev ? &imp_pdev->dev : NULL;
	if (arg.flags & IMP_NODEV)
		dev = imp_misc.this_device;
	mutex_unlock(&imp_pdev_lock);
	if (!dev)
		return -ENODEV;	/* no edu device bound */

	dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	if (arg.flags & IMP_NO_P2P)
		ops = &imp_ops_no_p2p;
	if (arg.flags & IMP_NO_INVALIDATE)
		ops = &imp_ops_no_invalidate;
	if (arg.flags & IMP_STATIC)
		attach = dma_buf_attach(dmabuf, dev);
	else
		attach = dma_buf_dynamic_attach(dmabuf, dev, ops, imp);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto err_put;
	}
	if (arg.flags & IMP_PIN) {
		dma_resv_lock(dmabuf->resv, NULL);
		ret = dma_buf_pin(attach);
		dma_resv_unlock(dmabuf->resv);
		if (ret)
			goto err_detach;
		imp->pinned = true;
	}
	imp->dmabuf = dmabuf;
	imp->attach = attach;
	imp->flags = arg.flags;
	return 0;

err_detach:
	dma_buf_detach(dmabuf, attach);
err_put:
	dma_buf_put(dmabuf);
	return ret;
}

bool imp_contiguous(struct sg_table *sgt)
{
	struct scatterlist *sg;
	dma_addr_t next = 0;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i && sg_dma_address(sg) != next)
			return false;
		next = sg_dma_address(sg) + sg_dma_len(sg);
	}
	return true;
}

static int imp_map(struct imp *imp, struct imp_map __user *uarg)
{
	struct imp_map out = {};
	struct scatterlist *sg;
	struct sg_table *sgt;
	int i, ret = 0;

	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (imp->umem) {
		ret = imp_umem_map(imp, &out);
		goto out;
	}
	if (imp->sgt || imp->lazy_pending) {
		ret = -EBUSY;
		goto out;
	}
	sgt = dma_buf_map_attachment(imp->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out;
	}
	imp->sgt = sgt;
	imp->st.maps++;
	if (imp->flags & IMP_FENCE)
		ret = imp_fence_add(imp);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!i)
			out.dma_addr = sg_dma_address(sg);
		out.length += sg_dma_len(sg);
		out.nents++;
		/* DMA-only: nothing may rely on struct pages. */
		if (sg_page(sg))
			ret = -EFAULT;
	}
	out.contiguous = imp_contiguous(sgt);
	out.orig_nents = sgt->orig_nents;
out:
	dma_resv_unlock(imp->dmabuf->resv);
	if (!ret && copy_to_user(uarg, &out, sizeof(out)))
		ret = -EFAULT;
	return ret;
}

/*
 * CPU access protocol of vfio-pci-p2p: begin_cpu_access() fails while the
 * buffer is revoked; a revoke after it reaches us through imp_invalidate().
 */
static int edu_dma(u64 src, u64 dst, u64 len, u64 cmd)
{
	int i;

	writeq(src, imp_regs + EDU_DMA_SRC);
	writeq(dst, imp_regs + EDU_DMA_DST);
	writeq(len, imp_regs + EDU_DMA_COUNT);
	writeq(cmd | EDU_CMD_START, imp_regs + EDU_DMA_CMD);
	for (i = 0; i < 1000; i++) {
		if (!(readq(imp_regs + EDU_DMA_CMD) & EDU_CMD_START))
			return 0;
		usleep_range(100, 200);
	}
	return -ETIMEDOUT;
}

/*
 * The DMA address of buffer offset @off in the current mapping, and how
 * many of the @len bytes from there are contiguous in DMA space.
 */
static int imp_dma_addr(struct imp *imp, u64 off, u64 len, dma_addr_t *addr,
			u64 *chunk)
{
	struct scatterlist *sg;
	int i;

	if (imp->umem)
		return imp_umem_dma_addr(imp, off, len, addr, chunk);
	if (!imp->sgt || imp->lazy_pending)
		return -ENXIO;
	for_each_sgtable_dma_sg(imp->sgt, sg, i) {
		if (off < sg_dma_len(sg)) {
			*addr = sg_dma_address(sg) + off;
			*chunk = min_t(u64, len, sg_dma_len(sg) - off);
			return 0;
		}
		off -= sg_dma_len(sg);
	}
	return -EINVAL;
}

/*
 * Like a NIC writing into a registered buffer: fill edu's buffer from host
 * memory, then have edu DMA it to the address the exporter mapped for it.
 */
static int imp_dma_write(struct imp *imp, struct imp_dma __user *uarg)
{
	struct pci_dev *pdev;
	struct imp_dma arg;
	dma_addr_t src, dst;
	u64 done, chunk;
	void *buf;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.length || arg.length > EDU_BUF_SIZE)
		return -EINVAL;

	mutex_lock(&imp_pdev_lock);
	pdev = imp_pdev;
	if (!pdev || !imp_regs || imp->flags & IMP_NODEV) {
		ret = -ENODEV;
		goto out_unlock;
	}
	buf = dma_alloc_coherent(&pdev->dev, EDU_BUF_SIZE, &src, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	pattern_fill(buf, arg.length, arg.seed, arg.pattern_offset);

	/* Holding the reservation lock keeps the mapping from going away. */
	dma_resv_lock(imp->dmabuf->resv, NULL);
	ret = edu_dma(src, EDU_BUF, arg.length, 0);
	for (done = 0; !ret && done < arg.length; done += chunk) {
		ret = imp_dma_addr(imp, arg.offset + done, arg.length - done,
				   &dst, &chunk);
		if (ret)
			break;
		if (!done)
			arg.dma_addr = dst;
		ret = edu_dma(EDU_BUF + done, dst, chunk, EDU_CMD_TO_RAM);
	}
	dma_resv_unlock(imp->dmabuf->resv);
	dma_free_coherent(&pdev->dev, EDU_BUF_SIZE, buf, src);
out_unlock:
	mutex_unlock(&imp_pdev_lock);
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
	return ret;
}

static int imp_vmap(struct imp *imp)
{
	int ret;

	ret = dma_buf_begin_cpu_access(imp->dmabuf, DMA_BIDIRECTIONAL);
	if (ret)
		return ret;
	dma_buf_end_cpu_access(imp->dmabuf, DMA_BIDIRECTIONAL);
	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (!iosys_map_is_null(&imp->map) || imp->lazy_pending)
		ret = -EBUSY;
	else
		ret = dma_buf_vmap(imp->dmabuf, &imp->map);
	if (!ret && !imp->map.is_iomem) {
		dma_buf_vunmap(imp->dmabuf, &imp->map);
		iosys_map_clear(&imp->map);
		ret = -EPROTO;	/* a BAR must come back as iomem */
	}
	if (!ret)
		imp->probe = ioread32(imp->map.vaddr_iomem);
	dma_resv_unlock(imp->dmabuf->resv);
	return ret;
}

/* Write or check a pattern through the CPU mapping, a page at a time. */
static int imp_cpu(struct imp *imp, struct imp_cpu __user *uarg, bool write)
{
	struct imp_cpu arg;
	u64 done = 0;
	u8 *buf;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.offset > imp->dmabuf->size ||
	    arg.length > imp->dmabuf->size - arg.offset)
		return -EINVAL;
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (iosys_map_is_null(&imp->map) || imp->lazy_pending) {
		ret = -ENXIO;	/* not mapped, or revoked */
		goto out;
	}
	while (done < arg.length) {
		size_t n = min_t(u64, PAGE_SIZE, arg.length - done);
		u64 off = arg.offset + done;

		if (write) {
			pattern_fill(buf, n, arg.seed, off);
			iosys_map_memcpy_to(&imp->map, off, buf, n);
		} else {
			iosys_map_memcpy_from(buf, &imp->map, off, n);
			if (pattern_check(buf, n, arg.seed, off) >= 0) {
				ret = -EILSEQ;
				break;
			}
		}
		done += n;
	}
out:
	dma_resv_unlock(imp->dmabuf->resv);
	kfree(buf);
	return ret;
}

/* Hold a physical range, as another driver claiming a BAR would. */
static int imp_claim(struct imp *imp, struct imp_claim __user *uarg)
{
	struct imp_claim arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (imp->claim)
		return -EBUSY;
	imp->claim = request_mem_region(arg.start, arg.length, "p2pmr_importer");
	return imp->claim ? 0 : -EBUSY;
}

static long imp_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct imp *imp = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct imp_status st;
	long ret;

	mutex_lock(&imp->lock);
	if (cmd == IMP_CLAIM) {
		ret = imp_claim(imp, uarg);
		goto out;
	}
	if (cmd != IMP_ATTACH && !imp->dmabuf) {
		ret = -ENOTCONN;
		goto out;
	}
	switch (cmd) {
	case IMP_ATTACH:
		ret = imp_attach(imp, uarg);
		break;
	case IMP_MAP:
		ret = imp_map(imp, uarg);
		break;
	case IMP_UNMAP:
	case IMP_VUNMAP:
		dma_resv_lock(imp->dmabuf->resv, NULL);
		ret = 0;
		if (imp->umem && cmd == IMP_UNMAP)
			ret = imp_umem_unmap(imp);
		imp_unmap_locked(imp);
		dma_resv_unlock(imp->dmabuf->resv);
		break;
	case IMP_VMAP:
		/* The umem callbacks give back DMA mappings only. */
		ret = imp->umem ? -EINVAL : imp_vmap(imp);
		break;
	case IMP_CPU_WRITE:
	case IMP_CPU_CHECK:
		ret = imp->umem ? -EINVAL :
		      imp_cpu(imp, uarg, cmd == IMP_CPU_WRITE);
		break;
	case IMP_DMA_WRITE:
		ret = imp_dma_write(imp, uarg);
		break;
	case IMP_STATUS:
		dma_resv_lock(imp->dmabuf->resv, NULL);
		st = imp->st;
		st.mapped = imp->sgt || imp->mtt;
		st.vmapped = !iosys_map_is_null(&imp->map);
		dma_resv_unlock(imp->dmabuf->resv);
		ret = copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
		break;
	default:
		ret = -ENOTTY;
	}
out:
	mutex_unlock(&imp->lock);
	return ret;
}

static int imp_open(struct inode *inode, struct file *file)
{
	struct imp *imp = kzalloc(sizeof(*imp), GFP_KERNEL);

	if (!imp)
		return -ENOMEM;
	mutex_init(&imp->lock);
	INIT_DELAYED_WORK(&imp->lazy, imp_lazy_unmap);
	INIT_DELAYED_WORK(&imp->fence_work, imp_fence_work);
	spin_lock_init(&imp->fence_lock);
	file->private_data = imp;
	return 0;
}

static int imp_release(struct inode *inode, struct file *file)
{
	struct imp *imp = file->private_data;

	if (imp->umem) {
		dma_resv_lock(imp->dmabuf->resv, NULL);
		imp_unmap_locked(imp);
		dma_resv_unlock(imp->dmabuf->resv);
		imp_umem_release(imp);
	} else if (imp->dmabuf) {
		cancel_delayed_work_sync(&imp->lazy);
		cancel_delayed_work_sync(&imp->fence_work);
		imp_fence_signal(imp);
		dma_resv_lock(imp->dmabuf->resv, NULL);
		imp_unmap_locked(imp);
		if (imp->pinned)
			dma_buf_unpin(imp->attach);
		dma_resv_unlock(imp->dmabuf->resv);
		dma_buf_detach(imp->dmabuf, imp->attach);
		dma_buf_put(imp->dmabuf);
	}
	if (imp->claim)
		release_mem_region(imp->claim->start, resource_size(imp->claim));
	mutex_destroy(&imp->lock);
	kfree(imp);
	return 0;
}

static const struct file_operations imp_fops = {
	.owner		= THIS_MODULE,
	.open		= imp_open,
	.release	= imp_release,
	.unlocked_ioctl	= imp_ioctl,
};

static struct miscdevice imp_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "p2pmr_importer",
	.fops	= &imp_fops,
	.mode	= 0600,
};

static int imp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(dma_bits));
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), "p2pmr_importer");
	if (ret)
		return ret;
	pci_set_master(pdev);
	mutex_lock(&imp_pdev_lock);
	imp_pdev = pdev;
	imp_regs = pcim_iomap_table(pdev)[0];
	mutex_unlock(&imp_pdev_lock);
	imp_umem_set_dma_device(&pdev->dev);
	return 0;
}

static void imp_remove(struct pci_dev *pdev)
{
	imp_umem_set_dma_device(NULL);
	mutex_lock(&imp_pdev_lock);
	imp_pdev = NULL;
	imp_regs = NULL;
	mutex_unlock(&imp_pdev_lock);
}

static const struct pci_device_id imp_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },	/* QEMU edu */
	{}
};
MODULE_DEVICE_TABLE(pci, imp_ids);

static struct pci_driver imp_driver = {
	.name		= "p2pmr_importer",
	.id_table	= imp_ids,
	.probe		= imp_probe,
	.remove		= imp_remove,
};

static int __init imp_init(void)
{
	int ret;

	if (!dma_bits || dma_bits > 64)
		return -EINVAL;
	ret = imp_umem_init();

	if (ret)
		return ret;
	ret = misc_register(&imp_misc);
	if (ret)
		goto err_umem;
	ret = pci_register_driver(&imp_driver);
	if (ret)
		goto err_misc;
	return 0;

err_misc:
	misc_deregister(&imp_misc);
err_umem:
	imp_umem_exit();
	return ret;
}

static void __exit imp_exit(void)
{
	pci_unregister_driver(&imp_driver);
	misc_deregister(&imp_misc);
	imp_umem_exit();
}

module_init(imp_init);
module_exit(imp_exit);
IMP_IMPORT_NS_DMA_BUF;
MODULE_DESCRIPTION("p2pmr test-only dma-buf importer");
MODULE_LICENSE("GPL");
