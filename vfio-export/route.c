// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing the peer-to-peer route from a BAR to an importing device.
 *
 * (a) Provider and importer below one PCIe switch, no ACS redirection on the
 *     way, importer not translated by an IOMMU: the switch routes the
 *     importer's requests straight to the BAR's bus address.
 * (b) Otherwise, through the host bridge, if it forwards peer-to-peer
 *     traffic: the importer's DMA API maps the BAR (through its IOMMU, with
 *     MMIO attributes).
 * (c) Anything else is refused, as is an importer whose DMA API would bounce
 *     through swiotlb (MMIO cannot be bounced).
 */
#include <linux/iommu.h>
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

static bool vpp_is_ancestor(struct pci_dev *bridge, struct pci_dev *dev)
{
	for (dev = pci_upstream_bridge(dev); dev; dev = pci_upstream_bridge(dev))
		if (dev == bridge)
			return true;
	return false;
}

/* The lowest bridge above both devices, or NULL if only the host bridge is. */
static struct pci_dev *vpp_common_bridge(struct pci_dev *a, struct pci_dev *b)
{
	struct pci_dev *up;

	for (up = pci_upstream_bridge(a); up; up = pci_upstream_bridge(up))
		if (vpp_is_ancestor(up, b))
			return up;
	return NULL;
}

/* Does a port between @dev and @top redirect peer-to-peer requests up? */
static bool vpp_acs_redirects(struct pci_dev *dev, struct pci_dev *top)
{
	struct pci_dev *port;
	u16 ctrl;
	int pos;

	for (port = pci_upstream_bridge(dev); port && port != top;
	     port = pci_upstream_bridge(port)) {
		pos = pci_find_ext_capability(port, PCI_EXT_CAP_ID_ACS);
		if (!pos)
			continue;
		pci_read_config_word(port, pos + PCI_ACS_CTRL, &ctrl);
		if (ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC))
			return true;
	}
	return false;
}

static bool vpp_translated(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	return domain && domain->type != IOMMU_DOMAIN_IDENTITY;
}

/*
 * Host bridges known to forward peer-to-peer requests between root ports:
 * AMD Zen and later, and some Intel Xeon root complexes (the same list the
 * kernel's P2PDMA code keeps; Debian's 6.12 is built without it).
 */
static const struct pci_device_id vpp_host_bridges[] = {
	{ PCI_VDEVICE(INTEL, 0x3c00) },
	{ PCI_VDEVICE(INTEL, 0x3c01) },
	{ PCI_VDEVICE(INTEL, 0x2f00) },
	{ PCI_VDEVICE(INTEL, 0x2f01) },
	{ PCI_VDEVICE(INTEL, 0x2030) },
	{ PCI_VDEVICE(INTEL, 0x2031) },
	{ PCI_VDEVICE(INTEL, 0x2032) },
	{ PCI_VDEVICE(INTEL, 0x2033) },
	{ PCI_VDEVICE(INTEL, 0x2020) },
	{ PCI_VDEVICE(INTEL, 0x09a2) },
	{}
};

static bool vpp_host_bridge_ok(struct pci_dev *a, struct pci_dev *b)
{
	struct pci_host_bridge *host = pci_find_host_bridge(a->bus);
	struct pci_dev *root;
	bool ok;

	if (host != pci_find_host_bridge(b->bus))
		return false;
#ifdef CONFIG_X86
	if (boot_cpu_data.x86_vendor == X86_VENDOR_AMD &&
	    boot_cpu_data.x86 >= 0x17)
		return true;
#endif
	root = pci_get_slot(host->bus, PCI_DEVFN(0, 0));
	if (!root)
		return false;
	ok = pci_match_id(vpp_host_bridges, root);
	pci_dev_put(root);
	return ok;
}

/**
 * vpp_route() - Choose how @dev reaches the BARs of @provider.
 * @provider: the exporting PCI function
 * @dev: the importing device
 * @reason: set to why the route was chosen or refused
 *
 * Return: the route; VPP_ROUTE_NONE if @dev cannot reach the BAR.
 */
enum vpp_route vpp_route(struct pci_dev *provider, struct device *dev,
			 const char **reason)
{
	struct pci_dev *client, *common;

	if (!dev_is_pci(dev)) {
		*reason = "importer is not a PCI device";
		return VPP_ROUTE_NONE;
	}
	if (is_swiotlb_force_bounce(dev)) {
		*reason = "importer's DMA is forced through swiotlb, which cannot bounce MMIO";
		return VPP_ROUTE_NONE;
	}
	client = to_pci_dev(dev);
	common = vpp_common_bridge(provider, client);
	if (common && pci_is_pcie(common) &&
	    pci_pcie_type(common) == PCI_EXP_TYPE_UPSTREAM &&
	    !vpp_acs_redirects(provider, common) &&
	    !vpp_acs_redirects(client, common) && !vpp_translated(dev)) {
		*reason = "common PCIe switch, no ACS redirect, importer untranslated";
		return VPP_ROUTE_BUS;
	}
	if (!vpp_host_bridge_ok(provider, client)) {
		*reason = "path crosses a host bridge not known to forward peer-to-peer";
		return VPP_ROUTE_NONE;
	}
	if (!vpp_kernel_p2p_ok(provider, dev)) {
		*reason = "the kernel's P2PDMA code refuses this pair";
		return VPP_ROUTE_NONE;
	}
	*reason = "through the host bridge by the importer's DMA API";
	return VPP_ROUTE_HOST_BRIDGE;
}
