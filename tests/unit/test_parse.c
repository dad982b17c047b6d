// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: p2pmr_parse_bdf(), p2pmr_parse_size(), p2pmr_parse_ranges(),
 * p2pmr_check_ranges() and its alignment, p2pmr_page_size(), and the
 * errno and message conventions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <unistd.h>

#include "unit.h"
#include "../../userspace/lib/internal.h"

static void bdf_ok(const char *in, const char *want)
{
	char out[16];

	if (p2pmr_parse_bdf(in, out, sizeof(out)))
		fail_msg("'%s' rejected: %s", in, p2pmr_errmsg());
	assert_string_equal(out, want);
}

static void test_bdf_valid(void **state)
{
	(void)state;
	bdf_ok("0000:00:10.0", "0000:00:10.0");
	bdf_ok("00:10.0", "0000:00:10.0");
	bdf_ok("ABCD:EF:1f.7", "abcd:ef:1f.7");
	bdf_ok("1:2:3.4", "0001:02:03.4");
	bdf_ok("ffff:ff:1f.7", "ffff:ff:1f.7");
}

static void test_bdf_invalid(void **state)
{
	static const char *const bad[] = {
		"", "00:20.0", "00:10.8", "-1:00:00.0", " 00:10.0",
		"00:10.0 ", "0x0:00:10.0", "00:10", "0000:000:10.0",
		"00000:00:10.0", "0000:00:10.0.0", ":00:10.0", "00:10.",
		"00::10.0", "0000:00:10:0", "+0:00:10.0", "g0:00.0",
		"0000:00:10.0\n",
	};
	char out[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (p2pmr_parse_bdf(bad[i], out, sizeof(out)) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	assert_fails_with(p2pmr_parse_bdf(NULL, out, sizeof(out)), -EINVAL,
			  "no PCI address");
	assert_fails_with(p2pmr_parse_bdf("zz", out, sizeof(out)), -EINVAL,
			  "'zz' is not a PCI address");
}

static void test_bdf_short_buffer(void **state)
{
	char out[13];

	(void)state;
	assert_fails_with(p2pmr_parse_bdf("00:10.0", out, 12), -ENOSPC,
			  "too small");
	assert_int_equal(p2pmr_parse_bdf("00:10.0", out, 13), 0);
	assert_string_equal(out, "0000:00:10.0");
}

static struct p2pmr_range *ranges_ok(const char *spec, size_t want_n)
{
	struct p2pmr_range *r = NULL;
	size_t n = 0;

	if (p2pmr_parse_ranges(spec, &r, &n))
		fail_msg("'%s' rejected: %s", spec, p2pmr_errmsg());
	assert_int_equal(n, want_n);
	return r;
}

static void test_ranges_valid(void **state)
{
	struct p2pmr_range *r;

	(void)state;
	r = ranges_ok("0:4096", 1);
	assert_int_equal(r[0].offset, 0);
	assert_int_equal(r[0].length, 4096);
	p2pmr_free_ranges(r);

	r = ranges_ok("0x1000:4K,1M:0x2000,2g:1t,3G:16k", 4);
	assert_int_equal(r[0].offset, 0x1000);
	assert_int_equal(r[0].length, 4096);
	assert_int_equal(r[1].offset, 1 << 20);
	assert_int_equal(r[1].length, 0x2000);
	assert_int_equal(r[2].offset, 2ULL << 30);
	assert_int_equal(r[2].length, 1ULL << 40);
	assert_int_equal(r[3].offset, 3ULL << 30);
	assert_int_equal(r[3].length, 16 << 10);
	p2pmr_free_ranges(r);

	/* Leading zeroes are decimal, not octal. */
	r = ranges_ok("010:0X10", 1);
	assert_int_equal(r[0].offset, 10);
	assert_int_equal(r[0].length, 16);
	p2pmr_free_ranges(r);

	/* The largest numbers that fit. */
	r = ranges_ok("18446744073709551615:0xffffffffffffffff,16777215T:0", 2);
	assert_int_equal(r[0].offset, UINT64_MAX);
	assert_int_equal(r[0].length, UINT64_MAX);
	assert_int_equal(r[1].offset, 16777215ULL << 40);
	p2pmr_free_ranges(r);
}

static void test_ranges_syntax(void **state)
{
	static const char *const bad[] = {
		"", "0", "0:", ":1", "0:1,", ",0:1", "0:1,,2:3", "0:1x",
		" 0:1", "0 :1", "-1:1", "+1:1", "0x:1", "0:1KK", "0:1k2",
		"0:1;2:3", "0:1:2", "4K", "0:1\n", "0:0x", "K:1",
	};
	struct p2pmr_range *r;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (p2pmr_parse_ranges(bad[i], &r, &n) != -EINVAL)
			fail_msg("'%s' was not rejected with EINVAL", bad[i]);
	assert_fails_with(p2pmr_parse_ranges(NULL, &r, &n), -EINVAL, "empty");
	assert_fails_with(p2pmr_parse_ranges("0:4K,8K", &r, &n), -EINVAL,
			  "expected ':' at position 8");
	assert_fails_with(p2pmr_parse_ranges("0:4Q", &r, &n), -EINVAL,
			  "unexpected 'Q' at position 4");
	assert_fails_with(p2pmr_parse_ranges("0:,", &r, &n), -EINVAL,
			  "expected a number at position 3");
}

static void test_ranges_overflow(void **state)
{
	struct p2pmr_range *r;
	size_t n;

	(void)state;
	assert_fails_with(p2pmr_parse_ranges("18446744073709551616:1", &r, &n),
			  -EOVERFLOW, "does not fit in 64 bits");
	assert_fails_with(p2pmr_parse_ranges("0:0x10000000000000000", &r, &n),
			  -EOVERFLOW, "position 3");
	assert_fails_with(p2pmr_parse_ranges("16777216T:1", &r, &n),
			  -EOVERFLOW, "does not fit");
	assert_fails_with(p2pmr_parse_ranges("0:17179869184G", &r, &n),
			  -EOVERFLOW, "does not fit");
	assert_fails_with(p2pmr_parse_ranges("0:99999999999999999999999999", &r, &n),
			  -EOVERFLOW, "does not fit");
}

/* "0:4K,4K:4K,..." with @n ranges, each page after the last. */
static char *many(size_t n)
{
	char *s = malloc(n * 32 + 1), *p = s;
	size_t i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s0x%zx:4K", i ? "," : "", i * 4096);
	return s;
}

static void test_ranges_count(void **state)
{
	struct p2pmr_range *r;
	char *s;
	size_t n;

	(void)state;
	s = many(P2PMR_MAX_RANGES);
	assert_int_equal(p2pmr_parse_ranges(s, &r, &n), 0);
	assert_int_equal(n, P2PMR_MAX_RANGES);
	assert_int_equal(r[n - 1].offset, (uint64_t)(n - 1) * 4096);
	assert_int_equal(p2pmr_check_ranges(r, n, (uint64_t)n * 4096), 0);
	p2pmr_free_ranges(r);
	free(s);

	s = many(P2PMR_MAX_RANGES + 1);
	assert_fails_with(p2pmr_parse_ranges(s, &r, &n), -E2BIG,
			  "65537 ranges, at most 65536");
	free(s);
	/* The count is checked before anything else, even commas only. */
	s = malloc(200001);
	memset(s, ',', 200000);
	s[200000] = 0;
	assert_fails_with(p2pmr_parse_ranges(s, &r, &n), -E2BIG, "at most");
	free(s);
}

#define BAR (64ULL << 20)

static void test_check_single(void **state)
{
	struct p2pmr_range r;

	(void)state;
	assert_fails_with(p2pmr_check_ranges(&r, 0, BAR), -EINVAL,
			  "no ranges");
	r = (struct p2pmr_range){ 0, 0 };
	assert_fails_with(p2pmr_check_ranges(&r, 1, BAR), -EINVAL,
			  "range 0 (offset 0x0) is empty");
	r = (struct p2pmr_range){ 100, 4096 };
	assert_fails_with(p2pmr_check_ranges(&r, 1, BAR), -EINVAL,
			  "not aligned to 4096");
	r = (struct p2pmr_range){ 4096, 100 };
	assert_fails_with(p2pmr_check_ranges(&r, 1, BAR), -EINVAL,
			  "not aligned");
	r = (struct p2pmr_range){ 0xfffffffffffff000ULL, 0x2000 };
	assert_fails_with(p2pmr_check_ranges(&r, 1, BAR), -EOVERFLOW,
			  "wraps around");
	r = (struct p2pmr_range){ BAR - 4096, 8192 };
	assert_fails_with(p2pmr_check_ranges(&r, 1, BAR), -EINVAL,
			  "past the end of the BAR");
	r = (struct p2pmr_range){ BAR, 4096 };
	assert_fails_with(p2pmr_check_ranges(&r, 1, BAR), -EINVAL, "past");
	r = (struct p2pmr_range){ 0, 4096 };
	assert_fails_with(p2pmr_check_ranges(&r, 1, 0), -EINVAL, "past");
	/* Exactly the whole BAR, and its last page. */
	r = (struct p2pmr_range){ 0, BAR };
	assert_int_equal(p2pmr_check_ranges(&r, 1, BAR), 0);
	r = (struct p2pmr_range){ BAR - 4096, 4096 };
	assert_int_equal(p2pmr_check_ranges(&r, 1, BAR), 0);
	assert_fails_with(p2pmr_check_ranges(&r, P2PMR_MAX_RANGES + 1, BAR),
			  -E2BIG, "at most 65536");
}

static void test_check_overlap(void **state)
{
	struct p2pmr_range adj[] = { { 8192, 4096 }, { 0, 8192 },
				     { 12288, 4096 } };
	struct p2pmr_range ovl[] = { { 0, 8192 }, { 4096, 4096 } };
	struct p2pmr_range inside[] = { { 8192, 4096 }, { 0, 65536 } };
	struct p2pmr_range dup[] = { { 4096, 4096 }, { 16384, 4096 },
				     { 4096, 4096 } };

	(void)state;
	/* Adjacent and out of order is fine: the dma-buf follows the list. */
	assert_int_equal(p2pmr_check_ranges(adj, 3, BAR), 0);
	assert_fails_with(p2pmr_check_ranges(ovl, 2, BAR), -EINVAL,
			  "ranges at offsets 0x0 and 0x1000 overlap");
	assert_fails_with(p2pmr_check_ranges(inside, 2, BAR), -EINVAL,
			  "overlap");
	assert_fails_with(p2pmr_check_ranges(dup, 3, BAR), -EINVAL,
			  "0x1000 and 0x1000 overlap");
}

static void test_check_many_reversed(void **state)
{
	size_t i, n = P2PMR_MAX_RANGES;
	struct p2pmr_range *r = calloc(n, sizeof(*r));

	(void)state;
	assert_non_null(r);
	for (i = 0; i < n; i++)
		r[i] = (struct p2pmr_range){ (n - 1 - i) * 8192, 4096 };
	assert_int_equal(p2pmr_check_ranges(r, n, n * 8192), 0);
	/* One range grown into its neighbour. */
	r[n / 2].length = 12288;
	assert_fails_with(p2pmr_check_ranges(r, n, n * 8192), -EINVAL,
			  "overlap");
	free(r);
}

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;

	if (p2pmr_parse_size(s, &v))
		fail_msg("'%s' rejected: %s", s, p2pmr_errmsg());
	assert_int_equal(v, want);
	assert_string_equal(p2pmr_errmsg(), "");
}

static void test_size_valid(void **state)
{
	(void)state;
	size_ok("0", 0);
	size_ok("4096", 4096);
	size_ok("010", 10);		/* decimal, not octal */
	size_ok("0x1000", 4096);
	size_ok("0XfF", 255);
	size_ok("4k", 4096);
	size_ok("64K", 65536);
	size_ok("2m", 2 << 20);
	size_ok("0x2M", 2 << 20);
	size_ok("3G", 3ULL << 30);
	size_ok("1t", 1ULL << 40);
	size_ok("18446744073709551615", UINT64_MAX);
	size_ok("16777215T", 16777215ULL << 40);
}

static void test_size_invalid(void **state)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "-1", "+1", "0x", "x1", "1KK", "1k2", "1P",
		"K", "1.5", "1\n", "0x1g0", "1,2",
	};
	uint64_t v = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (p2pmr_parse_size(bad[i], &v) != -EINVAL || errno != EINVAL)
			fail_msg("'%s' was not rejected with EINVAL", bad[i]);
	assert_int_equal(v, 7);		/* untouched on failure */
	assert_fails_with(p2pmr_parse_size("12Q", &v), -EINVAL,
			  "'12Q' is not a number (decimal or 0x hexadecimal, optionally followed by K, M, G or T)");
	assert_fails_with(p2pmr_parse_size(NULL, &v), -EINVAL,
			  "no number");
	assert_fails_with(p2pmr_parse_size("18446744073709551616", &v),
			  -EOVERFLOW, "does not fit in 64 bits");
	assert_int_equal(errno, EOVERFLOW);
	assert_fails_with(p2pmr_parse_size("16777216T", &v), -EOVERFLOW,
			  "'16777216T' does not fit");
	assert_fails_with(p2pmr_parse_size("0x10000000000000000", &v),
			  -EOVERFLOW, "does not fit");
}

/* The scanner p2pmr_parse_ranges() and p2pmr_parse_size() share. */
static void test_scan_size(void **state)
{
	const char *end;
	uint64_t v;

	(void)state;
	assert_int_equal(p2pmr_scan_size("4K:8", &end, &v), 0);
	assert_int_equal(v, 4096);
	assert_string_equal(end, ":8");
	assert_int_equal(p2pmr_scan_size("0x10,", &end, &v), 0);
	assert_int_equal(v, 16);
	assert_string_equal(end, ",");
	assert_int_equal(p2pmr_scan_size(":", &end, &v), -EINVAL);
	assert_int_equal(p2pmr_scan_size("99999999999999999999", &end, &v),
			 -EOVERFLOW);
}

static void test_page_size(void **state)
{
	(void)state;
	assert_int_equal(p2pmr_page_size(), sysconf(_SC_PAGESIZE));
}

/* A 64 KiB-page kernel: 4 KiB-aligned ranges get the library's message. */
static void test_check_align_64k(void **state)
{
	struct p2pmr_range r = { 4096, 65536 };

	(void)state;
	assert_fails_with(p2pmr_check_ranges_align(&r, 1, BAR, 65536),
			  -EINVAL,
			  "range 0 (0x1000:0x10000) is not aligned to 65536 bytes (the page size)");
	r = (struct p2pmr_range){ 65536, 4096 };
	assert_fails_with(p2pmr_check_ranges_align(&r, 1, BAR, 65536),
			  -EINVAL, "not aligned to 65536");
	r = (struct p2pmr_range){ 65536, 131072 };
	assert_int_equal(p2pmr_check_ranges_align(&r, 1, BAR, 65536), 0);
}

/* A call that succeeds leaves no message of an earlier failure. */
static void test_message_cleared(void **state)
{
	struct p2pmr_range *r;
	char out[16];
	size_t n;

	(void)state;
	assert_int_equal(p2pmr_parse_bdf("zz", out, sizeof(out)), -EINVAL);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(p2pmr_parse_bdf("00:10.0", out, sizeof(out)), 0);
	assert_string_equal(p2pmr_errmsg(), "");
	assert_int_equal(p2pmr_parse_ranges("0:", &r, &n), -EINVAL);
	assert_int_equal(p2pmr_parse_ranges("0:4K", &r, &n), 0);
	assert_string_equal(p2pmr_errmsg(), "");
	assert_int_equal(p2pmr_check_ranges(r, n, 0), -EINVAL);
	assert_int_equal(p2pmr_check_ranges(r, n, 8192), 0);
	assert_string_equal(p2pmr_errmsg(), "");
	p2pmr_free_ranges(r);
	p2pmr_free_ranges(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdf_valid),
		cmocka_unit_test(test_bdf_invalid),
		cmocka_unit_test(test_bdf_short_buffer),
		cmocka_unit_test(test_ranges_valid),
		cmocka_unit_test(test_ranges_syntax),
		cmocka_unit_test(test_ranges_overflow),
		cmocka_unit_test(test_ranges_count),
		cmocka_unit_test(test_check_single),
		cmocka_unit_test(test_check_overlap),
		cmocka_unit_test(test_check_many_reversed),
		cmocka_unit_test(test_size_valid),
		cmocka_unit_test(test_size_invalid),
		cmocka_unit_test(test_scan_size),
		cmocka_unit_test(test_page_size),
		cmocka_unit_test(test_check_align_64k),
		cmocka_unit_test(test_message_cleared),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
