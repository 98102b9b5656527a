/*
 * image_webp.c: WebP -> RGBA8 with libwebp's advanced API, scaled while
 * decoding when the image is larger than the model needs.
 *
 * Invariants: the RIFF size and the features (size, animation) are read
 * before anything is allocated and the size is checked; the output
 * buffer is ours (external memory) and sized from the checked numbers;
 * libwebp's rescaler works row by row (options.use_scaling), so a
 * 1.6 KB lossless bomb that says 40 MP costs the texture's size, not
 * 160 MB.  libwebp is reentrant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>

#include "img2glb_int.h"

int
image_webp(const unsigned char *p, size_t n, int target, struct image *im,
    char *err, size_t errlen)
{
	WebPDecoderConfig cfg;
	VP8StatusCode st;
	size_t sz;
	int w, h, lng;

	if (!WebPInitDecoderConfig(&cfg)) {
		image_corrupt("libwebp version mismatch", err, errlen);
		return -1;
	}
	/* The RIFF size says how long the file should be. */
	if (n < 12 || (size_t)i2g_rd32(p + 4, 1) > n - 8) {
		image_corrupt("the RIFF container ends early", err, errlen);
		return -1;
	}
	if (WebPGetFeatures(p, n, &cfg.input) != VP8_STATUS_OK) {
		image_corrupt("unreadable WebP header", err, errlen);
		return -1;
	}
	if (cfg.input.has_animation) {
		snprintf(err, errlen,
		    "Animated WebP images are not supported; upload a still image.");
		return -1;
	}
	w = cfg.input.width;
	h = cfg.input.height;
	im->src_w = w;
	im->src_h = h;
	if (image_check_dims(w, h, err, errlen) == -1)
		return -1;
	lng = w > h ? w : h;
	if (target > 0 && lng > target) {
		/* Exactly the target on the long side: the rescaler takes
		 * any size. */
		cfg.options.use_scaling = 1;
		cfg.options.scaled_width =
		    (int)((double)w * target / lng + 0.5);
		cfg.options.scaled_height =
		    (int)((double)h * target / lng + 0.5);
		if (cfg.options.scaled_width < 1)
			cfg.options.scaled_width = 1;
		if (cfg.options.scaled_height < 1)
			cfg.options.scaled_height = 1;
		w = cfg.options.scaled_width;
		h = cfg.options.scaled_height;
	}
	sz = (size_t)w * (size_t)h * 4;
	im->rgba = malloc(sz);
	if (im->rgba == NULL) {
		image_oom(im->src_w, im->src_h, err, errlen);
		return -1;
	}
	cfg.output.colorspace = MODE_RGBA;
	cfg.output.is_external_memory = 1;
	cfg.output.u.RGBA.rgba = im->rgba;
	cfg.output.u.RGBA.stride = w * 4;
	cfg.output.u.RGBA.size = sz;
	st = WebPDecode(p, n, &cfg);
	WebPFreeDecBuffer(&cfg.output);
	if (st == VP8_STATUS_OUT_OF_MEMORY) {
		image_oom(im->src_w, im->src_h, err, errlen);
		return -1;
	}
	if (st != VP8_STATUS_OK) {
		image_corrupt(st == VP8_STATUS_NOT_ENOUGH_DATA
		        ? "the WebP data ends early"
		        : "invalid WebP bitstream",
		    err, errlen);
		return -1;
	}
	im->w = w;
	im->h = h;
	return 0;
}
