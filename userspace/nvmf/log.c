// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the target logs of a host's doing: host-supplied strings escaped
 * and bounded, and repeated refusals rate-limited, so that a host cannot
 * write terminal escapes or unbounded lines into the log, nor flood it.
 */
#include <stdio.h>
#include <string.h>

#include "p2pmr-nvmf.h"

/* The escaped form of @c in @e: the byte itself, or \xHH.  Its length. */
static int escape1(unsigned char c, char *e)
{
	if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
		e[0] = c;
		return 1;
	}
	return snprintf(e, 5, "\\x%02x", c);
}

const char *p2pmr_nvmf_escape(char *out, size_t size, const void *in,
			      size_t max)
{
	const unsigned char *s = in;
	size_t o = 0, need = 0, room, i;
	char e[5];
	int n;

	if (!size)
		return out;
	for (i = 0; i < max && s[i]; i++)
		need += escape1(s[i], e);
	/* All of it, or what fits before "..." (whole escapes only). */
	room = need < size ? need : size > 4 ? size - 4 : 0;
	for (i = 0; i < max && s[i]; i++) {
		n = escape1(s[i], e);
		if (o + n > room)
			break;
		memcpy(out + o, e, n);
		o += n;
	}
	if (need >= size && size > 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return out;
}

int p2pmr_nvmf_ratelimit(struct p2pmr_nvmf_ratelimit *rl, uint64_t now_ms,
			 uint32_t *missed)
{
	*missed = 0;
	/* A window opens with its first message. */
	if ((!rl->printed && !rl->missed) ||
	    now_ms - rl->begin_ms >= rl->interval_ms) {
		*missed = rl->missed;
		rl->begin_ms = now_ms;
		rl->printed = 0;
		rl->missed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return 1;
	}
	rl->missed++;
	return 0;
}
