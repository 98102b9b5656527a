/*
 * lathe.c: the lathe mode, a surface of revolution for subjects whose
 * silhouette is mirror-symmetric about a vertical axis (bottles, vases,
 * cups, lamps), and the test that tells auto when to use it.
 *
 * The profile is the silhouette's half-width per grid row about the
 * axis, smoothed; rings of SEGS vertices turn it around the axis, flat
 * discs close the top and the bottom.  The photo is projected straight
 * through (front half as is, back half mirrored), so the subject looks
 * right from the front and plausibly round elsewhere.  Each ring is two
 * halves sharing their seam positions exactly (the same table values),
 * so the solid is watertight; the caps reuse the end rings' positions.
 *
 * Conventions and determinism as in mesh.c (pure functions, no statics).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

#define SEGS 64 /* around the axis; even */
#define GAP 2 /* a row's runs this close count as one (keying noise) */

/* First and last mask pixel of each row (-1 when empty) and whether the
 * row is one run. */
static void
row_spans(const unsigned char *mask, int w, int h, int *lo, int *hi,
    unsigned char *one)
{
	int x, y;

	for (y = 0; y < h; y++) {
		const unsigned char *r = mask + (size_t)y * (size_t)w;
		int runs = 0, last = -GAP - 2;

		lo[y] = hi[y] = -1;
		for (x = 0; x < w; x++) {
			if (!r[x])
				continue;
			if (x - last > GAP + 1)
				runs++;
			if (lo[y] < 0)
				lo[y] = x;
			hi[y] = x;
			last = x;
		}
		one[y] = runs <= 1;
	}
}

/*
 * The outline: the mask with its enclosed holes filled (the background
 * that cannot be reached from the border), since a keyed highlight or a
 * label's white patch is a hole in the mask but not in the outline.
 * out gets w*h bytes; 0, or -1 out of memory.
 */
static int
outline(const unsigned char *mask, int w, int h, unsigned char *out)
{
	long npx = (long)w * h, n = 0, k;
	uint32_t *st = malloc(sizeof(uint32_t) * (size_t)npx);

	if (st == NULL)
		return -1;
	for (k = 0; k < npx; k++) {
		int x = (int)(k % w), y = (int)(k / w);

		out[k] = 1;
		if (!mask[k] && (x == 0 || y == 0 || x == w - 1 || y == h - 1))
			st[n++] = (uint32_t)k;
	}
	for (k = 0; k < n; k++)
		out[st[k]] = 0;
	while (n > 0) {
		long p = st[--n], nb[4];
		int x = (int)(p % w), q;

		nb[0] = x > 0 ? p - 1 : -1;
		nb[1] = x < w - 1 ? p + 1 : -1;
		nb[2] = p >= w ? p - w : -1;
		nb[3] = p + w < npx ? p + w : -1;
		for (q = 0; q < 4; q++) {
			if (nb[q] >= 0 && out[nb[q]] && !mask[nb[q]]) {
				out[nb[q]] = 0;
				st[n++] = (uint32_t)nb[q];
			}
		}
	}
	free(st);
	return 0;
}

/*
 * 1 when the silhouette is clearly a solid of revolution seen from the
 * side: (almost) every row of its outline one run, the rows centred on
 * one vertical axis, the mask its own mirror image about it, and not much wider than
 * tall (a sofa is symmetric too).  *axis gets the axis in pixels (set
 * even when the answer is 0: a forced lathe uses it).  -1 out of memory.
 */
int
lathe_axis(const unsigned char *shape, int w, int h, double *axis)
{
	unsigned char *mask = malloc((size_t)w * (size_t)h);
	int *lo = malloc(sizeof(int) * (size_t)h);
	int *hi = malloc(sizeof(int) * (size_t)h);
	unsigned char *one = malloc((size_t)h);
	double sw = 0, sc = 0, broken = 0, dev = 0, wmax = 0;
	long both = 0, all = 0;
	int y, top = -1, bot = -1, rc = -1;

	if (mask == NULL || lo == NULL || hi == NULL || one == NULL ||
	    outline(shape, w, h, mask) == -1)
		goto out;
	row_spans(mask, w, h, lo, hi, one);
	for (y = 0; y < h; y++) {
		double rw = hi[y] - lo[y] + 1;

		if (lo[y] < 0)
			continue;
		top = top < 0 ? y : top;
		bot = y;
		sw += rw;
		sc += rw * (lo[y] + hi[y] + 1) / 2.0;
		broken += one[y] ? 0 : rw;
		wmax = rw > wmax ? rw : wmax;
	}
	rc = 0;
	*axis = sw > 0 ? sc / sw : w / 2.0;
	if (sw == 0)
		goto out;
	for (y = top; y <= bot; y++) {
		const unsigned char *r = mask + (size_t)y * (size_t)w;
		int x;

		if (lo[y] < 0)
			continue;
		dev += fabs((lo[y] + hi[y] + 1) / 2.0 - *axis) *
		    (hi[y] - lo[y] + 1);
		for (x = lo[y]; x <= hi[y]; x++) {
			int m = (int)floor(2 * *axis - x - 0.5);

			if (!r[x])
				continue;
			all++;
			both += m >= 0 && m < w && r[m];
		}
	}
	rc = broken < 0.03 * sw && dev < 0.03 * wmax * sw &&
	    both >= 0.95 * (double)all && bot - top + 1 >= 0.6 * wmax;
out:
	free(mask);
	free(lo);
	free(hi);
	free(one);
	return rc;
}

/* The turned solid's profile and frame. */
struct lathe {
	const struct grid *g;
	float *r; /* radius per grid row (model units), 0 = empty */
	int j0, j1; /* first and last ring's grid row */
	double xa; /* model x of the axis */
	double inset; /* UV radius shrink: off the keyed fringe */
	double cs[SEGS + 1], sn[SEGS + 1]; /* angle table, last = first */
};

/* Half-width per grid row from the mask rows nearest it, smoothed. */
static int
profile(const unsigned char *mask, int w, int h, double axis, struct lathe *L)
{
	const struct grid *g = L->g;
	int *lo = malloc(sizeof(int) * (size_t)h);
	int *hi = malloc(sizeof(int) * (size_t)h);
	unsigned char *one = malloc((size_t)h);
	float *t = malloc(sizeof(float) * (size_t)(g->gh + 1));
	int j, y, pass, rc = -1;

	if (lo == NULL || hi == NULL || one == NULL || t == NULL)
		goto out;
	row_spans(mask, w, h, lo, hi, one);
	for (j = 0; j <= g->gh; j++) {
		int y0 = (int)ceil((j - 0.5) * h / g->gh - 0.5);
		int y1 = (int)ceil((j + 0.5) * h / g->gh - 0.5);
		double s = 0;

		y0 = y0 < 0 ? 0 : y0;
		y1 = y1 > h ? h : y1;
		for (y = y0; y < y1; y++)
			if (lo[y] >= 0)
				s += fmax(axis - lo[y], hi[y] + 1 - axis);
		L->r[j] = y1 > y0 ? (float)(s / (y1 - y0) * g->sx / w) : 0;
	}
	for (pass = 0; pass < 2; pass++) {
		for (j = 0; j <= g->gh; j++) {
			float a =
			    j > 0 && L->r[j - 1] > 0 ? L->r[j - 1] : L->r[j];
			float b = j < g->gh && L->r[j + 1] > 0 ? L->r[j + 1]
			                                       : L->r[j];

			t[j] = L->r[j] > 0 ? (a + 2 * L->r[j] + b) / 4 : 0;
		}
		memcpy(L->r, t, sizeof(float) * (size_t)(g->gh + 1));
	}
	rc = 0;
out:
	free(lo);
	free(hi);
	free(one);
	free(t);
	return rc;
}

/* One half of every ring (half 0 faces +Z): vertices, then quads. */
static void
lathe_half(const struct lathe *L, int half, const float shade[3], int plain,
    struct mesh *m)
{
	const struct grid *g = L->g;
	int n = SEGS / 2 + 1, i0 = half * SEGS / 2, j, i;
	uint32_t base = (uint32_t)m->nv;

	for (j = L->j0; j <= L->j1; j++) {
		int ja = j > L->j0 ? j - 1 : j, jb = j < L->j1 ? j + 1 : j;
		double r = L->r[j],
		       dr = (L->r[ja] - L->r[jb]) /
		    (grid_y(g, ja) - grid_y(g, jb) + 1e-30 * (ja == jb));
		double ru = r > L->inset ? r - L->inset : 0;

		for (i = i0; i < i0 + n; i++) {
			double back = half ? -L->cs[i] : 0, c = 1 - 0.25 * back;

			if (half && !plain)
				m->cur[0] = m->cur[1] = m->cur[2] = (float)c;
			else if (half)
				memcpy(m->cur, shade, sizeof(m->cur));
			mesh_vert(m, L->xa + r * L->sn[i], grid_y(g, j),
			    r * L->cs[i], L->sn[i], -dr, L->cs[i],
			    (L->xa + ru * L->sn[i]) / g->sx + 0.5,
			    (double)j / g->gh);
		}
	}
	for (j = 0; j < L->j1 - L->j0; j++) {
		for (i = 0; i + 1 < n; i++) {
			uint32_t a = base + (uint32_t)(j * n + i);
			uint32_t b = a + (uint32_t)n;

			mesh_tri(m, a, b, b + 1);
			mesh_tri(m, a, b + 1, a + 1);
		}
	}
}

/* A flat disc closing ring j, facing up (top) or down, in colour c. */
static void
lathe_cap(
    const struct lathe *L, int j, int top, const float c[3], struct mesh *m)
{
	const struct grid *g = L->g;
	double r = L->r[j], y = grid_y(g, j), ny = top ? 1 : -1;
	uint32_t base = (uint32_t)m->nv;
	int i;

	memcpy(m->cur, c, sizeof(m->cur));
	mesh_vert(
	    m, L->xa, y, 0, 0, ny, 0, L->xa / g->sx + 0.5, (double)j / g->gh);
	for (i = 0; i < SEGS; i++)
		mesh_vert(m, L->xa + r * L->sn[i], y, r * L->cs[i], 0, ny, 0,
		    (L->xa + r * L->sn[i]) / g->sx + 0.5, (double)j / g->gh);
	for (i = 0; i < SEGS; i++) {
		uint32_t a = base + 1 + (uint32_t)i;
		uint32_t b = base + 1 + (uint32_t)((i + 1) % SEGS);

		if (top)
			mesh_tri(m, base, a, b);
		else
			mesh_tri(m, base, b, a);
	}
}

/* The colour of the photo just inside ring j's end of the subject. */
static void
cap_colour(const struct image *im, const unsigned char *mask,
    const struct lathe *L, double axis, int j, int dir, float c[3])
{
	const struct grid *g = L->g;
	double py = ((double)j + dir * 1.5) * im->h / g->gh;
	int r = (int)(L->r[j] / g->sx * im->w / 2) + 1;

	colour_mean(im, mask, c);
	colour_near(im, mask, axis, py, r, c);
}

int
lathe_build(const struct image *im, const unsigned char *mask,
    const struct grid *g, const struct bopts *o, struct mesh *m)
{
	struct lathe L;
	float top[3], bot[3], plain[3];
	double axis, cell = g->sx / g->gw;
	int i, j, rc = -1;
	long rings;

	memset(&L, 0, sizeof(L));
	L.g = g;
	L.r = malloc(sizeof(float) * (size_t)(g->gh + 1));
	if (L.r == NULL || lathe_axis(mask, im->w, im->h, &axis) == -1 ||
	    profile(mask, im->w, im->h, axis, &L) == -1)
		goto out;
	for (L.j0 = 0; L.j0 <= g->gh && L.r[L.j0] == 0; L.j0++)
		;
	for (L.j1 = g->gh; L.j1 >= 0 && L.r[L.j1] == 0; L.j1--)
		;
	rc = 1;
	if (L.j1 - L.j0 < 2)
		goto out;
	for (j = L.j0; j <= L.j1; j++)
		L.r[j] = (float)fmax(L.r[j], 0.25 * cell);
	for (i = 0; i <= SEGS; i++) {
		double t = -M_PI / 2 + 2 * M_PI * (i % SEGS) / SEGS;

		L.cs[i] = cos(t);
		L.sn[i] = sin(t);
	}
	L.xa = grid_x(g, axis * g->gw / im->w);
	L.inset = 2.5 * g->sx / im->w;
	rings = L.j1 - L.j0 + 1;
	rc = -1;
	if (mesh_reserve(m, 2 * rings * (SEGS / 2 + 1) + 2 * (SEGS + 1),
	        2 * rings * SEGS + 2 * SEGS) == -1)
		goto out;
	colour_mean(im, mask, plain);
	cap_colour(im, mask, &L, axis, L.j0, 1, top);
	cap_colour(im, mask, &L, axis, L.j1, -1, bot);
	m->cur[0] = m->cur[1] = m->cur[2] = 1;
	lathe_half(&L, 0, plain, 0, m);
	if (!o->plain_back)
		lathe_half(&L, 1, plain, 0, m);
	m->nt_tex = m->nt;
	lathe_cap(&L, L.j0, 1, top, m);
	lathe_cap(&L, L.j1, 0, bot, m);
	if (o->plain_back)
		lathe_half(&L, 1, plain, 1, m);
	rc = 0;
out:
	free(L.r);
	return rc;
}
