/*
 * shape_check.c: the offline model's shapes (issue 15), part of
 * test_img2glb: Poisson inflation (thin parts thin, wide parts fat),
 * closed solids standing on y = 0 in every mode, the back option, the
 * lathe chosen for mirror-symmetric silhouettes and only for them, and
 * extrude for flat graphics.  Inputs are synthetic silhouettes made in
 * memory; every GLB goes through convert() (glb_check.c), so it is also
 * validated by tests/bats/offline_model.bats.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "glb_check.h"
#include "tap.h"

/* Inside test of a silhouette at pixel (x, y) of a w x h image. */
typedef int (*shape_fn)(double x, double y, int w, int h);

/* An RGBA image: the shape in a photo-like gradient on transparent (or
 * on flat grey when keyed). */
static struct buf
shape_png(shape_fn in, int w, int h, int keyed)
{
	unsigned char *p = solid(w, h, 128, 128, 128, keyed ? 255 : 0);
	struct buf b;
	int x, y;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			unsigned char *q = p + ((size_t)y * w + x) * 4;

			if (!in(x + 0.5, y + 0.5, w, h))
				continue;
			q[0] = (unsigned char)(60 + (x * 7 + y * 3) % 160);
			q[1] = (unsigned char)(40 + (x * 5 + y * 11) % 180);
			q[2] = (unsigned char)(30 + y * 150 / h);
			q[3] = 255;
		}
	}
	b = make_png(p, w, h, 4);
	free(p);
	return b;
}

static int
wide_disc(double x, double y, int w, int h)
{
	double dx = x - w / 2.0, dy = y - h / 2.0;

	return dx * dx + dy * dy < 0.4 * w * 0.4 * w;
}

static int
thin_strip(double x, double y, int w, int h)
{
	return fabs(x - w / 2.0) < w * 0.03 && y > h * 0.1 && y < h * 0.9;
}

/* A vase: a round belly, a neck and a lip, symmetric about x = w/2. */
static double
vase_r(double y, int w, int h)
{
	double t = (y - h * 0.1) / (h * 0.8);

	if (t < 0 || t > 1)
		return -1;
	return w *
	    (0.12 + 0.14 * sin(M_PI * fmin(1, t * 1.4)) +
	        (t > 0.85 ? 0.05 : 0));
}

static int
vase(double x, double y, int w, int h)
{
	return fabs(x - w / 2.0) < vase_r(y, w, h);
}

/* The same vase with a handle on its right: no longer symmetric. */
static int
jug(double x, double y, int w, int h)
{
	double dx = x - w * 0.74, dy = y - h * 0.45;
	double d = sqrt(dx * dx + dy * dy);

	return vase(x, y, w, h) || (d > h * 0.1 && d < h * 0.15 && dx > 0);
}

/* A flat two-colour logo: a ring and a bar, hard edges. */
static int
logo(double x, double y, int w, int h)
{
	double dx = x - w / 2.0, dy = y - h / 2.0, d = sqrt(dx * dx + dy * dy);

	return (d > h * 0.25 && d < h * 0.4) ||
	    (fabs(dy) < h * 0.06 && fabs(dx) < w * 0.45);
}

static struct buf
logo_png(int w, int h, int keyed)
{
	unsigned char *p = solid(w, h, 255, 255, 255, keyed ? 255 : 0);
	struct buf b;
	int x, y;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			unsigned char *q = p + ((size_t)y * w + x) * 4;

			if (!logo(x + 0.5, y + 0.5, w, h))
				continue;
			q[0] = y < h / 2 ? 200 : 20;
			q[1] = y < h / 2 ? 30 : 60;
			q[2] = y < h / 2 ? 40 : 160;
			q[3] = 255;
		}
	}
	b = make_png(p, w, h, 4);
	free(p);
	return b;
}

/* Convert with mode and back; bounds, mode and closedness. */
struct shape {
	double lo[3], hi[3];
	char mode[16];
	int closed;
	long plain_tris; /* triangles of the plain primitive */
};

static int
shape_of(const char *name, const struct buf *b, const char *mode,
    const char *back, struct shape *s)
{
	struct i2g_opts o = {mode, 0, 0, 0, back};
	struct i2g_info in;
	struct glb gl;
	unsigned char *g;
	size_t n;

	memset(s, 0, sizeof(*s));
	g = convert(name, b, &o, &in, &gl, &n);
	if (g == NULL)
		return -1;
	glb_bounds(&gl, s->lo, s->hi);
	snprintf(s->mode, sizeof(s->mode), "%s", in.mode);
	s->closed = watertight(&gl);
	s->plain_tris = glb_prim_tris(&gl, 1);
	json_decref(gl.js);
	free(g);
	return 0;
}

/* Stands on y = 0, centred in x and z. */
static int
on_base(const struct shape *s)
{
	return s->lo[1] == 0 && fabs(s->lo[0] + s->hi[0]) < 1e-4 &&
	    fabs(s->lo[2] + s->hi[2]) < 1e-4;
}

static void
test_poisson(void)
{
	struct buf disc = shape_png(wide_disc, 400, 400, 0);
	struct buf strip = shape_png(thin_strip, 400, 400, 0);
	struct shape d, s;

	if (shape_of("poisson_disc", &disc, "inflate", NULL, &d) == 0 &&
	    shape_of("poisson_strip", &strip, "inflate", NULL, &s) == 0) {
		/* Same image size; the strip's model is scaled up more (its
		 * height is 0.8 of the image, the disc's too), so compare
		 * depth to width: a strip's section is round-ish, a disc's
		 * depth is a fat fraction of its width. */
		double dd = d.hi[2] - d.lo[2], sd = s.hi[2] - s.lo[2];

		TAP_OK(d.closed && s.closed && on_base(&d) && on_base(&s),
		    "poisson: disc and strip closed and on their base");
		TAP_OK(sd < dd / 4,
		    "poisson: a thin strip (depth %.3f) is much thinner than a wide disc (depth %.3f)",
		    sd, dd);
		TAP_OK(dd > 0.25 * (d.hi[0] - d.lo[0]),
		    "poisson: the disc is fat (depth %.3f of width %.3f)", dd,
		    d.hi[0] - d.lo[0]);
	}
	free(disc.p);
	free(strip.p);
}

static void
test_back(void)
{
	struct buf disc = shape_png(wide_disc, 200, 200, 1);
	struct shape mir, pl;

	if (shape_of("back_mirror", &disc, "inflate", "mirror", &mir) == 0 &&
	    shape_of("back_plain", &disc, "inflate", "plain", &pl) == 0) {
		TAP_OK(mir.closed && pl.closed,
		    "back: mirror and plain both closed");
		TAP_OK(mir.plain_tris > 0 && pl.plain_tris > 2 * mir.plain_tris,
		    "back: walls plain (%ld triangles), back=plain adds the back cap (%ld)",
		    mir.plain_tris, pl.plain_tris);
	}
	expect_fail("back_unknown", disc.p, disc.n,
	    &(struct i2g_opts){"inflate", 0, 0, 0, "glossy"},
	    "mirror or plain");
	free(disc.p);
}

static void
test_lathe(void)
{
	struct buf v = shape_png(vase, 300, 400, 0),
	           j = shape_png(jug, 300, 400, 1),
	           d = shape_png(wide_disc, 200, 200, 0);
	struct shape s;

	if (shape_of("lathe_vase", &v, NULL, NULL, &s) == 0) {
		double wd = s.hi[0] - s.lo[0], dp = s.hi[2] - s.lo[2];

		TAP_OK(strcmp(s.mode, "lathe") == 0,
		    "lathe: a symmetric vase is turned (%s)", s.mode);
		TAP_OK(s.closed && on_base(&s) && fabs(dp - wd) < 0.05 * wd,
		    "lathe: closed, on its base, as deep as wide (%.3f x %.3f)",
		    wd, dp);
	}
	if (shape_of("lathe_jug", &j, NULL, NULL, &s) == 0)
		TAP_OK(strcmp(s.mode, "inflate") == 0,
		    "lathe: a jug with a handle is not symmetric (%s)", s.mode);
	if (shape_of("lathe_forced", &j, "lathe", "plain", &s) == 0)
		TAP_OK(strcmp(s.mode, "lathe") == 0 && s.closed &&
		        on_base(&s) && s.plain_tris > 0,
		    "lathe: forced on the jug, plain back, closed");
	if (shape_of("lathe_ball", &d, NULL, NULL, &s) == 0) {
		double wd = s.hi[0] - s.lo[0], dp = s.hi[2] - s.lo[2];

		TAP_OK(strcmp(s.mode, "lathe") == 0 && s.closed &&
		        fabs(dp - wd) < 0.05 * wd && fabs(s.hi[1] - wd) < 0.05,
		    "lathe: a disc becomes a ball (%.3f x %.3f x %.3f)", wd,
		    s.hi[1], dp);
	}
	free(v.p);
	free(j.p);
	free(d.p);
}

static void
test_extrude(void)
{
	struct buf a = logo_png(320, 240, 0), k = logo_png(320, 240, 1);
	struct buf v = shape_png(vase, 300, 400, 0);
	struct shape s;

	if (shape_of("extrude_alpha", &a, NULL, NULL, &s) == 0)
		TAP_OK(strcmp(s.mode, "extrude") == 0 && s.closed &&
		        on_base(&s) && s.hi[2] - s.lo[2] < 0.06,
		    "extrude: a flat logo with alpha is extruded, closed, flat (%s, depth %.3f)",
		    s.mode, s.hi[2] - s.lo[2]);
	if (shape_of("extrude_keyed", &k, NULL, "plain", &s) == 0)
		TAP_OK(strcmp(s.mode, "extrude") == 0 && s.closed,
		    "extrude: a flat logo on white is extruded (%s)", s.mode);
	if (shape_of("extrude_vase", &v, NULL, NULL, &s) == 0)
		TAP_OK(strcmp(s.mode, "extrude") != 0,
		    "extrude: a shaded photo-like subject is not (%s)", s.mode);
	if (shape_of("extrude_forced", &v, "extrude", NULL, &s) == 0)
		TAP_OK(s.closed && on_base(&s) && s.plain_tris > 0,
		    "extrude: forced on the vase, closed, plain walls");
	free(a.p);
	free(k.p);
	free(v.p);
}

/* Every solid mode, both backs: closed and standing on its base. */
static void
test_closed(void)
{
	static const char *modes[] = {"inflate", "lathe", "extrude", "relief"};
	static const char *backs[] = {"mirror", "plain"};
	struct buf j = shape_png(jug, 240, 300, 1);
	struct shape s;
	int m, b, ok = 1;

	for (m = 0; m < 4; m++) {
		for (b = 0; b < 2; b++) {
			char name[64];

			snprintf(name, sizeof(name), "closed_%s_%s", modes[m],
			    backs[b]);
			if (shape_of(name, &j, modes[m], backs[b], &s) != 0 ||
			    !s.closed || !on_base(&s) ||
			    strcmp(s.mode, modes[m]) != 0) {
				TAP_OK(0, "%s: closed and on its base", name);
				ok = 0;
			}
		}
	}
	TAP_OK(ok, "every solid mode and back: closed, on y = 0, centred");
	free(j.p);
}

void
test_shapes(void)
{
	test_poisson();
	test_back();
	test_lathe();
	test_extrude();
	test_closed();
}
