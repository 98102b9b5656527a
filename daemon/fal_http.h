/*
 * fal_http.h: the transport of the FAL backend (fal_http.c): one libcurl
 * call with one retry policy.  What the calls mean is in fal_queue.h.
 *
 * One struct fal_worker per worker thread holds one CURL easy handle, so
 * each worker keeps its own connection pool (curl_easy_reset keeps live
 * connections).  Every call has a connect and a total timeout, a capped
 * answer buffer, and is retried by one policy (fal_classify): 408, 429,
 * 502, 503, 504 (not a 504 with X-Fal-Request-Timeout-Type: user) and
 * transport errors, with capped exponential backoff and jitter, Retry-After
 * honoured.  A 401/403 means something only from a call that carried the
 * key (FR_AUTH, FR_DENIED); from a presigned URL or the CDN it is a plain
 * final answer.  The key goes only to FAL_QUEUE_URL and FAL_REST_URL, never to
 * upload or CDN URLs, and is never logged: curl verbose stays off and every
 * message that may echo an answer goes through fal_redact().
 */
#ifndef FAL_HTTP_H
#define FAL_HTTP_H

#include <curl/curl.h>

#include "daemon.h"

#define FAL_BODY_CAP (4L * 1024 * 1024) /* API answers */
#define FAL_MESH_CAP (1024LL * 1024 * 1024) /* a downloaded model */
#define FAL_IMAGE_CAP (64LL * 1024 * 1024) /* a downloaded preview */

struct fal_worker {
	CURL *curl;
	const struct config *cfg;
	char auth[320]; /* "Authorization: Key ..."; never logged */
	unsigned int seed; /* rand_r state for the jitter */
	long timeout_ms; /* one API call, FAL_TIMEOUT_MS */
	long connect_ms;
	long backoff_ms; /* first retry delay */
	long backoff_cap_ms; /* no single delay is longer */
};

/* What one call is, and how hard to try. */
struct fal_req {
	const char *method; /* "GET", "POST", "PUT" */
	const char *url;
	int auth; /* send the key (FAL's API hosts only) */
	const char *ctype; /* Content-Type of body, NULL = none */
	const char *const *headers; /* more header lines, NULL-terminated */
	const void *body;
	size_t len;
	int attempts; /* 0 = until the deadline */
	int idempotent; /* GETs: a 500 is retried too */
	int fd; /* >= 0: the answer's body goes to this file */
	long long cap; /* most bytes accepted */
	long long deadline_ms; /* spool_now_ms() clock; 0 = none */
	long timeout_ms; /* 0 = the worker's API timeout */
};

/* The answer of the last attempt. */
struct fal_resp {
	long code; /* HTTP status, 0 when there was no answer */
	CURLcode cerr;
	char *body; /* NUL-terminated; caller frees (fal_resp_free) */
	size_t len;
	long long got; /* bytes of the answer body */
	int over; /* the answer was larger than the cap */
	long retry_after_ms; /* -1 when not sent */
	int user_timeout; /* X-Fal-Request-Timeout-Type: user */
	char ctype[96];
	/* internal to one attempt */
	int fd;
	long long cap;
};

enum fal_class {
	FC_OK, /* 2xx */
	FC_RETRY, /* transient: try again after a delay */
	FC_AUTH, /* 401/403: the key is rejected */
	FC_FAIL /* any other answer: final */
};

enum fal_result {
	FR_OK, /* 2xx, body in the answer */
	FR_HTTP, /* a final non-2xx answer (code set) */
	FR_AUTH, /* 401 from a call with the key: the key is wrong */
	FR_DENIED, /* 403 from a call with the key: the account is refused */
	FR_TRANSIENT, /* attempts used up on transient errors */
	FR_STOP, /* the daemon is stopping */
	FR_DEADLINE /* the next try would pass the deadline */
};

/* New per-worker state; NULL on failure. */
struct fal_worker *fal_worker_new(const struct config *cfg);
void fal_worker_free(struct fal_worker *w);
/* The same as a backend's worker_init / worker_free hooks. */
void *fal_worker_init(const struct config *cfg);
void fal_worker_done(void *w);
/* Sleep ms unless the daemon stops; 0, or -1 when it is stopping. */
int fal_nap(long ms);

/*
 * One call with the retry policy; *rs gets the last answer (free it with
 * fal_resp_free, also on failure).
 */
enum fal_result
fal_call(struct fal_worker *w, const struct fal_req *rq, struct fal_resp *rs);
void fal_resp_free(struct fal_resp *rs);

/* Pure helpers, unit tested. */
enum fal_class
fal_classify(long code, int transport_error, int user_timeout, int idem);
/* Delay before retry number attempt (0-based); retry_after_ms < 0 = none. */
long fal_backoff_ms(int attempt, long base_ms, long cap_ms, long retry_after_ms,
    unsigned int *seed);
/* Retry-After value in ms (delta seconds or an HTTP date); -1 if bad. */
long fal_parse_retry_after(const char *v, long long now_ms);
/* Replace every occurrence of key in s by "***". */
void fal_redact(char *s, const char *key);

#endif
