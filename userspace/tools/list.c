// SPDX-License-Identifier: GPL-2.0
/* p2pmr list: VFIO-bound PCI devices and their BARs, from sysfs. */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"

static int list_run(const struct opts *o)
{
	struct json_object *devs, *jd, *bars, *jb, *g;
	struct p2pmr_pci_info *list;
	char buf[32];
	size_t n, i;
	int b, ret;

	ret = p2pmr_list_devices(NULL, o->all ? P2PMR_LIST_ALL : 0, &list, &n);
	if (ret)
		return fail(o, ret);
	devs = jset_arr(jroot, "devices");
	if (!o->json && !n)
		printf("no PCI device is bound to a VFIO driver\n");
	for (i = 0; i < n; i++) {
		const struct p2pmr_pci_info *d = &list[i];

		jd = jarr_obj(devs);
		jset_str(jd, "address", d->bdf);
		jset_str(jd, "driver", *d->driver ? d->driver : NULL);
		snprintf(buf, sizeof(buf), "%04x", d->vendor);
		jset_str(jd, "vendor_id", buf);
		snprintf(buf, sizeof(buf), "%04x", d->device);
		jset_str(jd, "device_id", buf);
		if (d->iommu_group < 0) {
			jset(jd, "iommu_group", NULL);
		} else {
			g = jset_obj(jd, "iommu_group");
			jset_int(g, "id", d->iommu_group);
			jset_bool(g, "noiommu", d->noiommu);
		}
		bars = jset_arr(jd, "bars");
		if (!o->json) {
			printf("%s %s %04x:%04x", d->bdf,
			       *d->driver ? d->driver : "-", d->vendor,
			       d->device);
			if (d->iommu_group < 0)
				printf(" no-iommu-group\n");
			else
				printf(" group %d%s\n", d->iommu_group,
				       d->noiommu ? " (vfio-noiommu)" : "");
		}
		for (b = 0; b < P2PMR_NR_BARS; b++) {
			const struct p2pmr_bar_info *bar = &d->bar[b];

			if (!bar->size)
				continue;
			jb = jarr_obj(bars);
			jset_int(jb, "index", b);
			jset_str(jb, "type",
				 bar->flags & P2PMR_REGION_MEM ? "mem" : "io");
			jset_bool(jb, "prefetchable",
				  bar->flags & P2PMR_REGION_PREFETCH);
			jset_u64(jb, "start", bar->start);
			jset_u64(jb, "size", bar->size);
			if (o->json)
				continue;
			printf("  BAR%d %s%s 0x%" PRIx64 " %s\n", b,
			       bar->flags & P2PMR_REGION_MEM ? "mem" : "io",
			       bar->flags & P2PMR_REGION_PREFETCH ? " prefetchable" : "",
			       bar->start, human(bar->size, buf, sizeof(buf)));
		}
	}
	p2pmr_free_devices(list);
	return EXIT_OK;
}

const struct cmd cmd_list = {
	.name = "list",
	.opts = OPT_ALL,
	.usage = "  list [--all]                 VFIO-bound PCI devices and their BARs\n",
	.run = list_run,
};
