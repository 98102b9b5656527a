/*
 * batch.c: the contract's JSON objects (shared/docs/api.md) built from the
 * spool's batch summary, and the download names.
 *
 * Each change of a batch is reshaped once per process: the summary is
 * cached by (batch id, state/seq, URL base) together with everything derived from
 * it (the download names, every file's contract object, the result and
 * the polling object), built when the summary enters the cache.  seq
 * grows on every status change (spool/README.md, "Sequence numbers"), so
 * a cached summary whose seq equals the current state/seq is still true.
 * The functions below take a summary; for a cached one they hand back a
 * shallow copy of the prepared object, for any other they build it.
 * Cached objects are shared between threads and therefore never modified
 * after insertion; readers only get values and take references (jansson's
 * reference counts are atomic here), and every object handed back to a
 * caller is new at its top level (what it holds is shared: read only).
 *
 * The download names are made in cgi/names.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"

#define CACHE_SLOTS 16

/* A summary and what is derived from it, all built once. */
struct view {
	json_t *sum;
	json_t *names; /* download names, upload order */
	json_t *files; /* file_update objects, upload order */
	json_t *result; /* task_completed's result; NULL until finished */
	json_t *status; /* the polling object */
	char *status_text; /* ... serialized, as the status endpoint sends it */
	size_t status_len;
};

struct cache_slot {
	char id[SPOOL_ID_LEN + 1];
	char base[CGI_BASE_MAX]; /* every URL of the view starts with it */
	long long seq;
	struct view v;
	unsigned long long used;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_slot cache[CACHE_SLOTS];
static unsigned long long cache_clock;

/* Recent state/seq readings, so many streams on one batch share a read. */
#define SEQ_SLOTS 16
#define SEQ_FRESH_MS 20

struct seq_slot {
	char id[SPOOL_ID_LEN + 1];
	long long seq, at;
};

static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seq_slot seqs[SEQ_SLOTS];
static unsigned seq_next;

long long
batch_seq(const char *id)
{
	long long now = spool_now_ms(), v;
	int i;

	pthread_mutex_lock(&seq_lock);
	for (i = 0; i < SEQ_SLOTS; i++) {
		if (strcmp(seqs[i].id, id) == 0 &&
		    now - seqs[i].at < SEQ_FRESH_MS) {
			v = seqs[i].seq;
			pthread_mutex_unlock(&seq_lock);
			return v;
		}
	}
	pthread_mutex_unlock(&seq_lock);
	v = spool_seq_get(&cgi.sp, id);
	if (v == -1)
		return -1;
	pthread_mutex_lock(&seq_lock);
	for (i = 0; i < SEQ_SLOTS && strcmp(seqs[i].id, id) != 0; i++)
		;
	if (i == SEQ_SLOTS)
		i = (int)(seq_next++ % SEQ_SLOTS);
	memcpy(seqs[i].id, id, sizeof(seqs[i].id));
	seqs[i].seq = v;
	seqs[i].at = now;
	pthread_mutex_unlock(&seq_lock);
	return v;
}

/*
 * The completed file's formats ({name, ext, label, size, url,
 * content_type, source}; a status from before formats lists the GLB
 * alone), format_errors, triangles, watertight and the light preview.
 */
static void
add_formats(
    json_t *j, const char *id, const char *base, json_t *f, const char *name)
{
	json_t *list = json_object_get(f, "formats"), *out = json_array(), *e;
	size_t sl = strlen(name) - 4, i; /* name is "<stem>.glb" */
	char url[CGI_BASE_MAX + 256];

	if (out == NULL)
		return;
	if (!json_is_array(list) || json_array_size(list) == 0) {
		snprintf(url, sizeof(url), "%s/api/v1/download/%s/%s", base, id,
		    name);
		json_array_append_new(out,
		    json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "name",
		        "glb", "ext", "glb", "label",
		        formats_find("glb")->label, "size",
		        json_integer_value(json_object_get(f, "file_size")),
		        "url", url, "content_type", "model/gltf-binary",
		        "source", "model"));
	}
	json_array_foreach(list, i, e) {
		const struct format_info *fi =
		    formats_find(json_string_value(json_object_get(e, "name")));

		if (fi == NULL)
			continue;
		snprintf(url, sizeof(url), "%s/api/v1/download/%s/%.*s.%s",
		    base, id, (int)sl, name, fi->ext);
		json_array_append_new(out,
		    json_pack("{s:s, s:s, s:s, s:O?, s:s, s:s, s:O?}", "name",
		        fi->name, "ext", fi->ext, "label", fi->label, "size",
		        json_object_get(e, "size"), "url", url, "content_type",
		        fi->content_type, "source",
		        json_object_get(e, "source")));
	}
	json_object_set_new(j, "formats", out);
	/* set_new: a new empty array when the status has none (no leak). */
	json_object_set_new(j, "format_errors",
	    json_is_array(json_object_get(f, "format_errors"))
	        ? json_incref(json_object_get(f, "format_errors"))
	        : json_array());
	json_object_set(j, "triangles", json_object_get(f, "triangles"));
	json_object_set(j, "watertight", json_object_get(f, "watertight"));
	if (json_is_string(json_object_get(f, "preview_file"))) {
		snprintf(url, sizeof(url), "%s/api/v1/download/%s/%.*s.web.glb",
		    base, id, (int)sl, name);
		json_object_set_new(j, "preview_model",
		    json_pack("{s:s, s:O?}", "url", url, "size",
		        json_object_get(f, "preview_size")));
	} else
		json_object_set_new(j, "preview_model", json_null());
}

/* thumbnail_url, in every state, once the daemon has named the file
 * (daemon/thumb.c; served by cgi/api_thumb.c); null until then. */
static void
add_thumb(json_t *j, const char *id, const char *base, json_t *f, size_t i)
{
	char url[CGI_BASE_MAX + 128];

	if (!json_is_string(json_object_get(f, "thumbnail_file"))) {
		json_object_set_new(j, "thumbnail_url", json_null());
		return;
	}
	snprintf(url, sizeof(url), "%s/api/v1/thumbs/%s/%zu", base, id, i);
	json_object_set_new(j, "thumbnail_url", json_string(url));
}

static json_t *
build_file(
    const char *id, const char *base, json_t *summary, json_t *names, size_t i)
{
	json_t *f = json_array_get(json_object_get(summary, "files"), i);
	const char *name = json_string_value(json_array_get(names, i));
	const char *status = json_string_value(json_object_get(f, "status"));
	json_t *j;

	if (f == NULL || name == NULL)
		return NULL;
	/* clang-format off */
	j = json_pack("{s:O?, s:O?, s:s, s:O?, s:O?, s:O?, s:O?}",
	    "file_id", json_object_get(f, "file_id"),
	    "filename", json_object_get(f, "filename"),
	    "status", status != NULL ? status : "failed",
	    "progress", json_object_get(f, "progress"),
	    "queue_position", json_object_get(f, "queue_position"),
	    "message", json_object_get(f, "message"),
	    "error", json_object_get(f, "error"));
	/* clang-format on */
	if (j == NULL)
		return NULL;
	add_thumb(j, id, base, f, i);
	if (status != NULL && strcmp(status, "completed") == 0) {
		char url[CGI_BASE_MAX + 256], pname[BATCH_NAME_MAX];

		snprintf(url, sizeof(url), "%s/api/v1/download/%s/%s", base, id,
		    name);
		json_object_set_new(j, "model_url", json_string(url));
		json_object_set_new(j, "download_name", json_string(name));
		json_object_set_new(j, "file_size",
		    json_integer(
		        json_integer_value(json_object_get(f, "file_size"))));
		if (batch_preview_name(f, name, pname, sizeof(pname))) {
			snprintf(url, sizeof(url), "%s/api/v1/download/%s/%s",
			    base, id, pname);
			json_object_set_new(j, "rendered_image",
			    json_pack("{s:s, s:O?, s:O?}", "url", url,
			        "file_size",
			        json_object_get(f, "rendered_image_size"),
			        "content_type",
			        json_object_get(f, "rendered_image_type")));
		} else
			json_object_set_new(j, "rendered_image", json_null());
		add_formats(j, id, base, f, name);
	}
	return j;
}

static json_t *
files_json(const char *id, const char *base, json_t *summary, json_t *names)
{
	json_t *arr = json_array();
	size_t i, n = json_array_size(json_object_get(summary, "files"));

	for (i = 0; arr != NULL && i < n; i++) {
		json_t *f = build_file(id, base, summary, names, i);

		if (f == NULL || json_array_append_new(arr, f) == -1) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *
build_result(const char *id, const char *base, json_t *summary, json_t *names)
{
	json_t *results = files_json(id, base, summary, names);
	const char *rs =
	    json_string_value(json_object_get(summary, "result_status"));

	if (results == NULL)
		return NULL;
	/* clang-format off */
	return json_pack("{s:s, s:s, s:O?, s:O?, s:I, s:o}",
	    "job_id", id,
	    "status", rs != NULL ? rs : "processing",
	    "total_files", json_object_get(summary, "total"),
	    "successful_files", json_object_get(summary, "successful"),
	    "failed_files", (json_int_t)(json_integer_value( json_object_get(summary, "failed")) + json_integer_value(json_object_get(summary, "cancelled"))),
	    "results", results);
	/* clang-format on */
}

/* The polling object; names, files and result are borrowed. */
static json_t *
build_status(const char *id, json_t *summary, json_t *files, json_t *result)
{
	json_t *j;

	if (files == NULL)
		return NULL;
	/* clang-format off */
	j = json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O, s:O?, s:O?, s:O?, s:O?, s:O?}",
	    "task_id", id,
	    "job_id", id,
	    "batch_id", id,
	    "status", json_object_get(summary, "status"),
	    "progress", json_object_get(summary, "progress"),
	    "current", json_object_get(summary, "current"),
	    "total", json_object_get(summary, "total"),
	    "total_files", json_object_get(summary, "total"),
	    "seq", json_object_get(summary, "seq"),
	    "files", files,
	    "model", json_object_get(summary, "model"),
	    "params", json_object_get(summary, "params"),
	    "face_limit", json_object_get(summary, "face_limit"),
	    "created", json_object_get(summary, "created"),
	    "finished", json_object_get(summary, "finished"));
	/* clang-format on */
	if (j != NULL && result != NULL)
		json_object_set(j, "result", result);
	return j;
}

static void
view_free(struct view *v)
{
	json_decref(v->sum);
	json_decref(v->names);
	json_decref(v->files);
	json_decref(v->result);
	json_decref(v->status);
	free(v->status_text);
	memset(v, 0, sizeof(*v));
}

/* Everything derived from sum (stolen); -1 when memory ran out. */
static int
view_build(struct view *v, const char *id, const char *base, json_t *sum)
{
	memset(v, 0, sizeof(*v));
	v->sum = sum;
	v->names = batch_names_build(sum);
	if (v->names == NULL)
		goto fail;
	v->files = files_json(id, base, sum, v->names);
	if (json_is_true(json_object_get(sum, "finished")))
		v->result = build_result(id, base, sum, v->names);
	v->status = build_status(id, sum, v->files, v->result);
	v->status_text = v->status != NULL
	    ? json_dumps(v->status, JSON_COMPACT | JSON_REAL_PRECISION(15))
	    : NULL;
	v->status_len = v->status_text != NULL ? strlen(v->status_text) : 0;
	if (v->files == NULL || v->status == NULL || v->status_text == NULL ||
	    (v->result == NULL &&
	        json_is_true(json_object_get(sum, "finished"))))
		goto fail;
	return 0;
fail:
	v->sum = NULL;
	view_free(v);
	errno = ENOMEM;
	return -1;
}

json_t *
batch_summary(const char *id, const char *base)
{
	struct cache_slot *victim = &cache[0];
	struct view v;
	long long seq;
	json_t *sum = NULL;
	int i;

	if (!spool_id_valid(id)) {
		errno = ENOENT;
		return NULL;
	}
	seq = spool_seq_get(&cgi.sp, id);
	if (seq == -1)
		return NULL;
	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].v.sum != NULL && cache[i].seq == seq &&
		    strcmp(cache[i].id, id) == 0 &&
		    strcmp(cache[i].base, base) == 0) {
			cache[i].used = ++cache_clock;
			sum = json_incref(cache[i].v.sum);
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	if (sum != NULL)
		return sum;
	sum = spool_batch_summary(&cgi.sp, id);
	if (sum == NULL)
		return NULL;
	/* Built outside the lock; an uncached summary still works. */
	if (strlen(base) >= CGI_BASE_MAX ||
	    view_build(&v, id, base, json_incref(sum)) == -1)
		return sum;
	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].v.sum == NULL ||
		    (strcmp(cache[i].id, id) == 0 &&
		        strcmp(cache[i].base, base) == 0)) {
			victim = &cache[i];
			break;
		}
		if (cache[i].used < victim->used)
			victim = &cache[i];
	}
	/* Keep the newer of two racing summaries of one batch. */
	if (victim->v.sum == NULL || strcmp(victim->id, id) != 0 ||
	    strcmp(victim->base, base) != 0 || victim->seq <= seq) {
		struct view old = victim->v;

		memcpy(victim->id, id, sizeof(victim->id));
		snprintf(victim->base, sizeof(victim->base), "%s", base);
		victim->seq = seq;
		victim->v = v;
		victim->used = ++cache_clock;
		v = old;
	}
	pthread_mutex_unlock(&cache_lock);
	view_free(&v);
	return sum;
}

enum part { P_NAMES, P_FILE, P_RESULT, P_STATUS };

/* A shallow copy of part of sum's cached view for URLs under base; NULL
 * when not cached.  Slots of one summary differ by base, so base is
 * compared too (NULL: any, for the names, which have no URL). */
static json_t *
cached(const json_t *sum, const char *base, enum part which, size_t i)
{
	json_t *j = NULL;
	int k;

	pthread_mutex_lock(&cache_lock);
	for (k = 0; k < CACHE_SLOTS; k++) {
		const struct view *v = &cache[k].v;

		if (v->sum != sum || sum == NULL ||
		    (base != NULL && strcmp(cache[k].base, base) != 0))
			continue;
		j = which == P_NAMES    ? v->names
		    : which == P_FILE   ? json_array_get(v->files, i)
		    : which == P_RESULT ? v->result
		                        : v->status;
		j = json_copy(j);
		break;
	}
	pthread_mutex_unlock(&cache_lock);
	return j;
}

json_t *
batch_names(json_t *summary)
{
	json_t *j = cached(summary, NULL, P_NAMES, 0);

	return j != NULL ? j : batch_names_build(summary);
}

json_t *
batch_file_json(
    const char *id, const char *base, json_t *summary, json_t *names, size_t i)
{
	json_t *j = cached(summary, base, P_FILE, i);

	return j != NULL ? j : build_file(id, base, summary, names, i);
}

json_t *
batch_result_json(
    const char *id, const char *base, json_t *summary, json_t *names)
{
	json_t *j = cached(summary, base, P_RESULT, 0);

	return j != NULL ? j : build_result(id, base, summary, names);
}

json_t *
batch_status_json(const char *id, const char *base, json_t *summary)
{
	json_t *j = cached(summary, base, P_STATUS, 0), *names, *files, *result;

	if (j != NULL)
		return j;
	names = batch_names_build(summary);
	files = names != NULL ? files_json(id, base, summary, names) : NULL;
	result =
	    files != NULL && json_is_true(json_object_get(summary, "finished"))
	    ? build_result(id, base, summary, names)
	    : NULL;
	j = build_status(id, summary, files, result);
	json_decref(names);
	json_decref(files);
	json_decref(result);
	return j;
}

char *
batch_status_text(const json_t *summary, const char *base, size_t *len)
{
	char *t = NULL;
	int k;

	pthread_mutex_lock(&cache_lock);
	for (k = 0; k < CACHE_SLOTS && summary != NULL; k++) {
		const struct view *v = &cache[k].v;

		if (v->sum != summary || v->status_text == NULL ||
		    strcmp(cache[k].base, base) != 0)
			continue;
		t = malloc(v->status_len + 1);
		if (t != NULL) {
			memcpy(t, v->status_text, v->status_len + 1);
			*len = v->status_len;
		}
		break;
	}
	pthread_mutex_unlock(&cache_lock);
	return t;
}
