/* SPDX-License-Identifier: (GPL-2.0 OR BSD-3-Clause) */
/*
 * Out-of-tree build only: the name of the dma-buf invalidate callback before
 * and after 7.1.  Not part of the upstream patches (make patches drops it).
 */
#ifndef P2PMR_IB_COMPAT_H
#define P2PMR_IB_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 1, 0)
#define IB_UMEM_INVALIDATE_OP	move_notify
#else
#define IB_UMEM_INVALIDATE_OP	invalidate_mappings
#endif

#endif
