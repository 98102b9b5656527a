/*
 * inflate.c: the inflate mode of mesh.c, a solid blown up from the
 * image's silhouette.
 *
 * The foreground mask (mask.c) is box-filtered onto the vertex grid as
 * fractional coverage; marching *triangles* (each cell split into the
 * same two triangles, each clipped at coverage 0.5) give a manifold cap
 * without any polygon triangulation or saddle ambiguity.  The cap is
 * domed by a chamfer distance transform, mirrored for the back, and
 * closed by walls along the contour segments, so the solid is
 * watertight: every contour segment is shared by exactly one cap
 * triangle on each side and one wall quad.
 *
 * Conventions and determinism as in mesh.c (pure functions, no statics).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

#define ISO 0.5f /* coverage level of the contour */

/* State of the marching-triangles pass. */
struct mt {
	const struct grid *g;
	const float *f; /* coverage per grid corner */
	int32_t *cid; /* cap vertex of a corner, -1 = none yet */
	int32_t *eid; /* cap vertex of an edge crossing, by key */
	float *vx, *vy; /* cap vertices in grid units */
	int32_t *vcorner; /* corner of a cap vertex, -1 = crossing */
	long nv, capv;
	uint32_t *tris; /* cap triangles */
	long nt, capt;
	uint32_t *seg; /* contour segments a -> b, interior left */
	long ns, caps;
	float *dist; /* per corner: distance to the contour */
};

static int32_t
mt_vert(struct mt *s, double x, double y, int32_t corner)
{
	long cap = s->capv;

	if (mesh_grow((void **)&s->vx, &cap, s->nv + 1, sizeof(float)) == -1)
		return -1;
	cap = s->capv;
	if (mesh_grow((void **)&s->vy, &cap, s->nv + 1, sizeof(float)) == -1)
		return -1;
	cap = s->capv;
	if (mesh_grow((void **)&s->vcorner, &cap, s->nv + 1, sizeof(int32_t)) ==
	    -1)
		return -1;
	s->capv = cap;
	s->vx[s->nv] = (float)x;
	s->vy[s->nv] = (float)y;
	s->vcorner[s->nv] = corner;
	return (int32_t)s->nv++;
}

static int32_t
mt_corner(struct mt *s, long c)
{
	int W = s->g->gw + 1;

	if (s->cid[c] < 0)
		s->cid[c] =
		    mt_vert(s, (double)(c % W), (double)(c / W), (int32_t)c);
	return s->cid[c];
}

/*
 * The crossing on the edge between corners a and b, shared by both
 * triangles that use the edge: keyed by (lower corner)*3 + kind, and
 * computed from the lower corner so both see the same position.  Also
 * seeds the inside corner's distance with the sub-cell distance to it.
 */
static int32_t
mt_cross(struct mt *s, long a, long b)
{
	int W = s->g->gw + 1;
	long lo = a < b ? a : b, hi = a < b ? b : a, d = hi - lo, key;
	double t, x0, y0, x1, y1, x, y, dl, dh;
	int kind = d == 1 ? 0 : d == W ? 1 : 2;

	key = lo * 3 + kind;
	if (s->eid[key] >= 0)
		return s->eid[key];
	t = (ISO - s->f[lo]) / (s->f[hi] - s->f[lo]);
	x0 = (double)(lo % W);
	y0 = (double)(lo / W);
	x1 = (double)(hi % W);
	y1 = (double)(hi / W);
	x = x0 + t * (x1 - x0);
	y = y0 + t * (y1 - y0);
	s->eid[key] = mt_vert(s, x, y, -1);
	dl = hypot(x - x0, y - y0);
	dh = hypot(x - x1, y - y1);
	if (s->f[lo] > ISO && dl < s->dist[lo])
		s->dist[lo] = (float)dl;
	if (s->f[hi] > ISO && dh < s->dist[hi])
		s->dist[hi] = (float)dh;
	return s->eid[key];
}

/* Clip one CCW triangle of corners at coverage > ISO; fan the result. */
static int
mt_tri(struct mt *s, const long t[3])
{
	int32_t poly[4], leave = -1, enter = -1, v;
	int np = 0, e, k;
	long cap;

	for (e = 0; e < 3; e++) {
		long p = t[e], q = t[(e + 1) % 3];
		int pin = s->f[p] > ISO, qin = s->f[q] > ISO;

		if (pin) {
			if ((v = mt_corner(s, p)) < 0)
				return -1;
			poly[np++] = v;
		}
		if (pin != qin) {
			if ((v = mt_cross(s, p, q)) < 0)
				return -1;
			poly[np++] = v;
			if (pin)
				leave = v;
			else
				enter = v;
		}
	}
	if (np < 3)
		return 0;
	cap = s->capt;
	if (mesh_grow((void **)&s->tris, &cap, s->nt + np - 2, 12) == -1)
		return -1;
	s->capt = cap;
	for (k = 1; k + 1 < np; k++) {
		s->tris[s->nt * 3] = (uint32_t)poly[0];
		s->tris[s->nt * 3 + 1] = (uint32_t)poly[k];
		s->tris[s->nt * 3 + 2] = (uint32_t)poly[k + 1];
		s->nt++;
	}
	if (leave >= 0 && enter >= 0) {
		cap = s->caps;
		if (mesh_grow((void **)&s->seg, &cap, s->ns + 1, 8) == -1)
			return -1;
		s->caps = cap;
		s->seg[s->ns * 2] = (uint32_t)leave;
		s->seg[s->ns * 2 + 1] = (uint32_t)enter;
		s->ns++;
	}
	return 0;
}

/* Two-pass chamfer distance (weights 1 and sqrt 2) over inside corners;
 * outside corners stay 0, contour-adjacent corners carry their seeds. */
static void
chamfer(const struct grid *g, const float *f, float *d)
{
	int W = g->gw + 1, H = g->gh + 1, i, j;
	const float r2 = 1.41421356f;

	for (j = 0; j < H; j++) {
		for (i = 0; i < W; i++) {
			float *p = d + (long)j * W + i;

			if (f[(long)j * W + i] <= ISO)
				continue;
			if (i > 0 && p[-1] + 1 < *p)
				*p = p[-1] + 1;
			if (j > 0 && p[-W] + 1 < *p)
				*p = p[-W] + 1;
			if (i > 0 && j > 0 && p[-W - 1] + r2 < *p)
				*p = p[-W - 1] + r2;
			if (i < W - 1 && j > 0 && p[-W + 1] + r2 < *p)
				*p = p[-W + 1] + r2;
		}
	}
	for (j = H - 1; j >= 0; j--) {
		for (i = W - 1; i >= 0; i--) {
			float *p = d + (long)j * W + i;

			if (f[(long)j * W + i] <= ISO)
				continue;
			if (i < W - 1 && p[1] + 1 < *p)
				*p = p[1] + 1;
			if (j < H - 1 && p[W] + 1 < *p)
				*p = p[W] + 1;
			if (i < W - 1 && j < H - 1 && p[W + 1] + r2 < *p)
				*p = p[W + 1] + r2;
			if (i > 0 && j < H - 1 && p[W - 1] + r2 < *p)
				*p = p[W - 1] + r2;
		}
	}
}

static void
mt_free(struct mt *s)
{
	free(s->cid);
	free(s->eid);
	free(s->vx);
	free(s->vy);
	free(s->vcorner);
	free(s->tris);
	free(s->seg);
	free(s->dist);
}

/* Per cap vertex: height, normals and rim (wall) numbering. */
struct dome {
	float *z; /* front height; the back is -z */
	double *fn; /* 3 per vertex: area-weighted cap normal */
	double *rn; /* 2 per vertex: outward contour normal, 0 off the rim */
	int32_t *rim; /* wall number of a rim vertex, -1 = not on the rim */
	long nrim;
	double half; /* half the thickness: z of the walls' edges */
};

/* Set up the pass over coverage f: no vertex, no crossing yet. */
static int
mt_init(struct mt *s, const struct grid *g, const float *f)
{
	long nc = (long)(g->gw + 1) * (g->gh + 1), c;

	memset(s, 0, sizeof(*s));
	s->g = g;
	s->f = f;
	s->cid = malloc(sizeof(int32_t) * (size_t)nc);
	s->eid = malloc(sizeof(int32_t) * (size_t)nc * 3);
	s->dist = malloc(sizeof(float) * (size_t)nc);
	if (s->cid == NULL || s->eid == NULL || s->dist == NULL)
		return -1;
	for (c = 0; c < nc; c++) {
		s->cid[c] = -1;
		s->eid[c * 3] = s->eid[c * 3 + 1] = s->eid[c * 3 + 2] = -1;
		s->dist[c] = f[c] > ISO ? 1e30f : 0;
	}
	return 0;
}

/* Cells: TL, TR, BL, BR; triangles (TL,BL,BR) and (TL,BR,TR) are CCW in
 * model space, where image y points down. */
static int
mt_march(struct mt *s)
{
	const struct grid *g = s->g;
	int i, j;

	for (j = 0; j < g->gh; j++) {
		for (i = 0; i < g->gw; i++) {
			long tl = (long)j * (g->gw + 1) + i, tr = tl + 1;
			long bl = tl + g->gw + 1, br = bl + 1;
			long t1[3] = {tl, bl, br}, t2[3] = {tl, br, tr};

			if (mt_tri(s, t1) == -1 || mt_tri(s, t2) == -1)
				return -1;
		}
	}
	return 0;
}

static int
dome_alloc(struct dome *d, long nv, double th)
{
	d->z = malloc(sizeof(float) * (size_t)nv);
	d->fn = calloc((size_t)nv * 3, sizeof(double));
	d->rim = malloc(sizeof(int32_t) * (size_t)nv);
	d->rn = calloc((size_t)nv * 2, sizeof(double));
	d->nrim = 0;
	d->half = th / 2;
	return d->z == NULL || d->fn == NULL || d->rim == NULL || d->rn == NULL
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
}

/*
 * Heights from the distance to the contour: a parabolic dome (finite
 * slope at the rim, unlike a circle, so no highlight glitches there),
 * never taller than the shape is wide.
 */
static void
dome_heights(struct mt *s, double th, struct dome *d)
{
	const struct grid *g = s->g;
	long nc = (long)(g->gw + 1) * (g->gh + 1), c, k;
	double cell = g->sx / g->gw, dmax = 0, bulge;

	chamfer(g, s->f, s->dist);
	for (c = 0; c < nc; c++)
		if (s->f[c] > ISO && s->dist[c] > dmax)
			dmax = s->dist[c];
	if (dmax <= 0)
		dmax = 1;
	bulge = fmin(3 * th, 0.8 * dmax * cell);
	for (k = 0; k < s->nv; k++) {
		double sd =
		    s->vcorner[k] < 0 ? 0 : s->dist[s->vcorner[k]] / dmax;

		sd = sd > 1 ? 1 : sd;
		d->z[k] = (float)(d->half + bulge * sd * (2 - sd));
		d->rim[k] = -1;
	}
}

/* Area-weighted face normals of the front cap, in model units. */
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

/* Front cap vertices, then the mirrored back cap. */
static void
emit_caps(const struct mt *s, const struct dome *d, struct mesh *m)
{
	const struct grid *g = s->g;
	int side;
	long k;

	for (side = 0; side < 2; side++) {
		for (k = 0; k < s->nv; k++) {
			double sg = side == 0 ? 1 : -1, u, v;

			cap_uv(s, d, k, &u, &v);
			mesh_vert(m, grid_x(g, s->vx[k]), grid_y(g, s->vy[k]),
			    sg * d->z[k], d->fn[k * 3], d->fn[k * 3 + 1],
			    sg * d->fn[k * 3 + 2], u, v);
		}
	}
}

/* Wall vertices: a front and a back copy of each rim vertex, in rim
 * order, with the horizontal contour normal. */
static int
emit_walls(const struct mt *s, const struct dome *d, struct mesh *m)
{
	const struct grid *g = s->g;
	uint32_t *byrim;
	long k;

	byrim = malloc(sizeof(uint32_t) * (size_t)(d->nrim + 1));
	if (byrim == NULL)
		return -1;
	for (k = 0; k < s->nv; k++)
		if (d->rim[k] >= 0)
			byrim[d->rim[k]] = (uint32_t)k;
	for (k = 0; k < d->nrim; k++) {
		uint32_t v = byrim[k];
		double x = grid_x(g, s->vx[v]), y = grid_y(g, s->vy[v]), u, vv;

		cap_uv(s, d, v, &u, &vv);
		mesh_vert(
		    m, x, y, d->half, d->rn[v * 2], d->rn[v * 2 + 1], 0, u, vv);
		mesh_vert(m, x, y, -d->half, d->rn[v * 2], d->rn[v * 2 + 1], 0,
		    u, vv);
	}
	free(byrim);
	return 0;
}

/* Cap triangles (the back reversed) and two per wall segment. */
static void
emit_tris(const struct mt *s, const struct dome *d, uint32_t fb, struct mesh *m)
{
	uint32_t bb = fb + (uint32_t)s->nv, wb = bb + (uint32_t)s->nv;
	long k;

	for (k = 0; k < s->nt; k++) {
		uint32_t a = s->tris[k * 3], b = s->tris[k * 3 + 1],
		         cc = s->tris[k * 3 + 2];

		mesh_tri(m, fb + a, fb + b, fb + cc);
		mesh_tri(m, bb + a, bb + cc, bb + b);
	}
	for (k = 0; k < s->ns; k++) {
		uint32_t a = wb + 2 * (uint32_t)d->rim[s->seg[k * 2]];
		uint32_t b = wb + 2 * (uint32_t)d->rim[s->seg[k * 2 + 1]];

		/* a -> b has the interior on its left: these face out. */
		mesh_tri(m, a, a + 1, b + 1);
		mesh_tri(m, a, b + 1, b);
	}
}

/*
 * Inflated silhouette from coverage f.  Returns 0 built, 1 nothing
 * inside the contour (caller falls back), -1 out of memory.
 */
static int
build_inflate(const struct grid *g, const float *f, double th, struct mesh *m)
{
	struct mt s;
	struct dome d;
	uint32_t fb;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	if (mt_init(&s, g, f) == -1 || mt_march(&s) == -1)
		goto out;
	if (s.nt == 0 || s.ns == 0) {
		rc = 1;
		goto out;
	}
	if (dome_alloc(&d, s.nv, th) == -1)
		goto out;
	dome_heights(&s, th, &d);
	cap_normals(&s, &d);
	rim_normals(&s, &d);
	if (mesh_reserve(m, 2 * s.nv + 2 * d.nrim, 2 * s.nt + 2 * s.ns) == -1)
		goto out;
	fb = (uint32_t)m->nv;
	emit_caps(&s, &d, m);
	if (emit_walls(&s, &d, m) == -1)
		goto out;
	emit_tris(&s, &d, fb, m);
	rc = 0;
out:
	mt_free(&s);
	dome_free(&d);
	return rc;
}

int
inflate_build(
    const struct image *im, const struct grid *g, double th, struct mesh *m)
{
	long k, nc = (long)(g->gw + 1) * (g->gh + 1);
	unsigned char *mask = NULL;
	float *cov = NULL;
	int r = -1;

	if (g->gw < 3 || g->gh < 3)
		return 1;
	mask = malloc((size_t)im->w * (size_t)im->h);
	cov = malloc(sizeof(float) * (size_t)nc);
	if (mask == NULL || cov == NULL)
		goto out;
	r = make_mask(im, mask);
	if (r != 0)
		goto out;
	r = -1;
	if (bin_plane(mask, g, cov) == -1)
		goto out;
	/* Outer ring empty, so every contour closes; no value exactly at
	 * the iso level, so no crossing sits on a corner. */
	for (k = 0; k < nc; k++) {
		int i = (int)(k % (g->gw + 1)), j = (int)(k / (g->gw + 1));

		if (i == 0 || j == 0 || i == g->gw || j == g->gh)
			cov[k] = 0;
		else if (fabsf(cov[k] - ISO) < 1e-3f)
			cov[k] = ISO + 1e-3f;
	}
	r = build_inflate(g, cov, th, m);
out:
	free(mask);
	free(cov);
	return r;
}
