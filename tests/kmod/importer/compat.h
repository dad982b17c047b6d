/* SPDX-License-Identifier: GPL-2.0 */
/* p2pmr_importer: the dma-buf importer API across 6.12 and 7.3. */
#ifndef P2PMR_IMPORTER_COMPAT_H
#define P2PMR_IMPORTER_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define IMP_IMPORT_NS_DMA_BUF	MODULE_IMPORT_NS(DMA_BUF)
#else
#define IMP_IMPORT_NS_DMA_BUF	MODULE_IMPORT_NS("DMA_BUF")
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 1, 0)
#define IMP_INVALIDATE_OP	move_notify
#else
#define IMP_INVALIDATE_OP	invalidate_mappings
#endif

/* The typed allocator of newer kernels, for one object, where it is missing. */
#ifndef kzalloc_obj
#define kzalloc_obj(P, GFP)	kzalloc(sizeof(P), GFP)
#endif

#endif
