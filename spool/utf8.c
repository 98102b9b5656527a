/*
 * utf8.c: client text made safe to echo in JSON.  Anything a client sent
 * (file names, field names, model names, values) may be invalid UTF-8, or
 * become so when cut; jansson refuses such strings, which used to turn a
 * 400 into a 500.  The rule (RFC 3629, Unicode ch. 3 "maximal subpart"):
 * a well-formed sequence is copied, no overlong forms, no surrogates,
 * nothing above U+10FFFF; each maximal ill-formed subpart becomes one
 * U+FFFD; the output is cut on a character boundary to fit.
 */
#include <string.h>

#include "spool.h"

int
spool_utf8_seq(const char *s, size_t *sub)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	int n, k;

	*sub = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return 0;
	for (k = 1; k < n; k++) {
		unsigned b = p[k];

		if (b < lo || b > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
		*sub = (size_t)k + 1;
	}
	return n;
}

size_t
spool_utf8_clean(char *dst, size_t len, const char *src)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t o = 0, sub;

	if (len == 0)
		return 0;
	while (*src != '\0') {
		int n = spool_utf8_seq(src, &sub);
		const char *from = n > 0 ? src : repl;
		size_t w = n > 0 ? (size_t)n : sizeof(repl) - 1;

		if (o + w >= len)
			break; /* never half a character */
		memmove(dst + o, from, w);
		o += w;
		src += n > 0 ? (size_t)n : sub;
	}
	dst[o] = '\0';
	return o;
}
