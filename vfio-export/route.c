// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing the peer-to-peer route from a BAR to an importing device.
 *
 * Where the kernel has P2PDMA (Debian's 7.3), its verdict decides whether a
 * pair is served at all, as for upstream's vfio-pci exporter; the route a
 * served pair takes is worked out here by the kernel's rules, which the
 * kernel does not export.  Without P2PDMA (Debian's 6.12) the same rules
 * decide everything here:
 *
 * (a) Provider and importer below a common upstream bridge (a PCIe switch,
 *     or a root port above a multi-function device), no ACS P2P redirection
 *     on the way: the bridge routes the importer's requests straight to the
 *     BAR's bus address.
 * (b) Otherwise through the host bridge(s), if they forward peer-to-peer
 *     traffic (AMD Zen and later, or a root complex on the allow-list): the
 *     importer's DMA API maps the BAR (through its IOMMU, with MMIO
 *     attributes).
 * (c) Anything else is refused, as is the host-bridge route for an importer
 *     whose DMA API would bounce through swiotlb (MMIO cannot be bounced).
 */
#include <linux/pci.h>
#include <linux/swiotlb.h>
#include <asm/processor.h>

#include "vpp.h"

const char *vpp_route_name(enum vpp_route route)
{
	switch (route) {
	case VPP_ROUTE_BUS:
		return "bus-address";
	case VPP_ROUTE_HOST_BRIDGE:
		return "host-bridge";
	default:
		return "none";
	}
}

/* Is ACS set to redirect peer-to-peer requests upstream at @dev? */
static bool vpp_acs_redirects(struct pci_dev *dev)
{
	u16 ctrl;

	if (!dev->acs_cap)
		return false;
	pci_read_config_word(dev, dev->acs_cap + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

static bool vpp_is_above(struct pci_dev *up, struct pci_dev *dev)
{
	for (; dev; dev = pci_upstream_bridge(dev))
		if (dev == up)
			return true;
	return false;
}

/*
 * The bus-address route: @a and @b below a common upstream device, and no
 * device on either path up to it (the common one included) redirecting
 * peer-to-peer requests, as the kernel's P2PDMA code decides it.
 */
static bool vpp_bus_route(struct pci_dev *a, struct pci_dev *b)
{
	struct pci_dev *common, *up;

	for (common = a; common; common = pci_upstream_bridge(common))
		if (vpp_is_above(common, b))
			break;
	if (!common)
		return false;
	for (up = a; up; up = pci_upstream_bridge(up)) {
		if (vpp_acs_redirects(up))
			return false;
		if (up == common)
			break;
	}
	for (up = b; up != common; up = pci_upstream_bridge(up))
		if (vpp_acs_redirects(up))
			return false;
	return true;
}

#define VPP_SAME_HOST_BRIDGE	BIT(0)	/* forwards only between its own ports */

/*
 * Root complexes known to forward peer-to-peer requests, identified by the
 * first function of their root bus: the kernel's P2PDMA allow-list as of
 * 7.3, used where the kernel has no P2PDMA.  Keep it in step with
 * userspace/tools/doctor.c.
 */
static const struct pci_device_id vpp_host_bridges[] = {
	/* Xeon E5 / Core i7 (Sandy Bridge-EP), Xeon E5/E7 v3 (Haswell) */
	{ PCI_VDEVICE(INTEL, 0x3c00), VPP_SAME_HOST_BRIDGE },
	{ PCI_VDEVICE(INTEL, 0x3c01), VPP_SAME_HOST_BRIDGE },
	{ PCI_VDEVICE(INTEL, 0x2f00), VPP_SAME_HOST_BRIDGE },
	{ PCI_VDEVICE(INTEL, 0x2f01), VPP_SAME_HOST_BRIDGE },
	/* Skylake-E root ports, Ice Lake-SP */
	{ PCI_VDEVICE(INTEL, 0x2030) },
	{ PCI_VDEVICE(INTEL, 0x2031) },
	{ PCI_VDEVICE(INTEL, 0x2032) },
	{ PCI_VDEVICE(INTEL, 0x2033) },
	{ PCI_VDEVICE(INTEL, 0x2020) },
	{ PCI_VDEVICE(INTEL, 0x09a2) },
	/* DSA, IAX/IAA and QAT at 00.0 of Sapphire/Granite Rapids and later */
	{ PCI_VDEVICE(INTEL, 0x0b25) },
	{ PCI_VDEVICE(INTEL, 0x0cfe) },
	{ PCI_VDEVICE(INTEL, 0x11fb) },
	{ PCI_VDEVICE(INTEL, 0x1212) },
	{ PCI_VDEVICE(INTEL, 0x1216) },
	{ PCI_VDEVICE(INTEL, 0x4940) },
	{ PCI_VDEVICE(INTEL, 0x4942) },
	{ PCI_VDEVICE(INTEL, 0x4944) },
	{ PCI_VDEVICE(INTEL, 0x4946) },
	{ PCI_VDEVICE(INTEL, 0x4948) },
	/* Google SoCs, any device */
	{ PCI_DEVICE(0x1ae0, PCI_ANY_ID) },
	/* NVIDIA Grace */
	{ PCI_VDEVICE(NVIDIA, 0x2f95) },
	{ PCI_VDEVICE(NVIDIA, 0x2f96) },
	{ PCI_VDEVICE(NVIDIA, 0x2f97) },
	{ PCI_VDEVICE(NVIDIA, 0x2f98) },
	{}
};

/* Is @host on the allow-list; @same: both devices are below it. */
static bool vpp_host_bridge_listed(struct pci_host_bridge *host, bool same)
{
	const struct pci_device_id *id;
	struct pci_dev *root;

	/*
	 * A host bridge function at 00.0, or a root port where the platform
	 * has none (Skylake).  The root bus's list is read without
	 * pci_bus_sem, as the kernel's P2PDMA code reads it: the first device
	 * stays while a device below it is held, as the caller's are.  Taking
	 * pci_bus_sem here (pci_get_slot()) would invert the order of the
	 * error handlers, which run under it (pci_walk_bus()) and take the
	 * dma-buf's resv lock, held here by the map.
	 */
	root = list_first_entry_or_null(&host->bus->devices, struct pci_dev,
					bus_list);
	if (!root || (root->devfn != PCI_DEVFN(0, 0) &&
		      pci_pcie_type(root) != PCI_EXP_TYPE_ROOT_PORT))
		return false;
	id = pci_match_id(vpp_host_bridges, root);
	return id && (same || !(id->driver_data & VPP_SAME_HOST_BRIDGE));
}

static bool vpp_host_bridges_ok(struct pci_dev *a, struct pci_dev *b)
{
	struct pci_host_bridge *host_a = pci_find_host_bridge(a->bus);
	struct pci_host_bridge *host_b = pci_find_host_bridge(b->bus);

#ifdef CONFIG_X86
	if (boot_cpu_data.x86_vendor == X86_VENDOR_AMD &&
	    boot_cpu_data.x86 >= 0x17)
		return true;
#endif
	if (host_a == host_b)
		return vpp_host_bridge_listed(host_a, true);
	return vpp_host_bridge_listed(host_a, false) &&
	       vpp_host_bridge_listed(host_b, false);
}

/*
 * The kernel's verdict on @p2p and @client, asked once per importing
 * function, as the kernel caches its own (asking again would repeat the
 * warning it prints, not ratelimited, for a refused pair with ACS
 * redirection on the path, at each first map of an attachment).
 */
static int vpp_kernel_verdict(struct vpp_device *p2p, struct pci_dev *client)
{
	unsigned long idx = (unsigned long)pci_domain_nr(client->bus) << 16 |
			    pci_dev_id(client);
	void *entry = xa_load(&p2p->verdicts, idx);
	int verdict;

	if (entry)
		return -(int)xa_to_value(entry);
	verdict = vpp_kernel_p2p(p2p->core.pdev, client);
	/* Not kept when memory is short: asked again next time. */
	xa_store(&p2p->verdicts, idx, xa_mk_value(-verdict),
		 GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	return verdict;
}

/**
 * vpp_route() - Choose how @dev reaches the BARs of @p2p's device.
 * @p2p: the exporting device
 * @dev: the importing device
 * @reason: set to why the route was chosen or refused
 *
 * The kernel's P2PDMA code, where there is one, decides whether the pair
 * can reach each other at all; which of the two routes they take is worked
 * out here by the same rules (the kernel does not export it to modules).
 *
 * Return: the route; VPP_ROUTE_NONE if @dev cannot reach the BAR.
 */
enum vpp_route vpp_route(struct vpp_device *p2p, struct device *dev,
			 const char **reason)
{
	struct pci_dev *provider = p2p->core.pdev;
	struct pci_dev *client;
	int verdict;

	if (!dev_is_pci(dev)) {
		*reason = "importer is not a PCI device";
		return VPP_ROUTE_NONE;
	}
	client = to_pci_dev(dev);
	verdict = vpp_kernel_verdict(p2p, client);
	if (verdict == -EPERM) {
		*reason = "path crosses a host bridge not known to forward peer-to-peer (the kernel's P2PDMA)";
		return VPP_ROUTE_NONE;
	}
	if (vpp_bus_route(provider, client)) {
		*reason = "common upstream bridge, no ACS redirect";
		return VPP_ROUTE_BUS;
	}
	if (verdict == -EOPNOTSUPP && !vpp_host_bridges_ok(provider, client)) {
		*reason = "path crosses a host bridge not known to forward peer-to-peer";
		return VPP_ROUTE_NONE;
	}
	/* dma-direct refuses DMA_ATTR_MMIO then; 6.12's map_resource does not */
	if (is_swiotlb_force_bounce(dev)) {
		*reason = "importer's DMA is forced through swiotlb, which cannot bounce MMIO";
		return VPP_ROUTE_NONE;
	}
	*reason = "through the host bridge by the importer's DMA API";
	return VPP_ROUTE_HOST_BRIDGE;
}
