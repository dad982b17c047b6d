/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the cmocka unit tests of libp2pmr. */
#ifndef P2PMR_UNIT_H
#define P2PMR_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "p2pmr.h"

/* The call failed with @err and the message holds @needle. */
#define assert_fails_with(call, err, needle) do {			\
	int __ret = (call);						\
	if (__ret != (err) || !strstr(p2pmr_errmsg(), (needle)))	\
		fail_msg("%s: got %d '%s', want %d and '%s'", #call,	\
			 __ret, p2pmr_errmsg(), (err), (needle));	\
} while (0)

#endif
