// SPDX-License-Identifier: GPL-2.0
/* p2pmr: exit codes, failure reports and the JSON output layer. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* -errno after a failed call, -EIO if it left errno 0. */
int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

int exit_code(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case EOPNOTSUPP:
		return EXIT_NOTSUP;
	case EPERM:
	case EACCES:
		return EXIT_PERM;
	case ENODEV:
	case ENOENT:
		return EXIT_NODEV;
	}
	return EXIT_FAIL;
}

/*
 * JSON output (--json): one object per run, built with json-c while the
 * command runs and printed by run() at the end, so a run prints exactly one.
 * Every command has its own schema, versioned by "version" (p2pmr(1)):
 * {"command": NAME, "version": N, "ok": true, ...} or, on failure,
 * {"command": NAME, "version": N, "ok": false,
 *  "error": {"errno": E, "exit": X, "message": M}}.
 * The j*() helpers do nothing on a NULL object, i.e. in text mode.
 */
struct json_object *jroot;
const char *jcommand;

/* Length of the valid UTF-8 sequence at @p, 0 if it is not one. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 1;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 2;
		lo = p[0] == 0xe0 ? 0xa0 : lo;
		hi = p[0] == 0xed ? 0x9f : hi;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 3;
		lo = p[0] == 0xf0 ? 0x90 : lo;
		hi = p[0] == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i <= n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n + 1;
}

/*
 * A JSON string of @s.  json-c escapes control characters but passes other
 * bytes through, so a byte that is not valid UTF-8 (a driver or file name
 * from sysfs may hold any) becomes U+FFFD here.
 */
struct json_object *jstring(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct json_object *v;
	size_t len, n, k = 0;
	char *buf;

	len = strlen(s);
	buf = malloc(3 * len + 1);
	if (!buf)
		return NULL;
	while (*p) {
		n = utf8_seq(p);
		if (n) {
			memcpy(buf + k, p, n);
			k += n;
			p += n;
		} else {
			memcpy(buf + k, "\xef\xbf\xbd", 3);
			k += 3;
			p++;
		}
	}
	v = json_object_new_string_len(buf, k);
	free(buf);
	return v;
}

void jset(struct json_object *o, const char *key, struct json_object *v)
{
	if (o)
		json_object_object_add(o, key, v);
	else
		json_object_put(v);
}

void jset_str(struct json_object *o, const char *key, const char *v)
{
	if (o)
		jset(o, key, v ? jstring(v) : NULL);
}

void jset_u64(struct json_object *o, const char *key, uint64_t v)
{
	if (o)
		jset(o, key, json_object_new_uint64(v));
}

void jset_int(struct json_object *o, const char *key, int64_t v)
{
	if (o)
		jset(o, key, json_object_new_int64(v));
}

void jset_bool(struct json_object *o, const char *key, int v)
{
	if (o)
		jset(o, key, json_object_new_boolean(v));
}

void jset_double(struct json_object *o, const char *key, double v)
{
	if (o)
		jset(o, key, json_object_new_double(v));
}

/* A new object or array under @key of @o (NULL in text mode). */
struct json_object *jset_obj(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o)
		return NULL;
	v = json_object_new_object();
	jset(o, key, v);
	return v;
}

struct json_object *jset_arr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o)
		return NULL;
	v = json_object_new_array();
	jset(o, key, v);
	return v;
}

/* A new object appended to the array @a. */
struct json_object *jarr_obj(struct json_object *a)
{
	struct json_object *v;

	if (!a)
		return NULL;
	v = json_object_new_object();
	if (json_object_array_add(a, v)) {
		json_object_put(v);
		return NULL;
	}
	return v;
}

/* The head every object starts with. */
struct json_object *jhead(int ok)
{
	struct json_object *o = json_object_new_object();

	jset_str(o, "command", jcommand);
	jset_int(o, "version", JSON_VERSION);
	jset_bool(o, "ok", ok);
	return o;
}

/* Replace whatever was built by the failure object. */
void jfail(int err, int exit, const char *msg)
{
	struct json_object *e;

	if (!jroot)
		return;
	json_object_put(jroot);
	jroot = jhead(0);
	e = jset_obj(jroot, "error");
	jset_int(e, "errno", -err);
	jset_int(e, "exit", exit);
	jset_str(e, "message", msg);
}

void jprint(void)
{
	if (!jroot)
		return;
	puts(json_object_to_json_string_ext(jroot, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(jroot);
	jroot = NULL;
}

/* Report a library failure: stderr always, the JSON object too. */
int fail(const struct opts *o, int err)
{
	(void)o;
	fprintf(stderr, "p2pmr: %s\n", p2pmr_errmsg());
	jfail(err, exit_code(err), p2pmr_errmsg());
	return exit_code(err);
}

/* Same for the tool's own failures. */
int failf(const struct opts *o, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)o;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "p2pmr: %s\n", msg);
	jfail(err, exit_code(err), msg);
	return exit_code(err);
}

/* "64 MiB", "4 KiB", "100 bytes": sizes as people read them. */
const char *human(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB",
					    "TiB", "PiB", "EiB" };
	unsigned int i = 0;

	while (n >= 1024 && !(n % 1024) && i < 6) {
		n /= 1024;
		i++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", n, unit[i]);
	return buf;
}
