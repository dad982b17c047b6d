/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef P2PMR_INTERNAL_H
#define P2PMR_INTERNAL_H

#include "p2pmr.h"

struct p2pmr_dev {
	char bdf[16];
	int container;		/* -1 when adopted */
	int group;		/* -1 when adopted */
	int fd;
};

/* Record a message for p2pmr_errmsg() and return @err (a negative errno). */
int p2pmr_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
