/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal TAP 13 producer for the C tests. */
#ifndef P2PMR_TEST_TAP_H
#define P2PMR_TEST_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static inline void tap_result(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void tap_result(int ok, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!ok)
		tap_failed++;
	printf("%sok %d ", ok ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static inline int tap_done(void)
{
	printf("1..%d\n# %d passed, %d failed\n", tap_count,
	       tap_count - tap_failed, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif
