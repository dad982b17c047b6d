// SPDX-License-Identifier: GPL-2.0
/*
 * Throw-away module for the test bed's own test: binding QEMU's edu device,
 * it leaves the vCPU that takes edu's interrupt halted with that interrupt
 * in service in its local APIC.  That is what an interrupt multi-threaded
 * TCG accepted but never let the guest run looks like, and tests/vm/run
 * must notice it and retry the run.
 *
 * edu's legacy interrupt is level-triggered through the IO-APIC, and the
 * fasteoi flow acknowledges the local APIC only after the handler, which
 * here halts with interrupts off, once.  The module never unloads.
 */
#include <linux/atomic.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <asm/irqflags.h>

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_IRQ_RAISE	0x60

static atomic_t p2pmr_stuck_taken = ATOMIC_INIT(0);

static irqreturn_t p2pmr_stuck_irq(int irq, void *data)
{
	if (atomic_xchg(&p2pmr_stuck_taken, 1))
		return IRQ_NONE;
	for (;;)
		native_halt();
}

static int p2pmr_stuck_probe(struct pci_dev *pdev,
			     const struct pci_device_id *id)
{
	void __iomem *regs;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	regs = pcim_iomap_region(pdev, 0, "p2pmr_stuck");
	if (IS_ERR(regs))
		return PTR_ERR(regs);
	ret = devm_request_irq(&pdev->dev, pdev->irq, p2pmr_stuck_irq,
			       IRQF_SHARED, "p2pmr_stuck", pdev);
	if (ret)
		return ret;
	writel(1, regs + EDU_IRQ_RAISE);
	return 0;
}

static const struct pci_device_id p2pmr_stuck_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{ }
};

static struct pci_driver p2pmr_stuck_driver = {
	.name = "p2pmr_stuck",
	.id_table = p2pmr_stuck_ids,
	.probe = p2pmr_stuck_probe,
};

static int __init p2pmr_stuck_init(void)
{
	return pci_register_driver(&p2pmr_stuck_driver);
}

module_init(p2pmr_stuck_init);
MODULE_DESCRIPTION("p2pmr test bed: halts a vCPU with an interrupt in service");
MODULE_LICENSE("GPL");
