/*
 * inflate.c: the inflate and extrude modes of mesh.c, solids made from
 * the marching-triangles cap of the image's silhouette (march.c).
 *
 * Inflate domes the cap by the square root of a Poisson solution
 * (poisson.c: fat where the shape is wide, thin where it is narrow);
 * extrude keeps it flat and chamfers the rim.  The cap is mirrored for
 * the back and closed by walls along the contour segments, so the solid
 * is watertight: every contour segment is shared by exactly one cap
 * triangle on each side and the wall bands between them.  The walls are
 * plain (COLOR_0 alone) in a colour sampled inside the silhouette's
 * edge; the back is the photo mirrored and darkened, or plain.  So are
 * the dome's steep flanks (cap faces whose normal is nearly
 * perpendicular to the view, |nz| < STEEP: the ring next to the rim),
 * where the photo's few edge pixels would be stretched into streaks:
 * their vertices are copies, at the same positions (so the solid stays
 * closed), coloured like the walls on the rim and like the photo under
 * them inside, so the flank blends from the wall into the texture.
 *
 * Conventions and determinism as in mesh.c (pure functions, no statics).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

#define BULGE 0.6 /* depth of the dome relative to a round section */
#define STEEP 0.5 /* |nz| of a cap face below this: a plain flank */
#define RIM_PASSES 16 /* smoothing of the wall colours along the contour */
#define FLANK_PASSES 16 /* ... and of the flanks' over their faces */

/* Per cap vertex: height, normals, rim (wall) numbering and colour. */
struct dome {
	float *z; /* front height; the back is -z */
	double *fn; /* 3 per vertex: area-weighted cap normal */
	double *rn; /* 2 per vertex: outward contour normal, 0 off the rim */
	int32_t *rim; /* wall number of a rim vertex, -1 = not on the rim */
	float *rc; /* 3 per vertex: wall colour of a rim vertex */
	long nrim;
	unsigned char *steep; /* per cap triangle: a plain flank */
	int32_t *fl; /* per vertex: its flank copy's number, -1 = none */
	float *fc; /* 3 per vertex: flank colour */
	float *acc; /* 4 per vertex: scratch of smooth_flanks */
	long nfl;
	double half; /* half the thickness: z of the walls' edges */
	double bevel; /* extrude: chamfer of the rims (0: inflate) */
};

static int
dome_alloc(struct dome *d, long nv, long nt, double th)
{
	d->steep = calloc((size_t)nt, 1);
	d->fl = malloc(sizeof(int32_t) * (size_t)nv);
	d->fc = malloc(sizeof(float) * 3 * (size_t)nv);
	d->acc = malloc(sizeof(float) * 4 * (size_t)nv);
	d->z = malloc(sizeof(float) * (size_t)nv);
	d->fn = calloc((size_t)nv * 3, sizeof(double));
	d->rim = malloc(sizeof(int32_t) * (size_t)nv);
	d->rn = calloc((size_t)nv * 2, sizeof(double));
	d->rc = calloc((size_t)nv * 3, sizeof(float));
	d->nrim = 0;
	d->half = th / 2;
	return d->z == NULL || d->fn == NULL || d->rim == NULL ||
	        d->rn == NULL || d->rc == NULL || d->steep == NULL ||
	        d->fl == NULL || d->fc == NULL || d->acc == NULL
	    ? -1
	    : 0;
}

static void
dome_free(struct dome *d)
{
	free(d->z);
	free(d->fn);
	free(d->rim);
	free(d->rn);
	free(d->rc);
	free(d->steep);
	free(d->fl);
	free(d->fc);
	free(d->acc);
}

/*
 * Heights from the Poisson solution h (poisson.c): z = half + k sqrt(h).
 * With k = 2 a disc would become a sphere and a strip a cylinder;
 * BULGE < 1 of that keeps the cross-sections rounded but flatter, since
 * a photo's subject is rarely as deep as it is wide.  The contour itself
 * (h = 0) stays at the walls' edge.  Extrude (a bevel) is flat.
 */
static int
dome_heights(struct mt *s, struct dome *d)
{
	const struct grid *g = s->g;
	double cell = g->sx / g->gw, hmax;
	long k;

	if (d->bevel == 0 && poisson_heights(g, s->f, ISO, s->h, &hmax) == -1)
		return -1;
	for (k = 0; k < s->nv; k++) {
		double h =
		    s->vcorner[k] < 0 || d->bevel > 0 ? 0 : s->h[s->vcorner[k]];

		d->z[k] = (float)(d->half + BULGE * 2 * sqrt(h) * cell);
		d->rim[k] = -1;
	}
	return 0;
}

/* Area-weighted face normals of the front cap, in model units; faces
 * steeper than STEEP marked. */
static void
cap_normals(const struct mt *s, struct dome *d)
{
	const struct grid *g = s->g;
	const float *z = d->z;
	long k;

	for (k = 0; k < s->nt; k++) {
		uint32_t a = s->tris[k * 3], b = s->tris[k * 3 + 1],
		         cc = s->tris[k * 3 + 2];
		double ax = grid_x(g, s->vx[a]), ay = grid_y(g, s->vy[a]);
		double ux = grid_x(g, s->vx[b]) - ax,
		       uy = grid_y(g, s->vy[b]) - ay;
		double uz = z[b] - z[a];
		double vx = grid_x(g, s->vx[cc]) - ax;
		double vy = grid_y(g, s->vy[cc]) - ay;
		double vz = z[cc] - z[a];
		double nx = uy * vz - uz * vy, ny = uz * vx - ux * vz;
		double nz = ux * vy - uy * vx;
		int q;

		d->steep[k] =
		    fabs(nz) < STEEP * sqrt(nx * nx + ny * ny + nz * nz);
		for (q = 0; q < 3; q++) {
			uint32_t v = s->tris[k * 3 + q];

			d->fn[v * 3] += nx;
			d->fn[v * 3 + 1] += ny;
			d->fn[v * 3 + 2] += nz;
		}
	}
}

/* Outward contour normals (dy, -dx) summed at each rim vertex, and the
 * rim vertices numbered in the order the segments meet them. */
static void
rim_normals(const struct mt *s, struct dome *d)
{
	const struct grid *g = s->g;
	long k;

	for (k = 0; k < s->ns; k++) {
		uint32_t a = s->seg[k * 2], b = s->seg[k * 2 + 1];
		double dx = grid_x(g, s->vx[b]) - grid_x(g, s->vx[a]);
		double dy = grid_y(g, s->vy[b]) - grid_y(g, s->vy[a]);
		double l = hypot(dx, dy);

		if (l > 0) {
			d->rn[a * 2] += dy / l;
			d->rn[a * 2 + 1] -= dx / l;
			d->rn[b * 2] += dy / l;
			d->rn[b * 2 + 1] -= dx / l;
		}
		if (d->rim[a] < 0)
			d->rim[a] = (int32_t)d->nrim++;
		if (d->rim[b] < 0)
			d->rim[b] = (int32_t)d->nrim++;
	}
}

/* UV of cap vertex k; rim UVs are pulled ~2 px inward, off the
 * background fringe of keyed photos. */
static void
cap_uv(const struct mt *s, const struct dome *d, long k, double *u, double *v)
{
	const struct grid *g = s->g;
	double l = hypot(d->rn[k * 2], d->rn[k * 2 + 1]);

	*u = s->vx[k] / g->gw;
	*v = s->vy[k] / g->gh;
	if (l > 0) {
		*u -= d->rn[k * 2] / l * 2.0 / g->w;
		*v += d->rn[k * 2 + 1] / l * 2.0 / g->h;
	}
}

/* A coarse bin (4 levels per channel) of a linear colour. */
static int
rim_bin(const float *c)
{
	int b[3], k;

	for (k = 0; k < 3; k++) {
		b[k] = (int)(sqrt(c[k]) * 4);
		b[k] = b[k] > 3 ? 3 : b[k] < 0 ? 0 : b[k];
	}
	return b[0] << 4 | b[1] << 2 | b[2];
}

/*
 * Extrude's walls: the commonest colour along the rim (coarse bins of
 * the samples, their mean), not the mean of all: a red and blue sign
 * has red or blue edges, not purple ones.
 */
static void
one_colour(const struct mt *s, struct dome *d)
{
	long cnt[64], k, best = 0, n = 0;
	double sum[3] = {0, 0, 0};
	int c;

	memset(cnt, 0, sizeof(cnt));
	for (k = 0; k < s->ns; k++)
		cnt[rim_bin(d->rc + s->seg[k * 2] * 3)]++;
	for (k = 1; k < 64; k++)
		best = cnt[k] > cnt[best] ? k : best;
	for (k = 0; k < s->ns; k++) {
		const float *a = d->rc + s->seg[k * 2] * 3;

		if (rim_bin(a) != best)
			continue;
		for (c = 0; c < 3; c++)
			sum[c] += a[c];
		n++;
	}
	for (k = 0; k < s->nv; k++)
		for (c = 0; c < 3; c++)
			d->rc[k * 3 + c] =
			    (float)(sum[c] / (double)(n > 0 ? n : 1));
}

/*
 * Wall colours: the photo a little inside the silhouette's edge (the
 * mean over a small box INSET px in along the inward normal, mask pixels
 * only), then smoothed along the contour, so walls show the subject's
 * colour and not streaks of edge pixels.  Extrude walls take one colour
 * (one_colour): a sign's edge is one colour.
 */
static void
rim_colours(const struct mt *s, const struct image *im,
    const unsigned char *mask, struct dome *d)
{
	const struct grid *g = s->g;
	int lng = im->w > im->h ? im->w : im->h, pass;
	double ins = fmax(2, lng * 0.012);
	int r = lng / 250 > 1 ? lng / 250 : 1;
	long k;

	for (k = 0; k < s->nv; k++) {
		double l = hypot(d->rn[k * 2], d->rn[k * 2 + 1]), t;
		double px = s->vx[k] * im->w / g->gw,
		       py = s->vy[k] * im->h / g->gh;

		if (d->rim[k] < 0 || l == 0)
			continue;
		for (t = ins; t >= 0; t -= ins / 2) {
			if (colour_near(im, mask, px - d->rn[k * 2] / l * t,
			        py + d->rn[k * 2 + 1] / l * t, r + (t == 0),
			        d->rc + k * 3) > 0)
				break;
		}
	}
	for (pass = 0; pass < RIM_PASSES; pass++) {
		for (k = 0; k < s->ns; k++) {
			float *a = d->rc + s->seg[k * 2] * 3;
			float *b = d->rc + s->seg[k * 2 + 1] * 3;
			int c;

			for (c = 0; c < 3; c++)
				a[c] = b[c] = (a[c] + b[c]) / 2;
		}
	}
	if (d->bevel > 0)
		one_colour(s, d);
}

/* Cap vertex k of the front (side 0) or the mirrored back, in m->cur. */
static void
cap_vert(
    const struct mt *s, const struct dome *d, long k, int side, struct mesh *m)
{
	const struct grid *g = s->g;
	double sg = side == 0 ? 1 : -1, u, v;

	cap_uv(s, d, k, &u, &v);
	mesh_vert(m, grid_x(g, s->vx[k]), grid_y(g, s->vy[k]), sg * d->z[k],
	    d->fn[k * 3], d->fn[k * 3 + 1], sg * d->fn[k * 3 + 2], u, v);
}

/* Front cap vertices (white: the photo as is), then the back's: the
 * mirrored photo darkened by BACK_SHADE, or plain in the mean colour. */
static void
emit_caps(const struct mt *s, const struct dome *d, const float back[3],
    struct mesh *m)
{
	int side;
	long k;

	for (side = 0; side < 2; side++) {
		memcpy(m->cur, side == 0 ? (const float[3]){1, 1, 1} : back,
		    sizeof(m->cur));
		for (k = 0; k < s->nv; k++)
			cap_vert(s, d, k, side, m);
	}
}

/*
 * The flanks' vertices: number the vertices of steep faces (in vertex
 * order), and colour each: a rim vertex like its wall, an inner one
 * (also within a few px of the edge) like the photo the same distance
 * further in, along its normal's inward direction.
 */
static void
flank_colours(const struct mt *s, const struct image *im,
    const unsigned char *mask, struct dome *d)
{
	const struct grid *g = s->g;
	int lng = im->w > im->h ? im->w : im->h;
	int r = lng / 250 > 1 ? lng / 250 : 1, q;
	double ins = fmax(2, lng * 0.012);
	long k;

	for (k = 0; k < s->nv; k++)
		d->fl[k] = -1;
	for (k = 0; k < s->nt; k++)
		for (q = 0; d->steep[k] && q < 3; q++)
			d->fl[s->tris[k * 3 + q]] = 0;
	d->nfl = 0;
	for (k = 0; k < s->nv; k++) {
		float *c = d->fc + k * 3;
		double nx = d->fn[k * 3], ny = d->fn[k * 3 + 1];
		double l = hypot(nx, ny) > 0 ? hypot(nx, ny) : 1;
		double px = s->vx[k] * im->w / g->gw - nx / l * ins,
		       py = s->vy[k] * im->h / g->gh + ny / l * ins;

		if (d->fl[k] < 0)
			continue;
		d->fl[k] = (int32_t)d->nfl++;
		c[0] = c[1] = c[2] = 0.5f;
		if (d->rim[k] >= 0)
			memcpy(c, d->rc + k * 3, sizeof(float) * 3);
		else if (colour_near(im, mask, px, py, r, c) == 0)
			colour_near(im, mask, px, py, 3 * r, c);
	}
}

/* Flank colours smoothed over the steep faces' edges (Jacobi: no order
 * dependence; rim vertices keep their walls' colour, so no seam).  Inner
 * vertices sample the photo one by one, and samples on laces or carved
 * wood alternate light and dark: a side view showed them as bands. */
static void
smooth_flanks(const struct mt *s, struct dome *d)
{
	long k, t;
	int pass, q, c;

	for (pass = 0; pass < FLANK_PASSES; pass++) {
		memset(d->acc, 0, sizeof(float) * 4 * (size_t)s->nv);
		for (t = 0; t < s->nt; t++) {
			for (q = 0; d->steep[t] && q < 3; q++) {
				long a = s->tris[t * 3 + q],
				     b = s->tris[t * 3 + (q + 1) % 3];

				for (c = 0; c < 3; c++) {
					d->acc[a * 4 + c] += d->fc[b * 3 + c];
					d->acc[b * 4 + c] += d->fc[a * 3 + c];
				}
				d->acc[a * 4 + 3] += 1;
				d->acc[b * 4 + 3] += 1;
			}
		}
		for (k = 0; k < s->nv; k++) {
			if (d->fl[k] < 0 || d->rim[k] >= 0 ||
			    d->acc[k * 4 + 3] == 0)
				continue;
			for (c = 0; c < 3; c++)
				d->fc[k * 3 + c] =
				    (d->fc[k * 3 + c] +
				        d->acc[k * 4 + c] / d->acc[k * 4 + 3]) /
				    2;
		}
	}
}

/* The flank copies of one side, in flank order; the back's darkened. */
static void
emit_flanks(const struct mt *s, const struct dome *d, int side, struct mesh *m)
{
	float f = side == 0 ? 1 : BACK_SHADE;
	long k;
	int c;

	for (k = 0; k < s->nv; k++) {
		if (d->fl[k] < 0)
			continue;
		for (c = 0; c < 3; c++)
			m->cur[c] = d->fc[k * 3 + c] * f;
		cap_vert(s, d, k, side, m);
	}
}

/*
 * Wall vertices: per band, a top and a bottom copy of each rim vertex in
 * rim order, with the band's normal.  Inflate has one band, straight
 * down the thickness; extrude three: a 45-degree chamfer out by the
 * bevel, the straight wall, and the chamfer back in.
 */
static int
emit_walls(const struct mt *s, const struct dome *d, struct mesh *m)
{
	const struct grid *g = s->g;
	double b = d->bevel, h = d->half;
	double band[3][5] = {/* out top, z top, out bottom, z bottom, nz */
	    {0, h, b, h - b, 1}, {b, h - b, b, b - h, 0},
	    {b, b - h, 0, -h, -1}};
	int nb = b > 0 ? 3 : 1, q;
	uint32_t *byrim;
	long k;

	if (b == 0)
		band[0][3] = -h, band[0][4] = 0;
	byrim = malloc(sizeof(uint32_t) * (size_t)(d->nrim + 1));
	if (byrim == NULL)
		return -1;
	for (k = 0; k < s->nv; k++)
		if (d->rim[k] >= 0)
			byrim[d->rim[k]] = (uint32_t)k;
	for (q = 0; q < nb; q++) {
		for (k = 0; k < d->nrim; k++) {
			uint32_t v = byrim[k];
			double x = grid_x(g, s->vx[v]), y = grid_y(g, s->vy[v]);
			double nx = d->rn[v * 2], ny = d->rn[v * 2 + 1], u, vv;
			double l = hypot(nx, ny) > 0 ? hypot(nx, ny) : 1;

			cap_uv(s, d, v, &u, &vv);
			memcpy(m->cur, d->rc + v * 3, sizeof(m->cur));
			mesh_vert(m, x + nx / l * band[q][0],
			    y + ny / l * band[q][0], band[q][1], nx / l, ny / l,
			    band[q][4], u, vv);
			mesh_vert(m, x + nx / l * band[q][2],
			    y + ny / l * band[q][2], band[q][3], nx / l, ny / l,
			    band[q][4], u, vv);
		}
	}
	free(byrim);
	return nb;
}

/* One cap's triangles from vertex base on (through map when not NULL),
 * those whose steep flag is want (all when steep is NULL); the back's
 * reversed. */
static void
cap_tris(const struct mt *s, uint32_t base, const int32_t *map, int back,
    const unsigned char *steep, int want, struct mesh *m)
{
	uint32_t v[3];
	long k;
	int q;

	for (k = 0; k < s->nt; k++) {
		if (steep != NULL && steep[k] != want)
			continue;
		for (q = 0; q < 3; q++) {
			uint32_t c = s->tris[k * 3 + q];

			v[q] = base + (map != NULL ? (uint32_t)map[c] : c);
		}
		if (back)
			mesh_tri(m, v[0], v[2], v[1]);
		else
			mesh_tri(m, v[0], v[1], v[2]);
	}
}

/* Two triangles per contour segment and wall band; a -> b has the
 * interior on its left, so these face out. */
static void
wall_tris(const struct mt *s, const struct dome *d, uint32_t wb, int nb,
    struct mesh *m)
{
	long k;
	int q;

	for (q = 0; q < nb; q++) {
		uint32_t w = wb + (uint32_t)q * 2 * (uint32_t)d->nrim;

		for (k = 0; k < s->ns; k++) {
			uint32_t a = w + 2 * (uint32_t)d->rim[s->seg[k * 2]];
			uint32_t b =
			    w + 2 * (uint32_t)d->rim[s->seg[k * 2 + 1]];

			mesh_tri(m, a, a + 1, b + 1);
			mesh_tri(m, a, b + 1, b);
		}
	}
}

/*
 * The solid from coverage f: inflate (bevel 0) or extrude.  Returns 0
 * built, 1 nothing inside the contour (caller falls back), -1 out of
 * memory.
 */
static int
build_solid(const struct image *im, const unsigned char *mask, const float *f,
    const struct grid *g, const struct bopts *o, double bevel, struct mesh *m)
{
	float back[3] = {BACK_SHADE, BACK_SHADE, BACK_SHADE};
	struct mt s;
	struct dome d;
	uint32_t fb, ff, wb;
	int rc = -1, nb;

	memset(&d, 0, sizeof(d));
	if (mt_init(&s, g, f) == -1 || mt_march(&s) == -1)
		goto out;
	if (s.nt == 0 || s.ns == 0) {
		rc = 1;
		goto out;
	}
	if (dome_alloc(&d, s.nv, s.nt, o->th) == -1)
		goto out;
	d.bevel = bevel;
	if (dome_heights(&s, &d) == -1)
		goto out;
	cap_normals(&s, &d);
	rim_normals(&s, &d);
	rim_colours(&s, im, mask, &d);
	flank_colours(&s, im, mask, &d);
	smooth_flanks(&s, &d);
	if (o->plain_back)
		colour_mean(im, mask, back);
	if (mesh_reserve(m, 2 * s.nv + 2 * d.nfl + 6 * d.nrim,
	        2 * s.nt + 6 * s.ns) == -1)
		goto out;
	/* Vertices: caps, front flanks, mirrored back's flanks, walls. */
	fb = (uint32_t)m->nv;
	emit_caps(&s, &d, back, m);
	ff = (uint32_t)m->nv;
	emit_flanks(&s, &d, 0, m);
	if (!o->plain_back)
		emit_flanks(&s, &d, 1, m);
	wb = (uint32_t)m->nv;
	if ((nb = emit_walls(&s, &d, m)) == -1)
		goto out;
	/* Triangles: textured first (the caps but their flanks), then
	 * plain: the flanks, the walls, a plain back. */
	cap_tris(&s, fb, NULL, 0, d.steep, 0, m);
	if (!o->plain_back)
		cap_tris(&s, fb + (uint32_t)s.nv, NULL, 1, d.steep, 0, m);
	m->nt_tex = m->nt;
	cap_tris(&s, ff, d.fl, 0, d.steep, 1, m);
	if (!o->plain_back)
		cap_tris(&s, ff + (uint32_t)d.nfl, d.fl, 1, d.steep, 1, m);
	wall_tris(&s, &d, wb, nb, m);
	if (o->plain_back)
		cap_tris(&s, fb + (uint32_t)s.nv, NULL, 1, NULL, 0, m);
	rc = 0;
out:
	mt_free(&s);
	dome_free(&d);
	return rc;
}

/* Both modes: the mask's coverage on the grid, then the solid. */
static int
silhouette(const struct image *im, const unsigned char *mask,
    const struct grid *g, const struct bopts *o, double bevel, struct mesh *m)
{
	float *cov;
	int r = -1;

	if (g->gw < 3 || g->gh < 3)
		return 1;
	cov = malloc(sizeof(float) * (size_t)(g->gw + 1) * (size_t)(g->gh + 1));
	if (cov != NULL && coverage(mask, g, cov) == 0)
		r = build_solid(im, mask, cov, g, o, bevel, m);
	free(cov);
	return r;
}

int
inflate_build(const struct image *im, const unsigned char *mask,
    const struct grid *g, const struct bopts *o, struct mesh *m)
{
	return silhouette(im, mask, g, o, 0, m);
}

/* The bevel: a quarter of the thickness, at most 0.3 of a grid cell
 * wide so that it cannot fold over on the grid's smallest features (at
 * half a cell, offset points of a staircase contour coincide). */
int
extrude_build(const struct image *im, const unsigned char *mask,
    const struct grid *g, const struct bopts *o, struct mesh *m)
{
	return silhouette(
	    im, mask, g, o, fmin(o->th / 4, 0.3 * g->sx / g->gw), m);
}
