/*
 * backend_fal.c: PLACEHOLDER until the FAL backend lands; it fails FAL
 * jobs with a clear reason instead of pretending to run them.
 */
#include <stdio.h>

#include "daemon.h"

static enum backend_status
fal_run(struct job *job, char *err, size_t errlen)
{
	(void)job;
	snprintf(err, errlen, "The FAL backend is not built into this server.");
	return BACKEND_FAILED;
}

const struct backend backend_fal = {
	.name = "fal",
	.run = fal_run,
};
