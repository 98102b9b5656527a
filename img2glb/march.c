/*
 * march.c: marching *triangles* over a coverage grid (mask.c's
 * coverage()): each cell is split into the same two CCW triangles, each
 * clipped at coverage ISO, so the result (a triangle or a convex quad,
 * fanned) is a manifold cap without polygon triangulation or saddle
 * ambiguity.  Crossings are shared by the two triangles of an edge (keyed
 * by lower corner and edge kind), and every clip edge is also a contour
 * segment with the interior on its left, so a solid made of this cap,
 * its mirror and walls along the segments is watertight (inflate.c).
 *
 * Pure functions of the grid and coverage; no statics.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

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
 * computed from the lower corner so both see the same position.
 */
static int32_t
mt_cross(struct mt *s, long a, long b)
{
	int W = s->g->gw + 1;
	long lo = a < b ? a : b, hi = a < b ? b : a, d = hi - lo, key;
	double t, x0, y0, x1, y1;
	int kind = d == 1 ? 0 : d == W ? 1 : 2;

	key = lo * 3 + kind;
	if (s->eid[key] >= 0)
		return s->eid[key];
	t = (ISO - s->f[lo]) / (s->f[hi] - s->f[lo]);
	x0 = (double)(lo % W);
	y0 = (double)(lo / W);
	x1 = (double)(hi % W);
	y1 = (double)(hi / W);
	s->eid[key] = mt_vert(s, x0 + t * (x1 - x0), y0 + t * (y1 - y0), -1);
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

void
mt_free(struct mt *s)
{
	free(s->cid);
	free(s->eid);
	free(s->vx);
	free(s->vy);
	free(s->vcorner);
	free(s->tris);
	free(s->seg);
	free(s->h);
}

/* Set up the pass over coverage f: no vertex, no crossing yet. */
int
mt_init(struct mt *s, const struct grid *g, const float *f)
{
	long nc = (long)(g->gw + 1) * (g->gh + 1), c;

	memset(s, 0, sizeof(*s));
	s->g = g;
	s->f = f;
	s->cid = malloc(sizeof(int32_t) * (size_t)nc);
	s->eid = malloc(sizeof(int32_t) * (size_t)nc * 3);
	s->h = malloc(sizeof(float) * (size_t)nc);
	if (s->cid == NULL || s->eid == NULL || s->h == NULL)
		return -1;
	for (c = 0; c < nc; c++) {
		s->cid[c] = -1;
		s->eid[c * 3] = s->eid[c * 3 + 1] = s->eid[c * 3 + 2] = -1;
	}
	return 0;
}

/* Cells: TL, TR, BL, BR; triangles (TL,BL,BR) and (TL,BR,TR) are CCW in
 * model space, where image y points down. */
int
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
