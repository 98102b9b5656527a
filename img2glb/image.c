/*
 * image.c: decode untrusted image bytes (sniffed by sniff.c) into upright
 * RGBA8, at the scale the model needs.
 *
 * Invariants:
 *  - the container is walked before any pixel decode, so a truncated
 *    JPEG (no EOI after the last scan) or PNG (no IEND) is refused
 *    instead of being filled with grey;
 *  - the decoders are libjpeg-turbo (image_jpeg.c), libpng (image_png.c)
 *    and libwebp (image_webp.c), made for hostile input; each one reads
 *    the dimensions from the header and checks them (image_check_dims)
 *    before any pixel buffer is allocated, and decodes straight to a long
 *    side of about `target` pixels (the texture size) when the image is
 *    larger, so a 40-megapixel bomb costs a few megabytes;
 *  - every decoder error becomes a failed file with one sentence saying
 *    what happened: too large (W×H), not enough memory, truncated or
 *    corrupt (with the decoder's own reason);
 *  - a JPEG's EXIF orientation (IFD0 tag 0x0112) is applied to the pixels,
 *    because browsers apply it to an embedded JPEG while the decoders do
 *    not, and the texture would end up rotated against the geometry;
 *  - no global state: all three libraries keep their state in the
 *    decoder object, so this file is safe in many threads at once.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"
#include "sniff.h"

#define MSG_NOTIMG "The file is not a JPEG, PNG or WebP image."

unsigned
i2g_rd16(const unsigned char *p, int le)
{
	return le ? (unsigned)p[0] | (unsigned)p[1] << 8
	          : (unsigned)p[0] << 8 | (unsigned)p[1];
}

uint32_t
i2g_rd32(const unsigned char *p, int le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	        (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
	          : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	        (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Orientation from the body of an APP1 segment ("Exif\0\0" + TIFF), or 1
 * when absent or malformed: a broken EXIF block must not reject a photo
 * whose pixels are fine.
 */
static int
exif_orientation(const unsigned char *p, size_t n)
{
	const unsigned char *t;
	size_t tn, ifd, i, cnt;
	int le;

	if (n < 14 || memcmp(p, "Exif\0\0", 6) != 0)
		return 1;
	t = p + 6;
	tn = n - 6;
	if (memcmp(t, "II*\0", 4) == 0)
		le = 1;
	else if (memcmp(t, "MM\0*", 4) == 0)
		le = 0;
	else
		return 1;
	ifd = i2g_rd32(t + 4, le);
	if (ifd > tn - 2 || ifd < 8)
		return 1;
	cnt = i2g_rd16(t + ifd, le);
	for (i = 0; i < cnt; i++) {
		size_t e = ifd + 2 + i * 12;
		unsigned v;

		if (e + 12 > tn)
			break;
		if (i2g_rd16(t + e, le) != 0x0112)
			continue;
		if (i2g_rd16(t + e + 2, le) != 3) /* SHORT */
			return 1;
		v = i2g_rd16(t + e + 8, le);
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}

/*
 * Walk the JPEG marker segments and entropy-coded scans up to EOI.
 * Returns 0 when the stream is complete (trailing bytes after EOI are
 * allowed, cameras append data there), -1 when it ends early or is
 * malformed.  *orient gets the first EXIF orientation seen, *w x *h the
 * size of the first SOF segment (0 x 0 when none).
 */
static int
jpeg_walk(const unsigned char *p, size_t n, int *orient, long *w, long *h)
{
	size_t i = 2, seglen;
	int seen_exif = 0;

	*orient = 1;
	*w = *h = 0;
	for (;;) {
		unsigned m;

		if (i >= n || p[i] != 0xff)
			return -1;
		while (i < n && p[i] == 0xff)
			i++;
		if (i >= n)
			return -1;
		m = p[i++];
		if (m == 0xd9)
			return 0;
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
			continue; /* standalone markers */
		if (m == 0x00 || i + 2 > n)
			return -1;
		seglen = i2g_rd16(p + i, 0);
		if (seglen < 2 || seglen > n - i)
			return -1;
		if (m == 0xe1 && !seen_exif && seglen >= 8 &&
		    memcmp(p + i + 2, "Exif\0\0", 6) == 0) {
			*orient = exif_orientation(p + i + 2, seglen - 2);
			seen_exif = 1;
		}
		/* SOF0..15 but DHT, JPG and DAC: P, Y, X. */
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 &&
		    m != 0xcc && seglen >= 7 && *w == 0) {
			*h = (long)i2g_rd16(p + i + 3, 0);
			*w = (long)i2g_rd16(p + i + 5, 0);
		}
		i += seglen;
		if (m != 0xda)
			continue;
		/* Entropy-coded data runs to the next marker that is not a
		 * stuffed zero, a restart marker or a fill byte. */
		for (;;) {
			if (i + 1 >= n)
				return -1;
			if (p[i] == 0xff && p[i + 1] != 0x00 &&
			    p[i + 1] != 0xff &&
			    !(p[i + 1] >= 0xd0 && p[i + 1] <= 0xd7))
				break;
			i++;
		}
	}
}

/* Walk the PNG chunks up to IEND: 0 complete, -1 truncated/malformed. */
static int
png_walk(const unsigned char *p, size_t n)
{
	size_t i = 8;

	while (i + 12 <= n) {
		uint32_t clen = i2g_rd32(p + i, 0);

		if (clen > 0x7fffffffu || clen > n - i - 12)
			return -1;
		if (memcmp(p + i + 4, "IEND", 4) == 0)
			return 0;
		i += 12 + (size_t)clen;
	}
	return -1;
}

/*
 * Turn the pixels upright for EXIF orientation o (2..8).  For each
 * displayed pixel (x, y) of the W'xH' result, the source pixel is:
 *   2 (W-1-x, y)   3 (W-1-x, H-1-y)   4 (x, H-1-y)     5 (y, x)
 *   6 (y, H-1-x)   7 (W-1-y, H-1-x)   8 (W-1-y, x)
 */
static unsigned char *
orient_pixels(const unsigned char *src, int w, int h, int o, int *ow, int *oh)
{
	unsigned char *dst;
	int dw = o >= 5 ? h : w, dh = o >= 5 ? w : h, x, y;

	dst = malloc((size_t)w * (size_t)h * 4);
	if (dst == NULL)
		return NULL;
	for (y = 0; y < dh; y++) {
		for (x = 0; x < dw; x++) {
			int sx, sy;

			switch (o) {
			case 2:
				sx = w - 1 - x;
				sy = y;
				break;
			case 3:
				sx = w - 1 - x;
				sy = h - 1 - y;
				break;
			case 4:
				sx = x;
				sy = h - 1 - y;
				break;
			case 5:
				sx = y;
				sy = x;
				break;
			case 6:
				sx = y;
				sy = h - 1 - x;
				break;
			case 7:
				sx = w - 1 - y;
				sy = h - 1 - x;
				break;
			default:
				sx = w - 1 - y;
				sy = x;
				break;
			}
			memcpy(dst + ((size_t)y * (size_t)dw + (size_t)x) * 4,
			    src + ((size_t)sy * (size_t)w + (size_t)sx) * 4, 4);
		}
	}
	*ow = dw;
	*oh = dh;
	return dst;
}

int
image_check_dims(long w, long h, char *err, size_t errlen)
{
	if (w <= 0 || h <= 0) {
		snprintf(err, errlen, "%s", I2G_MSG_CORRUPT);
		return -1;
	}
	if (w > I2G_MAX_SIDE || h > I2G_MAX_SIDE) {
		snprintf(err, errlen,
		    "The image is too large (%ld\u00d7%ld pixels); the limit is %d pixels per side.",
		    w, h, I2G_MAX_SIDE);
		return -1;
	}
	if (w * h > I2G_MAX_PIXELS) {
		snprintf(err, errlen,
		    "The image is too large (%ld\u00d7%ld pixels, %.1f megapixels); the limit is %ld megapixels.",
		    w, h, (double)w * (double)h / 1e6,
		    I2G_MAX_PIXELS / 1000000);
		return -1;
	}
	return 0;
}

void
image_oom(long w, long h, char *err, size_t errlen)
{
	if (w <= 0 || h <= 0)
		snprintf(err, errlen,
		    "There is not enough memory to decode the image; try a smaller image.");
	else
		snprintf(err, errlen,
		    "There is not enough memory to decode the image (%ld\u00d7%ld pixels); try a smaller image.",
		    w, h);
}

void
image_corrupt(const char *why, char *err, size_t errlen)
{
	if (why == NULL || why[0] == '\0')
		snprintf(err, errlen, "%s", I2G_MSG_CORRUPT);
	else
		snprintf(err, errlen, "%.*s (%.160s).",
		    (int)strlen(I2G_MSG_CORRUPT) - 1, I2G_MSG_CORRUPT, why);
}

int
image_reduce(int w, int h, int target)
{
	int lng = w > h ? w : h;

	return target > 0 && lng > target ? lng / target : 1;
}

void
image_free(struct image *im)
{
	free(im->rgba);
	memset(im, 0, sizeof(*im));
}

int
image_decode(const void *buf, size_t len, int target, struct image *im,
    char *err, size_t errlen)
{
	size_t i, npx;
	long jw, jh;
	int orient = 1, rc;
	unsigned char *r;

	memset(im, 0, sizeof(*im));
	im->orient = 1;
	if (buf == NULL || len == 0) {
		snprintf(err, errlen,
		    "The file is empty; upload a JPEG, PNG or WebP image.");
		goto fail;
	}
	im->fmt = i2g_sniff(buf, len, NULL);
	if (im->fmt == NULL) {
		snprintf(err, errlen, "%s", MSG_NOTIMG);
		goto fail;
	}
	if (strcmp(im->fmt, "webp") == 0) {
		rc = image_webp(buf, len, target, im, err, errlen);
	} else if (strcmp(im->fmt, "jpg") == 0) {
		rc = jpeg_walk(buf, len, &orient, &jw, &jh);
		if (rc == -1)
			image_corrupt(
			    "the JPEG stream ends early", err, errlen);
		else if (jw > 0 && jh > 0 &&
		    image_check_dims(jw, jh, err, errlen) == -1)
			rc = -1;
		else
			rc = image_jpeg(buf, len, target, im, err, errlen);
	} else {
		rc = png_walk(buf, len);
		if (rc == -1)
			image_corrupt(
			    "the PNG ends before its IEND chunk", err, errlen);
		else
			rc = image_png(buf, len, target, im, err, errlen);
	}
	if (rc == -1)
		goto fail;
	if (orient != 1) {
		r = orient_pixels(
		    im->rgba, im->w, im->h, orient, &im->w, &im->h);
		if (r == NULL) {
			image_oom(im->src_w, im->src_h, err, errlen);
			goto fail;
		}
		free(im->rgba);
		im->rgba = r;
		im->orient = orient;
		if (orient >= 5) {
			int t = im->src_w;

			im->src_w = im->src_h;
			im->src_h = t;
		}
	}
	/* "Has alpha" means some pixel really is not opaque, not that the
	 * format could carry an alpha channel.  JPEG never has alpha. */
	im->has_alpha = 0;
	npx = (size_t)im->w * (size_t)im->h;
	for (i = 0; strcmp(im->fmt, "jpg") != 0 && i < npx; i++) {
		if (im->rgba[i * 4 + 3] != 255) {
			im->has_alpha = 1;
			break;
		}
	}
	return 0;
fail:
	image_free(im);
	return -1;
}
