/*
 * convert.h: the protocol between the daemon's offline backend
 * (backend_local.c) and i2m-convert (convert.c), the program that decodes
 * and meshes one image under resource limits.
 *
 *   i2m-convert MEMORY_MB CPU_S MODE BACK RESOLUTION THICKNESS
 *   i2m-convert thumb MEMORY_MB CPU_S SIDE
 *   fd 0: the image (a file opened by the daemon), fd 1: the answer.
 *
 * MODE and BACK are "-" for the default; RESOLUTION 0 and THICKNESS 0 too.
 * The answer is one struct convert_reply, then glblen bytes when ok: the
 * GLB, or for "thumb" the JPEG thumbnail (info unused).  Both ends are built from one tree by one compiler, so the struct
 * is the wire format.  Exit status 0 when the answer was written, else
 * non-zero (CONVERT_EXEC_FAILED: the program could not be started).
 */
#ifndef CONVERT_H
#define CONVERT_H

#include <stddef.h>

#include "img2glb.h"

#define CONVERT_PROG "i2m-convert"
#define CONVERT_INPUT_CAP (256L * 1024 * 1024)
#define CONVERT_EXEC_FAILED 127
#define CONVERT_THUMB "thumb"

struct convert_reply {
	int ok;
	size_t glblen;
	struct i2g_info info;
	char err[512];
};

#endif
