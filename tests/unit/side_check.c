/*
 * side_check.c: the rest of issue 15, part of test_img2glb: a flat
 * graphic that arrives as a JPEG (ringing and blocking around its hard
 * edges) is still extruded by mode=auto while the sample photos keep
 * their mode; relief's back is the mirrored front darkened, or plain
 * with plain walls; an inflated solid's steep flanks are plain, in a
 * colour from inside the silhouette, not the photo's edge stretched.
 * Inputs are made in memory (or are the sample photos, skipped when
 * absent); every GLB goes through convert() (glb_check.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "glb_check.h"
#include "tap.h"

/* The mode auto picks for b, "" when the conversion failed. */
static void
auto_mode(const char *name, const struct buf *b, char mode[16])
{
	struct i2g_info in;
	struct glb gl;
	unsigned char *g;
	size_t n;

	mode[0] = '\0';
	g = convert(name, b, NULL, &in, &gl, &n);
	if (g == NULL)
		return;
	snprintf(mode, 16, "%s", in.mode);
	json_decref(gl.js);
	free(g);
}

/* A three-colour icon on a light background: a rounded square, a ring
 * in it and a bar, all hard edges (what a logo exported as JPEG is). */
static unsigned char *
icon(int w, int h, const unsigned char bg[3])
{
	unsigned char *p = solid(w, h, bg[0], bg[1], bg[2], 255);
	int x, y;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			unsigned char *q = p + ((size_t)y * w + x) * 4;
			double dx = x + 0.5 - w / 2.0, dy = y + 0.5 - h / 2.0;
			double ax = fabs(dx) - h * 0.3, ay = fabs(dy) - h * 0.3;
			double r = sqrt(dx * dx + dy * dy);
			double out = hypot(fmax(ax, 0), fmax(ay, 0));

			if (out > h * 0.1)
				continue;
			q[0] = 20, q[1] = 60, q[2] = 160; /* blue square */
			if (r > h * 0.18 && r < h * 0.3)
				q[0] = 250, q[1] = 200, q[2] = 30; /* yellow */
			if (fabs(dy) < h * 0.04 && fabs(dx) < h * 0.25)
				q[0] = 200, q[1] = 30, q[2] = 40; /* red bar */
		}
	}
	return p;
}

static void
test_flat_jpeg(void)
{
	static const unsigned char bgs[2][3] = {
	    {255, 255, 255}, {230, 232, 235}};
	static const int qs[2] = {75, 50},
	                 sizes[2][2] = {{320, 240}, {900, 600}};
	struct buf chair = sample("chair.png"), sneak = sample("sneaker.jpg");
	char name[64], mode[16];
	int b, q, z;

	for (b = 0; b < 2; b++) {
		for (z = 0; z < 2; z++) {
			unsigned char *px =
			    icon(sizes[z][0], sizes[z][1], bgs[b]);

			for (q = 0; q < 2; q++) {
				struct buf j = make_jpg_q(
				    px, sizes[z][0], sizes[z][1], qs[q]);

				snprintf(name, sizeof(name),
				    "flat_jpeg_q%d_%d_%d", qs[q], sizes[z][0],
				    b);
				auto_mode(name, &j, mode);
				TAP_OK(strcmp(mode, "extrude") == 0,
				    "flat: a %dx%d icon as JPEG q%d on %s is extruded (%s)",
				    sizes[z][0], sizes[z][1], qs[q],
				    b ? "grey" : "white", mode);
				free(j.p);
			}
			free(px);
		}
	}
	if (chair.p == NULL || sneak.p == NULL) {
		TAP_OK(1, "# SKIP flat: sample photos not found");
	} else {
		auto_mode("flat_chair", &chair, mode);
		TAP_OK(strcmp(mode, "inflate") == 0,
		    "flat: chair.png is still inflated (%s)", mode);
		auto_mode("flat_sneaker", &sneak, mode);
		TAP_OK(strcmp(mode, "inflate") == 0,
		    "flat: sneaker.jpg is still inflated (%s)", mode);
	}
	free(chair.p);
	free(sneak.p);
}

void
test_sides(void)
{
	test_flat_jpeg();
}
