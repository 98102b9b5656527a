/*
 * mesh.c: geometry of the offline model, from an upright RGBA image, and
 * the building blocks its modes share.
 *
 * Conventions (glTF): metres, +Y up, the picture faces +Z, front faces
 * CCW.  The long side of the image is 1.0 m; pixel (px, py) maps to
 * x = (px/W - 0.5)*sx, y = (0.5 - py/H)*sy and UV = (px/W, py/H) with no
 * V flip (glTF UVs start at the top-left).  The finished mesh stands on
 * its base: lowest point at y = 0, bounding box centred in x and z.
 *
 * Modes: inflate (inflate.c, a solid blown up from the silhouette that
 * mask.c finds), lathe (lathe.c, turned about the silhouette's axis),
 * extrude (inflate.c, flat with a bevel), relief (relief.c, a luminance
 * slab), card (here: a thin slab with the picture on both faces).  "auto" takes extrude for a
 * flat graphic, lathe for a clearly mirror-symmetric silhouette, else
 * inflate; every silhouette mode falls back to relief when there is no
 * usable silhouette.  Every mode, card included, is a closed solid.
 *
 * Every function is a pure function of its inputs (no statics, no
 * randomness), so the output is deterministic and thread-safe.  Normals
 * are always unit length (a zero or NaN normal becomes +Z), because the
 * validator rejects anything else.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

void
mesh_free(struct mesh *m)
{
	free(m->pos);
	free(m->nrm);
	free(m->uv);
	free(m->col);
	free(m->idx);
	memset(m, 0, sizeof(*m));
}

int
mesh_grow(void **p, long *cap, long need, size_t elt)
{
	long ncap = *cap > 0 ? *cap : 1024;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, (size_t)ncap * elt);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

int
mesh_reserve(struct mesh *m, long nv, long nt)
{
	long cv = m->capv, ct = m->capt;

	if (mesh_grow((void **)&m->pos, &cv, m->nv + nv, 12) == -1)
		return -1;
	cv = m->capv;
	if (mesh_grow((void **)&m->nrm, &cv, m->nv + nv, 12) == -1)
		return -1;
	cv = m->capv;
	if (mesh_grow((void **)&m->uv, &cv, m->nv + nv, 8) == -1)
		return -1;
	cv = m->capv;
	if (mesh_grow((void **)&m->col, &cv, m->nv + nv, 12) == -1)
		return -1;
	m->capv = cv;
	if (mesh_grow((void **)&m->idx, &ct, m->nt + nt, 12) == -1)
		return -1;
	m->capt = ct;
	return 0;
}

uint32_t
mesh_vert(struct mesh *m, double x, double y, double z, double nx, double ny,
    double nz, double u, double v)
{
	double l = sqrt(nx * nx + ny * ny + nz * nz);
	long i = m->nv++;

	if (!(l > 1e-12) || !isfinite(l)) {
		nx = 0;
		ny = 0;
		nz = 1;
		l = 1;
	}
	m->pos[i * 3] = (float)x;
	m->pos[i * 3 + 1] = (float)y;
	m->pos[i * 3 + 2] = (float)z;
	m->nrm[i * 3] = (float)(nx / l);
	m->nrm[i * 3 + 1] = (float)(ny / l);
	m->nrm[i * 3 + 2] = (float)(nz / l);
	m->uv[i * 2] = (float)u;
	m->uv[i * 2 + 1] = (float)v;
	memcpy(m->col + i * 3, m->cur, sizeof(m->cur));
	return (uint32_t)i;
}

void
mesh_tri(struct mesh *m, uint32_t a, uint32_t b, uint32_t c)
{
	long t = m->nt++;

	m->idx[t * 3] = a;
	m->idx[t * 3 + 1] = b;
	m->idx[t * 3 + 2] = c;
}

void
mesh_bounds(const struct mesh *m, float lo[3], float hi[3])
{
	long i;
	int a;

	for (a = 0; a < 3; a++)
		lo[a] = hi[a] = m->pos[a];
	for (i = 1; i < m->nv; i++) {
		for (a = 0; a < 3; a++) {
			float v = m->pos[i * 3 + a];

			lo[a] = v < lo[a] ? v : lo[a];
			hi[a] = v > hi[a] ? v : hi[a];
		}
	}
}

/*
 * A card is a thin closed slab (CARD_DEPTH of the long side), so that it
 * is watertight like every other mode and can be printed: the picture on
 * the front (+Z), mirrored on the back as a double-sided quad showed it,
 * and the picture's edge pixels stretched over the four sides.  Corners
 * are computed from the same expressions on every face, so welded by
 * position every edge is shared by exactly two triangles.
 */
#define CARD_DEPTH 0.01

/* One face: corners a b c d (CCW seen from outside), their UVs, normal n. */
static void
card_face(struct mesh *m, const double p[4][3], const double uv[4][2],
    const double n[3])
{
	uint32_t b = (uint32_t)m->nv;
	int k;

	for (k = 0; k < 4; k++)
		mesh_vert(m, p[k][0], p[k][1], p[k][2], n[0], n[1], n[2],
		    uv[k][0], uv[k][1]);
	mesh_tri(m, b, b + 1, b + 2);
	mesh_tri(m, b, b + 2, b + 3);
}

static int
build_card(const struct image *im, const struct grid *g, struct mesh *m)
{
	const double x0 = -g->sx / 2, x1 = g->sx / 2, y0 = -g->sy / 2,
	             y1 = g->sy / 2, z = CARD_DEPTH / 2;
	const double front[4][3] = {
	    {x0, y1, z}, {x0, y0, z}, {x1, y0, z}, {x1, y1, z}};
	const double fuv[4][2] = {{0, 0}, {0, 1}, {1, 1}, {1, 0}};
	const double back[4][3] = {
	    {x1, y1, -z}, {x1, y0, -z}, {x0, y0, -z}, {x0, y1, -z}};
	const double buv[4][2] = {{1, 0}, {1, 1}, {0, 1}, {0, 0}};
	const double top[4][3] = {
	    {x0, y1, z}, {x1, y1, z}, {x1, y1, -z}, {x0, y1, -z}};
	const double tuv[4][2] = {{0, 0}, {1, 0}, {1, 0}, {0, 0}};
	const double bot[4][3] = {
	    {x0, y0, -z}, {x1, y0, -z}, {x1, y0, z}, {x0, y0, z}};
	const double ouv[4][2] = {{0, 1}, {1, 1}, {1, 1}, {0, 1}};
	const double left[4][3] = {
	    {x0, y0, -z}, {x0, y0, z}, {x0, y1, z}, {x0, y1, -z}};
	const double luv[4][2] = {{0, 1}, {0, 1}, {0, 0}, {0, 0}};
	const double right[4][3] = {
	    {x1, y0, z}, {x1, y0, -z}, {x1, y1, -z}, {x1, y1, z}};
	const double ruv[4][2] = {{1, 1}, {1, 1}, {1, 0}, {1, 0}};
	const double nf[3] = {0, 0, 1}, nb[3] = {0, 0, -1}, nt[3] = {0, 1, 0},
	             nd[3] = {0, -1, 0}, nl[3] = {-1, 0, 0}, nr[3] = {1, 0, 0};

	if (mesh_reserve(m, 24, 12) == -1)
		return -1;
	card_face(m, front, fuv, nf);
	card_face(m, back, buv, nb);
	card_face(m, top, tuv, nt);
	card_face(m, bot, ouv, nd);
	card_face(m, left, luv, nl);
	card_face(m, right, ruv, nr);
	m->alpha_mask = im->has_alpha;
	return 0;
}

/*
 * Stand the model on its base: the lowest point at y = 0, the bounding
 * box centred in x and z; and scale uniformly so the longer of width and
 * height is 1.0 m: a keyed object fills less than its photo, but the
 * model should have the promised size.  A uniform scale keeps the
 * normals valid.
 */
static void
place_mesh(struct mesh *m)
{
	float lo[3], hi[3], c[3];
	double ext, s;
	long i;
	int a;

	mesh_bounds(m, lo, hi);
	ext = fmax((double)hi[0] - lo[0], (double)hi[1] - lo[1]);
	s = ext > 1e-6 ? 1.0 / ext : 1.0;
	for (a = 0; a < 3; a++)
		c[a] = (lo[a] + hi[a]) / 2;
	c[1] = lo[1];
	for (i = 0; i < m->nv; i++)
		for (a = 0; a < 3; a++)
			m->pos[i * 3 + a] =
			    (float)((m->pos[i * 3 + a] - c[a]) * s);
	/* (lo - lo) * s is exactly 0, so the base is at y = 0 exactly. */
}

/* The grid for res cells on the long side (no more cells than pixels). */
static void
make_grid(const struct image *im, int res, struct grid *g)
{
	int lng = im->w > im->h ? im->w : im->h;

	if (res > lng)
		res = lng;
	g->w = im->w;
	g->h = im->h;
	g->gw = (int)floor((double)res * im->w / lng + 0.5);
	g->gh = (int)floor((double)res * im->h / lng + 0.5);
	g->gw = g->gw < 1 ? 1 : g->gw;
	g->gh = g->gh < 1 ? 1 : g->gh;
	g->sx = (double)im->w / lng;
	g->sy = (double)im->h / lng;
}

/*
 * Which silhouette mode auto takes: extrude for a flat graphic, lathe
 * for a clearly mirror-symmetric subject, else inflate; -1 out of
 * memory.
 */
static const char *
auto_mode(const struct image *im, const unsigned char *mask)
{
	double axis;
	int r;

	if (flat_graphic(im, mask))
		return "extrude";
	r = lathe_axis(mask, im->w, im->h, &axis);
	return r == -1 ? NULL : r == 1 ? "lathe" : "inflate";
}

/*
 * The silhouette modes (inflate, lathe, extrude; auto chooses); 1 when
 * there is no usable silhouette (the caller makes a relief).
 */
static int
build_solid(const struct image *im, const struct grid *g, const struct bopts *b,
    struct mesh *m)
{
	unsigned char *mask = malloc((size_t)im->w * (size_t)im->h);
	const char *mode = b->mode;
	int r = -1;

	if (mask == NULL)
		return -1;
	r = make_mask(im, mask);
	if (r == 0 && strcmp(mode, "auto") == 0 &&
	    (mode = auto_mode(im, mask)) == NULL)
		r = -1;
	if (r == 0 && strcmp(mode, "lathe") == 0)
		r = lathe_build(im, mask, g, b, m);
	else if (r == 0 && strcmp(mode, "extrude") == 0)
		r = extrude_build(im, mask, g, b, m);
	else if (r == 0)
		r = inflate_build(im, mask, g, b, m);
	if (r == 0)
		snprintf(m->mode, sizeof(m->mode), "%s", mode);
	free(mask);
	return r;
}

int
mesh_build(const struct image *im, const struct bopts *b, struct mesh *m)
{
	struct grid g;
	int r = 1;

	memset(m, 0, sizeof(*m));
	m->cur[0] = m->cur[1] = m->cur[2] = 1;
	make_grid(im, b->res, &g);
	if (strcmp(b->mode, "card") == 0) {
		r = build_card(im, &g, m);
		snprintf(m->mode, sizeof(m->mode), "card");
	} else {
		if (strcmp(b->mode, "relief") != 0)
			r = build_solid(im, &g, b, m);
		if (r == 1) {
			mesh_free(m);
			m->cur[0] = m->cur[1] = m->cur[2] = 1;
			r = relief_build(im, &g, b, m);
			snprintf(m->mode, sizeof(m->mode), "relief");
		}
	}
	if (r != 0)
		goto fail;
	if (m->nt_tex == 0)
		m->nt_tex = m->nt; /* builders that only texture say nothing */
	place_mesh(m);
	return 0;
fail:
	mesh_free(m);
	return -1;
}
