/*
 * img2glb.c: the public entry point of the offline model (img2glb.h).
 *
 * Protocol: check the options, decode (image.c), build the mesh
 * (mesh.c), pick the texture and write the GLB (glb.c).  Every failure
 * leaves one sentence in err and frees everything it allocated; on
 * success only *glb belongs to the caller.  No global state, so callers
 * may run many conversions in parallel threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb.h"
#include "img2glb_int.h"

#define DEF_RES 160
#define DEF_THICK 0.04
#define DEF_TEX 2048
#define MSG_OOM                                                     \
	"The server ran out of memory while converting the image; " \
	"try a smaller image."

/* Check and default the options; returns 0 or -1 with err set. */
static int
check_opts(const struct i2g_opts *o, const char **mode, int *res, double *th,
    int *tex, char *err, size_t errlen)
{
	*mode = "auto";
	*res = DEF_RES;
	*th = DEF_THICK;
	*tex = DEF_TEX;
	if (o == NULL)
		return 0;
	if (o->mode != NULL && o->mode[0] != '\0') {
		if (strcmp(o->mode, "auto") != 0 &&
		    strcmp(o->mode, "inflate") != 0 &&
		    strcmp(o->mode, "relief") != 0 &&
		    strcmp(o->mode, "card") != 0) {
			snprintf(err, errlen,
			    "The mode \"%.32s\" is unknown; "
			    "use auto, inflate, relief or card.",
			    o->mode);
			return -1;
		}
		*mode = o->mode;
	}
	if (o->resolution != 0) {
		if (o->resolution < 32 || o->resolution > 256) {
			snprintf(err, errlen,
			    "The resolution %d is out of "
			    "range; use 32 to 256 grid cells.",
			    o->resolution);
			return -1;
		}
		*res = o->resolution;
	}
	if (o->thickness != 0) {
		if (!(o->thickness >= 0.005 && o->thickness <= 0.5)) {
			snprintf(err, errlen,
			    "The thickness %g is out of "
			    "range; use 0.005 to 0.5 of the model's width.",
			    o->thickness);
			return -1;
		}
		*th = o->thickness;
	}
	if (o->max_texture != 0) {
		if (o->max_texture < 16 || o->max_texture > 8192) {
			snprintf(err, errlen,
			    "The maximum texture size %d is "
			    "out of range; use 16 to 8192 pixels.",
			    o->max_texture);
			return -1;
		}
		*tex = o->max_texture;
	}
	return 0;
}

int
i2g_convert(const void *img, size_t len, const struct i2g_opts *o,
    unsigned char **glb, size_t *glblen, struct i2g_info *info, char *err,
    size_t errlen)
{
	struct image im;
	struct mesh m;
	struct texture t;
	const char *mode;
	double th;
	int res, tex, rc = -1;

	memset(&im, 0, sizeof(im));
	memset(&m, 0, sizeof(m));
	memset(&t, 0, sizeof(t));
	if (err == NULL)
		errlen = 0;
	if (errlen > 0)
		err[0] = '\0';
	if (glb == NULL || glblen == NULL) {
		snprintf(err, errlen,
		    "The converter was called without an "
		    "output buffer; this is a bug in the caller.");
		return -1;
	}
	*glb = NULL;
	*glblen = 0;
	if (check_opts(o, &mode, &res, &th, &tex, err, errlen) == -1)
		goto out;
	if (image_decode(img, len, &im, err, errlen) == -1)
		goto out;
	/* The thickness is relative to the long side, which is 1.0 m. */
	if (mesh_build(&im, mode, res, th, &m) == -1 ||
	    glb_texture(&im, img, len, m.alpha_mask, tex, &t) == -1 ||
	    glb_write(&m, &t, glb, glblen) == -1) {
		snprintf(err, errlen, "%s", MSG_OOM);
		goto out;
	}
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		snprintf(info->mode, sizeof(info->mode), "%s", m.mode);
		info->width = im.w;
		info->height = im.h;
		info->vertices = m.nv;
		info->triangles = m.nt;
	}
	rc = 0;
out:
	image_free(&im);
	mesh_free(&m);
	glb_texture_free(&t);
	return rc;
}
