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
	static const char pairs[201] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char tmp[20];
	int n = 0;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;
		v /= 100;
		n += 2;
		memcpy(tmp + sizeof(tmp) - n, pairs + d, 2);
	}
	if (v >= 10) {
		n += 2;
		memcpy(tmp + sizeof(tmp) - n, pairs + v * 2, 2);
	} else {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v);
	}
	lb_buf_put(b, tmp + sizeof(tmp) - n, (size_t)n);
}
