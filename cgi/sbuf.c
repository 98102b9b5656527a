/*
 * sbuf.c: a growing byte buffer (cgi/sse.h) for the SSE loop's input,
 * output and rendered events.  It doubles as it grows, so appending n
 * bytes costs O(n) amortised; len never exceeds cap, and p is NULL
 * until the first byte.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

static int
sbuf_grow(struct sbuf *b, size_t need)
{
	size_t cap = b->cap != 0 ? b->cap : 256;
	char *p;

	if (b->len + need <= b->cap)
		return 0;
	while (cap < b->len + need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
sbuf_add(struct sbuf *b, const void *p, size_t len)
{
	if (len == 0)
		return 0;
	if (sbuf_grow(b, len) == -1)
		return -1;
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

int
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sbuf_grow(b, (size_t)n + 1) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
