/* SPDX-License-Identifier: MIT */
/* A growable byte buffer for building output lines. */
#include <stdlib.h>

#include "buf.h"

bool lb_buf_reserve(struct lb_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->cap - b->len >= n)
		return true;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void lb_buf_free(struct lb_buf *b)
{
	free(b->data);
	*b = (struct lb_buf){ 0 };
}

void lb_buf_put_u64(struct lb_buf *b, unsigned long long v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	lb_buf_put(b, tmp + sizeof(tmp) - n, (size_t)n);
}
