/*
 * fal_fetch.c: a finished model's files from FAL's CDN into out/
 * (fal_queue.h).  The mesh is the first output field the model's row
 * names that the result has; the preview (rendered_image), when there
 * is one, is a bonus whose failure does not fail the model, and so are
 * the other formats the model made (model_urls: fbx, usdz, ... by the
 * name of their row in spool/formats.c), kept beside the GLB in
 * out/<n>.<ext> and listed in job->formats, so that the daemon does not
 * convert them again (daemon/formats.c).
 *
 * Invariants: a file appears in out/ whole or not at all (spool's
 * temp-file API: a dot-name, fsync, rename, fsync of out/); the CDN never gets the key; a 404/410
 * from the CDN is told apart (FAL no longer has the file, so only a new
 * submission can make it) from every other failure (the stored URL is
 * tried again on retry).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fal_queue.h"
#include "sniff.h"

/*
 * GET url into out/<file>.<ext>.  magic, when not NULL, must start the
 * file; sniff: ext is taken from the bytes (an image).  0, or -1 with
 * err set (*gone = 1 on a 404/410).
 */
static int
fetch_one(struct fal_worker *w, struct job *job, const char *url, long long cap,
    const char *magic, int sniff, char *name, size_t namelen, long long *size,
    int *gone, char *err, size_t errlen)
{
	struct spool_tmpfile t;
	struct fal_resp rs = {0};
	enum fal_result fr;
	unsigned char head[16];
	const char *ext = "glb";
	ssize_t n;
	int rc = -1;

	snprintf(name, namelen, "%d.%s", job->file, magic ? "glb" : "img");
	if (spool_tmp_open(&t, job->outdir, name) == -1) {
		snprintf(err, errlen,
		    "No temporary file for the download (%s); retry the file.",
		    strerror(errno));
		return -1;
	}
	fr = fal_q_download(w, url, t.fd, cap, &rs);
	if (fr != FR_OK) {
		*gone = fr == FR_HTTP && (rs.code == 404 || rs.code == 410);
		if (*gone)
			snprintf(err, errlen,
			    "FAL's CDN no longer has the model (HTTP %ld); retry the file to make it again (paid again).",
			    rs.code);
		else if (fr == FR_STOP)
			snprintf(err, errlen, "The daemon is stopping.");
		else
			snprintf(err, errlen,
			    "The model could not be downloaded from FAL (%s); retry the file: it is downloaded again, not paid again.",
			    rs.code > 0 ? "an HTTP error"
			                : curl_easy_strerror(rs.cerr));
		goto out;
	}
	n = pread(t.fd, head, sizeof(head), 0);
	n = n < 0 ? 0 : n;
	if (magic != NULL &&
	    ((size_t)n < strlen(magic) || memcmp(head, magic, strlen(magic)))) {
		snprintf(err, errlen,
		    "FAL returned a model that is not a GLB file.");
		goto out;
	}
	if (sniff && (ext = i2g_sniff(head, (size_t)n, NULL)) == NULL) {
		snprintf(err, errlen,
		    "The preview is not a PNG, JPEG or WebP image.");
		goto out;
	}
	snprintf(name, namelen, "%d.%s", job->file, ext);
	*size = (long long)lseek(t.fd, 0, SEEK_END);
	if (spool_tmp_rename(&t, name) == -1 || spool_tmp_publish(&t) == -1) {
		snprintf(err, errlen,
		    errno == ENOSPC
		        ? "The server's disk is full (%s); free space and retry the file: it is downloaded again, not paid again."
		        : "The model could not be saved (%s); retry the file.",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rs.cerr == CURLE_ABORTED_BY_CALLBACK)
		rc = -2;
	fal_resp_free(&rs);
	spool_tmp_abort(&t);
	return rc;
}

/* The CDN lost the model: only a new submission can make it again. */
static void
forget(struct job *job, const char *url)
{
	json_t *rec =
	    json_pack("{s:s, s:s}", "provider", "fal", "cdn_gone", url);

	if (rec == NULL || job_remote_save(job, rec) == -1)
		log_warn("%s: saving the FAL record", job->marker);
	json_decref(rec);
}

/*
 * The formats of model_urls that are rows of the formats table with the
 * same extension (a bare provider OBJ is not our OBJ + MTL + texture
 * zip, which is made from the GLB instead).  A failed download is logged
 * and that format converted from the GLB instead.  -2 when stopping.
 */
static int
fetch_formats(struct fal_worker *w, struct job *job, json_t *result)
{
	json_t *urls = json_object_get(result, "model_urls"), *v;
	const char *key;

	json_object_foreach(urls, key, v) {
		const struct format_info *f = formats_find(key);
		const char *url = json_string_value(json_object_get(v, "url"));
		struct spool_tmpfile t;
		struct fal_resp rs = {0};
		enum fal_result fr;
		char name[64];
		off_t size;

		if (f == NULL || url == NULL || strcmp(f->name, "glb") == 0 ||
		    strcmp(f->ext, f->name) != 0 ||
		    spool_format_file(job->file, f, name, sizeof(name)) == -1 ||
		    spool_tmp_open(&t, job->outdir, name) == -1)
			continue;
		fr = fal_q_download(w, url, t.fd, FAL_MESH_CAP, &rs);
		size = lseek(t.fd, 0, SEEK_END);
		if (fr == FR_OK && size > 0 && spool_tmp_publish(&t) == 0) {
			if (job->formats == NULL)
				job->formats = json_array();
			json_array_append_new(job->formats,
			    json_pack("{s:s, s:s, s:s, s:I, s:s}", "name",
			        f->name, "ext", f->ext, "file", name, "size",
			        (json_int_t)size, "source", "provider"));
		} else
			log_warnx("%s: the provider's %s was not kept (%s)",
			    job->marker, f->name,
			    fr == FR_OK ? "empty or not saved"
			                : "download failed");
		spool_tmp_abort(&t);
		fal_resp_free(&rs);
		if (fr == FR_STOP)
			return -2;
	}
	return 0;
}

enum backend_status
fal_fetch_files(struct fal_worker *w, struct job *job,
    const struct model_info *m, json_t *result, char *err, size_t errlen)
{
	const char *mu, *iu, *ext;
	char perr[256];
	int rc, gone = 0;

	mu = fal_mesh_url(m, result, NULL);
	rc = fetch_one(w, job, mu, FAL_MESH_CAP, "glTF", 0, job->result_model,
	    sizeof(job->result_model), &job->result_size, &gone, err, errlen);
	if (gone)
		forget(job, mu);
	if (rc != 0)
		return rc == -2 ? BACKEND_HANDBACK : BACKEND_FAILED;
	if (fetch_formats(w, job, result) == -2)
		return BACKEND_HANDBACK;
	iu = json_string_value(
	    json_object_get(json_object_get(result, "rendered_image"), "url"));
	if (iu == NULL)
		return BACKEND_OK;
	rc = fetch_one(w, job, iu, FAL_IMAGE_CAP, NULL, 1, job->result_image,
	    sizeof(job->result_image), &job->result_image_size, &gone, perr,
	    sizeof(perr));
	if (rc == -2)
		return BACKEND_HANDBACK;
	if (rc != 0) {
		log_warnx("%s: preview not kept: %s", job->marker, perr);
		job->result_image[0] = '\0';
		return BACKEND_OK;
	}
	ext = strrchr(job->result_image, '.') + 1;
	snprintf(job->result_image_type, sizeof(job->result_image_type),
	    "image/%s", strcmp(ext, "jpg") == 0 ? "jpeg" : ext);
	return BACKEND_OK;
}
