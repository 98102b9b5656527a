/*
 * backend_local.c: the built-in offline model as a backend.
 *
 * Runs each file through i2m-convert (convert.c, protocol convert.h), the
 * program next to i2m-daemon that decodes and meshes one image with
 * i2g_convert() (img2glb/img2glb.h) under RLIMIT_AS (LOCAL_MEMORY_MB) and
 * RLIMIT_CPU (LOCAL_CPU_S), with the batch's parameters, each missing one
 * taken from the model's row of the model table (spool/models.c, whose
 * "local" row is written in terms of img2glb.h's limits); the GLB is
 * published as out/<n>.glb atomically.
 *
 * Containment: the run is contain.c's (convert_spawn): a decoder bug, a
 * bomb or a runaway costs that file, never the daemon, and the failure
 * says why; a cancel kills the child.  The daemon itself never decodes
 * an image.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "daemon.h"
#include "img2glb.h"

#define LOCAL_GLB_CAP ((size_t)1 << 30)

static int
local_check(const struct config *cfg, char *err, size_t errlen)
{
	(void)cfg;
	return convert_find(err, errlen);
}

/*
 * Convert in i2m-convert; BACKEND_OK with *glb (malloc'd) and *info, else
 * FAILED with err or CANCELLED.
 */
static enum backend_status
convert_contained(struct job *job, const struct i2g_opts *o,
    unsigned char **glb, size_t *glblen, struct i2g_info *info, char *err,
    size_t errlen)
{
	char mem[16], cpu[16], res[16], th[32];
	char *argv[] = {CONVERT_PROG, mem, cpu,
	    (char *)(o->mode != NULL ? o->mode : "-"),
	    (char *)(o->back != NULL ? o->back : "-"), res, th, NULL};

	snprintf(mem, sizeof(mem), "%d", job->cfg->local_memory_mb);
	snprintf(cpu, sizeof(cpu), "%d", job->cfg->local_cpu_s);
	snprintf(res, sizeof(res), "%d", o->resolution);
	snprintf(th, sizeof(th), "%.17g", o->thickness);
	return convert_spawn(
	    job, argv, LOCAL_GLB_CAP, glb, glblen, info, err, errlen);
}

static enum backend_status
local_run(struct job *job, char *err, size_t errlen)
{
	const struct model_info *m = models_find(job->model);
	struct i2g_opts o;
	struct i2g_info info;
	unsigned char *glb = NULL;
	size_t glblen = 0;
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

	job_progress(job, FS_PROCESSING, 10, -1, "Building the 3D model");
	err[0] = '\0';
	rc = convert_contained(job, &o, &glb, &glblen, &info, err, errlen);
	if (rc != BACKEND_OK)
		goto out;
	rc = BACKEND_FAILED;
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
	free(glb);
	return rc;
}

const struct backend backend_local = {
    .name = "local",
    .max_interrupted = 2,
    .check = local_check,
    .worker_init = NULL,
    .worker_free = NULL,
    .run = local_run,
};
