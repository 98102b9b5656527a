/*
 * preview.c: the light web copy of a large GLB, for the browser's viewer
 * only (downloads stay the original).
 *
 * Two steps.  Here: every embedded image larger than PREVIEW_TEX_MAX
 * pixels on a side is scaled down to fit (stb), re-encoded (JPEG when it
 * has no alpha, else PNG), and the GLB's binary chunk is rebuilt with
 * each buffer view in its order, 4-byte aligned, offsets and lengths
 * rewritten (accessors point into views, so they need no change).  Then
 * Debian's gltfpack (meshoptimizer) compresses the geometry with
 * EXT_meshopt_compression (-cc) and quantizes it (KHR_mesh_quantization);
 * model-viewer decodes both.  gltfpack is $I2M_GLTFPACK, else found on
 * $PATH; it runs as a child of this helper, under the same limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#include "mkformats.h"

#define PREVIEW_TEX_MAX 2048
#define GLB_MAGIC 0x46546C67u
#define CHUNK_JSON 0x4E4F534Au
#define CHUNK_BIN 0x004E4942u
#define GLB_CAP (2LL * 1024 * 1024 * 1024)

extern char **environ;

struct glb {
	unsigned char *file;
	size_t len;
	json_t *gltf;
	const unsigned char *bin;
	size_t binlen;
};

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static int
glb_read(const char *path, struct glb *g, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t off, jl;
	long n;

	memset(g, 0, sizeof(*g));
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 20 ||
	    n > GLB_CAP || fseek(f, 0, SEEK_SET) != 0 ||
	    (g->file = malloc((size_t)n)) == NULL ||
	    fread(g->file, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "The GLB could not be read.");
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	g->len = (size_t)n;
	jl = le32(g->file + 12);
	if (le32(g->file) != GLB_MAGIC || le32(g->file + 16) != CHUNK_JSON ||
	    jl > g->len - 20) {
		snprintf(err, errlen, "The file is not a GLB.");
		return -1;
	}
	g->gltf = json_loadb((const char *)g->file + 20, jl, 0, NULL);
	off = 20 + jl;
	if (off + 8 <= g->len && le32(g->file + off + 4) == CHUNK_BIN &&
	    le32(g->file + off) <= g->len - off - 8) {
		g->bin = g->file + off + 8;
		g->binlen = le32(g->file + off);
	}
	if (g->gltf == NULL) {
		snprintf(err, errlen, "The GLB's JSON could not be parsed.");
		return -1;
	}
	return 0;
}

static void
glb_free(struct glb *g)
{
	json_decref(g->gltf);
	free(g->file);
	memset(g, 0, sizeof(*g));
}

struct out {
	unsigned char *p;
	size_t len, cap;
};

static int
out_add(struct out *o, const void *data, size_t len)
{
	if (o->len + len > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 1 << 20;
		unsigned char *p;

		while (cap < o->len + len)
			cap *= 2;
		if ((p = realloc(o->p, cap)) == NULL)
			return -1;
		o->p = p;
		o->cap = cap;
	}
	if (len > 0)
		memcpy(o->p + o->len, data, len);
	o->len += len;
	return 0;
}

static void
img_sink(void *ctx, void *data, int len)
{
	if (out_add(ctx, data, (size_t)len) == -1)
		((struct out *)ctx)->cap = (size_t)-1;
}

/*
 * The image's bytes scaled to fit PREVIEW_TEX_MAX into o (and its mime
 * type into *mime): 1 when scaled, 0 when it already fits (o untouched),
 * -1 when it cannot be decoded or encoded.
 */
static int
shrink(const unsigned char *data, size_t len, struct out *o, const char **mime)
{
	unsigned char *px, *small;
	int w, h, n, nw, nh, ok;

	if (!stbi_info_from_memory(data, (int)len, &w, &h, &n))
		return -1;
	if (w <= PREVIEW_TEX_MAX && h <= PREVIEW_TEX_MAX)
		return 0;
	px = stbi_load_from_memory(data, (int)len, &w, &h, &n, 0);
	if (px == NULL)
		return -1;
	nw = w >= h ? PREVIEW_TEX_MAX : (int)((long)w * PREVIEW_TEX_MAX / h);
	nh = h >= w ? PREVIEW_TEX_MAX : (int)((long)h * PREVIEW_TEX_MAX / w);
	nw = nw < 1 ? 1 : nw;
	nh = nh < 1 ? 1 : nh;
	small = malloc((size_t)nw * nh * n);
	ok = small != NULL &&
	    stbir_resize_uint8(px, w, h, 0, small, nw, nh, 0, n);
	stbi_image_free(px);
	if (ok && (n == 2 || n == 4)) {
		ok = stbi_write_png_to_func(
		    img_sink, o, nw, nh, n, small, nw * n);
		*mime = "image/png";
	} else if (ok) {
		ok = stbi_write_jpg_to_func(img_sink, o, nw, nh, n, small, 90);
		*mime = "image/jpeg";
	}
	free(small);
	if (!ok || o->cap == (size_t)-1)
		return -1;
	return 1;
}

/* The index of the image whose bufferView is v, -1 when none. */
static int
image_of_view(json_t *gltf, size_t v)
{
	json_t *img;
	size_t i;

	json_array_foreach(json_object_get(gltf, "images"), i, img) {
		json_t *bv = json_object_get(img, "bufferView");

		if (json_is_integer(bv) && (size_t)json_integer_value(bv) == v)
			return (int)i;
	}
	return -1;
}

/* The GLB with its large images scaled down, whole, into o. */
static int
shrink_glb(struct glb *g, struct out *o, int *changed, char *err, size_t errlen)
{
	json_t *views = json_object_get(g->gltf, "bufferViews"), *v;
	struct out bin = {0};
	char *js = NULL;
	size_t i, jl, pad;
	unsigned char head[20];
	int rc = -1;

	*changed = 0;
	json_array_foreach(views, i, v) {
		json_int_t off =
		    json_integer_value(json_object_get(v, "byteOffset"));
		json_int_t len =
		    json_integer_value(json_object_get(v, "byteLength"));
		json_t *buf = json_object_get(v, "buffer");
		static const unsigned char zero[4];
		struct out img = {0};
		const char *mime = NULL;
		int k = image_of_view(g->gltf, i), s = 0;

		if (json_integer_value(buf) != 0 || off < 0 || len < 0 ||
		    (size_t)(off + len) > g->binlen) {
			snprintf(err, errlen,
			    "Buffer view %zu lies outside the GLB's binary chunk.",
			    i);
			goto out;
		}
		if (k >= 0 &&
		    (s = shrink(g->bin + off, (size_t)len, &img, &mime)) ==
		        -1) {
			free(img.p);
			snprintf(
			    err, errlen, "Image %d could not be scaled.", k);
			goto out;
		}
		if (out_add(&bin, zero, (4 - bin.len % 4) % 4) == -1)
			goto nomem;
		json_object_set_new(
		    v, "byteOffset", json_integer((json_int_t)bin.len));
		if (s == 1) {
			json_t *im = json_array_get(
			    json_object_get(g->gltf, "images"), (size_t)k);

			json_object_set_new(im, "mimeType", json_string(mime));
			json_object_set_new(
			    v, "byteLength", json_integer((json_int_t)img.len));
			rc = out_add(&bin, img.p, img.len);
			*changed = 1;
		} else
			rc = out_add(&bin, g->bin + off, (size_t)len);
		free(img.p);
		if (rc == -1)
			goto nomem;
		rc = -1;
	}
	if (out_add(&bin, "\0\0\0", (4 - bin.len % 4) % 4) == -1)
		goto nomem;
	json_object_set_new(
	    json_array_get(json_object_get(g->gltf, "buffers"), 0),
	    "byteLength", json_integer((json_int_t)bin.len));
	js = json_dumps(g->gltf, JSON_COMPACT);
	if (js == NULL)
		goto nomem;
	jl = strlen(js);
	pad = (4 - jl % 4) % 4;
	put32(head, GLB_MAGIC);
	put32(head + 4, 2);
	put32(head + 8, (uint32_t)(12 + 8 + jl + pad + 8 + bin.len));
	put32(head + 12, (uint32_t)(jl + pad));
	put32(head + 16, CHUNK_JSON);
	if (out_add(o, head, 20) || out_add(o, js, jl) ||
	    out_add(o, "   ", pad))
		goto nomem;
	put32(head, (uint32_t)bin.len);
	put32(head + 4, CHUNK_BIN);
	if (out_add(o, head, 8) || out_add(o, bin.p, bin.len))
		goto nomem;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "Out of memory for the preview.");
out:
	free(js);
	free(bin.p);
	return rc;
}

static int
write_file(const char *path, const struct out *o)
{
	FILE *f = fopen(path, "wb");
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fwrite(o->p, 1, o->len, f) == o->len)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* gltfpack -cc -i in -o out; 0 or -1 with err. */
static int
gltfpack(const char *in, const char *outp, char *err, size_t errlen)
{
	const char *prog = getenv("I2M_GLTFPACK");
	char *argv[] = {
	    "gltfpack", "-cc", "-i", (char *)in, "-o", (char *)outp, NULL};
	posix_spawn_file_actions_t fa;
	int st = 0, rc;
	pid_t pid;

	if (prog == NULL || *prog == '\0')
		prog = "gltfpack";
	/* Its chatter must not reach our standard output, the file. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		snprintf(err, errlen, "gltfpack could not be started (%s).",
		    strerror(rc));
		return -1;
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "gltfpack failed (status %d).",
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return -1;
	}
	return 0;
}

int
cv_preview(const char *path, int fd, char *err, size_t errlen)
{
	struct glb g;
	struct out o = {0};
	char dir[512], in[600], outp[600];
	int changed, rc = -1;

	if (glb_read(path, &g, err, errlen) == -1)
		goto out;
	if (shrink_glb(&g, &o, &changed, err, errlen) == -1)
		goto out;
	if (cv_tmpdir_make(dir, sizeof(dir), err, errlen) == -1)
		goto out;
	snprintf(in, sizeof(in), "%s/in.glb", dir);
	snprintf(outp, sizeof(outp), "%s/out.glb", dir);
	if (write_file(in, &o) == -1)
		snprintf(err, errlen, "The scaled GLB could not be written.");
	else if (gltfpack(in, outp, err, errlen) == 0)
		rc = cv_copy_to_fd(outp, fd, err, errlen);
	cv_tmpdir_remove(dir);
out:
	free(o.p);
	glb_free(&g);
	return rc;
}
