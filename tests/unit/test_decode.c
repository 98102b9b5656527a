/*
 * test_decode.c: the offline model's decoders (issue 10, findings 7, 14,
 * 16, 18): sizes refused from the header with "too large (W×H)", bombs
 * decoded at reduced scale inside a memory budget (a forked child under
 * RLIMIT_AS), "not enough memory" when the budget is too small, every
 * PNG layout (16-bit, interlaced, palette, grey) decoded to the right
 * pixels, the crashing 9-byte DHT JPEG refused cleanly, and no byte of a
 * JPEG's EXIF (GPS) block in the GLB.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "glb_check.h"
#include "img2glb.h"
#include "img2glb_int.h"
#include "tap.h"

/* Growable buffer for libpng's writer. */
static void
w_put(png_structp png, png_bytep d, size_t n)
{
	struct buf *b = png_get_io_ptr(png);
	unsigned char *np = realloc(b->p, b->n + n);

	if (np == NULL)
		png_error(png, "oom");
	memcpy(np + b->n, d, n);
	b->p = np;
	b->n += n;
}

static void
w_flush(png_structp png)
{
	(void)png;
}

/*
 * A w x h PNG of colour type ct and depth bits, interlaced or not, whose
 * pixel (x, y) has the RGBA value pat(x, y) (grey: the red channel;
 * palette: index (x + y) % 4 of a 4-colour palette).  Rows are made one
 * at a time, so a 40 MP bomb costs one row.
 */
static void
pat(int x, int y, unsigned char o[4])
{
	o[0] = (unsigned char)(x * 7 + y);
	o[1] = (unsigned char)(y * 3);
	o[2] = (unsigned char)(x ^ y);
	o[3] = (unsigned char)(255 - (x + y) % 64);
}

static const unsigned char pal[4][3] = {
    {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 99, 199}};

static struct buf
gen_png(int w, int h, int ct, int depth, int ilace, int flat)
{
	struct buf b = {NULL, 0};
	png_structp png =
	    png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	int ch = ct == PNG_COLOR_TYPE_RGBA    ? 4
	    : ct == PNG_COLOR_TYPE_RGB        ? 3
	    : ct == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
	                                      : 1;
	size_t bpc = depth == 16 ? 2 : 1;
	unsigned char *row = calloc((size_t)w * ch * bpc, 1);
	int passes, p, x, y;

	if (setjmp(png_jmpbuf(png)) != 0) {
		free(b.p);
		b.p = NULL;
		b.n = 0;
		goto out;
	}
	png_set_write_fn(png, &b, w_put, w_flush);
	png_set_compression_level(png, 9);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ct,
	    ilace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (ct == PNG_COLOR_TYPE_PALETTE)
		png_set_PLTE(png, info, (png_const_colorp)pal, 4);
	png_write_info(png, info);
	passes = png_set_interlace_handling(png);
	for (p = 0; p < passes; p++) {
		for (y = 0; y < h; y++) {
			for (x = 0; !flat && x < w; x++) {
				unsigned char o[4];
				int c;

				pat(x, y, o);
				for (c = 0; c < ch; c++) {
					unsigned v =
					    ct == PNG_COLOR_TYPE_PALETTE
					    ? (unsigned)(x + y) % 4
					    : o[ch == 2 && c == 1 ? 3 : c];
					size_t at = ((size_t)x * ch + c) * bpc;

					if (bpc == 2) {
						row[at] = (unsigned char)v;
						row[at + 1] = 0x5a;
					} else {
						row[at] = (unsigned char)v;
					}
				}
			}
			png_write_row(png, row);
		}
	}
	png_write_end(png, NULL);
out:
	png_destroy_write_struct(&png, &info);
	free(row);
	return b;
}

/* The RGBA pat() promises for pixel (x, y) of the layout. */
static void
want_px(int ct, int x, int y, unsigned char o[4])
{
	pat(x, y, o);
	if (ct == PNG_COLOR_TYPE_PALETTE) {
		memcpy(o, pal[(x + y) % 4], 3);
		o[3] = 255;
	} else if (ct == PNG_COLOR_TYPE_GRAY ||
	    ct == PNG_COLOR_TYPE_GRAY_ALPHA) {
		o[3] = ct == PNG_COLOR_TYPE_GRAY ? 255 : o[3];
		o[1] = o[2] = o[0];
	} else if (ct == PNG_COLOR_TYPE_RGB) {
		o[3] = 255;
	}
}

static void
test_layouts(void)
{
	static const struct {
		const char *name;
		int ct, depth, ilace;
	} L[] = {
	    {"rgba8", PNG_COLOR_TYPE_RGBA, 8, 0},
	    {"rgba16", PNG_COLOR_TYPE_RGBA, 16, 0},
	    {"rgb8_interlaced", PNG_COLOR_TYPE_RGB, 8, 1},
	    {"rgba16_interlaced", PNG_COLOR_TYPE_RGBA, 16, 1},
	    {"grey8", PNG_COLOR_TYPE_GRAY, 8, 0},
	    {"grey_alpha16_interlaced", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 1},
	    {"palette8", PNG_COLOR_TYPE_PALETTE, 8, 0},
	};
	size_t k;

	for (k = 0; k < sizeof(L) / sizeof(L[0]); k++) {
		struct buf b =
		    gen_png(37, 29, L[k].ct, L[k].depth, L[k].ilace, 0);
		struct image im;
		char err[256];
		int x, y, bad = 0;

		if (image_decode(b.p, b.n, 0, &im, err, sizeof(err)) != 0) {
			TAP_OK(0, "png %s: decodes (%s)", L[k].name, err);
			free(b.p);
			continue;
		}
		for (y = 0; y < im.h && !bad; y++)
			for (x = 0; x < im.w && !bad; x++) {
				unsigned char o[4];

				want_px(L[k].ct, x, y, o);
				bad =
				    memcmp(im.rgba + ((size_t)y * im.w + x) * 4,
				        o, 4) != 0;
			}
		TAP_OK(im.w == 37 && im.h == 29 && !bad,
		    "png %s: every pixel right (%dx%d)", L[k].name, im.w, im.h);
		image_free(&im);

		/* Reduced 2x while decoding: each pixel the box average. */
		if (image_decode(b.p, b.n, 16, &im, err, sizeof(err)) != 0) {
			TAP_OK(
			    0, "png %s reduced: decodes (%s)", L[k].name, err);
		} else {
			unsigned char a[4], c[4], d[4], e[4];
			int ok = im.w == 19 && im.h == 15 && im.src_w == 37;
			int ch;

			want_px(L[k].ct, 2, 2, a);
			want_px(L[k].ct, 3, 2, c);
			want_px(L[k].ct, 2, 3, d);
			want_px(L[k].ct, 3, 3, e);
			for (ch = 0; ok && ch < 4; ch++) {
				int avg =
				    (a[ch] + c[ch] + d[ch] + e[ch] + 2) / 4;

				ok = abs(im.rgba[(1 * im.w + 1) * 4 + ch] -
				         avg) <= 1;
			}
			TAP_OK(ok,
			    "png %s: reduced to %dx%d while decoding, box average",
			    L[k].name, im.w, im.h);
			image_free(&im);
		}
		free(b.p);
	}
}

/*
 * A w x h JPEG from libjpeg: colour (r, g, b) in RGB, or as Adobe CMYK
 * (stored inverted, as Photoshop does: 255 = no ink) when cmyk; baseline
 * or progressive.
 */
static struct buf
gen_jpg(int w, int h, int r, int g, int b, int cmyk, int prog)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *out = NULL, *row = malloc((size_t)w * 4);
	unsigned long n = 0;
	struct buf res;
	int x;

	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &n);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = cmyk ? 4 : 3;
	c.in_color_space = cmyk ? JCS_CMYK : JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 90, TRUE);
	if (prog)
		jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	for (x = 0; x < w; x++) {
		unsigned char *p = row + (size_t)x * (cmyk ? 4 : 3);

		if (cmyk) {
			/* CMY inverted = RGB, K inverted 255 = no black. */
			p[0] = (unsigned char)r;
			p[1] = (unsigned char)g;
			p[2] = (unsigned char)b;
			p[3] = 255;
		} else {
			p[0] = (unsigned char)r;
			p[1] = (unsigned char)g;
			p[2] = (unsigned char)b;
		}
	}
	while (c.next_scanline < c.image_height) {
		JSAMPROW rp = row;

		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	res.p = out;
	res.n = n;
	return res;
}

static int
near(const unsigned char *px, int r, int g, int b)
{
	return abs(px[0] - r) <= 6 && abs(px[1] - g) <= 6 &&
	    abs(px[2] - b) <= 6 && px[3] == 255;
}

static void
test_jpeg(void)
{
	struct buf big = gen_jpg(4000, 3000, 200, 40, 90, 0, 0);
	struct buf prog = gen_jpg(3000, 1000, 30, 160, 220, 0, 1);
	struct buf cmyk = gen_jpg(64, 48, 255, 0, 0, 1, 0);
	struct image im;
	char err[256];

	/* DCT scaling: ceil(8 * 2048 / 4000) = 5 eighths. */
	if (image_decode(big.p, big.n, 2048, &im, err, sizeof(err)) == 0) {
		TAP_OK(im.w == 2500 && im.h == 1875 && im.src_w == 4000 &&
		        im.src_h == 3000 && near(im.rgba, 200, 40, 90),
		    "jpeg 4000x3000: decoded at 5/8 (%dx%d), colour kept", im.w,
		    im.h);
		image_free(&im);
	} else {
		TAP_OK(0, "jpeg 4000x3000 decodes (%s)", err);
	}
	if (image_decode(prog.p, prog.n, 256, &im, err, sizeof(err)) == 0) {
		TAP_OK(im.w == 375 && im.h == 125 &&
		        near(im.rgba + (size_t)(im.w * 60 + 100) * 4, 30, 160,
		            220),
		    "jpeg progressive 3000x1000: decoded at 1/8 (%dx%d)", im.w,
		    im.h);
		image_free(&im);
	} else {
		TAP_OK(0, "jpeg progressive decodes (%s)", err);
	}
	if (image_decode(cmyk.p, cmyk.n, 0, &im, err, sizeof(err)) == 0) {
		TAP_OK(im.w == 64 && near(im.rgba, 255, 0, 0),
		    "jpeg Adobe CMYK: red stays red (%d,%d,%d)", im.rgba[0],
		    im.rgba[1], im.rgba[2]);
		image_free(&im);
	} else {
		TAP_OK(0, "jpeg CMYK decodes (%s)", err);
	}
	/* Cut inside the scan: refused, never grey-filled. */
	expect_fail(
	    "jpeg_cut_in_scan", big.p, big.n / 2, NULL, "truncated or corrupt");
	free(big.p);
	free(prog.p);
	free(cmyk.p);
}

/* ASan reserves its memory up front and aborts when an mmap fails: the
 * budget is only enforced in plain builds (and not under valgrind). */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Run fn in a child whose address space may grow by budget_mb more;
 * the child's exit status is what fn returns (0 good). */
static int
in_budget(int (*fn)(void *), void *arg, long budget_mb)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		FILE *f = fopen("/proc/self/statm", "r");
		unsigned long pages = 0;
		struct rlimit rl;

		if (f != NULL) {
			if (fscanf(f, "%lu", &pages) != 1)
				pages = 0;
			fclose(f);
		}
		rl.rlim_cur = rl.rlim_max =
		    pages * (unsigned long)getpagesize() +
		    (unsigned long)budget_mb * 1024 * 1024;
		if (!SANITIZED && getenv("VALGRIND") == NULL && pages > 0)
			setrlimit(RLIMIT_AS, &rl);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct conv {
	const struct buf *in;
	int target; /* -1: the whole model, else image_decode's target */
	const char *want; /* expected failure text, NULL: success */
};

static int
conv_child(void *arg)
{
	struct conv *c = arg;
	char err[256] = "";
	int rc;

	if (c->target < 0) {
		struct i2g_info info;
		unsigned char *g = NULL;
		size_t n;

		rc = i2g_convert(
		    c->in->p, c->in->n, NULL, &g, &n, &info, err, sizeof(err));
		if (rc == 0 && (info.width != 6400 || info.height != 6250))
			rc = -1;
		free(g);
	} else {
		struct image im;

		rc = image_decode(
		    c->in->p, c->in->n, c->target, &im, err, sizeof(err));
		image_free(&im);
	}
	if (c->want == NULL)
		return rc == 0 ? 0 : (printf("# %s\n", err), 1);
	return rc != 0 && strstr(err, c->want) != NULL
	    ? 0
	    : (printf("# got: %s\n", err), 1);
}

static void
test_bombs(void)
{
	struct buf png = gen_png(6400, 6250, PNG_COLOR_TYPE_RGBA, 16, 0, 1);
	struct buf il = gen_png(6400, 6250, PNG_COLOR_TYPE_RGB, 8, 1, 1);
	struct buf webp = sample("bomb-40mp.webp");
	struct conv c;
	int rc, skip;

	TAP_OK(png.n > 0 && png.n < 400 * 1024,
	    "bomb: 40 MP 16-bit RGBA PNG of %zu bytes", png.n);
	/* Decoding it whole is 160 MB of pixels (320 MB at 16 bits): the
	 * model needs 2048 on the long side, so it must fit 150 MB. */
	c.in = &png;
	c.target = -1;
	c.want = NULL;
	rc = in_budget(conv_child, &c, 150);
	TAP_OK(rc == 0, "bomb png: whole model within 150 MB (status %d)", rc);
	c.in = &il;
	rc = in_budget(conv_child, &c, 150);
	TAP_OK(rc == 0,
	    "bomb png interlaced: whole model within 150 MB (status %d)", rc);
	if (webp.p != NULL) {
		c.in = &webp;
		rc = in_budget(conv_child, &c, 150);
		TAP_OK(rc == 0,
		    "bomb webp (%zu bytes): whole model within 150 MB (status %d)",
		    webp.n, rc);
	} else {
		TAP_OK(0, "bomb-40mp.webp fixture found");
	}
	/* Finding 14: asked for every pixel with too little memory, the
	 * reason is memory, not "corrupt". */
	c.in = &png;
	c.target = 0;
	c.want = "not enough memory to decode";
	skip = getenv("VALGRIND") != NULL;
	if (SANITIZED)
		skip = 1;
	rc = skip ? 0 : in_budget(conv_child, &c, 64);
	TAP_OK(rc == 0,
	    "bomb png, full size in 64 MB: \"not enough memory\" (status %d)",
	    rc);
	free(png.p);
	free(il.p);
	free(webp.p);
}

static void
test_limits(void)
{
	/* IHDR 30000x30000 RGBA (CRC right), then IEND: header only. */
	static const unsigned char big[] =
	    "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x75\x30\0\0\x75\x30"
	    "\x08\x06\0\0\0\x66\x27\xf8\xba\0\0\0\0IEND\xae\x42\x60\x82";
	/* Finding 16: SOI, a DHT segment whose 16 counts run past its
	 * length (stb_image wrote past its table), EOI. */
	static const unsigned char dht[] =
	    "\xff\xd8\xff\xc4\x00\x03\x10\xff\xd9";
	/* A JPEG header claiming 9000x100 (SOF0 after SOI), then EOI. */
	static const unsigned char sof[] =
	    "\xff\xd8\xff\xc0\x00\x0b\x08\x00\x64\x23\x28\x01\x01\x11\x00"
	    "\xff\xd9";

	expect_fail("png_30000", big, sizeof(big) - 1, NULL,
	    "too large (30000\u00d730000");
	expect_fail("jpeg_dht_9_bytes", dht, sizeof(dht) - 1, NULL,
	    "truncated or corrupt");
	expect_fail("jpeg_9000_wide", sof, sizeof(sof) - 1, NULL,
	    "too large (9000\u00d7100");
}

/* 1 when needle occurs in hay. */
static int
contains(const unsigned char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Finding 18: a photo with EXIF (GPS) and no rotation. */
static void
test_exif_gps(void)
{
	unsigned char *px = disk(200, 160, 0), *g;
	struct buf j = make_jpg(px, 200, 160), ex;
	/* APP1 Exif, big-endian TIFF, IFD0 with one entry: GPS IFD pointer
	 * (0x8825) to an IFD with GPSLatitudeRef 'N'; then a marker text. */
	static const unsigned char app1[] =
	    "\xff\xe1\x00\x42"
	    "Exif\0\0"
	    "MM\0\x2a\0\0\0\x08"
	    "\0\x01\x88\x25\0\x04\0\0\0\x01\0\0\0\x1a\0\0\0\0"
	    "\0\x01\0\x01\0\x02\0\0\0\x02N\0\0\0\0\0\0\0"
	    "GPS-SECRET-52N";
	struct i2g_info in;
	struct glb gl;
	size_t n, il;
	const unsigned char *im;

	ex.n = j.n + sizeof(app1) - 1;
	ex.p = malloc(ex.n);
	memcpy(ex.p, j.p, 2);
	memcpy(ex.p + 2, app1, sizeof(app1) - 1);
	memcpy(ex.p + 2 + sizeof(app1) - 1, j.p + 2, j.n - 2);
	TAP_OK(contains(ex.p, ex.n, "GPS-SECRET-52N") &&
	        contains(ex.p, ex.n, "Exif"),
	    "exif_gps: the upload carries EXIF");
	g = convert("exif_gps", &ex, NULL, &in, &gl, &n);
	if (g != NULL) {
		im = glb_image(&gl, &il);
		TAP_OK(!contains(g, n, "GPS-SECRET-52N") &&
		        !contains(g, n, "Exif") && im != NULL && il > 0,
		    "exif_gps: the GLB holds no EXIF byte (texture re-encoded)");
		json_decref(gl.js);
	}
	free(g);
	free(ex.p);
	free(j.p);
	free(px);
}

int
main(void)
{
	test_limits();
	test_layouts();
	test_jpeg();
	test_exif_gps();
	test_bombs();
	return tap_done();
}
