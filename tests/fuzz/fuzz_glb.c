/*
 * fuzz_glb.c: bytes -> GLB, the whole offline model (i2g_convert: decode,
 * mask, mode choice, mesh, texture re-encode, GLB container), small grid
 * and texture so an execution stays short.  The first byte picks the
 * mode and back, the rest is the image.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "img2glb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const modes[] = {
	    "auto", "inflate", "lathe", "extrude", "relief", "card"};
	struct i2g_opts o = {NULL, 32, 0, 64, NULL};
	struct i2g_info info;
	unsigned char *glb = NULL;
	size_t n = 0;
	char err[512];

	if (size < 1)
		return 0;
	o.mode = modes[data[0] % 6];
	o.back = data[0] & 0x80 ? "plain" : "mirror";
	if (i2g_convert(data + 1, size - 1, &o, &glb, &n, &info, err,
	        sizeof(err)) == 0 &&
	    (n < 12 || glb[0] != 'g'))
		abort(); /* a GLB starts with "glTF" */
	free(glb);
	return 0;
}
