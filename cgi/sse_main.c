/*
 * sse_main.c: i2m-sse.fcgi, GET /api/v1/status/tasks/{id}/stream
 * (Server-Sent Events, shared/docs/api.md), for thousands of watchers.
 *
 * Design: one thread, one epoll loop over the FastCGI connections
 * (cgi/fcgi_conn.c speaks the protocol, non-blocking), one inotify
 * instance (cgi/sse_watch.c).  Chosen over a thread per stream because
 * an open stream is then a ~1 KB struct and one descriptor, not a stack
 * and a scheduler entry: 8,000 streams fit in the 20,000 descriptors of a
 * process with room to spare, memory stays in the tens of MB, and a
 * change is read and rendered once for every stream of its batch
 * (cgi/sse_event.c) instead of once per thread.  Every connection is
 * accepted at once, even past capacity, so nobody waits unanswered in a
 * listen queue: past SSE_MAX_STREAMS (or when no inotify watch can be
 * had) the answer is 503 with Retry-After, the contract's JSON error,
 * and the page polls instead.  Blocking work in the loop is limited to
 * reading a batch's small state files once per change (cgi/batch.c
 * caches the summary by seq, shared with the status endpoint's code).
 *
 * A stream sleeps until inotify says its batch's state/ changed (a hint:
 * state/seq is read and compared, and an IN_Q_OVERFLOW looks at every
 * watched batch), so an idle stream costs nothing but its heartbeat,
 * every SSE_HEARTBEAT_MS without other events.  The watch is taken before
 * the batch is first read, so no change between the two is missed.
 *
 * Resume: "Last-Event-ID: k" means "I have every change up to k" (event
 * ids are status seqs, sse_event.c); on reconnect each file whose seq is
 * above k is sent (its latest state), or everything when k is not a
 * number we gave out.  "?since=k" says the same for a new EventSource
 * (the page read the status object, whose seq is k); the header wins,
 * since the browser sends it on its own reconnects.  "?timeout=N" (1 ..
 * 86400, as the earlier service had it) ends the stream after N seconds
 * with a connection_timeout event.
 *
 * lighttpd closes our connection when its client goes away, which we see
 * as end of file at once (we always read); heartbeats catch the rest.
 * A connection whose output backs up past FC_OUT_MAX is dropped (its
 * client reconnects with Last-Event-ID and loses nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgi.h"
#include "sse.h"

#define RETRY_AFTER_S 10
#define TIMEOUT_MAX_S 86400
/* Descriptors kept beyond the streams: answers past capacity, reads. */
#define FD_SPARE 256
#define NEVENTS 512
#define RENDER_SLOTS 4

static enum kind listen_tag = K_LISTEN, inotify_tag = K_INOTIFY;
static int spare_fd = -1, max_streams;
static long long heartbeat_ms;

/*
 * The seq the client already has: Last-Event-ID, else ?since=, when it is
 * a number we gave out (at most the batch's seq); else 0, everything.
 */
static long long
resume_point(struct stream *s, const char *query, long long seq)
{
	const char *v = fc_param(&s->fc, "HTTP_LAST_EVENT_ID");
	long long k;

	if (v == NULL || *v == '\0')
		v = cgi_query_value(query, "since");
	k = cgi_query_number(v, 0, seq);
	return k < 0 ? 0 : k;
}

/* The batch id of "/api/v1/status/tasks/<id>/stream" into id; -1 if not. */
static int
path_id(const char *uri, char *id, size_t len)
{
	static const char pre[] = "/api/v1/status/tasks/";
	const char *p, *end = uri + strcspn(uri, "?");

	if (strncmp(uri, pre, sizeof(pre) - 1) != 0)
		return -1;
	p = uri + sizeof(pre) - 1;
	if (end - p < 8 || strncmp(end - 7, "/stream", 7) != 0)
		return -1;
	if (memchr(p, '/', (size_t)(end - 7 - p)) != NULL)
		return -1;
	return cgi_unescape(id, len, p, (size_t)(end - 7 - p));
}

/* The first answer: headers, what the client lacks, then wait for more. */
static void
open_stream(struct stream *s, const char *query, long long timeout_s)
{
	struct sbuf b = {0};
	long long seq;
	json_t *sum;
	int rc;

	s->w = sse_watch_get(s->id);
	if (s->w == NULL) {
		if (errno == ENOENT)
			reply_error(s, 404, "TASK_NOT_FOUND", 0,
			    "There is no upload with this id; it may have expired.");
		else
			reply_error(s, 503, "STREAM_UNAVAILABLE", RETRY_AFTER_S,
			    "Live progress cannot be watched right now (%s); poll the status instead.",
			    strerror(errno));
		return;
	}
	sum = batch_summary(s->id, s->base);
	if (sum == NULL) {
		int e = errno;

		sse_watch_put(s->w);
		s->w = NULL;
		if (e == ENOENT || e == ENOTDIR)
			reply_error(s, 404, "TASK_NOT_FOUND", 0,
			    "There is no upload with this id; it may have expired.");
		else
			reply_error(s, 500, "INTERNAL_ERROR", 0,
			    "The upload's data could not be read (%s).",
			    strerror(e));
		return;
	}
	/* A slot from here on: unslot() gives it back. */
	s->streaming = 1;
	loop.nstreams++;
	list_insert(&s->w->streams, s->w->streams.tail, s, L_BATCH);
	list_insert(&loop.hb, loop.hb.tail, s, L_HB);
	if (timeout_s > 0) {
		struct stream *pos = loop.to.tail;

		s->timeout_s = (int)timeout_s;
		s->deadline = spool_now_ms() + timeout_s * 1000;
		while (pos != NULL && pos->deadline > s->deadline)
			pos = pos->l[L_TO].prev;
		list_insert(&loop.to, pos, s, L_TO);
	}
	seq = json_integer_value(json_object_get(sum, "seq"));
	s->sent = resume_point(s, query, seq);
	s->seen = seq;
	rc =
	    stream_head(&b, s, 200, "text/event-stream; charset=utf-8") == -1 ||
	        sbuf_printf(&b,
	            "Cache-Control: no-cache, no-transform\r\n"
	            "X-Accel-Buffering: no\r\n\r\nretry: 2000\n") == -1
	    ? -1
	    : 0;
	/* A resumed client with nothing missed still gets the progress. */
	if (rc == 0 && s->sent == seq &&
	    !json_is_true(json_object_get(sum, "finished")))
		rc = sse_progress(&b, s->id, s->sent, sum);
	if (rc == 0)
		rc = sse_changes(&b, s->id, s->base, sum, &s->sent);
	json_decref(sum);
	if (rc == -1 || stream_write(s, b.p, b.len) == -1) {
		sbuf_free(&b);
		conn_close(s);
		return;
	}
	sbuf_free(&b);
	if (rc == 1)
		stream_end(s);
}

/*
 * At capacity: find the slots of clients that left.  lighttpd notices a
 * client has gone only when it next writes to it (then it closes our
 * connection and the slot is free), so without this a departed client
 * holds its slot until its next heartbeat.  A comment line, which
 * EventSource ignores, makes lighttpd write to every client; at most
 * once a second, so a crowd of refused streams costs little.
 */
static void
sweep(void)
{
	static long long last;
	long long now = spool_now_ms();
	struct stream *s, *next;

	if (now - last < 1000)
		return;
	last = now;
	for (s = loop.hb.head; s != NULL; s = next) {
		next = s->l[L_HB].next;
		if (fc_write(&s->fc, ":\n", 2) == -1)
			conn_close(s);
		else
			conn_out(s);
	}
}

static const char *
stream_param(void *fc, const char *name)
{
	return fc_param(fc, name);
}

/* The request's params are in: answer it, or start the stream. */
static void
start(struct stream *s)
{
	const char *method = fc_param(&s->fc, "REQUEST_METHOD");
	const char *uri = fc_param(&s->fc, "REQUEST_URI");
	const char *query;
	long long timeout_s = 0;

	cgi_url_base_of(stream_param, &s->fc, s->base, sizeof(s->base));
	if (uri == NULL || path_id(uri, s->id, sizeof(s->id)) == -1) {
		reply_error(s, 404, "NOT_FOUND", 0,
		    "There is nothing at this address.");
		return;
	}
	query = strchr(uri, '?') != NULL ? strchr(uri, '?') + 1 : "";
	if (method != NULL && strcmp(method, "OPTIONS") == 0) {
		preflight(s);
		return;
	}
	if (method == NULL || strcmp(method, "GET") != 0) {
		reply_error(s, 405, "METHOD_NOT_ALLOWED", 0,
		    "Use GET for this address.");
		return;
	}
	if (!spool_id_valid(s->id)) {
		reply_error(s, 404, "TASK_NOT_FOUND", 0,
		    "There is no upload with this id.");
		return;
	}
	if (cgi_query_value(query, "timeout") != NULL) {
		timeout_s = cgi_query_number(
		    cgi_query_value(query, "timeout"), 1, TIMEOUT_MAX_S);
		if (timeout_s < 0) {
			reply_error(s, 400, "INVALID_PARAMETER", 0,
			    "timeout must be a whole number of seconds from 1 to %d.",
			    TIMEOUT_MAX_S);
			return;
		}
	}
	if (loop.nstreams >= max_streams) {
		sweep();
		reply_error(s, 503, "TOO_MANY_STREAMS", RETRY_AFTER_S,
		    "The server is watching as many uploads as it can (%d); poll the status, or try the stream again in %d s.",
		    max_streams, RETRY_AFTER_S);
		return;
	}
	open_stream(s, query, timeout_s);
}

/*
 * A rendering of one change from one starting seq, kept for the other
 * streams of the batch at that point (nearly all of them).
 */
struct render {
	long long from, to;
	const char *base; /* a stream's: streams are freed after the round */
	int rc;
	struct sbuf text;
};

/* Bring the streams of w up to date with its batch. */
static void
changed(struct sse_watch *w, void *arg)
{
	struct render r[RENDER_SLOTS];
	struct stream *s, *next;
	long long seq, sumseq;
	json_t *sum = NULL;
	int nr = 0, i;

	(void)arg;
	seq = w->wd < 0 ? -1 : spool_seq_get(&cgi.sp, w->id);
	if (seq != -1) {
		for (s = w->streams.head; s != NULL; s = s->l[L_BATCH].next)
			if (s->seen != seq)
				break;
		if (s == NULL)
			return; /* nothing new: a status without its seq yet */
		sum = batch_summary(w->id, w->streams.head->base);
	}
	if (sum == NULL) {
		const char *why = seq == -1
		    ? "The upload's data is no longer available on the server."
		    : "The upload's data could not be read.";

		for (s = w->streams.head; s != NULL; s = next) {
			next = s->l[L_BATCH].next;
			task_failed(s, why);
		}
		return;
	}
	sumseq = json_integer_value(json_object_get(sum, "seq"));
	memset(r, 0, sizeof(r));
	for (s = w->streams.head; s != NULL; s = next) {
		struct render one = {0}, *p = NULL;

		next = s->l[L_BATCH].next;
		if (s->seen == sumseq)
			continue;
		for (i = 0; i < nr; i++)
			if (r[i].from == s->sent &&
			    strcmp(r[i].base, s->base) == 0)
				p = &r[i];
		if (p == NULL) {
			p = nr < RENDER_SLOTS ? &r[nr++] : &one;
			p->from = p->to = s->sent;
			p->base = s->base;
			p->rc =
			    sse_changes(&p->text, w->id, s->base, sum, &p->to);
		}
		s->seen = sumseq;
		if (p->rc == -1) {
			conn_close(s);
		} else if (stream_write(s, p->text.p, p->text.len) == 0) {
			s->sent = p->to;
			if (p->rc == 1)
				stream_end(s);
		}
		sbuf_free(&one.text);
	}
	for (i = 0; i < nr; i++)
		sbuf_free(&r[i].text);
	json_decref(sum);
}

/* ms until the next heartbeat or timeout; -1 when none is due. */
static int
next_timer(void)
{
	long long now = spool_now_ms(), t = -1;

	if (loop.hb.head != NULL)
		t = loop.hb.head->last_write + heartbeat_ms;
	if (loop.to.head != NULL && (t == -1 || loop.to.head->deadline < t))
		t = loop.to.head->deadline;
	if (t == -1)
		return -1;
	return t <= now ? 0 : (int)(t - now > 60000 ? 60000 : t - now);
}

static void
run_timers(void)
{
	long long now = spool_now_ms();

	while (loop.to.head != NULL && loop.to.head->deadline <= now) {
		struct stream *s = loop.to.head;
		char msg[128];

		snprintf(msg, sizeof(msg),
		    "The stream ended after %d s, as asked (?timeout=%d).",
		    s->timeout_s, s->timeout_s);
		stream_event(s, "connection_timeout",
		    json_pack("{s:s, s:s, s:i}", "status", "timeout", "message",
		        msg, "timeout", s->timeout_s),
		    1);
		if (loop.to.head == s)
			conn_close(s); /* still listed: could not end it */
	}
	while (loop.hb.head != NULL &&
	    loop.hb.head->last_write + heartbeat_ms <= now) {
		struct stream *s = loop.hb.head;

		stream_event(s, "heartbeat",
		    json_pack("{s:s}", "status", "heartbeat"), 0);
		/* Sent, it went to the tail; still due means it was not. */
		if (loop.hb.head == s && s->last_write + heartbeat_ms <= now)
			conn_close(s);
	}
}

static void
accept_all(int lfd)
{
	for (;;) {
		struct epoll_event ev;
		struct stream *s;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    spare_fd != -1) {
				/* Out of descriptors: refuse one, not all. */
				close(spare_fd);
				fd = accept(lfd, NULL, NULL);
				if (fd != -1)
					close(fd);
				spare_fd =
				    open("/dev/null", O_RDONLY | O_CLOEXEC);
				log_warnx(
				    "out of file descriptors: a connection was refused");
			}
			return;
		}
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			close(fd);
			continue;
		}
		s->kind = K_CONN;
		s->fc.fd = fd;
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = s;
		if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(s);
		}
	}
}

static void
conn_event(struct stream *s, unsigned events)
{
	if (s->dead)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		int rc = fc_read(&s->fc);

		if (rc == -1) {
			conn_close(s);
			return;
		}
		if (rc == 1)
			start(s);
	}
	if (!s->dead && (events & EPOLLOUT)) {
		if (fc_flush(&s->fc) == -1) {
			conn_close(s);
			return;
		}
		conn_out(s);
	}
}

/* The descriptor limit raised to its hard maximum; the capacity fitted. */
static void
fit_capacity(void)
{
	struct rlimit rl;

	max_streams = cgi.cfg.sse_max_streams;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)max_streams + FD_SPARE > rl.rlim_cur) {
		int fit = rl.rlim_cur > 2 * FD_SPARE
		    ? (int)(rl.rlim_cur - FD_SPARE)
		    : (int)(rl.rlim_cur / 2);

		log_warnx(
		    "SSE_MAX_STREAMS=%d does not fit in %lu open files: %d streams",
		    max_streams, (unsigned long)rl.rlim_cur, fit);
		max_streams = fit;
	}
}

int
main(void)
{
	struct epoll_event ev, evs[NEVENTS];
	int rc, ifd;

	rc = cgi_setup("i2m-sse");
	if (rc != 0)
		return rc;
	signal(SIGTERM, SIG_DFL);
	fit_capacity();
	heartbeat_ms = cgi.cfg.sse_heartbeat_ms;
	loop.ep = epoll_create1(EPOLL_CLOEXEC);
	ifd = sse_watch_init();
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (loop.ep == -1 || ifd == -1 ||
	    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) == -1) {
		log_warn("cannot set up the event loop");
		return 111;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &listen_tag;
	if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, 0, &ev) == -1) {
		log_warn("fd 0 is not the FastCGI socket");
		return 111;
	}
	ev.data.ptr = &inotify_tag;
	if (epoll_ctl(loop.ep, EPOLL_CTL_ADD, ifd, &ev) == -1)
		return 111;
	log_info("up to %d streams, heartbeat every %lld ms", max_streams,
	    heartbeat_ms);
	for (;;) {
		int n = epoll_wait(loop.ep, evs, NEVENTS, next_timer()), i;

		if (n == -1 && errno != EINTR) {
			log_warn("epoll_wait");
			return 111;
		}
		for (i = 0; i < n; i++) {
			enum kind *k = evs[i].data.ptr;

			if (*k == K_LISTEN)
				accept_all(0);
			else if (*k == K_INOTIFY)
				sse_watch_read(changed, NULL);
			else
				conn_event(
				    (struct stream *)(void *)k, evs[i].events);
		}
		run_timers();
		while (loop.zombies != NULL) {
			struct stream *z = loop.zombies;

			loop.zombies = z->zombie;
			free(z);
		}
	}
}
