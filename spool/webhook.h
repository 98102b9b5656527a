/*
 * webhook.h: the webhook queue of the spool (webhook.c) and the rule for
 * a webhook_url.  Split from spool.h, which includes it.
 *
 * A finished batch is announced once per target: target 0 is the upload
 * field webhook_url (batch.json "webhook_url"), target 1 the WEBHOOK_URL
 * config key (batch.json "webhook_config": true when it was set at
 * submission; the daemon's current WEBHOOK_URL is used).  Each delivery
 * is one record "<id>.<k>.json" that is in exactly one of webhooks/new/,
 * webhooks/cur/<daemon>/ and webhooks/done/ (spool/README.md).
 */
#ifndef SPOOL_WEBHOOK_H
#define SPOOL_WEBHOOK_H

#include <stddef.h>

#include <jansson.h>

#define SPOOL_WEBHOOK_URL_MAX 1000 /* bytes of a webhook_url */
#define SPOOL_WEBHOOK_NAME_MAX 48 /* "<id>.<k>.json" */
#define SPOOL_HOOK_UPLOAD 0 /* target: the upload's webhook_url */
#define SPOOL_HOOK_CONFIG 1 /* target: WEBHOOK_URL */
#define SPOOL_HOOK_TARGETS 2

struct spool;

/* webhook_url.c -------------------------------------------------------- */

/*
 * The rule for a webhook_url (upload field, WEBHOOK_URL): http:// or
 * https://, a host, an optional port 1-65535, at most
 * SPOOL_WEBHOOK_URL_MAX printable ASCII bytes.  0, or -1 with one
 * sentence in err.  Addresses are judged at delivery (DNS can change).
 */
int spool_webhook_url_check(const char *url, char *err, size_t errlen);

/* webhook.c ------------------------------------------------------------ */

/* Make webhooks/ and its directories (the daemon, at start). */
int spool_webhook_init(struct spool *sp);
/* "<id>.<k>.json" into out; -1 with EINVAL for a bad id or target. */
int spool_webhook_name(char *out, size_t len, const char *id, int target);
/* Parse a record name; 0 and fills id and *target, or -1. */
int spool_webhook_parse(const char *name, char id[], int *target);
/*
 * Publish the record for (id, target) into webhooks/new/ unless that
 * name is anywhere in the area already: 1 when published, 0 when it was
 * there (queued, being delivered or done), -1 with errno.  url may be
 * NULL (the config target: the daemon's WEBHOOK_URL); body is the POST's.
 */
int spool_webhook_enqueue(struct spool *sp, const char *id, int target,
    const char *url, const char *body);
/*
 * Announce batch id when every file is final and it has targets: its
 * summary with "event":"batch.finished" is the body.  How many records
 * were published (0: not finished, no targets, announced already), or -1.
 */
int spool_webhook_batch_done(struct spool *sp, const char *id);
/*
 * The record in webhooks/new/ due first: 1 and its name when one is due
 * at now (ms); else 0 and *next gets the earliest due time (LLONG_MAX
 * when the queue is empty).  -1 with errno.
 */
int spool_webhook_due(
    struct spool *sp, long long now, char *name, size_t len, long long *next);
/* Watch webhooks/new with inotify_fd (a hint to look); the watch or -1. */
int spool_webhook_watch(struct spool *sp, int inotify_fd);
/* webhooks/cur/<owner>: made by the daemon at start, removed at exit. */
int spool_webhook_owner_add(struct spool *sp, const char *owner);
int spool_webhook_owner_remove(struct spool *sp, const char *owner);
/*
 * Claim new/<name> into cur/<owner>/ (under the lock): the record, new
 * reference, or NULL with ENOENT when another daemon or a sweep got it.
 */
json_t *
spool_webhook_claim(struct spool *sp, const char *owner, const char *name);
/* Replace the claimed record by the temp-file rule. */
int spool_webhook_save(
    struct spool *sp, const char *owner, const char *name, const json_t *rec);
/* Move a claimed record back to new/ (retry later) or into done/. */
int
spool_webhook_requeue(struct spool *sp, const char *owner, const char *name);
int spool_webhook_finish(struct spool *sp, const char *owner, const char *name);
/* Every claim of owner back to new/ (a dead daemon); how many, or -1. */
int spool_webhook_release_all(struct spool *sp, const char *owner);
/* Remove batch id's records from new/ and done/ (retention). */
void spool_webhook_forget(struct spool *sp, const char *id);
/*
 * Remove records of new/ and done/ whose batch is gone, and temp files
 * of webhooks/tmp/ older than stale_s.  How many.
 */
int spool_webhook_sweep(struct spool *sp, long stale_s);

#endif
