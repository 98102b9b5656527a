/*
 * api_admin.c: the earlier service's admin endpoints, under ADMIN_API_KEY:
 * disk usage, system health, the batches with their ages and sizes, and a
 * cleanup by age.  Every handler passes admin_gate first, which answers
 * 404 while ADMIN_API_KEY is not set (the endpoints do not exist then),
 * 401 when no key came and 403 for a key that is not the admin key; the
 * key is compared in constant time (spool/apikey.c).  lighttpd refuses
 * unread only uploads without an API key (tools/i2m_lighttpd.c), so an
 * admin request is never stopped before it gets here.
 *
 * The cleanup removes through the spool's retention rule
 * (spool_batches_expire, the daemon's RETENTION_HOURS path), never by its
 * own walk.  The system health shows readiness's reads (api_checks_read:
 * heartbeats and the disk); only the batch list and the disk usage walk
 * the spool, as an admin asked them to.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"

#define LIST_DEFAULT 50
#define LIST_MAX 500
#define CLEANUP_BODY_MAX 4096
#define CLEANUP_HOURS_MAX (24.0 * 365 * 100)

/* The key of an "Authorization: Bearer <key>" header, else NULL. */
static const char *
bearer(struct req *r)
{
	const char *h = cgi_param(r, "HTTP_AUTHORIZATION");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

/*
 * 1 when r carries the admin key (X-API-Key, as the earlier service's
 * clients send it, or a Bearer key), else the refusal has been sent (the
 * body dropped) and 0.
 */
static int
admin_gate(struct req *r)
{
	const char *x = cgi_param(r, "HTTP_X_API_KEY"), *b = bearer(r);
	int ok;

	if (cgi.cfg.admin_api_key[0] == '\0') {
		cgi_drain(r);
		cgi_error(r, 404, "NOT_FOUND", NULL,
		    "The admin endpoints are off; set ADMIN_API_KEY to turn them on.");
		return 0;
	}
	/* Each header that came is compared whole (no early exit). */
	ok = x != NULL ? config_key_listed(cgi.cfg.admin_api_key, x) : 0;
	ok |= b != NULL ? config_key_listed(cgi.cfg.admin_api_key, b) : 0;
	if (ok)
		return 1;
	cgi_drain(r);
	if ((x == NULL || *x == '\0') && (b == NULL || *b == '\0'))
		cgi_error(r, 401, "UNAUTHORIZED", NULL,
		    "Send the admin key (ADMIN_API_KEY) as \"X-API-Key: <key>\" or \"Authorization: Bearer <key>\".");
	else
		cgi_error(r, 403, "FORBIDDEN", NULL,
		    "This key is not the admin key; send the one set as ADMIN_API_KEY.");
	return 0;
}

static int
count_one(const char *id, void *arg)
{
	(void)id;
	(*(long long *)arg)++;
	return 0;
}

void
api_admin_disk(struct req *r, const char *const *arg)
{
	json_t *areas;
	json_int_t total = 0;
	json_t *v;
	long long free_mb, batches = 0;
	const char *k;
	char now[48];

	(void)arg;
	if (!admin_gate(r))
		return;
	areas = spool_areas_bytes(&cgi.sp);
	json_object_foreach(areas, k, v) {
		total += json_integer_value(v);
	}
	free_mb = spool_free_space_mb(&cgi.sp);
	spool_batch_foreach(&cgi.sp, count_one, &batches);
	api_iso_now(now, sizeof(now));
	cgi_json(r, 200,
	    json_pack("{s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:o}", "timestamp",
	        now, "spool_bytes", total, "free_bytes",
	        (json_int_t)(free_mb >= 0 ? free_mb * 1024 * 1024 : -1),
	        "free_mb", (json_int_t)free_mb, "floor_mb",
	        (json_int_t)cgi.cfg.disk_floor_mb, "disk_ok",
	        free_mb >= cgi.cfg.disk_floor_mb, "batch_count",
	        (json_int_t)batches, "areas", areas));
}

void
api_admin_system(struct req *r, const char *const *arg)
{
	struct api_checks c;
	json_int_t workers = 0, busy = 0;
	json_t *b;
	size_t i;
	char now[48];

	(void)arg;
	if (!admin_gate(r))
		return;
	api_checks_read(&c);
	json_array_foreach(c.beats, i, b) {
		workers += json_integer_value(json_object_get(b, "workers"));
		busy += json_integer_value(json_object_get(b, "busy"));
	}
	api_iso_now(now, sizeof(now));
	cgi_json(r, 200,
	    json_pack(
	        "{s:s, s:s, s:i, s:O, s:i, s:{s:I, s:I}, s:b, s:{s:I, s:I, s:b}, s:s?}",
	        "status", api_checks_status(&c), "timestamp", now,
	        "daemons_alive", c.alive, "heartbeats", c.beats, "queue_depth",
	        spool_queue_depth(&cgi.sp), "workers", "total", workers, "busy",
	        busy, "spool_writable", c.writable, "disk", "free_mb",
	        (json_int_t)c.free_mb, "floor_mb",
	        (json_int_t)cgi.cfg.disk_floor_mb, "ok", c.disk_ok,
	        "fal_problem", c.fal_why[0] != '\0' ? c.fal_why : NULL));
	api_checks_free(&c);
}

/* The list's entry of one batch; the size and status only for a page. */
static json_t *
listed_json(const struct api_listed *l, long long now)
{
	/* Past the view cache: a page of batches would evict every view. */
	json_t *s = spool_batch_summary(&cgi.sp, l->id);
	const char *st = json_string_value(json_object_get(s, "status"));
	json_t *e = json_pack("{s:s, s:I, s:f, s:I, s:I, s:s?, s:s}",
	    "batch_id", l->id, "created", (json_int_t)l->created, "age_hours",
	    (double)(now - l->created) / 3600000.0, "bytes",
	    (json_int_t)spool_batch_bytes(&cgi.sp, l->id), "file_count",
	    (json_int_t)json_array_size(json_object_get(l->batch, "files")),
	    "model", json_string_value(json_object_get(l->batch, "model")),
	    "status", st != NULL ? st : "unknown");

	json_decref(s);
	return e;
}

void
api_admin_files(struct req *r, const char *const *arg)
{
	struct batch_list l = {NULL, 0, 0, NULL};
	long long now = spool_now_ms(), limit, offset;
	json_t *page;
	size_t i;

	(void)arg;
	if (!admin_gate(r) ||
	    api_page_params(r, LIST_DEFAULT, LIST_MAX, &limit, &offset) == -1)
		return;
	if (api_batch_list(&l, NULL) == -1) {
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The batches could not be listed (%s).", strerror(errno));
		return;
	}
	page = json_array();
	for (i = (size_t)offset; i < l.n && i < (size_t)(offset + limit); i++)
		json_array_append_new(page, listed_json(&l.v[i], now));
	cgi_json(r, 200,
	    json_pack("{s:o, s:I, s:I, s:I}", "items", page, "total",
	        (json_int_t)l.n, "limit", (json_int_t)limit, "offset",
	        (json_int_t)offset));
	api_batch_list_free(&l);
}

/* The request body, NUL-terminated, at most CLEANUP_BODY_MAX bytes; its
 * length in *len, or -1 when it is longer. */
static int
read_body(struct req *r, char *buf, size_t *len)
{
	int n;

	*len = 0;
	while ((n = FCGX_GetStr(buf + *len, (int)(CLEANUP_BODY_MAX + 1 - *len),
	            r->fr->in)) > 0) {
		*len += (size_t)n;
		if (*len > CLEANUP_BODY_MAX) {
			cgi_drain(r);
			return -1;
		}
	}
	buf[*len] = '\0';
	return 0;
}

static void
note_removed(const char *id, void *arg)
{
	log_info("%s: removed by the admin cleanup", id);
	json_array_append_new(arg, json_string(id));
}

void
api_admin_cleanup(struct req *r, const char *const *arg)
{
	char body[CLEANUP_BODY_MAX + 1];
	size_t len;
	json_t *j = NULL, *h, *removed;
	double hours;
	int n;

	(void)arg;
	if (!admin_gate(r))
		return;
	if (read_body(r, body, &len) == 0)
		j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	h = json_object_get(j, "hours");
	hours = json_number_value(h);
	if (!json_is_number(h) || !isfinite(hours) || hours <= 0 ||
	    hours > CLEANUP_HOURS_MAX) {
		cgi_error(r, 400, "INVALID_HOURS",
		    json_pack("{s:s}", "field", "hours"),
		    "Send a JSON body {\"hours\": N} with N a positive number of hours (at most %.0f).",
		    CLEANUP_HOURS_MAX);
		goto out;
	}
	removed = json_array();
	n = spool_batches_expire(&cgi.sp,
	    spool_now_ms() - (long long)(hours * 3600.0 * 1000.0), note_removed,
	    removed);
	if (n == -1) {
		json_decref(removed);
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The batches could not be read for the cleanup (%s).",
		    strerror(errno));
		goto out;
	}
	cgi_json(r, 200,
	    json_pack("{s:s, s:f, s:i, s:o}", "status", "ok", "hours", hours,
	        "removed", n, "removed_batches", removed));
out:
	json_decref(j);
}
