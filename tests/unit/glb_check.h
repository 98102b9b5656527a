/*
 * glb_check.h: test support for the offline model's unit tests
 * (test_img2glb.c): inputs and GLB checks.  Failures are reported as TAP
 * lines (tap.h); nothing here exits.
 */
#ifndef GLB_CHECK_H
#define GLB_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "img2glb.h"

struct buf {
	unsigned char *p;
	size_t n;
};

/* A parsed GLB: JSON (new reference) and the BIN chunk. */
struct glb {
	json_t *js;
	const unsigned char *bin;
	size_t binlen;
};

/* A sample photo: $I2M_SAMPLES, else tests/fixtures, else the shared
 * samples directory; {NULL, 0} when absent. */
struct buf sample(const char *name);
/* rgba (comp channels) encoded as PNG / RGBA as JPEG q90, in memory. */
struct buf make_png(const unsigned char *rgba, int w, int h, int comp);
struct buf make_jpg(const unsigned char *rgba, int w, int h);
struct buf make_jpg_q(const unsigned char *rgba, int w, int h, int quality);
/* w x h RGBA filled with one colour (malloc'd). */
unsigned char *
solid(int w, int h, unsigned r, unsigned g, unsigned b, unsigned a);
/* A red disk on a transparent background (alpha) or on grey (keyed). */
unsigned char *disk(int w, int h, int transparent);

/* Convert, check the structure, save.  Returns the GLB (caller frees)
 * or NULL; *gl gets the parsed GLB (caller json_decref's gl->js). */
unsigned char *
convert(const char *name, const struct buf *in, const struct i2g_opts *o,
    struct i2g_info *info, struct glb *gl, size_t *glen);
/* Expect failure with a message containing want. */
void expect_fail(const char *name, const void *p, size_t n,
    const struct i2g_opts *o, const char *want);

/* The embedded image: pointer into the BIN chunk and its length. */
const unsigned char *glb_image(const struct glb *gl, size_t *len);
const char *glb_mime(const struct glb *gl);
/* POSITION bounds from the accessor. */
void glb_bounds(const struct glb *gl, double lo[3], double hi[3]);
/* 1 when every edge is shared by exactly two triangles, wound
 * consistently (positions compared by value). */
int watertight(const struct glb *gl);
/* Triangles of primitive k (0 textured, 1 plain), 0 when absent. */
long glb_prim_tris(const struct glb *gl, int k);

/* Vertex attribute a (0 POSITION, 1 NORMAL, 2 TEXCOORD_0, 4 COLOR_0) as
 * floats in the BIN chunk, *nv set; and triangle t's vertex k of
 * primitive prim (0 textured, 1 plain). */
const float *glb_attr(const struct glb *gl, int a, long *nv);
uint32_t glb_index(const struct glb *gl, int prim, long t, int k);

/* shape_check.c: the shapes of issue 15 (TAP lines). */
void test_shapes(void);
/* side_check.c: flat graphics in JPEG, sides and backs (TAP lines). */
void test_sides(void);

#endif
