/*
 * mesh.c: geometry of the offline model, from an upright RGBA image.
 *
 * Conventions (glTF): metres, +Y up, the picture faces +Z, front faces
 * CCW.  The long side of the image is 1.0 m; pixel (px, py) maps to
 * x = (px/W - 0.5)*sx, y = (0.5 - py/H)*sy and UV = (px/W, py/H) with no
 * V flip (glTF UVs start at the top-left).  The finished mesh is moved so
 * its bounding box is centred on the origin.
 *
 * Modes:
 *  - inflate: a foreground mask (alpha, or the keyed-out plain border
 *    colour) is box-filtered onto a vertex grid as fractional coverage;
 *    marching *triangles* (each cell split into the same two triangles,
 *    each clipped at coverage 0.5) give a manifold cap without any
 *    polygon triangulation or saddle ambiguity.  The cap is domed by a
 *    chamfer distance transform, mirrored for the back, and closed by
 *    walls along the contour segments, so the solid is watertight;
 *  - relief: luminance height field closed into a slab (walls plus a
 *    back plate fanned over the same perimeter points: no T-junctions);
 *  - card: one double-sided quad.
 * "auto" (and "inflate") use inflate when a usable silhouette exists and
 * relief otherwise.
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

#define KEY_DIST2 (40 * 40) /* RGB distance² to count as background */
#define ISO 0.5f /* coverage level of the contour */

void
mesh_free(struct mesh *m)
{
	free(m->pos);
	free(m->nrm);
	free(m->uv);
	free(m->idx);
	memset(m, 0, sizeof(*m));
}

static int
grow(void **p, long *cap, long need, size_t elt)
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

/* Make room for nv more vertices and nt more triangles. */
static int
reserve(struct mesh *m, long nv, long nt)
{
	long cv = m->capv, ct = m->capt;

	if (grow((void **)&m->pos, &cv, m->nv + nv, 12) == -1)
		return -1;
	cv = m->capv;
	if (grow((void **)&m->nrm, &cv, m->nv + nv, 12) == -1)
		return -1;
	cv = m->capv;
	if (grow((void **)&m->uv, &cv, m->nv + nv, 8) == -1)
		return -1;
	m->capv = cv;
	if (grow((void **)&m->idx, &ct, m->nt + nt, 12) == -1)
		return -1;
	m->capt = ct;
	return 0;
}

/* Append a vertex (room must be reserved); the normal is normalised. */
static uint32_t
vert(struct mesh *m, double x, double y, double z, double nx, double ny,
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
	return (uint32_t)i;
}

static void
tri(struct mesh *m, uint32_t a, uint32_t b, uint32_t c)
{
	long t = m->nt++;

	m->idx[t * 3] = a;
	m->idx[t * 3 + 1] = b;
	m->idx[t * 3 + 2] = c;
}

/* Grid geometry shared by the modes. */
struct grid {
	int gw, gh; /* cells; vertices are (gw+1) x (gh+1) */
	double sx, sy; /* model size in metres */
	int w, h; /* image size in pixels */
};

static double
gx2x(const struct grid *g, double gx)
{
	return (gx / g->gw - 0.5) * g->sx;
}

static double
gy2y(const struct grid *g, double gy)
{
	return (0.5 - gy / g->gh) * g->sy;
}

/*
 * Average a w x h byte plane onto the vertex grid: each pixel goes to its
 * nearest vertex, i.e. a box filter one cell wide centred on the vertex.
 * A vertex no pixel falls on (tiny images) takes the pixel under it.
 */
static int
bin_plane(const unsigned char *a, const struct grid *g, float *out)
{
	long nvx = (long)(g->gw + 1) * (g->gh + 1), k;
	int *bx = NULL, *by = NULL, x, y, rc = -1;
	float *sum = NULL;
	int *cnt = NULL;

	bx = malloc(sizeof(int) * (size_t)g->w);
	by = malloc(sizeof(int) * (size_t)g->h);
	sum = calloc((size_t)nvx, sizeof(float));
	cnt = calloc((size_t)nvx, sizeof(int));
	if (bx == NULL || by == NULL || sum == NULL || cnt == NULL)
		goto out;
	for (x = 0; x < g->w; x++)
		bx[x] = (int)floor((x + 0.5) * g->gw / g->w + 0.5);
	for (y = 0; y < g->h; y++)
		by[y] = (int)floor((y + 0.5) * g->gh / g->h + 0.5);
	for (y = 0; y < g->h; y++) {
		const unsigned char *row = a + (size_t)y * (size_t)g->w;
		long base = (long)by[y] * (g->gw + 1);

		for (x = 0; x < g->w; x++) {
			sum[base + bx[x]] += row[x];
			cnt[base + bx[x]]++;
		}
	}
	for (k = 0; k < nvx; k++) {
		int i = (int)(k % (g->gw + 1)), j = (int)(k / (g->gw + 1));
		int px = (int)((double)i * g->w / g->gw);
		int py = (int)((double)j * g->h / g->gh);

		if (cnt[k] > 0) {
			out[k] = sum[k] / (float)cnt[k];
			continue;
		}
		px = px < g->w ? px : g->w - 1;
		py = py < g->h ? py : g->h - 1;
		out[k] = a[(size_t)py * (size_t)g->w + (size_t)px];
	}
	rc = 0;
out:
	free(bx);
	free(by);
	free(sum);
	free(cnt);
	return rc;
}

static int
near_bg(const unsigned char *p, const int bg[3])
{
	int dr = p[0] - bg[0], dg = p[1] - bg[1], db = p[2] - bg[2];

	return dr * dr + dg * dg + db * db < KEY_DIST2;
}

static int
cmp_uc(const void *a, const void *b)
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

/*
 * Key out a plain background: the per-channel median of the 1-pixel
 * border is the background colour; if at least 80% of the border is
 * close to it, flood-fill (4-connected, explicit stack) from the border
 * through close pixels, then also drop enclosed background-coloured
 * components of at least 1% of the image (the hole of a mug handle;
 * smaller ones are mostly highlights on the object itself).
 * st: 0 = foreground, 1 = background; returns 0 done, 1 no plain
 * border, -1 out of memory.
 */
static int
key_background(const struct image *im, unsigned char *st)
{
	int w = im->w, h = im->h, bg[3], c, x, y, rc = -1;
	long nb = 0, close = 0, sp, npx = (long)w * h, k, thr;
	unsigned char *ch = NULL;
	uint32_t *stack = NULL;

	if (w < 4 || h < 4)
		return 1;
	nb = 2L * (w + h) - 4;
	ch = malloc((size_t)nb);
	stack = malloc(sizeof(uint32_t) * (size_t)npx);
	if (ch == NULL || stack == NULL)
		goto out;
	for (c = 0; c < 3; c++) {
		long n = 0;

		for (x = 0; x < w; x++) {
			ch[n++] = im->rgba[(size_t)x * 4 + c];
			ch[n++] = im->rgba[((size_t)(h - 1) * w + x) * 4 + c];
		}
		for (y = 1; y < h - 1; y++) {
			ch[n++] = im->rgba[((size_t)y * w) * 4 + c];
			ch[n++] = im->rgba[((size_t)y * w + w - 1) * 4 + c];
		}
		qsort(ch, (size_t)n, 1, cmp_uc);
		bg[c] = ch[n / 2];
	}
	memset(st, 0, (size_t)npx);
	sp = 0;
	/* Seed with every close border pixel; st = 1 when pushed, so each
	 * pixel is pushed at most once and the stack cannot overflow. */
	for (k = 0; k < npx; k++) {
		x = (int)(k % w);
		y = (int)(k / w);
		if (x != 0 && y != 0 && x != w - 1 && y != h - 1) {
			k += w - 3; /* jump to the right border pixel */
			continue;
		}
		if (near_bg(im->rgba + k * 4, bg)) {
			close++;
			st[k] = 1;
			stack[sp++] = (uint32_t)k;
		}
	}
	if (close * 5 < nb * 4) {
		rc = 1;
		goto out;
	}
	while (sp > 0) {
		long p = stack[--sp];
		long nbr[4];
		int q;

		x = (int)(p % w);
		y = (int)(p / w);
		nbr[0] = x > 0 ? p - 1 : -1;
		nbr[1] = x < w - 1 ? p + 1 : -1;
		nbr[2] = y > 0 ? p - w : -1;
		nbr[3] = y < h - 1 ? p + w : -1;
		for (q = 0; q < 4; q++) {
			if (nbr[q] >= 0 && st[nbr[q]] == 0 &&
			    near_bg(im->rgba + nbr[q] * 4, bg)) {
				st[nbr[q]] = 1;
				stack[sp++] = (uint32_t)nbr[q];
			}
		}
	}
	/* Enclosed components: collect each one (st = 2 while undecided),
	 * then mark it background if large enough, else foreground. */
	thr = npx / 100;
	for (k = 0; k < npx; k++) {
		long n = 0, head = 0, i;

		if (st[k] != 0 || !near_bg(im->rgba + k * 4, bg))
			continue;
		st[k] = 2;
		stack[n++] = (uint32_t)k;
		while (head < n) {
			long p = stack[head++];
			long nbr[4];
			int q;

			x = (int)(p % w);
			y = (int)(p / w);
			nbr[0] = x > 0 ? p - 1 : -1;
			nbr[1] = x < w - 1 ? p + 1 : -1;
			nbr[2] = y > 0 ? p - w : -1;
			nbr[3] = y < h - 1 ? p + w : -1;
			for (q = 0; q < 4; q++) {
				if (nbr[q] >= 0 && st[nbr[q]] == 0 &&
				    near_bg(im->rgba + nbr[q] * 4, bg)) {
					st[nbr[q]] = 2;
					stack[n++] = (uint32_t)nbr[q];
				}
			}
		}
		for (i = 0; i < n; i++)
			st[stack[i]] = n >= thr ? 1 : 3;
	}
	for (k = 0; k < npx; k++)
		st[k] = st[k] == 1;
	rc = 0;
out:
	free(ch);
	free(stack);
	return rc;
}

/*
 * Foreground mask (1 = object) from alpha or keying.  Returns 0 with a
 * usable mask, 1 when there is none (no transparency and no plain
 * border, or a foreground under 1% or over 98%), -1 out of memory.
 */
static int
make_mask(const struct image *im, unsigned char *mask)
{
	long npx = (long)im->w * im->h, k, transp = 0, fg = 0;
	int r;

	for (k = 0; im->has_alpha && k < npx; k++)
		transp += im->rgba[k * 4 + 3] < 128;
	if (transp * 200 > npx && (npx - transp) * 200 > npx) {
		for (k = 0; k < npx; k++)
			mask[k] = im->rgba[k * 4 + 3] >= 128;
	} else if (im->has_alpha && transp * 200 > npx) {
		return 1; /* (almost) fully transparent */
	} else {
		r = key_background(im, mask);
		if (r != 0)
			return r;
		for (k = 0; k < npx; k++)
			mask[k] ^= 1;
	}
	for (k = 0; k < npx; k++)
		fg += mask[k];
	return fg * 100 < npx || fg * 100 > npx * 98 ? 1 : 0;
}

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

	if (grow((void **)&s->vx, &cap, s->nv + 1, sizeof(float)) == -1)
		return -1;
	cap = s->capv;
	if (grow((void **)&s->vy, &cap, s->nv + 1, sizeof(float)) == -1)
		return -1;
	cap = s->capv;
	if (grow((void **)&s->vcorner, &cap, s->nv + 1, sizeof(int32_t)) == -1)
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
	if (grow((void **)&s->tris, &cap, s->nt + np - 2, 12) == -1)
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
		if (grow((void **)&s->seg, &cap, s->ns + 1, 8) == -1)
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

/*
 * Inflated silhouette from coverage f.  Returns 0 built, 1 nothing
 * inside the contour (caller falls back), -1 out of memory.
 */
static int
build_inflate(const struct grid *g, const float *f, double th, struct mesh *m)
{
	struct mt s;
	long nc = (long)(g->gw + 1) * (g->gh + 1), c, k;
	int i, j, side, rc = -1;
	double cell = g->sx / g->gw, dmax = 0, bulge, half = th / 2;
	double *fn = NULL, *rn = NULL;
	float *z = NULL;
	int32_t *rim = NULL;
	uint32_t *byrim = NULL;
	long nrim = 0;
	uint32_t fb, bb, wb;

	memset(&s, 0, sizeof(s));
	s.g = g;
	s.f = f;
	s.cid = malloc(sizeof(int32_t) * (size_t)nc);
	s.eid = malloc(sizeof(int32_t) * (size_t)nc * 3);
	s.dist = malloc(sizeof(float) * (size_t)nc);
	if (s.cid == NULL || s.eid == NULL || s.dist == NULL)
		goto out;
	for (c = 0; c < nc; c++) {
		s.cid[c] = -1;
		s.eid[c * 3] = s.eid[c * 3 + 1] = s.eid[c * 3 + 2] = -1;
		s.dist[c] = f[c] > ISO ? 1e30f : 0;
	}
	/* Cells: TL, TR, BL, BR; triangles (TL,BL,BR) and (TL,BR,TR) are
	 * CCW in model space, where image y points down. */
	for (j = 0; j < g->gh; j++) {
		for (i = 0; i < g->gw; i++) {
			long tl = (long)j * (g->gw + 1) + i, tr = tl + 1;
			long bl = tl + g->gw + 1, br = bl + 1;
			long t1[3] = {tl, bl, br}, t2[3] = {tl, br, tr};

			if (mt_tri(&s, t1) == -1 || mt_tri(&s, t2) == -1)
				goto out;
		}
	}
	if (s.nt == 0 || s.ns == 0) {
		rc = 1;
		goto out;
	}
	chamfer(g, f, s.dist);
	for (c = 0; c < nc; c++)
		if (f[c] > ISO && s.dist[c] > dmax)
			dmax = s.dist[c];
	if (dmax <= 0)
		dmax = 1;
	/* A parabolic dome (finite slope at the rim, unlike a circle, so no
	 * highlight glitches there); never taller than the shape is wide. */
	bulge = fmin(3 * th, 0.8 * dmax * cell);
	z = malloc(sizeof(float) * (size_t)s.nv);
	fn = calloc((size_t)s.nv * 3, sizeof(double));
	rim = malloc(sizeof(int32_t) * (size_t)s.nv);
	rn = calloc((size_t)s.nv * 2, sizeof(double));
	if (z == NULL || fn == NULL || rim == NULL || rn == NULL)
		goto out;
	for (k = 0; k < s.nv; k++) {
		double sd = s.vcorner[k] < 0 ? 0 : s.dist[s.vcorner[k]] / dmax;

		sd = sd > 1 ? 1 : sd;
		z[k] = (float)(half + bulge * sd * (2 - sd));
		rim[k] = -1;
	}
	/* Area-weighted face normals of the front cap, in model units. */
	for (k = 0; k < s.nt; k++) {
		uint32_t a = s.tris[k * 3], b = s.tris[k * 3 + 1],
		         cc = s.tris[k * 3 + 2];
		double ax = gx2x(g, s.vx[a]), ay = gy2y(g, s.vy[a]);
		double ux = gx2x(g, s.vx[b]) - ax, uy = gy2y(g, s.vy[b]) - ay;
		double uz = z[b] - z[a];
		double vx = gx2x(g, s.vx[cc]) - ax, vy = gy2y(g, s.vy[cc]) - ay;
		double vz = z[cc] - z[a];
		double nx = uy * vz - uz * vy, ny = uz * vx - ux * vz;
		double nz = ux * vy - uy * vx;
		int q;

		for (q = 0; q < 3; q++) {
			uint32_t v = s.tris[k * 3 + q];

			fn[v * 3] += nx;
			fn[v * 3 + 1] += ny;
			fn[v * 3 + 2] += nz;
		}
	}
	/* Outward contour normals (dy, -dx) summed at each rim vertex. */
	for (k = 0; k < s.ns; k++) {
		uint32_t a = s.seg[k * 2], b = s.seg[k * 2 + 1];
		double dx = gx2x(g, s.vx[b]) - gx2x(g, s.vx[a]);
		double dy = gy2y(g, s.vy[b]) - gy2y(g, s.vy[a]);
		double l = hypot(dx, dy);

		if (l > 0) {
			rn[a * 2] += dy / l;
			rn[a * 2 + 1] -= dx / l;
			rn[b * 2] += dy / l;
			rn[b * 2 + 1] -= dx / l;
		}
		if (rim[a] < 0)
			rim[a] = (int32_t)nrim++;
		if (rim[b] < 0)
			rim[b] = (int32_t)nrim++;
	}
	if (reserve(m, 2 * s.nv + 2 * nrim, 2 * s.nt + 2 * s.ns) == -1)
		goto out;
	fb = (uint32_t)m->nv;
	bb = fb + (uint32_t)s.nv;
	wb = bb + (uint32_t)s.nv;
	for (side = 0; side < 2; side++) {
		for (k = 0; k < s.nv; k++) {
			double u = s.vx[k] / g->gw, v = s.vy[k] / g->gh;
			double l = hypot(rn[k * 2], rn[k * 2 + 1]);
			double sg = side == 0 ? 1 : -1;

			/* Pull rim UVs ~2 px inward, off the background
			 * fringe of keyed photos. */
			if (l > 0) {
				u -= rn[k * 2] / l * 2.0 / g->w;
				v += rn[k * 2 + 1] / l * 2.0 / g->h;
			}
			vert(m, gx2x(g, s.vx[k]), gy2y(g, s.vy[k]), sg * z[k],
			    fn[k * 3], fn[k * 3 + 1], sg * fn[k * 3 + 2], u, v);
		}
	}
	/* Wall vertices: a front and a back copy of each rim vertex, in
	 * rim order, with the horizontal contour normal. */
	byrim = malloc(sizeof(uint32_t) * (size_t)(nrim + 1));
	if (byrim == NULL)
		goto out;
	for (k = 0; k < s.nv; k++)
		if (rim[k] >= 0)
			byrim[rim[k]] = (uint32_t)k;
	for (k = 0; k < nrim; k++) {
		uint32_t v = byrim[k];
		double l = hypot(rn[v * 2], rn[v * 2 + 1]);
		double u = s.vx[v] / g->gw, vv = s.vy[v] / g->gh;

		if (l > 0) {
			u -= rn[v * 2] / l * 2.0 / g->w;
			vv += rn[v * 2 + 1] / l * 2.0 / g->h;
		}
		vert(m, gx2x(g, s.vx[v]), gy2y(g, s.vy[v]), half, rn[v * 2],
		    rn[v * 2 + 1], 0, u, vv);
		vert(m, gx2x(g, s.vx[v]), gy2y(g, s.vy[v]), -half, rn[v * 2],
		    rn[v * 2 + 1], 0, u, vv);
	}
	for (k = 0; k < s.nt; k++) {
		uint32_t a = s.tris[k * 3], b = s.tris[k * 3 + 1],
		         cc = s.tris[k * 3 + 2];

		tri(m, fb + a, fb + b, fb + cc);
		tri(m, bb + a, bb + cc, bb + b);
	}
	for (k = 0; k < s.ns; k++) {
		uint32_t a = wb + 2 * (uint32_t)rim[s.seg[k * 2]];
		uint32_t b = wb + 2 * (uint32_t)rim[s.seg[k * 2 + 1]];

		/* a -> b has the interior on its left: these face out. */
		tri(m, a, a + 1, b + 1);
		tri(m, a, b + 1, b);
	}
	rc = 0;
out:
	mt_free(&s);
	free(z);
	free(fn);
	free(rim);
	free(byrim);
	free(rn);
	return rc;
}

/* 3x3 box blur with clamped edges, in place (tmp has the same size). */
static void
blur(float *a, float *tmp, int W, int H)
{
	int i, j, di, dj;

	for (j = 0; j < H; j++) {
		for (i = 0; i < W; i++) {
			float sum = 0;
			int n = 0;

			for (dj = -1; dj <= 1; dj++) {
				for (di = -1; di <= 1; di++) {
					int x = i + di, y = j + dj;

					if (x < 0 || y < 0 || x >= W || y >= H)
						continue;
					sum += a[(long)y * W + x];
					n++;
				}
			}
			tmp[(long)j * W + i] = sum / (float)n;
		}
	}
	memcpy(a, tmp, sizeof(float) * (size_t)W * (size_t)H);
}

/*
 * Relief: luminance (times alpha) height field, closed into a solid with
 * side walls and a back plate over the same perimeter points.
 */
static int
build_relief(
    const struct image *im, const struct grid *g, double th, struct mesh *m)
{
	int W = g->gw + 1, H = g->gh + 1, i, j, k, side, rc = -1;
	long npx = (long)im->w * im->h, p, nper, nb = 0;
	unsigned char *lum = NULL;
	float *L = NULL, *tmp = NULL;
	double depth = 2 * th, base = th, border = 0, centre = 0;
	uint32_t surf, *per = NULL, c;
	/* Perimeter sides, CCW seen from +Z: left (down), bottom (right),
	 * right (up), top (left); with their outward normals. */
	static const int sides[4][6] = {
	    /* i0, j0, di, dj, nx, ny */
	    {0, 0, 0, 1, -1, 0},
	    {0, 1, 1, 0, 0, -1},
	    {1, 1, 0, -1, 1, 0},
	    {1, 0, -1, 0, 0, 1},
	};

	lum = malloc((size_t)npx);
	L = malloc(sizeof(float) * (size_t)W * (size_t)H);
	tmp = malloc(sizeof(float) * (size_t)W * (size_t)H);
	nper = 2L * (g->gw + g->gh);
	per = malloc(sizeof(uint32_t) * (size_t)nper);
	if (lum == NULL || L == NULL || tmp == NULL || per == NULL)
		goto out;
	for (p = 0; p < npx; p++) {
		const unsigned char *q = im->rgba + p * 4;
		double l = 0.2126 * q[0] + 0.7152 * q[1] + 0.0722 * q[2];

		lum[p] = (unsigned char)(l * q[3] / 255.0 + 0.5);
	}
	if (bin_plane(lum, g, L) == -1)
		goto out;
	for (k = 0; k < W * H; k++)
		L[k] /= 255.0f;
	blur(L, tmp, W, H);
	blur(L, tmp, W, H);
	/* Auto-invert: a bright background would otherwise make the object
	 * sink in instead of standing out. */
	for (i = 0; i < W; i++) {
		border += L[i] + L[(long)(H - 1) * W + i];
		nb += 2;
	}
	for (j = 0; j < H; j++) {
		border += L[(long)j * W] + L[(long)j * W + W - 1];
		nb += 2;
		centre += L[(long)j * W + W / 2];
	}
	if (border / nb > centre / H)
		for (k = 0; k < W * H; k++)
			L[k] = 1 - L[k];
	if (reserve(m, (long)W * H + 4 * 2 * (W > H ? W : H) + nper + 1,
	        2L * g->gw * g->gh + 3 * nper) == -1)
		goto out;
	surf = (uint32_t)m->nv;
	for (j = 0; j < H; j++) {
		for (i = 0; i < W; i++) {
			int il = i > 0 ? i - 1 : i, ir = i < W - 1 ? i + 1 : i;
			int ju = j > 0 ? j - 1 : j, jd = j < H - 1 ? j + 1 : j;
			double dzdx = depth *
			    (L[(long)j * W + ir] - L[(long)j * W + il]) /
			    (gx2x(g, ir) - gx2x(g, il));
			double dzdy = depth *
			    (L[(long)ju * W + i] - L[(long)jd * W + i]) /
			    (gy2y(g, ju) - gy2y(g, jd));

			vert(m, gx2x(g, i), gy2y(g, j),
			    depth * L[(long)j * W + i], -dzdx, -dzdy, 1,
			    (double)i / g->gw, (double)j / g->gh);
		}
	}
	for (j = 0; j < g->gh; j++) {
		for (i = 0; i < g->gw; i++) {
			uint32_t tl = surf + (uint32_t)(j * W + i);
			uint32_t bl = tl + (uint32_t)W;

			tri(m, tl, bl, bl + 1);
			tri(m, tl, bl + 1, tl + 1);
		}
	}
	nb = 0;
	for (side = 0; side < 4; side++) {
		const int *sd = sides[side];
		int n = sd[2] != 0 ? g->gw : g->gh;
		int i0 = sd[0] * g->gw, j0 = sd[1] * g->gh;
		uint32_t w0 = (uint32_t)m->nv;

		for (k = 0; k <= n; k++) {
			int ii = i0 + k * sd[2], jj = j0 + k * sd[3];
			double x = gx2x(g, ii), y = gy2y(g, jj);
			double u = (double)ii / g->gw, v = (double)jj / g->gh;

			vert(m, x, y, depth * L[(long)jj * W + ii], sd[4],
			    sd[5], 0, u, v);
			vert(m, x, y, -base, sd[4], sd[5], 0, u, v);
			if (k < n)
				per[nb++] = (uint32_t)(jj * W + ii);
		}
		for (k = 0; k < n; k++) {
			uint32_t a = w0 + 2 * (uint32_t)k, b = a + 2;

			tri(m, a, a + 1, b + 1);
			tri(m, a, b + 1, b);
		}
	}
	/* Back plate: the perimeter again at z = -base, fanned from the
	 * centre; reversed winding so it faces -Z. */
	c = (uint32_t)m->nv;
	vert(m, 0, 0, -base, 0, 0, -1, 0.5, 0.5);
	for (p = 0; p < nper; p++) {
		int ii = (int)(per[p] % (uint32_t)W),
		    jj = (int)(per[p] / (uint32_t)W);

		vert(m, gx2x(g, ii), gy2y(g, jj), -base, 0, 0, -1,
		    (double)ii / g->gw, (double)jj / g->gh);
	}
	for (p = 0; p < nper; p++)
		tri(m, c, c + 1 + (uint32_t)((p + 1) % nper),
		    c + 1 + (uint32_t)p);
	rc = 0;
out:
	free(lum);
	free(L);
	free(tmp);
	free(per);
	return rc;
}

/* One quad at z = 0 facing +Z; the material makes it double-sided. */
static int
build_card(const struct image *im, const struct grid *g, struct mesh *m)
{
	uint32_t b;

	if (reserve(m, 4, 2) == -1)
		return -1;
	b = (uint32_t)m->nv;
	vert(m, -g->sx / 2, g->sy / 2, 0, 0, 0, 1, 0, 0);
	vert(m, -g->sx / 2, -g->sy / 2, 0, 0, 0, 1, 0, 1);
	vert(m, g->sx / 2, -g->sy / 2, 0, 0, 0, 1, 1, 1);
	vert(m, g->sx / 2, g->sy / 2, 0, 0, 0, 1, 1, 0);
	tri(m, b, b + 1, b + 2);
	tri(m, b, b + 2, b + 3);
	m->double_sided = 1;
	m->alpha_mask = im->has_alpha;
	return 0;
}

/*
 * Move the bounding box centre to the origin and scale uniformly so the
 * longer of width and height is 1.0 m: a keyed object fills less than
 * its photo, but the model should have the promised size.  A uniform
 * scale keeps the normals valid.
 */
static void
centre_mesh(struct mesh *m)
{
	float lo[3], hi[3], c[3];
	double ext, s;
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
	ext = fmax((double)hi[0] - lo[0], (double)hi[1] - lo[1]);
	s = ext > 1e-6 ? 1.0 / ext : 1.0;
	for (a = 0; a < 3; a++)
		c[a] = (lo[a] + hi[a]) / 2;
	for (i = 0; i < m->nv; i++)
		for (a = 0; a < 3; a++)
			m->pos[i * 3 + a] =
			    (float)((m->pos[i * 3 + a] - c[a]) * s);
}

/*
 * Inflate from the image's silhouette.  Returns 0 built, 1 no usable
 * silhouette (the caller falls back to relief), -1 out of memory.
 */
static int
try_inflate(
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

int
mesh_build(const struct image *im, const char *mode, int res, double thickness,
    struct mesh *m)
{
	struct grid g;
	int lng = im->w > im->h ? im->w : im->h, r = 1;

	memset(m, 0, sizeof(*m));
	if (res > lng)
		res = lng; /* no more cells than pixels */
	g.w = im->w;
	g.h = im->h;
	g.gw = (int)floor((double)res * im->w / lng + 0.5);
	g.gh = (int)floor((double)res * im->h / lng + 0.5);
	g.gw = g.gw < 1 ? 1 : g.gw;
	g.gh = g.gh < 1 ? 1 : g.gh;
	g.sx = (double)im->w / lng;
	g.sy = (double)im->h / lng;
	if (strcmp(mode, "card") == 0) {
		r = build_card(im, &g, m);
		snprintf(m->mode, sizeof(m->mode), "card");
	} else {
		if (strcmp(mode, "relief") != 0)
			r = try_inflate(im, &g, thickness, m);
		if (r == 0)
			snprintf(m->mode, sizeof(m->mode), "inflate");
		if (r == 1) {
			r = build_relief(im, &g, thickness, m);
			snprintf(m->mode, sizeof(m->mode), "relief");
		}
	}
	if (r != 0)
		goto fail;
	centre_mesh(m);
	return 0;
fail:
	mesh_free(m);
	return -1;
}
