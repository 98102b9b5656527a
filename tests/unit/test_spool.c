/*
 * test_spool.c: unit tests of libspool, including its failure paths:
 * short writes, a full disk (ENOSPC) and a lost rename race must leave no
 * temp file and no half-visible batch behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"
#include "tap.h"

static char root[256];

/* Number of visible + hidden entries in root/sub (not . and ..). */
static int
count_entries(const char *sub)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int fail_after = -1; /* writes left before injected failure */
static int fail_errno;

static ssize_t
faulty_write(int fd, const void *buf, size_t len)
{
	if (fail_after == 0) {
		errno = fail_errno;
		return -1;
	}
	if (fail_after > 0)
		fail_after--;
	/* Short writes: at most 3 bytes at a time. */
	return write(fd, buf, len > 3 ? 3 : len);
}

static int
lost_race_rename(int a, const char *b, int c, const char *d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	errno = ENOENT;
	return -1;
}

static void
test_ids(void)
{
	char id[SPOOL_ID_LEN + 1], id2[SPOOL_ID_LEN + 1], m[SPOOL_MARKER_MAX];
	int file;

	TAP_OK(spool_id_new(id) == 0 && spool_id_valid(id), "new id is valid");
	spool_id_new(id2);
	TAP_OK(strcmp(id, id2) != 0, "two ids differ");
	TAP_OK(!spool_id_valid("../../etc/passwd"), "traversal is no id");
	TAP_OK(!spool_id_valid("0123456789ABCDEF0123456789abcdef"),
	    "uppercase is no id");
	TAP_OK(!spool_id_valid("0123456789abcdef0123456789abcde"),
	    "31 chars is no id");
	TAP_OK(!spool_id_valid("0123456789abcdef0123456789abcdef0"),
	    "33 chars is no id");
	TAP_OK(!spool_id_valid("%2e%2e456789abcdef0123456789abcd"),
	    "encoded dots are no id");
	TAP_OK(!spool_id_valid(NULL), "NULL is no id");
	TAP_OK(spool_marker_name(m, sizeof(m), id, 7) == 0 &&
	        spool_marker_parse(m, id2, &file) == 0 && file == 7 &&
	        strcmp(id, id2) == 0,
	    "marker name round trip");
	snprintf(m, sizeof(m), "%s.+1", id);
	TAP_OK(spool_marker_parse(m, id2, &file) == -1, "marker +1 refused");
	snprintf(m, sizeof(m), "%s.1x", id);
	TAP_OK(spool_marker_parse(m, id2, &file) == -1, "marker 1x refused");
	snprintf(m, sizeof(m), "%s.100", id);
	TAP_OK(spool_marker_parse(m, id2, &file) == -1,
	    "marker past SPOOL_MAX_FILES refused");
	TAP_OK(spool_marker_name(m, sizeof(m), "bad", 1) == -1,
	    "marker of a bad id refused");
}

static void
test_fsio(void)
{
	char *buf;
	size_t len;
	int dir;

	dir = open(root, O_RDONLY | O_DIRECTORY);
	TAP_OK(
	    spool_write_atomic(dir, "a.txt", "hello", 5) == 0, "atomic write");
	TAP_OK(spool_read_file(dir, "a.txt", 100, &buf, &len) == 0 &&
	        len == 5 && memcmp(buf, "hello", 5) == 0,
	    "read back");
	free(buf);
	buf = NULL;
	TAP_OK(spool_read_file(dir, "a.txt", 3, &buf, &len) == -1 &&
	        errno == EFBIG,
	    "read cap gives EFBIG");

	spool_io_write = faulty_write;
	fail_after = -1;
	TAP_OK(spool_write_atomic(dir, "b.txt", "0123456789", 10) == 0,
	    "short writes are completed");
	TAP_OK(spool_read_file(dir, "b.txt", 100, &buf, &len) == 0 &&
	        len == 10 && memcmp(buf, "0123456789", 10) == 0,
	    "short-written file is whole");
	free(buf);
	buf = NULL;

	fail_after = 2;
	fail_errno = ENOSPC;
	TAP_OK(spool_write_atomic(dir, "a.txt", "replacement!", 12) == -1 &&
	        errno == ENOSPC,
	    "ENOSPC is reported");
	TAP_OK(spool_read_file(dir, "a.txt", 100, &buf, &len) == 0 &&
	        len == 5 && memcmp(buf, "hello", 5) == 0,
	    "ENOSPC keeps the old file whole");
	free(buf);
	buf = NULL;
	spool_io_write = write;
	fail_after = -1;

	spool_io_rename = lost_race_rename;
	TAP_OK(
	    spool_write_atomic(dir, "c.txt", "x", 1) == -1 && errno == ENOENT,
	    "failed rename is reported");
	spool_io_rename = renameat;
	TAP_OK(faccessat(dir, "c.txt", F_OK, 0) == -1,
	    "no file after failed rename");
	/* a.txt, b.txt only: no dot-name temp file left by any failure. */
	TAP_OK(count_entries(".") == 2,
	    "no temp files left behind (%d entries)", count_entries("."));
	unlinkat(dir, "a.txt", 0);
	unlinkat(dir, "b.txt", 0);
	close(dir);
}

static void
test_tmpfile(void)
{
	struct spool_tmpfile t;
	char *buf;
	size_t len;
	int dir, sub;

	dir = open(root, O_RDONLY | O_DIRECTORY);
	mkdirat(dir, "pub", 0700);
	sub = openat(dir, "pub", O_RDONLY | O_DIRECTORY);
	TAP_OK(spool_tmp_open(&t, dir, "t.txt") == 0 && t.tmp[0] == '.',
	    "temp file has a dot-name");
	TAP_OK(spool_tmp_write(&t, "abc", 3) == 0 && t.size == 3,
	    "temp write counts bytes");
	TAP_OK(faccessat(dir, "t.txt", F_OK, 0) == -1,
	    "nothing under the final name before publish");
	spool_tmp_abort(&t);
	spool_tmp_abort(&t);
	TAP_OK(count_entries(".") == 1, "abort (twice) removes the temp file");

	TAP_OK(spool_tmp_open(&t, dir, "late") == 0 &&
	        spool_tmp_write(&t, "xyz", 3) == 0 &&
	        spool_tmp_rename(&t, "final.bin") == 0 &&
	        (t.todir = sub, spool_tmp_publish(&t)) == 0,
	    "publish under a late name into another directory");
	TAP_OK(spool_read_file(sub, "final.bin", 10, &buf, &len) == 0 &&
	        len == 3 && memcmp(buf, "xyz", 3) == 0 && t.fd == -1,
	    "published file is whole");
	free(buf);
	TAP_OK(count_entries(".") == 1, "no temp left after publish");
	TAP_OK(spool_tmp_open(&t, dir, "a/b") == -1, "a name with / refused");

	spool_io_rename = lost_race_rename;
	TAP_OK(spool_tmp_open(&t, dir, "r") == 0 &&
	        spool_tmp_publish(&t) == -1 && errno == ENOENT,
	    "failed publish is reported");
	spool_io_rename = renameat;
	TAP_OK(count_entries(".") == 1, "failed publish removes its temp");
	unlinkat(sub, "final.bin", 0);
	close(sub);
	unlinkat(dir, "pub", AT_REMOVEDIR);
	close(dir);
}

static const unsigned char png_head[] = {
    0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0};

static struct config cfg;

/* One file from memory through the rule. */
static int
add_mem(struct spool_submit *s, const char *name, const void *buf, size_t len)
{
	if (spool_submit_file_begin(s, name) == -1)
		return -1;
	if (len > 0 && spool_submit_file_write(s, buf, len) == -1)
		return -1;
	return spool_submit_file_end(s);
}

static int
submit(struct spool *sp, int n, char *id)
{
	struct spool_submit s;
	int i;

	spool_submit_init(&s, sp, &cfg);
	for (i = 0; i < n; i++)
		if (add_mem(&s, "../../evil/na\x01me.png", png_head,
		        sizeof(png_head)) == -1) {
			spool_submit_abort(&s);
			return -1;
		}
	if (spool_submit_model(&s, "local") == -1 ||
	    spool_submit_commit(&s) == -1) {
		spool_submit_abort(&s);
		return -1;
	}
	memcpy(id, s.id, SPOOL_ID_LEN + 1);
	spool_submit_free(&s);
	return 0;
}

static void
test_submit(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], m[SPOOL_MARKER_MAX];
	json_t *b, *st, *sum;

	TAP_OK(submit(sp, 3, id) == 0, "submit 3 files");
	TAP_OK(count_entries("q/new") == 3, "3 markers in q/new");
	TAP_OK(count_entries("tmp") == 0, "tmp/ empty after commit");
	b = spool_batch_get(sp, id);
	TAP_OK(b != NULL && json_array_size(json_object_get(b, "files")) == 3,
	    "batch.json lists 3 files");
	TAP_OK(strcmp(json_string_value(json_object_get(
	                  json_array_get(json_object_get(b, "files"), 0),
	                  "filename")),
	           "na_me.png") == 0,
	    "client file name reduced to a safe display name");
	json_decref(b);
	TAP_OK(spool_seq_get(sp, id) == 3, "seq starts at the file count");

	/* Claim race: the second claim of the same marker loses. */
	spool_mkdir(sp->root, "q/cur/d-a", 0770);
	spool_mkdir(sp->root, "q/cur/d-b", 0770);
	spool_marker_name(m, sizeof(m), id, 0);
	TAP_OK(spool_queue_claim(sp, "d-a", m) == 0, "first claim wins");
	TAP_OK(spool_queue_claim(sp, "d-b", m) == -1 && errno == ENOENT,
	    "second claim gets ENOENT");
	TAP_OK(spool_queue_has(sp, id, 0), "claimed marker is found");

	/* Status updates: seq grows by one per change. */
	st = json_pack("{s:s, s:i}", "status", "processing", "progress", 40);
	TAP_OK(spool_status_update(sp, id, 0, st, FS_QUEUED) == 4,
	    "update gets seq 4");
	TAP_OK(spool_status_update(sp, id, 0, st, FS_QUEUED) == -1 &&
	        errno == EAGAIN,
	    "conditional update refused in another state");
	json_decref(st);
	TAP_OK(spool_seq_get(sp, id) == 4, "state/seq follows");

	/*
	 * Cancel: every unfinished file flagged first (a flagged file never
	 * runs), the waiting ones withdrawn and cancelled.
	 */
	TAP_OK(spool_cancel(sp, id) == 3, "cancel touches 3 files");
	TAP_OK(count_entries("q/new") == 0, "no waiting markers after cancel");
	TAP_OK(spool_cancel_requested(sp, id, 0) &&
	        spool_cancel_requested(sp, id, 1),
	    "running and waiting files flagged");
	sum = spool_batch_summary(sp, id);
	TAP_OK(sum != NULL &&
	        strcmp(json_string_value(json_object_get(
	                   json_array_get(json_object_get(sum, "files"), 1),
	                   "status")),
	            "cancelled") == 0,
	    "waiting file is cancelled");
	TAP_OK(json_integer_value(json_object_get(sum, "seq")) ==
	        spool_seq_get(sp, id),
	    "summary seq matches state/seq");
	json_decref(sum);

	/* Retry: cancelled files come back, with a marker each. */
	TAP_OK(spool_retry(sp, id) == 2, "retry queues 2 cancelled files");
	TAP_OK(count_entries("q/new") == 2, "2 markers after retry");
	TAP_OK(spool_retry(sp, id) == 0, "second retry has nothing to do");
	TAP_OK(spool_cancel(sp, "00000000000000000000000000000000") == -1 &&
	        errno == ENOENT,
	    "cancel of an unknown batch is ENOENT");
}

/* Faults while submitting (after test_submit: one batch exists). */
static void
test_submit_faults(struct spool *sp)
{
	struct spool_submit s;

	/* ENOSPC in the middle of a submission leaves nothing. */
	spool_submit_init(&s, sp, &cfg);
	TAP_OK(add_mem(&s, "a.png", png_head, sizeof(png_head)) == 0,
	    "first file in");
	spool_io_write = faulty_write;
	fail_after = 1;
	fail_errno = ENOSPC;
	TAP_OK(add_mem(&s, "b.png", png_head, sizeof(png_head)) == -1 &&
	        s.err == SUBMIT_NO_SPACE,
	    "second file ENOSPC: %s", s.msg);
	spool_io_write = write;
	fail_after = -1;
	spool_submit_abort(&s);
	TAP_OK(count_entries("tmp") == 0, "abort leaves tmp/ empty");
	TAP_OK(count_entries("batches") == 1, "only the first batch exists");

	/* A rename race lost while placing markers takes the batch back. */
	spool_submit_init(&s, sp, &cfg);
	TAP_OK(add_mem(&s, "a.png", png_head, sizeof(png_head)) == 0,
	    "begin again");
	spool_io_rename = lost_race_rename;
	TAP_OK(spool_submit_commit(&s) == -1,
	    "commit fails when a marker cannot be published");
	spool_io_rename = renameat;
	spool_submit_abort(&s);
	TAP_OK(count_entries("batches") == 1 && count_entries("tmp") == 0 &&
	        count_entries("q/tmp") == 0,
	    "failed commit leaves nothing");

	/* Disk floor. */
	sp->floor_mb = 1LL << 40;
	spool_submit_init(&s, sp, &cfg);
	TAP_OK(add_mem(&s, "a.png", png_head, sizeof(png_head)) == -1 &&
	        s.err == SUBMIT_NO_SPACE,
	    "below the disk floor a batch is refused");
	spool_submit_abort(&s);
	sp->floor_mb = 0;
}

/* The rule: the same refusal whatever the front end. */
static void
test_rule(struct spool *sp)
{
	static const char text[] = "just some text";
	struct spool_submit s;
	unsigned char big[64];
	int i;

	spool_submit_init(&s, sp, &cfg);
	TAP_OK(spool_submit_model(&s, "no-such") == -1 &&
	        s.err == SUBMIT_BAD_MODEL && strcmp(s.subject, "model") == 0,
	    "rule: unknown model: %s", s.msg);
	TAP_OK(spool_submit_param(&s, "mode", "auto") == -1,
	    "rule: after a refusal everything is refused");
	spool_submit_abort(&s);

	spool_submit_init(&s, sp, &cfg);
	TAP_OK(spool_submit_model(&s, "tripo3d-v2.5") == -1 &&
	        s.err == SUBMIT_BAD_MODEL,
	    "rule: a FAL model without a key is refused");
	spool_submit_abort(&s);

	spool_submit_init(&s, sp, &cfg);
	TAP_OK(spool_submit_param(&s, "resolution", "9999") == -1 &&
	        s.err == SUBMIT_BAD_PARAM &&
	        strcmp(s.subject, "resolution") == 0,
	    "rule: bad value names the field: %s", s.msg);
	spool_submit_abort(&s);

	spool_submit_init(&s, sp, &cfg);
	TAP_OK(spool_submit_param(&s, "face_limit", "12x") == -1 &&
	        s.err == SUBMIT_BAD_PARAM,
	    "rule: face_limit checked to its end: %s", s.msg);
	spool_submit_abort(&s);

	spool_submit_init(&s, sp, &cfg);
	TAP_OK(spool_submit_param(&s, "face_limit", "5000") == 0 &&
	        json_integer_value(json_object_get(s.params, "face_limit")) ==
	            5000,
	    "rule: face_limit is a parameter of every model");
	TAP_OK(add_mem(&s, "notes.png", text, sizeof(text)) == -1 &&
	        s.err == SUBMIT_NOT_IMAGE &&
	        strcmp(s.subject, "notes.png") == 0,
	    "rule: type by the bytes: %s", s.msg);
	spool_submit_abort(&s);

	spool_submit_init(&s, sp, &cfg);
	TAP_OK(add_mem(&s, "/some/dir/empty.png", "", 0) == -1 &&
	        s.err == SUBMIT_EMPTY && strcmp(s.subject, "empty.png") == 0,
	    "rule: empty file, named by its display name: %s", s.msg);
	spool_submit_abort(&s);

	cfg.max_file_bytes = sizeof(big) - 1;
	memset(big, 0, sizeof(big));
	memcpy(big, png_head, sizeof(png_head));
	spool_submit_init(&s, sp, &cfg);
	TAP_OK(add_mem(&s, "big.png", big, sizeof(big)) == -1 &&
	        s.err == SUBMIT_TOO_LARGE,
	    "rule: too large: %s", s.msg);
	spool_submit_abort(&s);
	cfg.max_file_bytes = 10 * 1024 * 1024;

	spool_submit_init(&s, sp, &cfg);
	for (i = 0; i <= cfg.max_files; i++)
		if (add_mem(&s, "a.png", png_head, sizeof(png_head)) == -1)
			break;
	TAP_OK(i == cfg.max_files && s.err == SUBMIT_TOO_MANY_FILES,
	    "rule: too many files: %s", s.msg);
	spool_submit_abort(&s);

	spool_submit_init(&s, sp, &cfg);
	TAP_OK(spool_submit_commit(&s) == -1 && s.err == SUBMIT_NO_FILES,
	    "rule: no files: %s", s.msg);
	spool_submit_abort(&s);
	TAP_OK(count_entries("tmp") == 0, "rule: refusals leave nothing");
}

/* The rename that would publish crash_at kills the process instead. */
static const char *crash_at;

static int
crash_rename(int a, const char *from, int b, const char *to)
{
	if (strcmp(to, crash_at) == 0)
		_exit(0);
	return renameat(a, from, b, to);
}

/* A writer of file 0 that dies just before renaming to name. */
static void
crash_writer(struct spool *sp, const char *id, const char *name)
{
	json_t *p = json_pack("{s:s}", "message", "crashing");
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		crash_at = name;
		spool_io_rename = crash_rename;
		spool_status_update(sp, id, 0, p, -1);
		_exit(1);
	}
	waitpid(pid, &status, 0);
	json_decref(p);
}

static long long
file_seq(struct spool *sp, const char *id, int file)
{
	json_t *j = spool_status_get(sp, id, file);
	long long v = json_integer_value(json_object_get(j, "seq"));

	json_decref(j);
	return v;
}

/*
 * The sequence counter: O(1) (status files are not read to allocate),
 * and a writer killed between its renames never makes a number repeat.
 */
static void
test_seq(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], path[600];
	json_t *p = json_pack("{s:s}", "message", "tick"), *j;
	long long k;
	int st, fd;

	TAP_OK(submit(sp, 3, id) == 0, "seq: submit 3 files");
	TAP_OK(spool_status_update(sp, id, 1, p, -1) == 4, "seq: next is 4");
	/* A status file claiming seq 1000 behind the counter's back. */
	st = spool_batch_dir(sp, id, "state");
	j = json_pack(
	    "{s:s, s:s, s:i}", "file_id", "2", "status", "queued", "seq", 1000);
	spool_write_json(st, "2.json", j);
	json_decref(j);
	TAP_OK(spool_status_update(sp, id, 1, p, -1) == 5,
	    "seq: allocation reads the counter, not every status file");

	/* Killed after publishing the status, before state/seq. */
	crash_writer(sp, id, "seq");
	k = file_seq(sp, id, 0);
	TAP_OK(k == 6 && spool_seq_get(sp, id) == 5,
	    "seq: crash between renames left status 6, state/seq 5 (%lld)", k);
	TAP_OK(spool_status_update(sp, id, 1, p, -1) == 7,
	    "seq: the next change after that crash is 7, not 6 again");

	/* Killed after taking a number, before publishing the status. */
	crash_writer(sp, id, "0.json");
	TAP_OK(file_seq(sp, id, 0) == 6,
	    "seq: crash before the status rename leaves the old status");
	TAP_OK(spool_status_update(sp, id, 1, p, -1) == 9,
	    "seq: a number taken by a dead writer is skipped (gap, no repeat)");

	/* A batch from before the counter (empty lock file): one scan. */
	snprintf(path, sizeof(path), "%s/batches/%s/state/.lock", root, id);
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	TAP_OK(spool_status_update(sp, id, 1, p, -1) == 1001,
	    "seq: without a counter the status files are scanned once");
	TAP_OK(spool_status_update(sp, id, 1, p, -1) == 1002 &&
	        spool_seq_get(sp, id) == 1002,
	    "seq: then the counter goes on");
	close(st);
	json_decref(p);
}

int
main(void)
{
	struct spool sp;
	char path[300];

	snprintf(root, sizeof(root), "/tmp/test_spool.XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	test_ids();
	test_fsio();
	test_tmpfile();
	snprintf(path, sizeof(path), "%s/spool", root);
	TAP_OK(spool_open(&sp, path, 1) == 0, "spool created");
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/spool");
	unsetenv("FAL_KEY");
	unsetenv("I2M_CONFIG");
	if (config_load(&cfg, path, sizeof(path)) == -1)
		return 1;
	test_submit(&sp);
	test_submit_faults(&sp);
	test_rule(&sp);
	test_seq(&sp);
	spool_close(&sp);
	root[strlen(root) - 6] = '\0';
	spool_rmtree(AT_FDCWD, root);
	return tap_done();
}
