/*
 * api_main.c: i2m-api.fcgi, every /api/ path but uploads and streams
 * (shared/docs/api.md): status polling, cancel, retry, downloads (the
 * batch's list, one file, all.zip), models, health, readiness, metrics.
 *
 * Invariants: an id from the URL passes spool_id_valid() before any path
 * is built from it, and a download name is served only when it is one of
 * the names batch_names() lists for that batch (so "..", encoded or not,
 * is a 404).  Files are never copied through this program: lighttpd sends
 * them itself (X-Sendfile under the spool's batches/ directory); only the
 * zip is written here, streamed by libarchive with no temporary file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "cgi.h"

#define API_THREADS 16
#define HEARTBEAT_FRESH_MS 30000

static int
seg_is(struct req *r, int i, const char *s)
{
	return i < r->nseg && strcmp(r->seg[i], s) == 0;
}

static void
not_found(struct req *r)
{
	cgi_error(r, 404, "NOT_FOUND", NULL,
	    "There is nothing at this "
	    "address.");
}

static void
unknown_task(struct req *r, const char *id)
{
	cgi_error(r, 404, "TASK_NOT_FOUND",
	    json_pack(
	        "{s:s}", "task_id", spool_id_valid(id) ? id : "(invalid)"),
	    "There is no upload with "
	    "this id; it may have expired.");
}

/* The summary or an answer (404 / 500) already sent: NULL. */
static json_t *
summary_or_reply(struct req *r, const char *id)
{
	json_t *s = batch_summary(id);

	if (s != NULL)
		return s;
	if (errno == ENOENT || errno == ENOTDIR || errno == EINVAL)
		unknown_task(r, id);
	else
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The upload's data "
		    "could not be read (%s).",
		    strerror(errno));
	return NULL;
}

static void
iso_now(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03ldZ", t, ts.tv_nsec / 1000000);
}

static void
health(struct req *r)
{
	char now[48];

	iso_now(now, sizeof(now));
	cgi_json(r, 200,
	    json_pack("{s:s, s:s, s:s, s:s}", "status", "healthy", "service",
	        "image2model", "version", CGI_VERSION, "timestamp", now));
}

/*
 * Number of live daemons: fresh heartbeat and its lock held.  *fal_rejected
 * is set when a live daemon reports that FAL refused the key.
 */
static int
daemons_alive(int *fal_rejected)
{
	DIR *d;
	struct dirent *de;
	long long now = spool_now_ms();
	int alive = 0;

	*fal_rejected = 0;
	d = spool_opendir(cgi.sp.root, "daemons");
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char lock[300];
		json_t *j;
		long long hb;
		int lk, rejected;

		if (de->d_name[0] == '.' || l < 6 || l > 200 ||
		    strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		j = spool_read_json(dirfd(d), de->d_name, 65536);
		if (j == NULL)
			continue;
		hb = json_integer_value(json_object_get(j, "heartbeat"));
		rejected =
		    json_string_value(json_object_get(j, "fal_auth")) != NULL &&
		    strcmp(json_string_value(json_object_get(j, "fal_auth")),
		        "rejected") == 0;
		json_decref(j);
		if (now - hb > HEARTBEAT_FRESH_MS)
			continue;
		snprintf(
		    lock, sizeof(lock), "%.*s.lock", (int)(l - 5), de->d_name);
		lk = openat(dirfd(d), lock, O_RDONLY | O_CLOEXEC);
		if (lk == -1)
			continue;
		/* We can take it only when its daemon is gone. */
		if (flock(lk, LOCK_SH | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK) {
			alive++;
			*fal_rejected |= rejected;
		}
		close(lk);
	}
	closedir(d);
	return alive;
}

static int
spool_writable(void)
{
	char id[SPOOL_ID_LEN + 1], name[64];
	int fd;

	if (spool_id_new(id) == -1)
		return 0;
	snprintf(name, sizeof(name), "tmp/.ready.%.12s", id);
	fd = openat(
	    cgi.sp.root, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd == -1)
		return 0;
	if (write(fd, "ok\n", 3) != 3) {
		close(fd);
		unlinkat(cgi.sp.root, name, 0);
		return 0;
	}
	close(fd);
	return unlinkat(cgi.sp.root, name, 0) == 0;
}

static void
readiness(struct req *r)
{
	int fal_rejected, alive = daemons_alive(&fal_rejected);
	int writable = spool_writable();
	long long free_mb = spool_free_mb(cgi.sp.root);
	int disk_ok = free_mb >= cgi.cfg.disk_floor_mb;
	json_t *checks, *failing;
	char now[48];

	iso_now(now, sizeof(now));
	checks = json_pack("{s:{s:b}, s:{s:b, s:i}, s:{s:b, s:I, s:I}, "
	                   "s:{s:b}}",
	    "spool", "ok", writable, "daemon", "ok", alive > 0, "alive", alive,
	    "disk", "ok", disk_ok, "free_mb", (json_int_t)free_mb, "floor_mb",
	    (json_int_t)cgi.cfg.disk_floor_mb, "fal", "ok", !fal_rejected);
	if (writable && alive > 0 && disk_ok && !fal_rejected) {
		cgi_json(r, 200,
		    json_pack("{s:s, s:s, s:o}", "status", "ready", "timestamp",
		        now, "checks", checks));
		return;
	}
	failing = json_array();
	if (!writable)
		json_array_append_new(failing, json_string("spool"));
	if (alive == 0)
		json_array_append_new(failing, json_string("daemon"));
	if (!disk_ok)
		json_array_append_new(failing, json_string("disk"));
	if (fal_rejected)
		json_array_append_new(failing, json_string("fal"));
	cgi_json(r, 503,
	    json_pack("{s:b, s:s, s:s, s:i, s:s, s:s, s:O, s:o, "
	              "s:{s:o}}",
	        "error", 1, "error_code", "NOT_READY", "message",
	        !writable        ? "The spool is not writable."
	            : alive == 0 ? "No processing daemon is running."
	            : !disk_ok   ? "Disk space is below the configured floor."
	                         : "FAL rejected the API key; check FAL_KEY.",
	        "status_code", 503, "status", "not_ready", "timestamp", now,
	        "failing", failing, "checks", checks, "details", "failing",
	        failing));
}

static void
models(struct req *r)
{
	json_t *arr = models_available_json(&cgi.cfg);

	/* The limits too, so the upload page checks what the server checks. */
	cgi_json(r, 200,
	    json_pack("{s:o, s:s, s:{s:i, s:I}}",
	        "models", arr != NULL ? arr : json_array(),
	        "default", models_default(&cgi.cfg),
	        "limits",
	            "max_files", cgi.cfg.max_files,
	            "max_file_bytes", (json_int_t)cgi.cfg.max_file_bytes));
}

/* Sum of file sizes below dir/name (bounded depth). */
static long long
tree_bytes(int dir, const char *name, int depth)
{
	struct stat st;
	long long sum = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return (long long)st.st_size;
	if (depth > 6)
		return 0;
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return 0;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			sum += tree_bytes(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	return sum;
}

struct metrics {
	long long by_state[FS_NSTATES];
	long long batches, files, retries, lat_count;
	double lat_sum;
	long long lat_bucket[6]; /* <=1, 5, 30, 60, 300, +Inf s */
};

static void
metrics_batch(struct metrics *mx, const char *id)
{
	json_t *s = spool_batch_summary(&cgi.sp, id), *f;
	static const double bounds[5] = {1, 5, 30, 60, 300};
	size_t i;

	if (s == NULL)
		return;
	mx->batches++;
	json_array_foreach(json_object_get(s, "files"), i, f)
	{
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
}

static void
metrics(struct req *r)
{
	static const char *const les[6] = {"1", "5", "30", "60", "300", "+Inf"};
	struct metrics mx;
	struct dirent *de;
	FCGX_Stream *o = r->fr->out;
	DIR *d;
	int fd, i, rejected;
	long long cum = 0;

	memset(&mx, 0, sizeof(mx));
	fd = openat(cgi.sp.root, "batches", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd != -1 ? fdopendir(fd) : NULL;
	if (d == NULL && fd != -1)
		close(fd);
	while (d != NULL && (de = readdir(d)) != NULL)
		if (spool_id_valid(de->d_name))
			metrics_batch(&mx, de->d_name);
	if (d != NULL)
		closedir(d);
	cgi_begin(r, 200, "text/plain; version=0.0.4; charset=utf-8");
	cgi_header(r, "Cache-Control: no-store");
	cgi_end_headers(r);
	FCGX_PutS("# HELP i2m_files Files in the spool by state.\n"
	          "# TYPE i2m_files gauge\n",
	    o);
	for (i = 0; i < FS_NSTATES; i++)
		FCGX_FPrintF(o, "i2m_files{state=\"%s\"} %lld\n",
		    file_state_name((enum file_state)i), mx.by_state[i]);
	FCGX_FPrintF(o,
	    "# HELP i2m_jobs_failed Files that failed.\n"
	    "# TYPE i2m_jobs_failed gauge\ni2m_jobs_failed %lld\n",
	    mx.by_state[FS_FAILED]);
	FCGX_FPrintF(o,
	    "# HELP i2m_queue_depth Files waiting in q/new.\n"
	    "# TYPE i2m_queue_depth gauge\ni2m_queue_depth %d\n",
	    spool_queue_depth(&cgi.sp));
	FCGX_FPrintF(o,
	    "# HELP i2m_uploads Uploads (batches) in the spool.\n"
	    "# TYPE i2m_uploads gauge\ni2m_uploads %lld\n",
	    mx.batches);
	FCGX_FPrintF(o,
	    "# HELP i2m_retries Extra attempts over all files.\n"
	    "# TYPE i2m_retries gauge\ni2m_retries %lld\n",
	    mx.retries);
	FCGX_PutS("# HELP i2m_processing_seconds Time from start to model "
	          "ready (provider latency).\n"
	          "# TYPE i2m_processing_seconds histogram\n",
	    o);
	for (i = 0; i < 6; i++) {
		cum += mx.lat_bucket[i];
		FCGX_FPrintF(o,
		    "i2m_processing_seconds_bucket{le=\"%s\"} "
		    "%lld\n",
		    les[i], cum);
	}
	FCGX_FPrintF(o,
	    "i2m_processing_seconds_sum %.3f\n"
	    "i2m_processing_seconds_count %lld\n",
	    mx.lat_sum, mx.lat_count);
	FCGX_FPrintF(o,
	    "# HELP i2m_spool_bytes Bytes stored in the spool.\n"
	    "# TYPE i2m_spool_bytes gauge\ni2m_spool_bytes %lld\n",
	    tree_bytes(cgi.sp.root, "batches", 0));
	FCGX_FPrintF(o,
	    "# HELP i2m_spool_free_bytes Free bytes on the "
	    "spool's file system.\n# TYPE i2m_spool_free_bytes gauge\n"
	    "i2m_spool_free_bytes %lld\n",
	    spool_free_mb(cgi.sp.root) * 1024 * 1024);
	FCGX_FPrintF(o,
	    "# HELP i2m_daemons_alive Daemons with a fresh "
	    "heartbeat.\n# TYPE i2m_daemons_alive gauge\n"
	    "i2m_daemons_alive %d\n",
	    daemons_alive(&rejected));
}

static void
status(struct req *r, const char *id)
{
	json_t *s = summary_or_reply(r, id);

	if (s == NULL)
		return;
	cgi_json(r, 200, batch_status_json(id, s));
	json_decref(s);
}

static void
control(struct req *r, const char *id, int retry)
{
	json_t *s;
	int n;

	if (!spool_id_valid(id)) {
		unknown_task(r, id);
		return;
	}
	n = retry ? spool_retry(&cgi.sp, id) : spool_cancel(&cgi.sp, id);
	if (n == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			unknown_task(r, id);
		else
			cgi_error(r, 500, "INTERNAL_ERROR", NULL,
			    "The %s "
			    "failed (%s).",
			    retry ? "retry" : "cancel", strerror(errno));
		return;
	}
	if (retry && n == 0) {
		cgi_error(r, 409, "NOTHING_TO_RETRY",
		    json_pack("{s:s}", "task_id", id),
		    "No file of this upload has failed or was "
		    "cancelled, so there is nothing to retry.");
		return;
	}
	log_info("%s: %s %d file%s", id, retry ? "retried" : "cancelled", n,
	    n == 1 ? "" : "s");
	s = summary_or_reply(r, id);
	if (s == NULL)
		return;
	cgi_json(r, 200, batch_status_json(id, s));
	json_decref(s);
}

static void
download_list(struct req *r, const char *id)
{
	json_t *s = summary_or_reply(r, id), *names, *files, *urls, *failed;
	json_t *f;
	size_t i;

	if (s == NULL)
		return;
	names = batch_names(s);
	files = json_array();
	urls = json_array();
	failed = json_array();
	json_array_foreach(json_object_get(s, "files"), i, f)
	{
		const char *st =
		    json_string_value(json_object_get(f, "status"));
		json_t *fj;

		if (st != NULL &&
		    (strcmp(st, "failed") == 0 ||
		        strcmp(st, "cancelled") == 0)) {
			json_array_append_new(failed,
			    json_pack("{s:O?, s:O?, "
			              "s:s, s:O?}",
			        "file_id", json_object_get(f, "file_id"),
			        "filename", json_object_get(f, "filename"),
			        "status", st, "error",
			        json_object_get(f, "error")));
			continue;
		}
		if (st == NULL || strcmp(st, "completed") != 0)
			continue;
		fj = batch_file_json(id, s, names, i);
		if (fj == NULL)
			continue;
		json_array_append_new(files,
		    json_pack("{s:O, s:O, s:O, s:O, "
		              "s:s, s:f, s:O, s:O, s:O}",
		        "file_id", json_object_get(fj, "file_id"), "filename",
		        json_array_get(names, i), "size",
		        json_object_get(fj, "file_size"), "file_size",
		        json_object_get(fj, "file_size"), "mime_type",
		        "model/gltf-binary", "created_time",
		        (double)json_integer_value(
		            json_object_get(f, "updated")) /
		            1000.0,
		        "model_url", json_object_get(fj, "model_url"),
		        "rendered_image", json_object_get(fj, "rendered_image"),
		        "original_filename", json_object_get(f, "filename")));
		json_array_append(urls, json_object_get(fj, "model_url"));
		json_decref(fj);
	}
	cgi_json(r, 200,
	    json_pack("{s:s, s:o, s:o, s:o, s:I}", "job_id", id, "files", files,
	        "download_urls", urls, "failed", failed, "total_files",
	        (json_int_t)json_array_size(files)));
	json_decref(names);
	json_decref(s);
}

/* A spool-relative output name: "<n>.glb", never a path. */
static int
out_name_ok(const char *n)
{
	return n != NULL && n[0] != '\0' && n[0] != '.' &&
	    strchr(n, '/') == NULL && strlen(n) < 64;
}

static void
download_file(struct req *r, const char *id, const char *name)
{
	json_t *s = summary_or_reply(r, id), *names, *f;
	const char *file, *ctype;
	size_t i;
	int preview;

	if (s == NULL)
		return;
	names = batch_names(s);
	if (names == NULL ||
	    batch_lookup_name(s, names, name, &i, &preview) == -1) {
		cgi_error(r, 404, "FILE_NOT_FOUND",
		    json_pack("{s:s}", "task_id", id),
		    "This upload has no finished file by that "
		    "name; see /api/v1/download/%s/all.",
		    id);
		goto out;
	}
	f = json_array_get(json_object_get(s, "files"), i);
	file = json_string_value(
	    json_object_get(f, preview ? "rendered_image_file" : "model_file"));
	ctype = preview
	    ? json_string_value(json_object_get(f, "rendered_image_type"))
	    : "model/gltf-binary";
	if (!out_name_ok(file)) {
		cgi_error(r, 404, "FILE_NOT_FOUND", NULL,
		    "The file is not "
		    "available.");
		goto out;
	}
	/* lighttpd sends the bytes (x-sendfile-docroot = batches/). */
	cgi_begin(r, 200, ctype != NULL ? ctype : "application/octet-stream");
	cgi_header(r, "Content-Disposition: attachment; filename=\"%s\"", name);
	cgi_header(r, "Cache-Control: private, max-age=3600");
	cgi_header(
	    r, "X-Sendfile: %s/batches/%s/out/%s", cgi.sp.path, id, file);
	cgi_end_headers(r);
out:
	json_decref(names);
	json_decref(s);
}

static la_ssize_t
zip_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct req *r = ctx;

	(void)a;
	if (FCGX_PutStr(buf, (int)len, r->fr->out) != (int)len)
		return -1;
	return (la_ssize_t)len;
}

/* Copy one model into the archive; -1 when the client is gone. */
static int
zip_add(struct archive *a, int out, const char *file, const char *name)
{
	struct archive_entry *e;
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd, rc = -1;

	fd = openat(out, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return 0; /* vanished (retention): skip it */
	if (fstat(fd, &st) == -1 || (e = archive_entry_new()) == NULL) {
		close(fd);
		return 0;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, st.st_size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, st.st_mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto done;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			goto done;
	rc = n == 0 ? 0 : -1;
done:
	archive_entry_free(e);
	close(fd);
	return rc;
}

static void
download_zip(struct req *r, const char *id)
{
	json_t *s = summary_or_reply(r, id), *names, *f;
	struct archive *a = NULL;
	size_t i, ready = 0;
	int out = -1;

	if (s == NULL)
		return;
	names = batch_names(s);
	json_array_foreach(json_object_get(s, "files"), i,
	    f) if (strcmp(json_string_value(json_object_get(f, "status"))
	                   ? json_string_value(json_object_get(f, "status"))
	                   : "",
	               "completed") == 0) ready++;
	if (ready == 0 || names == NULL) {
		cgi_error(r, 409, "NO_MODELS_YET",
		    json_pack("{s:s}", "task_id", id),
		    "No model of this upload is finished yet.");
		goto out;
	}
	out = spool_batch_dir(&cgi.sp, id, "out");
	a = archive_write_new();
	if (out == -1 || a == NULL ||
	    archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "zip:compression=store") !=
	        ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The zip could not be "
		    "started.");
		goto out;
	}
	cgi_begin(r, 200, "application/zip");
	cgi_header(r,
	    "Content-Disposition: attachment; filename="
	    "\"image2model-%s.zip\"",
	    id);
	cgi_header(r, "Cache-Control: no-store");
	cgi_end_headers(r);
	if (archive_write_open(a, r, NULL, zip_write, NULL) != ARCHIVE_OK)
		goto out;
	json_array_foreach(json_object_get(s, "files"), i, f)
	{
		const char *st =
		    json_string_value(json_object_get(f, "status"));
		const char *file =
		    json_string_value(json_object_get(f, "model_file"));

		if (st == NULL || strcmp(st, "completed") != 0 ||
		    !out_name_ok(file))
			continue;
		if (zip_add(a, out, file,
		        json_string_value(json_array_get(names, i))) == -1)
			break;
	}
	archive_write_close(a);
out:
	if (a != NULL)
		archive_write_free(a);
	if (out != -1)
		close(out);
	json_decref(names);
	json_decref(s);
}

static void
api(struct req *r)
{
	int get =
	    strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	int post = strcmp(r->method, "POST") == 0;

	/* /health and /api/v1/health[/] */
	if ((r->nseg == 1 && seg_is(r, 0, "health")) ||
	    (r->nseg == 3 && seg_is(r, 0, "api") && seg_is(r, 1, "v1") &&
	        seg_is(r, 2, "health"))) {
		if (get)
			health(r);
		else
			cgi_method_not_allowed(r, "GET");
		return;
	}
	if (r->nseg < 4 || !seg_is(r, 0, "api") || !seg_is(r, 1, "v1")) {
		not_found(r);
		return;
	}
	if (seg_is(r, 2, "health") && r->nseg == 4 &&
	    (seg_is(r, 3, "readiness") || seg_is(r, 3, "metrics"))) {
		if (!get)
			cgi_method_not_allowed(r, "GET");
		else if (seg_is(r, 3, "readiness"))
			readiness(r);
		else
			metrics(r);
		return;
	}
	if (seg_is(r, 2, "models") && seg_is(r, 3, "available") &&
	    r->nseg == 4) {
		if (get)
			models(r);
		else
			cgi_method_not_allowed(r, "GET");
		return;
	}
	if (seg_is(r, 2, "status") && seg_is(r, 3, "tasks") && r->nseg >= 5 &&
	    r->nseg <= 6) {
		const char *id = r->seg[4];

		if (r->nseg == 5 || seg_is(r, 5, "status")) {
			if (get)
				status(r, id);
			else
				cgi_method_not_allowed(r, "GET");
		} else if (seg_is(r, 5, "cancel") || seg_is(r, 5, "retry")) {
			if (post)
				control(r, id, seg_is(r, 5, "retry"));
			else
				cgi_method_not_allowed(r, "POST");
		} else
			not_found(r);
		return;
	}
	if (seg_is(r, 2, "download") && r->nseg == 5) {
		if (!get)
			cgi_method_not_allowed(r, "GET");
		else if (seg_is(r, 4, "all"))
			download_list(r, r->seg[3]);
		else if (seg_is(r, 4, "all.zip"))
			download_zip(r, r->seg[3]);
		else
			download_file(r, r->seg[3], r->seg[4]);
		return;
	}
	not_found(r);
}

int
main(void)
{
	return cgi_main("i2m-api", API_THREADS, api);
}
