// SPDX-License-Identifier: GPL-2.0
/*
 * Throw-away module for the debug kernels' own test
 * (tests/host-debug/debug-catches-bugs.sh): loading it with bug=NAME plants
 * one bug of the kind the debug kernels exist to catch, and the test bed must
 * fail the run and name the report.  bug=none plants nothing.
 *
 *   uaf        a read of freed slab memory             (KASAN)
 *   lockorder  two mutexes taken in both orders         (lockdep)
 *   leak       an allocation whose last pointer is lost (kmemleak)
 *   dma        a DMA unmap with another size than the map (DMA-API debugging)
 */
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>

static char *bug = "none";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "none, uaf, lockorder, leak or dma");

static DEFINE_MUTEX(plant_a);
static DEFINE_MUTEX(plant_b);

static noinline int plant_uaf(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	pr_info("p2pmr_plant: read after free: %d\n", READ_ONCE(p[8]));
	return 0;
}

static noinline int plant_lockorder(void)
{
	mutex_lock(&plant_a);
	mutex_lock(&plant_b);
	mutex_unlock(&plant_b);
	mutex_unlock(&plant_a);

	mutex_lock(&plant_b);
	mutex_lock(&plant_a);
	mutex_unlock(&plant_a);
	mutex_unlock(&plant_b);
	return 0;
}

/*
 * Several objects: the last pointer may stay behind in a stack that the
 * kernel caches for the next task, which kmemleak scans and takes for a
 * reference; the earlier ones are overwritten there.
 */
static noinline int plant_leak(void)
{
	void *p;
	int i;

	for (i = 0; i < 8; i++) {
		p = kmalloc(1000, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0x5a, 1000);
		OPTIMIZER_HIDE_VAR(p);
	}
	pr_info("p2pmr_plant: leaked 8 objects of 1000 bytes\n");
	return 0;
}

/* Any PCI device serves: ivshmem is in every test bed VM. */
static noinline int plant_dma(void)
{
	struct pci_dev *pdev = pci_get_device(0x1af4, 0x1110, NULL);
	dma_addr_t addr;
	void *buf;
	int ret = 0;

	if (!pdev)
		return -ENODEV;
	buf = kmalloc(4096, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out_put;
	}
	addr = dma_map_single(&pdev->dev, buf, 4096, DMA_TO_DEVICE);
	if (dma_mapping_error(&pdev->dev, addr)) {
		ret = -EIO;
		goto out_free;
	}
	dma_unmap_single(&pdev->dev, addr, 2048, DMA_TO_DEVICE);
out_free:
	kfree(buf);
out_put:
	pci_dev_put(pdev);
	return ret;
}

static int __init p2pmr_plant_init(void)
{
	if (!strcmp(bug, "none"))
		return 0;
	if (!strcmp(bug, "uaf"))
		return plant_uaf();
	if (!strcmp(bug, "lockorder"))
		return plant_lockorder();
	if (!strcmp(bug, "leak"))
		return plant_leak();
	if (!strcmp(bug, "dma"))
		return plant_dma();
	pr_err("p2pmr_plant: unknown bug '%s'\n", bug);
	return -EINVAL;
}

static void __exit p2pmr_plant_exit(void)
{
}

module_init(p2pmr_plant_init);
module_exit(p2pmr_plant_exit);
MODULE_DESCRIPTION("p2pmr test bed: plants one bug for the debug kernels to catch");
MODULE_LICENSE("GPL");
