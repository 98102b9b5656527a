/*
 * apikey.c: is a client's key one of API_KEYS?  The comparison takes the
 * same time whatever the key holds: every listed key is compared, each
 * over the whole of the client's key (never stopping at the first
 * difference nor at a length mismatch), so timing tells a client neither
 * a prefix nor a length of any key.
 */
#include <string.h>

#include "spool.h"

/* 0 when a[0..al) equals b[0..bl), in time that depends on bl only. */
static unsigned
ct_diff(const char *a, size_t al, const char *b, size_t bl)
{
	volatile unsigned d = (unsigned)((al ^ bl) != 0);
	size_t i;

	for (i = 0; i < bl; i++)
		d |= (unsigned char)b[i] ^ (unsigned char)a[i % al];
	return d;
}

int
config_key_listed(const char *list, const char *key)
{
	const char *p = list, *w;
	size_t kl = strlen(key), l;
	int found = 0;

	if (kl == 0)
		return 0;
	while ((w = config_list_next(&p, &l)) != NULL)
		found |= ct_diff(w, l, key, kl) == 0;
	return found;
}
