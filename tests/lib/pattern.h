/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deterministic test patterns: the byte at offset @off of pattern @seed, so a
 * writer in the guest and a checker on the host agree without sharing data.
 */
#ifndef P2PMR_TEST_PATTERN_H
#define P2PMR_TEST_PATTERN_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

static inline uint64_t pattern_word(uint64_t seed, uint64_t idx)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ULL + idx + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint8_t pattern_byte(uint64_t seed, uint64_t off)
{
	return pattern_word(seed, off / 8) >> (8 * (off % 8));
}

static inline void pattern_fill(uint8_t *buf, size_t len, uint64_t seed,
				uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(seed, off + i);
}

/* Offset of the first byte of @buf that differs from the pattern, or -1. */
static inline long pattern_check(const uint8_t *buf, size_t len,
				 uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern_byte(seed, off + i))
			return (long)i;
	return -1;
}

#endif
