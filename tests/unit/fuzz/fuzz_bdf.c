// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: p2pmr_parse_bdf().  An accepted address must come out
 * canonical ("dddd:bb:dd.f", lower-case hex, 12 characters) and parse to
 * itself again.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2pmr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), out[16], again[16];
	size_t i;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = 0;
	if (!p2pmr_parse_bdf(in, out, sizeof(out))) {
		if (strlen(out) != 12 || out[4] != ':' || out[7] != ':' ||
		    out[10] != '.')
			abort();
		for (i = 0; i < 12; i++)
			if (i != 4 && i != 7 && i != 10 &&
			    (!isxdigit((unsigned char)out[i]) ||
			     isupper((unsigned char)out[i])))
				abort();
		if (p2pmr_parse_bdf(out, again, sizeof(again)) ||
		    strcmp(out, again))
			abort();
		/* Too short a buffer is refused, never overrun. */
		if (p2pmr_parse_bdf(in, again, 12) != -28 /* ENOSPC */)
			abort();
	}
	free(in);
	return 0;
}
