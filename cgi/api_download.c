/*
 * api_download.c: an upload's results: the list of finished files, one
 * file, or all of them as one zip.
 *
 * A download name is served only when it is one of the names
 * batch_names() lists for that batch or one of their formats
 * (batch_lookup_download; so "..", encoded or not, is a 404),
 * and the file it stands for must pass spool_out_name_ok.  Files are never
 * copied through this program: lighttpd sends them itself (X-Sendfile to
 * spool_out_path, under x-sendfile-docroot); only the zip is written
 * here, streamed by libarchive with no temporary file.  all.zip takes
 * ?format=<name> of the formats table (default glb): each finished
 * model's file of that format ("<stem>.<ext>"; a zipped format such as
 * OBJ + MTL + textures unpacked into a folder "<stem>/"), and a
 * MISSING.txt naming the models that have none and why.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "api.h"

void
api_download_list(struct req *r, const char *const *arg)
{
	const char *id = arg[0];
	json_t *s = api_summary_or_reply(r, id), *names, *files, *urls, *failed;
	json_t *f;
	size_t i;

	if (s == NULL)
		return;
	names = batch_names(s);
	files = json_array();
	urls = json_array();
	failed = json_array();
	json_array_foreach(json_object_get(s, "files"), i, f) {
		const char *st =
		    json_string_value(json_object_get(f, "status"));
		json_t *fj;

		if (st != NULL &&
		    (strcmp(st, "failed") == 0 ||
		        strcmp(st, "cancelled") == 0)) {
			json_array_append_new(failed,
			    json_pack("{s:O?, s:O?, s:s, s:O?}", "file_id",
			        json_object_get(f, "file_id"), "filename",
			        json_object_get(f, "filename"), "status", st,
			        "error", json_object_get(f, "error")));
			continue;
		}
		if (st == NULL || strcmp(st, "completed") != 0)
			continue;
		fj = batch_file_json(id, r->base, s, names, i);
		if (fj == NULL)
			continue;
		json_array_append_new(files,
		    json_pack("{s:O, s:O, s:O, s:O, s:s, s:f, s:O, s:O, s:O}",
		        "file_id", json_object_get(fj, "file_id"), "filename",
		        json_array_get(names, i), "size",
		        json_object_get(fj, "file_size"), "file_size",
		        json_object_get(fj, "file_size"), "mime_type",
		        "model/gltf-binary", "created_time",
		        (double)json_integer_value(
		            json_object_get(f, "updated")) /
		            1000.0,
		        "model_url", json_object_get(fj, "model_url"),
		        "rendered_image", json_object_get(fj, "rendered_image"),
		        "original_filename", json_object_get(f, "filename")));
		json_object_set(
		    json_array_get(files, json_array_size(files) - 1),
		    "formats", json_object_get(fj, "formats"));
		json_array_append(urls, json_object_get(fj, "model_url"));
		json_decref(fj);
	}
	cgi_json(r, 200,
	    json_pack("{s:s, s:o, s:o, s:o, s:I}", "job_id", id, "files", files,
	        "download_urls", urls, "failed", failed, "total_files",
	        (json_int_t)json_array_size(files)));
	json_decref(names);
	json_decref(s);
}

void
api_download_file(struct req *r, const char *const *arg)
{
	const char *id = arg[0], *name = arg[1];
	json_t *s = api_summary_or_reply(r, id), *names;
	const char *file = NULL, *ctype = NULL;
	char path[PATH_MAX];
	size_t i;

	if (s == NULL)
		return;
	names = batch_names(s);
	if (names == NULL ||
	    batch_lookup_download(s, names, name, &i, &file, &ctype) == -1) {
		cgi_error(r, 404, "FILE_NOT_FOUND",
		    json_pack("{s:s}", "task_id", id),
		    "This upload has no finished file by that name; see /api/v1/download/%s/all.",
		    id);
		goto out;
	}
	if (spool_out_path(&cgi.sp, id, file, path, sizeof(path)) == -1) {
		cgi_error(r, 404, "FILE_NOT_FOUND", NULL,
		    "The file is not available.");
		goto out;
	}
	/* lighttpd sends the bytes (x-sendfile-docroot = batches/). */
	cgi_begin(r, 200, ctype != NULL ? ctype : "application/octet-stream");
	cgi_header(r, "Content-Disposition: attachment; filename=\"%s\"", name);
	cgi_header(r, "Cache-Control: private, max-age=3600");
	cgi_header(r, "X-Sendfile: %s", path);
	cgi_end_headers(r);
out:
	json_decref(names);
	json_decref(s);
}

static la_ssize_t
zip_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct req *r = ctx;

	(void)a;
	if (FCGX_PutStr(buf, (int)len, r->fr->out) != (int)len)
		return -1;
	return (la_ssize_t)len;
}

/* Copy one model into the archive; -1 when the client is gone. */
static int
zip_add(struct archive *a, int out, const char *file, const char *name)
{
	struct archive_entry *e;
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd, rc = -1;

	fd = openat(out, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return 0; /* vanished (retention): skip it */
	if (fstat(fd, &st) == -1 || (e = archive_entry_new()) == NULL) {
		close(fd);
		return 0;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, st.st_size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, st.st_mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto done;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			goto done;
	rc = n == 0 ? 0 : -1;
done:
	archive_entry_free(e);
	close(fd);
	return rc;
}

/* Copy the entries of the zip out/<file> under "<dir>/"; -1 client gone. */
static int
zip_add_tree(struct archive *a, int out, const char *file, const char *dir)
{
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	char buf[65536], name[512];
	int fd, rc = 0;

	fd = openat(out, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || in == NULL ||
	    archive_read_support_format_zip(in) != ARCHIVE_OK ||
	    archive_read_open_fd(in, fd, sizeof(buf)) != ARCHIVE_OK)
		goto done; /* vanished or unreadable: skip it */
	while (rc == 0 && archive_read_next_header(in, &e) == ARCHIVE_OK) {
		la_ssize_t n;

		snprintf(name, sizeof(name), "%s/%s", dir,
		    archive_entry_pathname(e));
		archive_entry_set_pathname(e, name);
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			rc = -1;
			break;
		}
		while ((n = archive_read_data(in, buf, sizeof(buf))) > 0)
			if (archive_write_data(a, buf, (size_t)n) != n) {
				rc = -1;
				break;
			}
	}
done:
	if (in != NULL)
		archive_read_free(in);
	if (fd != -1)
		close(fd);
	return rc;
}

/* MISSING.txt: which models lack the format and why. */
static void
zip_note(struct archive *a, const struct format_info *fmt, const char *text)
{
	struct archive_entry *e = archive_entry_new();
	char head[256];
	int hl = snprintf(
	    head, sizeof(head), "These models have no %s file:\n", fmt->label);
	size_t tl = strlen(text);

	if (e == NULL)
		return;
	archive_entry_set_pathname(e, "MISSING.txt");
	archive_entry_set_size(e, (la_int64_t)((size_t)hl + tl));
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (archive_write_header(a, e) == ARCHIVE_OK &&
	    archive_write_data(a, head, (size_t)hl) == hl)
		archive_write_data(a, text, tl);
	archive_entry_free(e);
}

/* The value of "format" in the query string into out; "" when absent. */
static void
query_format(const char *q, char *out, size_t len)
{
	out[0] = '\0';
	while (q != NULL && *q != '\0') {
		if (strncmp(q, "format=", 7) == 0) {
			size_t l = strcspn(q + 7, "&");

			if (l < len)
				snprintf(out, len, "%.*s", (int)l, q + 7);
			return;
		}
		q = strchr(q, '&');
		if (q != NULL)
			q++;
	}
}

/* The element of list (formats, format_errors) whose "name" is name. */
static json_t *
named(json_t *list, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return e;
	}
	return NULL;
}

/* The out/ name of format fmt of file f (completed), NULL when none. */
static const char *
format_file(json_t *f, const struct format_info *fmt)
{
	json_t *e = named(json_object_get(f, "formats"), fmt->name);

	if (e != NULL)
		return json_string_value(json_object_get(e, "file"));
	/* A status from before formats: the GLB is the model. */
	if (strcmp(fmt->name, "glb") == 0)
		return json_string_value(json_object_get(f, "model_file"));
	return NULL;
}

/* Why file f has no fmt, for the zip's note. */
static const char *
format_missing_why(json_t *f, const struct format_info *fmt)
{
	json_t *e = named(json_object_get(f, "format_errors"), fmt->name);

	if (e != NULL && json_is_string(json_object_get(e, "error")))
		return json_string_value(json_object_get(e, "error"));
	return "this format was not made for it";
}

/* How many files are completed, and how many of those have fmt. */
static void
count_ready(
    json_t *s, const struct format_info *fmt, size_t *ready, size_t *have)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(s, "files"), i, f) {
		const char *st =
		    json_string_value(json_object_get(f, "status"));

		if (st == NULL || strcmp(st, "completed") != 0)
			continue;
		(*ready)++;
		if (format_file(f, fmt) != NULL)
			(*have)++;
	}
}

/*
 * Every completed file's fmt into the zip, named after its GLB's stem;
 * the files without it are listed in MISSING.txt.  Stops at the first
 * write error (the client went away).
 */
static void
zip_files(struct archive *a, int out, json_t *s, json_t *names,
    const struct format_info *fmt)
{
	char note[4096] = "";
	json_t *f;
	size_t i, sl;

	json_array_foreach(json_object_get(s, "files"), i, f) {
		const char *st =
		    json_string_value(json_object_get(f, "status"));
		const char *file = format_file(f, fmt);
		const char *glbname =
		    json_string_value(json_array_get(names, i));
		char name[300];
		int rc;

		if (st == NULL || strcmp(st, "completed") != 0 ||
		    glbname == NULL)
			continue;
		sl = strlen(glbname) - 4; /* "<stem>.glb" */
		if (!spool_out_name_ok(file)) {
			size_t l = strlen(note);

			snprintf(note + l, sizeof(note) - l, "%.*s: %s\n",
			    (int)sl, glbname, format_missing_why(f, fmt));
			continue;
		}
		/* A zipped format (OBJ + MTL + textures) becomes a folder. */
		if (strlen(fmt->ext) > 4 &&
		    strcmp(fmt->ext + strlen(fmt->ext) - 4, ".zip") == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)sl, glbname);
			rc = zip_add_tree(a, out, file, name);
		} else {
			snprintf(name, sizeof(name), "%.*s.%s", (int)sl,
			    glbname, fmt->ext);
			rc = zip_add(a, out, file, name);
		}
		if (rc == -1)
			return;
	}
	if (note[0] != '\0')
		zip_note(a, fmt, note);
}

void
api_download_zip(struct req *r, const char *const *arg)
{
	const char *id = arg[0];
	json_t *s = api_summary_or_reply(r, id), *names;
	const struct format_info *fmt;
	struct archive *a = NULL;
	size_t ready = 0, have = 0;
	char want[32];
	int out = -1;

	if (s == NULL)
		return;
	names = batch_names(s);
	query_format(r->query, want, sizeof(want));
	fmt = formats_find(want[0] != '\0' ? want : "glb");
	if (fmt == NULL) {
		cgi_error(r, 400, "BAD_FORMAT",
		    json_pack("{s:s}", "format", want),
		    "There is no format \"%s\"; use glb, obj, stl, 3mf, ply, fbx or usdz.",
		    want);
		goto out;
	}
	count_ready(s, fmt, &ready, &have);
	if (ready == 0 || names == NULL) {
		cgi_error(r, 409, "NO_MODELS_YET",
		    json_pack("{s:s}", "task_id", id),
		    "No model of this upload is finished yet.");
		goto out;
	}
	if (have == 0) {
		cgi_error(r, 404, "FORMAT_NOT_AVAILABLE",
		    json_pack("{s:s, s:s}", "task_id", id, "format", fmt->name),
		    "No finished model of this upload has a %s file.",
		    fmt->label);
		goto out;
	}
	out = spool_out_dir(&cgi.sp, id);
	a = archive_write_new();
	if (out == -1 || a == NULL ||
	    archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "zip:compression=store") !=
	        ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK) {
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The zip could not be started.");
		goto out;
	}
	cgi_begin(r, 200, "application/zip");
	cgi_header(r,
	    "Content-Disposition: attachment; filename="
	    "\"image2model-%s%s%s.zip\"",
	    id, strcmp(fmt->name, "glb") != 0 ? "-" : "",
	    strcmp(fmt->name, "glb") != 0 ? fmt->name : "");
	cgi_header(r, "Cache-Control: no-store");
	cgi_end_headers(r);
	if (archive_write_open(a, r, NULL, zip_write, NULL) != ARCHIVE_OK)
		goto out;
	zip_files(a, out, s, names, fmt);
	archive_write_close(a);
out:
	if (a != NULL)
		archive_write_free(a);
	if (out != -1)
		close(out);
	json_decref(names);
	json_decref(s);
}
