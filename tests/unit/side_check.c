/*
 * side_check.c: the rest of issue 15, part of test_img2glb: a flat
 * graphic that arrives as a JPEG (ringing and blocking around its hard
 * edges) is still extruded by mode=auto while the sample photos keep
 * their mode; relief's back is the mirrored front darkened, or plain
 * with plain walls; an inflated solid's steep flanks are plain, in a
 * colour from inside the silhouette, not the photo's edge stretched,
 * and smooth along the contour where the photo is striped (a side view
 * showed laces and carved wood as bands).
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

#define BACK_SHADE 0.75 /* what the model promises for a mirrored back */
#define STEEP 0.5 /* |nz| of a face the model calls a flank (img2glb) */

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

/* Face normal z of triangle t of primitive prim (unit length). */
static double
face_nz(const struct glb *gl, const float *pos, int prim, long t)
{
	const float *a = pos + glb_index(gl, prim, t, 0) * 3;
	const float *b = pos + glb_index(gl, prim, t, 1) * 3;
	const float *c = pos + glb_index(gl, prim, t, 2) * 3;
	double u[3], v[3], n[3];
	int k;

	for (k = 0; k < 3; k++) {
		u[k] = b[k] - a[k];
		v[k] = c[k] - a[k];
	}
	n[0] = u[1] * v[2] - u[2] * v[1];
	n[1] = u[2] * v[0] - u[0] * v[2];
	n[2] = u[0] * v[1] - u[1] * v[0];
	return n[2] /
	    fmax(1e-30, sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]));
}

/* Colour of vertex v is within tol of want (linear RGB). */
static int
colour_is(const float *col, uint32_t v, const double want[3], double tol)
{
	return fabs(col[v * 3] - want[0]) < tol &&
	    fabs(col[v * 3 + 1] - want[1]) < tol &&
	    fabs(col[v * 3 + 2] - want[2]) < tol;
}

/* A grey keyed photo with a dark-to-light ramp: relief input. */
static struct buf
ramp_jpg(int w, int h)
{
	unsigned char *p = solid(w, h, 128, 128, 128, 255);
	struct buf b;
	int x, y;

	for (y = h / 4; y < h * 3 / 4; y++) {
		for (x = w / 4; x < w * 3 / 4; x++) {
			unsigned char *q = p + ((size_t)y * w + x) * 4;

			q[0] = q[1] = (unsigned char)(40 + x * 200 / w);
			q[2] = 90;
		}
	}
	b = make_jpg(p, w, h);
	free(p);
	return b;
}

/*
 * Relief: with back=mirror the back plate (faces pointing -Z at the
 * lowest z) is textured and darkened by BACK_SHADE; with back=plain it
 * and the walls are plain, so every textured face looks forward.
 */
static void
test_relief_back(void)
{
	static const char *backs[2] = {"mirror", "plain"};
	struct buf r = ramp_jpg(240, 160);
	int b;

	for (b = 0; b < 2; b++) {
		struct i2g_opts o = {"relief", 0, 0, 0, backs[b]};
		const double shade[3] = {BACK_SHADE, BACK_SHADE, BACK_SHADE};
		struct i2g_info in;
		struct glb gl;
		const float *pos, *col;
		const double grey[3] = {0.216, 0.216, 0.216}; /* sRGB 128 */
		long nv, t, nback = 0, dark = 0, tex_back = 0, tex_side = 0;
		long plain = 0;
		unsigned char *g;
		size_t n;
		char name[32];
		int p;

		snprintf(name, sizeof(name), "relief_back_%s", backs[b]);
		g = convert(name, &r, &o, &in, &gl, &n);
		if (g == NULL)
			continue;
		pos = glb_attr(&gl, 0, &nv);
		col = glb_attr(&gl, 4, &nv);
		for (p = 0; p < 2; p++) {
			for (t = 0; t < glb_prim_tris(&gl, p); t++) {
				double nz = face_nz(&gl, pos, p, t);
				uint32_t v = glb_index(&gl, p, t, 0);

				tex_side += p == 0 && fabs(nz) < STEEP;
				if (nz > -0.99)
					continue;
				nback++;
				tex_back += p == 0;
				dark += colour_is(col, v, shade, 1e-3);
				plain +=
				    p == 1 && colour_is(col, v, grey, 0.01);
			}
		}
		TAP_OK(watertight(&gl) && nback > 0 &&
		        (b == 0 ? tex_back == nback && dark == nback
		                : tex_back == 0 && plain == nback &&
		                    tex_side == 0),
		    "relief: back=%s: %ld back faces, %ld textured, %ld darkened x%.2f, %ld plain grey, %ld textured walls",
		    backs[b], nback, tex_back, dark, BACK_SHADE, plain,
		    tex_side);
		json_decref(gl.js);
		free(g);
	}
	free(r.p);
}

/* A disc of radius 0.4 w on a transparent grey, each pixel of it
 * coloured by paint (its distance from the centre, its row). */
static struct buf
disc(int w, int h, void (*paint)(unsigned char *q, double d, int y, int w))
{
	unsigned char *p = solid(w, h, 128, 128, 128, 0);
	struct buf b;
	int x, y;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			unsigned char *q = p + ((size_t)y * w + x) * 4;
			double d = hypot(x + 0.5 - w / 2.0, y + 0.5 - h / 2.0);

			if (d >= w * 0.4)
				continue;
			paint(q, d, y, w);
			q[3] = 255;
		}
	}
	b = make_png(p, w, h, 4);
	free(p);
	return b;
}

/* Outer 2 px bright green, the inside red: the green is what a
 * stretched edge would smear over the flanks. */
static void
rimmed(unsigned char *q, double d, int y, int w)
{
	(void)y;
	q[0] = d > w * 0.4 - 2 ? 40 : 200;
	q[1] = d > w * 0.4 - 2 ? 230 : 30;
	q[2] = 40;
}

/*
 * Inflate: no textured face is steep (|nz| < STEEP); the steep faces
 * are plain, their colour the inside's red (linear of 200, 30, 40), not
 * the rim's green, on the front and, darkened, on a mirrored back.
 */
static void
test_flanks(void)
{
	const double red[3] = {0.578, 0.0129, 0.0213};
	const double dark[3] = {
	    red[0] * BACK_SHADE, red[1] * BACK_SHADE, red[2] * BACK_SHADE};
	struct buf d = disc(400, 400, rimmed);
	struct i2g_opts o = {"inflate", 0, 0, 0, "mirror"};
	struct i2g_info in;
	struct glb gl;
	const float *pos, *col, *nrm;
	long nv, t, tex_steep = 0, steep = 0, good = 0;
	unsigned char *g;
	size_t n;
	int k;

	g = convert("flank_disc", &d, &o, &in, &gl, &n);
	if (g == NULL) {
		free(d.p);
		return;
	}
	pos = glb_attr(&gl, 0, &nv);
	nrm = glb_attr(&gl, 1, &nv);
	col = glb_attr(&gl, 4, &nv);
	for (t = 0; t < glb_prim_tris(&gl, 0); t++)
		tex_steep += fabs(face_nz(&gl, pos, 0, t)) < STEEP - 0.01;
	for (t = 0; t < glb_prim_tris(&gl, 1); t++) {
		double nz = face_nz(&gl, pos, 1, t);
		int ok = 1;

		if (fabs(nz) >= STEEP || fabs(nz) < 0.02)
			continue; /* the caps' flanks, not the walls */
		steep++;
		for (k = 0; k < 3; k++) {
			uint32_t v = glb_index(&gl, 1, t, k);

			ok &= colour_is(
			    col, v, nrm[v * 3 + 2] > 0 ? red : dark, 0.08);
		}
		good += ok;
	}
	TAP_OK(watertight(&gl) && tex_steep == 0 && steep > 0 && good == steep,
	    "flanks: %ld steep cap faces plain, %ld of them red inside colour (front) or darkened (back), %ld steep faces textured",
	    steep, good, tex_steep);
	json_decref(gl.js);
	free(g);
	free(d.p);
}

/* Horizontal stripes, 6 px red and 6 px white: neighbouring samples
 * near the edge land on different stripes. */
static void
striped(unsigned char *q, double d, int y, int w)
{
	int white = (y / 6) % 2;

	(void)d;
	(void)w;
	q[0] = white ? 235 : 200;
	q[1] = white ? 235 : 30;
	q[2] = white ? 235 : 40;
}

/*
 * Inflate of the striped disc: along every plain face (walls and
 * flanks, what a side view sees) the colour changes by little between a
 * face's corners, where the stripes differ by 0.8 (linear green): the
 * largest change and the mean over the faces.
 */
static void
test_no_bands(void)
{
	struct buf d = disc(400, 400, striped);
	struct i2g_opts o = {"inflate", 0, 0, 0, "mirror"};
	struct i2g_info in;
	struct glb gl;
	const float *col;
	long nv, t;
	double worst = 0, sum = 0, mean;
	unsigned char *g;
	size_t n;
	int a, c;

	g = convert("striped_disc", &d, &o, &in, &gl, &n);
	if (g == NULL) {
		free(d.p);
		return;
	}
	col = glb_attr(&gl, 4, &nv);
	for (t = 0; t < glb_prim_tris(&gl, 1); t++) {
		double m = 0;

		for (a = 0; a < 3; a++) {
			uint32_t u = glb_index(&gl, 1, t, a),
			         v = glb_index(&gl, 1, t, (a + 1) % 3);

			for (c = 0; c < 3; c++)
				m = fmax(
				    m, fabs(col[u * 3 + c] - col[v * 3 + c]));
		}
		worst = fmax(worst, m);
		sum += m;
	}
	t = glb_prim_tris(&gl, 1);
	mean = t > 0 ? sum / (double)t : 0;
	TAP_OK(t > 0 && worst < 0.3 && mean < 0.06,
	    "striped disc: plain faces' colours change by at most %.3f (mean %.4f over %ld faces) across a face, stripes differ by 0.8",
	    worst, mean, t);
	json_decref(gl.js);
	free(g);
	free(d.p);
}

void
test_sides(void)
{
	test_flat_jpeg();
	test_relief_back();
	test_flanks();
	test_no_bands();
}
