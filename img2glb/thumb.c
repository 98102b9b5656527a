/*
 * thumb.c: the small picture of an upload (img2glb.h, i2g_thumbnail):
 * the upright image (EXIF orientation applied), decoded reduced to about
 * the size it needs, resized (sRGB-correct) so its long side is at most
 * the side asked for, transparency laid on white, encoded as a baseline
 * JPEG from the pixels alone.
 *
 * Invariants: the output depends only on the pixels (deterministic, no
 * metadata of the upload: no EXIF, GPS or ICC); an image smaller than
 * side is never enlarged; every failure frees what it allocated and
 * leaves one sentence in err.  No global state: thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_resize.h>

#include "img2glb.h"
#include "img2glb_int.h"

#define THUMB_QUALITY 82

/* Transparent pixels over white: a JPEG has no alpha, and the tiles'
 * background is light. */
static void
on_white(unsigned char *px, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, px += 4) {
		unsigned a = px[3];
		int c;

		for (c = 0; c < 3; c++)
			px[c] = (unsigned char)((px[c] * a + 255 * (255 - a) +
			                            127) /
			    255);
		px[3] = 255;
	}
}

int
i2g_thumbnail(const void *img, size_t len, int side, unsigned char **jpg,
    size_t *jpglen, char *err, size_t errlen)
{
	struct image im;
	unsigned char *small = NULL;
	unsigned char *px;
	int nw, nh, lng, rc = -1;

	memset(&im, 0, sizeof(im));
	*jpg = NULL;
	*jpglen = 0;
	if (side < I2G_THUMB_MIN || side > I2G_THUMB_MAX) {
		snprintf(err, errlen,
		    "The thumbnail side %d is out of range (%d to %d).", side,
		    I2G_THUMB_MIN, I2G_THUMB_MAX);
		return -1;
	}
	if (image_decode(img, len, side, &im, err, errlen) == -1)
		goto out;
	px = im.rgba;
	nw = im.w;
	nh = im.h;
	lng = nw > nh ? nw : nh;
	if (lng > side) {
		nw = (int)((double)im.w * side / lng + 0.5);
		nh = (int)((double)im.h * side / lng + 0.5);
		nw = nw < 1 ? 1 : nw;
		nh = nh < 1 ? 1 : nh;
		small = malloc((size_t)nw * (size_t)nh * 4);
		if (small == NULL ||
		    !stbir_resize_uint8_srgb(
		        im.rgba, im.w, im.h, 0, small, nw, nh, 0, 4, 3, 0)) {
			image_oom(nw, nh, err, errlen);
			goto out;
		}
		px = small;
	}
	if (im.has_alpha)
		on_white(px, (size_t)nw * (size_t)nh);
	if (encode_jpeg(px, nw, nh, THUMB_QUALITY, jpg, jpglen) == -1) {
		snprintf(err, errlen,
		    "The thumbnail could not be encoded (out of memory).");
		goto out;
	}
	rc = 0;
out:
	free(small);
	image_free(&im);
	return rc;
}
