/*
 * sse_bench.c: change -> event latency of the live progress streams
 * (bench/api.sh, BENCHMARKS.md "Live progress").
 *
 *   sse_bench PORT ID SINCE N CHANGES HOLD_S [PIDS]
 *
 * Opens N streams to 127.0.0.1:PORT on batch ID (?since=SINCE, so the
 * first event is a task_progress), one epoll loop, no thread.  Once every
 * stream has had its first event it holds them idle for HOLD_S seconds
 * and reports the CPU time the processes PIDS ("p1,p2") used meanwhile,
 * and their RSS.  Then CHANGES times: the status of file 0 is updated
 * through the spool library (SPOOL_DIR), as the daemon would, and the
 * time from just before the write to the file_update carrying the new
 * seq is taken on every stream.  Prints one JSON object.  Each stream is
 * a descriptor here, so N is bounded by this process's open-file limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "spool.h"

struct client {
	int fd;
	char buf[8192];
	size_t len;
	long long ev_id; /* id: of the event being read */
	int is_update; /* it is a file_update */
	int ready;
	long long want; /* seq awaited, 0 none */
};

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Sum of utime+stime (clock ticks) and VmRSS (kB) over pids. */
static void
usage_of(const char *pids, long long *ticks, long long *rss)
{
	char list[512], *save = NULL, *p;

	*ticks = *rss = 0;
	snprintf(list, sizeof(list), "%s", pids != NULL ? pids : "");
	for (p = strtok_r(list, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		char path[64], line[4096];
		unsigned long ut = 0, st = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%s/stat", p);
		f = fopen(path, "r");
		if (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			char *q = strrchr(line, ')');

			if (q != NULL &&
			    sscanf(q + 2,
			        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			        &ut, &st) == 2)
				*ticks += (long long)(ut + st);
		}
		if (f != NULL)
			fclose(f);
		snprintf(path, sizeof(path), "/proc/%s/status", p);
		f = fopen(path, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			long long kb;

			if (sscanf(line, "VmRSS: %lld", &kb) == 1)
				*rss += kb;
		}
		if (f != NULL)
			fclose(f);
	}
}

/* Parse whole lines; the number of awaited file_updates that arrived. */
static int
lines(struct client *c)
{
	int got = 0;
	char *nl;

	while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t l = (size_t)(nl - c->buf) + 1;

		*nl = '\0';
		if (strncmp(c->buf, "id: ", 4) == 0)
			c->ev_id = atoll(c->buf + 4);
		else if (strncmp(c->buf, "event: ", 7) == 0)
			c->is_update = strcmp(c->buf + 7, "file_update") == 0;
		else if (strncmp(c->buf, "data: ", 6) == 0) {
			c->ready = 1;
			if (c->is_update && c->want > 0 &&
			    c->ev_id >= c->want) {
				c->want = 0;
				got++;
			}
		}
		memmove(c->buf, c->buf + l, c->len - l);
		c->len -= l;
	}
	return got;
}

/* Run the loop until *count reaches goal or ms pass; arrival times out. */
static void
pump(int ep, int *count, int goal, int ms, long long *arrive)
{
	struct epoll_event evs[256];
	long long end = now_us() + (long long)ms * 1000;

	while (*count < goal && now_us() < end) {
		int k = epoll_wait(ep, evs, 256, 100), i;

		for (i = 0; i < k; i++) {
			struct client *c = evs[i].data.ptr;
			int was = c->ready;
			ssize_t r = read(c->fd, c->buf + c->len,
			    sizeof(c->buf) - 1 - c->len);

			if (r <= 0) {
				if (r == 0 || errno != EAGAIN) {
					epoll_ctl(
					    ep, EPOLL_CTL_DEL, c->fd, NULL);
					close(c->fd);
				}
				continue;
			}
			c->len += (size_t)r;
			if (arrive != NULL) {
				int g = lines(c);

				if (g > 0)
					arrive[(*count)++] = now_us();
			} else {
				lines(c);
				if (!was && c->ready)
					(*count)++;
			}
			if (c->len == sizeof(c->buf) - 1)
				c->len = 0; /* a line this long is not ours */
		}
	}
}

/* n streams of batch id opened on 127.0.0.1:port, added to ep; 0 or -1. */
static int
open_streams(struct client *cl, int n, int port, const char *id,
    const char *since, int ep, int *ready)
{
	struct sockaddr_in sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < n; i++) {
		char req[256];
		struct epoll_event ev;
		int len;

		cl[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (cl[i].fd == -1 ||
		    connect(cl[i].fd, (struct sockaddr *)&sa, sizeof(sa)) ==
		        -1) {
			fprintf(stderr, "sse_bench: connect %d: %s\n", i,
			    strerror(errno));
			return -1;
		}
		len = snprintf(req, sizeof(req),
		    "GET /api/v1/status/tasks/%s/stream?since=%s HTTP/1.1\r\n"
		    "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
		    id, since);
		if (write(cl[i].fd, req, (size_t)len) != len)
			return -1;
		fcntl(cl[i].fd, F_SETFL, O_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.ptr = &cl[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
		/* Keep the server's accept queue short while opening. */
		if (i % 500 == 499)
			pump(ep, ready, i + 1, 30000, NULL);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct spool sp;
	struct client *cl;
	long long *lat, *arrive, t0, ticks0, ticks1, rss, hz;
	int port, n, changes, hold, ep, i, ready = 0, nlat = 0, k;
	const char *id, *since, *pids;

	if (argc < 7) {
		fprintf(stderr,
		    "usage: sse_bench PORT ID SINCE N CHANGES HOLD_S [PIDS]\n");
		return 2;
	}
	port = atoi(argv[1]);
	id = argv[2];
	since = argv[3];
	n = atoi(argv[4]);
	changes = atoi(argv[5]);
	hold = atoi(argv[6]);
	pids = argc > 7 ? argv[7] : "";
	hz = sysconf(_SC_CLK_TCK);
	if (getenv("SPOOL_DIR") == NULL ||
	    spool_open(&sp, getenv("SPOOL_DIR"), 0) == -1) {
		fprintf(
		    stderr, "sse_bench: cannot open the spool (SPOOL_DIR)\n");
		return 1;
	}
	cl = calloc((size_t)n, sizeof(*cl));
	lat = calloc((size_t)n * (size_t)(changes + 1), sizeof(*lat));
	arrive = calloc((size_t)n + 1, sizeof(*arrive));
	ep = epoll_create1(0);
	if (cl == NULL || lat == NULL || arrive == NULL || ep == -1)
		return 1;
	t0 = now_us();
	if (open_streams(cl, n, port, id, since, ep, &ready) == -1) {
		free(lat);
		free(arrive);
		free(cl);
		return 1;
	}
	pump(ep, &ready, n, 120000, NULL);
	printf("{\"streams\": %d, \"ready\": %d, \"open_all_ms\": %lld", n,
	    ready, (now_us() - t0) / 1000);
	fflush(stdout);
	usage_of(pids, &ticks0, &rss);
	t0 = now_us();
	{
		int dummy = 0;

		/* Idle: read heartbeats, measure what the server spends. */
		pump(ep, &dummy, 1 << 30, hold * 1000, NULL);
	}
	usage_of(pids, &ticks1, &rss);
	printf(", \"idle_s\": %.1f, \"idle_cpu_pct\": %.2f, \"rss_kb\": %lld",
	    (double)(now_us() - t0) / 1e6,
	    hold > 0 ? 100.0 * (double)(ticks1 - ticks0) / (double)hz /
	            ((double)(now_us() - t0) / 1e6)
	             : 0.0,
	    rss);
	for (k = 1; k <= changes; k++) {
		json_t *patch = json_pack("{s:i, s:s}", "progress", k % 100,
		    "message", "benchmark change");
		long long seq;
		int got = 0;

		for (i = 0; i < n; i++)
			cl[i].want = 1LL << 62;
		t0 = now_us();
		seq = spool_status_update(&sp, id, 0, patch, -1);
		json_decref(patch);
		if (seq == -1) {
			fprintf(stderr, "sse_bench: status update: %s\n",
			    strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++)
			cl[i].want = seq;
		pump(ep, &got, ready, 30000, arrive);
		for (i = 0; i < got; i++)
			lat[nlat++] = arrive[i] - t0;
		usleep(200000);
	}
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_ll);
	printf(
	    ", \"changes\": %d, \"samples\": %d, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f}\n",
	    changes, nlat, nlat ? (double)lat[nlat / 2] / 1000 : -1.0,
	    nlat ? (double)lat[(nlat * 99) / 100] / 1000 : -1.0,
	    nlat ? (double)lat[nlat - 1] / 1000 : -1.0);
	spool_close(&sp);
	return 0;
}
