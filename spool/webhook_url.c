/*
 * webhook_url.c: the one rule for a webhook URL, applied by every
 * submitter to the upload field webhook_url (submit.c), by config_load
 * to WEBHOOK_URL and by the daemon again before each delivery: http:// or
 * https://, a host, an optional port 1-65535, printable ASCII only (no
 * space: a URL is percent-encoded), at most SPOOL_WEBHOOK_URL_MAX bytes.
 * Only the form is judged here; the address a host resolves to is
 * judged at delivery (daemon/webhook_sign.c), because DNS can change.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spool.h"

/* Printable ASCII, no space: what a URL may hold unencoded. */
static int
url_chars_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* The authority [user@]host[:port] of len bytes: 0 when it names a host. */
static int
authority_ok(const char *a, size_t len, char *err, size_t errlen)
{
	const char *at = memchr(a, '@', len), *host = a, *port = NULL, *p;
	size_t hlen;

	if (at != NULL) {
		len -= (size_t)(at + 1 - a);
		host = at + 1;
	}
	if (len > 0 && host[0] == '[') {
		p = memchr(host, ']', len);
		if (p == NULL)
			goto nohost;
		hlen = (size_t)(p + 1 - host);
		if (hlen < len && host[hlen] != ':')
			goto nohost;
	} else {
		p = memchr(host, ':', len);
		hlen = p != NULL ? (size_t)(p - host) : len;
	}
	if (hlen < len)
		port = host + hlen + 1;
	if (hlen == 0 || (hlen == 2 && host[0] == '['))
		goto nohost;
	if (port != NULL) {
		size_t plen = len - hlen - 1, i;
		long v = 0;

		for (i = 0; i < plen && i < 6; i++) {
			if (port[i] < '0' || port[i] > '9')
				break;
			v = v * 10 + (port[i] - '0');
		}
		if (plen == 0 || i != plen || v < 1 || v > 65535) {
			snprintf(err, errlen,
			    "webhook_url has a bad port; use a number from 1 to 65535.");
			return -1;
		}
	}
	return 0;
nohost:
	snprintf(err, errlen,
	    "webhook_url must name a host after http:// or https://, e.g. https://example.com/hook.");
	return -1;
}

int
spool_webhook_url_check(const char *url, char *err, size_t errlen)
{
	const char *rest;
	size_t alen;

	if (strlen(url) > SPOOL_WEBHOOK_URL_MAX) {
		snprintf(err, errlen,
		    "webhook_url may be at most %d bytes long.",
		    SPOOL_WEBHOOK_URL_MAX);
		return -1;
	}
	if (!url_chars_ok(url)) {
		snprintf(err, errlen,
		    "webhook_url must not contain spaces, control or non-ASCII characters; percent-encode them.");
		return -1;
	}
	if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else {
		snprintf(err, errlen,
		    "webhook_url must start with http:// or https://, not \"%.32s\".",
		    url);
		return -1;
	}
	alen = strcspn(rest, "/?#");
	return authority_ok(rest, alen, err, errlen);
}
