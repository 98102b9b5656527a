/*
 * webhook.c: the sender, one thread that delivers the spool's webhook
 * records (spool/webhook.c) with libcurl.
 *
 * Protocol kept: a record is claimed by rename into webhooks/cur/<me>/
 * before it is tried, so two daemons never both deliver it; after every
 * try the record is rewritten by the temp-file rule (attempts, next
 * attempt, last error) and only then moved (back to new/, or into done/),
 * so a crash at any point resumes where it stopped: the claim goes back
 * to new/ when the reaper finds this daemon dead.  The worst a crash can
 * do is one POST delivered but not recorded, sent again: receivers get
 * the delivery id header to drop a repeat.
 *
 * Wake-ups are hints (a job's end, inotify on webhooks/new, a timer at
 * the next due record); the truth is the minute sweep over every batch,
 * which also announces batches that became final without this daemon
 * (files cancelled from the API or the CLI).  Outcome of one try: any
 * 2xx is delivered; 408, 429, 5xx, timeouts and connection errors retry
 * after WEBHOOK_BACKOFF_MS doubled per attempt until WEBHOOK_MAX_ATTEMPTS
 * tries, then the record is given up ("failed"); any other status, a
 * refused address (webhook_sign.c's rule) or a bad URL fails at once.
 * Stopping interrupts a transfer (the progress callback) and hands the
 * record back uncounted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon.h"

#define SWEEP_MS 60000 /* every batch checked for an announcement */
#define MAX_DELAY_MS (3600 * 1000LL) /* the longest backoff */

enum outcome {
	HOOK_DELIVERED,
	HOOK_RETRY,
	HOOK_FAILED,
	HOOK_REFUSED,
	HOOK_STOPPED
};

static struct sender {
	struct spool *sp;
	const struct config *cfg;
	char owner[SPOOL_DAEMON_MAX];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, kicked;
	atomic_int stop;
} snd = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* One try: what the socket and progress callbacks found. */
struct
try {
	int allow_private;
	int refused;
	char why[160];
	char body[256]; /* the start of the answer, for the log */
	size_t blen;
};

static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct try *t = arg;
	const char *kind;
	char ip[INET6_ADDRSTRLEN] = "?";

	(void)purpose;
	kind = webhook_addr_blocked(&a->addr);
	if (kind != NULL && !t->allow_private) {
		if (a->family == AF_INET)
			inet_ntop(AF_INET,
			    &((const struct sockaddr_in *)(void *)&a->addr)
			         ->sin_addr,
			    ip, sizeof(ip));
		else if (a->family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((const struct sockaddr_in6 *)(void *)&a->addr)
			         ->sin6_addr,
			    ip, sizeof(ip));
		t->refused = 1;
		snprintf(t->why, sizeof(t->why),
		    "refused: %s is a %s address (WEBHOOK_ALLOW_PRIVATE=1 allows it)",
		    ip, kind);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int
progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)arg;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(&snd.stop) || atomic_load(&daemon_stopping);
}

/* Keep the first bytes of the answer (a reason for the log), drop the rest. */
static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	struct try *t = arg;
	size_t len = size * n, room = sizeof(t->body) - 1 - t->blen;

	memcpy(t->body + t->blen, p, len < room ? len : room);
	t->blen += len < room ? len : room;
	t->body[t->blen] = '\0';
	return len;
}

static struct curl_slist *
headers(const char *name, const char *body)
{
	char h[160], sig[65];
	struct curl_slist *l = NULL, *n;
	const char *const fixed[] = {"Content-Type: application/json",
	    "X-Image2model-Event: batch.finished", "Expect:", NULL};
	size_t i;

	for (i = 0; fixed[i] != NULL; i++) {
		if ((n = curl_slist_append(l, fixed[i])) == NULL)
			goto fail;
		l = n;
	}
	snprintf(h, sizeof(h), "X-Image2model-Delivery: %.*s",
	    (int)(strlen(name) - 5), name);
	if ((n = curl_slist_append(l, h)) == NULL)
		goto fail;
	l = n;
	if (snd.cfg->webhook_secret[0] != '\0') {
		if (webhook_sign(
		        snd.cfg->webhook_secret, body, strlen(body), sig) == -1)
			goto fail;
		snprintf(
		    h, sizeof(h), "X-Image2model-Signature: sha256=%s", sig);
		if ((n = curl_slist_append(l, h)) == NULL)
			goto fail;
		l = n;
	}
	return l;
fail:
	curl_slist_free_all(l);
	return NULL;
}

static enum outcome
classify(CURLcode rc, long code, const struct try *t, char *err, size_t len)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return HOOK_STOPPED;
	if (t->refused && rc != CURLE_OK) {
		snprintf(err, len, "%s", t->why);
		return HOOK_REFUSED;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
		snprintf(err, len, "the URL cannot be used: %s",
		    curl_easy_strerror(rc));
		return HOOK_FAILED;
	}
	if (rc != CURLE_OK) {
		snprintf(err, len, "%s", curl_easy_strerror(rc));
		return HOOK_RETRY;
	}
	if (code >= 200 && code < 300)
		return HOOK_DELIVERED;
	snprintf(
	    err, len, "HTTP %ld%s%.120s", code, t->blen ? ": " : "", t->body);
	if (code == 408 || code == 429 || code >= 500 || code < 200)
		return HOOK_RETRY;
	return HOOK_FAILED; /* 3xx (never followed) and other 4xx */
}

/* POST body to url once; *code gets the HTTP status (0 = none). */
static enum outcome
post(const char *url, const char *name, const char *body, long *code, char *err,
    size_t errlen)
{
	struct try t;
	struct curl_slist *h;
	CURL *c;
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	memset(&t, 0, sizeof(t));
	t.allow_private = snd.cfg->webhook_allow_private;
	*code = 0;
	c = curl_easy_init();
	h = headers(name, body);
	if (c == NULL || h == NULL)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, ""); /* no proxy from the env */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(
	    c, CURLOPT_TIMEOUT_MS, (long)snd.cfg->webhook_timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "image2model-webhook/1");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(
	    c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
out:
	curl_slist_free_all(h);
	if (c != NULL)
		curl_easy_cleanup(c);
	if (rc == CURLE_OUT_OF_MEMORY && c == NULL) {
		snprintf(err, errlen, "out of memory");
		return HOOK_RETRY;
	}
	return classify(rc, *code, &t, err, errlen);
}

/* The URL of a record's target, or NULL with the reason in err. */
static const char *
target_url(json_t *rec, char *err, size_t len)
{
	const char *url = json_string_value(json_object_get(rec, "url"));
	const char *target = json_string_value(json_object_get(rec, "target"));

	if (target != NULL && strcmp(target, "config") == 0) {
		url = snd.cfg->webhook_url;
		if (url[0] == '\0') {
			snprintf(err, len, "WEBHOOK_URL is no longer set");
			return NULL;
		}
	}
	if (url == NULL || spool_webhook_url_check(url, err, len) == -1)
		return NULL;
	return url;
}

/* The state after a try, its log line; whether the record is final. */
static int
record_outcome(json_t *rec, const char *name, const char *url, enum outcome o,
    long code, const char *err)
{
	int attempts =
	    (int)json_integer_value(json_object_get(rec, "attempts"));
	int shown = (int)strcspn(url, "?#"); /* a query may hold a token */
	long long now = spool_now_ms(), delay;
	const char *state = "pending";

	json_object_set_new(rec, "url", json_string(url));
	json_object_set_new(rec, "attempts", json_integer(attempts));
	json_object_set_new(rec, "last_attempt", json_integer(now));
	json_object_set_new(
	    rec, "http_status", code ? json_integer(code) : json_null());
	json_object_set_new(rec, "last_error",
	    o == HOOK_DELIVERED ? json_null() : json_string(err));
	if (o == HOOK_DELIVERED) {
		state = "delivered";
		log_info("webhook %s: delivered to %.*s (HTTP %ld, attempt %d)",
		    name, shown, url, code, attempts);
	} else if (o == HOOK_RETRY &&
	    attempts < snd.cfg->webhook_max_attempts) {
		delay = (long long)snd.cfg->webhook_backoff_ms
		    << (attempts - 1 < 20 ? attempts - 1 : 20);
		if (delay > MAX_DELAY_MS)
			delay = MAX_DELAY_MS;
		json_object_set_new(
		    rec, "next_attempt", json_integer(now + delay));
		log_info("webhook %s: %s; retry in %lld ms (attempt %d of %d)",
		    name, err, delay, attempts, snd.cfg->webhook_max_attempts);
	} else {
		state = o == HOOK_REFUSED ? "refused" : "failed";
		log_warnx("webhook %s: gave up on %.*s after %d attempt(s): %s",
		    name, shown, url, attempts, err);
	}
	json_object_set_new(rec, "state", json_string(state));
	return strcmp(state, "pending") != 0;
}

/*
 * Claim, try, record, move: one due record.  -1 when the spool let it
 * down (the claim or the record's update failed: a full disk, a missing
 * directory): the record stays due as it was, so the caller holds off
 * instead of trying it again at once, which would POST again and again
 * without counting the attempts.
 */
static int
deliver_one(const char *name)
{
	char err[512] = "";
	json_t *rec;
	const char *url, *body;
	enum outcome o = HOOK_FAILED;
	long code = 0;
	int final, rc;

	rec = spool_webhook_claim(snd.sp, snd.owner, name);
	if (rec == NULL) {
		if (errno == EBADMSG || errno == EINVAL) {
			/* Not a record: kept aside in done/, never retried. */
			log_warn("webhook %s: unreadable record", name);
			spool_webhook_finish(snd.sp, snd.owner, name);
			return 0;
		}
		/* Taken by another daemon, or the spool failed: back if it
		 * was claimed (ENOENT otherwise), and hold off. */
		log_warn("webhook %s: claim", name);
		spool_webhook_requeue(snd.sp, snd.owner, name);
		return -1;
	}
	body = json_string_value(json_object_get(rec, "body"));
	url = target_url(rec, err, sizeof(err));
	if (url != NULL && body != NULL)
		o = post(url, name, body, &code, err, sizeof(err));
	else if (body == NULL)
		snprintf(err, sizeof(err), "the record has no body");
	if (o == HOOK_STOPPED) {
		spool_webhook_requeue(snd.sp, snd.owner, name);
		json_decref(rec);
		return 0;
	}
	json_object_set_new(rec, "attempts",
	    json_integer(
	        json_integer_value(json_object_get(rec, "attempts")) + 1));
	final = record_outcome(
	    rec, name, url != NULL ? url : "(none)", o, code, err);
	rc = spool_webhook_save(snd.sp, snd.owner, name, rec);
	if (rc == -1)
		log_warn("webhook %s: record not updated", name);
	if ((final ? spool_webhook_finish(snd.sp, snd.owner, name)
	           : spool_webhook_requeue(snd.sp, snd.owner, name)) == -1) {
		log_warn("webhook %s: move", name);
		rc = -1;
	}
	json_decref(rec);
	return rc;
}

static int
sweep_batch(const char *id, void *arg)
{
	int n = spool_webhook_batch_done(arg, id);

	if (n > 0)
		log_info(
		    "%s: finished; %d webhook(s) queued by the sweep", id, n);
	else if (n == -1 && errno != ENOENT)
		log_warn("%s: webhook not queued (the next sweep retries)", id);
	return atomic_load(&snd.stop) || atomic_load(&daemon_stopping);
}

void
webhook_file_done(struct spool *sp, const char *id)
{
	int n = spool_webhook_batch_done(sp, id);

	if (n > 0) {
		log_info("%s: finished; %d webhook(s) queued", id, n);
		webhook_kick();
	} else if (n == -1 && errno != ENOENT)
		log_warn("%s: webhook not queued (the sweep retries)", id);
}

/* Sleep until due (ms on the spool clock) or a kick; the mutex held. */
static void
wait_until(long long due)
{
	long long ms = due - spool_now_ms();
	struct timespec ts;

	if (ms <= 0 || snd.kicked || atomic_load(&snd.stop))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&snd.cv, &snd.mu, &ts);
}

static void *
sender_main(void *arg)
{
	char name[SPOOL_WEBHOOK_NAME_MAX];
	long long last_sweep = 0, next = LLONG_MAX, now, calm = 0;

	(void)arg;
	while (!atomic_load(&snd.stop)) {
		now = spool_now_ms();
		if (now - last_sweep >= SWEEP_MS) {
			spool_batch_foreach(snd.sp, sweep_batch, snd.sp);
			last_sweep = now;
		}
		/* calm: after the spool failed a delivery's bookkeeping, no
		 * delivery for WEBHOOK_BACKOFF_MS (kicks only wake the loop). */
		while (!atomic_load(&snd.stop) && spool_now_ms() >= calm &&
		    spool_webhook_due(snd.sp, spool_now_ms(), name,
		        sizeof(name), &next) == 1) {
			if (deliver_one(name) == -1) {
				calm = spool_now_ms() +
				    snd.cfg->webhook_backoff_ms;
				break;
			}
		}
		if (next < calm)
			next = calm;
		if (next > last_sweep + SWEEP_MS)
			next = last_sweep + SWEEP_MS;
		pthread_mutex_lock(&snd.mu);
		wait_until(next);
		snd.kicked = 0;
		pthread_mutex_unlock(&snd.mu);
	}
	return NULL;
}

int
webhook_start(struct spool *sp, const struct config *cfg, const char *owner)
{
	pthread_condattr_t ca;

	snd.sp = sp;
	snd.cfg = cfg;
	snprintf(snd.owner, sizeof(snd.owner), "%s", owner);
	atomic_store(&snd.stop, 0);
	if (spool_webhook_init(sp) == -1 ||
	    spool_webhook_owner_add(sp, owner) == -1)
		return -1;
	if (pthread_condattr_init(&ca) != 0)
		return -1;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&snd.cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&snd.thread, NULL, sender_main, NULL) != 0) {
		pthread_cond_destroy(&snd.cv);
		errno = EAGAIN;
		return -1;
	}
	pthread_mutex_lock(&snd.mu);
	snd.running = 1;
	pthread_mutex_unlock(&snd.mu);
	return 0;
}

void
webhook_kick(void)
{
	pthread_mutex_lock(&snd.mu);
	snd.kicked = 1;
	if (snd.running)
		pthread_cond_signal(&snd.cv);
	pthread_mutex_unlock(&snd.mu);
}

void
webhook_stop(void)
{
	if (!snd.running)
		return;
	atomic_store(&snd.stop, 1);
	webhook_kick();
	pthread_join(snd.thread, NULL);
	/* Workers may still kick (the pool stops after this): they signal
	 * only while running, read under the mutex, and the condition
	 * variable is never destroyed (it lives as long as the process). */
	pthread_mutex_lock(&snd.mu);
	snd.running = 0;
	pthread_mutex_unlock(&snd.mu);
	/* A record claimed but not tried goes back (none should be left). */
	spool_webhook_release_all(snd.sp, snd.owner);
}
