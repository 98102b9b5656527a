/*
 * config.h: the one configuration of every program (config.c), keeping
 * its keys out of the environment (secrets.c) and comparing keys
 * (apikey.c).  Split from spool.h so each stays one screenful of parts;
 * spool.h includes it, so every program sees both.
 */
#ifndef SPOOL_CONFIG_H
#define SPOOL_CONFIG_H

#include <stddef.h>

/* config.c ------------------------------------------------------------- */

/*
 * One KEY=VALUE file read by every program; each key may be overridden by
 * an environment variable of the same name.  The file is $I2M_CONFIG, else
 * ./image2model.conf when it exists; a missing default file is not an error.
 */
struct config {
	char spool_dir[4096];
	int port;
	int workers;
	int local_memory_mb; /* address space one offline conversion may add */
	int local_cpu_s; /* CPU seconds one offline conversion may use */
	char fal_key[256];
	char fal_queue_url[512];
	char fal_rest_url[512];
	int max_files;
	long long max_file_bytes;
	int retention_hours;
	long long disk_floor_mb;
	char default_model[64];
	int fal_max_inflight; /* requests in flight at FAL, per daemon */
	int fal_deadline_s; /* per-file deadline at FAL */
	int fal_poll_ms; /* status poll interval */
	int fal_timeout_ms; /* one FAL API call's total time limit */
	int fal_cancel_grace_s; /* polls after cancelling a running request */
	int fal_probe_s; /* a locked account is probed this often */
	int fal_upload_ttl_s; /* lifetime of an uploaded photo at FAL */
	int fal_output_ttl_s; /* lifetime of FAL's files of a model */
	char cors_origins[1024]; /* space-separated, empty = none */
	char api_keys[1024]; /* space-separated bearer keys, empty = open */
	char admin_api_key[256]; /* key(s) of /api/v1/admin/, empty = off */
	int sse_max_streams; /* open streams per SSE process; past it 503 */
	int sse_heartbeat_ms; /* heartbeat after this long without events */
	char log_level[16]; /* debug, info or warn; set for the process */
	double fal_budget_usd_per_day; /* 0 = no cap */
	int rate_limit_per_min; /* API requests per client address, 0 = any */
	int uploads_per_ip; /* uploads under way per address, 0 = any */
	char public_url[512]; /* scheme://host[:port] of returned URLs */
	char webhook_url[1024]; /* every batch's webhook, empty = none */
	char webhook_secret[256]; /* HMAC-SHA256 key of webhook bodies */
	int webhook_allow_private; /* 1: loopback/private targets allowed */
	int webhook_max_attempts; /* deliveries tried before giving up */
	int webhook_backoff_ms; /* first retry delay, doubled each time */
	int webhook_timeout_ms; /* one delivery's total time limit */
};

/*
 * Fill *c with defaults, the config file and the environment.  On a bad
 * value returns -1 and writes one sentence naming the key into err.
 */
int config_load(struct config *c, char *err, size_t errlen);
/* The largest request body an upload may send: MAX_FILES files of
 * MAX_FILE_BYTES with their multipart overhead. */
long long config_request_bytes(const struct config *c);
/*
 * The resolved value of KEY as text, or of a derived key (MAX_REQUEST_BYTES,
 * MAX_REQUEST_KB for lighttpd).  -1 with ENOENT for an unknown key, EPERM
 * for a secret (FAL_KEY, API_KEYS, ADMIN_API_KEY, WEBHOOK_SECRET).
 */
int
config_value(const struct config *c, const char *name, char *buf, size_t len);
/* The name of the i-th key (derived keys last), NULL past the last. */
const char *config_key_name(size_t i);

/* secrets.c ------------------------------------------------------------ */

/*
 * Overwrite FAL_KEY, API_KEYS, ADMIN_API_KEY and WEBHOOK_SECRET in this process's
 * environment and unset them (after config_load): /proc/<pid>/environ and
 * children never see a key.
 */
void config_scrub_env(void);

/*
 * The next word of a space- or comma-separated config list (API_KEYS,
 * CORS_ORIGINS) at *p: its start and *len, *p moved past it; NULL at the
 * end.
 */
const char *config_list_next(const char **p, size_t *len);

/* apikey.c ------------------------------------------------------------- */

/*
 * 1 when key is one of the space- or comma-separated keys of list,
 * compared in constant time (no early exit on a prefix or a length).
 */
int config_key_listed(const char *list, const char *key);

#endif
