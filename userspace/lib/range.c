// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * BAR range lists: "OFF:LEN[,OFF:LEN...]" and the checks the exporter
 * would make, done first so that the user gets a message naming the range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * One number at *@sp: decimal, or hexadecimal after "0x"; an optional K, M,
 * G or T multiplies by 2^10, 2^20, 2^30, 2^40.  Advances *@sp past it.
 */
static int parse_num(const char **sp, const char *spec, uint64_t *v)
{
	const char *s = *sp;
	unsigned int base = 10, shift = 0, digit;
	uint64_t n = 0;
	const char *start;
	size_t pos = (size_t)(s - spec) + 1;	/* for messages, 1-based */

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	start = s;
	for (;; s++) {
		if (*s >= '0' && *s <= '9')
			digit = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			digit = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			digit = *s - 'A' + 10;
		else
			break;
		if (n > (UINT64_MAX - digit) / base)
			return p2pmr_fail(-EOVERFLOW,
					  "ranges: number at position %zu does not fit in 64 bits",
					  pos);
		n = n * base + digit;
	}
	if (s == start)
		return p2pmr_fail(-EINVAL,
				  "ranges: expected a number at position %zu of '%s' (OFF:LEN[,OFF:LEN...], e.g. 0:64K,1M:0x1000)",
				  (size_t)(start - spec) + 1, spec);
	switch (*s) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift) {
		if (n > UINT64_MAX >> shift)
			return p2pmr_fail(-EOVERFLOW,
					  "ranges: number at position %zu does not fit in 64 bits",
					  pos);
		n <<= shift;
		s++;
	}
	*v = n;
	*sp = s;
	return 0;
}

int p2pmr_parse_ranges(const char *spec, struct p2pmr_range **rangesp,
		       size_t *np)
{
	struct p2pmr_range *r;
	const char *s;
	size_t n = 1, i;
	int ret;

	if (!spec || !*spec)
		return p2pmr_fail(-EINVAL, "ranges: empty list (expected OFF:LEN[,OFF:LEN...])");
	for (s = spec; *s; s++)
		if (*s == ',')
			n++;
	if (n > P2PMR_MAX_RANGES)
		return p2pmr_fail(-E2BIG, "ranges: %zu ranges, at most %d allowed",
				  n, P2PMR_MAX_RANGES);
	r = calloc(n, sizeof(*r));
	if (!r)
		return p2pmr_fail(-ENOMEM, "out of memory");
	s = spec;
	for (i = 0; i < n; i++) {
		ret = parse_num(&s, spec, &r[i].offset);
		if (ret)
			goto err_free;
		if (*s != ':') {
			ret = p2pmr_fail(-EINVAL,
					 "ranges: expected ':' at position %zu of '%s' (OFF:LEN[,OFF:LEN...])",
					 (size_t)(s - spec) + 1, spec);
			goto err_free;
		}
		s++;
		ret = parse_num(&s, spec, &r[i].length);
		if (ret)
			goto err_free;
		if (*s != (i + 1 < n ? ',' : '\0')) {
			ret = p2pmr_fail(-EINVAL,
					 "ranges: unexpected '%c' at position %zu of '%s' (OFF:LEN[,OFF:LEN...])",
					 *s, (size_t)(s - spec) + 1, spec);
			goto err_free;
		}
		s++;
	}
	*rangesp = r;
	*np = n;
	return 0;

err_free:
	free(r);
	return ret;
}

static int cmp_offset(const void *a, const void *b)
{
	const struct p2pmr_range *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int p2pmr_check_ranges(const struct p2pmr_range *ranges, size_t n,
		       uint64_t bar_size)
{
	struct p2pmr_range *sorted;
	uint64_t end;
	size_t i;

	if (!n)
		return p2pmr_fail(-EINVAL, "no ranges given");
	if (n > P2PMR_MAX_RANGES)
		return p2pmr_fail(-E2BIG, "%zu ranges, at most %d allowed", n,
				  P2PMR_MAX_RANGES);
	for (i = 0; i < n; i++) {
		const struct p2pmr_range *r = &ranges[i];

		if (!r->length)
			return p2pmr_fail(-EINVAL, "range %zu (offset 0x%llx) is empty",
					  i, (unsigned long long)r->offset);
		if (r->offset % P2PMR_RANGE_ALIGN || r->length % P2PMR_RANGE_ALIGN)
			return p2pmr_fail(-EINVAL,
					  "range %zu (0x%llx:0x%llx) is not aligned to %d bytes",
					  i, (unsigned long long)r->offset,
					  (unsigned long long)r->length,
					  P2PMR_RANGE_ALIGN);
		if (__builtin_add_overflow(r->offset, r->length, &end))
			return p2pmr_fail(-EOVERFLOW,
					  "range %zu (0x%llx:0x%llx) wraps around the 64-bit address space",
					  i, (unsigned long long)r->offset,
					  (unsigned long long)r->length);
		if (end > bar_size)
			return p2pmr_fail(-EINVAL,
					  "range %zu (0x%llx:0x%llx) ends at 0x%llx, past the end of the BAR (size 0x%llx)",
					  i, (unsigned long long)r->offset,
					  (unsigned long long)r->length,
					  (unsigned long long)end,
					  (unsigned long long)bar_size);
	}
	/* Every range is valid on its own; now look for overlaps. */
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return p2pmr_fail(-ENOMEM, "out of memory");
	memcpy(sorted, ranges, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_offset);
	for (i = 1; i < n; i++) {
		/* No overflow: checked above. */
		if (sorted[i - 1].offset + sorted[i - 1].length >
		    sorted[i].offset) {
			uint64_t a = sorted[i - 1].offset, b = sorted[i].offset;

			free(sorted);
			return p2pmr_fail(-EINVAL,
					  "ranges at offsets 0x%llx and 0x%llx overlap",
					  (unsigned long long)a,
					  (unsigned long long)b);
		}
	}
	free(sorted);
	return 0;
}
