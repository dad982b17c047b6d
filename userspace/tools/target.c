// SPDX-License-Identifier: GPL-2.0
/* p2pmr: what export and mr-check share, the device and the ranges. */
#include <string.h>

#include "cli.h"

void target_close(struct target *t)
{
	if (t->ranges != &t->whole)
		p2pmr_free_ranges(t->ranges);
	p2pmr_dev_close(t->dev);
}

/* Open @bdf, with the VF token of --vf-token if one was given. */
int dev_open(const struct opts *o, const char *bdf, struct p2pmr_dev **devp)
{
	struct p2pmr_dev_attr attr = {
		.comp_mask = P2PMR_DEV_ATTR_VF_TOKEN,
		.vf_token = o->vf_token,
	};

	return p2pmr_dev_open_ex(bdf, o->vf_token ? &attr : NULL, devp);
}

int target_open(const struct opts *o, struct target *t)
{
	size_t i;
	int ret;

	memset(t, 0, sizeof(*t));
	/* Syntax first: a typo should not need the device. */
	if (o->ranges) {
		ret = p2pmr_parse_ranges(o->ranges, &t->ranges, &t->n);
		if (ret)
			return ret;
	}
	ret = dev_open(o, o->bdf, &t->dev);
	if (ret)
		goto err_ranges;
	ret = p2pmr_query_region(t->dev, o->bar, &t->reg);
	if (ret)
		goto err_dev;
	if (!o->ranges) {
		/* An absent BAR stays empty: p2pmr_export() says so. */
		t->whole.length = t->reg.size;
		t->ranges = &t->whole;
		t->n = 1;
	}
	for (i = 0; i < t->n; i++)
		t->total += t->ranges[i].length;
	return 0;

err_dev:
	p2pmr_dev_close(t->dev);
err_ranges:
	p2pmr_free_ranges(t->ranges);
	return ret;
}

/* "bar" and "dmabuf" of export and mr-check: the BAR and the ranges. */
struct json_object *jtarget(struct json_object *root, const struct opts *o,
			    const struct target *t, int64_t size)
{
	struct json_object *b, *db, *a, *r;
	size_t i;

	if (!root)
		return NULL;
	jset_str(root, "device", p2pmr_dev_bdf(t->dev));
	b = jset_obj(root, "bar");
	jset_int(b, "index", o->bar);
	jset_u64(b, "size", t->reg.size);
	db = jset_obj(root, "dmabuf");
	jset_int(db, "size", size);
	a = jset_arr(db, "ranges");
	for (i = 0; i < t->n; i++) {
		r = jarr_obj(a);
		jset_u64(r, "offset", t->ranges[i].offset);
		jset_u64(r, "length", t->ranges[i].length);
	}
	return db;
}
