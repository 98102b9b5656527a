/*
 * cgi.h: the HTTP API's FastCGI programs (i2m-api, i2m-sse, i2m-upload),
 * spawned by lighttpd (lighttpd.conf).  Each program runs N threads, each
 * blocking in FCGX_Accept_r on the socket lighttpd hands it as fd 0, so a
 * slow request (an SSE stream, a zip) only ever holds its own thread.
 *
 * The contract is shared/docs/api.md; every spool access goes through
 * spool/spool.h.  Prototypes are grouped by the file that defines them.
 */
#ifndef CGI_H
#define CGI_H

#include <stddef.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "spool.h"

#define CGI_VERSION "1.0.0"
#define CGI_PATH_MAX 1024
#define CGI_SEGS 8
#define CGI_BASE_MAX 600 /* PUBLIC_URL (511) or scheme://Host (<= 255) */

/* fcgi.c --------------------------------------------------------------- */

/* Process-wide state, set up once by cgi_main before any thread starts. */
struct cgi_global {
	struct config cfg;
	struct spool sp;
};
extern struct cgi_global cgi;

/* One request, owned by the thread that accepted it. */
struct req {
	FCGX_Request *fr;
	const char *method;
	const char *query; /* after '?', "" when none */
	char path[CGI_PATH_MAX]; /* raw path of REQUEST_URI */
	char seg[CGI_SEGS][256]; /* percent-decoded path segments */
	int nseg;
	const char *origin; /* Origin when it is an allowed one */
	int html; /* the client prefers text/html (a form post) */
	int head_sent;
	char base[CGI_BASE_MAX]; /* of returned URLs (cgi_url_base) */
};

typedef void (*cgi_handler)(struct req *r);

/*
 * Load the config, open the spool, run nthreads accept loops calling h
 * for every request.  Returns only on a setup error (exit status).
 */
int cgi_main(const char *prog, int nthreads, cgi_handler h);
/*
 * What cgi_main does before its threads: log, SIGPIPE ignored, config
 * into cgi.cfg, spool into cgi.sp.  0, or the exit status to return.
 * For a program with its own loop (i2m-sse).
 */
int cgi_setup(const char *prog);
/* 1 when origin is one of the space-separated CORS_ORIGINS (or "*"). */
int cgi_origin_allowed(const char *origin);
const char *cgi_param(struct req *r, const char *name);
/* Status line, Content-Type, CORS; the caller may add headers, then end. */
void cgi_begin(struct req *r, int status, const char *ctype);
void cgi_header(struct req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cgi_end_headers(struct req *r);
/* A whole JSON answer; j is stolen. */
void cgi_json(struct req *r, int status, json_t *j);
/* The contract's error object; details is stolen and may be NULL. */
void cgi_error(struct req *r, int status, const char *code, json_t *details,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* cgi_error with one more header line (or NULL) and a ready message. */
void cgi_error_with(struct req *r, int status, const char *code,
    json_t *details, const char *header, const char *text);
/* OPTIONS preflight: 204 with CORS headers. */
void cgi_preflight(struct req *r);
/* 405 with Allow. */
void cgi_method_not_allowed(struct req *r, const char *allow);
/* 1 when API_KEYS is empty or a valid Bearer key came with r. */
int cgi_authorized(struct req *r);
/* cgi_authorized, else a 401 is sent (the body dropped) and 0 returned. */
int cgi_require_key(struct req *r);
/* Read and drop whatever is left of the request body. */
void cgi_drain(struct req *r);
/* Percent-decode src into dst (at most len-1 bytes); -1 on bad input. */
int cgi_unescape(char *dst, size_t len, const char *src, size_t srclen);
/* Value of an integer header-like param, or dflt. */
long long cgi_param_ll(struct req *r, const char *name, long long dflt);

/* keyid.c -------------------------------------------------------------- */

#define CGI_KEY_ID_LEN 16
/* The id of r's Bearer key (CGI_KEY_ID_LEN hex digits of its SHA-256)
 * into out; -1 with EINVAL when r has none. */
int cgi_key_id(struct req *r, char *out, size_t len);

/* query.c -------------------------------------------------------------- */

/* The value of key in query string q (up to '&' or the end, not decoded),
 * NULL when absent. */
const char *cgi_query_value(const char *q, const char *key);
/* A whole number in [lo, hi] at v up to '&' or the end; -1 when not
 * (also for v NULL). */
long long cgi_query_number(const char *v, long long lo, long long hi);

/* ratelimit.c ---------------------------------------------------------- */

/*
 * Per client address (REMOTE_ADDR): 1 when r is within
 * RATE_LIMIT_PER_MIN, else 429 with Retry-After has been sent and 0.
 */
int cgi_rate_check(struct req *r);
/*
 * UPLOADS_PER_IP: a held slot (>= 0; give it to cgi_hold_release when the
 * upload is answered) when r's address may start one more upload, else
 * 429 with Retry-After has been sent and -1.
 */
int cgi_upload_enter(struct req *r);
/* The counting under it: the slot ip now holds one more of, when under
 * limit (limit 0: no limit, a slot release ignores), else -1. */
int cgi_hold_acquire(const char *ip, int limit);
void cgi_hold_release(int slot);

/* batch.c -------------------------------------------------------------- */

/*
 * The batch summary (spool_batch_summary) through a small per-process
 * cache keyed by (id, state/seq, base), so many readers of one batch do
 * the file reads, and the reshaping into the contract's objects below,
 * once per change.  base (cgi_url_base) starts every URL in those
 * objects.  New reference, or NULL with errno.
 */
json_t *batch_summary(const char *id, const char *base);
/*
 * state/seq of a batch, read at most every 20 ms per process: the SSE
 * threads of one batch poll it together.  -1 with errno (ENOENT).
 */
long long batch_seq(const char *id);
/*
 * Download names of every file, in upload order: "<stem>.glb" after the
 * uploaded name, made unique within the batch ("chair.glb",
 * "chair-2.glb").  New reference: array of strings.
 */
json_t *batch_names(json_t *summary);

/* names.c -------------------------------------------------------------- */

/* Room for any download name with its extension. */
#define BATCH_NAME_MAX 140
/* The download names of summary's files, built (batch_names caches). */
json_t *batch_names_build(json_t *summary);
/* "<stem of glbname>.<ext of f's preview image>" into out; 0 when none. */
int batch_preview_name(json_t *f, const char *glbname, char *out, size_t len);
/* Find a download name of the batch: 0 and *file / *preview, or -1. */
int batch_lookup_name(json_t *summary, json_t *names, const char *name,
    size_t *file, int *preview);
/*
 * Any download name of the batch (model, provider preview image, another
 * format "<stem>.<ext>", the light preview "<stem>.web.glb"): 0 with the
 * file's index, its name under out/ and content type (borrowed from
 * summary and the formats table), or -1.
 */
int batch_lookup_download(json_t *summary, json_t *names, const char *name,
    size_t *file, const char **spool_file, const char **ctype);
/*
 * The objects below are prepared once per cached summary and handed back
 * as shallow copies (new at the top level; what they hold is shared and
 * read only); for a summary that is not cached they are built.
 */
/* The contract's file object (file_update) for file i; new reference. */
json_t *batch_file_json(
    const char *id, const char *base, json_t *summary, json_t *names, size_t i);
/* The polling object (status endpoint, cancel, retry); new reference. */
json_t *batch_status_json(const char *id, const char *base, json_t *summary);
/*
 * The polling object of a cached summary as the status endpoint sends
 * it (compact JSON, serialized once per change): a malloc'd copy and its
 * length, or NULL when summary is not cached (then serialize
 * batch_status_json yourself).
 */
char *batch_status_text(const json_t *summary, const char *base, size_t *len);
/* task_completed's "result" object; new reference. */
json_t *batch_result_json(
    const char *id, const char *base, json_t *summary, json_t *names);

/* urlbase.c ------------------------------------------------------------ */

/*
 * The start of every URL we return, into out: public_url (PUBLIC_URL,
 * trailing '/' dropped) when set, else scheme://host, else the server's
 * address and port (a Host that is not a plain host[:port] is ignored).
 * -1 (out "") when it does not fit.
 */
int cgi_url_base(const char *public_url, int https, const char *host,
    const char *addr, const char *port, char *out, size_t len);
/* cgi_url_base of a request's FastCGI params (HTTPS, HTTP_HOST,
 * SERVER_ADDR, SERVER_PORT) under cgi.cfg. */
void cgi_url_base_of(const char *(*param)(void *, const char *), void *ctx,
    char *out, size_t len);
/* r->base from r's params (every request, in its setup). */
void cgi_req_base(struct req *r);
/* multipart.c ---------------------------------------------------------- */

/*
 * Streaming multipart/form-data parser: bytes in, callbacks out, memory
 * bounded by its own buffer whatever the body size.
 */
struct mp_callbacks {
	/* A part starts; filename is NULL for a plain field. */
	int (*part_begin)(void *ctx, const char *name, const char *filename);
	int (*part_data)(void *ctx, const char *buf, size_t len);
	int (*part_end)(void *ctx);
};

enum mp_result { MP_OK, MP_MALFORMED, MP_STOPPED, MP_IO };

/*
 * Parse the body read from in; boundary from the Content-Type header.
 * A callback returning -1 stops the parse (MP_STOPPED).
 */
enum mp_result mp_parse(FCGX_Stream *in, const char *boundary,
    const struct mp_callbacks *cb, void *ctx);
/* The boundary parameter of a multipart Content-Type into out; -1 if none. */
int mp_boundary(const char *ctype, char *out, size_t len);

#endif
