/*
 * relief.c: the relief mode of mesh.c, a luminance height field closed
 * into a slab.
 *
 * The surface is the image's luminance (times alpha) on the vertex grid,
 * blurred twice and inverted when the border is brighter than the
 * centre, so the object stands out instead of sinking in.  Side walls
 * and a back plate are built over the same perimeter points, so the slab
 * is closed without T-junctions.  The walls are plain (COLOR_0 alone),
 * each point in the photo's colour a few px inside the border, not the
 * border's pixels stretched down the wall; the back plate is the photo
 * mirrored (as seen from behind) and darkened by BACK_SHADE, like the
 * other modes' backs, or plain in the photo's dominant colour.
 *
 * Conventions and determinism as in mesh.c (pure functions, no statics).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

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

/* Auto-invert: a bright background would otherwise make the object sink
 * in instead of standing out. */
static void
invert_bright_border(float *L, int W, int H)
{
	double border = 0, centre = 0;
	long nb = 0, k;
	int i, j;

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
		for (k = 0; k < (long)W * H; k++)
			L[k] = 1 - L[k];
}

/* Heights 0..1 per grid vertex into L; -1 out of memory. */
static int
relief_heights(const struct image *im, const struct grid *g, float *L)
{
	int W = g->gw + 1, H = g->gh + 1, k, rc = -1;
	long npx = (long)im->w * im->h, p;
	unsigned char *lum = malloc((size_t)npx);
	float *tmp = malloc(sizeof(float) * (size_t)W * (size_t)H);

	if (lum == NULL || tmp == NULL)
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
	invert_bright_border(L, W, H);
	rc = 0;
out:
	free(lum);
	free(tmp);
	return rc;
}

/* The height field itself, with normals from central differences. */
static void
relief_surface(
    const struct grid *g, const float *L, double depth, struct mesh *m)
{
	int W = g->gw + 1, H = g->gh + 1, i, j;
	uint32_t surf = (uint32_t)m->nv;

	for (j = 0; j < H; j++) {
		for (i = 0; i < W; i++) {
			int il = i > 0 ? i - 1 : i, ir = i < W - 1 ? i + 1 : i;
			int ju = j > 0 ? j - 1 : j, jd = j < H - 1 ? j + 1 : j;
			double dzdx = depth *
			    (L[(long)j * W + ir] - L[(long)j * W + il]) /
			    (grid_x(g, ir) - grid_x(g, il));
			double dzdy = depth *
			    (L[(long)ju * W + i] - L[(long)jd * W + i]) /
			    (grid_y(g, ju) - grid_y(g, jd));

			mesh_vert(m, grid_x(g, i), grid_y(g, j),
			    depth * L[(long)j * W + i], -dzdx, -dzdy, 1,
			    (double)i / g->gw, (double)j / g->gh);
		}
	}
	for (j = 0; j < g->gh; j++) {
		for (i = 0; i < g->gw; i++) {
			uint32_t tl = surf + (uint32_t)(j * W + i);
			uint32_t bl = tl + (uint32_t)W;

			mesh_tri(m, tl, bl, bl + 1);
			mesh_tri(m, tl, bl + 1, tl + 1);
		}
	}
}

/* Perimeter sides, CCW seen from +Z: left (down), bottom (right), right
 * (up), top (left); with their outward normals. */
static const int sides[4][6] = {
    /* i0, j0, di, dj, nx, ny */
    {0, 0, 0, 1, -1, 0},
    {0, 1, 1, 0, 0, -1},
    {1, 1, 0, -1, 1, 0},
    {1, 0, -1, 0, 0, 1},
};

/* The grid index of each perimeter point in CCW order (2(gw+gh) of
 * them), for the back plate. */
static void
perimeter(const struct grid *g, uint32_t *per)
{
	int W = g->gw + 1, side, k;
	long nb = 0;

	for (side = 0; side < 4; side++) {
		const int *sd = sides[side];
		int n = sd[2] != 0 ? g->gw : g->gh;

		for (k = 0; k < n; k++) {
			int ii = sd[0] * g->gw + k * sd[2];
			int jj = sd[1] * g->gh + k * sd[3];

			per[nb++] = (uint32_t)(jj * W + ii);
		}
	}
}

/* The plain colour of a wall at grid point (i, j) with outward normal
 * (nx, ny): the photo's mean a few px inside the border. */
static void
wall_colour(const struct image *im, const struct grid *g, int i, int j, int nx,
    int ny, float c[3])
{
	int lng = im->w > im->h ? im->w : im->h;
	double ins = fmax(2, lng * 0.012);
	int r = lng / 250 > 1 ? lng / 250 : 1;

	c[0] = c[1] = c[2] = 1;
	colour_near(im, NULL, (double)i * im->w / g->gw - nx * ins,
	    (double)j * im->h / g->gh + ny * ins, r, c);
}

/* Side walls from the surface's edge down to z = -base, one side at a
 * time, plain in wall_colour. */
static void
relief_walls(const struct image *im, const struct grid *g, const float *L,
    double depth, double base, struct mesh *m)
{
	int W = g->gw + 1, side, k;

	for (side = 0; side < 4; side++) {
		const int *sd = sides[side];
		int n = sd[2] != 0 ? g->gw : g->gh;
		int i0 = sd[0] * g->gw, j0 = sd[1] * g->gh;
		uint32_t w0 = (uint32_t)m->nv;

		for (k = 0; k <= n; k++) {
			int ii = i0 + k * sd[2], jj = j0 + k * sd[3];
			double x = grid_x(g, ii), y = grid_y(g, jj);
			double u = (double)ii / g->gw, v = (double)jj / g->gh;

			wall_colour(im, g, ii, jj, sd[4], sd[5], m->cur);
			mesh_vert(m, x, y, depth * L[(long)jj * W + ii], sd[4],
			    sd[5], 0, u, v);
			mesh_vert(m, x, y, -base, sd[4], sd[5], 0, u, v);
		}
		for (k = 0; k < n; k++) {
			uint32_t a = w0 + 2 * (uint32_t)k, b = a + 2;

			mesh_tri(m, a, a + 1, b + 1);
			mesh_tri(m, a, b + 1, b);
		}
	}
}

/* Back plate: the perimeter again at z = -base, fanned from the centre;
 * reversed winding so it faces -Z; in colour col (the texture's factor
 * when mirrored, the whole colour when plain). */
static void
relief_back(const struct grid *g, const uint32_t *per, long nper, double base,
    const float col[3], struct mesh *m)
{
	uint32_t W = (uint32_t)g->gw + 1, c = (uint32_t)m->nv;
	long p;

	memcpy(m->cur, col, sizeof(m->cur));
	mesh_vert(m, 0, 0, -base, 0, 0, -1, 0.5, 0.5);
	for (p = 0; p < nper; p++) {
		int ii = (int)(per[p] % W), jj = (int)(per[p] / W);

		mesh_vert(m, grid_x(g, ii), grid_y(g, jj), -base, 0, 0, -1,
		    (double)ii / g->gw, (double)jj / g->gh);
	}
	for (p = 0; p < nper; p++)
		mesh_tri(m, c, c + 1 + (uint32_t)((p + 1) % nper),
		    c + 1 + (uint32_t)p);
}

int
relief_build(const struct image *im, const struct grid *g,
    const struct bopts *o, struct mesh *m)
{
	double th = o->th;
	int W = g->gw + 1, H = g->gh + 1, rc = -1;
	long nper = 2L * (g->gw + g->gh);
	double depth = 2 * th, base = th;
	float *L = malloc(sizeof(float) * (size_t)W * (size_t)H);
	uint32_t *per = malloc(sizeof(uint32_t) * (size_t)nper);
	float back[3] = {BACK_SHADE, BACK_SHADE, BACK_SHADE};

	if (L == NULL || per == NULL || relief_heights(im, g, L) == -1)
		goto out;
	if (mesh_reserve(m, (long)W * H + 4 * 2 * (W > H ? W : H) + nper + 1,
	        2L * g->gw * g->gh + 3 * nper) == -1)
		goto out;
	perimeter(g, per);
	if (o->plain_back)
		colour_mean(im, NULL, back);
	/* Textured first (the surface, a mirrored back), then plain. */
	relief_surface(g, L, depth, m);
	if (!o->plain_back)
		relief_back(g, per, nper, base, back, m);
	m->nt_tex = m->nt;
	relief_walls(im, g, L, depth, base, m);
	if (o->plain_back)
		relief_back(g, per, nper, base, back, m);
	rc = 0;
out:
	free(L);
	free(per);
	return rc;
}
