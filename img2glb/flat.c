/*
 * flat.c: is the masked subject a flat graphic (logo, icon, sign) rather
 * than a photo?  mode=auto extrudes the first and inflates the second.
 *
 * A flat graphic is a few flat fills meeting at hard edges.  Its file is
 * often a JPEG, whose ringing and blocking break any test of exact
 * equality near the edges, so the test looks only at "interior" samples:
 * pixels whose ring of neighbours RING px away are all in the mask and
 * within NEAR of them (that skips the edges and their ringing, and a
 * photo's texture).  Inside the fills, a JPEG is flat to a few levels
 * (a block inside one fill codes little but its mean), so the interior
 * samples fall into a few tight colour clusters.  A photo fails on one
 * of three counts: few interior samples (texture, noise), many clusters
 * (shading and gradients drift out of any tolerance), or clusters that
 * are loose (samples spread over the whole tolerance, not near its
 * centre).
 *
 * Pure function of its inputs (no statics): deterministic, thread-safe.
 * Every STEP-th pixel each way is enough and keeps it a few ms at 1024 px.
 */
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

#define STEP 3 /* sample every STEP-th pixel in x and y */
#define RING 3 /* the neighbours looked at, this many px away */
#define NEAR \
	24 /* a ring neighbour within this (per channel) is the same fill */
#define TOL 20 /* a sample within this of a cluster's first one joins it */
#define NCLUST 16 /* clusters tracked; later new colours are misses */
#define TOP 8 /* a graphic's colours: its TOP clusters hold ... */
#define SHARE 0.9 /* ... this share of the interior samples */
#define INTERIOR 0.4 /* interior samples: at least this share */
/* (SHARE alone does not tell: the chair's TOP clusters hold 0.94.) */
/* RMS deviation from the cluster means, at most: JPEG logos at q50-q90
 * measure 1.4-2.7, a gradient-shaded disc 5.2, the sample photos 7.8. */
#define SPREAD 4.0

struct clusters {
	unsigned char c[NCLUST][3]; /* first sample of each */
	long cnt[NCLUST];
	double sum[NCLUST][3], sq[NCLUST][3]; /* of the samples' channels */
	int n;
	long miss;
};

static int
cdist(const unsigned char *a, const unsigned char *b)
{
	int d0 = abs(a[0] - b[0]), d1 = abs(a[1] - b[1]), d2 = abs(a[2] - b[2]);
	int d = d0 > d1 ? d0 : d1;

	return d > d2 ? d : d2;
}

/* 1 when every ring neighbour of (x, y) is in the image, in the mask
 * and within NEAR of it. */
static int
interior(const struct image *im, const unsigned char *mask, int x, int y)
{
	static const int ring[8][2] = {{-RING, -RING}, {0, -RING},
	    {RING, -RING}, {-RING, 0}, {RING, 0}, {-RING, RING}, {0, RING},
	    {RING, RING}};
	const unsigned char *c =
	    im->rgba + ((size_t)y * (size_t)im->w + (size_t)x) * 4;
	int k;

	if (x < RING || y < RING || x >= im->w - RING || y >= im->h - RING)
		return 0;
	for (k = 0; k < 8; k++) {
		size_t q = (size_t)(y + ring[k][1]) * (size_t)im->w +
		    (size_t)(x + ring[k][0]);

		if (!mask[q] || cdist(c, im->rgba + q * 4) > NEAR)
			return 0;
	}
	return 1;
}

/* Put one interior sample into its cluster (the first within TOL). */
static void
cluster_add(struct clusters *cl, const unsigned char *c)
{
	int k, i;

	for (k = 0; k < cl->n && cdist(cl->c[k], c) > TOL; k++)
		;
	if (k == NCLUST) {
		cl->miss++;
		return;
	}
	if (k == cl->n)
		memcpy(cl->c[cl->n++], c, 3);
	cl->cnt[k]++;
	for (i = 0; i < 3; i++) {
		cl->sum[k][i] += c[i];
		cl->sq[k][i] += (double)c[i] * c[i];
	}
}

/* Mean squared deviation of the clustered samples from their cluster's
 * mean, over the channels. */
static double
spread(const struct clusters *cl)
{
	double v = 0;
	long n = 0;
	int k, i;

	for (k = 0; k < cl->n; k++) {
		for (i = 0; i < 3; i++)
			v += cl->sq[k][i] -
			    cl->sum[k][i] * cl->sum[k][i] / (double)cl->cnt[k];
		n += cl->cnt[k];
	}
	return n > 0 ? v / (3.0 * (double)n) : 0;
}

static int
cmp_long_desc(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int
flat_graphic(const struct image *im, const unsigned char *mask)
{
	struct clusters cl;
	long n = 0, nin = 0, top = 0;
	double var;
	int x, y, k;

	memset(&cl, 0, sizeof(cl));
	for (y = 0; y < im->h; y += STEP) {
		for (x = 0; x < im->w; x += STEP) {
			size_t p = (size_t)y * (size_t)im->w + (size_t)x;

			if (!mask[p])
				continue;
			n++;
			if (!interior(im, mask, x, y))
				continue;
			nin++;
			cluster_add(&cl, im->rgba + p * 4);
		}
	}
	if (n == 0 || nin == 0)
		return 0;
	var = spread(&cl); /* before the sort below mixes up the counts */
	qsort(cl.cnt, (size_t)cl.n, sizeof(long), cmp_long_desc);
	for (k = 0; k < TOP && k < cl.n; k++)
		top += cl.cnt[k];
	return nin >= INTERIOR * (double)n && top >= SHARE * (double)nin &&
	    var <= SPREAD * SPREAD;
}
