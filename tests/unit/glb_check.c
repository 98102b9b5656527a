/*
 * glb_check.c: what test_img2glb.c needs around i2g_convert (glb_check.h):
 * inputs (sample photos, images made in memory), and checks of every GLB
 * produced (structure, bounds, texture, watertightness).
 *
 * Every GLB converted here is checked structurally and, when
 * $I2M_GLB_OUT is set, written there as <name>.glb so
 * tests/bats/offline_model.bats can run the Khronos validator over all
 * of them.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include "glb_check.h"
#include "tap.h"

static void
buf_put(void *ctx, void *data, int size)
{
	struct buf *b = ctx;
	unsigned char *np = realloc(b->p, b->n + (size_t)size);

	if (np == NULL)
		abort();
	memcpy(np + b->n, data, (size_t)size);
	b->p = np;
	b->n += (size_t)size;
}

static struct buf
read_file(const char *path)
{
	struct buf b = {NULL, 0};
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL)
		return b;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		b.p = malloc((size_t)n);
		if (b.p != NULL && fread(b.p, 1, (size_t)n, f) == (size_t)n)
			b.n = (size_t)n;
	}
	fclose(f);
	return b;
}

/* A sample photo: $I2M_SAMPLES, else tests/fixtures (run from the
 * repository root), else the shared samples directory. */
struct buf
sample(const char *name)
{
	const char *dirs[3] = {
	    getenv("I2M_SAMPLES"), "tests/fixtures", "/work/shared/samples"};
	char path[4096];
	struct buf b = {NULL, 0};
	int k;

	for (k = 0; k < 3 && b.p == NULL; k++) {
		if (dirs[k] == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirs[k], name);
		b = read_file(path);
	}
	return b;
}

struct buf
make_png(const unsigned char *rgba, int w, int h, int comp)
{
	struct buf b = {NULL, 0};

	stbi_write_png_to_func(buf_put, &b, w, h, comp, rgba, w * comp);
	return b;
}

struct buf
make_jpg(const unsigned char *rgba, int w, int h)
{
	return make_jpg_q(rgba, w, h, 90);
}

struct buf
make_jpg_q(const unsigned char *rgba, int w, int h, int quality)
{
	struct buf b = {NULL, 0};

	stbi_write_jpg_to_func(buf_put, &b, w, h, 4, rgba, quality);
	return b;
}

static void
save_glb(const char *name, const unsigned char *g, size_t n)
{
	const char *dir = getenv("I2M_GLB_OUT");
	char path[4096];
	FILE *f;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s.glb", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return;
	fwrite(g, 1, n, f);
	fclose(f);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static long
jint(json_t *o, const char *path)
{
	/* path: "accessors.0.count" style, array indices as numbers */
	char tmp[128], *save = NULL, *tok;
	json_t *cur = o;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (tok = strtok_r(tmp, ".", &save); tok && cur;
	     tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(cur))
			cur = json_array_get(cur, (size_t)atoi(tok));
		else
			cur = json_object_get(cur, tok);
	}
	return cur && json_is_integer(cur) ? (long)json_integer_value(cur) : -1;
}

/* Indices over every primitive of mesh 0 (all share bufferView 3). */
static long
index_count(json_t *js)
{
	json_t *prims = json_object_get(
	    json_array_get(json_object_get(js, "meshes"), 0), "primitives");
	char path[64];
	size_t k;
	long n = 0;

	for (k = 0; k < json_array_size(prims); k++) {
		snprintf(
		    path, sizeof(path), "meshes.0.primitives.%zu.indices", k);
		snprintf(
		    path, sizeof(path), "accessors.%ld.count", jint(js, path));
		n += jint(js, path);
	}
	return n;
}

long
glb_prim_tris(const struct glb *gl, int k)
{
	char path[64];
	long a;

	snprintf(path, sizeof(path), "meshes.0.primitives.%d.indices", k);
	a = jint(gl->js, path);
	if (a < 0)
		return 0;
	snprintf(path, sizeof(path), "accessors.%ld.count", a);
	return jint(gl->js, path) / 3;
}

const float *
glb_attr(const struct glb *gl, int a, long *nv)
{
	char path[64];
	long v;

	snprintf(path, sizeof(path), "accessors.%d.count", a);
	*nv = jint(gl->js, path);
	snprintf(path, sizeof(path), "accessors.%d.bufferView", a);
	v = jint(gl->js, path);
	snprintf(path, sizeof(path), "bufferViews.%ld.byteOffset", v);
	return (const float *)(const void *)(gl->bin + jint(gl->js, path));
}

uint32_t
glb_index(const struct glb *gl, int prim, long t, int k)
{
	char path[64];
	long a, off, i;
	int wide;

	snprintf(path, sizeof(path), "meshes.0.primitives.%d.indices", prim);
	a = jint(gl->js, path);
	snprintf(path, sizeof(path), "accessors.%ld.byteOffset", a);
	off = jint(gl->js, path);
	snprintf(path, sizeof(path), "accessors.%ld.componentType", a);
	wide = jint(gl->js, path) == 5125;
	off = (off < 0 ? 0 : off) + jint(gl->js, "bufferViews.3.byteOffset");
	i = t * 3 + k;
	return wide
	    ? get32(gl->bin + off + i * 4)
	    : (uint32_t)(gl->bin[off + i * 2] | gl->bin[off + i * 2 + 1] << 8);
}

/*
 * Structural checks of a GLB (header, chunk order and padding, lengths,
 * JSON essentials); returns 1 when all hold.  Fills *out on success.
 */
static int
check_glb(const char *name, const unsigned char *g, size_t n,
    const struct i2g_info *in, struct glb *out)
{
	uint32_t jl, bl;
	json_t *js = NULL, *mat;
	json_error_t e;
	size_t i;
	int ok = 1;

	memset(out, 0, sizeof(*out));
	if (n < 28 || get32(g) != 0x46546C67 || get32(g + 4) != 2 ||
	    get32(g + 8) != n || get32(g + 16) != 0x4E4F534A) {
		TAP_OK(0, "%s: GLB header", name);
		return 0;
	}
	jl = get32(g + 12);
	if (jl % 4 != 0 || 20 + (size_t)jl + 8 > n) {
		TAP_OK(0, "%s: JSON chunk length %u", name, jl);
		return 0;
	}
	bl = get32(g + 20 + jl);
	ok &= get32(g + 24 + jl) == 0x004E4942;
	ok &= bl % 4 == 0 && 28 + (size_t)jl + bl == n;
	for (i = 0; i < jl && g[20 + i] != '\0'; i++)
		;
	ok &= i == jl; /* no NUL padding in JSON */
	js = json_loadb((const char *)g + 20, jl, 0, &e);
	ok &= js != NULL;
	if (!ok) {
		TAP_OK(0, "%s: GLB chunks", name);
		json_decref(js);
		return 0;
	}
	mat =
	    json_object_get(json_array_get(json_object_get(js, "materials"), 0),
	        "pbrMetallicRoughness");
	ok &= jint(js, "scene") == 0;
	ok &= json_number_value(json_object_get(mat, "metallicFactor")) == 0 &&
	    json_object_get(mat, "metallicFactor") != NULL;
	ok &= jint(js, "buffers.0.byteLength") >= 0 &&
	    (size_t)jint(js, "buffers.0.byteLength") <= bl;
	ok &= jint(js, "accessors.0.count") == in->vertices;
	ok &= index_count(js) == in->triangles * 3;
	ok &= jint(js, "accessors.3.componentType") ==
	    (in->vertices > 65535 ? 5125 : 5123);
	ok &= jint(js, "bufferViews.4.target") == -1;
	TAP_OK(ok, "%s: GLB structure (%zu bytes, %ld vertices)", name, n,
	    in->vertices);
	if (!ok) {
		json_decref(js);
		return 0;
	}
	out->js = js;
	out->bin = g + 28 + jl;
	out->binlen = bl;
	return 1;
}

/* The embedded image: pointer into the BIN chunk and its length. */
const unsigned char *
glb_image(const struct glb *gl, size_t *len)
{
	long off = jint(gl->js, "bufferViews.4.byteOffset");
	long l = jint(gl->js, "bufferViews.4.byteLength");

	*len = (size_t)l;
	return gl->bin + off;
}

const char *
glb_mime(const struct glb *gl)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(gl->js, "images"), 0), "mimeType"));
}

/* POSITION bounds from the accessor. */
void
glb_bounds(const struct glb *gl, double lo[3], double hi[3])
{
	json_t *a = json_array_get(json_object_get(gl->js, "accessors"), 0);
	int k;

	for (k = 0; k < 3; k++) {
		lo[k] = json_number_value(
		    json_array_get(json_object_get(a, "min"), (size_t)k));
		hi[k] = json_number_value(
		    json_array_get(json_object_get(a, "max"), (size_t)k));
	}
}

struct edge {
	uint32_t a, b;
};

static int
cmp_pos(const void *x, const void *y, void *ctx)
{
	const float *p = ctx;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;

	return memcmp(p + i * 3, p + j * 3, 12);
}

static int
cmp_edge(const void *x, const void *y)
{
	const struct edge *e = x, *f = y;

	if (e->a != f->a)
		return e->a < f->a ? -1 : 1;
	if (e->b != f->b)
		return e->b < f->b ? -1 : 1;
	return 0;
}

/*
 * Closed and consistently oriented: after welding equal positions, each
 * directed edge occurs once and its reverse once.
 */
int
watertight(const struct glb *gl)
{
	long nv = jint(gl->js, "accessors.0.count");
	long ni = index_count(gl->js);
	int wide = jint(gl->js, "accessors.3.componentType") == 5125;
	float *pos = malloc((size_t)nv * 12);
	uint32_t *ord = malloc((size_t)nv * 4), *rep = malloc((size_t)nv * 4);
	struct edge *e = malloc((size_t)ni * sizeof(*e));
	const unsigned char *ib =
	    gl->bin + jint(gl->js, "bufferViews.3.byteOffset");
	long i, k, ne = 0;
	int ok = 1;

	memcpy(pos, gl->bin, (size_t)nv * 12);
	for (i = 0; i < nv; i++)
		ord[i] = (uint32_t)i;
	qsort_r(ord, (size_t)nv, 4, cmp_pos, pos);
	for (i = 0; i < nv; i++)
		rep[ord[i]] = i > 0 &&
		        memcmp(pos + ord[i] * 3, pos + ord[i - 1] * 3, 12) == 0
		    ? rep[ord[i - 1]]
		    : ord[i];
	for (i = 0; i < ni; i += 3) {
		uint32_t v[3];

		for (k = 0; k < 3; k++)
			v[k] = rep[wide ? get32(ib + (i + k) * 4)
			                : (uint32_t)(ib[(i + k) * 2] |
			                      ib[(i + k) * 2 + 1] << 8)];
		if (v[0] == v[1] || v[1] == v[2] || v[0] == v[2])
			continue; /* welded to a sliver: no edges */
		for (k = 0; k < 3; k++) {
			e[ne].a = v[k];
			e[ne].b = v[(k + 1) % 3];
			ne++;
		}
	}
	qsort(e, (size_t)ne, sizeof(*e), cmp_edge);
	for (i = 0; i < ne && ok; i++) {
		struct edge r = {e[i].b, e[i].a};

		/* each directed edge once ... */
		if (i > 0 && cmp_edge(&e[i], &e[i - 1]) == 0)
			ok = 0;
		/* ... and its reverse present */
		if (!bsearch(&r, e, (size_t)ne, sizeof(*e), cmp_edge))
			ok = 0;
	}
	free(pos);
	free(ord);
	free(rep);
	free(e);
	return ok;
}

/*
 * Convert, check the structure, save.  Returns the GLB (caller frees)
 * or NULL; *gl gets the parsed GLB (caller json_decref's gl->js).
 */
unsigned char *
convert(const char *name, const struct buf *in, const struct i2g_opts *o,
    struct i2g_info *info, struct glb *gl, size_t *glen)
{
	unsigned char *g = NULL;
	char err[256];
	int rc;

	rc = i2g_convert(in->p, in->n, o, &g, glen, info, err, sizeof(err));
	TAP_OK(rc == 0, "%s: converts (%s)", name, rc == 0 ? info->mode : err);
	if (rc != 0)
		return NULL;
	save_glb(name, g, *glen);
	if (!check_glb(name, g, *glen, info, gl)) {
		free(g);
		return NULL;
	}
	return g;
}

/* Expect failure with a message containing want. */
void
expect_fail(const char *name, const void *p, size_t n, const struct i2g_opts *o,
    const char *want)
{
	unsigned char *g = NULL;
	size_t gl = 0;
	char err[256] = "";
	int rc = i2g_convert(p, n, o, &g, &gl, NULL, err, sizeof(err));

	TAP_OK(rc == -1 && g == NULL && strstr(err, want) != NULL &&
	        strchr(err, '\n') == NULL,
	    "%s: refused: \"%s\"", name, err);
	free(g);
}

unsigned char *
solid(int w, int h, unsigned r, unsigned g, unsigned b, unsigned a)
{
	unsigned char *p = malloc((size_t)w * (size_t)h * 4);
	long i;

	for (i = 0; i < (long)w * h; i++) {
		p[i * 4] = (unsigned char)r;
		p[i * 4 + 1] = (unsigned char)g;
		p[i * 4 + 2] = (unsigned char)b;
		p[i * 4 + 3] = (unsigned char)a;
	}
	return p;
}

/* A red disk on a transparent background (alpha) or on grey (keyed). */
unsigned char *
disk(int w, int h, int transparent)
{
	unsigned char *p = solid(w, h, 128, 128, 128, transparent ? 0 : 255);
	int x, y;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			double dx = x - w / 2.0, dy = y - h / 2.0;
			unsigned char *q = p + ((size_t)y * w + x) * 4;

			if (dx * dx + dy * dy < (h / 3.0) * (h / 3.0)) {
				q[0] = 200;
				q[1] = (unsigned char)(x * 255 / w);
				q[2] = 30;
				q[3] = 255;
			}
		}
	}
	return p;
}
