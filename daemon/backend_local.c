/*
 * backend_local.c: the built-in offline model as a backend.
 *
 * Reads the input image, runs i2g_convert() (img2glb/img2glb.h) with the
 * batch's parameters, each missing one taken from the model's row of the
 * model table (spool/models.c, whose "local" row is written in terms of
 * img2glb.h's limits), and publishes out/<n>.glb atomically.  It needs no network
 * and holds nothing between jobs, so a crash simply runs it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "img2glb.h"

#define LOCAL_INPUT_CAP (256LL * 1024 * 1024)

static enum backend_status
local_run(struct job *job, char *err, size_t errlen)
{
	const struct model_info *m = models_find(job->model);
	struct i2g_opts o;
	struct i2g_info info;
	unsigned char *glb = NULL;
	char *img = NULL;
	size_t imglen, glblen = 0;
	enum backend_status rc = BACKEND_FAILED;
	json_t *mode = NULL, *res = NULL, *th = NULL, *back = NULL;

	memset(&o, 0, sizeof(o));
	if (m != NULL) {
		mode = models_param_value(m, job->params, "mode");
		res = models_param_value(m, job->params, "resolution");
		th = models_param_value(m, job->params, "thickness");
		back = models_param_value(m, job->params, "back");
	}
	o.mode = json_string_value(mode);
	o.back = json_string_value(back);
	if (json_is_integer(res))
		o.resolution = (int)json_integer_value(res);
	if (json_is_number(th))
		o.thickness = json_number_value(th);

	if (spool_read_file(
	        AT_FDCWD, job->input, LOCAL_INPUT_CAP, &img, &imglen) == -1) {
		snprintf(err, errlen,
		    "The uploaded image could not be read back from the spool (%s).",
		    strerror(errno));
		goto out;
	}
	job_progress(job, FS_PROCESSING, 10, -1, "Building the 3D model");
	if (i2g_convert(img, imglen, &o, &glb, &glblen, &info, err, errlen) ==
	    -1)
		goto out;
	if (job_cancel_requested(job)) {
		rc = BACKEND_CANCELLED;
		goto out;
	}
	job_progress(job, FS_PROCESSING, 90, -1, "Saving the model");
	snprintf(
	    job->result_model, sizeof(job->result_model), "%d.glb", job->file);
	if (spool_write_atomic(job->outdir, job->result_model, glb, glblen) ==
	    -1) {
		if (errno == ENOSPC)
			snprintf(err, errlen,
			    "The server's disk is full; retry this file later.");
		else
			snprintf(err, errlen,
			    "The model could not be saved (%s).",
			    strerror(errno));
		goto out;
	}
	job->result_size = (long long)glblen;
	log_info("%s: %s mesh, %ld vertices, %ld triangles, %zu bytes",
	    job->marker, info.mode, info.vertices, info.triangles, glblen);
	rc = BACKEND_OK;
out:
	json_decref(mode);
	json_decref(res);
	json_decref(th);
	json_decref(back);
	free(img);
	free(glb);
	return rc;
}

const struct backend backend_local = {
    .name = "local",
    .worker_init = NULL,
    .worker_free = NULL,
    .run = local_run,
};
