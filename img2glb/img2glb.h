/*
 * img2glb.h: the built-in offline model.  Turns image bytes (JPEG, PNG,
 * WebP) into a valid, textured binary glTF (GLB) without any network or
 * ML: a keyed or alpha silhouette becomes a solid (inflated, turned on a
 * lathe when it is mirror-symmetric, or extruded with a bevel when it is
 * a flat graphic), otherwise a luminance relief slab, or a flat card.
 * Every solid is closed and stands on y = 0.
 *
 * Contract: pure functions of (bytes, options); the output bytes are
 * deterministic.  Nothing here exits, prints or keeps global state, so
 * any number of threads may convert at once.
 */
#ifndef IMG2GLB_H
#define IMG2GLB_H

#include <stddef.h>

/*
 * The options' ranges and defaults, defined once: i2g_convert enforces
 * them, and the model table's "local" row (spool/models.c) is written in
 * terms of them, so the upload check, models/available and the daemon's
 * defaults all say the same.
 */
#define I2G_MODES "auto|inflate|lathe|extrude|relief|card"
#define I2G_MODE_DEF "auto"
#define I2G_BACKS "mirror|plain" /* the back: mirrored photo, or plain */
#define I2G_BACK_DEF "mirror"
#define I2G_RES_MIN 32 /* grid cells on the long side */
#define I2G_RES_MAX 256
#define I2G_RES_DEF 160
#define I2G_THICK_MIN 0.005 /* thickness as a fraction of the width */
#define I2G_THICK_MAX 0.5
#define I2G_THICK_DEF 0.04
#define I2G_TEX_MIN 16 /* texture side in pixels */
#define I2G_TEX_MAX 8192
#define I2G_TEX_DEF 2048
/* A default as text, for tables: I2G_TEXT(I2G_RES_DEF) is "160". */
#define I2G_TEXT(x) I2G_TEXT_(x)
#define I2G_TEXT_(x) #x

/* Every field 0 (or NULL) takes its default. */
struct i2g_opts {
	const char *mode; /* one of I2G_MODES */
	int resolution; /* I2G_RES_MIN..I2G_RES_MAX */
	double thickness; /* I2G_THICK_MIN..I2G_THICK_MAX */
	int max_texture; /* I2G_TEX_MIN..I2G_TEX_MAX */
	const char *back; /* one of I2G_BACKS */
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

/*
 * The thumbnail of an upload: a JPEG whose long side is at most side
 * pixels (a smaller image keeps its size), upright, transparency on
 * white, made from the pixels alone.  0 with *jpg malloc'd (caller
 * frees) and *jpglen set, or -1 with one sentence in err.  Thread-safe.
 */
#define I2G_THUMB_MIN 16
#define I2G_THUMB_MAX 1024
#define I2G_THUMB_DEF 256
int i2g_thumbnail(const void *img, size_t len, int side, unsigned char **jpg,
    size_t *jpglen, char *err, size_t errlen);

#endif
