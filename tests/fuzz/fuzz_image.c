/*
 * fuzz_image.c: image bytes -> RGBA (img2glb/image.c and the three
 * decoders), at full size and reduced to a long side of 64 pixels, so
 * both the direct and the box-summing PNG paths run.  Any crash,
 * sanitizer report or leak is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "img2glb_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im;
	char err[512];
	size_t i, sum = 0;

	if (image_decode(data, size, 64, &im, err, sizeof(err)) == 0) {
		/* Touch every pixel: a short buffer shows up in ASan. */
		for (i = 0; i < (size_t)im.w * (size_t)im.h * 4; i++)
			sum += im.rgba[i];
		image_free(&im);
		if (sum == (size_t)-1)
			abort(); /* never: keeps the pixel reads */
	}
	if (image_decode(data, size, 0, &im, err, sizeof(err)) == 0)
		image_free(&im);
	return 0;
}
