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

/* Little-endian fields of capsules, logs and Identify data. */
static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static inline uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static inline uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

#endif
