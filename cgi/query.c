/*
 * query.c: the query string's values, read in place (no copy, no
 * decoding: every value we read is a number).  A key is matched whole at
 * the start of a "key=value" pair, so "xlimit=" is never "limit=".
 */
#include <string.h>

#include "cgi.h"

const char *
cgi_query_value(const char *q, const char *key)
{
	size_t kl = strlen(key);

	while (q != NULL && *q != '\0') {
		if (strncmp(q, key, kl) == 0 && q[kl] == '=')
			return q + kl + 1;
		q = strchr(q, '&');
		if (q != NULL)
			q++;
	}
	return NULL;
}

long long
cgi_query_number(const char *v, long long lo, long long hi)
{
	long long k = 0;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	/* Checked before each step, so no digit string can overflow. */
	for (; *v >= '0' && *v <= '9'; v++) {
		k = k * 10 + (*v - '0');
		if (k > hi)
			return -1;
	}
	if ((*v != '\0' && *v != '&') || k < lo)
		return -1;
	return k;
}
