// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: p2pmr_parse_ranges() and p2pmr_check_ranges().  The
 * first 8 bytes are the BAR size, the rest the range list.  Checks: a
 * parsed list prints and parses back to the same ranges; a list that
 * passes the check is aligned, in bounds and free of overlaps (verified
 * pairwise for short lists).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pmr.h"

static void check_accepted(const struct p2pmr_range *r, size_t n,
			   uint64_t bar)
{
	uint64_t page = p2pmr_page_size();
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!r[i].length || r[i].offset % page || r[i].length % page ||
		    r[i].offset > bar || r[i].length > bar - r[i].offset)
			abort();
		for (j = 0; n <= 256 && j < i; j++)
			if (r[i].offset < r[j].offset + r[j].length &&
			    r[j].offset < r[i].offset + r[i].length)
				abort();
	}
}

static void round_trip(const struct p2pmr_range *r, size_t n)
{
	char *s = malloc(n * 40 + 1), *p = s;
	struct p2pmr_range *r2;
	size_t i, n2;

	if (!s)
		return;
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s0x%" PRIx64 ":%" PRIu64, i ? "," : "",
			     r[i].offset, r[i].length);
	if (p2pmr_parse_ranges(s, &r2, &n2))
		abort();
	if (n2 != n || memcmp(r, r2, n * sizeof(*r)))
		abort();
	p2pmr_free_ranges(r2);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pmr_range *r;
	uint64_t bar = 64 << 20;
	char *spec;
	size_t n;
	int ret;

	if (size >= 8) {
		memcpy(&bar, data, 8);
		data += 8;
		size -= 8;
	}
	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = 0;
	ret = p2pmr_parse_ranges(spec, &r, &n);
	if (ret) {
		if (ret != -EINVAL && ret != -EOVERFLOW && ret != -E2BIG)
			abort();
		free(spec);
		return 0;
	}
	if (!n || n > P2PMR_MAX_RANGES)
		abort();
	round_trip(r, n);
	ret = p2pmr_check_ranges(r, n, bar);
	if (!ret)
		check_accepted(r, n, bar);
	else if (ret != -EINVAL && ret != -EOVERFLOW)
		abort();
	p2pmr_free_ranges(r);
	free(spec);
	return 0;
}
