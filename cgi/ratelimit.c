/*
 * ratelimit.c: per-client limits of one handler program (lighttpd gives
 * the client's address as REMOTE_ADDR).  RATE_LIMIT_PER_MIN caps the
 * requests one address may make per minute to this program (a fixed
 * window of the wall-clock minute).  Over it, the answer is 429 with
 * Retry-After (the seconds left of the minute) and the contract's JSON.
 * 0 turns the limit off (the default).
 *
 * UPLOADS_PER_IP caps the uploads one address may have in this program at
 * the same time (the upload handler holds one from the start of its work
 * until its answer); over it, 429 with Retry-After at once.  lighttpd
 * has stored the body by then (server.stream-request-body 0), so this
 * bounds what one address makes the server commit at once (the fsyncs,
 * the handler threads), not the bytes lighttpd buffers: those are bounded
 * by the request size limit, and by the API key check that lighttpd
 * itself makes before it reads a body (tools/i2m_lighttpd.c).
 *
 * The table is per process, fixed in size and kept under one mutex: an
 * address hashes to a short run of slots; when all are taken by live
 * addresses it shares one (stricter, never looser), so memory stays
 * bounded whatever the number of clients.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"

#define RL_SLOTS 4096
#define RL_PROBE 8

struct rl_slot {
	char ip[48];
	long long minute; /* window of count */
	int count;
};

static struct rl_slot slots[RL_SLOTS];
static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *
client(struct req *r)
{
	const char *ip = cgi_param(r, "REMOTE_ADDR");

	return ip != NULL ? ip : "";
}

/* FNV-1a of the address: where its run of slots starts. */
static unsigned
ip_hash(const char *ip)
{
	unsigned h = 2166136261u;
	const char *p;

	for (p = ip; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

/* The slot of ip (under rl_mu). */
static struct rl_slot *
slot_of(const char *ip, long long minute)
{
	unsigned h = ip_hash(ip);
	int i;

	for (i = 0; i < RL_PROBE; i++) {
		struct rl_slot *s = &slots[(h + (unsigned)i) % RL_SLOTS];

		if (strcmp(s->ip, ip) == 0)
			return s;
	}
	for (i = 0; i < RL_PROBE; i++) {
		struct rl_slot *s = &slots[(h + (unsigned)i) % RL_SLOTS];

		if (s->ip[0] == '\0' || s->minute != minute) {
			snprintf(s->ip, sizeof(s->ip), "%s", ip);
			s->minute = minute;
			s->count = 0;
			return s;
		}
	}
	return &slots[h % RL_SLOTS];
}

static void
too_many(struct req *r, int retry_after, const char *msg)
{
	char hdr[64];

	snprintf(hdr, sizeof(hdr), "Retry-After: %d", retry_after);
	cgi_drain(r);
	cgi_error_with(r, 429, "RATE_LIMITED",
	    json_pack("{s:i}", "retry_after_s", retry_after), hdr, msg);
}

struct hold_slot {
	char ip[48];
	int n; /* held now; 0: the slot is free */
};

static struct hold_slot holds[RL_SLOTS];
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;

/* The index of ip's hold slot (under hold_mu); a shared one when the run is
 * full. */
static int
hold_of(const char *ip)
{
	unsigned h = ip_hash(ip);
	int i;

	for (i = 0; i < RL_PROBE; i++) {
		int k = (int)((h + (unsigned)i) % RL_SLOTS);

		if (holds[k].n > 0 && strcmp(holds[k].ip, ip) == 0)
			return k;
	}
	for (i = 0; i < RL_PROBE; i++) {
		int k = (int)((h + (unsigned)i) % RL_SLOTS);

		if (holds[k].n == 0) {
			snprintf(holds[k].ip, sizeof(holds[k].ip), "%s", ip);
			return k;
		}
	}
	return (int)(h % RL_SLOTS);
}

int
cgi_hold_acquire(const char *ip, int limit)
{
	int k;

	if (limit <= 0)
		return RL_SLOTS;
	pthread_mutex_lock(&hold_mu);
	k = hold_of(ip);
	if (holds[k].n < limit)
		holds[k].n++;
	else
		k = -1;
	pthread_mutex_unlock(&hold_mu);
	return k;
}

void
cgi_hold_release(int slot)
{
	if (slot < 0 || slot >= RL_SLOTS)
		return;
	pthread_mutex_lock(&hold_mu);
	holds[slot].n--;
	pthread_mutex_unlock(&hold_mu);
}

int
cgi_upload_enter(struct req *r)
{
	int k = cgi_hold_acquire(client(r), cgi.cfg.uploads_per_ip);

	if (k == -1)
		too_many(r, 2,
		    "This address already has as many uploads under way as it may; send this one when one of them has been answered.");
	return k;
}

int
cgi_rate_check(struct req *r)
{
	long long now = spool_now_ms(), minute = now / 60000;
	struct rl_slot *s;
	int over;

	if (cgi.cfg.rate_limit_per_min <= 0)
		return 1;
	pthread_mutex_lock(&rl_mu);
	s = slot_of(client(r), minute);
	if (s->minute != minute) {
		s->minute = minute;
		s->count = 0;
	}
	over = ++s->count > cgi.cfg.rate_limit_per_min;
	pthread_mutex_unlock(&rl_mu);
	if (!over)
		return 1;
	too_many(r, (int)(60 - (now / 1000) % 60),
	    "Too many requests from this address; wait for the time in Retry-After.");
	return 0;
}
