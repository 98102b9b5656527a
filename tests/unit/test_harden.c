/*
 * test_harden.c: hostile input and a full disk (issue 10).  A cancel or a
 * retry while no write succeeds must say so (-1, ENOSPC: the API's 507)
 * and never lose a file: a cancelled file never runs, and a file whose
 * final status could not be written keeps its marker.  A batch the daemon
 * cannot read fails with a reason instead of losing its marker.  Client
 * text echoed in JSON is valid UTF-8; API keys compare exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "tap.h"

#define OWNER "d-0123456789ab"

static char root[320];

static ssize_t
full_write(int fd, const void *buf, size_t len)
{
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOSPC;
	return -1;
}

static int
full_rename(int a, const char *b, int c, const char *d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	errno = ENOSPC;
	return -1;
}

/* Blocks full (no byte can be written), inodes and renames still work. */
static void
disk_full(int on)
{
	spool_io_write = on ? full_write : write;
}

/* 1 when batches/<id>/cancel/<file> exists. */
static int
flagged(const char *id, int file)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/batches/%s/cancel/%d", root, id, file);
	return access(path, F_OK) == 0;
}

static int
submit(struct spool *sp, int n, char *id)
{
	static const unsigned char png[] = {
	    0x89, 'P', 'N', 'G', 13, 10, 26, 10};
	struct config cfg = {.max_files = 25, .max_file_bytes = 1 << 20};
	struct spool_submit s;
	int i;

	spool_submit_init(&s, sp, &cfg);
	spool_submit_model(&s, "local");
	for (i = 0; i < n; i++)
		if (spool_submit_file_begin(&s, "a.png") == -1 ||
		    spool_submit_file_write(&s, png, sizeof(png)) == -1 ||
		    spool_submit_file_end(&s) == -1)
			break;
	if (spool_submit_commit(&s) == -1) {
		spool_submit_abort(&s);
		return -1;
	}
	memcpy(id, s.id, SPOOL_ID_LEN + 1);
	spool_submit_free(&s);
	return 0;
}

static const char *
status_of(struct spool *sp, const char *id, int file, char *buf, size_t len)
{
	json_t *st = spool_status_get(sp, id, file);

	snprintf(buf, len, "%s",
	    st != NULL ? json_string_value(json_object_get(st, "status"))
	               : "(none)");
	json_decref(st);
	return buf;
}

/* Run file's marker, claimed (claim: claim it first), as a worker would. */
static void
run_file(struct spool *sp, const char *id, int file, int claim)
{
	static struct config cfg;
	void *ws[JOB_NBACKENDS] = {NULL};
	char m[SPOOL_MARKER_MAX];
	int i;

	spool_marker_name(m, sizeof(m), id, file);
	if (claim && spool_queue_claim(sp, OWNER, m) == -1)
		return;
	job_run(sp, &cfg, OWNER, m, ws);
	for (i = 0; i < JOB_NBACKENDS; i++)
		if (ws[i] != NULL && job_backends[i]->worker_free != NULL)
			job_backends[i]->worker_free(ws[i]);
}

static void
test_cancel_full_disk(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], s[32];
	json_t *st;
	int i, rc;

	TAP_OK(submit(sp, 2, id) == 0, "batch of 2 queued files");
	disk_full(1);
	rc = spool_cancel(sp, id);
	disk_full(0);
	TAP_OK(rc == 2, "cancel on a full disk records both (flags): %d", rc);
	for (i = 0; i < 2; i++)
		TAP_OK(flagged(id, i) &&
		        (strcmp(status_of(sp, id, i, s, sizeof(s)),
		             "cancelled") == 0 ||
		            spool_queue_has(sp, id, i)),
		    "file %d: flagged, and cancelled or still queued (%s)", i,
		    s);
	/* The daemon (or the orphan sweep) gives it to a worker later. */
	for (i = 0; i < 2; i++) {
		if (!spool_queue_has(sp, id, i))
			spool_queue_put(sp, id, i);
		run_file(sp, id, i, 1);
		st = spool_status_get(sp, id, i);
		TAP_OK(st != NULL &&
		        strcmp(json_string_value(json_object_get(st, "status")),
		            "cancelled") == 0 &&
		        json_integer_value(json_object_get(st, "attempt")) ==
		            0 &&
		        !spool_queue_has(sp, id, i),
		    "file %d ends cancelled without ever starting", i);
		json_decref(st);
	}
}

static void
test_cancel_nothing_written(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], s[32];
	int rc, e;

	TAP_OK(submit(sp, 1, id) == 0, "batch of 1 queued file");
	spool_io_rename = full_rename;
	disk_full(1);
	errno = 0;
	rc = spool_cancel(sp, id);
	e = errno;
	disk_full(0);
	spool_io_rename = renameat;
	TAP_OK(rc == -1 && e == ENOSPC,
	    "cancel that could write nothing is -1 ENOSPC (%d, %s)", rc,
	    strerror(e));
	TAP_OK(spool_queue_has(sp, id, 0) &&
	        strcmp(status_of(sp, id, 0, s, sizeof(s)), "queued") == 0,
	    "the file is still queued (%s)", s);
}

static void
test_running_cancel_full_disk(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], m[SPOOL_MARKER_MAX], s[32];
	json_t *p;

	TAP_OK(submit(sp, 1, id) == 0, "batch for a running file");
	p = json_pack("{s:s, s:i}", "status", "processing", "progress", 10);
	spool_status_update(sp, id, 0, p, -1);
	json_decref(p);
	spool_marker_name(m, sizeof(m), id, 0);
	TAP_OK(spool_queue_claim(sp, OWNER, m) == 0, "claimed by a worker");
	TAP_OK(spool_cancel(sp, id) == 1, "cancel flags the running file");
	disk_full(1);
	run_file(sp, id, 0, 0);
	disk_full(0);
	TAP_OK(spool_queue_has(sp, id, 0),
	    "final status not durable: the marker stays");
	TAP_OK(strcmp(status_of(sp, id, 0, s, sizeof(s)), "processing") == 0,
	    "status unchanged (%s)", s);
	run_file(sp, id, 0, 1);
	TAP_OK(strcmp(status_of(sp, id, 0, s, sizeof(s)), "cancelled") == 0 &&
	        !spool_queue_has(sp, id, 0),
	    "with space again it ends cancelled (%s)", s);
}

static void
test_retry_full_disk(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], s[32];
	int rc, e;

	TAP_OK(submit(sp, 1, id) == 0, "batch for a retry");
	TAP_OK(spool_cancel(sp, id) == 1, "cancelled");
	disk_full(1);
	errno = 0;
	rc = spool_retry(sp, id);
	e = errno;
	disk_full(0);
	TAP_OK(rc == -1 && e == ENOSPC,
	    "retry on a full disk is -1 ENOSPC (%d, %s)", rc, strerror(e));
	TAP_OK(strcmp(status_of(sp, id, 0, s, sizeof(s)), "cancelled") == 0 &&
	        !spool_queue_has(sp, id, 0),
	    "and the file stays as it was (%s)", s);
	sp->floor_mb = 1LL << 40;
	errno = 0;
	rc = spool_retry(sp, id);
	e = errno;
	sp->floor_mb = 0;
	TAP_OK(rc == -1 && e == ENOSPC,
	    "retry below DISK_FLOOR_MB is -1 ENOSPC (%d)", rc);
	TAP_OK(spool_retry(sp, id) == 1, "with space the retry queues it");
}

static void
test_unreadable_batch(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], path[600], s[32];
	json_t *st;
	FILE *f;

	TAP_OK(submit(sp, 1, id) == 0, "batch to corrupt");
	snprintf(path, sizeof(path), "%s/batches/%s/batch.json", root, id);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("{not json", f);
		fclose(f);
	}
	run_file(sp, id, 0, 1);
	st = spool_status_get(sp, id, 0);
	TAP_OK(strcmp(status_of(sp, id, 0, s, sizeof(s)), "failed") == 0 &&
	        strstr(json_string_value(json_object_get(st, "error")),
	            "could not read") != NULL,
	    "an unreadable batch fails its file with the reason (%s)", s);
	json_decref(st);
	TAP_OK(!spool_queue_has(sp, id, 0), "and then the marker goes");
}

static void
test_utf8(void)
{
	char out[64];
	json_t *js;

	spool_utf8_clean(out, sizeof(out), "caf\xc3\xa9.png");
	TAP_OK(strcmp(out, "caf\xc3\xa9.png") == 0, "valid UTF-8 kept");
	spool_utf8_clean(out, sizeof(out),
	    "a\xff"
	    "b");
	TAP_OK(strcmp(out,
	           "a\xef\xbf\xbd"
	           "b") == 0,
	    "0xff becomes U+FFFD");
	spool_utf8_clean(out, sizeof(out), "\xc0\xaf|\xe0\x80\xaf|");
	TAP_OK(strcmp(out,
	           "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd"
	           "\xef\xbf\xbd|") == 0,
	    "overlong forms replaced: %s", out);
	spool_utf8_clean(out, sizeof(out), "\xed\xa0\x80|\xf4\x90\x80\x80|");
	js = json_string(out);
	TAP_OK(js != NULL, "surrogate and > U+10FFFF replaced");
	json_decref(js);
	spool_utf8_clean(out, 6, "abcd\xc3\xa9");
	TAP_OK(strcmp(out, "abcd") == 0, "cut on a character boundary");
	spool_utf8_clean(out, sizeof(out), "x\xe2\x82");
	TAP_OK(strcmp(out, "x\xef\xbf\xbd") == 0,
	    "a truncated sequence is one U+FFFD");
}

static void
test_keys(void)
{
	TAP_OK(config_key_listed("k-one k-two", "k-two"), "a listed key");
	TAP_OK(config_key_listed("k-one,k-two", "k-one"), "comma lists");
	TAP_OK(!config_key_listed("k-one k-two", "k-on"), "a prefix is no key");
	TAP_OK(!config_key_listed("k-one k-two", "k-one2"),
	    "a longer key is no key");
	TAP_OK(!config_key_listed("k-one k-two", ""), "empty is no key");
	TAP_OK(!config_key_listed("", "k-one"), "no keys, no match");
	TAP_OK(!config_key_listed("k-one", "k-onek-one"),
	    "a repeated key is no key");
}

int
main(void)
{
	struct spool sp;
	char path[300];

	snprintf(path, sizeof(path), "/tmp/test_harden.XXXXXX");
	if (mkdtemp(path) == NULL)
		return 1;
	snprintf(root, sizeof(root), "%s/spool", path);
	log_init("test_harden", 0);
	TAP_OK(spool_open(&sp, root, 1) == 0, "spool created");
	TAP_OK(spool_queue_owner_add(&sp, OWNER) == 0, "owner dir");
	test_cancel_full_disk(&sp);
	test_cancel_nothing_written(&sp);
	test_running_cancel_full_disk(&sp);
	test_retry_full_disk(&sp);
	test_unreadable_batch(&sp);
	test_utf8();
	test_keys();
	spool_close(&sp);
	spool_rmtree(AT_FDCWD, path);
	return tap_done();
}
