/*
 * fcgi.c: the accept loop and the reply helpers every handler uses.
 *
 * lighttpd spawns each program with its listening socket as fd 0; we run
 * N threads, each with its own FCGX_Request, taking turns in
 * FCGX_Accept_r under one mutex (libfcgi's threaded example), so a
 * request that lasts (SSE, zip) holds one thread and nothing else.
 * Handlers never exit and never print with stdio: every byte goes through
 * the request's FCGX streams.  Every answer carries the CORS headers for
 * an allowed Origin, and every error is the contract's JSON object.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cgi.h"

struct cgi_global cgi;

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static cgi_handler handler;

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 507:
		return "Insufficient Storage";
	default:
		return status >= 500 ? "Internal Server Error" : "Unknown";
	}
}

const char *
cgi_param(struct req *r, const char *name)
{
	return FCGX_GetParam(name, r->fr->envp);
}

long long
cgi_param_ll(struct req *r, const char *name, long long dflt)
{
	const char *v = cgi_param(r, name);
	char *end;
	long long n;

	if (v == NULL || *v == '\0')
		return dflt;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return dflt;
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
cgi_unescape(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t i, o = 0;

	for (i = 0; i < srclen; i++) {
		char c = src[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= srclen)
				return -1;
			h = hexval(src[i + 1]);
			l = hexval(src[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (c == '\0' || o + 1 >= len)
			return -1;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

/*
 * 1 when s is one of the words of a space- or comma-separated config list
 * (CORS_ORIGINS, API_KEYS); a word "*" matches anything when star is set.
 */
static int
list_has(const char *p, const char *s, int star)
{
	size_t sl = strlen(s), l;
	const char *w;

	while ((w = config_list_next(&p, &l)) != NULL)
		if ((star && l == 1 && *w == '*') ||
		    (l == sl && strncmp(w, s, l) == 0))
			return 1;
	return 0;
}

int
cgi_origin_allowed(const char *origin)
{
	return list_has(cgi.cfg.cors_origins, origin, 1);
}

/* Fill the parsed parts of r from the FastCGI params. */
static int
req_setup(struct req *r, FCGX_Request *fr)
{
	const char *uri, *q, *accept, *origin, *p;
	size_t plen;

	memset(r, 0, sizeof(*r));
	r->fr = fr;
	r->method = cgi_param(r, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	uri = cgi_param(r, "REQUEST_URI");
	if (uri == NULL)
		uri = "/";
	q = strchr(uri, '?');
	plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
	r->query = q != NULL ? q + 1 : "";
	if (plen >= sizeof(r->path))
		return -1;
	memcpy(r->path, uri, plen);
	r->path[plen] = '\0';
	/* Split first, decode each segment: "%2F" can never add a level. */
	for (p = r->path; *p != '\0';) {
		size_t l;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		l = strcspn(p, "/");
		if (r->nseg == CGI_SEGS ||
		    cgi_unescape(r->seg[r->nseg], sizeof(r->seg[0]), p, l) ==
		        -1)
			return -1;
		r->nseg++;
		p += l;
	}
	accept = cgi_param(r, "HTTP_ACCEPT");
	r->html = accept != NULL && strstr(accept, "text/html") != NULL &&
	    strstr(accept, "application/json") == NULL;
	origin = cgi_param(r, "HTTP_ORIGIN");
	if (origin != NULL && cgi_origin_allowed(origin))
		r->origin = origin;
	cgi_req_base(r);
	return 0;
}

void
cgi_begin(struct req *r, int status, const char *ctype)
{
	FCGX_Stream *o = r->fr->out;

	r->head_sent = 1;
	FCGX_FPrintF(o, "Status: %d %s\r\n", status, reason(status));
	if (ctype != NULL)
		FCGX_FPrintF(o, "Content-Type: %s\r\n", ctype);
	if (r->origin != NULL)
		FCGX_FPrintF(o,
		    "Access-Control-Allow-Origin: %s\r\n"
		    "Vary: Origin\r\n",
		    r->origin);
}

void
cgi_header(struct req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	FCGX_VFPrintF(r->fr->out, fmt, ap);
	va_end(ap);
	FCGX_PutS("\r\n", r->fr->out);
}

void
cgi_end_headers(struct req *r)
{
	FCGX_PutS("\r\n", r->fr->out);
}

void
cgi_json(struct req *r, int status, json_t *j)
{
	char *s = j != NULL
	    ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15))
	    : NULL;

	json_decref(j);
	if (s == NULL) {
		cgi_begin(r, 500, "application/json");
		cgi_header(r, "Cache-Control: no-store");
		cgi_end_headers(r);
		FCGX_PutS("{\"error\":true,\"error_code\":\"OUT_OF_MEMORY\","
		          "\"message\":\"The server ran out of memory.\","
		          "\"status_code\":500,\"details\":{}}",
		    r->fr->out);
		return;
	}
	cgi_begin(r, status, "application/json");
	cgi_header(r, "Cache-Control: no-store");
	cgi_header(r, "Content-Length: %zu", strlen(s) + 1);
	cgi_end_headers(r);
	FCGX_PutStr(s, (int)strlen(s), r->fr->out);
	FCGX_PutChar('\n', r->fr->out);
	free(s);
}

void
cgi_error_with(struct req *r, int status, const char *code, json_t *details,
    const char *header, const char *text)
{
	char msg[1024];
	json_t *j;
	char *body;

	/* Whatever it echoes, the message is valid UTF-8: a 4xx stays one. */
	spool_utf8_clean(msg, sizeof(msg), text);
	/* clang-format off */
	j = json_pack("{s:b, s:s, s:s, s:i, s:o}",
	    "error", 1,
	    "error_code", code,
	    "message", msg,
	    "status_code", status,
	    "details", details != NULL ? details : json_object());
	/* clang-format on */
	if (header == NULL) {
		cgi_json(r, status, j);
		return;
	}
	body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	cgi_begin(r, status, "application/json");
	cgi_header(r, "%s", header);
	cgi_header(r, "Cache-Control: no-store");
	if (body != NULL)
		cgi_header(r, "Content-Length: %zu", strlen(body) + 1);
	cgi_end_headers(r);
	if (body != NULL) {
		FCGX_PutS(body, r->fr->out);
		FCGX_PutChar('\n', r->fr->out);
	}
	free(body);
}

void
cgi_error(struct req *r, int status, const char *code, json_t *details,
    const char *fmt, ...)
{
	char raw[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* The challenge belongs on the 401 itself. */
	cgi_error_with(r, status, code, details,
	    status == 401 ? "WWW-Authenticate: Bearer realm=\"image2model\""
	                  : NULL,
	    raw);
}

void
cgi_preflight(struct req *r)
{
	cgi_begin(r, 204, NULL);
	if (r->origin != NULL) {
		cgi_header(
		    r, "Access-Control-Allow-Methods: GET, POST, OPTIONS");
		cgi_header(r,
		    "Access-Control-Allow-Headers: Authorization, X-API-Key, Content-Type, Last-Event-ID, Cache-Control");
		cgi_header(r, "Access-Control-Max-Age: 600");
	}
	cgi_end_headers(r);
}

void
cgi_method_not_allowed(struct req *r, const char *allow)
{
	char msg[128], hdr[128];

	snprintf(msg, sizeof(msg), "Use %s for this address.", allow);
	snprintf(hdr, sizeof(hdr), "Allow: %s, OPTIONS", allow);
	cgi_error_with(r, 405, "METHOD_NOT_ALLOWED",
	    json_pack("{s:s}", "allow", allow), hdr, msg);
}

int
cgi_authorized(struct req *r)
{
	const char *h = cgi_param(r, "HTTP_AUTHORIZATION");

	if (cgi.cfg.api_keys[0] == '\0')
		return 1;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	return config_key_listed(cgi.cfg.api_keys, h);
}

int
cgi_require_key(struct req *r)
{
	if (cgi_authorized(r))
		return 1;
	cgi_drain(r);
	cgi_error(r, 401, "UNAUTHORIZED", NULL,
	    "Send a valid API key as \"Authorization: Bearer <key>\".");
	return 0;
}

void
cgi_drain(struct req *r)
{
	char buf[65536];

	while (FCGX_GetStr(buf, sizeof(buf), r->fr->in) > 0)
		;
}

/*
 * lighttpd's own errors (server.error-handler in lighttpd.conf): the
 * request comes back with REDIRECT_STATUS set, REQUEST_URI the original
 * and the method GET.  Each becomes the contract's JSON error (with CORS
 * when the headers were parsed); a 411, a POST that came without a
 * Content-Length, goes on as the bodiless POST it was.  0 when r was
 * answered here, 1 when the handler is to take it.
 */
/* 1 when r's path is the upload's. */
static int
is_upload(const struct req *r)
{
	return r->nseg == 3 && strcmp(r->seg[0], "api") == 0 &&
	    strcmp(r->seg[1], "v1") == 0 && strcmp(r->seg[2], "upload") == 0;
}

static int
lighttpd_error(struct req *r, int status)
{
	const char *code = "BAD_REQUEST", *msg;
	char big[160];

	switch (status) {
	case 411:
		/* The upload has its own program: its bodiless answer here. */
		if (is_upload(r)) {
			if (cgi_require_key(r))
				cgi_error(r, 400, "NO_FILES", NULL,
				    "The upload has no files; send images in \"files\" as multipart/form-data.");
			return 0;
		}
		r->method = "POST";
		return 1;
	case 413:
		snprintf(big, sizeof(big),
		    "The request is larger than the limit of %.0f MB; send fewer or smaller files.",
		    (double)config_request_bytes(&cgi.cfg) / (1024.0 * 1024.0));
		code = "REQUEST_TOO_LARGE";
		msg = big;
		break;
	case 414:
		code = "URI_TOO_LONG";
		msg = "The address is too long.";
		break;
	case 431:
		code = "HEADERS_TOO_LARGE";
		msg =
		    "The request's headers are too large; send fewer or shorter ones.";
		break;
	case 501:
		code = "NOT_IMPLEMENTED";
		msg =
		    "This method is not supported; use GET, HEAD, POST or OPTIONS.";
		break;
	case 403:
	case 404:
		/* An upload without a key, denied unread (i2m lighttpd-auth). */
		if (status == 403 && is_upload(r) &&
		    cgi.cfg.api_keys[0] != '\0') {
			if (cgi_require_key(r))
				cgi_error(r, 403, "FORBIDDEN", NULL,
				    "This key cannot be used for uploads; give it only letters, digits and - . _ ~ + / =.");
			return 0;
		}
		status = 404;
		code = "NOT_FOUND";
		msg = "There is nothing at this address.";
		break;
	case 408:
		code = "REQUEST_TIMEOUT";
		msg = "The request took too long to arrive; send it again.";
		break;
	default:
		if (status >= 500) {
			code = "INTERNAL_ERROR";
			msg =
			    "The server could not answer this request; try again.";
		} else
			msg =
			    "The request could not be understood; check its form and headers.";
		break;
	}
	cgi_error(r, status, code, NULL, "%s", msg);
	return 0;
}

static void *
worker(void *arg)
{
	FCGX_Request fr;
	struct req *r = malloc(sizeof(*r));

	(void)arg;
	if (r == NULL || FCGX_InitRequest(&fr, 0, 0) != 0) {
		free(r);
		return NULL;
	}
	for (;;) {
		int rc;

		pthread_mutex_lock(&accept_lock);
		rc = FCGX_Accept_r(&fr);
		pthread_mutex_unlock(&accept_lock);
		if (rc < 0)
			break;
		if (req_setup(r, &fr) == -1)
			cgi_error(r, 404, "NOT_FOUND", NULL,
			    "There is nothing at this address.");
		else if (cgi_param_ll(r, "REDIRECT_STATUS", 0) >= 400 &&
		    !lighttpd_error(
		        r, (int)cgi_param_ll(r, "REDIRECT_STATUS", 0)))
			;
		else if (strcmp(r->method, "OPTIONS") == 0)
			cgi_preflight(r);
		else if (!cgi_rate_check(r))
			; /* 429 sent */
		else
			handler(r);
		FCGX_Finish_r(&fr);
	}
	free(r);
	return NULL;
}

int
cgi_setup(const char *prog)
{
	char err[512];

	log_init(prog, 0);
	/*
	 * Die with lighttpd however it ends (kill -9 included): an orphan
	 * would hold its socket and threads for ever.  If it is already
	 * gone (we were reparented before the call), leave now.
	 */
	{
		pid_t parent = getppid();

		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent || parent == 1) {
			log_warnx("lighttpd is gone; exiting");
			return 111;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (config_load(&cgi.cfg, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	/* The keys live in cgi.cfg only, never in our environment. */
	config_scrub_env();
	if (spool_open(&cgi.sp, cgi.cfg.spool_dir, 1) == -1) {
		log_warn("cannot open the spool %s", cgi.cfg.spool_dir);
		return 111;
	}
	cgi.sp.floor_mb = cgi.cfg.disk_floor_mb;
	return 0;
}

int
cgi_main(const char *prog, int nthreads, cgi_handler h)
{
	pthread_attr_t attr;
	pthread_t *tids;
	int i, started = 0;

	i = cgi_setup(prog);
	if (i != 0)
		return i;
	if (FCGX_Init() != 0) {
		log_warnx("FCGX_Init failed");
		return 111;
	}
	/*
	 * libfcgi catches SIGTERM to finish the current request, but our
	 * threads sit in accept(2) and would never see it: lighttpd stops
	 * its backends with SIGTERM, so let it end the process.  A submission
	 * cut short leaves only tmp/<id>, invisible and swept by the daemon.
	 */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	handler = h;
	if (nthreads < 1)
		nthreads = 1;
	tids = calloc((size_t)nthreads, sizeof(*tids));
	if (tids == NULL)
		return 111;
	/* Small stacks: 500 idle SSE threads must stay cheap. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tids[started], &attr, worker, NULL) == 0)
			started++;
	pthread_attr_destroy(&attr);
	if (started == 0) {
		free(tids);
		log_warnx("no thread could be started");
		return 111;
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	spool_close(&cgi.sp);
	return 0;
}
