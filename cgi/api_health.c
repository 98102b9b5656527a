/*
 * api_health.c: how the service is and what it offers: liveness
 * (health, liveness), readiness (the spool writable, a live daemon, disk
 * above the floor, FAL accepting the key) and the same checks as the
 * detailed health's components (one function reads them: api_checks_read),
 * Prometheus metrics, and the model list.
 * Daemons are read through their heartbeats in the spool
 * (spool/daemons.c).  Readiness reads only the daemons' heartbeats and
 * the disk: O(daemons), never a batch.  Metrics walk every batch, so
 * their text is kept for METRICS_TTL_MS per process: one walk per period
 * whatever the number of scrapers, and while one thread renews it the
 * others answer the previous text at once (a scrape never waits behind a
 * walk, except the very first of the process), so scrapes cannot hold
 * the threads that status polls need.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

void
api_health(struct req *r, const char *const *arg)
{
	char now[48];

	(void)arg;
	api_iso_now(now, sizeof(now));
	cgi_json(r, 200,
	    json_pack("{s:s, s:s, s:s, s:s}", "status", "healthy", "service",
	        "image2model", "version", CGI_VERSION, "timestamp", now));
}

/*
 * Number of live daemons (spool_daemons_alive), their heartbeats appended
 * to beats.  fal_why gets a sentence when a live daemon's heartbeat says
 * that FAL refused the key ("fal_auth":"rejected") or the account
 * ("locked", FAL's reason in "fal_message"), else "".
 */
static int
daemons_alive(json_t *beats, char *fal_why, size_t len)
{
	json_t *b;
	size_t i;
	int alive;

	fal_why[0] = '\0';
	alive = spool_daemons_alive(&cgi.sp, beats);
	json_array_foreach(beats, i, b) {
		const char *fa =
		    json_string_value(json_object_get(b, "fal_auth"));
		const char *fm =
		    json_string_value(json_object_get(b, "fal_message"));

		if (fa != NULL && strcmp(fa, "rejected") == 0)
			snprintf(fal_why, len,
			    "FAL rejected the API key; check FAL_KEY.");
		else if (fa != NULL && strcmp(fa, "locked") == 0 &&
		    fal_why[0] == '\0')
			snprintf(fal_why, len,
			    "FAL refuses new work for this account: %s",
			    fm != NULL ? fm : "no reason given");
	}
	return alive;
}

void
api_checks_read(struct api_checks *c)
{
	c->beats = json_array();
	c->alive = daemons_alive(c->beats, c->fal_why, sizeof(c->fal_why));
	c->writable = spool_writable(&cgi.sp);
	c->free_mb = spool_free_space_mb(&cgi.sp);
	c->disk_ok = c->free_mb >= cgi.cfg.disk_floor_mb;
}

const char *
api_checks_status(const struct api_checks *c)
{
	/* FAL alone refusing leaves the offline model working. */
	if (!c->writable || c->alive == 0 || !c->disk_ok)
		return "unhealthy";
	return c->fal_why[0] != '\0' ? "degraded" : "healthy";
}

void
api_checks_free(struct api_checks *c)
{
	json_decref(c->beats);
	c->beats = NULL;
}

void
api_readiness(struct req *r, const char *const *arg)
{
	struct api_checks c;
	int fal_rejected;
	json_t *checks, *failing;
	char now[48];

	(void)arg;
	api_checks_read(&c);
	fal_rejected = c.fal_why[0] != '\0';
	api_iso_now(now, sizeof(now));
	/* clang-format off */
	checks = json_pack("{s:{s:b}, s:{s:b, s:i}, s:{s:b, s:I, s:I}, s:{s:b}}",
	    "spool", "ok", c.writable,
	    "daemon", "ok", c.alive > 0, "alive", c.alive,
	    "disk", "ok", c.disk_ok, "free_mb", (json_int_t)c.free_mb, "floor_mb", (json_int_t)cgi.cfg.disk_floor_mb,
	    "fal", "ok", !fal_rejected);
	/* clang-format on */
	if (c.writable && c.alive > 0 && c.disk_ok && !fal_rejected) {
		cgi_json(r, 200,
		    json_pack("{s:s, s:s, s:o}", "status", "ready", "timestamp",
		        now, "checks", checks));
		goto out;
	}
	failing = json_array();
	if (!c.writable)
		json_array_append_new(failing, json_string("spool"));
	if (c.alive == 0)
		json_array_append_new(failing, json_string("daemon"));
	if (!c.disk_ok)
		json_array_append_new(failing, json_string("disk"));
	if (fal_rejected)
		json_array_append_new(failing, json_string("fal"));
	cgi_json(r, 503,
	    json_pack("{s:b, s:s, s:s, s:i, s:s, s:s, s:O, s:o, s:{s:o}}",
	        "error", 1, "error_code", "NOT_READY", "message",
	        !c.writable        ? "The spool is not writable."
	            : c.alive == 0 ? "No processing daemon is running."
	            : !c.disk_ok   ? "Disk space is below the configured floor."
	                           : c.fal_why,
	        "status_code", 503, "status", "not_ready", "timestamp", now,
	        "failing", failing, "checks", checks, "details", "failing",
	        failing));
out:
	api_checks_free(&c);
}

/* One component of the detailed health: {"status", "message"}. */
static json_t *component(const char *status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static json_t *
component(const char *status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:s}", "status", status, "message", msg);
}

/*
 * The earlier service's detailed health: readiness's checks (the same
 * reads, so the same O(daemons) cost) as components with a status and a
 * sentence each, and the overall api_checks_status.  Always 200: it is a
 * report; readiness is the probe that fails.
 */
void
api_health_detailed(struct req *r, const char *const *arg)
{
	struct api_checks c;
	json_t *comp;
	char now[48];

	(void)arg;
	api_checks_read(&c);
	api_iso_now(now, sizeof(now));
	comp = json_pack("{s:o, s:o, s:o, s:o}", "spool",
	    c.writable
	        ? component("healthy", "The spool is writable.")
	        : component("unhealthy",
	              "The spool is not writable; check SPOOL_DIR's owner and free space."),
	    "daemon",
	    c.alive > 0
	        ? component("healthy", "%d processing daemon%s running.",
	              c.alive, c.alive == 1 ? " is" : "s are")
	        : component("unhealthy",
	              "No processing daemon is running; start i2m-daemon."),
	    "disk",
	    c.disk_ok
	        ? component("healthy", "%lld MB free (floor %lld MB).",
	              c.free_mb, cgi.cfg.disk_floor_mb)
	        : component("unhealthy",
	              "%lld MB free, below the floor of %lld MB: uploads are refused until space is freed.",
	              c.free_mb, cgi.cfg.disk_floor_mb),
	    "fal",
	    c.fal_why[0] != '\0' ? component("unhealthy", "%s", c.fal_why)
	        : cgi.cfg.fal_key[0] == '\0'
	        ? component("healthy",
	              "No FAL_KEY is set; the offline model makes every model.")
	        : component("healthy",
	              "FAL_KEY is set and no daemon reports FAL refusing it."));
	json_object_set_new(
	    json_object_get(comp, "daemon"), "alive", json_integer(c.alive));
	json_object_set_new(
	    json_object_get(comp, "disk"), "free_mb", json_integer(c.free_mb));
	json_object_set_new(json_object_get(comp, "disk"), "floor_mb",
	    json_integer(cgi.cfg.disk_floor_mb));
	cgi_json(r, 200,
	    json_pack("{s:s, s:s, s:s, s:s, s:o}", "status",
	        api_checks_status(&c), "service", "image2model", "version",
	        CGI_VERSION, "timestamp", now, "components", comp));
	api_checks_free(&c);
}

void
api_liveness(struct req *r, const char *const *arg)
{
	(void)arg;
	/* Only that this process answers: no spool read, so a probe of it
	 * never fails because of a slow disk. */
	cgi_json(r, 200, json_pack("{s:s}", "status", "alive"));
}

void
api_models(struct req *r, const char *const *arg)
{
	json_t *arr = models_available_json(&cgi.cfg);

	(void)arg;
	/* The limits too, so the upload page checks what the server checks,
	 * and how long batches are kept (0 = kept until removed). */
	cgi_json(r, 200,
	    json_pack("{s:o, s:s, s:{s:i, s:I, s:i}}", "models",
	        arr != NULL ? arr : json_array(), "default",
	        models_default(&cgi.cfg), "limits", "max_files",
	        cgi.cfg.max_files, "max_file_bytes",
	        (json_int_t)cgi.cfg.max_file_bytes, "retention_hours",
	        cgi.cfg.retention_hours));
}

struct metrics {
	long long by_state[FS_NSTATES];
	long long batches, files, retries, lat_count;
	double lat_sum;
	long long lat_bucket[6]; /* <=1, 5, 30, 60, 300, +Inf s */
};

static int
metrics_batch(const char *id, void *arg)
{
	struct metrics *mx = arg;
	json_t *s = spool_batch_summary(&cgi.sp, id), *f;
	static const double bounds[5] = {1, 5, 30, 60, 300};
	size_t i;

	if (s == NULL)
		return 0;
	mx->batches++;
	json_array_foreach(json_object_get(s, "files"), i, f) {
		int st = file_state_parse(
		    json_string_value(json_object_get(f, "status")));
		long long a = json_integer_value(json_object_get(f, "attempt"));
		long long t0 =
		    json_integer_value(json_object_get(f, "started"));
		long long t1 =
		    json_integer_value(json_object_get(f, "finished"));

		mx->files++;
		mx->by_state[st >= 0 ? st : FS_FAILED]++;
		if (a > 1)
			mx->retries += a - 1;
		if (st == FS_COMPLETED && t0 > 0 && t1 >= t0) {
			double sec = (double)(t1 - t0) / 1000.0;
			int b;

			mx->lat_sum += sec;
			mx->lat_count++;
			for (b = 0; b < 5 && sec > bounds[b]; b++)
				;
			mx->lat_bucket[b]++;
		}
	}
	json_decref(s);
	return 0;
}

/* The whole metrics text, from a walk of every batch; caller frees. */
static char *
metrics_render(void)
{
	static const char *const les[6] = {"1", "5", "30", "60", "300", "+Inf"};
	struct metrics mx;
	char why[400], *text = NULL;
	size_t len = 0;
	FILE *o;
	int i;
	long long cum = 0;

	o = open_memstream(&text, &len);
	if (o == NULL)
		return NULL;
	memset(&mx, 0, sizeof(mx));
	spool_batch_foreach(&cgi.sp, metrics_batch, &mx);
	fputs("# HELP i2m_files Files in the spool by state.\n"
	      "# TYPE i2m_files gauge\n",
	    o);
	for (i = 0; i < FS_NSTATES; i++)
		fprintf(o, "i2m_files{state=\"%s\"} %lld\n",
		    file_state_name((enum file_state)i), mx.by_state[i]);
	fprintf(o,
	    "# HELP i2m_jobs_failed Files that failed.\n"
	    "# TYPE i2m_jobs_failed gauge\ni2m_jobs_failed %lld\n",
	    mx.by_state[FS_FAILED]);
	fprintf(o,
	    "# HELP i2m_queue_depth Files waiting in q/new.\n"
	    "# TYPE i2m_queue_depth gauge\ni2m_queue_depth %d\n",
	    spool_queue_depth(&cgi.sp));
	fprintf(o,
	    "# HELP i2m_uploads Uploads (batches) in the spool.\n"
	    "# TYPE i2m_uploads gauge\ni2m_uploads %lld\n",
	    mx.batches);
	fprintf(o,
	    "# HELP i2m_retries Extra attempts over all files.\n"
	    "# TYPE i2m_retries gauge\ni2m_retries %lld\n",
	    mx.retries);
	fputs(
	    "# HELP i2m_processing_seconds Time from start to model ready (provider latency).\n"
	    "# TYPE i2m_processing_seconds histogram\n",
	    o);
	for (i = 0; i < 6; i++) {
		cum += mx.lat_bucket[i];
		fprintf(o, "i2m_processing_seconds_bucket{le=\"%s\"} %lld\n",
		    les[i], cum);
	}
	fprintf(o,
	    "i2m_processing_seconds_sum %.3f\n"
	    "i2m_processing_seconds_count %lld\n",
	    mx.lat_sum, mx.lat_count);
	fprintf(o,
	    "# HELP i2m_spool_bytes Bytes stored in the spool.\n"
	    "# TYPE i2m_spool_bytes gauge\ni2m_spool_bytes %lld\n",
	    spool_batches_bytes(&cgi.sp));
	fprintf(o,
	    "# HELP i2m_spool_free_bytes Free bytes on the spool's file system.\n# TYPE i2m_spool_free_bytes gauge\n"
	    "i2m_spool_free_bytes %lld\n",
	    spool_free_space_mb(&cgi.sp) * 1024 * 1024);
	fprintf(o,
	    "# HELP i2m_daemons_alive Daemons with a fresh heartbeat.\n# TYPE i2m_daemons_alive gauge\n"
	    "i2m_daemons_alive %d\n",
	    daemons_alive(NULL, why, sizeof(why)));
	if (fclose(o) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

#define METRICS_TTL_MS 2000

static pthread_mutex_t metrics_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t metrics_cv = PTHREAD_COND_INITIALIZER;
static char *metrics_text; /* the last rendering, NULL before the first */
static long long metrics_at; /* when it was made (ms) */
static int metrics_busy; /* a thread is rendering */

void
api_metrics(struct req *r, const char *const *arg)
{
	char *text = NULL, *fresh;
	int render = 0;

	(void)arg;
	pthread_mutex_lock(&metrics_mu);
	if (metrics_text == NULL ||
	    spool_now_ms() - metrics_at >= METRICS_TTL_MS) {
		if (!metrics_busy) {
			metrics_busy = 1;
			render = 1;
		} else
			while (metrics_text == NULL && metrics_busy)
				pthread_cond_wait(&metrics_cv, &metrics_mu);
	}
	if (!render) {
		text = metrics_text != NULL ? strdup(metrics_text) : NULL;
		pthread_mutex_unlock(&metrics_mu);
	} else {
		pthread_mutex_unlock(&metrics_mu);
		fresh = metrics_render();
		pthread_mutex_lock(&metrics_mu);
		if (fresh != NULL) {
			free(metrics_text);
			metrics_text = fresh;
			metrics_at = spool_now_ms();
		}
		metrics_busy = 0;
		text = metrics_text != NULL ? strdup(metrics_text) : NULL;
		pthread_cond_broadcast(&metrics_cv);
		pthread_mutex_unlock(&metrics_mu);
	}
	if (text == NULL) {
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The metrics could not be gathered; try again.");
		return;
	}
	cgi_begin(r, 200, "text/plain; version=0.0.4; charset=utf-8");
	cgi_header(r, "Cache-Control: no-store");
	cgi_header(r, "Content-Length: %zu", strlen(text));
	cgi_end_headers(r);
	FCGX_PutStr(text, (int)strlen(text), r->fr->out);
	free(text);
}
