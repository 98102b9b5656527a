/*
 * api.h: i2m-api.fcgi, every /api/ path but uploads and streams
 * (shared/docs/api.md).  api_main.c routes a request through one table of
 * {method, pattern, handler}; the handlers live in files by concern.
 * Adding an endpoint is one row in api_main.c and one function here.
 *
 * A pattern is a path of segments, "*" matching any one segment; the
 * segments "*" matched are the handler's arg[] in order.  An id from a
 * path passes spool_id_valid() (in the spool calls) before any spool path
 * is built from it.  Prototypes are grouped by the file that defines them.
 */
#ifndef API_H
#define API_H

#include "cgi.h"

typedef void (*api_handler)(struct req *r, const char *const *arg);

/* api_main.c ----------------------------------------------------------- */

/* 404 for a batch id that does not exist (or is no id). */
void api_unknown_task(struct req *r, const char *id);
/* The batch summary, or NULL when a 404 / 500 has been sent. */
json_t *api_summary_or_reply(struct req *r, const char *id);
/* The current time as ISO 8601 with milliseconds, UTC. */
void api_iso_now(char *out, size_t len);

/* api_tasks.c: status polling, cancel, retry --------------------------- */

void api_status(struct req *r, const char *const *arg);
void api_cancel(struct req *r, const char *const *arg);
void api_retry(struct req *r, const char *const *arg);

/* api_download.c: the batch's list, one file, all.zip ------------------ */

void api_download_list(struct req *r, const char *const *arg);
void api_download_zip(struct req *r, const char *const *arg);
void api_download_file(struct req *r, const char *const *arg);

/* api_qr.c: a QR code (SVG) opening a model's page on a phone ------- */

void api_qr(struct req *r, const char *const *arg);

/* api_thumb.c: an upload's thumbnail (made by the daemon) ----------- */

void api_thumb(struct req *r, const char *const *arg);

/* api_health.c: health, readiness, metrics, the model list ------------- */

/*
 * What readiness checks, read once (only the daemons' heartbeats and the
 * disk: O(daemons), never a batch); the detailed health and the admin
 * system health show the same reads.
 */
struct api_checks {
	int writable; /* a file can be written in the spool */
	int alive; /* daemons with a fresh heartbeat */
	long long free_mb; /* free on the spool's file system */
	int disk_ok; /* free_mb at or above DISK_FLOOR_MB */
	char fal_why[400]; /* "" unless FAL refuses the key or account */
	json_t *beats; /* the live daemons' heartbeats (owned) */
};
void api_checks_read(struct api_checks *c);
/* "unhealthy" when uploads cannot be processed (spool, daemon, disk),
 * "degraded" when only FAL refuses, else "healthy". */
const char *api_checks_status(const struct api_checks *c);
void api_checks_free(struct api_checks *c);

void api_health(struct req *r, const char *const *arg);
void api_liveness(struct req *r, const char *const *arg);
void api_health_detailed(struct req *r, const char *const *arg);
void api_readiness(struct req *r, const char *const *arg);
void api_metrics(struct req *r, const char *const *arg);
void api_models(struct req *r, const char *const *arg);

/* api_batches.c: the calling key's batches (GET /api/v1/batches) ----- */

/* One batch of a list: its id, when it was made, its batch.json. */
struct api_listed {
	char id[SPOOL_ID_LEN + 1];
	long long created;
	json_t *batch; /* batch.json */
};
struct batch_list {
	struct api_listed *v;
	size_t n, cap;
	const char *key_id; /* only this key's batches; NULL: every batch */
};
/* Every batch (of key_id, when not NULL), newest first; 0 or -1. */
int api_batch_list(struct batch_list *l, const char *key_id);
void api_batch_list_free(struct batch_list *l);
/*
 * ?limit= (1..max, default dflt) and ?offset= (0..): 0, or -1 when a
 * 400 naming the bad one has been sent.
 */
int api_page_params(struct req *r, long long dflt, long long max,
    long long *limit, long long *offset);
void api_batches(struct req *r, const char *const *arg);

/* api_admin.c: the earlier service's admin endpoints (ADMIN_API_KEY) -- */

void api_admin_disk(struct req *r, const char *const *arg);
void api_admin_system(struct req *r, const char *const *arg);
void api_admin_files(struct req *r, const char *const *arg);
void api_admin_cleanup(struct req *r, const char *const *arg);

#endif
