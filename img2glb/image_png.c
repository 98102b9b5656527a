/*
 * image_png.c: PNG -> RGBA8 with libpng, rows reduced as they arrive.
 *
 * Invariants:
 *  - libpng's errors are a longjmp back here, then one sentence with its
 *    message as the reason; warnings are ignored (ancillary trouble never
 *    rejects pixels that are fine);
 *  - the size is checked from IHDR (png_read_info) before any pixel
 *    buffer is allocated; metadata chunks (text, ICC, EXIF) are skipped
 *    unread and ancillary chunks may not allocate more than
 *    PNG_CHUNK_MAX, so a zTXt bomb costs nothing;
 *  - every depth and colour type becomes RGBA8 (palette and tRNS
 *    expanded, 16-bit cut to its high byte, grey copied to RGB, opaque alpha added);
 *  - when the image is larger than the model needs, each row is summed
 *    into a box of f x f source pixels as it is decoded (f from
 *    image_reduce): memory is one row of sums and the reduced image, not
 *    the file's size.  Interlaced files arrive as 7 sub-images (no
 *    png_set_interlace_handling), each pixel summed into its box.
 * Every object is local: reentrant.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "img2glb_int.h"

#define PNG_CHUNK_MAX (4L * 1024 * 1024)

struct src {
	const unsigned char *p;
	size_t n, off;
};

/* What the decode keeps; in memory (not registers) across the longjmp. */
struct pstate {
	png_structp png;
	png_infop info;
	struct src in;
	unsigned char *row; /* one decoded row, w*4 */
	uint32_t *acc; /* sums: ow*4 (one reduced row) or ow*oh*4 */
	int oom;
	char msg[200];
};

static void
p_read(png_structp png, png_bytep out, size_t len)
{
	struct src *s = png_get_io_ptr(png);

	if (len > s->n - s->off)
		png_error(png, "the data ends early");
	memcpy(out, s->p + s->off, len);
	s->off += len;
}

static void
p_error(png_structp png, png_const_charp msg)
{
	struct pstate *st = png_get_error_ptr(png);

	snprintf(st->msg, sizeof(st->msg), "%s", msg);
	st->oom = strstr(msg, "memory") != NULL;
	png_longjmp(png, 1);
}

static void
p_warn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* Write the averages of the box sums of reduced row oy. */
static void
flush_row(
    const uint32_t *acc, unsigned char *out, int ow, int w, int f, int rows)
{
	int ox, c;

	for (ox = 0; ox < ow; ox++) {
		int cols = w - ox * f < f ? w - ox * f : f;
		uint32_t cnt = (uint32_t)cols * (uint32_t)rows;

		for (c = 0; c < 4; c++)
			out[ox * 4 + c] =
			    (unsigned char)((acc[ox * 4 + c] + cnt / 2) / cnt);
	}
}

static void
add_row(
    uint32_t *acc, const unsigned char *row, int x0, int dx, int cols, int f)
{
	int i, c;

	for (i = 0; i < cols; i++) {
		uint32_t *a = acc + (size_t)((x0 + i * dx) / f) * 4;

		for (c = 0; c < 4; c++)
			a[c] += row[i * 4 + c];
	}
}

static int
run(struct pstate *st, int target, struct image *im, char *err, size_t errlen)
{
	png_uint_32 w, h;
	int depth, ctype, ilace, f, ow, oh, y, pass;

	if (setjmp(png_jmpbuf(st->png)) != 0) {
		if (st->oom)
			image_oom(im->src_w, im->src_h, err, errlen);
		else
			image_corrupt(st->msg, err, errlen);
		return -1;
	}
	png_set_read_fn(st->png, &st->in, p_read);
	png_set_chunk_malloc_max(st->png, PNG_CHUNK_MAX);
	png_set_keep_unknown_chunks(st->png, PNG_HANDLE_CHUNK_NEVER,
	    (png_const_bytep) "iCCP\0zTXt\0iTXt\0tEXt\0eXIf\0sPLT\0tIME\0", 7);
	png_read_info(st->png, st->info);
	png_get_IHDR(
	    st->png, st->info, &w, &h, &depth, &ctype, &ilace, NULL, NULL);
	im->src_w = (int)(w > INT32_MAX ? INT32_MAX : w);
	im->src_h = (int)(h > INT32_MAX ? INT32_MAX : h);
	if (image_check_dims((long)w, (long)h, err, errlen) == -1)
		return -1;
	png_set_expand(st->png);
	png_set_strip_16(st->png);
	png_set_gray_to_rgb(st->png);
	png_set_add_alpha(st->png, 0xff, PNG_FILLER_AFTER);
	png_read_update_info(st->png, st->info);
	if (png_get_rowbytes(st->png, st->info) != (size_t)w * 4) {
		image_corrupt("unsupported pixel format", err, errlen);
		return -1;
	}
	f = image_reduce((int)w, (int)h, target);
	ow = (int)((w + (unsigned)f - 1) / (unsigned)f);
	oh = (int)((h + (unsigned)f - 1) / (unsigned)f);
	im->rgba = malloc((size_t)ow * (size_t)oh * 4);
	st->row = malloc((size_t)w * 4);
	if (f > 1)
		st->acc = calloc((size_t)ow * (ilace ? (size_t)oh : 1) * 4,
		    sizeof(*st->acc));
	if (im->rgba == NULL || st->row == NULL || (f > 1 && st->acc == NULL)) {
		image_oom(im->src_w, im->src_h, err, errlen);
		return -1;
	}
	im->w = ow;
	im->h = oh;
	if (ilace == PNG_INTERLACE_NONE) {
		for (y = 0; y < (int)h; y++) {
			if (f == 1) {
				png_read_row(st->png,
				    im->rgba + (size_t)y * w * 4, NULL);
				continue;
			}
			png_read_row(st->png, st->row, NULL);
			add_row(st->acc, st->row, 0, 1, (int)w, f);
			if ((y + 1) % f == 0 || y == (int)h - 1) {
				flush_row(st->acc,
				    im->rgba + (size_t)(y / f) * ow * 4, ow,
				    (int)w, f, y % f + 1);
				memset(st->acc, 0,
				    (size_t)ow * 4 * sizeof(*st->acc));
			}
		}
	} else {
		for (pass = 0; pass < 7; pass++) {
			int rows = (int)PNG_PASS_ROWS(h, pass);
			int cols = (int)PNG_PASS_COLS(w, pass);
			int x0 = (int)PNG_PASS_START_COL(pass);
			int dx = 1 << PNG_PASS_COL_SHIFT(pass);

			if (rows == 0 || cols == 0)
				continue;
			for (y = 0; y < rows; y++) {
				int sy = (int)PNG_ROW_FROM_PASS_ROW(y, pass);
				int i;

				png_read_row(st->png, st->row, NULL);
				if (f > 1) {
					add_row(
					    st->acc + (size_t)(sy / f) * ow * 4,
					    st->row, x0, dx, cols, f);
					continue;
				}
				for (i = 0; i < cols; i++)
					memcpy(im->rgba +
					        ((size_t)sy * w + (size_t)x0 +
					            (size_t)i * dx) *
					            4,
					    st->row + (size_t)i * 4, 4);
			}
		}
		for (y = 0; f > 1 && y < oh; y++) {
			int rows = (int)h - y * f < f ? (int)h - y * f : f;

			flush_row(st->acc + (size_t)y * ow * 4,
			    im->rgba + (size_t)y * ow * 4, ow, (int)w, f, rows);
		}
	}
	png_read_end(st->png, NULL);
	return 0;
}

int
image_png(const unsigned char *p, size_t n, int target, struct image *im,
    char *err, size_t errlen)
{
	struct pstate st;
	int rc = -1;

	/* The size straight from IHDR (the first chunk) before libpng
	 * allocates anything or reads further. */
	if (n >= 33 && memcmp(p + 12, "IHDR", 4) == 0) {
		im->src_w = (int)(i2g_rd32(p + 16, 0) & 0x7fffffff);
		im->src_h = (int)(i2g_rd32(p + 20, 0) & 0x7fffffff);
		if (image_check_dims((long)i2g_rd32(p + 16, 0),
		        (long)i2g_rd32(p + 20, 0), err, errlen) == -1)
			return -1;
	}
	memset(&st, 0, sizeof(st));
	st.in.p = p;
	st.in.n = n;
	st.png =
	    png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, p_error, p_warn);
	if (st.png != NULL)
		st.info = png_create_info_struct(st.png);
	if (st.png == NULL || st.info == NULL)
		image_oom(0, 0, err, errlen);
	else
		rc = run(&st, target, im, err, errlen);
	png_destroy_read_struct(&st.png, &st.info, NULL);
	free(st.row);
	free(st.acc);
	return rc;
}
