/*
 * urlbase.c: the scheme://host[:port][/prefix] every URL we return starts
 * with.  The earlier service answered absolute URLs, and its front end on
 * another origin follows them as they are, so a root-relative path breaks
 * every download there.  PUBLIC_URL, when set, is the truth (a proxy in
 * front knows the name people use); else the request's own scheme and
 * Host.  A Host is used only when it is a plain host[:port] (letters,
 * digits, '.', '-', ':', '[', ']'), so no header can smuggle a quote, a
 * slash or a space into a URL; without a usable one the server's own
 * address stands in.
 */
#include <stdio.h>
#include <string.h>

#include "cgi.h"

static int
host_ok(const char *h)
{
	size_t n = h != NULL ? strlen(h) : 0;

	return n > 0 && n <= 255 &&
	    strspn(h,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	        "0123456789.-:[]") == n;
}

int
cgi_url_base(const char *public_url, int https, const char *host,
    const char *addr, const char *port, char *out, size_t len)
{
	const char *scheme = https ? "https" : "http";
	size_t n;
	int w;

	if (public_url != NULL && *public_url != '\0') {
		n = strlen(public_url);
		while (n > 0 && public_url[n - 1] == '/')
			n--; /* every path we append starts with '/' */
		w = snprintf(out, len, "%.*s", (int)n, public_url);
	} else if (host_ok(host))
		w = snprintf(out, len, "%s://%s", scheme, host);
	else if (host_ok(addr) && strchr(addr, ':') != NULL)
		w = snprintf(out, len, "%s://[%s]:%s", scheme, addr,
		    host_ok(port) ? port : "80");
	else
		w = snprintf(out, len, "%s://%s:%s", scheme,
		    host_ok(addr) ? addr : "127.0.0.1",
		    host_ok(port) ? port : "80");
	if (w < 0 || (size_t)w >= len) {
		if (len > 0)
			out[0] = '\0'; /* root-relative rather than cut */
		return -1;
	}
	return 0;
}

void
cgi_url_base_of(const char *(*param)(void *, const char *), void *ctx,
    char *out, size_t len)
{
	const char *https = param(ctx, "HTTPS");

	cgi_url_base(cgi.cfg.public_url,
	    https != NULL && strcmp(https, "on") == 0, param(ctx, "HTTP_HOST"),
	    param(ctx, "SERVER_ADDR"), param(ctx, "SERVER_PORT"), out, len);
}

static const char *
req_param(void *r, const char *name)
{
	return cgi_param(r, name);
}

void
cgi_req_base(struct req *r)
{
	cgi_url_base_of(req_param, r, r->base, sizeof(r->base));
}
