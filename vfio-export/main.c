// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci-p2p: vfio-pci plus VFIO_DEVICE_FEATURE_DMA_BUF.
 *
 * Behaves exactly like vfio-pci (every op falls through to vfio_pci_core) and
 * adds the upstream dma-buf export uAPI, so that RDMA NICs and other DMA
 * masters can reach the BARs of a VFIO-owned device peer-to-peer.  Importers
 * are revoked before anything that stops the BAR from decoding: a reset of
 * any kind, memory decode cleared in PCI_COMMAND, low-power entry, a fatal
 * PCIe error (AER, DPC), unbind and close.
 */
#include <linux/eventfd.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "vpp.h"

/* The two vfio-pci module parameters that decide what a driver does. */
static bool enable_sriov;
#ifdef CONFIG_PCI_IOV
module_param(enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov, "Enable SR-IOV configuration through sriov_numvfs, as vfio-pci's parameter of the same name (off by default).  VFs usually need the userspace PF driver's support.");
#endif

static bool disable_denylist;
module_param(disable_denylist, bool, 0444);
MODULE_PARM_DESC(disable_denylist, "Bind to devices on vfio-pci's denylist (known errata that may be exploitable by untrusted users), as vfio-pci's parameter of the same name.");

/* Whether the BAR register at @reg holds resource @resno's bus address. */
static bool vpp_bar_at(struct pci_dev *pdev, int reg, int resno)
{
	u32 lo, hi = 0;

	if (pci_read_config_dword(pdev, reg, &lo) ||
	    ((pci_resource_flags(pdev, resno) & IORESOURCE_MEM_64) &&
	     pci_read_config_dword(pdev, reg + 4, &hi)))
		return false;
	return (((u64)hi << 32) | (lo & PCI_BASE_ADDRESS_MEM_MASK)) ==
	       pci_bus_address(pdev, resno);
}

#ifdef CONFIG_PCI_IOV
/*
 * A VF has no BAR registers of its own: its BARs are the PF's VF BARs (in
 * the PF's SR-IOV capability) at the VF's offset, decoding while the PF has
 * VF Enable and VF Memory Space Enable set.
 */
static bool vpp_vf_bars_decode(struct pci_dev *vf)
{
	struct pci_dev *pf = pci_physfn(vf);
	int pos = pci_find_ext_capability(pf, PCI_EXT_CAP_ID_SRIOV);
	u16 on = PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE, ctrl;
	int bar, resno;

	if (!pos || pci_read_config_word(pf, pos + PCI_SRIOV_CTRL, &ctrl) ||
	    ctrl == 0xffff || (ctrl & on) != on)
		return false;
	for (bar = 0; bar < PCI_SRIOV_NUM_BARS; bar++) {
		resno = PCI_IOV_RESOURCES + bar;
		if (!(pci_resource_flags(pf, resno) & IORESOURCE_MEM) ||
		    !pci_resource_len(pf, resno))
			continue;
		if (!vpp_bar_at(pf, pos + PCI_SRIOV_BAR + 4 * bar, resno))
			return false;
	}
	return true;
}
#else
static bool vpp_vf_bars_decode(struct pci_dev *vf)
{
	return false;
}
#endif

/**
 * vpp_bars_decode() - Whether the hardware decodes the BARs where the
 * kernel put them.
 * @pdev: the device
 *
 * Reads the device's own PCI_COMMAND and memory BARs, not VFIO's virtual
 * copies: after a reset that restored nothing (PCIe error recovery), both
 * are zero until the owner sets memory decode again, which makes vfio-pci
 * write the BARs back.  A VF's BARs are its PF's to decode
 * (vpp_vf_bars_decode()).  A device that is gone reads all ones.
 *
 * Return: true if memory decode is on and every memory BAR holds its
 * assigned bus address.
 */
static bool vpp_bars_decode(struct pci_dev *pdev)
{
	u16 cmd;
	int bar;

	if (pci_read_config_word(pdev, PCI_COMMAND, &cmd) || cmd == 0xffff)
		return false;
	if (pdev->is_virtfn)
		return vpp_vf_bars_decode(pdev);
	if (!pdev->no_command_memory && !(cmd & PCI_COMMAND_MEMORY))
		return false;
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
		    !pci_resource_len(pdev, bar))
			continue;
		if (!vpp_bar_at(pdev, PCI_BASE_ADDRESS_0 + 4 * bar, bar))
			return false;
	}
	return true;
}

/**
 * vpp_revoke_reason() - Why importers must be kept off the BARs now.
 * @p2p: the device, open
 *
 * Importers are kept off while the device is disconnected, while a reset,
 * memory-disabling write, low-power entry or unbind is in progress
 * (vpp_block()), in low power, with memory decode off as the owner set it
 * in VFIO's virtual config space, and during and after PCIe error
 * recovery: from error_detected() (frozen) until the BARs decode again
 * after resume(); after a failed recovery until the next open_device()
 * and then until the BARs decode.  Changes nothing.
 *
 * Context: p2p->lock held.
 *
 * Return: NULL if the buffers may be used, else the reason, for the log.
 */
const char *vpp_revoke_reason(struct vpp_device *p2p)
{
	struct vfio_pci_core_device *core = &p2p->core;
	u16 cmd = le16_to_cpu(*(__le16 *)&core->vconfig[PCI_COMMAND]);

	lockdep_assert_held(&p2p->lock);
	if (pci_dev_is_disconnected(core->pdev))
		return "device disconnected";
	if (p2p->blockers)
		return p2p->block_reason;
	if (core->pm_runtime_engaged || core->pdev->current_state >= PCI_D3hot)
		return "low power";
	switch (p2p->err) {
	case VPP_ERR_NONE:
		break;
	case VPP_ERR_FROZEN:
		return "PCIe error recovery";
	case VPP_ERR_RESUMED:
		if (!vpp_bars_decode(core->pdev))
			return "BARs not decoding since PCIe error recovery";
		break;
	case VPP_ERR_DEAD:
		return "PCIe error recovery failed";
	}
	if (!core->pdev->no_command_memory && !(cmd & PCI_COMMAND_MEMORY))
		return "memory decode off";
	/* Whatever the PF's owner or the PCI core did to the PF. */
	if (core->pdev->is_virtfn && !vpp_vf_bars_decode(core->pdev))
		return "VF BARs not enabled at the PF";
	return NULL;
}

/**
 * vpp_err_settle() - End a PCIe error recovery once the BARs decode again.
 * @p2p: the device, open
 *
 * Reads the hardware's config space (vpp_bars_decode()) while a recovery
 * has resumed: one capability walk and a few config reads per update.
 *
 * Context: p2p->lock held.
 */
void vpp_err_settle(struct vpp_device *p2p)
{
	lockdep_assert_held(&p2p->lock);
	if (p2p->err == VPP_ERR_RESUMED && vpp_bars_decode(p2p->core.pdev))
		p2p->err = VPP_ERR_NONE;
}

/*
 * Blocking: while any blocker is held every buffer of the device is revoked,
 * and taking a blocker returns only once importers have unmapped.  @why
 * goes to the log (the last blocker's, if several are held).
 */
static void vpp_block(struct vpp_device *p2p, const char *why)
{
	mutex_lock(&p2p->lock);
	p2p->blockers++;
	p2p->block_reason = why;
	vpp_dmabufs_update(p2p);
	mutex_unlock(&p2p->lock);
}

static void vpp_unblock(struct vpp_device *p2p)
{
	mutex_lock(&p2p->lock);
	p2p->blockers--;
	vpp_dmabufs_update(p2p);
	mutex_unlock(&p2p->lock);
}

/* Re-evaluate after something that may have re-enabled the BAR. */
static void vpp_update(struct vpp_device *p2p)
{
	mutex_lock(&p2p->lock);
	vpp_dmabufs_update(p2p);
	mutex_unlock(&p2p->lock);
}

static int vpp_init_dev(struct vfio_device *vdev)
{
	struct vpp_device *p2p = to_p2p(vdev);

	mutex_init(&p2p->lock);
	INIT_LIST_HEAD(&p2p->dmabufs);
	xa_init(&p2p->verdicts);
	return vfio_pci_core_init_dev(vdev);
}

static void vpp_release_dev(struct vfio_device *vdev)
{
	struct vpp_device *p2p = to_p2p(vdev);

	xa_destroy(&p2p->verdicts);
	mutex_destroy(&p2p->lock);
	vfio_pci_core_release_dev(vdev);
}

static int vpp_open_device(struct vfio_device *vdev)
{
	struct vpp_device *p2p = to_p2p(vdev);
	struct vfio_pci_core_device *core = &p2p->core;
	int ret;

	ret = vfio_pci_core_enable(core);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(core);
	mutex_lock(&p2p->lock);
	/*
	 * A recovery that never resumed (6.12 tells drivers nothing of a
	 * failure, 7.3 calls error_detected(perm_failure) without
	 * disconnecting the device) now waits only for the BARs to decode:
	 * the last close restored the config space saved at the open before
	 * (vfio_pci_core_disable()), and a reset here may have too.  Left
	 * open: an open between error_detected() and recovery's bus reset
	 * (the PCI core drops the device lock in between); resume() then
	 * sends the state back to waiting for the BARs.
	 */
	if (p2p->err == VPP_ERR_FROZEN || p2p->err == VPP_ERR_DEAD)
		p2p->err = VPP_ERR_RESUMED;
	p2p->open = true;
	mutex_unlock(&p2p->lock);
	return 0;
}



/**
 * vpp_low_power_valid() - Whether a low-power entry request can succeed.
 * @p2p: the device
 * @flags: the feature flags from userspace
 * @arg: the feature payload
 * @argsz: its size
 *
 * Repeats vfio-pci's own checks, so that a PROBE or a request that
 * vfio-pci will refuse revokes nothing.
 *
 * Return: true for a SET that vfio-pci will carry out.
 */
static bool vpp_low_power_valid(struct vpp_device *p2p, u32 flags,
				void __user *arg, size_t argsz)
{
	struct vfio_device_low_power_entry_with_wakeup entry;
	struct eventfd_ctx *efdctx;

	if ((flags & VFIO_DEVICE_FEATURE_MASK) ==
	    VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY)
		return vfio_check_feature(flags, argsz,
					  VFIO_DEVICE_FEATURE_SET, 0) == 1;
	if (vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
			       sizeof(entry)) != 1)
		return false;
	if (copy_from_user(&entry, arg, sizeof(entry)))
		return false;
	efdctx = eventfd_ctx_fdget(entry.wakeup_eventfd);
	if (IS_ERR(efdctx))
		return false;
	eventfd_ctx_put(efdctx);
	return true;
}

static int vpp_device_feature(struct vfio_device *vdev, u32 flags,
			      void __user *arg, size_t argsz)
{
	struct vpp_device *p2p = to_p2p(vdev);
	int ret;

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_DMA_BUF:
		return vpp_dmabuf_feature(p2p, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		if (!vpp_low_power_valid(p2p, flags, arg, argsz))
			return vfio_pci_core_ioctl_feature(vdev, flags, arg,
							   argsz);
		/* Revoke before the device may leave D0. */
		vpp_block(p2p, "low-power entry");
		ret = vfio_pci_core_ioctl_feature(vdev, flags, arg, argsz);
		vpp_unblock(p2p);
		return ret;
	default:
		ret = vfio_pci_core_ioctl_feature(vdev, flags, arg, argsz);
		vpp_update(p2p);
		return ret;
	}
}

static long vpp_ioctl(struct vfio_device *vdev, unsigned int cmd,
		      unsigned long arg)
{
	long ret = vfio_pci_core_ioctl(vdev, cmd, arg);

	/* Any ioctl may have brought the device out of low power. */
	vpp_update(to_p2p(vdev));
	return ret;
}

/* Does a write of @count bytes at @pos cover the byte at @reg? */
static bool vpp_covers(loff_t pos, size_t count, unsigned int reg)
{
	return pos <= reg && pos + count > reg;
}

/**
 * vpp_write_may_stop_bar() - Whether a config write may stop the BARs.
 * @p2p: the device
 * @pos: offset of the write in config space
 * @count: its length
 *
 * True for a write covering the low byte of PCI_COMMAND (memory decode),
 * the power-state bits of PMCSR (D3hot) or the high byte of the PCIe
 * device control register (function-level reset).  The value is not
 * looked at: vfio-pci copies it from userspace again, and a racing thread
 * may change it in between.
 *
 * Return: true if importers must be revoked before the write.
 */
static bool vpp_write_may_stop_bar(struct vpp_device *p2p, loff_t pos,
				   size_t count)
{
	struct pci_dev *pdev = p2p->core.pdev;

	if (vpp_covers(pos, count, PCI_COMMAND))
		return true;
	if (pdev->pm_cap &&
	    vpp_covers(pos, count, pdev->pm_cap + PCI_PM_CTRL))
		return true;
	return pdev->pcie_cap &&
	       vpp_covers(pos, count, pdev->pcie_cap + PCI_EXP_DEVCTL + 1);
}

static ssize_t vpp_write(struct vfio_device *vdev, const char __user *buf,
			 size_t count, loff_t *ppos)
{
	struct vpp_device *p2p = to_p2p(vdev);
	loff_t pos = *ppos & VFIO_PCI_OFFSET_MASK;
	bool block;
	ssize_t ret;

	if (VFIO_PCI_OFFSET_TO_INDEX(*ppos) != VFIO_PCI_CONFIG_REGION_INDEX)
		return vfio_pci_core_write(vdev, buf, count, ppos);

	/* Writes that vfio-pci refuses outright revoke nothing. */
	block = pos < p2p->core.pdev->cfg_size &&
		count <= p2p->core.pdev->cfg_size - pos &&
		vpp_write_may_stop_bar(p2p, pos, count);
	if (block)
		vpp_block(p2p, "config write that may stop the BARs");
	ret = vfio_pci_core_write(vdev, buf, count, ppos);
	/*
	 * Unblocking re-evaluates the state the write left, as vfio-pci
	 * recorded it: memory decode and power state.  A write that does not
	 * block may still have re-enabled memory.
	 */
	if (block)
		vpp_unblock(p2p);
	else
		vpp_update(p2p);
	return ret;
}

/*
 * The devices bound to this driver, for a PF to find its VFs (lock order:
 * vpp.h).
 */
static LIST_HEAD(vpp_devices);
static DEFINE_MUTEX(vpp_devices_lock);

/**
 * vpp_vfs_reset() - Block or unblock a PF's VFs for a reset of the PF.
 * @pf: the device being reset
 * @prepare: true before the reset, false after it
 *
 * A VF's BARs decode only while its PF has VF Enable set, and a reset of
 * the PF clears it until the PCI core restores the SR-IOV capability
 * (before reset_done()).  Each VF bound to this driver is blocked for that
 * time like for a reset of its own.  Resets nest (a close's bus reset
 * inside vpp_close_device()'s): @pf_reset counts them, and the VF is
 * blocked by the outermost only, which also pairs the unblock with the
 * block for a VF bound in between.  The VFs' device locks are not taken:
 * one may be held by an unbind waiting for the owner of both functions to
 * close the VF, while that owner waits here.  Each VF's importers are
 * waited for in turn with vpp_devices_lock held, which holds up probes and
 * removes of this driver's devices meanwhile.
 *
 * Context: process; the caller may hold @pf's device lock, its
 * memory_lock and its device set's lock.  Takes vpp_devices_lock, then
 * each VF's @lock; may wait for the VFs' importers to unmap.
 */
static void vpp_vfs_reset(struct pci_dev *pf, bool prepare)
{
	struct vpp_device *p2p;

	if (!pf->is_physfn)
		return;
	mutex_lock(&vpp_devices_lock);
	list_for_each_entry(p2p, &vpp_devices, node) {
		struct pci_dev *pdev = p2p->core.pdev;

		if (!pdev->is_virtfn || pci_physfn(pdev) != pf)
			continue;
		if (prepare) {
			if (!p2p->pf_reset++)
				vpp_block(p2p, "reset of the PF");
		} else if (p2p->pf_reset && !--p2p->pf_reset) {
			vpp_unblock(p2p);
		}
	}
	mutex_unlock(&vpp_devices_lock);
}

/*
 * Before vfio_pci_core_close_device() frees the device's state.  It resets
 * the device without reset_prepare() (__pci_reset_function_locked()): a
 * PF's VFs are blocked around it here.
 */
static void vpp_close_device(struct vfio_device *vdev)
{
	struct pci_dev *pdev = to_p2p(vdev)->core.pdev;

	vpp_dmabufs_close(to_p2p(vdev));
	vpp_vfs_reset(pdev, true);
	vfio_pci_core_close_device(vdev);
	vpp_vfs_reset(pdev, false);
}

static const struct vfio_device_ops vpp_vfio_ops = {
	.name		= "vfio-pci-p2p",
	.init		= vpp_init_dev,
	.release	= vpp_release_dev,
	.open_device	= vpp_open_device,
	.close_device	= vpp_close_device,
	.ioctl		= vpp_ioctl,
	.device_feature	= vpp_device_feature,
	.read		= vfio_pci_core_read,
	.write		= vpp_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
	VPP_NEWER_VFIO_OPS
};

/*
 * Every reset of the function that restores its state goes through here,
 * whoever started it: VFIO_DEVICE_RESET, a hot reset of the device set
 * through another device, a reset written to sysfs.  The PCI core calls
 * reset_prepare() before it disables the device and reset_done() after
 * restoring its state.  PCIe error recovery does not: see
 * vpp_err_detected().  A PF's reset stops its VFs' BARs too: they are
 * blocked with it (vpp_vfs_reset()).
 */
static void vpp_reset_prepare(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	vpp_vfs_reset(pdev, true);
	vpp_block(container_of(core, struct vpp_device, core), "reset");
}

static void vpp_reset_done(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	vpp_unblock(container_of(core, struct vpp_device, core));
	vpp_vfs_reset(pdev, false);
}

/**
 * vpp_err_detected() - PCIe error recovery (AER, DPC) found an error.
 * @pdev: the device
 * @state: pci_channel_io_normal for a non-fatal error; frozen for a fatal
 *	one, after which recovery resets the device; perm_failure once
 *	recovery has failed (7.3; 6.12 reports no failure to drivers)
 *
 * Recovery resets the device with a secondary bus reset (or a slot reset,
 * or DPC's link reset) that calls neither reset_prepare() nor reset_done()
 * and restores no config space, so importers are revoked here, while the
 * BARs still decode.  A state, not a blocker: this may be called more than
 * once per recovery.  A non-fatal error revokes nothing.
 *
 * Context: process (the AER or DPC interrupt thread); the PCI core holds
 * the device lock.  May wait for importers to unmap.
 *
 * Return: what vfio-pci votes (PCI_ERS_RESULT_CAN_RECOVER), after it has
 * signalled the owner's error eventfd.
 */
static pci_ers_result_t vpp_err_detected(struct pci_dev *pdev,
					 pci_channel_state_t state)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	struct vpp_device *p2p = container_of(core, struct vpp_device, core);

	device_lock_assert(&pdev->dev);
	if (state == pci_channel_io_frozen ||
	    state == pci_channel_io_perm_failure) {
		mutex_lock(&p2p->lock);
		dev_dbg(&pdev->dev, "error_detected: channel %s\n",
			state == pci_channel_io_frozen ? "frozen" :
			"permanently failed");
		p2p->err = state == pci_channel_io_perm_failure ?
			   VPP_ERR_DEAD : VPP_ERR_FROZEN;
		vpp_dmabufs_update(p2p);
		mutex_unlock(&p2p->lock);
	} else {
		dev_dbg(&pdev->dev, "error_detected: non-fatal, nothing revoked\n");
	}
	return vfio_pci_core_aer_err_detected(pdev, state);
}

/**
 * vpp_err_resume() - PCIe error recovery is over and succeeded.
 * @pdev: the device
 *
 * After a frozen channel the device has been reset and, until its owner
 * sets memory decode again (or resets it), decodes nothing: importers are
 * restored only once the BARs decode (vpp_revoke_reason()), re-evaluated here
 * and after every config write, ioctl and reset.  Whatever the state (an
 * open may have ended a frozen one before the reset), it waits for the
 * BARs again; only a failure reported meanwhile stays.
 *
 * Context: process; the PCI core holds the device lock.  May wait for
 * importers to unmap.
 */
static void vpp_err_resume(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	struct vpp_device *p2p = container_of(core, struct vpp_device, core);

	device_lock_assert(&pdev->dev);
	mutex_lock(&p2p->lock);
	dev_dbg(&pdev->dev, "error recovery resumed\n");
	if (p2p->err != VPP_ERR_DEAD)
		p2p->err = VPP_ERR_RESUMED;
	vpp_dmabufs_update(p2p);
	mutex_unlock(&p2p->lock);
}

static const struct pci_error_handlers vpp_err_handlers = {
	.error_detected	= vpp_err_detected,
	.resume		= vpp_err_resume,
	.reset_prepare	= vpp_reset_prepare,
	.reset_done	= vpp_reset_done,
};

/* The devices vfio-pci refuses to drive (errata); refused here too. */
static const struct pci_device_id vpp_denylist[] = {
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C3XXX) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C3XXX_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C62X) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C62X_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_DH895XCC) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_DH895XCC_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_DSA_SPR0) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_IAX_SPR0) },
	{}
};

static bool vpp_denylisted(struct pci_dev *pdev)
{
	if (!pci_match_id(vpp_denylist, pdev))
		return false;
	if (disable_denylist) {
		pci_warn(pdev, "device denylist disabled - allowing device %04x:%04x.\n",
			 pdev->vendor, pdev->device);
		return false;
	}
	/* vfio-pci's words, so that what looks for them finds ours too. */
	pci_warn(pdev, "%04x:%04x exists in vfio-pci device denylist, driver probing disallowed.\n",
		 pdev->vendor, pdev->device);
	return true;
}

static int vpp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vpp_device *p2p;
	int ret;

	if (vpp_denylisted(pdev))
		return -EINVAL;

	p2p = vfio_alloc_device(vpp_device, core.vdev, &pdev->dev,
				&vpp_vfio_ops);
	if (IS_ERR(p2p))
		return PTR_ERR(p2p);

	dev_set_drvdata(&pdev->dev, &p2p->core);
	/* Listed before it can be opened: a PF's reset then finds it. */
	mutex_lock(&vpp_devices_lock);
	list_add(&p2p->node, &vpp_devices);
	mutex_unlock(&vpp_devices_lock);
	ret = vfio_pci_core_register_device(&p2p->core);
	if (ret)
		goto err_unlist;
	vpp_debugfs_add(p2p);
	return 0;

err_unlist:
	mutex_lock(&vpp_devices_lock);
	list_del(&p2p->node);
	mutex_unlock(&vpp_devices_lock);
	vfio_put_device(&p2p->core.vdev);
	return ret;
}

static void vpp_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	struct vpp_device *p2p = container_of(core, struct vpp_device, core);

	/*
	 * Stop importers now: unregistering waits for the owner to close the
	 * device, which may take a while.  Closing revokes for good.  A block
	 * a PF's reset holds on it (@pf_reset) ends with the device.
	 */
	mutex_lock(&vpp_devices_lock);
	list_del(&p2p->node);
	mutex_unlock(&vpp_devices_lock);
	vpp_block(p2p, "unbind");
	vpp_debugfs_remove(p2p);
	vfio_pci_core_unregister_device(core);
	vpp_unblock(p2p);
	vfio_put_device(&core->vdev);
}

/*
 * Enabling VFs may bring the PF back to D0 (vfio-pci does so before
 * pci_enable_sriov()): the buffers follow the state it left.
 */
static int vpp_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	int ret;

	if (!enable_sriov)
		return -ENOENT;
	ret = vfio_pci_core_sriov_configure(core, nr_virtfn);
	vpp_update(container_of(core, struct vpp_device, core));
	return ret;
}

/* Binds only through driver_override, like vfio-pci with ids= unset. */
static const struct pci_device_id vpp_pci_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vpp_pci_table);

static struct pci_driver vpp_pci_driver = {
	.name			= "vfio-pci-p2p",
	.id_table		= vpp_pci_table,
	.probe			= vpp_probe,
	.remove			= vpp_remove,
	.sriov_configure	= vpp_sriov_configure,
	.err_handler		= &vpp_err_handlers,
	.driver_managed_dma	= true,
};

static int __init vpp_init(void)
{
	int ret;

	if (disable_denylist)
		pr_warn("device denylist disabled.\n");
	vpp_debugfs_init();
	ret = pci_register_driver(&vpp_pci_driver);
	if (ret)
		vpp_debugfs_exit();
	return ret;
}

static void __exit vpp_exit(void)
{
	pci_unregister_driver(&vpp_pci_driver);
	vpp_debugfs_exit();
}

module_init(vpp_init);
module_exit(vpp_exit);

VPP_IMPORT_NS_DMA_BUF;
MODULE_DESCRIPTION("VFIO PCI driver exporting BARs as dma-bufs for peer-to-peer DMA");
MODULE_LICENSE("GPL");
