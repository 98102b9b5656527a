/*
 * api_batches.c: GET /api/v1/batches, the calling key's batches, newest
 * first, a page at a time, each with its state and counts, so a team's
 * script or page can show its history.  A batch belongs to the key that
 * uploaded it: the upload handler stores the key's id (cgi_key_id, a
 * SHA-256 prefix, never the key) in batch.json as "key_id".  Without
 * API_KEYS there is no caller to list for, so the endpoint does not exist
 * (404) and a batch id stays the only way to a batch.
 *
 * The list is read from the spool on each call (batch.json of every
 * batch: the directory is the truth); only the page's batches are
 * summarized.  The admin list (api_admin.c) shares the collection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define PAGE_DEFAULT 20
#define PAGE_MAX 100

static int
list_one(const char *id, void *arg)
{
	struct batch_list *l = arg;
	json_t *b = spool_batch_get(&cgi.sp, id);
	struct api_listed *nv;

	if (b == NULL)
		return 0; /* going away, or not whole yet */
	if (l->key_id != NULL &&
	    strcmp(json_string_value(json_object_get(b, "key_id")) != NULL
	            ? json_string_value(json_object_get(b, "key_id"))
	            : "",
	        l->key_id) != 0) {
		json_decref(b);
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap > 0 ? l->cap * 2 : 64;

		nv = realloc(l->v, cap * sizeof(*nv));
		if (nv == NULL) {
			json_decref(b);
			errno = ENOMEM;
			return -1;
		}
		l->v = nv;
		l->cap = cap;
	}
	snprintf(l->v[l->n].id, sizeof(l->v[l->n].id), "%s", id);
	l->v[l->n].created = json_integer_value(json_object_get(b, "created"));
	l->v[l->n].batch = b;
	l->n++;
	return 0;
}

/* Newest first, then by id so that pages never overlap. */
static int
newest_first(const void *a, const void *b)
{
	const struct api_listed *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? 1 : -1;
	return strcmp(x->id, y->id);
}

int
api_batch_list(struct batch_list *l, const char *key_id)
{
	memset(l, 0, sizeof(*l));
	l->key_id = key_id;
	if (spool_batch_foreach(&cgi.sp, list_one, l) == -1) {
		int e = errno;

		api_batch_list_free(l);
		errno = e;
		return -1;
	}
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(*l->v), newest_first);
	return 0;
}

void
api_batch_list_free(struct batch_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		json_decref(l->v[i].batch);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
api_page_params(struct req *r, long long dflt, long long max, long long *limit,
    long long *offset)
{
	const char *lv = cgi_query_value(r->query, "limit");
	const char *ov = cgi_query_value(r->query, "offset");

	*limit = lv != NULL ? cgi_query_number(lv, 1, max) : dflt;
	*offset = ov != NULL ? cgi_query_number(ov, 0, 1LL << 40) : 0;
	if (*limit < 0) {
		cgi_error(r, 400, "INVALID_PARAMETER",
		    json_pack("{s:s}", "field", "limit"),
		    "limit must be a whole number from 1 to %lld.", max);
		return -1;
	}
	if (*offset < 0) {
		cgi_error(r, 400, "INVALID_PARAMETER",
		    json_pack("{s:s}", "field", "offset"),
		    "offset must be a whole number, 0 or more.");
		return -1;
	}
	return 0;
}

/* One batch of the page, from its summary (state and counts), read
 * past the view cache: a page of 100 would evict every batch being
 * watched, and a list needs none of the views. */
static json_t *
entry(struct req *r, const struct api_listed *l)
{
	json_t *s = spool_batch_summary(&cgi.sp, l->id), *e;
	char url[CGI_BASE_MAX + 64];
	json_int_t total =
	    (json_int_t)json_array_size(json_object_get(l->batch, "files"));

	snprintf(url, sizeof(url), "%s/api/v1/status/tasks/%s", r->base, l->id);
	/* clang-format off */
	e = json_pack("{s:s, s:I, s:O?, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:s}",
	    "batch_id", l->id,
	    "created", (json_int_t)l->created,
	    "model", json_object_get(l->batch, "model"),
	    "status", s != NULL && json_is_string(json_object_get(s, "status"))
	        ? json_string_value(json_object_get(s, "status")) : "unknown",
	    "progress", json_integer_value(json_object_get(s, "progress")),
	    "total_files", total,
	    "successful_files", json_integer_value(json_object_get(s, "successful")),
	    /* as the result's: failed or cancelled (cancelled_files: the latter) */
	    "failed_files", json_integer_value(json_object_get(s, "failed")) + json_integer_value(json_object_get(s, "cancelled")),
	    "cancelled_files", json_integer_value(json_object_get(s, "cancelled")),
	    "finished", json_is_true(json_object_get(s, "finished")),
	    "status_url", url);
	/* clang-format on */
	json_decref(s);
	return e;
}

void
api_batches(struct req *r, const char *const *arg)
{
	struct batch_list l;
	char key_id[CGI_KEY_ID_LEN + 1];
	long long limit, offset;
	json_t *page;
	size_t i;

	(void)arg;
	if (cgi.cfg.api_keys[0] == '\0') {
		cgi_error(r, 404, "NOT_FOUND", NULL,
		    "The batch list needs API keys (API_KEYS); without them a batch is reached by its id only.");
		return;
	}
	if (!cgi_require_key(r) ||
	    api_page_params(r, PAGE_DEFAULT, PAGE_MAX, &limit, &offset) == -1)
		return;
	if (cgi_key_id(r, key_id, sizeof(key_id)) == -1 ||
	    api_batch_list(&l, key_id) == -1) {
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The batches could not be listed (%s).", strerror(errno));
		return;
	}
	page = json_array();
	for (i = (size_t)offset;
	     page != NULL && i < l.n && i < (size_t)(offset + limit); i++)
		json_array_append_new(page, entry(r, &l.v[i]));
	/* clang-format off */
	cgi_json(r, 200, json_pack("{s:o?, s:I, s:I, s:I, s:o}",
	    "items", page,
	    "total", (json_int_t)l.n,
	    "limit", (json_int_t)limit,
	    "offset", (json_int_t)offset,
	    "next_offset", (size_t)(offset + limit) < l.n
	        ? json_integer(offset + limit) : json_null()));
	/* clang-format on */
	api_batch_list_free(&l);
}
