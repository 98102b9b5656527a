/*
 * sniff.h: what kind of image a buffer holds, judged by its magic bytes
 * only (the name and the declared Content-Type are never trusted).
 *
 * The one sniffer of the project: the upload handler, `i2m submit`, the
 * FAL backend and the offline model all call it, so they agree on what
 * an image is.  It has no dependencies (sniff.c is its own archive,
 * libsniff.a), so a program that only needs to sniff bytes links no
 * image decoder.
 */
#ifndef SNIFF_H
#define SNIFF_H

#include <stddef.h>

/*
 * Returns "jpg", "png", "webp", or NULL when buf (len bytes, may be NULL;
 * 12 are enough) starts with none of their signatures; *ctype gets the matching
 * "image/jpeg", "image/png", "image/webp" or NULL (ctype may be NULL).
 */
const char *i2g_sniff(const void *buf, size_t len, const char **ctype);

#endif
