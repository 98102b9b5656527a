/*
 * img2glb.h: the built-in offline model.  Turns image bytes (JPEG, PNG,
 * WebP) into a valid, textured binary glTF (GLB) without any network or
 * ML: a keyed or alpha silhouette is inflated into a solid, otherwise a
 * luminance relief slab, or a flat card.
 *
 * Contract: pure functions of (bytes, options); the output bytes are
 * deterministic.  Nothing here exits, prints or keeps global state, so
 * any number of threads may convert at once.
 */
#ifndef IMG2GLB_H
#define IMG2GLB_H

#include <stddef.h>

#include "sniff.h" /* i2g_sniff: which image a buffer holds */

struct i2g_opts {
	const char *
	    mode; /* "auto" (default), "inflate", "relief", "card"; NULL = auto */
	int resolution; /* grid cells on the long side, 32..256; 0 = 160 */
	double
	    thickness; /* model thickness as fraction of width, 0.005..0.5; 0 = default (~0.04) */
	int max_texture; /* max texture side in px; 0 = 2048 */
};

struct i2g_info {
	char mode[16];
	int width, height;
	long vertices, triangles;
};

/*
 * Convert image bytes to a GLB.  On success returns 0, *glb is malloc'd
 * (caller frees), *glblen set, info filled (info may be NULL).  On
 * failure returns -1 and writes ONE sentence a person can act on into
 * err.  Never exits, never prints.  Thread-safe.
 */
int i2g_convert(const void *img, size_t len, const struct i2g_opts *o,
    unsigned char **glb, size_t *glblen, struct i2g_info *info, char *err,
    size_t errlen);

#endif
