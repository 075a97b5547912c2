/* SPDX-License-Identifier: MIT */
/* A growable byte buffer for building output lines. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct lb_buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;   /* an allocation failed; the content is incomplete */
};

/* lb_buf_reserve - make room for n more bytes; false (and failed set) when
 * memory ran out. */
bool lb_buf_reserve(struct lb_buf *b, size_t n);

/* lb_buf_free - release the memory; the buffer is empty and usable again. */
void lb_buf_free(struct lb_buf *b);

/* lb_buf_put - append n bytes of p (p may be NULL when n is 0). */
static inline void lb_buf_put(struct lb_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;   /* memcpy's arguments must not be NULL, even for 0 bytes */
	if (b->cap - b->len < n && !lb_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void lb_buf_putc(struct lb_buf *b, char c)
{
	if (b->cap == b->len && !lb_buf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
}

#define lb_buf_puts(b, s) lb_buf_put((b), (s), sizeof(s) - 1)

/* lb_buf_put_u64 - the decimal digits of v. */
void lb_buf_put_u64(struct lb_buf *b, unsigned long long v);
