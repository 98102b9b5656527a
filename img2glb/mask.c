/*
 * mask.c: which pixels are the object, and planes binned onto the grid.
 *
 * The foreground mask comes from the alpha channel when the image really
 * has transparency, else from keying out a plain background colour
 * sampled on the border; it is refused (the caller falls back to relief)
 * when neither gives a plausible object (under 1% or over 98% of the
 * image).  bin_plane averages any byte plane (the mask, a luminance map)
 * onto the vertex grid of mesh.c.
 *
 * Pure functions of their inputs (no statics, no randomness): the mask
 * and so the mesh are deterministic and thread-safe.  Region growing
 * marks a pixel when it is listed, so a list of w*h entries never
 * overflows.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

#define KEY_DIST2 (40 * 40) /* RGB distance² to count as background */

/*
 * Average a w x h byte plane onto the vertex grid: each pixel goes to its
 * nearest vertex, i.e. a box filter one cell wide centred on the vertex.
 * A vertex no pixel falls on (tiny images) takes the pixel under it.
 */
int
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

/* Background colour: the per-channel median of the 1-pixel border
 * (ch has room for the 2(w+h)-4 border pixels). */
static void
border_colour(const struct image *im, unsigned char *ch, int bg[3])
{
	int w = im->w, h = im->h, c, x, y;

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
}

/* List every border pixel close to bg, marked 1; returns how many. */
static long
seed_border(
    const struct image *im, const int bg[3], unsigned char *st, uint32_t *list)
{
	int w = im->w, h = im->h, x, y;
	long npx = (long)w * h, k, n = 0;

	for (k = 0; k < npx; k++) {
		x = (int)(k % w);
		y = (int)(k / w);
		if (x != 0 && y != 0 && x != w - 1 && y != h - 1) {
			k += w - 3; /* jump to the right border pixel */
			continue;
		}
		if (near_bg(im->rgba + k * 4, bg)) {
			st[k] = 1;
			list[n++] = (uint32_t)k;
		}
	}
	return n;
}

/*
 * Grow the region listed in list[0..n) through 4-connected unmarked
 * (st 0) pixels close to bg, marking each with mark as it is listed.
 * keep: visit in list order and return the region's size, list then
 * holding all of it; else pop as a stack (only the frontier is held, so
 * fewer pages of list are touched) and return 0.
 */
static long
grow_region(const struct image *im, const int bg[3], unsigned char *st,
    uint32_t *list, long n, unsigned char mark, int keep)
{
	int w = im->w, h = im->h, x, y, q;
	long head = 0;

	while (keep ? head < n : n > 0) {
		long p = keep ? list[head++] : list[--n];
		long nbr[4];

		x = (int)(p % w);
		y = (int)(p / w);
		nbr[0] = x > 0 ? p - 1 : -1;
		nbr[1] = x < w - 1 ? p + 1 : -1;
		nbr[2] = y > 0 ? p - w : -1;
		nbr[3] = y < h - 1 ? p + w : -1;
		for (q = 0; q < 4; q++) {
			if (nbr[q] >= 0 && st[nbr[q]] == 0 &&
			    near_bg(im->rgba + nbr[q] * 4, bg)) {
				st[nbr[q]] = mark;
				list[n++] = (uint32_t)nbr[q];
			}
		}
	}
	return n;
}

/* Enclosed background-coloured components: collect each one (st = 2
 * while undecided), then mark it background (1) when it covers at least
 * 1% of the image, else foreground (3). */
static void
drop_enclosed(
    const struct image *im, const int bg[3], unsigned char *st, uint32_t *list)
{
	long npx = (long)im->w * im->h, thr = npx / 100, k, n, i;

	for (k = 0; k < npx; k++) {
		if (st[k] != 0 || !near_bg(im->rgba + k * 4, bg))
			continue;
		st[k] = 2;
		list[0] = (uint32_t)k;
		n = grow_region(im, bg, st, list, 1, 2, 1);
		for (i = 0; i < n; i++)
			st[list[i]] = n >= thr ? 1 : 3;
	}
}

/*
 * Key out a plain background: if at least 80% of the border is close to
 * the border's median colour, flood-fill from the border through close
 * pixels, then also drop enclosed background-coloured components of at
 * least 1% of the image (the hole of a mug handle; smaller ones are
 * mostly highlights on the object itself).
 * st: 0 = foreground, 1 = background; returns 0 done, 1 no plain
 * border, -1 out of memory.
 */
static int
key_background(const struct image *im, unsigned char *st)
{
	int w = im->w, h = im->h, bg[3], rc = -1;
	long nb, close, npx = (long)w * h, k;
	unsigned char *ch = NULL;
	uint32_t *list = NULL;

	if (w < 4 || h < 4)
		return 1;
	nb = 2L * (w + h) - 4;
	ch = malloc((size_t)nb);
	list = malloc(sizeof(uint32_t) * (size_t)npx);
	if (ch == NULL || list == NULL)
		goto out;
	border_colour(im, ch, bg);
	memset(st, 0, (size_t)npx);
	close = seed_border(im, bg, st, list);
	if (close * 5 < nb * 4) {
		rc = 1;
		goto out;
	}
	grow_region(im, bg, st, list, close, 1, 0);
	drop_enclosed(im, bg, st, list);
	for (k = 0; k < npx; k++)
		st[k] = st[k] == 1;
	rc = 0;
out:
	free(ch);
	free(list);
	return rc;
}

int
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

int
coverage(const unsigned char *mask, const struct grid *g, float *cov)
{
	long k, nc = (long)(g->gw + 1) * (g->gh + 1);

	if (bin_plane(mask, g, cov) == -1)
		return -1;
	for (k = 0; k < nc; k++) {
		int i = (int)(k % (g->gw + 1)), j = (int)(k / (g->gw + 1));

		if (i == 0 || j == 0 || i == g->gw || j == g->gh)
			cov[k] = 0;
		else if (fabsf(cov[k] - ISO) < 1e-3f)
			cov[k] = ISO + 1e-3f;
	}
	return 0;
}
