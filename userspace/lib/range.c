// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * BAR range lists: "OFF:LEN[,OFF:LEN...]" and the checks the exporter
 * would make, done first so that the user gets a message naming the range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int p2pmr_scan_size(const char *s, const char **end, uint64_t *v)
{
	unsigned int base = 10, shift = 0, digit;
	const char *start;
	uint64_t n = 0;

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
			return -EOVERFLOW;
		n = n * base + digit;
	}
	if (s == start) {
		*end = s;
		return -EINVAL;
	}
	switch (*s) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	}
	if (shift) {
		if (n > UINT64_MAX >> shift)
			return -EOVERFLOW;
		n <<= shift;
		s++;
	}
	*v = n;
	*end = s;
	return 0;
}

int p2pmr_parse_size(const char *s, uint64_t *v)
{
	const char *end;
	uint64_t n;
	int ret;

	p2pmr_clear_error();
	if (!s)
		return p2pmr_fail(-EINVAL, "no number given");
	ret = p2pmr_scan_size(s, &end, &n);
	if (ret == -EOVERFLOW)
		return p2pmr_fail(ret, "'%s' does not fit in 64 bits", s);
	if (ret || *end)
		return p2pmr_fail(-EINVAL,
				  "'%s' is not a number (decimal or 0x hexadecimal, optionally followed by K, M, G or T)",
				  s);
	*v = n;
	return 0;
}

size_t p2pmr_page_size(void)
{
	long n = sysconf(_SC_PAGESIZE);

	return n > 0 ? (size_t)n : 4096;
}

/* One number at *@sp of @spec, with messages naming its position. */
static int parse_num(const char **sp, const char *spec, uint64_t *v)
{
	const char *num = *sp, *start = *sp;
	int ret;

	if (start[0] == '0' && (start[1] == 'x' || start[1] == 'X'))
		start += 2;
	ret = p2pmr_scan_size(num, sp, v);
	if (ret == -EOVERFLOW)
		return p2pmr_fail(-EOVERFLOW,
				  "ranges: number at position %zu does not fit in 64 bits",
				  (size_t)(num - spec) + 1);
	if (ret)
		return p2pmr_fail(-EINVAL,
				  "ranges: expected a number at position %zu of '%s' (OFF:LEN[,OFF:LEN...], e.g. 0:64K,1M:0x1000)",
				  (size_t)(start - spec) + 1, spec);
	return 0;
}

int p2pmr_parse_ranges(const char *spec, struct p2pmr_range **rangesp,
		       size_t *np)
{
	struct p2pmr_range *r;
	const char *s;
	size_t n = 1, i;
	int ret;

	p2pmr_clear_error();
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
	return p2pmr_ret(ret);
}

void p2pmr_free_ranges(struct p2pmr_range *ranges)
{
	free(ranges);
}

static int cmp_offset(const void *a, const void *b)
{
	const struct p2pmr_range *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int p2pmr_check_ranges(const struct p2pmr_range *ranges, size_t n,
		       uint64_t bar_size)
{
	p2pmr_clear_error();
	return p2pmr_check_ranges_align(ranges, n, bar_size, p2pmr_page_size());
}

int p2pmr_check_ranges_align(const struct p2pmr_range *ranges, size_t n,
			     uint64_t bar_size, uint64_t align)
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
		if (r->offset % align || r->length % align)
			return p2pmr_fail(-EINVAL,
					  "range %zu (0x%llx:0x%llx) is not aligned to %llu bytes (the page size)",
					  i, (unsigned long long)r->offset,
					  (unsigned long long)r->length,
					  (unsigned long long)align);
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
