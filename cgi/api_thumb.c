/*
 * api_thumb.c: GET /api/v1/thumbs/<id>/<n>, the thumbnail of file n of
 * an upload (a JPEG of at most 256 px on its long side that the daemon
 * makes once, out/<n>.thumb.jpg: daemon/thumb.c).
 *
 * The file is served only when the file's status names it
 * ("thumbnail_file", written after the file was published), so a name
 * from outside never reaches a path: n must be the decimal index of a
 * file of the batch, and the spool file is the status's, checked by
 * spool_out_path.  The bytes never change for an (id, n) (a second run
 * finds the file and keeps it), so the URL is stable and cached long.
 * lighttpd sends the bytes (X-Sendfile).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

/* A year: the thumbnail of (id, n) is made once and never changes. */
#define THUMB_MAX_AGE 31536000

/* n as the index of one of count files: "0".."count-1", no sign, no
 * leading zero; -1 otherwise. */
static long
file_index(const char *n, size_t count)
{
	long v = 0;
	size_t i, l = strlen(n);

	if (l == 0 || l > 4 || (l > 1 && n[0] == '0'))
		return -1;
	for (i = 0; i < l; i++) {
		if (n[i] < '0' || n[i] > '9')
			return -1;
		v = v * 10 + (n[i] - '0');
	}
	return (size_t)v < count ? v : -1;
}

void
api_thumb(struct req *r, const char *const *arg)
{
	const char *id = arg[0];
	json_t *s = api_summary_or_reply(r, id), *files;
	const char *file = NULL;
	char path[PATH_MAX];
	long n;

	if (s == NULL)
		return;
	files = json_object_get(s, "files");
	n = file_index(arg[1], json_array_size(files));
	if (n >= 0)
		file = json_string_value(json_object_get(
		    json_array_get(files, (size_t)n), "thumbnail_file"));
	if (file == NULL ||
	    spool_out_path(&cgi.sp, id, file, path, sizeof(path)) == -1) {
		cgi_error(r, 404, "THUMBNAIL_NOT_FOUND",
		    json_pack("{s:s, s:s}", "task_id", id, "file_id", arg[1]),
		    n < 0
		        ? "This upload has no file with that number; files are numbered from 0."
		        : "This file has no thumbnail yet; it is made when the file starts processing.");
		goto out;
	}
	cgi_begin(r, 200, "image/jpeg");
	cgi_header(
	    r, "Cache-Control: private, max-age=%d, immutable", THUMB_MAX_AGE);
	cgi_header(r, "X-Sendfile: %s", path);
	cgi_end_headers(r);
out:
	json_decref(s);
}
