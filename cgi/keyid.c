/*
 * keyid.c: the id of the API key a request came with, so a batch can name
 * its owner without holding a secret.  The id is the first 16 hex digits
 * of the key's SHA-256: stable across restarts and key-list reorders,
 * the same in every process, and a key cannot be recovered from it (the
 * keys are long random strings).  batch.json's "key_id" is this.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "cgi.h"

int
cgi_key_id(struct req *r, char *out, size_t len)
{
	const char *h = cgi_param(r, "HTTP_AUTHORIZATION");
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	if (len < CGI_KEY_ID_LEN + 1 || h == NULL ||
	    strncasecmp(h, "Bearer ", 7) != 0) {
		errno = EINVAL;
		return -1;
	}
	h += 7;
	while (*h == ' ')
		h++;
	SHA256((const unsigned char *)h, strlen(h), md);
	for (i = 0; i < CGI_KEY_ID_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}
