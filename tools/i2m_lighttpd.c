/*
 * i2m_lighttpd.c: "i2m lighttpd-auth", the part of lighttpd's config that
 * depends on API_KEYS (lighttpd.conf includes it with include_shell).
 * lighttpd buffers a request body in its upload directory before the
 * handler runs (fast, bench/api.sh), so a client without a key could fill
 * that disk before its 401.  An upload whose Authorization is not one of
 * the keys is therefore denied by lighttpd itself (mod_access) before it
 * reads the body, and that 403 reaches the handler through
 * server.error-handler, which answers the contract's 401 (cgi/fcgi.c).
 * (Streaming the body to the handler instead, stream-request-body 2,
 * still spills it into upload-dirs.)  A key's characters are written as
 * one-character classes, so no key is a regular expression; a key with a
 * character outside token68 (A-Z a-z 0-9 - . _ ~ + / =) is left out of
 * the pattern, so it cannot upload (the handler says so).  No keys, no
 * block.
 */
#include <stdio.h>
#include <string.h>

#include "i2m.h"

static int
token68(const char *k, size_t l)
{
	size_t i;

	for (i = 0; i < l; i++)
		if (strchr(
		        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		        "0123456789-._~+/=",
		        k[i]) == NULL)
			return 0;
	return l > 0;
}

int
i2m_lighttpd_auth(const struct config *cfg)
{
	const char *p = cfg->api_keys;
	int n = 0;

	if (*p == '\0')
		return 0;
	printf(
	    "# API_KEYS are set: uploads without one are refused unread\n"
	    "# (POST only: a CORS preflight carries no key).\n"
	    "$HTTP[\"url\"] =~ \"^/api/v1/upload/?$\" {\n"
	    "$HTTP[\"request-method\"] == \"POST\" {\n"
	    "\t$REQUEST_HEADER[\"Authorization\"] !~ \"^[Bb][Ee][Aa][Rr][Ee][Rr] +(");
	while (*p != '\0') {
		size_t l, i;

		while (*p == ' ' || *p == ',')
			p++;
		l = strcspn(p, " ,");
		if (l == 0)
			break;
		if (token68(p, l)) {
			printf("%s", n++ > 0 ? "|" : "");
			for (i = 0; i < l; i++)
				printf("[%c]", p[i]);
		}
		p += l;
	}
	/* No usable key: a pattern nothing matches. */
	printf("%s)$\" {\n"
	       "\t\turl.access-deny = ( \"\" )\n"
	       "\t}\n"
	       "}\n"
	       "}\n",
	    n == 0 ? "(?!)" : "");
	return 0;
}
