/*
 * sniff.c: image type from magic bytes (sniff.h).
 *
 * Signatures: JPEG FF D8 FF (SOI plus the next marker's FF); PNG its
 * 8-byte signature; WebP a RIFF container whose form type is "WEBP".
 * Only the signature is checked: whether the rest decodes is image.c's
 * business.  No state, so safe in any thread.
 */
#include <string.h>

#include "sniff.h"

const char *
i2g_sniff(const void *buf, size_t len, const char **ctype)
{
	static const unsigned char png_sig[8] = {
	    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	const unsigned char *p = buf;
	const char *ext = NULL, *ct = NULL;

	if (p != NULL && len >= 3 && p[0] == 0xff && p[1] == 0xd8 &&
	    p[2] == 0xff) {
		ext = "jpg";
		ct = "image/jpeg";
	} else if (p != NULL && len >= 8 && memcmp(p, png_sig, 8) == 0) {
		ext = "png";
		ct = "image/png";
	} else if (p != NULL && len >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0) {
		ext = "webp";
		ct = "image/webp";
	}
	if (ctype != NULL)
		*ctype = ct;
	return ext;
}
