/*
 * sse_conn.c: one stream's connection in the SSE loop (cgi/sse_main.c):
 * the lists it is on (its batch's, the heartbeat list by last write, the
 * timeout list by deadline), its writes, its end and its error answers.
 *
 * Invariant: a stream holds a slot (loop.nstreams counts it) exactly while
 * it is on its lists and holds its watch; unslot() undoes all three at
 * once.  A closed stream is never freed inside a round of events (another
 * event of the round may still point at it): it goes on loop.zombies and
 * the loop frees it after the round.  Every write goes through
 * stream_write(), so the heartbeat clock and EPOLLOUT interest follow it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cgi.h"
#include "sse.h"

struct sse_loop loop = {.ep = -1};

static void
list_remove(struct stream_list *l, struct stream *s, int k)
{
	struct link *n = &s->l[k];

	if (!n->on)
		return;
	if (n->prev != NULL)
		n->prev->l[k].next = n->next;
	else
		l->head = n->next;
	if (n->next != NULL)
		n->next->l[k].prev = n->prev;
	else
		l->tail = n->prev;
	memset(n, 0, sizeof(*n));
}

/* Insert s after pos (NULL: at the head). */
void
list_insert(struct stream_list *l, struct stream *pos, struct stream *s, int k)
{
	struct link *n = &s->l[k];

	n->on = 1;
	n->prev = pos;
	n->next = pos != NULL ? pos->l[k].next : l->head;
	if (n->next != NULL)
		n->next->l[k].prev = s;
	else
		l->tail = s;
	if (pos != NULL)
		pos->l[k].next = s;
	else
		l->head = s;
}

/* Give up s's slot: off every list, its watch dropped. */
void
unslot(struct stream *s)
{
	if (!s->streaming)
		return;
	list_remove(&s->w->streams, s, L_BATCH);
	list_remove(&loop.hb, s, L_HB);
	list_remove(&loop.to, s, L_TO);
	sse_watch_put(s->w);
	s->w = NULL;
	s->streaming = 0;
	loop.nstreams--;
}

void
conn_close(struct stream *s)
{
	if (s->dead)
		return;
	unslot(s);
	epoll_ctl(loop.ep, EPOLL_CTL_DEL, s->fc.fd, NULL);
	close(s->fc.fd);
	fc_free(&s->fc);
	s->dead = 1;
	s->zombie = loop.zombies;
	loop.zombies = s;
}

/* After writing: watch for room when output is queued; close when done. */
void
conn_out(struct stream *s)
{
	int want = fc_pending(&s->fc);
	struct epoll_event ev;

	if (s->dead)
		return;
	if (!want && s->closing) {
		conn_close(s);
		return;
	}
	if (want == s->want_out)
		return;
	ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);
	ev.data.ptr = s;
	if (epoll_ctl(loop.ep, EPOLL_CTL_MOD, s->fc.fd, &ev) == -1) {
		conn_close(s);
		return;
	}
	s->want_out = want;
}

/* Send text; the stream's heartbeat clock restarts.  -1: closed. */
int
stream_write(struct stream *s, const char *p, size_t len)
{
	if (len == 0)
		return 0;
	if (fc_write(&s->fc, p, len) == -1) {
		conn_close(s);
		return -1;
	}
	s->last_write = spool_now_ms();
	if (s->streaming) {
		list_remove(&loop.hb, s, L_HB);
		list_insert(&loop.hb, loop.hb.tail, s, L_HB);
	}
	conn_out(s);
	return s->dead ? -1 : 0;
}

/* The response is over: its slot is free now, the bytes go out later. */
void
stream_end(struct stream *s)
{
	unslot(s);
	if (fc_end(&s->fc) == -1) {
		conn_close(s);
		return;
	}
	s->closing = 1;
	conn_out(s);
}

/* One event from a JSON object (stolen), then optionally the end. */
void
stream_event(struct stream *s, const char *event, json_t *data, int end)
{
	struct sbuf b = {0};

	if (sse_event(&b, s->id, event, s->sent, data) == -1 ||
	    stream_write(s, b.p, b.len) == -1) {
		sbuf_free(&b);
		conn_close(s);
		return;
	}
	sbuf_free(&b);
	if (end)
		stream_end(s);
}

void
task_failed(struct stream *s, const char *why)
{
	stream_event(s, "task_failed",
	    json_pack("{s:s, s:s, s:s}", "status", "failed", "error", why,
	        "message", why),
	    1);
}

static const char *
reason(int status)
{
	switch (status) {
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* Status line and CORS headers (cgi_begin's, for this loop). */
int
stream_head(struct sbuf *b, struct stream *s, int status, const char *ctype)
{
	const char *origin = fc_param(&s->fc, "HTTP_ORIGIN");

	if (sbuf_printf(b, "Status: %d %s\r\n", status, reason(status)) == -1 ||
	    (ctype != NULL &&
	        sbuf_printf(b, "Content-Type: %s\r\n", ctype) == -1))
		return -1;
	if (origin != NULL && cgi_origin_allowed(origin))
		return sbuf_printf(b,
		    "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n",
		    origin);
	return 0;
}

/* The contract's error object, whole, then the end (cgi_error's shape). */
void
reply_error(struct stream *s, int status, const char *code, int retry_after,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void
reply_error(struct stream *s, int status, const char *code, int retry_after,
    const char *fmt, ...)
{
	struct sbuf b = {0};
	char msg[512], *body;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* clang-format off */
	j = json_pack("{s:b, s:s, s:s, s:i, s:{}}",
	    "error", 1,
	    "error_code", code,
	    "message", msg,
	    "status_code", status,
	    "details");
	/* clang-format on */
	body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (body == NULL ||
	    stream_head(&b, s, status, "application/json") == -1 ||
	    sbuf_printf(&b, "Cache-Control: no-store\r\n") == -1 ||
	    (status == 405 &&
	        sbuf_printf(&b, "Allow: GET, OPTIONS\r\n") == -1) ||
	    (retry_after > 0 &&
	        sbuf_printf(&b, "Retry-After: %d\r\n", retry_after) == -1) ||
	    sbuf_printf(&b, "Content-Length: %zu\r\n\r\n%s\n", strlen(body) + 1,
	        body) == -1 ||
	    stream_write(s, b.p, b.len) == -1) {
		free(body);
		sbuf_free(&b);
		conn_close(s);
		return;
	}
	free(body);
	sbuf_free(&b);
	stream_end(s);
}

void
preflight(struct stream *s)
{
	struct sbuf b = {0};

	if (stream_head(&b, s, 204, NULL) == -1 ||
	    (fc_param(&s->fc, "HTTP_ORIGIN") != NULL &&
	        cgi_origin_allowed(fc_param(&s->fc, "HTTP_ORIGIN")) &&
	        sbuf_printf(&b,
	            "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
	            "Access-Control-Allow-Headers: Authorization, Content-Type, Last-Event-ID, Cache-Control\r\n"
	            "Access-Control-Max-Age: 600\r\n") == -1) ||
	    sbuf_printf(&b, "\r\n") == -1 ||
	    stream_write(s, b.p, b.len) == -1) {
		sbuf_free(&b);
		conn_close(s);
		return;
	}
	sbuf_free(&b);
	stream_end(s);
}
