/*
 * fal_gate.c: which files may go to FAL now (fal_queue.h).
 *
 * Two rules, shared by every worker of the daemon under one mutex:
 *  - at most FAL_MAX_INFLIGHT requests between upload and COMPLETED;
 *  - while FAL refuses new work for the account (403 on a billable call,
 *    e.g. "User is locked. Reason: Exhausted balance"), no file is sent:
 *    files wait queued, one caller per interval probes with a cheap call,
 *    and the first success opens the gate again (protocol §8.4).
 * The key's health (401) is kept here too, so the heartbeat can say it
 * through the backend's status() hook.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fal_queue.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inflight;
static int key_rejected;
static int locked;
static char lock_reason[256];
static long long last_probe; /* spool_now_ms() of the last probe */

int
fal_gate_slot(int cap, long wait_ms)
{
	struct timespec ts;
	int got = 0;

	pthread_mutex_lock(&mu);
	if (wait_ms > 0 && inflight >= cap) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cv, &mu, &ts);
	}
	if (wait_ms == 0 || inflight < cap) {
		inflight++;
		got = 1;
	}
	pthread_mutex_unlock(&mu);
	return got;
}

void
fal_gate_slot_give(void)
{
	pthread_mutex_lock(&mu);
	inflight--;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

int
fal_gate_inflight(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = inflight;
	pthread_mutex_unlock(&mu);
	return n;
}

void
fal_gate_key(int rejected)
{
	pthread_mutex_lock(&mu);
	key_rejected = rejected;
	pthread_mutex_unlock(&mu);
}

void
fal_gate_lock(const char *reason)
{
	pthread_mutex_lock(&mu);
	if (!locked) {
		log_warnx(
		    "FAL refuses new work for this account: %s; files wait until it works again",
		    reason);
		last_probe = spool_now_ms();
	}
	locked = 1;
	snprintf(lock_reason, sizeof(lock_reason), "%s", reason);
	pthread_mutex_unlock(&mu);
}

int
fal_gate_refused(const struct fal_resp *rs)
{
	char text[256];

	fal_error_text(rs, text, sizeof(text));
	fal_gate_lock(text);
	return BS_LOCKED;
}

void
fal_gate_unlock(void)
{
	pthread_mutex_lock(&mu);
	if (locked)
		log_info("FAL accepts new work for this account again");
	locked = 0;
	lock_reason[0] = '\0';
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

int
fal_gate_locked(char *reason, size_t len)
{
	int l;

	pthread_mutex_lock(&mu);
	l = locked;
	if (reason != NULL)
		snprintf(reason, len, "%s", lock_reason);
	pthread_mutex_unlock(&mu);
	return l;
}

int
fal_gate_probe_due(long interval_ms)
{
	long long now = spool_now_ms();
	int due = 0;

	pthread_mutex_lock(&mu);
	if (locked && now - last_probe >= interval_ms) {
		last_probe = now;
		due = 1;
	}
	pthread_mutex_unlock(&mu);
	return due;
}

json_t *
fal_gate_status(const struct config *cfg)
{
	json_t *j;

	pthread_mutex_lock(&mu);
	/* clang-format off */
	j = json_pack("{s:s, s:s?}",
	    "fal_auth", cfg->fal_key[0] == '\0' ? "none" : key_rejected ? "rejected" : locked ? "locked" : "ok",
	    "fal_message", locked ? lock_reason : NULL);
	/* clang-format on */
	pthread_mutex_unlock(&mu);
	return j;
}

/* A cheap call with the key; the first that works opens the gate. */
static void
probe(struct fal_worker *w)
{
	struct fal_resp rs = {0};
	enum fal_result fr;
	char text[256];

	fr = fal_q_upload(w, NULL, 0, "image/png", 0, 0, NULL, 0, &rs);
	fal_error_text(&rs, text, sizeof(text));
	if (fr == FR_OK)
		fal_gate_unlock();
	else if (fr == FR_DENIED)
		fal_gate_lock(text);
	fal_resp_free(&rs);
}

/* Write msg as the file's queued status when it changed. */
static void
say(struct job *job, char *last, size_t len, const char *msg)
{
	if (strcmp(last, msg) == 0)
		return;
	snprintf(last, len, "%s", msg);
	job_progress(job, FS_QUEUED, 0, -1, msg);
}

int
fal_gate_enter(struct fal_worker *w, struct job *job)
{
	const struct config *cfg = w->cfg;
	char reason[256], msg[400], last[400] = "";
	struct timespec ts = {0, 100 * 1000000L};

	for (;;) {
		if (atomic_load(&daemon_stopping))
			return BACKEND_HANDBACK;
		if (job_cancel_requested(job))
			return BACKEND_CANCELLED;
		if (fal_gate_locked(reason, sizeof(reason))) {
			snprintf(msg, sizeof(msg),
			    "Waiting: FAL refuses new work for this account (%s)",
			    reason);
			fal_redact(msg, cfg->fal_key);
			say(job, last, sizeof(last), msg);
			if (fal_gate_probe_due(cfg->fal_probe_s * 1000L))
				probe(w);
			nanosleep(&ts, NULL);
			continue;
		}
		if (fal_gate_slot(cfg->fal_max_inflight, 100))
			return 0;
		snprintf(msg, sizeof(msg),
		    "Waiting for a FAL slot (%d requests in flight)",
		    fal_gate_inflight());
		say(job, last, sizeof(last), msg);
	}
}
