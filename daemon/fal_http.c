/*
 * fal_http.c: libcurl calls to FAL with one retry policy (see fal_http.h).
 *
 * Invariants:
 *  - a worker's CURL handle is used by that thread only; CURLOPT_NOSIGNAL
 *    is set on every call (threads), and curl_easy_reset() between calls
 *    keeps the connection cache, so connections are reused;
 *  - answers are read into a buffer capped at rq->cap (or streamed to a
 *    file, same cap): a bigger answer fails the call instead of eating
 *    memory;
 *  - no call blocks past daemon_stopping for long: the transfer callback
 *    aborts it and the retry sleep wakes every 100 ms;
 *  - nothing here logs a header, and the key is only ever in w->auth.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fal_http.h"

struct fal_worker *
fal_worker_new(const struct config *cfg)
{
	struct fal_worker *w;
	long b;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->curl = curl_easy_init();
	if (w->curl == NULL) {
		free(w);
		return NULL;
	}
	w->cfg = cfg;
	snprintf(
	    w->auth, sizeof(w->auth), "Authorization: Key %s", cfg->fal_key);
	w->seed = (unsigned int)spool_now_ms() ^ (unsigned int)(size_t)w;
	/* FAL_TIMEOUT_MS bounds one API call (tests make it short). */
	w->timeout_ms = cfg->fal_timeout_ms;
	w->connect_ms = w->timeout_ms < 10000 ? w->timeout_ms : 10000;
	/*
	 * Backoff follows the poll interval: 1 s → 30 s in production (the
	 * official clients' figures), tens of ms in tests.
	 */
	b = cfg->fal_poll_ms;
	if (b > 1000)
		b = 1000;
	if (b < 10)
		b = 10;
	w->backoff_ms = b;
	w->backoff_cap_ms = b * 32 < 30000 ? b * 32 : 30000;
	return w;
}

void *
fal_worker_init(const struct config *cfg)
{
	return fal_worker_new(cfg);
}

void
fal_worker_done(void *w)
{
	fal_worker_free(w);
}

void
fal_worker_free(struct fal_worker *w)
{
	if (w == NULL)
		return;
	curl_easy_cleanup(w->curl);
	explicit_bzero(w->auth, sizeof(w->auth));
	free(w);
}

void
fal_resp_free(struct fal_resp *rs)
{
	free(rs->body);
	rs->body = NULL;
	rs->len = 0;
}

enum fal_class
fal_classify(long code, int transport_error, int user_timeout, int idem)
{
	if (transport_error)
		return FC_RETRY;
	if (code >= 200 && code < 300)
		return FC_OK;
	switch (code) {
	case 401:
	case 403:
		return FC_AUTH;
	case 408:
	case 429:
	case 502:
	case 503:
		return FC_RETRY;
	case 504:
		/* The start timeout the caller set has passed: final. */
		return user_timeout ? FC_FAIL : FC_RETRY;
	case 500:
		/* Asking again costs nothing when nothing is created. */
		return idem ? FC_RETRY : FC_FAIL;
	default:
		return FC_FAIL;
	}
}

long
fal_backoff_ms(int attempt, long base_ms, long cap_ms, long retry_after_ms,
    unsigned int *seed)
{
	long d;
	double j;

	if (retry_after_ms >= 0) {
		/* The server said when; still never longer than 2 minutes. */
		return retry_after_ms < 120000 ? retry_after_ms : 120000;
	}
	d = base_ms;
	while (attempt-- > 0 && d < cap_ms)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	/* ±25 % so that many workers do not retry in step. */
	j = 0.75 + 0.5 * ((double)rand_r(seed) / (double)RAND_MAX);
	return (long)((double)d * j);
}

long
fal_parse_retry_after(const char *v, long long now_ms)
{
	char *end;
	long s;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		s = strtol(v, &end, 10);
		if (errno != 0 || s < 0 || s > 86400)
			return -1;
		return s * 1000;
	}
	t = curl_getdate(v, NULL);
	if (t == -1)
		return -1;
	if ((long long)t * 1000 <= now_ms)
		return 0;
	return (long)((long long)t * 1000 - now_ms);
}

void
fal_redact(char *s, const char *key)
{
	size_t kl = strlen(key);
	char *p;

	if (kl == 0)
		return;
	while ((p = strstr(s, key)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + kl, strlen(p + kl) + 1);
	}
}

/* curl callbacks ------------------------------------------------------ */

static size_t
on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct fal_resp *rs = ud;
	size_t len = sz * n, want;
	char *nb;

	if (rs->got + (long long)len > rs->cap) {
		rs->over = 1;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	if (rs->fd >= 0) {
		if (spool_write_all(rs->fd, p, len) == -1)
			return 0;
		rs->got += (long long)len;
		return len;
	}
	want = rs->len + len + 1;
	nb = realloc(rs->body, want);
	if (nb == NULL)
		return 0;
	rs->body = nb;
	memcpy(rs->body + rs->len, p, len);
	rs->len += len;
	rs->body[rs->len] = '\0';
	rs->got += (long long)len;
	return len;
}

/* Value of header line h when it is "name: value", else NULL. */
static const char *
header_value(const char *h, size_t hl, const char *name)
{
	size_t nl = strlen(name);

	if (hl <= nl + 1 || strncasecmp(h, name, nl) != 0 || h[nl] != ':')
		return NULL;
	h += nl + 1;
	while (*h == ' ' || *h == '\t')
		h++;
	return h;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct fal_resp *rs = ud;
	size_t len = sz * n;
	char line[256];
	const char *v;

	if (len >= sizeof(line))
		return len; /* none of ours is that long */
	memcpy(line, p, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* A new answer (after a 100 Continue): forget the last. */
		rs->retry_after_ms = -1;
		rs->user_timeout = 0;
		rs->ctype[0] = '\0';
	} else if ((v = header_value(line, len, "Retry-After")) != NULL)
		rs->retry_after_ms = fal_parse_retry_after(v, spool_now_ms());
	else if ((v = header_value(line, len, "X-Fal-Request-Timeout-Type")) !=
	    NULL)
		rs->user_timeout = strcasecmp(v, "user") == 0;
	else if ((v = header_value(line, len, "Content-Type")) != NULL)
		snprintf(rs->ctype, sizeof(rs->ctype), "%s", v);
	return len;
}

static int
on_xfer(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)ud;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(&daemon_stopping) ? 1 : 0;
}

/* One attempt; fills *rs.  0, or -1 when no list could be made. */
static int
attempt(struct fal_worker *w, const struct fal_req *rq, struct fal_resp *rs)
{
	struct curl_slist *h = NULL, *t;
	char ct[128];
	long tmo = rq->timeout_ms > 0 ? rq->timeout_ms : w->timeout_ms;
	int rc = -1;
	size_t i;

	fal_resp_free(rs);
	rs->code = 0;
	rs->cerr = CURLE_OK;
	rs->got = 0;
	rs->over = 0;
	rs->retry_after_ms = -1;
	rs->user_timeout = 0;
	rs->ctype[0] = '\0';
	rs->fd = rq->fd;
	rs->cap = rq->cap > 0 ? rq->cap : FAL_BODY_CAP;
	if (rq->fd >= 0 &&
	    (ftruncate(rq->fd, 0) == -1 || lseek(rq->fd, 0, SEEK_SET) == -1))
		return -1;

	/* Expect: off, or curl waits a second for "100 Continue". */
	if ((t = curl_slist_append(h, "Expect:")) == NULL)
		goto out;
	h = t;
	if ((t = curl_slist_append(h, "Accept: application/json")) == NULL)
		goto out;
	h = t;
	if (rq->ctype != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", rq->ctype);
		if ((t = curl_slist_append(h, ct)) == NULL)
			goto out;
		h = t;
	}
	if (rq->auth) {
		if ((t = curl_slist_append(h, w->auth)) == NULL)
			goto out;
		h = t;
	}
	for (i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++) {
		if ((t = curl_slist_append(h, rq->headers[i])) == NULL)
			goto out;
		h = t;
	}

	curl_easy_reset(w->curl);
	curl_easy_setopt(w->curl, CURLOPT_URL, rq->url);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, w->connect_ms);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, tmo);
	curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "image2model/1");
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, rs);
	curl_easy_setopt(w->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(w->curl, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(w->curl, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(w->curl, CURLOPT_NOPROGRESS, 0L);
	/* CDN links may redirect; the key is never sent on those. */
	curl_easy_setopt(w->curl, CURLOPT_FOLLOWLOCATION, rq->auth ? 0L : 1L);
	curl_easy_setopt(w->curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(w->curl, CURLOPT_ACCEPT_ENCODING, "");
	if (strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0) {
		curl_easy_setopt(
		    w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
		curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS,
		    rq->body != NULL ? rq->body : "");
		if (strcmp(rq->method, "PUT") == 0)
			curl_easy_setopt(w->curl, CURLOPT_CUSTOMREQUEST, "PUT");
	}
	rs->cerr = curl_easy_perform(w->curl);
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &rs->code);
	/* The list is freed below: leave no pointer to it in the handle. */
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
	rc = 0;
out:
	curl_slist_free_all(h);
	return rc;
}

int
fal_nap(long ms)
{
	struct timespec ts;

	while (ms > 0) {
		long step = ms < 100 ? ms : 100;

		if (atomic_load(&daemon_stopping))
			return -1;
		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return atomic_load(&daemon_stopping) ? -1 : 0;
}

enum fal_result
fal_call(struct fal_worker *w, const struct fal_req *rq, struct fal_resp *rs)
{
	enum fal_class c;
	int i, transport;
	long d;

	for (i = 0;; i++) {
		if (atomic_load(&daemon_stopping))
			return FR_STOP;
		if (attempt(w, rq, rs) == -1)
			return FR_TRANSIENT;
		if (rs->cerr == CURLE_ABORTED_BY_CALLBACK)
			return FR_STOP;
		if (rs->over)
			return FR_HTTP; /* too big: asking again won't help */
		transport = rs->cerr != CURLE_OK;
		c = fal_classify(
		    rs->code, transport, rs->user_timeout, rq->idempotent);
		if (c == FC_OK)
			return FR_OK;
		/* Without the key, a 401/403 says nothing about it. */
		if (c == FC_AUTH && rq->auth)
			return rs->code == 403 ? FR_DENIED : FR_AUTH;
		if (c == FC_AUTH || c == FC_FAIL)
			return FR_HTTP;
		if (rq->attempts > 0 && i + 1 >= rq->attempts)
			return FR_TRANSIENT;
		d = fal_backoff_ms(i < 30 ? i : 30, w->backoff_ms,
		    w->backoff_cap_ms, rs->retry_after_ms, &w->seed);
		if (rq->deadline_ms > 0 &&
		    spool_now_ms() + d >= rq->deadline_ms)
			return FR_DEADLINE;
		if (transport)
			log_debug("fal: %s %s: %s; retry in %ld ms", rq->method,
			    rq->url, curl_easy_strerror(rs->cerr), d);
		else
			log_debug("fal: %s %s: HTTP %ld; retry in %ld ms",
			    rq->method, rq->url, rs->code, d);
		if (fal_nap(d) == -1)
			return FR_STOP;
	}
}
