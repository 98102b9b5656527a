/*
 * img2glb_int.h: private interface between the parts of the offline
 * model: image.c (decode + EXIF), mask.c (foreground mask, coverage),
 * flat.c (flat-graphic test), colour.c (colours sampled for walls and backs),
 * mesh.c (mode choice, card, placing) with march.c (marching-triangles
 * cap), poisson.c (inflation heights), inflate.c (inflate and extrude),
 * lathe.c (symmetry test and lathe) and relief.c, glb.c (texture choice +
 * GLB container) and img2glb.c (the public entry point).  sniff.c is
 * public (sniff.h).  Not for use outside img2glb/.
 *
 * Ownership: every struct here owns its malloc'd arrays; the matching
 * *_free() releases them and leaves the struct zeroed, so it may be
 * called on a zero-initialised or half-built struct.
 */
#ifndef IMG2GLB_INT_H
#define IMG2GLB_INT_H

#include <stddef.h>
#include <stdint.h>

#define I2G_MAX_SIDE 8192 /* pixels per side */
#define I2G_MAX_PIXELS (40L * 1000 * 1000) /* total pixels */

#define I2G_MSG_CORRUPT \
	"The image is truncated or corrupt and cannot be decoded."

/*
 * A decoded image, already turned upright by its EXIF orientation.  When
 * the file is larger than the model needs, w x h is the reduced size it
 * was decoded at and src_w x src_h the file's (upright) size.
 */
struct image {
	unsigned char *rgba; /* w*h*4, malloc'd */
	int w, h;
	int src_w, src_h;
	int has_alpha; /* some pixel has alpha < 255 */
	int orient; /* EXIF orientation that was applied, 1 = none */
	const char *fmt; /* "jpg", "png", "webp" */
};

/*
 * Triangle mesh with per-vertex position, normal, UV and colour.  The
 * first nt_tex triangles are textured (the photo times the colour, white
 * or a darkened back); the rest are plain (the colour alone: walls, a
 * plain back).  The colour is linear RGB, as glTF's COLOR_0.
 */
struct mesh {
	float *pos, *nrm, *uv, *col; /* 3, 3, 2, 3 floats per vertex */
	uint32_t *idx; /* 3 per triangle, CCW seen from outside */
	long nv, nt, nt_tex;
	long capv, capt;
	float cur[3]; /* colour mesh_vert gives new vertices */
	int alpha_mask; /* card cut out by texture alpha */
	int double_sided;
	char mode[16]; /* the mode actually built */
};

/* A texture ready to embed: bytes plus mime type. */
struct texture {
	unsigned char *data; /* malloc'd copy, or NULL when borrowed */
	const unsigned char *bytes;
	size_t len;
	const char *mime; /* "image/png" or "image/jpeg" */
	int w, h;
};

/* image.c: decode to a long side of at least target pixels when the file
 * is larger (target 0: full size); 0, or -1 with one sentence in err. */
int image_decode(const void *buf, size_t len, int target, struct image *im,
    char *err, size_t errlen);
void image_free(struct image *im);
/* For the decoders: the pixel limits (0, or -1 with "too large (W×H)" in
 * err); the sentences for out of memory and for corrupt data with the
 * decoder's reason (why may be NULL); the integer reduction factor that
 * keeps the long side at or above target; byte readers. */
int image_check_dims(long w, long h, char *err, size_t errlen);
void image_oom(long w, long h, char *err, size_t errlen);
void image_corrupt(const char *why, char *err, size_t errlen);
int image_reduce(int w, int h, int target);
unsigned i2g_rd16(const unsigned char *p, int le);
uint32_t i2g_rd32(const unsigned char *p, int le);
/* image_jpeg.c, image_png.c, image_webp.c: the container is already
 * walked; fill im->rgba, w, h, src_w, src_h; 0 or -1 with err set. */
int image_jpeg(const unsigned char *p, size_t n, int target, struct image *im,
    char *err, size_t errlen);
int image_png(const unsigned char *p, size_t n, int target, struct image *im,
    char *err, size_t errlen);
int image_webp(const unsigned char *p, size_t n, int target, struct image *im,
    char *err, size_t errlen);

/* encode.c: RGBA8 -> JPEG (alpha dropped) or PNG (RGBA), written from
 * the pixels alone (no metadata of the original can reach the GLB);
 * *out malloc'd; 0, or -1 out of memory / encoder failure. */
int encode_jpeg(const unsigned char *rgba, int w, int h, int quality,
    unsigned char **out, size_t *len);
int encode_png(
    const unsigned char *rgba, int w, int h, unsigned char **out, size_t *len);

/* Grid geometry shared by the modes: vertices are (gw+1) x (gh+1). */
struct grid {
	int gw, gh; /* cells */
	double sx, sy; /* model size in metres */
	int w, h; /* image size in pixels */
};

/* Model x and y of grid coordinates (inline: the builders' inner loops). */
static inline double
grid_x(const struct grid *g, double gx)
{
	return (gx / g->gw - 0.5) * g->sx;
}

static inline double
grid_y(const struct grid *g, double gy)
{
	return (0.5 - gy / g->gh) * g->sy;
}

/* What the builders are asked for (checked options of img2glb.h). */
struct bopts {
	const char *mode; /* one of I2G_MODES */
	int res; /* grid cells on the long side */
	double th; /* thickness, metres for a 1 m model */
	int plain_back; /* back=plain: a solid colour, not the mirrored photo */
};

/* The mirrored back's colour: the photo a little darker, so the back
 * reads as the back (inflate, extrude, relief). */
#define BACK_SHADE 0.75f

/* mesh.c: the mesh for b->mode (auto chooses).  Returns 0, or -1 on out
 * of memory (the only failure). */
int mesh_build(const struct image *im, const struct bopts *b, struct mesh *m);
void mesh_free(struct mesh *m);
/* Grow *p (elt-byte elements, *cap of them) to hold need; 0 or -1. */
int mesh_grow(void **p, long *cap, long need, size_t elt);
/* Make room for nv more vertices and nt more triangles; 0 or -1. */
int mesh_reserve(struct mesh *m, long nv, long nt);
/* Append a vertex (room must be reserved); the normal is normalised, the
 * colour is m->cur. */
uint32_t mesh_vert(struct mesh *m, double x, double y, double z, double nx,
    double ny, double nz, double u, double v);
/* Append a triangle (room must be reserved). */
void mesh_tri(struct mesh *m, uint32_t a, uint32_t b, uint32_t c);
/* Bounding box of the positions (m->nv > 0). */
void mesh_bounds(const struct mesh *m, float lo[3], float hi[3]);

/* mask.c: foreground mask (1 = object, w*h bytes) from alpha or keying.
 * Returns 0 with a usable mask, 1 when there is none (no transparency and
 * no plain border, or a foreground under 1% or over 98%), -1 out of
 * memory. */
int make_mask(const struct image *im, unsigned char *mask);
/* Average a w x h byte plane onto the (gw+1) x (gh+1) vertex grid. */
int bin_plane(const unsigned char *a, const struct grid *g, float *out);

/* poisson.c: lap(h) = -1 inside coverage f > iso, h = 0 on the contour;
 * h per grid corner (0 outside), *hmax its largest value; 0 or -1 OOM. */
int poisson_heights(
    const struct grid *g, const float *f, float iso, float *h, double *hmax);

/* colour.c: linear RGB of an sRGB byte triple; the mean linear colour of
 * the mask's pixels within r of (px, py) (returns how many there were);
 * the subject's dominant colour.  A NULL mask is every pixel. */
void colour_lin(const unsigned char *rgb, float out[3]);
long colour_near(const struct image *im, const unsigned char *mask, double px,
    double py, int r, float out[3]);
void
colour_mean(const struct image *im, const unsigned char *mask, float out[3]);

/* march.c: the marching-triangles cap of a coverage grid. */
#define ISO 0.5f /* coverage level of the contour */
struct mt {
	const struct grid *g;
	const float *f; /* coverage per grid corner */
	int32_t *cid; /* cap vertex of a corner, -1 = none yet */
	int32_t *eid; /* cap vertex of an edge crossing, by key */
	float *vx, *vy; /* cap vertices in grid units */
	int32_t *vcorner; /* corner of a cap vertex, -1 = crossing */
	long nv, capv;
	uint32_t *tris; /* cap triangles, CCW seen from +Z */
	long nt, capt;
	uint32_t *seg; /* contour segments a -> b, interior left */
	long ns, caps;
	float *h; /* per corner: scratch for the caller (corner count) */
};
/* Set up (0 or -1 out of memory), march every cell (0 or -1), free. */
int mt_init(struct mt *s, const struct grid *g, const float *f);
int mt_march(struct mt *s);
void mt_free(struct mt *s);

/* mask.c: coverage of the mask on the vertex grid, ready for marching: the outer
 * ring 0 (every contour closes) and no value exactly at ISO.  cov has
 * (gw+1)(gh+1) floats.  0, or -1 out of memory. */
int coverage(const unsigned char *mask, const struct grid *g, float *cov);

/* inflate.c: solid from the silhouette (mask from make_mask).  0 built,
 * 1 no usable silhouette (the caller falls back to relief), -1 out of
 * memory. */
int inflate_build(const struct image *im, const unsigned char *mask,
    const struct grid *g, const struct bopts *b, struct mesh *m);
/* Extrude: flat caps, a bevelled rim, one wall colour (flat graphics). */
int extrude_build(const struct image *im, const unsigned char *mask,
    const struct grid *g, const struct bopts *o, struct mesh *m);
/* lathe.c: 1 when the mask is clearly mirror-symmetric about a vertical
 * axis (*axis, pixels, set either way), 0 not, -1 out of memory; the
 * surface of revolution: 0 built, 1 no usable profile, -1 OOM. */
int lathe_axis(const unsigned char *mask, int w, int h, double *axis);
int lathe_build(const struct image *im, const unsigned char *mask,
    const struct grid *g, const struct bopts *o, struct mesh *m);
/* flat.c: 1 when the masked subject is a flat graphic (a few flat
 * colours, hard edges), JPEG noise and all. */
int flat_graphic(const struct image *im, const unsigned char *mask);
/* relief.c: luminance slab.  0 built, -1 out of memory. */
int relief_build(const struct image *im, const struct grid *g,
    const struct bopts *b, struct mesh *m);

/* glb.c */
int glb_texture(const struct image *im, const void *orig, size_t origlen,
    int need_alpha, int max_texture, struct texture *t);
void glb_texture_free(struct texture *t);
int glb_write(const struct mesh *m, const struct texture *t,
    unsigned char **out, size_t *outlen);

#endif
