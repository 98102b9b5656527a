/*
 * spool.h: the on-disk spool shared by the web handlers (cgi/), the daemon
 * (daemon/) and the command-line tool (tools/).  The format itself is
 * written down in spool/README.md; this header is its C face.
 *
 * Invariants every function here keeps:
 *  - nothing becomes visible under a final name until it is whole and
 *    synced (write to a dot-name, fsync, rename, fsync the directory);
 *  - a status file is replaced whole, never edited in place, and carries
 *    the batch-wide sequence number of the change;
 *  - ids are checked by spool_id_valid() before any path is built from them;
 *  - library code never exits: 0 / -1 with errno, or an enum.
 *
 * Prototypes are grouped by the file that defines them.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#define SPOOL_ID_LEN 32 /* 128 random bits as lowercase hex */
#define SPOOL_MARKER_MAX 48 /* "<id>.<file>" */
#define SPOOL_MAX_FILES 100 /* hard ceiling; MAX_FILES config is below it */

#include "config.h"
/* webhook.c: the webhook queue and the webhook_url rule */
#include "webhook.h"

/* utf8.c --------------------------------------------------------------- */

/*
 * Length (1-4) of the well-formed UTF-8 character at s, or 0 when none
 * starts there; *sub gets the bytes of the ill-formed part to skip.
 */
int spool_utf8_seq(const char *s, size_t *sub);
/*
 * Copy src into dst (len bytes with the NUL) as valid UTF-8: ill-formed
 * bytes become U+FFFD, the end is cut on a character boundary.  dst may
 * be a different buffer only (src is read ahead).  The length written.
 */
size_t spool_utf8_clean(char *dst, size_t len, const char *src);

/* log.c ---------------------------------------------------------------- */

/* Log lines go to stderr: "<prog>[pid]: <level>: <text>". */
void log_init(const char *prog, int verbose);
/* "debug", "info" or "warn": the least severe level written (verbose
 * from log_init still writes debug); -1 with EINVAL for another name. */
int log_set_level(const char *name);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* id.c ----------------------------------------------------------------- */

/* out gets SPOOL_ID_LEN hex chars and a NUL, from getrandom(2). */
int spool_id_new(char out[SPOOL_ID_LEN + 1]);
/* 1 when s is exactly SPOOL_ID_LEN lowercase hex characters, else 0. */
int spool_id_valid(const char *s);
/* "<id>.<file>" into out; -1 on a bad id or index. */
int spool_marker_name(char *out, size_t len, const char *id, int file);
/* Parse a marker name; 0 and fills id/file, -1 when it is not one. */
int spool_marker_parse(const char *name, char id[SPOOL_ID_LEN + 1], int *file);

/* fsio.c --------------------------------------------------------------- */

/*
 * The publish rule as an API (every writer of the spool uses it):
 *   spool_tmp_open()    creates ".<name>.<rand>.tmp" in dirfd, O_EXCL
 *   spool_tmp_write()   appends all of buf (or fails); t->fd may also be
 *                       written directly (then t->size is not counted)
 *   spool_tmp_publish() fsync, close, rename to todir/name, fsync todir
 *   spool_tmp_abort()   closes and removes the temp file (safe twice)
 * Between open and publish a caller may set todir (default dirfd: the
 * rename target directory, same file system), sync_dir = 0 (the directory
 * is fsynced later, once, by the caller) or the final name
 * (spool_tmp_rename) or excl = 1 (the final name must not exist: EEXIST,
 * by renameat2 RENAME_NOREPLACE).  Publish removes the temp file on
 * failure.  dirfd
 * and todir are borrowed.
 */
struct spool_tmpfile {
	int fd; /* the temp file (O_RDWR), -1 once published or aborted */
	int dir; /* directory holding the temp file */
	int todir; /* directory of the final name */
	int sync_dir; /* fsync todir after the rename (default 1) */
	int excl; /* 1: never replace an existing final name (EEXIST) */
	off_t size; /* bytes written through spool_tmp_write */
	char tmp[320]; /* the dot-name, "" when none */
	char name[256]; /* the final name */
};

int spool_tmp_open(struct spool_tmpfile *t, int dirfd, const char *name);
int spool_tmp_write(struct spool_tmpfile *t, const void *buf, size_t len);
/* Change the final name (no '/'); 0 or -1 with ENAMETOOLONG. */
int spool_tmp_rename(struct spool_tmpfile *t, const char *name);
int spool_tmp_publish(struct spool_tmpfile *t);
void spool_tmp_abort(struct spool_tmpfile *t);
/*
 * Write buf to dirfd/name atomically: ".<name>.<rand>" O_EXCL, full
 * writes, fsync, close, renameat, fsync(dirfd).  On any failure the temp
 * file is removed and errno tells why (ENOSPC for a full disk).
 */
int
spool_write_atomic(int dirfd, const char *name, const void *buf, size_t len);
/* Same, copying from an open fd until EOF; *copied gets the byte count. */
int spool_copy_atomic(int dirfd, const char *name, int srcfd, off_t *copied);
/* Read a whole small file (at most cap bytes, else EFBIG); caller frees. */
int spool_read_file(
    int dirfd, const char *name, size_t cap, char **out, size_t *outlen);
/* Read and parse a JSON file; new reference or NULL with errno set. */
json_t *spool_read_json(int dirfd, const char *name, size_t cap);
/* Dump JSON compactly and write it atomically. */
int spool_write_json(int dirfd, const char *name, const json_t *j);
int spool_fsync_dir(int dirfd);
/* mkdirat that treats EEXIST on a directory as success. */
int spool_mkdir(int dirfd, const char *name, mode_t mode);
/* write(2) until all of buf is out (short writes, EINTR); 0 or -1. */
int spool_write_all(int fd, const void *buf, size_t len);
/* Open dirfd/sub for readdir (closedir closes it); NULL with errno. */
DIR *spool_opendir(int dirfd, const char *sub);
/* fsync the directory dirfd/sub. */
int spool_fsync_at(int dirfd, const char *sub);
/* Remove a directory tree below dirfd/name; ENOENT is success. */
int spool_rmtree(int dirfd, const char *name);
/* Free bytes on the file system holding fd, in MiB. */
long long spool_free_mb(int fd);
/* The system calls fsio.c uses; unit tests swap in fault injectors. */
extern ssize_t (*spool_io_write)(int, const void *, size_t);
extern int (*spool_io_rename)(int, const char *, int, const char *);

/* spool.c -------------------------------------------------------------- */

struct spool {
	int root; /* O_DIRECTORY fd of SPOOL_DIR */
	char path[4096]; /* absolute path of SPOOL_DIR */
	long long floor_mb; /* refuse new work below this much free disk */
};

/* Open (and with create, make) the spool tree.  0 or -1 with errno. */
int spool_open(struct spool *sp, const char *path, int create);
void spool_close(struct spool *sp);
/* O_DIRECTORY fd of batches/<id>[/sub]; -1 with ENOENT for unknown ids. */
int spool_batch_dir(struct spool *sp, const char *id, const char *sub);
/* 0 when free space is above the floor, else -1 with ENOSPC. */
int spool_check_space(struct spool *sp);
/* Free MiB on the spool's file system, -1 on error. */
long long spool_free_space_mb(struct spool *sp);
/* 1 when a file can be created and written in the spool (readiness). */
int spool_writable(struct spool *sp);
/*
 * Remove entries of tmp/ and q/tmp/ older than stale_s seconds (a crashed
 * submitter's leftovers) and whatever trash/ holds.  How many.
 */
int spool_sweep(struct spool *sp, long stale_s);

/* batches.c ------------------------------------------------------------ */

/*
 * Call fn(id, arg) for every batch (in directory order) until it returns
 * non-zero; that value, 0 when all were visited, -1 when batches/ cannot
 * be read.
 */
int spool_batch_foreach(
    struct spool *sp, int (*fn)(const char *id, void *arg), void *arg);
/*
 * Remove a batch: withdraw its waiting markers, rename it into trash/
 * (readers see all of it or nothing), remove the tree.  -1 with ENOENT
 * for an unknown batch.
 */
int spool_batch_remove(struct spool *sp, const char *id);
/* O_DIRECTORY fd of batches/<id>/out; -1 with errno. */
int spool_out_dir(struct spool *sp, const char *id);
/* 1 when name may be a file of out/: no '/', no leading '.', short. */
int spool_out_name_ok(const char *name);
/* The name under out/ of file n's thumbnail, "<n>.thumb.jpg" (the daemon
 * writes it, the API serves it); 0, or -1 with EINVAL. */
int spool_thumb_name(int file, char *out, size_t len);
/* Absolute path of batches/<id>/out/<name> (X-Sendfile); 0 or -1. */
int spool_out_path(
    struct spool *sp, const char *id, const char *name, char *out, size_t len);
/* Absolute path of a batch.json "input" ("in/<n>.<ext>"); EBADMSG if not. */
int spool_input_path(
    struct spool *sp, const char *id, const char *input, char *out, size_t len);
/* The provider's request record remote/<file>.json: write, read (NULL). */
int spool_remote_put(struct spool *sp, const char *id, int file, json_t *rec);
json_t *spool_remote_get(struct spool *sp, const char *id, int file);
/* Bytes stored under batches/ (metrics). */
long long spool_batches_bytes(struct spool *sp);
/* Bytes stored under batches/<id>; 0 for an unknown or invalid id. */
long long spool_batch_bytes(struct spool *sp, const char *id);
/* Bytes under each top-level directory of the spool: {"batches":N,
 * "tmp":N, "q":N, "daemons":N, "trash":N, "spend":N, "webhooks":N}; new
 * reference. */
json_t *spool_areas_bytes(struct spool *sp);
/*
 * The retention rule: remove (spool_batch_remove) every batch whose
 * batch.json "created" is before cutoff_ms, calling removed(id, arg) (may
 * be NULL) after each.  How many were removed, or -1 when batches/ cannot
 * be read.
 */
int spool_batches_expire(struct spool *sp, long long cutoff_ms,
    void (*removed)(const char *id, void *arg), void *arg);

/* daemons.c ------------------------------------------------------------ */

/*
 * The daemons/ registry.  register takes flock(daemons/<d>.lock) on a
 * dot-name before renaming it visible and makes q/cur/<d>; unregister
 * (a clean exit, every claim handed back) removes both and the heartbeat.
 * reap hands back the claims of every daemon whose lock nobody holds and
 * removes its files: the number of dead daemons.  alive counts daemons
 * with a heartbeat under SPOOL_HEARTBEAT_FRESH_MS and a held lock,
 * appending their heartbeats to beats (an array; NULL = not wanted).
 */
#define SPOOL_DAEMON_MAX 65 /* "d-<12 hex>"; q/cur owners up to 64 */
#define SPOOL_HEARTBEAT_FRESH_MS 30000

struct spool_daemon {
	char name[SPOOL_DAEMON_MAX];
	int lockfd; /* holds the flock for the daemon's life; -1 = none */
};

/*
 * One heartbeat: {"daemon","pid","started","heartbeat","workers","busy",
 * <every field of health>, "paused"}.  health (borrowed, may be NULL) is
 * the backends' object, e.g. {"backends":["local","fal"],"fal_auth":"ok"};
 * paused (NULL = not) says why new work is not taken.
 */
struct spool_beat {
	long long started;
	int workers, busy;
	json_t *health;
	const char *paused;
};

int spool_daemon_register(struct spool *sp, struct spool_daemon *d);
void spool_daemon_unregister(struct spool *sp, struct spool_daemon *d);
int spool_daemon_beat(
    struct spool *sp, const struct spool_daemon *d, const struct spool_beat *b);
int spool_daemon_reap(struct spool *sp, const char *me);
int spool_daemons_alive(struct spool *sp, json_t *beats);

/* submit.c ------------------------------------------------------------- */

/* Milliseconds since the epoch (the spool's time stamps). */
long long spool_now_ms(void);

/*
 * The one rule for every submission (the upload handler and i2m submit
 * are thin adapters): choose the model, parse its parameters, check and
 * store each file.  Every call returns 0, or -1 with the first refusal
 * kept in err / subject / msg (one sentence, the same for every front
 * end; later calls then do nothing and return -1).
 *   spool_submit_init()    no disk access yet
 *   spool_submit_model()   a usable model of the table; NULL or "" = default
 *   spool_submit_param()   one parameter as text, typed by the table;
 *                          face_limit is accepted by every model;
 *                          webhook_url (spool_webhook_url_check) is kept
 *                          beside the parameters, in batch.json
 *   spool_submit_file_*()  one file: begin (count, name), write (size),
 *                          end (empty, type by its bytes); the first file
 *                          makes tmp/<id>/ with in/ state/ out/ ...
 *   spool_submit_commit()  writes batch.json and the queued status files,
 *                          renames tmp/<id> to batches/<id>, then publishes
 *                          one queue marker per file through q/tmp -> q/new;
 *                          afterwards s->batch is what batch.json holds
 *   spool_submit_abort()   removes everything the submission wrote
 *   spool_submit_free()    frees memory after a commit
 * Nothing is visible before commit renames the directory; the batch is
 * durable when commit returns 0.
 */
enum submit_err {
	SUBMIT_OK,
	SUBMIT_BAD_MODEL, /* subject "model" */
	SUBMIT_BAD_PARAM, /* subject: the parameter */
	SUBMIT_NO_FILES,
	SUBMIT_TOO_MANY_FILES,
	SUBMIT_TOO_LARGE, /* subject: the file's display name */
	SUBMIT_EMPTY, /* subject: the file */
	SUBMIT_NOT_IMAGE, /* subject: the file */
	SUBMIT_NO_SPACE, /* disk full, or free space below DISK_FLOOR_MB */
	SUBMIT_IO /* any other system error */
};

/* One file being streamed into a submission (part.c). */
struct spool_part {
	struct spool_tmpfile t; /* the temp file in in/ */
	int in; /* fd of tmp/<id>/in */
	long long size; /* bytes written so far */
};

struct spool_submit {
	struct spool *sp;
	const struct config *cfg; /* MAX_FILES, MAX_FILE_BYTES, the default */
	char id[SPOOL_ID_LEN + 1];
	int dir; /* fd of tmp/<id>, -1 before the first file */
	int nfiles;
	json_t *files; /* array of file entries for batch.json */
	const struct model_info *model;
	json_t *params; /* typed parameters, NULL when none */
	json_t *batch; /* batch.json as committed */
	char key_id[24]; /* the uploading API key's id, "" = none */
	char webhook_url[SPOOL_WEBHOOK_URL_MAX + 1]; /* "" = none */
	/* the file being received */
	struct spool_part part;
	char name[256]; /* its display name */
	unsigned char head[16]; /* its first bytes, for the type */
	size_t headlen;
	long long size;
	/* the first refusal */
	enum submit_err err;
	char subject[256];
	char msg[512];
};

void spool_submit_init(
    struct spool_submit *s, struct spool *sp, const struct config *cfg);
int spool_submit_model(struct spool_submit *s, const char *id);
int
spool_submit_param(struct spool_submit *s, const char *name, const char *text);
/* filename is the client's, reduced to a display name, never a path. */
int spool_submit_file_begin(struct spool_submit *s, const char *filename);
int
spool_submit_file_write(struct spool_submit *s, const void *buf, size_t len);
int spool_submit_file_end(struct spool_submit *s);
/* begin, write everything read from fd, end. */
int spool_submit_file_fd(struct spool_submit *s, const char *filename, int fd);
int spool_submit_commit(struct spool_submit *s);
void spool_submit_abort(struct spool_submit *s);
void spool_submit_free(struct spool_submit *s);
/*
 * Record file entry s->nfiles (its bytes already at in/<n>.<ext>) with the
 * display form of filename; used by part.c.
 */
int spool_submit_entry(struct spool_submit *s, const char *filename,
    const char *ext, const char *ctype, long long size);

/* status.c ------------------------------------------------------------- */

enum file_state {
	FS_QUEUED,
	FS_UPLOADING,
	FS_IN_QUEUE,
	FS_PROCESSING,
	FS_DOWNLOADING,
	FS_COMPLETED,
	FS_FAILED,
	FS_CANCELLED,
	FS_NSTATES
};

const char *file_state_name(enum file_state st);
/* -1 for an unknown name. */
int file_state_parse(const char *name);
/* 1 for completed, failed, cancelled. */
int file_state_final(enum file_state st);

/*
 * Replace batches/<id>/state/<file>.json with st (borrowed; this function
 * sets its "seq" and "updated").  Under an flock of state/.lock the
 * counter it holds is bumped and synced, the status file is written, then
 * state/seq (status.c).  Returns the new seq, or -1 with errno.
 */
long long
spool_status_put(struct spool *sp, const char *id, int file, json_t *st);
/* New reference to state/<file>.json, or NULL with errno. */
json_t *spool_status_get(struct spool *sp, const char *id, int file);
/*
 * Read-modify-write under the batch lock: load the status, apply the
 * fields of patch (borrowed) on top, write it.  If only_if_state >= 0 the
 * change happens only when the current state equals it (else -1, EAGAIN).
 */
long long spool_status_update(struct spool *sp, const char *id, int file,
    json_t *patch, int only_if_state);
/* Current batch sequence number (state/seq), 0 when none, -1 on error. */
long long spool_seq_get(struct spool *sp, const char *id);
/*
 * Watch batches/<id>/state/ with inotify_fd for the events in mask (a
 * hint that state/seq may have changed: readers still read it); the
 * watch descriptor, or -1 with errno (ENOENT: no such batch).
 */
int spool_state_watch(
    struct spool *sp, int inotify_fd, const char *id, unsigned mask);
/* New reference to batches/<id>/batch.json, or NULL with errno. */
json_t *spool_batch_get(struct spool *sp, const char *id);

/* queue.c -------------------------------------------------------------- */

/* Publish marker "<id>.<file>" into q/new (via q/tmp). */
int spool_queue_put(struct spool *sp, const char *id, int file);
/*
 * Claim q/new/<marker> into q/cur/<owner>/<marker> by rename.  Returns 0
 * when claimed, -1 with ENOENT when someone else got it first.
 */
int spool_queue_claim(struct spool *sp, const char *owner, const char *marker);
/* Finish a claimed marker: remove q/cur/<owner>/<marker>. */
int spool_queue_done(struct spool *sp, const char *owner, const char *marker);
/* Hand a claimed marker back: rename q/cur/<owner>/<marker> to q/new. */
int
spool_queue_release(struct spool *sp, const char *owner, const char *marker);
/*
 * Take a marker out of q/new so no daemon can claim it (cancel).  0 when
 * it was there, -1 with ENOENT when it was not (claimed or finished).
 */
int spool_queue_withdraw(struct spool *sp, const char *id, int file);
/* 1 when a marker for id.file exists anywhere in q/, else 0. */
int spool_queue_has(struct spool *sp, const char *id, int file);
/* Number of markers waiting in q/new. */
int spool_queue_depth(struct spool *sp);
/* q/cur/<owner>: made when a daemon registers, removed (empty) at exit. */
int spool_queue_owner_add(struct spool *sp, const char *owner);
int spool_queue_owner_remove(struct spool *sp, const char *owner);
/* Hand every claim of owner back to q/new; how many, or -1. */
int spool_queue_release_all(struct spool *sp, const char *owner);
/* A waiting marker, parsed once (the scan sorts many of them). */
struct spool_marker {
	char name[SPOOL_MARKER_MAX];
	char id[SPOOL_ID_LEN + 1];
	int file;
	struct timespec mtime; /* when it was queued */
};
/* Every marker in q/new: *out (caller frees) and *count; 0 or -1. */
int
spool_queue_list(struct spool *sp, struct spool_marker **out, size_t *count);
/* The same over q/new and every q/cur/<owner>: every file not yet done. */
int spool_queue_list_all(
    struct spool *sp, struct spool_marker **out, size_t *count);
/* Watch q/new with inotify_fd (a hint to scan); the watch or -1. */
int spool_queue_watch(struct spool *sp, int inotify_fd);

/* control.c ------------------------------------------------------------ */

/*
 * Cancel and retry, shared by the HTTP API and the CLI.  Cancel withdraws
 * queued markers and marks those files cancelled; files being worked on
 * get batches/<id>/cancel/<file> which the worker honours.  Retry queues
 * failed and cancelled files again.  Both return the number of files they
 * touched, or -1 with errno (ENOENT for an unknown batch).
 */
int spool_cancel(struct spool *sp, const char *id);
int spool_retry(struct spool *sp, const char *id);
/* 1 when cancel of id.file was requested. */
int spool_cancel_requested(struct spool *sp, const char *id, int file);

/* summary.c ------------------------------------------------------------ */

/*
 * The batch as readers see it: batch.json plus every file's status, with
 * the derived overall state.  New reference:
 *   {"batch_id","model","created","params","face_limit","total","current",
 *    "progress","status","successful","failed","cancelled","seq",
 *    "files":[status objects in upload order]}
 * status is queued / processing / completed / failed / cancelled, and
 * "finished" is true once every file is final.
 */
json_t *spool_batch_summary(struct spool *sp, const char *id);

/* models.c, params.c, price.c: the model table, in models.h */
#include "models.h"

/* spend.c -------------------------------------------------------------- */

/*
 * What FAL was paid, one file per UTC day: spend/<YYYY-MM-DD>.json, an
 * object {"day","total_usd","requests","unknown_price","entries":[{
 * "request_id","file","usd","at"}]} replaced whole under an flock of
 * spend/.lock.  A request id is counted once: spool_spend_add looks for
 * it in that day's file and the day before (a retry after midnight).
 */
#define SPOOL_DAY_LEN 10 /* "YYYY-MM-DD" */
/* The UTC day of ms (spool_now_ms() clock) into out. */
void spool_spend_day(long long ms, char out[SPOOL_DAY_LEN + 1]);
/*
 * Count one completed request: usd < 0 = its price is unknown; day NULL =
 * today.  1 when counted, 0 when this request id was counted already,
 * -1 with errno.
 */
int spool_spend_add(struct spool *sp, const char *day, double usd,
    const char *request_id, const char *file);
/* The day's spend file (an empty one when none); new reference or NULL. */
json_t *spool_spend_get(struct spool *sp, const char *day);
/*
 * The daily budget: 0 when an estimate of estimate USD (< 0 = unknown)
 * fits in what is left today of FAL_BUDGET_USD_PER_DAY (or there is no
 * cap); else -1 with one sentence naming what is left in err.  What is
 * left is the cap minus today's spend minus what is held (below), so two
 * uploads queued at once cannot both spend it.  *left gets what is left
 * (or -1 without a cap).
 */
int spool_budget_check(struct spool *sp, const struct config *c,
    double estimate, double *left, char *err, size_t errlen);
/*
 * What the files not yet done at FAL will cost: the price of every FAL
 * file with a queue marker (waiting or claimed) whose request record holds
 * no result yet (a result is paid, and counted in the spend file).  *usd
 * and *files; 0 or -1 with errno.  An unknown price counts as 0 here
 * (such uploads are refused while a cap is set).
 */
int spool_budget_held(struct spool *sp, double *usd, int *files);

/* part.c --------------------------------------------------------------- */

/*
 * Streaming one image into a submission while it arrives (the upload
 * handler's multipart parser): open a dot-name temp file in tmp/<id>/in/,
 * append chunks, then finish (fsync, rename to in/<n>.<ext>, record the
 * entry) or abort (remove the temp file).  Memory use does not depend on
 * the file's size.
 */
/* struct spool_part is defined with struct spool_submit above. */
int spool_part_open(struct spool_submit *s, struct spool_part *p);
int spool_part_write(struct spool_part *p, const void *buf, size_t len);
int spool_part_finish(struct spool_submit *s, struct spool_part *p,
    const char *filename, const char *ext, const char *ctype);
/* Remove the temp file; safe to call twice and after finish. */
void spool_part_abort(struct spool_part *p);

/* formats.c: the download formats of a model, in formats.h */
#include "formats.h"

#endif
