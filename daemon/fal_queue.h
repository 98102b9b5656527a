/*
 * fal_queue.h: what the FAL backend says to FAL, one function per
 * endpoint (fal_queue.c), and the admission of files to FAL: the
 * in-flight cap and the account's health (fal_gate.c).  backend_fal.c
 * strings these into the life of one file; fal_http.c carries the bytes.
 *
 * Every function here takes the worker's connection and returns the
 * transport's verdict (enum fal_result); *rs holds the last answer and is
 * freed by the caller with fal_resp_free, also on failure.  JSON answers
 * come back parsed in *ans (new reference, NULL when unreadable).
 */
#ifndef FAL_QUEUE_H
#define FAL_QUEUE_H

#include "fal_http.h"

#define FAL_TRIES 8 /* upload, submit, result, download */
#define BS_LOCKED 100 /* not a backend_status: the account refused (403) */

/* fal_queue.c ---------------------------------------------------------- */

/*
 * Storage upload (protocol §3.2 A): initiate with the key and the
 * object-lifecycle header (FAL_UPLOAD_TTL_S), then PUT the bytes to the
 * presigned URL without it.  The name is "photo-<index>.<ext>" (no batch
 * id leaves the server); ctype NULL = from the bytes.  file_url gets the
 * URL a model reads.  img NULL: initiate only (a cheap probe).
 */
enum fal_result fal_q_upload(struct fal_worker *w, const void *img, size_t len,
    const char *ctype, int index, long long deadline, char *file_url,
    size_t urllen, struct fal_resp *rs);
/* Submit input to the model (§1.4), with the output lifecycle preference. */
enum fal_result fal_q_submit(struct fal_worker *w, const char *fal_id,
    json_t *input, long long deadline, struct fal_resp *rs, json_t **ans);
/* One status answer (§1.5), logs on; retried until deadline. */
enum fal_result fal_q_status(struct fal_worker *w, const char *status_url,
    long long deadline, struct fal_resp *rs, json_t **ans);
/* The result (§1.7); a cut answer is asked again. */
enum fal_result fal_q_result(struct fal_worker *w, const char *response_url,
    struct fal_resp *rs, json_t **ans);
/* Cancel (§1.8); *ans (ans may be NULL) has FAL's "status" word. */
enum fal_result fal_q_cancel(struct fal_worker *w, const char *cancel_url,
    struct fal_resp *rs, json_t **ans);
/* GET a CDN file (no key) into fd, at most cap bytes. */
enum fal_result fal_q_download(struct fal_worker *w, const char *url, int fd,
    long long cap, struct fal_resp *rs);

/*
 * The request record of a submit answer: request id, the status, result
 * and cancel URLs (FAL's own when they are on FAL_QUEUE_URL, since the
 * key goes with them, else the owner/alias form of §1.3), the deadline.
 * NULL when the answer cannot be read.
 */
json_t *fal_q_record(const struct config *cfg, const struct model_info *m,
    json_t *ans, const char *file_url, long long deadline);

/*
 * A failed call as a file's final status and reason (one sentence into
 * err); what names the step for people ("upload", "request", ...).
 */
enum backend_status fal_failure(const struct config *cfg, enum fal_result fr,
    const struct fal_resp *rs, const char *what, char *err, size_t errlen);

/*
 * Every FAL row of the model table names its image field and at least
 * one output field; 0, or -1 with a sentence in err (the daemon refuses
 * to start).  The backend's check() hook.
 */
int fal_models_check(const struct config *cfg, char *err, size_t errlen);

/* Pure helpers, unit tested. */
/*
 * The reason of a request that COMPLETED with an error (done: the status
 * answer) from the result's detail (msg, type), else the status' error.
 */
void fal_model_error(json_t *done, json_t *result, char *err, size_t errlen);
/* Progress 15..90 while FAL runs: its logs, else the time elapsed. */
int fal_run_progress(json_t *logs, long long elapsed_ms, long long typical_ms);
/* One sentence of FAL's own message from an error answer into out. */
void fal_error_text(const struct fal_resp *rs, char *out, size_t len);
/* "msg (type)" of the first detail of an error body, or its detail text. */
void fal_detail_text(json_t *body, char *out, size_t len);
/* Progress 0..100 read from a status answer's logs, -1 when none says. */
int fal_logs_progress(json_t *logs);
/* "owner/alias" (or "workflows/owner/alias") of a model id; 0 or -1. */
int fal_owner_alias(const char *fal_id, char *out, size_t len);
/*
 * The model input for one file: the image URL under the model's field
 * (as [url] when the field takes an array), the params the model's row
 * knows (every other name is dropped: FAL would ignore it and bill),
 * output_format "glb" for models that have one.  New reference, NULL on
 * ENOMEM.
 */
json_t *fal_build_input(
    const struct model_info *m, json_t *params, const char *image_url);
/* The first of the row's output fields the result has, with its URL. */
const char *
fal_mesh_url(const struct model_info *m, json_t *result, const char **field);

/* fal_fetch.c ---------------------------------------------------------- */

/*
 * Download the mesh (the first of the row's outputs in result) and the
 * preview into out/, filling job->result_*.  BACKEND_FAILED with err set;
 * when the CDN no longer has the mesh (404/410) the request record is
 * replaced by a note of it, so a retry submits anew.
 */
enum backend_status fal_fetch_files(struct fal_worker *w, struct job *job,
    const struct model_info *m, json_t *result, char *err, size_t errlen);

/* fal_show.c ----------------------------------------------------------- */

/* What a file's status file last got, so only changes are written. */
struct fal_shown {
	int st, prog, qpos; /* st -2 = nothing yet */
	long long at, proc_start; /* last write; first IN_PROGRESS seen */
};
/*
 * Write the file's progress: a state or queue-position change at once
 * (or always with force), progress alone at most once a second (each
 * write is an fsync and an SSE event).
 */
void fal_show(struct fal_shown *s, struct job *job, enum file_state st,
    int prog, int qpos, const char *msg, int force);
/* Show a status answer that is not COMPLETED (queue position, progress). */
void fal_show_status(struct fal_shown *s, struct job *job,
    const struct model_info *m, json_t *status, int cancel_sent);

/* fal_gate.c ----------------------------------------------------------- */

/*
 * Take an in-flight slot when fewer than cap are taken, waiting at most
 * wait_ms for one; 1 = taken, 0 = not (yet).  wait_ms 0 takes one at
 * once regardless of the cap (a resumed request is at FAL already).
 */
int fal_gate_slot(int cap, long wait_ms);
void fal_gate_slot_give(void);
int fal_gate_inflight(void);
/* FAL said 401 (rejected = 1) or accepted the key (0). */
void fal_gate_key(int rejected);
/* The account refuses new work (403): reason is FAL's detail. */
void fal_gate_lock(const char *reason);
void fal_gate_unlock(void);
/* fal_gate_lock with FAL's detail of a 403 answer; returns BS_LOCKED. */
int fal_gate_refused(const struct fal_resp *rs);
/* 1 and reason (when not NULL) while the account is locked. */
int fal_gate_locked(char *reason, size_t len);
/* 1 to exactly one caller per interval_ms while locked: it probes. */
int fal_gate_probe_due(long interval_ms);
/*
 * Wait until the account works and fewer than FAL_MAX_INFLIGHT requests
 * are in flight, then take a slot; the file shows as queued with why.
 * While locked, one waiter per FAL_PROBE_S probes with a storage
 * initiate (no bytes).  0 = go, else BACKEND_CANCELLED (the user
 * cancelled: the file never reaches FAL) or BACKEND_HANDBACK.
 */
int fal_gate_enter(struct fal_worker *w, struct job *job);
/* Heartbeat fields: {"fal_auth": none|ok|rejected|locked, "fal_message"}. */
json_t *fal_gate_status(const struct config *cfg);

#endif
