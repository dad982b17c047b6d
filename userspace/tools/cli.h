/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The p2pmr command's shared declarations: the parsed command line, exit
 * codes, the output layer (output.c), the device-and-ranges helpers
 * (target.c) and one entry point per command (list.c, export.c,
 * mr_check.c, status.c, doctor.c), the layout of iproute2's rdma tool.
 */
#ifndef P2PMR_CLI_H
#define P2PMR_CLI_H

#include <stdint.h>
#include <json-c/json.h>

#include "p2pmr.h"

enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,
	EXIT_USAGE	= 2,
	EXIT_NOTSUP	= 3,
	EXIT_PERM	= 4,
	EXIT_NODEV	= 5,
};

/* Options that only some commands take, one bit each (p2pmr.c names them). */
enum {
	OPT_BAR		= 1 << 0,
	OPT_RANGES	= 1 << 1,
	OPT_IBDEV	= 1 << 2,
	OPT_IB_PORT	= 1 << 3,
	OPT_GID_INDEX	= 1 << 4,
	OPT_LENGTH	= 1 << 5,
	OPT_TIMEOUT	= 1 << 6,
	OPT_ALL		= 1 << 7,
	OPT_SEND	= 1 << 8,
	OPT_RUN		= 1 << 9,	/* "-- CMD ARGS" */
	OPT_IMPORTER	= 1 << 10,
	OPT_VF_TOKEN	= 1 << 11,
	OPT_NR		= 12,
};

struct opts;

/* A command: its word, the OPT_* it takes, its usage lines, its code. */
struct cmd {
	const char *name;
	unsigned int opts;
	int needs_bdf;
	int needs_bar;
	const char *usage;
	int (*run)(const struct opts *o);
};

extern const struct cmd cmd_list, cmd_export, cmd_mr_check, cmd_status,
	cmd_doctor;

struct opts {
	const struct cmd *cmd;	/* NULL with --help, --version */
	const char *bdf;
	const char *ranges;	/* NULL: the whole BAR */
	const char *ibdev;	/* NULL: the first RDMA device */
	const char *importer;	/* doctor --importer: a PCI address */
	const char *vf_token;	/* --vf-token: a UUID, or NULL */
	uint32_t bar;
	uint32_t ib_port;
	int gid_index;		/* -1: the port's first RoCE v2 GID */
	uint64_t length;	/* mr-check: bytes tested per range */
	unsigned int timeout;	/* mr-check: seconds per completion */
	const char *send;	/* export --send: the socket's path */
	char **run;		/* export -- CMD ARGS: argv of CMD */
	unsigned int given;	/* OPT_* given */
	int json;
	int all;
	int help;
	int version;
};

/* output.c: exit codes, failures, JSON (see the comment there). */
int neg_errno(void);
int exit_code(int err);
int fail(const struct opts *o, int err);
int failf(const struct opts *o, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *human(uint64_t n, char *buf, size_t len);

#define JSON_VERSION	1
extern struct json_object *jroot;	/* NULL: text output */
extern const char *jcommand;		/* the command word, NULL before it */
struct json_object *jstring(const char *s);
void jset(struct json_object *o, const char *key, struct json_object *v);
void jset_str(struct json_object *o, const char *key, const char *v);
void jset_u64(struct json_object *o, const char *key, uint64_t v);
void jset_int(struct json_object *o, const char *key, int64_t v);
void jset_bool(struct json_object *o, const char *key, int v);
void jset_double(struct json_object *o, const char *key, double v);
struct json_object *jset_obj(struct json_object *o, const char *key);
struct json_object *jset_arr(struct json_object *o, const char *key);
struct json_object *jarr_obj(struct json_object *a);
struct json_object *jhead(int ok);
void jfail(int err, int exit, const char *msg);
void jprint(void);

/* target.c: the device, the BAR's size and the ranges of export, mr-check. */
struct target {
	struct p2pmr_dev *dev;
	struct p2pmr_region reg;
	struct p2pmr_range *ranges;
	size_t n;
	uint64_t total;
	struct p2pmr_range whole;	/* @ranges without --ranges */
};

int dev_open(const struct opts *o, const char *bdf, struct p2pmr_dev **devp);
int target_open(const struct opts *o, struct target *t);
void target_close(struct target *t);
struct json_object *jtarget(struct json_object *root, const struct opts *o,
			    const struct target *t, int64_t size);

#endif
