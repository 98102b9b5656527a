/*
 * img2glb_int.h: private interface between the parts of the offline
 * model: image.c (decode + EXIF), mesh.c (silhouette/relief/card
 * geometry), glb.c (texture choice + GLB container) and img2glb.c (the
 * public entry point).  Not for use outside those files.
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

/* A decoded image, already turned upright by its EXIF orientation. */
struct image {
	unsigned char *rgba; /* w*h*4, malloc'd */
	int w, h;
	int has_alpha; /* some pixel has alpha < 255 */
	int orient; /* EXIF orientation that was applied, 1 = none */
	const char *fmt; /* "jpg", "png", "webp" */
	int stb_owned; /* rgba came from stb_image: free with stbi_image_free */
};

/* Triangle mesh with per-vertex position, normal and UV. */
struct mesh {
	float *pos, *nrm, *uv; /* 3, 3, 2 floats per vertex */
	uint32_t *idx; /* 3 per triangle, CCW seen from outside */
	long nv, nt;
	long capv, capt;
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

/* image.c */
int image_decode(
    const void *buf, size_t len, struct image *im, char *err, size_t errlen);
void image_free(struct image *im);

/* mesh.c: mode is "auto", "inflate", "relief" or "card".  Returns 0, or
 * -1 on out of memory (the only failure). */
int mesh_build(const struct image *im, const char *mode, int res,
    double thickness, struct mesh *m);
void mesh_free(struct mesh *m);

/* glb.c */
int glb_texture(const struct image *im, const void *orig, size_t origlen,
    int need_alpha, int max_texture, struct texture *t);
void glb_texture_free(struct texture *t);
int glb_write(const struct mesh *m, const struct texture *t,
    unsigned char **out, size_t *outlen);

#endif
