/*
 * test_img2glb.c: unit tests of the offline model (img2glb/img2glb.h).
 *
 * Every input is either a sample photo ($I2M_SAMPLES, else
 * tests/fixtures, else /work/shared/samples; skipped when absent) or
 * made in memory with stb_image_write / libwebp.  Every GLB produced is
 * checked structurally and, when $I2M_GLB_OUT is set, written there as
 * <name>.glb so tests/bats/offline_model.bats can run the Khronos
 * validator over all of them (glb_check.c).
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <webp/encode.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include "glb_check.h"
#include "img2glb.h"
#include "tap.h"

static void
sample_chair(const struct buf *chair)
{
	struct i2g_info in;
	struct glb gl;
	unsigned char *g, *g2;
	size_t n, n2;
	double lo[3], hi[3];

	g = convert("chair", chair, NULL, &in, &gl, &n);
	if (g == NULL)
		return;
	TAP_OK(strcmp(in.mode, "inflate") == 0 && in.width == 503 &&
	        in.height == 503,
	    "chair: keyed and inflated (%s %dx%d)", in.mode, in.width,
	    in.height);
	glb_bounds(&gl, lo, hi);
	/* Issue 15 changed "centred" to "stands on its base": y from 0. */
	TAP_OK(fabs(hi[1] - lo[1] - 1.0) < 1e-5 && fabs(lo[0] + hi[0]) < 1e-4 &&
	        lo[1] == 0 && fabs(lo[2] + hi[2]) < 1e-4 &&
	        hi[2] - lo[2] > 0.04,
	    "chair: ~1 m tall, on y = 0, centred in x and z, has depth (%.3f x %.3f x %.3f)",
	    hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]);
	TAP_OK(watertight(&gl), "chair: closed, consistently wound");
	TAP_OK(strcmp(glb_mime(&gl), "image/png") == 0,
	    "chair: original PNG passed through");
	TAP_OK(n <= 5u * 1024 * 1024, "chair: GLB %zu <= 5 MB", n);
	json_decref(gl.js);
	g2 = convert("chair_again", chair, NULL, &in, &gl, &n2);
	TAP_OK(g2 != NULL && n2 == n && memcmp(g, g2, n) == 0,
	    "chair: deterministic output");
	if (g2 != NULL)
		json_decref(gl.js);
	free(g2);
	free(g);
}

static void
sample_sneaker(const struct buf *sneak)
{
	struct i2g_info in;
	struct glb gl;
	unsigned char *g;
	size_t n;
	double lo[3], hi[3];

	g = convert("sneaker", sneak, NULL, &in, &gl, &n);
	if (g == NULL)
		return;
	glb_bounds(&gl, lo, hi);
	TAP_OK(in.width == 1349 && in.height == 900 &&
	        strcmp(in.mode, "inflate") == 0,
	    "sneaker: white background keyed (%s %dx%d)", in.mode, in.width,
	    in.height);
	TAP_OK(fabs(hi[0] - lo[0] - 1.0) < 1e-5 && hi[1] - lo[1] < 1.0,
	    "sneaker: long side 1 m (%.3f x %.3f)", hi[0] - lo[0],
	    hi[1] - lo[1]);
	TAP_OK(watertight(&gl), "sneaker: closed, consistently wound");
	TAP_OK(
	    strcmp(glb_mime(&gl), "image/jpeg") == 0, "sneaker: JPEG texture");
	json_decref(gl.js);
	free(g);
}

static void
sample_modes(const struct buf *sneak)
{
	static const char *modes[] = {"relief", "card"};
	struct i2g_info in;
	struct glb gl;
	unsigned char *g;
	size_t n;
	int k;

	for (k = 0; k < 2; k++) {
		struct i2g_opts o = {modes[k], 0, 0, 0, NULL};
		char name[64];

		snprintf(name, sizeof(name), "sneaker_%s", modes[k]);
		g = convert(name, sneak, &o, &in, &gl, &n);
		if (g != NULL) {
			TAP_OK(strcmp(in.mode, modes[k]) == 0, "%s: mode %s",
			    name, in.mode);
			TAP_OK(watertight(&gl), "%s: closed", name);
			json_decref(gl.js);
		}
		free(g);
	}
}

static void
sample_opts(const struct buf *chair)
{
	struct i2g_opts o = {"relief", 256, 0.01, 256, NULL};
	struct i2g_info in;
	struct glb gl;
	unsigned char *g;
	const unsigned char *im;
	size_t n, il;
	int w, h, c;

	g = convert("chair_opts", chair, &o, &in, &gl, &n);
	if (g == NULL)
		return;
	im = glb_image(&gl, &il);
	TAP_OK(stbi_info_from_memory(im, (int)il, &w, &h, &c) && w == 256 &&
	        h == 256 && strcmp(glb_mime(&gl), "image/jpeg") == 0,
	    "chair_opts: texture resized to 256 and re-encoded");
	TAP_OK(in.vertices > 65535, "chair_opts: %ld vertices (uint32 indices)",
	    in.vertices);
	TAP_OK(watertight(&gl), "chair_opts: closed");
	json_decref(gl.js);
	free(g);
}

static void
test_samples(void)
{
	struct buf chair = sample("chair.png"), sneak = sample("sneaker.jpg");

	if (chair.p == NULL || sneak.p == NULL) {
		TAP_OK(1, "# SKIP samples not found (set I2M_SAMPLES)");
		free(chair.p);
		free(sneak.p);
		return;
	}
	sample_chair(&chair);
	sample_sneaker(&sneak);
	sample_modes(&sneak);
	sample_opts(&chair);
	/* Truncated and corrupt inputs. */
	expect_fail("sneaker_truncated", sneak.p, sneak.n * 6 / 10, NULL,
	    "truncated or corrupt");
	expect_fail("sneaker_cut_at_end", sneak.p, sneak.n - 2, NULL,
	    "truncated or corrupt");
	expect_fail("chair_truncated", chair.p, chair.n / 2, NULL,
	    "truncated or corrupt");
	expect_fail("chair_no_iend", chair.p, chair.n - 12, NULL,
	    "truncated or corrupt");
	free(chair.p);
	free(sneak.p);
}

static void
test_alpha_and_webp(void)
{
	unsigned char *px = disk(160, 120, 1), *g, *wp = NULL;
	struct buf png = make_png(px, 160, 120, 4), web;
	struct i2g_opts card = {"card", 0, 0, 0, NULL};
	struct i2g_info in;
	struct glb gl;
	size_t n, wn;

	g = convert("alpha_png", &png, NULL, &in, &gl, &n);
	if (g != NULL) {
		/* Issue 15: a disc is mirror-symmetric, so auto turns it on
		 * the lathe (a ball) where it used to inflate it. */
		TAP_OK(strcmp(in.mode, "lathe") == 0,
		    "alpha_png: silhouette from alpha (%s)", in.mode);
		TAP_OK(watertight(&gl), "alpha_png: closed");
		json_decref(gl.js);
	}
	free(g);
	g = convert("alpha_png_card", &png, &card, &in, &gl, &n);
	if (g != NULL) {
		json_t *mat =
		    json_array_get(json_object_get(gl.js, "materials"), 0);

		TAP_OK(strcmp(in.mode, "card") == 0 && in.triangles == 12 &&
		        strcmp(json_string_value(
		                   json_object_get(mat, "alphaMode")),
		            "MASK") == 0 &&
		        strcmp(glb_mime(&gl), "image/png") == 0,
		    "alpha_png_card: MASK card (a slab of 12 triangles) with PNG");
		TAP_OK(watertight(&gl), "alpha_png_card: closed");
		json_decref(gl.js);
	}
	free(g);
	wn = WebPEncodeRGBA(px, 160, 120, 160 * 4, 80, &wp);
	web.p = wp;
	web.n = wn;
	TAP_OK(wn > 0, "webp: encoded %zu bytes", wn);
	g = convert("webp_lossy", &web, NULL, &in, &gl, &n);
	if (g != NULL) {
		TAP_OK(strcmp(in.mode, "lathe") == 0 && in.width == 160 &&
		        strcmp(glb_mime(&gl), "image/jpeg") == 0,
		    "webp_lossy: turned (issue 15), texture re-encoded as JPEG (%s)",
		    glb_mime(&gl));
		json_decref(gl.js);
	}
	free(g);
	g = convert("webp_card", &web, &card, &in, &gl, &n);
	if (g != NULL) {
		TAP_OK(strcmp(glb_mime(&gl), "image/png") == 0,
		    "webp_card: alpha texture re-encoded as PNG");
		json_decref(gl.js);
	}
	free(g);
	expect_fail("webp_truncated", wp, wn / 2, NULL, "truncated or corrupt");
	WebPFree(wp);
	wn = WebPEncodeLosslessRGBA(px, 160, 120, 160 * 4, &wp);
	web.p = wp;
	web.n = wn;
	g = convert("webp_lossless", &web, NULL, &in, &gl, &n);
	if (g != NULL)
		json_decref(gl.js);
	free(g);
	WebPFree(wp);
	free(png.p);
	free(px);
}

/*
 * A JPEG whose EXIF says orientation 6 (rotate 90° clockwise to view):
 * stored 120x60 with a red left half and a blue right half, it must come
 * out 60x120 with red on top, in both the mesh and the texture.
 */
static void
test_exif(void)
{
	static const unsigned char app1[] = {
	    0xff, 0xe1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42,
	    0, 0, 0, 8, /* TIFF, IFD0 at 8 */
	    0, 1, /* one entry */
	    0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, /* Orientation=6 */
	    0, 0, 0, 0 /* no next IFD */
	};
	unsigned char *px = solid(120, 60, 0, 0, 220, 255), *g;
	struct buf jpg, ex;
	struct i2g_opts o = {"relief", 0, 0, 0, NULL};
	struct i2g_info in;
	struct glb gl;
	size_t n;
	int x, y;

	for (y = 0; y < 60; y++) {
		for (x = 0; x < 60; x++) {
			px[(y * 120 + x) * 4] = 220;
			px[(y * 120 + x) * 4 + 2] = 0;
		}
	}
	jpg = make_jpg(px, 120, 60);
	ex.n = jpg.n + sizeof(app1);
	ex.p = malloc(ex.n);
	memcpy(ex.p, jpg.p, 2);
	memcpy(ex.p + 2, app1, sizeof(app1));
	memcpy(ex.p + 2 + sizeof(app1), jpg.p + 2, jpg.n - 2);
	g = convert("exif6", &ex, &o, &in, &gl, &n);
	if (g != NULL) {
		double lo[3], hi[3];
		const unsigned char *im;
		unsigned char *dec;
		size_t il;
		int w, h, c;

		glb_bounds(&gl, lo, hi);
		TAP_OK(in.width == 60 && in.height == 120,
		    "exif6: upright size 60x120 (got %dx%d)", in.width,
		    in.height);
		TAP_OK(hi[1] - lo[1] > 1.5 * (hi[0] - lo[0]),
		    "exif6: mesh is tall (%.2f x %.2f)", hi[0] - lo[0],
		    hi[1] - lo[1]);
		im = glb_image(&gl, &il);
		dec = stbi_load_from_memory(im, (int)il, &w, &h, &c, 3);
		TAP_OK(dec != NULL && w == 60 && h == 120 &&
		        strcmp(glb_mime(&gl), "image/jpeg") == 0 &&
		        dec[(10 * 60 + 30) * 3] > 150 &&
		        dec[(10 * 60 + 30) * 3 + 2] < 80 &&
		        dec[(110 * 60 + 30) * 3 + 2] > 150 &&
		        dec[(110 * 60 + 30) * 3] < 80,
		    "exif6: texture re-encoded upright, red on top");
		stbi_image_free(dec);
		json_decref(gl.js);
	}
	free(g);
	free(ex.p);
	free(jpg.p);
	free(px);
}

static void
test_edge_cases(void)
{
	static const struct {
		const char *name;
		int w, h, jpg;
		unsigned r, g, b, a;
	} cases[] = {
	    {"tiny_1x1", 1, 1, 0, 10, 200, 30, 255},
	    {"tiny_3x2", 3, 2, 0, 90, 90, 200, 255},
	    {"transparent", 64, 64, 0, 0, 0, 0, 0},
	    {"flat_grey_png", 64, 64, 0, 128, 128, 128, 255},
	    {"flat_grey_jpg", 64, 48, 1, 128, 128, 128, 255},
	    {"thin_2000x10", 2000, 10, 0, 250, 20, 20, 255},
	};
	static const char *modes[] = {"auto", "inflate", "relief", "card"};
	size_t k;
	int m;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		unsigned char *px = solid(cases[k].w, cases[k].h, cases[k].r,
		    cases[k].g, cases[k].b, cases[k].a);
		struct buf b = cases[k].jpg
		    ? make_jpg(px, cases[k].w, cases[k].h)
		    : make_png(px, cases[k].w, cases[k].h, 4);

		for (m = 0; m < 4; m++) {
			struct i2g_opts o = {modes[m], 0, 0, 0, NULL};
			struct i2g_info in;
			struct glb gl;
			char name[64];
			unsigned char *g;
			size_t n;

			snprintf(name, sizeof(name), "%s_%s", cases[k].name,
			    modes[m]);
			g = convert(name, &b, &o, &in, &gl, &n);
			if (g != NULL)
				json_decref(gl.js);
			free(g);
		}
		free(b.p);
		free(px);
	}
}

static void
test_refusals(void)
{
	static const char text[] = "hello, this is a text file\n";
	/* PNG signature, IHDR 20000x100 (its CRC right: libpng checks
	 * it), IEND: header-only. */
	static const unsigned char big[] =
	    "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x4e\x20\0\0\0\x64"
	    "\x08\x02\0\0\0\xec\xef\x97\x30\0\0\0\0IEND\xae\x42\x60\x82";
	struct i2g_opts bad_mode = {"sculpt", 0, 0, 0, NULL};
	struct i2g_opts bad_res = {NULL, 1000, 0, 0, NULL};
	struct i2g_opts bad_th = {NULL, 0, 2.0, 0, NULL};
	unsigned char *px = solid(8, 8, 1, 2, 3, 255);
	struct buf b = make_png(px, 8, 8, 4);

	expect_fail("text_file", text, sizeof(text) - 1, NULL,
	    "not a JPEG, PNG or WebP");
	expect_fail("empty", "", 0, NULL, "empty");
	expect_fail(
	    "jpeg_magic_only", "\xff\xd8\xff", 3, NULL, "truncated or corrupt");
	expect_fail("huge_png", big, sizeof(big) - 1, NULL,
	    "too large (20000\u00d7100 pixels); the limit is 8192 pixels per side");
	expect_fail("bad_mode", b.p, b.n, &bad_mode, "mode");
	expect_fail("bad_resolution", b.p, b.n, &bad_res, "resolution");
	expect_fail("bad_thickness", b.p, b.n, &bad_th, "thickness");
	free(b.p);
	free(px);
}

/* Many threads converting at once must give the serial bytes. */
struct job {
	const struct buf *in;
	unsigned char *g;
	size_t n;
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	char err[256];

	if (i2g_convert(j->in->p, j->in->n, NULL, &j->g, &j->n, NULL, err,
	        sizeof(err)) != 0)
		j->g = NULL;
	return NULL;
}

static void
test_threads(void)
{
	unsigned char *px = disk(300, 200, 0), *ref = NULL;
	struct buf b = make_jpg(px, 300, 200);
	struct job jobs[4];
	pthread_t th[4];
	size_t refn = 0;
	char err[256];
	int k, same = 1;

	if (i2g_convert(b.p, b.n, NULL, &ref, &refn, NULL, err, sizeof(err)) !=
	    0)
		same = 0;
	for (k = 0; k < 4; k++) {
		jobs[k].in = &b;
		jobs[k].g = NULL;
		pthread_create(&th[k], NULL, worker, &jobs[k]);
	}
	for (k = 0; k < 4; k++) {
		pthread_join(th[k], NULL);
		same &= jobs[k].g != NULL && ref != NULL && jobs[k].n == refn &&
		    memcmp(jobs[k].g, ref, refn) == 0;
		free(jobs[k].g);
	}
	TAP_OK(same, "threads: 4 parallel conversions equal the serial one");
	free(ref);
	free(b.p);
	free(px);
}

int
main(void)
{
	test_samples();
	test_alpha_and_webp();
	test_exif();
	test_edge_cases();
	test_refusals();
	test_threads();
	test_shapes();
	test_sides();
	return tap_done();
}
