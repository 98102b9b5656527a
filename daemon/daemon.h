/*
 * daemon.h: the image2model daemon.  It watches q/new of the spool,
 * claims markers by rename into q/cur/<daemon-id>/ and runs each file of a
 * batch through a backend in a bounded pool of worker threads.
 *
 * Protocol kept (see spool/README.md):
 *  - a marker is claimed only while a worker is free, so other daemons on
 *    the same spool can take the rest;
 *  - a job's every state change is written to its status file before the
 *    next step starts; a provider request id is written before polling;
 *  - a job ends by writing a final status and only then removing its
 *    marker, so a crash at any point leaves the marker to be retried.
 *
 * Prototypes are grouped by the file that defines them.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>

#include "spool.h"

/*
 * One file of a batch being worked on.  Owned by one worker thread; the
 * json_t members are private to that thread.
 */
struct job {
	struct spool *sp;
	const struct config *cfg;
	char id[SPOOL_ID_LEN + 1];
	int file;
	char marker[SPOOL_MARKER_MAX];
	json_t *batch; /* batch.json, new reference */
	json_t *entry; /* borrowed from batch: files[file] */
	const char *model; /* borrowed from batch */
	json_t *params; /* borrowed from batch: object */
	char input[PATH_MAX]; /* absolute path of the input image */
	int outdir; /* fd of batches/<id>/out */
	void *worker; /* backend's per-worker state (e.g. a CURL) */
	/* results a backend fills in before returning BACKEND_OK */
	char result_model[64]; /* name under out/, e.g. "0.glb" */
	long long result_size;
	char result_image[64]; /* preview under out/, "" when none */
	char result_image_type[32];
	long long result_image_size;
	char result_message[256]; /* final message, "" = "Model ready" */
	/* formats the provider made beside the GLB, kept as they are:
	 * [{name, ext, file, size, source: "provider"}] (NULL = none) */
	json_t *formats;
	/* fields formats_make adds to the completed status (NULL = none) */
	json_t *result_extra;
};

enum backend_status {
	BACKEND_OK, /* result files are in out/ */
	BACKEND_FAILED, /* job->error holds the reason */
	BACKEND_CANCELLED, /* cancel was requested and honoured */
	BACKEND_HANDBACK /* daemon stopping: give the marker back */
};

struct backend {
	const char *name; /* "local", "fal" */
	/*
	 * A file whose run was interrupted this many times (the daemon died
	 * while running it: OOM-killed, kill -9) fails with a reason instead
	 * of running again; 0 = no limit (FAL resumes a paid request).
	 */
	int max_interrupted;
	/*
	 * Checked once at start, before any work: 0, or -1 with one sentence
	 * in err (the daemon refuses to start).  May be NULL.
	 */
	int (*check)(const struct config *cfg, char *err, size_t errlen);
	/*
	 * Health for the heartbeat: an object of fields it carries (e.g.
	 * {"fal_auth":"locked","fal_message":"..."}), new reference, or
	 * NULL.  Called from the main thread while workers run.
	 */
	json_t *(*status)(const struct config *cfg);
	/* Per-worker state, made by the worker thread at start; may be NULL. */
	void *(*worker_init)(const struct config *cfg);
	void (*worker_free)(void *w);
	/*
	 * Run one job.  On BACKEND_FAILED, err holds one sentence a person
	 * can act on.  Progress goes through job_progress().
	 */
	enum backend_status (*run)(struct job *job, char *err, size_t errlen);
};

/* contain.c: i2m-convert, the contained decoder ----------------------- */

struct i2g_info;
/* Find i2m-convert next to i2m-daemon (at start); 0, or -1 with err. */
int convert_find(char *err, size_t errlen);
/*
 * Run i2m-convert with argv (convert.h) on job->input under the job's
 * limits: BACKEND_OK with *data (malloc'd, at most cap bytes), *len and
 * *info (may be NULL); BACKEND_FAILED with one sentence in err; or
 * BACKEND_CANCELLED when the user cancelled the file meanwhile.
 */
enum backend_status convert_spawn(struct job *job, char *const argv[],
    size_t cap, unsigned char **data, size_t *len, struct i2g_info *info,
    char *err, size_t errlen);

/* thumb.c -------------------------------------------------------------- */

/*
 * Make out/<n>.thumb.jpg once (in i2m-convert) and name it in the status
 * as thumbnail_file; st is the file's status (may be NULL).  Never fails
 * the file: a problem is logged.
 */
void thumb_make(struct job *job, json_t *st);

/* backend_local.c ------------------------------------------------------ */
extern const struct backend backend_local;

/* backend_fal.c -------------------------------------------------------- */
extern const struct backend backend_fal;

/* formats.c ------------------------------------------------------------ */

/*
 * Make the completed model's other formats from job->result_model (each
 * by one run of i2m-formats under time and memory limits) and set
 * job->result_extra to the status fields: formats, format_errors,
 * triangles, watertight.  A failing format is listed in format_errors
 * only; the GLB and the other formats stay.
 */
void formats_make(struct job *job);

/* pool.c --------------------------------------------------------------- */

/*
 * A bounded pool of worker threads fed with claimed markers.  The
 * dispatcher claims only as many markers as pool_free() allows; each
 * finished job writes to done_fd (an eventfd) so the main loop rescans.
 */
struct pool;
struct pool *pool_new(struct spool *sp, const struct config *cfg,
    const char *owner, int nworkers, int done_fd);
/* Free slots: workers minus jobs queued or running. */
int pool_free(struct pool *p);
int pool_busy(struct pool *p);
/* Hand a claimed marker to the pool; -1 with EBUSY when full. */
int pool_push(struct pool *p, const char *marker);
/*
 * Stop: markers not yet started are handed back to q/new, running jobs
 * finish (or hand back themselves); then the threads are joined.
 */
void pool_stop(struct pool *p);
void pool_free_all(struct pool *p);

/* scan.c --------------------------------------------------------------- */

/*
 * Recovery and the queue scan.  scan_recover() hands back the claims of
 * dead daemons, removes stale temp files and re-queues queued files that
 * lost their marker.  scan_claim() claims up to max markers from q/new,
 * oldest first, and hands them to the pool; returns how many it claimed
 * and sets *more when some were left waiting.
 */
int scan_recover(struct spool *sp, const char *me);
int scan_claim(struct spool *sp, const char *me, struct pool *p, int *more);
/* Remove batches older than hours (0 = keep forever). */
int scan_retention(struct spool *sp, int hours);

/* webhook_sign.c ------------------------------------------------------- */

struct sockaddr;
/* out gets the lowercase hex of HMAC-SHA256(body) under key; 0 or -1. */
int webhook_sign(const char *key, const void *body, size_t len, char out[65]);
/*
 * NULL when a webhook may connect to sa; else the kind of address that
 * WEBHOOK_ALLOW_PRIVATE=1 would allow ("loopback", "private", ...).
 */
const char *webhook_addr_blocked(const struct sockaddr *sa);

/* webhook.c ------------------------------------------------------------ */

/*
 * The webhook sender: one thread (never a pool worker, so a slow or dead
 * receiver never holds up a conversion) delivering webhooks/new records
 * as they fall due.  start makes webhooks/cur/<owner> and starts the
 * thread; kick wakes it (a hint: a record may be new); stop interrupts a
 * delivery under way, hands its record back and joins the thread.
 * file_done (any thread) announces a batch whose files are all final.
 */
int
webhook_start(struct spool *sp, const struct config *cfg, const char *owner);
void webhook_kick(void);
void webhook_stop(void);
void webhook_file_done(struct spool *sp, const char *id);

/* job.c ---------------------------------------------------------------- */

/* Set by SIGTERM/SIGINT: stop taking work, hand back long jobs. */
extern atomic_int daemon_stopping;

/*
 * Record progress of a running job: state, percent (0-100), queue
 * position (< 0 = null) and a short message for people.  0 or -1.
 */
int job_progress(struct job *job, enum file_state st, int progress,
    int queue_position, const char *message);
/* 1 when the user asked to cancel this file. */
int job_cancel_requested(struct job *job);
/* Provider request record: batches/<id>/remote/<file>.json. */
int job_remote_save(struct job *job, json_t *rec);
json_t *job_remote_load(struct job *job); /* NULL when none */
/* Every backend; a worker keeps one state per entry (wstate[i]). */
#define JOB_NBACKENDS 2
extern const struct backend *const job_backends[JOB_NBACKENDS];
/* Every backend's check(); 0, or -1 with the first failure in err. */
int job_backends_check(const struct config *cfg, char *err, size_t errlen);
/*
 * The heartbeat's backend fields: "backends" (the names of the table)
 * and what each backend's status() says.  New reference, NULL on ENOMEM.
 */
json_t *job_backends_status(const struct config *cfg);
/*
 * Run one claimed marker to its end: load, pick the backend, run, write
 * the final status, then finish or hand back the marker.  wstate holds
 * the worker's per-backend states, made on first use.
 */
void job_run(struct spool *sp, const struct config *cfg, const char *owner,
    const char *marker, void *wstate[JOB_NBACKENDS]);

#endif
