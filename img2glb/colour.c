/*
 * colour.c: colours sampled from the photo for what the photo does not
 * show (walls, caps, a plain back): means over the silhouette's own
 * pixels, so the background fringe of a keyed photo never leaks in.
 *
 * glTF's COLOR_0 multiplies the linear base colour, so every colour here
 * is converted from the image's sRGB bytes to linear before averaging
 * (averaging sRGB bytes would darken mixes).  Pure functions.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "img2glb_int.h"

static float
lin1(unsigned char c)
{
	double v = c / 255.0;

	return (
	    float)(v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4));
}

void
colour_lin(const unsigned char *rgb, float out[3])
{
	out[0] = lin1(rgb[0]);
	out[1] = lin1(rgb[1]);
	out[2] = lin1(rgb[2]);
}

/* Mean over the mask pixels of a box; every 'step'th pixel is enough. */
static long
box_mean(const struct image *im, const unsigned char *mask, int x0, int y0,
    int x1, int y1, int step, float out[3])
{
	double sum[3] = {0, 0, 0};
	long n = 0;
	int x, y;

	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > im->w - 1 ? im->w - 1 : x1;
	y1 = y1 > im->h - 1 ? im->h - 1 : y1;
	for (y = y0; y <= y1; y += step) {
		for (x = x0; x <= x1; x += step) {
			size_t p = (size_t)y * (size_t)im->w + (size_t)x;
			float c[3];

			if (mask != NULL && !mask[p])
				continue;
			colour_lin(im->rgba + p * 4, c);
			sum[0] += c[0];
			sum[1] += c[1];
			sum[2] += c[2];
			n++;
		}
	}
	if (n > 0) {
		out[0] = (float)(sum[0] / (double)n);
		out[1] = (float)(sum[1] / (double)n);
		out[2] = (float)(sum[2] / (double)n);
	}
	return n;
}

long
colour_near(const struct image *im, const unsigned char *mask, double px,
    double py, int r, float out[3])
{
	int x = (int)floor(px), y = (int)floor(py);

	return box_mean(im, mask, x - r, y - r, x + r, y + r, 1, out);
}

/*
 * The subject's dominant colour: the mean of the pixels in the commonest
 * coarse bin (4 levels per sRGB channel), not the mean of all, which
 * mixes a green bottle and its cream label into grey-green.
 */
void
colour_mean(const struct image *im, const unsigned char *mask, float out[3])
{
	int lng = im->w > im->h ? im->w : im->h;
	int step = lng / 256 > 1 ? lng / 256 : 1, x, y, c, best = 0;
	double sum[64][3];
	long cnt[64];

	memset(sum, 0, sizeof(sum));
	memset(cnt, 0, sizeof(cnt));
	out[0] = out[1] = out[2] = 0.5f;
	for (y = 0; y < im->h; y += step) {
		for (x = 0; x < im->w; x += step) {
			size_t p = (size_t)y * (size_t)im->w + (size_t)x;
			const unsigned char *q = im->rgba + p * 4;
			int b = (q[0] >> 6) << 4 | (q[1] >> 6) << 2 | q[2] >> 6;
			float l[3];

			if (mask != NULL && !mask[p])
				continue;
			colour_lin(q, l);
			for (c = 0; c < 3; c++)
				sum[b][c] += l[c];
			cnt[b]++;
		}
	}
	for (c = 1; c < 64; c++)
		best = cnt[c] > cnt[best] ? c : best;
	if (cnt[best] > 0)
		for (c = 0; c < 3; c++)
			out[c] = (float)(sum[best][c] / (double)cnt[best]);
}
