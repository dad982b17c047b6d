// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static __thread char errmsg[512];

const char *p2pmr_errmsg(void)
{
	return errmsg;
}

void p2pmr_clear_error(void)
{
	errmsg[0] = 0;
}

int p2pmr_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	if (err < 0)
		errno = -err;
	return err;
}
