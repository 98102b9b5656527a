/*
 * thumb.c: every file's thumbnail, out/<n>.thumb.jpg (spool_thumb_name),
 * made once when a daemon starts the file, before its backend runs,
 * whatever the backend (local or FAL), so a shared link shows the same
 * pictures in every browser.
 *
 * It is decoded where every untrusted image is: in i2m-convert under the
 * offline model's limits (contain.c), never in the daemon.  The file is
 * published by the temp-file rule, then the status gets "thumbnail_file"
 * (the HTTP API lists it as thumbnail_url), so a status that names it
 * always finds it.  A thumbnail is a nicety: whatever fails here is
 * logged and the file goes on to its model.  Made once: a second run
 * (retry, recovery) finds the file and only names it again when the
 * status lost it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convert.h"
#include "daemon.h"

/* A thumbnail is a few tens of kB; anything much larger is wrong. */
#define THUMB_CAP ((size_t)4 << 20)

/* Make out/<name> in i2m-convert; 0, or -1 with err set. */
static int
thumb_build(struct job *job, const char *name, char *err, size_t errlen)
{
	char mem[16], cpu[16], side[16];
	char *argv[] = {CONVERT_PROG, CONVERT_THUMB, mem, cpu, side, NULL};
	unsigned char *jpg = NULL;
	size_t len = 0;
	int rc = -1;

	snprintf(mem, sizeof(mem), "%d", job->cfg->local_memory_mb);
	snprintf(cpu, sizeof(cpu), "%d", job->cfg->local_cpu_s);
	snprintf(side, sizeof(side), "%d", I2G_THUMB_DEF);
	switch (convert_spawn(
	    job, argv, THUMB_CAP, &jpg, &len, NULL, err, errlen)) {
	case BACKEND_OK:
		break;
	case BACKEND_CANCELLED:
		/* The backend sees the cancel next and ends the file. */
		snprintf(err, errlen, "cancelled");
		goto out;
	default:
		goto out;
	}
	if (spool_write_atomic(job->outdir, name, jpg, len) == -1) {
		snprintf(
		    err, errlen, "it could not be saved (%s)", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(jpg);
	return rc;
}

void
thumb_make(struct job *job, json_t *st)
{
	char name[64], err[512] = "";
	const char *had =
	    json_string_value(json_object_get(st, "thumbnail_file"));
	struct stat sb;
	json_t *patch;

	if (spool_thumb_name(job->file, name, sizeof(name)) == -1)
		return;
	if (fstatat(job->outdir, name, &sb, 0) == 0) {
		if (had != NULL && strcmp(had, name) == 0)
			return;
	} else if (thumb_build(job, name, err, sizeof(err)) == -1) {
		log_warn("%s: no thumbnail: %s", job->marker, err);
		return;
	}
	patch = json_pack("{s:s}", "thumbnail_file", name);
	if (patch == NULL ||
	    spool_status_update(job->sp, job->id, job->file, patch, -1) == -1)
		log_warn("%s: thumbnail made but not named in the status",
		    job->marker);
	json_decref(patch);
}
