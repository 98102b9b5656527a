/*
 * encode.c: the texture's bytes, written from RGBA8 pixels alone with
 * libjpeg-turbo (JPEG, baseline, JFIF header only) and libpng (RGBA8,
 * IHDR + IDAT + IEND only).
 *
 * Invariants: nothing of the uploaded file but its pixels reaches the
 * GLB (no EXIF, GPS, ICC, text or time chunks); the output depends only
 * on the pixels (deterministic, no timestamps); the libraries' errors
 * are a longjmp back here and a -1, never an exit.  Reentrant.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "img2glb_int.h"

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
};

static void
j_error_exit(j_common_ptr c)
{
	longjmp(((struct jerr *)c->err)->jb, 1);
}

static void
j_silent(j_common_ptr c, int level)
{
	(void)c;
	(void)level;
}

/* After setjmp only *c and the out pointers are touched: memory. */
static int
jpeg_run(struct jpeg_compress_struct *c, struct jerr *je,
    const unsigned char *rgba, int w, int h, int quality, unsigned char **out,
    unsigned long *len)
{
	if (setjmp(je->jb) != 0)
		return -1;
	jpeg_create_compress(c);
	jpeg_mem_dest(c, out, len);
	c->image_width = (JDIMENSION)w;
	c->image_height = (JDIMENSION)h;
	c->input_components = 4;
	c->in_color_space = JCS_EXT_RGBA;
	jpeg_set_defaults(c);
	jpeg_set_quality(c, quality, TRUE);
	jpeg_start_compress(c, TRUE);
	while (c->next_scanline < c->image_height) {
		JSAMPROW row =
		    (JSAMPROW)(rgba + (size_t)c->next_scanline * (size_t)w * 4);

		jpeg_write_scanlines(c, &row, 1);
	}
	jpeg_finish_compress(c);
	return 0;
}

int
encode_jpeg(const unsigned char *rgba, int w, int h, int quality,
    unsigned char **out, size_t *len)
{
	struct jpeg_compress_struct c;
	struct jerr je;
	unsigned char *buf = NULL;
	unsigned long n = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&je, 0, sizeof(je));
	c.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = j_error_exit;
	je.pub.emit_message = j_silent;
	rc = jpeg_run(&c, &je, rgba, w, h, quality, &buf, &n);
	jpeg_destroy_compress(&c);
	if (rc == -1 || n == 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Growable output for libpng's write callback. */
struct wbuf {
	unsigned char *p;
	size_t n, cap;
};

static void
p_write(png_structp png, png_bytep data, size_t size)
{
	struct wbuf *b = png_get_io_ptr(png);

	if (size > b->cap - b->n) {
		size_t ncap = b->cap ? b->cap : 65536;
		unsigned char *np;

		while (ncap - b->n < size)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (np == NULL)
			png_error(png, "out of memory");
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->n, data, size);
	b->n += size;
}

static void
p_flush(png_structp png)
{
	(void)png;
}

static void
p_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void
p_warn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static int
png_run(png_structp png, png_infop info, struct wbuf *b,
    const unsigned char *rgba, int w, int h)
{
	int y;

	if (setjmp(png_jmpbuf(png)) != 0)
		return -1;
	png_set_write_fn(png, b, p_write, p_flush);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
	    PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	/* Speed over the last bytes: zlib level 1 and one filter (Sub) instead
	 * of level 6 trying all five per row took a 1024 px texture from
	 * ~110 ms to a fraction of that, for a slightly larger file
	 * (BENCHMARKS.md); the GLB is re-compressed by no one, but its size
	 * limit is far away. */
	png_set_compression_level(png, 1);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
	png_write_info(png, info);
	for (y = 0; y < h; y++)
		png_write_row(png, rgba + (size_t)y * (size_t)w * 4);
	png_write_end(png, NULL);
	return 0;
}

int
encode_png(
    const unsigned char *rgba, int w, int h, unsigned char **out, size_t *len)
{
	struct wbuf b = {NULL, 0, 0};
	png_structp png;
	png_infop info = NULL;
	int rc = -1;

	png = png_create_write_struct(
	    PNG_LIBPNG_VER_STRING, NULL, p_error, p_warn);
	if (png != NULL)
		info = png_create_info_struct(png);
	if (png != NULL && info != NULL)
		rc = png_run(png, info, &b, rgba, w, h);
	png_destroy_write_struct(&png, &info);
	if (rc == -1 || b.n == 0) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.n;
	return 0;
}
