/*
 * test_thumb.c: the upload's thumbnail (img2glb/thumb.c, i2g_thumbnail):
 * a JPEG whose long side is the side asked for and whose aspect is the
 * image's, a small image never enlarged, transparency laid on white, the
 * same bytes every time, and one sentence for a corrupt image or a side
 * out of range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb.h"
#include "img2glb_int.h"
#include "tap.h"

/* A w x h PNG of a gradient; alpha a everywhere.  Caller frees. */
static unsigned char *
png_of(int w, int h, unsigned char a, size_t *len)
{
	unsigned char *px = malloc((size_t)w * (size_t)h * 4), *out = NULL;
	int i;

	if (px == NULL)
		return NULL;
	for (i = 0; i < w * h; i++) {
		px[4 * i] = (unsigned char)(i % w);
		px[4 * i + 1] = (unsigned char)(i / w);
		px[4 * i + 2] = 40;
		px[4 * i + 3] = a;
	}
	if (encode_png(px, w, h, &out, len) == -1)
		out = NULL;
	free(px);
	return out;
}

/* Decode a thumbnail back; 0 with *im filled, or -1. */
static int
back(const unsigned char *jpg, size_t len, struct image *im)
{
	char err[256];

	return image_decode(jpg, len, 0, im, err, sizeof(err));
}

static void
test_sizes(void)
{
	static const struct {
		int w, h, side, ww, wh;
	} c[] = {
	    {600, 300, 256, 256, 128},
	    {300, 600, 256, 128, 256},
	    {503, 503, 256, 256, 256},
	    {32, 20, 256, 32, 20},
	    {1000, 10, 64, 64, 1},
	};
	size_t k;

	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		size_t plen = 0, jlen = 0;
		unsigned char *png = png_of(c[k].w, c[k].h, 255, &plen), *jpg;
		struct image im;
		char err[256] = "";
		int rc = i2g_thumbnail(
		    png, plen, c[k].side, &jpg, &jlen, err, sizeof(err));

		TAP_OK(rc == 0 && jlen > 3 && jpg[0] == 0xff && jpg[1] == 0xd8,
		    "%dx%d at %d: a JPEG (%s)", c[k].w, c[k].h, c[k].side, err);
		memset(&im, 0, sizeof(im));
		if (rc == 0 && back(jpg, jlen, &im) == -1)
			rc = -1;
		TAP_OK(rc == 0 && im.w == c[k].ww && im.h == c[k].wh,
		    "%dx%d at %d: %dx%d (got %dx%d)", c[k].w, c[k].h, c[k].side,
		    c[k].ww, c[k].wh, im.w, im.h);
		image_free(&im);
		if (rc == 0)
			free(jpg);
		free(png);
	}
}

static void
test_alpha_and_determinism(void)
{
	size_t plen = 0, l1 = 0, l2 = 0;
	unsigned char *png = png_of(400, 200, 0, &plen), *j1 = NULL, *j2 = NULL;
	struct image im;
	char err[256];
	int ok1 = i2g_thumbnail(png, plen, 256, &j1, &l1, err, sizeof(err)),
	    ok2 = i2g_thumbnail(png, plen, 256, &j2, &l2, err, sizeof(err));

	memset(&im, 0, sizeof(im));
	TAP_OK(ok1 == 0 && back(j1, l1, &im) == 0 && im.rgba[0] > 245 &&
	        im.rgba[1] > 245 && im.rgba[2] > 245,
	    "a transparent image is white");
	image_free(&im);
	TAP_OK(ok1 == 0 && ok2 == 0 && l1 == l2 && memcmp(j1, j2, l1) == 0,
	    "the same image gives the same bytes");
	TAP_OK(ok1 == 0 && memmem(j1, l1, "Exif", 4) == NULL,
	    "no EXIF block in the thumbnail");
	free(j1);
	free(j2);
	free(png);
}

static void
test_refusals(void)
{
	size_t plen = 0, jlen = 0;
	unsigned char *png = png_of(64, 64, 255, &plen), *jpg = NULL;
	char err[256] = "";

	TAP_OK(i2g_thumbnail(
	           png, plen / 2, 256, &jpg, &jlen, err, sizeof(err)) == -1 &&
	        jpg == NULL && err[0] != '\0' && err[strlen(err) - 1] == '.',
	    "a truncated image: -1 with a sentence (%s)", err);
	err[0] = '\0';
	TAP_OK(
	    i2g_thumbnail(png, plen, 4, &jpg, &jlen, err, sizeof(err)) == -1 &&
	        strstr(err, "out of range") != NULL,
	    "a side out of range: -1 (%s)", err);
	err[0] = '\0';
	TAP_OK(i2g_thumbnail("not an image", 12, 256, &jpg, &jlen, err,
	           sizeof(err)) == -1 &&
	        err[0] != '\0',
	    "bytes that are no image: -1 (%s)", err);
	free(png);
}

int
main(void)
{
	test_sizes();
	test_alpha_and_determinism();
	test_refusals();
	return tap_done();
}
