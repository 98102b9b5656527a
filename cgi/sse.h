/*
 * sse.h: the parts of i2m-sse.fcgi (cgi/sse_main.c), an event loop that
 * holds thousands of streams in one thread:
 *
 *   fcgi_conn.c  one FastCGI responder connection, non-blocking: records
 *                in, params parsed, STDOUT records out through a buffer
 *   sse_watch.c  one inotify instance, a reference-counted watch per
 *                batch with open streams; a hint, never the truth
 *   sse_conn.c   a stream's connection: its lists, writes, end and
 *                error answers, and the loop's shared state
 *   sse_event.c  the contract's events (shared/docs/api.md) rendered as
 *                text, once per change and shared by every stream at the
 *                same point
 */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>

#include <jansson.h>

#include "cgi.h"

/* A growing byte buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
};

int sbuf_add(struct sbuf *b, const void *p, size_t len);
int sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_free(struct sbuf *b);

/* fcgi_conn.c ---------------------------------------------------------- */

/* Pending output beyond this drops the connection (a stuck reader). */
#define FC_OUT_MAX (1024 * 1024)

struct fconn {
	int fd;
	unsigned reqid;
	int ready; /* the params are complete */
	struct sbuf in; /* bytes not parsed yet */
	struct sbuf params; /* the raw PARAMS stream */
	struct sbuf kv; /* decoded: "name\0value\0" ... */
	struct sbuf out; /* records not written yet, from outoff */
	size_t outoff;
};

/*
 * Read what the socket has and parse it: 1 once the request's params are
 * complete (returned once), 0 for more later, -1 when the peer closed
 * the connection, aborted the request or broke the protocol.
 */
int fc_read(struct fconn *c);
/* A request param (REQUEST_URI, HTTP_ORIGIN, ...) or NULL. */
const char *fc_param(struct fconn *c, const char *name);
/*
 * Send len bytes of the response as STDOUT records: written at once when
 * nothing is pending, else queued.  -1 when the connection is broken or
 * FC_OUT_MAX would be exceeded.
 */
int fc_write(struct fconn *c, const void *p, size_t len);
/* Queue the end of the request (empty STDOUT, END_REQUEST); 0 or -1. */
int fc_end(struct fconn *c);
/* Write what is queued: 0 all written, 1 some left (EAGAIN), -1 broken. */
int fc_flush(struct fconn *c);
/* 1 when output is queued. */
int fc_pending(const struct fconn *c);
/* Free the buffers (the caller closes the fd). */
void fc_free(struct fconn *c);

/* sse_watch.c ---------------------------------------------------------- */

struct stream;

/* The loop's streams of one batch (cgi/sse_main.c links them). */
struct stream_list {
	struct stream *head, *tail;
};

struct sse_watch {
	char id[SPOOL_ID_LEN + 1];
	int wd; /* -1 once the directory is gone */
	int refs;
	int dirty; /* on the dirty list */
	struct stream_list streams; /* the caller's */
	struct sse_watch *next_id, *next_wd, *next_dirty;
};

/* The inotify descriptor (one per process), or -1 with errno. */
int sse_watch_init(void);
/*
 * The watch of batch id with one more reference, added to inotify on
 * the first one; NULL with errno (ENOENT: no such batch; ENOSPC: the
 * watch limit).  Take it before reading the batch, so no change between
 * the read and the watch is missed.
 */
struct sse_watch *sse_watch_get(const char *id);
/* Drop a reference; the last one removes the inotify watch. */
void sse_watch_put(struct sse_watch *w);
/*
 * Read the inotify events and call changed(w, arg) once for every watch
 * whose state/seq may have changed (or whose directory went away); on
 * IN_Q_OVERFLOW for every watch (the events were lost: rescan).
 */
void sse_watch_read(void (*changed)(struct sse_watch *w, void *arg), void *arg);

/* sse_event.c ---------------------------------------------------------- */

/*
 * One event, "id: N\nevent: E\ndata: {...}\n\n", appended to b.  data
 * (stolen) gets task_id, job_id, batch_id and timestamp.  0 or -1.
 */
int sse_event(struct sbuf *b, const char *id, const char *event, long long evid,
    json_t *data);
/* task_progress of summary sum. */
int sse_progress(struct sbuf *b, const char *id, long long evid, json_t *sum);
/*
 * Every file of sum whose seq is above *sent, in seq order, each with a
 * task_progress; then task_completed when every file is final.  *sent
 * becomes the highest seq sent.  1 when the stream is over (completed),
 * 0 when it goes on, -1 on error (ENOMEM).
 */
int sse_changes(struct sbuf *b, const char *id, const char *base, json_t *sum,
    long long *sent);

/* sse_conn.c ----------------------------------------------------------- */

enum kind { K_LISTEN, K_INOTIFY, K_CONN };
enum { L_BATCH, L_HB, L_TO, NLINKS };

struct link {
	struct stream *prev, *next;
	int on;
};

struct stream {
	enum kind kind; /* first: the epoll tag */
	struct fconn fc;
	int streaming; /* holds a slot: on the lists below */
	int closing; /* end queued: close once written */
	int want_out; /* EPOLLOUT registered */
	int dead; /* closed; freed after this round of events */
	char id[SPOOL_ID_LEN + 1];
	long long sent; /* highest seq sent */
	long long seen; /* summary seq the stream was brought to */
	long long last_write, deadline; /* ms; deadline 0 = none */
	int timeout_s;
	char base[CGI_BASE_MAX]; /* of the URLs in its events */
	struct sse_watch *w;
	struct link l[NLINKS]; /* batch's streams, heartbeats, timeouts */
	struct stream *zombie;
};

/* The loop's shared state (one loop per process). */
struct sse_loop {
	int ep; /* the epoll descriptor */
	int nstreams; /* streams holding a slot */
	struct stream_list hb, to; /* by last write; by deadline */
	struct stream *zombies; /* closed, freed after this round */
};
extern struct sse_loop loop;

/* Insert s after pos (NULL: at the head) of list k. */
void
list_insert(struct stream_list *l, struct stream *pos, struct stream *s, int k);
/* Give up s's slot: off every list, its watch dropped. */
void unslot(struct stream *s);
/* Close s now; it is freed after this round of events. */
void conn_close(struct stream *s);
/* After writing: watch for room when output is queued; close when done. */
void conn_out(struct stream *s);
/* Status line and CORS headers (cgi_begin's, for this loop); 0 or -1. */
int
stream_head(struct sbuf *b, struct stream *s, int status, const char *ctype);
/* Send text; the stream's heartbeat clock restarts.  -1: closed. */
int stream_write(struct stream *s, const char *p, size_t len);
/* The response is over: its slot is free now, the bytes go out later. */
void stream_end(struct stream *s);
/* One event from a JSON object (stolen), then optionally the end. */
void stream_event(struct stream *s, const char *event, json_t *data, int end);
/* A task_failed event with why, then the end. */
void task_failed(struct stream *s, const char *why);
/* The contract's error object, whole, then the end (cgi_error's shape). */
void
reply_error(struct stream *s, int status, const char *code, int retry_after,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The answer to a CORS preflight, then the end. */
void preflight(struct stream *s);

#endif
