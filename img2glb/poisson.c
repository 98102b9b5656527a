/*
 * poisson.c: how fat the silhouette is at each grid corner, for the
 * inflate mode (inflate.c).
 *
 * Solves the Poisson problem lap(h) = -1 inside the contour with h = 0 on
 * it (Baran & Lehtinen's inflation; Teddy's sqrt profile): sqrt(h) grows
 * with the local width of the shape, so wide parts come out fat and thin
 * parts (legs, straps) stay thin, unlike a distance to the edge, which is
 * the same near every edge.  The contour crosses the grid between an
 * inside and an outside corner at the interpolated coverage level, and
 * the stencil uses that sub-cell distance (Shortley-Weller), so the
 * heights follow the smooth contour, not the grid's staircase.
 *
 * Method: successive over-relaxation over the inside corners in
 * lexicographic order, started from zero, with the relaxation factor and
 * iteration count set from the largest inscribed distance, so the work
 * is bounded (at most MAX_ITERS sweeps) and the result deterministic.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "img2glb_int.h"

#define MAX_ITERS 400
#define MIN_THETA 0.05 /* nearer crossings are clamped: stable stencil */

/* One inside corner's stencil: h = (1 + sum w[k] h[nb[k]]) * inv. */
struct cell {
	int32_t at, nb[4]; /* corner, neighbours (-1 = on the contour) */
	float w[4], inv;
};

/* Distance (in cells) from corner p to the contour towards q. */
static double
theta(const float *f, float iso, long p, long q)
{
	double t;

	if (f[q] > iso)
		return 1;
	t = (f[p] - iso) / (f[p] - f[q]);
	return t < MIN_THETA ? MIN_THETA : t > 1 ? 1 : t;
}

/* Stencils of the inside corners (the outer ring is always outside). */
static long
stencils(const struct grid *g, const float *f, float iso, struct cell *c)
{
	int W = g->gw + 1, i, j, k;
	long n = 0;

	for (j = 1; j < g->gh; j++) {
		for (i = 1; i < g->gw; i++) {
			long p = (long)j * W + i;
			long q[4] = {p - 1, p + 1, p - W, p + W};
			double t[4], a[2], diag = 0;

			if (f[p] <= iso)
				continue;
			for (k = 0; k < 4; k++)
				t[k] = theta(f, iso, p, q[k]);
			a[0] = 2 / (t[0] + t[1]);
			a[1] = 2 / (t[2] + t[3]);
			c[n].at = (int32_t)p;
			for (k = 0; k < 4; k++) {
				double w = a[k / 2] / t[k];

				diag += w;
				c[n].nb[k] = f[q[k]] > iso ? (int32_t)q[k] : -1;
				c[n].w[k] = (float)w;
			}
			c[n].inv = (float)(1 / diag);
			n++;
		}
	}
	return n;
}

/*
 * Width of the fattest part in cells: the largest, over inside corners,
 * of the shorter of the horizontal and vertical runs through it (run is
 * scratch, one int per corner).  It sizes the relaxation.
 */
static int
fattest(const struct grid *g, const float *f, float iso, int *run)
{
	int W = g->gw + 1, H = g->gh + 1, i, j, a, best = 1;

	for (j = 0; j < H; j++) {
		for (i = 0; i < W; i++) {
			long p = (long)j * W + i;

			if (f[p] <= iso)
				continue;
			for (a = i; a < W && f[(long)j * W + a] > iso; a++)
				;
			for (; i < a; i++)
				run[(long)j * W + i] = a - (int)(p % W);
		}
	}
	for (i = 0; i < W; i++) {
		for (j = 0; j < H; j++) {
			long p = (long)j * W + i;
			int v;

			if (f[p] <= iso)
				continue;
			for (a = j; a < H && f[(long)a * W + i] > iso; a++)
				;
			v = a - j;
			for (; j < a; j++) {
				int m = run[(long)j * W + i] < v
				    ? run[(long)j * W + i]
				    : v;

				best = m > best ? m : best;
			}
		}
	}
	return best;
}

/*
 * h per grid corner (0 outside; cells of the grid as the unit of
 * length); *hmax gets the largest value.  0, or -1 out of memory.
 */
int
poisson_heights(
    const struct grid *g, const float *f, float iso, float *h, double *hmax)
{
	long nc = (long)(g->gw + 1) * (g->gh + 1), n, k, it, iters;
	struct cell *c = malloc(sizeof(*c) * (size_t)nc);
	int *run = malloc(sizeof(int) * (size_t)nc);
	double omega, m = 0;
	int L, rc = -1;

	if (c == NULL || run == NULL)
		goto out;
	for (k = 0; k < nc; k++)
		h[k] = 0;
	n = stencils(g, f, iso, c);
	/* SOR with the optimal factor for a domain L cells wide shrinks the
	 * error by ~(1 - 2 pi / L) per sweep: 1.5 L sweeps leave ~1e-4. */
	L = fattest(g, f, iso, run);
	omega = 2 / (1 + sin(M_PI / (L + 1)));
	iters = (long)fmin(MAX_ITERS, 1.5 * L + 20);
	for (it = 0; it < iters; it++) {
		for (k = 0; k < n; k++) {
			const struct cell *p = c + k;
			double s = 1;
			int q;

			for (q = 0; q < 4; q++)
				if (p->nb[q] >= 0)
					s += p->w[q] * h[p->nb[q]];
			s *= p->inv;
			h[p->at] = (float)(h[p->at] + omega * (s - h[p->at]));
		}
	}
	for (k = 0; k < n; k++) {
		if (h[c[k].at] < 0)
			h[c[k].at] = 0;
		m = h[c[k].at] > m ? h[c[k].at] : m;
	}
	*hmax = m;
	rc = 0;
out:
	free(c);
	free(run);
	return rc;
}
