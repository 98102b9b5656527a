/*
 * glb.c: the texture to embed and the binary glTF (GLB) container.
 *
 * Layout (glTF 2.0 §GLB File Format, little-endian): 12-byte header,
 * JSON chunk padded with spaces, BIN chunk padded with zeros.  The BIN
 * chunk holds positions (12 B/vertex), normals (12), UVs (8), indices
 * (uint16 when every index fits below the primitive-restart value 65535,
 * else uint32; padded to 4) and the image (padded to 4), so every
 * accessor is naturally aligned.  The image bufferView has no target and
 * no byteStride (the validator's BUFFER_VIEW_TARGET_OVERRIDE).
 *
 * Validator traps kept away: POSITION min/max come from the float32
 * values actually written, printed with %.9g (round-trips float32);
 * metallicFactor is 0 (the default 1 renders as metal); "scene":0 is
 * always written (model-viewer needs it); no empty arrays; the image
 * mimeType always matches its bytes (only PNG or JPEG, WebP input is
 * re-encoded).  The image is always re-encoded from the decoded pixels
 * (encode.c), never the uploaded bytes: the upload's EXIF (GPS
 * included), ICC or text chunks must not be downloadable with the model.
 * Output depends only on the inputs (no timestamps).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <stb/stb_image_resize.h>
#pragma GCC diagnostic pop

#include "img2glb_int.h"

/* A PNG upload above this becomes a JPEG texture to keep the GLB small. */
#define PASS_MAX (3u * 1024 * 1024)
/* A re-encoded PNG (alpha card) is capped here: PNG photos are large. */
#define PNG_MAX_SIDE 1024
#define JPEG_QUALITY 90

void
glb_texture_free(struct texture *t)
{
	free(t->data);
	memset(t, 0, sizeof(*t));
}

/*
 * Make the texture: the upright pixels, resized (sRGB-correct) to fit
 * max_texture, re-encoded from the pixels alone: PNG when the material
 * needs alpha (capped at PNG_MAX_SIDE) or when the upload was a PNG that
 * is small enough to stay lossless (as it was, minus its metadata), else
 * JPEG.  Returns 0, or -1 out of memory / encoder failure.
 */
int
glb_texture(const struct image *im, const void *orig, size_t origlen,
    int need_alpha, int max_texture, struct texture *t)
{
	unsigned char *small = NULL, *out = NULL;
	const unsigned char *px = im->rgba;
	int lim = max_texture, lng = im->w > im->h ? im->w : im->h;
	int nw = im->w, nh = im->h, png;
	size_t n = 0;

	(void)orig;
	memset(t, 0, sizeof(*t));
	png = need_alpha ||
	    (strcmp(im->fmt, "png") == 0 && origlen <= PASS_MAX &&
	        im->src_w <= max_texture && im->src_h <= max_texture);
	if (need_alpha && lim > PNG_MAX_SIDE)
		lim = PNG_MAX_SIDE;
	if (lng > lim) {
		nw = (int)((double)im->w * lim / lng + 0.5);
		nh = (int)((double)im->h * lim / lng + 0.5);
		nw = nw < 1 ? 1 : nw;
		nh = nh < 1 ? 1 : nh;
		small = malloc((size_t)nw * (size_t)nh * 4);
		if (small == NULL ||
		    !stbir_resize_uint8_srgb(
		        im->rgba, im->w, im->h, 0, small, nw, nh, 0, 4, 3, 0))
			goto fail;
		px = small;
	}
	if ((png ? encode_png(px, nw, nh, &out, &n)
	         : encode_jpeg(px, nw, nh, JPEG_QUALITY, &out, &n)) == -1)
		goto fail;
	free(small);
	t->data = out;
	t->bytes = out;
	t->len = n;
	t->mime = png ? "image/png" : "image/jpeg";
	t->w = nw;
	t->h = nh;
	return 0;
fail:
	free(small);
	return -1;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Where everything goes in the BIN chunk. */
struct layout {
	size_t nv, nt, ntex; /* vertices, triangles, textured triangles */
	int wide; /* uint32 indices */
	size_t isz, ilen; /* bytes per index, bytes of indices */
	size_t o_idx, o_img, binlen; /* offsets, BIN chunk length */
};

static void
plan(const struct mesh *m, const struct texture *t, struct layout *l)
{
	l->nv = (size_t)m->nv;
	l->nt = (size_t)m->nt;
	l->ntex = (size_t)m->nt_tex;
	l->wide = l->nv > 65535;
	l->isz = l->wide ? 4 : 2;
	l->ilen = l->nt * 3 * l->isz;
	l->o_idx = 44 * l->nv;
	l->o_img = l->o_idx + pad4(l->ilen);
	l->binlen = l->o_img + pad4(t->len);
}

/* Append to the JSON text; 0, or -1 when it would not fit. */
static int jcat(char *json, size_t len, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
jcat(char *json, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= len)
		return -1;
	va_start(ap, fmt);
	r = vsnprintf(json + *n, len - *n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= len - *n)
		return -1;
	*n += (size_t)r;
	return 0;
}

/*
 * Meshes and materials: primitive 0 the textured triangles (material 0,
 * the photo times COLOR_0), primitive 1, when there are plain triangles,
 * the rest (material 1, COLOR_0 alone: walls, a plain back).  Both share
 * the vertex accessors.
 */
static int
json_mesh(const struct mesh *m, const struct layout *l, char *json, size_t len,
    size_t *n)
{
	static const char prim[] =
	    "{\"attributes\":{\"POSITION\":0,\"NORMAL\":1,\"TEXCOORD_0\":2,"
	    "\"COLOR_0\":4},\"indices\":%d,\"material\":%d,\"mode\":4}";
	int plain = l->ntex < l->nt;

	return jcat(json, len, n, "\"meshes\":[{\"primitives\":[") ||
	        jcat(json, len, n, prim, 3, 0) ||
	        (plain && jcat(json, len, n, ",") == -1) ||
	        (plain && jcat(json, len, n, prim, 5, 1) == -1) ||
	        jcat(json, len, n,
	            "]}],\"materials\":[{\"pbrMetallicRoughness\":"
	            "{\"baseColorTexture\":{\"index\":0},"
	            "\"metallicFactor\":0,\"roughnessFactor\":0.9}%s%s}",
	            m->double_sided ? ",\"doubleSided\":true" : "",
	            m->alpha_mask
	                ? ",\"alphaMode\":\"MASK\",\"alphaCutoff\":0.5"
	                : "") ||
	        (plain &&
	            jcat(json, len, n,
	                ",{\"pbrMetallicRoughness\":{\"metallicFactor\":0,"
	                "\"roughnessFactor\":0.9}}") == -1) ||
	        jcat(json, len, n, "],")
	    ? -1
	    : 0;
}

/* Buffer views and accessors (the image is view 4, COLOR_0 view 5). */
static int
json_views(const struct mesh *m, const struct texture *t,
    const struct layout *l, char *json, size_t len, size_t *n)
{
	static const char view[] = "{\"buffer\":0,\"byteOffset\":%zu,"
	                           "\"byteLength\":%zu,\"target\":%d},";
	float lo[3], hi[3];
	size_t nv = l->nv;
	int it = l->wide ? 5125 : 5123;

	mesh_bounds(m, lo, hi);
	return jcat(json, len, n, "\"bufferViews\":[") ||
	        jcat(json, len, n, view, (size_t)0, 12 * nv, 34962) ||
	        jcat(json, len, n, view, 12 * nv, 12 * nv, 34962) ||
	        jcat(json, len, n, view, 24 * nv, 8 * nv, 34962) ||
	        jcat(json, len, n, view, l->o_idx, l->ilen, 34963) ||
	        jcat(json, len, n,
	            "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},",
	            l->o_img, t->len) ||
	        jcat(json, len, n,
	            "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu,"
	            "\"target\":34962}],\"accessors\":[",
	            32 * nv, 12 * nv) ||
	        jcat(json, len, n,
	            "{\"bufferView\":0,\"componentType\":5126,\"count\":%zu,"
	            "\"type\":\"VEC3\",\"min\":[%.9g,%.9g,%.9g],"
	            "\"max\":[%.9g,%.9g,%.9g]},",
	            nv, (double)lo[0], (double)lo[1], (double)lo[2],
	            (double)hi[0], (double)hi[1], (double)hi[2]) ||
	        jcat(json, len, n,
	            "{\"bufferView\":1,\"componentType\":5126,\"count\":%zu,"
	            "\"type\":\"VEC3\"},{\"bufferView\":2,\"componentType\":"
	            "5126,\"count\":%zu,\"type\":\"VEC2\"},",
	            nv, nv) ||
	        jcat(json, len, n,
	            "{\"bufferView\":3,\"componentType\":%d,\"count\":%zu,"
	            "\"type\":\"SCALAR\"},{\"bufferView\":5,\"componentType\":"
	            "5126,\"count\":%zu,\"type\":\"VEC3\"}",
	            it, l->ntex * 3, nv) ||
	        (l->ntex < l->nt &&
	            jcat(json, len, n,
	                ",{\"bufferView\":3,\"byteOffset\":%zu,"
	                "\"componentType\":%d,\"count\":%zu,"
	                "\"type\":\"SCALAR\"}",
	                l->ntex * 3 * l->isz, it,
	                (l->nt - l->ntex) * 3) == -1) ||
	        jcat(json, len, n, "]}")
	    ? -1
	    : 0;
}

/* The JSON chunk (unpadded) into json; its length, or -1 if too long. */
static int
glb_json(const struct mesh *m, const struct texture *t, const struct layout *l,
    char *json, size_t len)
{
	size_t n = 0;

	if (jcat(json, len, &n,
	        "{\"asset\":{\"version\":\"2.0\","
	        "\"generator\":\"image2model img2glb (offline)\"},"
	        "\"scene\":0,\"scenes\":[{\"nodes\":[0]}],"
	        "\"nodes\":[{\"mesh\":0}],") == -1 ||
	    json_mesh(m, l, json, len, &n) == -1 ||
	    jcat(json, len, &n,
	        "\"textures\":[{\"sampler\":0,\"source\":0}],"
	        "\"samplers\":[{\"magFilter\":9729,\"minFilter\":9987,"
	        "\"wrapS\":33071,\"wrapT\":33071}],"
	        "\"images\":[{\"bufferView\":4,\"mimeType\":\"%s\"}],"
	        "\"buffers\":[{\"byteLength\":%zu}],",
	        t->mime, l->binlen) == -1 ||
	    json_views(m, t, l, json, len, &n) == -1)
		return -1;
	return (int)n;
}

/* The BIN chunk's payload (bin is zeroed, l->binlen bytes). */
static void
glb_bin(const struct mesh *m, const struct texture *t, const struct layout *l,
    unsigned char *bin)
{
	size_t nv = l->nv, i;

	/* Host floats are written as is: little-endian hosts only, which is
	 * every machine this runs on (x86-64, arm64). */
	memcpy(bin, m->pos, 12 * nv);
	memcpy(bin + 12 * nv, m->nrm, 12 * nv);
	memcpy(bin + 24 * nv, m->uv, 8 * nv);
	memcpy(bin + 32 * nv, m->col, 12 * nv);
	for (i = 0; i < l->nt * 3; i++) {
		uint32_t v = m->idx[i];
		unsigned char *p = bin + l->o_idx + i * l->isz;

		if (l->wide) {
			put32(p, v);
		} else {
			p[0] = (unsigned char)v;
			p[1] = (unsigned char)(v >> 8);
		}
	}
	memcpy(bin + l->o_img, t->bytes, t->len);
}

/*
 * Serialise mesh + texture into one malloc'd GLB (*out, caller frees).
 * Returns 0, or -1 out of memory or a model too large for GLB's 32-bit
 * lengths.
 */
int
glb_write(const struct mesh *m, const struct texture *t, unsigned char **out,
    size_t *outlen)
{
	struct layout l;
	char json[4096];
	size_t jlen, jpad, total;
	unsigned char *g;
	int n;

	*out = NULL;
	*outlen = 0;
	if (m->nv == 0 || m->nt == 0)
		return -1;
	plan(m, t, &l);
	n = glb_json(m, t, &l, json, sizeof(json));
	if (n < 0)
		return -1;
	jlen = (size_t)n;
	jpad = pad4(jlen);
	total = 12 + 8 + jpad + 8 + l.binlen;
	if (total > 0xffffffffu)
		return -1;
	g = malloc(total);
	if (g == NULL)
		return -1;
	put32(g, 0x46546C67); /* "glTF" */
	put32(g + 4, 2);
	put32(g + 8, (uint32_t)total);
	put32(g + 12, (uint32_t)jpad);
	put32(g + 16, 0x4E4F534A); /* "JSON" */
	memcpy(g + 20, json, jlen);
	memset(g + 20 + jlen, ' ', jpad - jlen);
	put32(g + 20 + jpad, (uint32_t)l.binlen);
	put32(g + 24 + jpad, 0x004E4942); /* "BIN\0" */
	memset(g + 28 + jpad, 0, l.binlen);
	glb_bin(m, t, &l, g + 28 + jpad);
	*out = g;
	*outlen = total;
	return 0;
}
