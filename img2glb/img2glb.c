/*
 * img2glb.c: the public entry point of the offline model (img2glb.h).
 *
 * Protocol: check the options, decode (image.c) at the texture's size
 * (a larger file is decoded reduced: the mesh needs no more), build the mesh
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

#define MSG_OOM                                                     \
	"The server ran out of memory while converting the image; " \
	"try a smaller image."

/* 1 when word is one of the '|'-separated list. */
static int
known(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	for (;;) {
		const char *e = strchr(p, '|');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);

		if (l == n && strncmp(p, word, n) == 0)
			return 1;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

/* The mode and back options; 0 or -1 with err set. */
static int
check_words(const struct i2g_opts *o, struct bopts *b, char *err, size_t errlen)
{
	if (o->mode != NULL && o->mode[0] != '\0') {
		if (!known(I2G_MODES, o->mode)) {
			snprintf(err, errlen,
			    "The mode \"%.32s\" is unknown; use auto, inflate, lathe, extrude, relief or card.",
			    o->mode);
			return -1;
		}
		b->mode = o->mode;
	}
	if (o->back != NULL && o->back[0] != '\0') {
		if (!known(I2G_BACKS, o->back)) {
			snprintf(err, errlen,
			    "The back \"%.32s\" is unknown; use mirror or plain.",
			    o->back);
			return -1;
		}
		b->plain_back = strcmp(o->back, "plain") == 0;
	}
	return 0;
}

/* Check and default the options; returns 0 or -1 with err set. */
static int
check_opts(const struct i2g_opts *o, struct bopts *b, int *tex, char *err,
    size_t errlen)
{
	b->mode = I2G_MODE_DEF;
	b->res = I2G_RES_DEF;
	b->th = I2G_THICK_DEF;
	b->plain_back = 0;
	*tex = I2G_TEX_DEF;
	if (o == NULL)
		return 0;
	if (check_words(o, b, err, errlen) == -1)
		return -1;
	if (o->resolution != 0) {
		if (o->resolution < I2G_RES_MIN ||
		    o->resolution > I2G_RES_MAX) {
			snprintf(err, errlen,
			    "The resolution %d is out of range; use %d to %d grid cells.",
			    o->resolution, I2G_RES_MIN, I2G_RES_MAX);
			return -1;
		}
		b->res = o->resolution;
	}
	if (o->thickness != 0) {
		if (!(o->thickness >= I2G_THICK_MIN &&
		        o->thickness <= I2G_THICK_MAX)) {
			snprintf(err, errlen,
			    "The thickness %g is out of range; use %g to %g of the model's width.",
			    o->thickness, I2G_THICK_MIN, I2G_THICK_MAX);
			return -1;
		}
		b->th = o->thickness;
	}
	if (o->max_texture != 0) {
		if (o->max_texture < I2G_TEX_MIN ||
		    o->max_texture > I2G_TEX_MAX) {
			snprintf(err, errlen,
			    "The maximum texture size %d is out of range; use %d to %d pixels.",
			    o->max_texture, I2G_TEX_MIN, I2G_TEX_MAX);
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
	struct bopts b;
	int tex, rc = -1;

	memset(&im, 0, sizeof(im));
	memset(&m, 0, sizeof(m));
	memset(&t, 0, sizeof(t));
	if (err == NULL)
		errlen = 0;
	if (errlen > 0)
		err[0] = '\0';
	if (glb == NULL || glblen == NULL) {
		snprintf(err, errlen,
		    "The converter was called without an output buffer; this is a bug in the caller.");
		return -1;
	}
	*glb = NULL;
	*glblen = 0;
	if (check_opts(o, &b, &tex, err, errlen) == -1)
		goto out;
	if (image_decode(img, len, tex, &im, err, errlen) == -1)
		goto out;
	/* The thickness is relative to the long side, which is 1.0 m. */
	if (mesh_build(&im, &b, &m) == -1 ||
	    glb_texture(&im, img, len, m.alpha_mask, tex, &t) == -1 ||
	    glb_write(&m, &t, glb, glblen) == -1) {
		snprintf(err, errlen, "%s", MSG_OOM);
		goto out;
	}
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		snprintf(info->mode, sizeof(info->mode), "%s", m.mode);
		info->width = im.src_w;
		info->height = im.src_h;
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
