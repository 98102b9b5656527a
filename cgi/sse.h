/*
 * sse.h: the parts of i2m-sse.fcgi (cgi/sse_main.c), an event loop that
 * holds thousands of streams in one thread:
 *
 *   fcgi_conn.c  one FastCGI responder connection, non-blocking: records
 *                in, params parsed, STDOUT records out through a buffer
 *   sse_watch.c  one inotify instance, a reference-counted watch per
 *                batch with open streams; a hint, never the truth
 *   sse_event.c  the contract's events (shared/docs/api.md) rendered as
 *                text, once per change and shared by every stream at the
 *                same point
 */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>

#include <jansson.h>

#include "spool.h"

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
int sse_changes(struct sbuf *b, const char *id, json_t *sum, long long *sent);

#endif
