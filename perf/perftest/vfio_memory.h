/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * perftest memory backend for a BAR of a VFIO-bound PCI device, exported as a
 * dma-buf with libp2pmr (p2pmr project, perf/perftest/).
 */

#ifndef VFIO_MEMORY_H
#define VFIO_MEMORY_H

#include <stdint.h>
#include "memory.h"


struct perftest_parameters;

/* What --use_vfio=<PCI address>[,bar=N][,offset=X] asked for. */
struct vfio_memory_spec {
	char bdf[16];		/* canonical DDDD:BB:DD.F */
	int bar;		/* 0-5, or -1: the largest memory BAR */
	uint64_t offset;	/* start of the buffers in the BAR, page aligned */
};

/*
 * Parse the argument of --use_vfio.  Prints what is wrong and returns
 * FAILURE on bad input; @spec may be NULL to check the syntax only.
 */
int vfio_memory_parse(const char *arg, struct vfio_memory_spec *spec);

struct memory_ctx *vfio_memory_create(struct perftest_parameters *params);

#endif /* VFIO_MEMORY_H */
