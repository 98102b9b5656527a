/*
 * image_jpeg.c: JPEG -> RGBA8 with libjpeg-turbo, at a reduced scale when
 * the image is larger than the model needs.
 *
 * Invariants:
 *  - libjpeg's error_exit is turned into a longjmp back here and then
 *    into one sentence (its own message as the reason): it never exits;
 *  - "premature end of file" warnings fail the file (the decoder would
 *    fill the rest with grey); other warnings are ignored;
 *  - the header's size is checked before any pixel buffer exists, and the
 *    decoder's own memory is capped (max_memory_to_use: a progressive
 *    bomb fails with "not enough memory" instead of growing), as is the
 *    number of scans (a progressive file of thousands of tiny scans
 *    costs CPU time per scan);
 *  - DCT scaling (scale_num/8) decodes directly to a long side of at
 *    least target pixels, so memory follows the texture, not the file.
 * Every object is local: reentrant.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "img2glb_int.h"

#define JPEG_MEM_MAX (160L * 1024 * 1024) /* libjpeg's own buffers */
#define JPEG_MAX_SCANS 500

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	int oom;
	char msg[JMSG_LENGTH_MAX];
};

static void
j_error_exit(j_common_ptr c)
{
	struct jerr *e = (struct jerr *)c->err;

	e->oom = c->err->msg_code == JERR_OUT_OF_MEMORY ||
	    c->err->msg_code == JERR_NO_BACKING_STORE;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jb, 1);
}

static void
j_emit(j_common_ptr c, int level)
{
	if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF)
		j_error_exit(c);
}

static void
j_progress(j_common_ptr c)
{
	j_decompress_ptr d = (j_decompress_ptr)c;
	struct jerr *e = (struct jerr *)c->err;

	if (d->input_scan_number > JPEG_MAX_SCANS) {
		snprintf(e->msg, sizeof(e->msg), "more than %d scans",
		    JPEG_MAX_SCANS);
		e->oom = 0;
		longjmp(e->jb, 1);
	}
}

/* Adobe CMYK/YCCK JPEGs are stored inverted: R = C*K/255 and so on. */
static void
cmyk_to_rgba(unsigned char *row, JDIMENSION w)
{
	JDIMENSION x;

	for (x = 0; x < w; x++) {
		unsigned char *p = row + (size_t)x * 4;
		unsigned k = p[3];

		p[0] = (unsigned char)((p[0] * k + 127) / 255);
		p[1] = (unsigned char)((p[1] * k + 127) / 255);
		p[2] = (unsigned char)((p[2] * k + 127) / 255);
		p[3] = 255;
	}
}

/* The decode proper; everything it touches after setjmp lives in *d or
 * *im (memory, not registers), so the longjmp cannot clobber it. */
static int
run(struct jpeg_decompress_struct *d, struct jerr *je, const unsigned char *p,
    size_t n, int target, struct image *im, char *err, size_t errlen)
{
	struct jpeg_progress_mgr *pm =
	    (struct jpeg_progress_mgr *)d->client_data;

	if (setjmp(je->jb) != 0) {
		if (je->oom)
			image_oom(im->src_w, im->src_h, err, errlen);
		else
			image_corrupt(je->msg, err, errlen);
		return -1;
	}
	jpeg_create_decompress(d);
	d->mem->max_memory_to_use = JPEG_MEM_MAX;
	pm->progress_monitor = j_progress;
	d->progress = pm;
	jpeg_mem_src(d, p, (unsigned long)n);
	jpeg_read_header(d, TRUE);
	im->src_w = (int)d->image_width;
	im->src_h = (int)d->image_height;
	if (image_check_dims(d->image_width, d->image_height, err, errlen) ==
	    -1)
		return -1;
	if (d->jpeg_color_space == JCS_CMYK || d->jpeg_color_space == JCS_YCCK)
		d->out_color_space = JCS_CMYK;
	else
		d->out_color_space = JCS_EXT_RGBA;
	if (target > 0) {
		unsigned lng = d->image_width > d->image_height
		    ? d->image_width
		    : d->image_height;
		unsigned m = (8u * (unsigned)target + lng - 1) / lng;

		d->scale_num = m < 1 ? 1 : m > 8 ? 8 : m;
		d->scale_denom = 8;
	}
	jpeg_calc_output_dimensions(d);
	im->w = (int)d->output_width;
	im->h = (int)d->output_height;
	im->rgba = malloc((size_t)im->w * (size_t)im->h * 4);
	if (im->rgba == NULL) {
		image_oom(im->src_w, im->src_h, err, errlen);
		return -1;
	}
	jpeg_start_decompress(d);
	while (d->output_scanline < d->output_height) {
		JSAMPROW row =
		    im->rgba + (size_t)d->output_scanline * (size_t)im->w * 4;

		if (jpeg_read_scanlines(d, &row, 1) != 1) {
			image_corrupt("the scan data ends early", err, errlen);
			return -1;
		}
		if (d->out_color_space == JCS_CMYK)
			cmyk_to_rgba(row, d->output_width);
	}
	jpeg_finish_decompress(d);
	return 0;
}

int
image_jpeg(const unsigned char *p, size_t n, int target, struct image *im,
    char *err, size_t errlen)
{
	struct jpeg_decompress_struct d;
	struct jpeg_progress_mgr pm;
	struct jerr je;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(&pm, 0, sizeof(pm));
	memset(&je, 0, sizeof(je));
	d.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = j_error_exit;
	je.pub.emit_message = j_emit;
	d.client_data = &pm;
	rc = run(&d, &je, p, n, target, im, err, errlen);
	jpeg_destroy_decompress(&d);
	return rc;
}
