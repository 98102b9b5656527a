/*
 * sse_main.c: i2m-sse.fcgi, GET /api/v1/status/tasks/{id}/stream
 * (Server-Sent Events, shared/docs/api.md).
 *
 * One thread per open stream (SSE_THREADS of them), so a stream never
 * holds up anything but itself; lighttpd streams our bytes through
 * (server.stream-response-body = 2 for this path).
 *
 * Event ids are the batch's status sequence numbers (spool/README.md):
 * a file_update carries the seq of the status it reports, and every other
 * event the highest seq sent so far.  Ids therefore never decrease, and
 * "Last-Event-ID: k" means "I have every change up to k": on reconnect we
 * send each file whose seq is above k (its latest state), or everything
 * when k is not a number we gave out.  "?since=k" on the URL says the
 * same for a new EventSource (the page already read the status object,
 * whose seq is k, so the stream does not replay it); the header wins,
 * since the browser sends it on its own reconnects.  A first connection
 * without either gets every file's current state first.
 *
 * The thread polls state/seq every POLL_MS (no inotify per client: the
 * per-user limit is 128) while waiting on the FastCGI socket for
 * POLLRDHUP, so a client that goes away frees its thread at once; a
 * heartbeat every 15 s with a checked FCGX_FFlush catches the rest.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"

#define POLL_MS 50
#define HEARTBEAT_MS 15000

struct stream {
	struct req *r;
	const char *id;
	long long sent; /* highest seq sent */
	long long last_write; /* ms */
	int first; /* "retry:" not yet sent */
};

/* Write one event; -1 when the client is gone. */
static int
emit(struct stream *s, const char *event, long long id, json_t *data)
{
	FCGX_Stream *o = s->r->fr->out;
	char *txt;

	if (data == NULL)
		return 0;
	json_object_set_new(data, "task_id", json_string(s->id));
	json_object_set_new(data, "job_id", json_string(s->id));
	json_object_set_new(data, "batch_id", json_string(s->id));
	json_object_set_new(data, "timestamp", json_integer(spool_now_ms()));
	txt = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(9));
	json_decref(data);
	if (txt == NULL)
		return 0;
	if (s->first) {
		FCGX_PutS("retry: 2000\n", o);
		s->first = 0;
	}
	FCGX_FPrintF(o, "id: %lld\nevent: %s\ndata: %s\n\n", id, event, txt);
	free(txt);
	s->last_write = spool_now_ms();
	return FCGX_GetError(o) != 0 ? -1 : 0;
}

static int
flush(struct stream *s)
{
	return FCGX_FFlush(s->r->fr->out) == -1 ||
	        FCGX_GetError(s->r->fr->out) != 0
	    ? -1
	    : 0;
}

static json_t *
progress_json(json_t *sum)
{
	long long cur = json_integer_value(json_object_get(sum, "current"));
	long long tot = json_integer_value(json_object_get(sum, "total"));
	char msg[96];

	snprintf(msg, sizeof(msg), "%lld of %lld file%s finished", cur, tot,
	    tot == 1 ? "" : "s");
	return json_pack("{s:s, s:O?, s:I, s:I, s:I, s:s, s:O?}", "status",
	    "processing", "progress", json_object_get(sum, "progress"),
	    "current", (json_int_t)cur, "total", (json_int_t)tot, "total_files",
	    (json_int_t)tot, "message", msg, "batch_status",
	    json_object_get(sum, "status"));
}

static int
cmp_seq(const void *a, const void *b)
{
	const long long *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/*
 * Send every file whose seq is above s->sent, in seq order, each followed
 * by task_progress; then task_completed when every file is final.
 * Returns 1 when the stream is over, 0 to go on, -1 when the client left.
 */
static int
send_changes(struct stream *s, json_t *sum)
{
	json_t *names = batch_names(sum),
	       *files = json_object_get(sum, "files"), *f;
	long long(*order)[2] = NULL;
	size_t i, n = 0;
	int rc = -1;

	if (names == NULL)
		return -1;
	order = calloc(json_array_size(files) + 1, sizeof(*order));
	if (order == NULL)
		goto out;
	json_array_foreach(files, i, f) {
		long long seq = json_integer_value(json_object_get(f, "seq"));

		if (seq > s->sent) {
			order[n][0] = seq;
			order[n][1] = (long long)i;
			n++;
		}
	}
	qsort(order, n, sizeof(*order), cmp_seq);
	for (i = 0; i < n; i++) {
		s->sent = order[i][0];
		if (emit(s, "file_update", s->sent,
		        batch_file_json(
		            s->id, sum, names, (size_t)order[i][1])) == -1 ||
		    emit(s, "task_progress", s->sent, progress_json(sum)) == -1)
			goto out;
	}
	if (json_is_true(json_object_get(sum, "finished"))) {
		json_t *res = batch_result_json(s->id, sum, names);

		if (emit(s, "task_completed", s->sent,
		        json_pack("{s:s, s:i, s:o, s:{s:O?, s:O?, s:I}}",
		            "status", "completed", "progress", 100, "result",
		            res != NULL ? res : json_null(), "summary",
		            "total_files", json_object_get(sum, "total"),
		            "successful_files",
		            json_object_get(sum, "successful"), "failed_files",
		            (json_int_t)(json_integer_value(
		                             json_object_get(sum, "failed")) +
		                json_integer_value(
		                    json_object_get(sum, "cancelled"))))) == -1)
			goto out;
		rc = 1;
	} else
		rc = 0;
	if (flush(s) == -1)
		rc = -1;
out:
	free(order);
	json_decref(names);
	return rc;
}

static void
task_failed(struct stream *s, const char *why)
{
	emit(s, "task_failed", s->sent,
	    json_pack("{s:s, s:s, s:s}", "status", "failed", "error", why,
	        "message", why));
	flush(s);
}

/* Wait up to ms for the client to go away; 1 when it did. */
static int
client_gone(struct req *r, int ms)
{
	struct pollfd p = {.fd = r->fr->ipcFd, .events = POLLRDHUP};

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* The value of "since" in the query string, NULL when absent. */
static const char *
query_since(const char *q)
{
	while (q != NULL && *q != '\0') {
		if (strncmp(q, "since=", 6) == 0)
			return q + 6;
		q = strchr(q, '&');
		if (q != NULL)
			q++;
	}
	return NULL;
}

/*
 * The seq the client already has: Last-Event-ID, else ?since=, when it is
 * a number we gave out (at most the batch's seq); else 0, everything.
 */
static long long
resume_point(struct req *r, long long seq)
{
	const char *v = cgi_param(r, "HTTP_LAST_EVENT_ID");
	char *end;
	long long k;

	if (v == NULL || *v == '\0')
		v = query_since(r->query);
	if (v == NULL || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	k = strtoll(v, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '&') || k > seq)
		return 0;
	return k;
}

static void
stream(struct req *r, const char *id)
{
	struct stream s;
	json_t *sum;
	long long seq_seen;
	int rc;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.id = id;
	s.first = 1;
	sum = batch_summary(id);
	if (sum == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			cgi_error(r, 404, "TASK_NOT_FOUND", NULL,
			    "There is no upload with this id; it may have expired.");
		else
			cgi_error(r, 500, "INTERNAL_ERROR", NULL,
			    "The upload's data could not be read (%s).",
			    strerror(errno));
		return;
	}
	s.sent =
	    resume_point(r, json_integer_value(json_object_get(sum, "seq")));
	/* Read the (empty) request body so the socket is quiet until EOF. */
	cgi_drain(r);
	cgi_begin(r, 200, "text/event-stream; charset=utf-8");
	cgi_header(r, "Cache-Control: no-cache, no-transform");
	cgi_header(r, "X-Accel-Buffering: no");
	cgi_end_headers(r);
	seq_seen = json_integer_value(json_object_get(sum, "seq"));
	/* A resumed client with nothing missed still gets the progress. */
	if (s.sent == seq_seen &&
	    !json_is_true(json_object_get(sum, "finished")))
		emit(&s, "task_progress", s.sent, progress_json(sum));
	rc = send_changes(&s, sum);
	json_decref(sum);
	while (rc == 0) {
		long long seq;

		if (client_gone(r, POLL_MS))
			break;
		seq = batch_seq(id);
		if (seq == -1) {
			task_failed(&s,
			    "The upload's data is no longer available on the server.");
			break;
		}
		if (seq != seq_seen) {
			sum = batch_summary(id);
			if (sum == NULL) {
				task_failed(
				    &s, "The upload's data could not be read.");
				break;
			}
			seq_seen = seq;
			rc = send_changes(&s, sum);
			json_decref(sum);
			continue;
		}
		if (spool_now_ms() - s.last_write >= HEARTBEAT_MS) {
			if (emit(&s, "heartbeat", s.sent,
			        json_pack("{s:s}", "status", "heartbeat")) ==
			        -1 ||
			    flush(&s) == -1)
				break;
		}
	}
}

static void
sse(struct req *r)
{
	if (r->nseg != 6 || strcmp(r->seg[0], "api") != 0 ||
	    strcmp(r->seg[1], "v1") != 0 || strcmp(r->seg[2], "status") != 0 ||
	    strcmp(r->seg[3], "tasks") != 0 ||
	    strcmp(r->seg[5], "stream") != 0) {
		cgi_error(r, 404, "NOT_FOUND", NULL,
		    "There is nothing at this address.");
		return;
	}
	if (strcmp(r->method, "GET") != 0) {
		cgi_method_not_allowed(r, "GET");
		return;
	}
	if (!spool_id_valid(r->seg[4])) {
		cgi_error(r, 404, "TASK_NOT_FOUND", NULL,
		    "There is no upload with this id.");
		return;
	}
	stream(r, r->seg[4]);
}

int
main(void)
{
	char err[512];
	struct config c;

	/* cgi_main loads it too; we need SSE_THREADS before the threads. */
	if (config_load(&c, err, sizeof(err)) == -1) {
		log_init("i2m-sse", 0);
		log_warnx("%s", err);
		return 1;
	}
	return cgi_main("i2m-sse", c.sse_threads, sse);
}
