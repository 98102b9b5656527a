/*
 * export.c: the formats Assimp writes (STL, PLY, FBX, OBJ + MTL), and the
 * OBJ's zip with its textures.
 *
 * Assimp's exporters write to a path, so each writes into a private
 * scratch directory and the result is copied to the output.  For OBJ,
 * Assimp names an embedded texture "*<i>" in the MTL and writes no image:
 * every embedded image is written here as texture_<i>.png (a PNG is kept
 * byte for byte, anything else stb decodes is re-encoded) and the MTL's
 * "*<i>" references are renamed to match, so the zip opens as it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <assimp/cexport.h>
#include <assimp/cimport.h>
#include <assimp/scene.h>
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "mkformats.h"

#define OBJ_MTL_CAP (16 * 1024 * 1024)
#define CV_MAX_MESHES 4096
#define CV_MAX_TEXTURES 64

static int
buf_add(struct cv_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		unsigned char *p;

		while (cap < b->len + len)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/*
 * Assimp 5.2's binary PLY writer declares vertex colours as uchar but
 * writes them as floats, so no reader can parse the file: binary PLY is
 * written without them (the texture coordinates stay).  The colour
 * arrays are only hidden during the export and put back for the free.
 */
static void
hide_colours(const struct aiScene *sc, struct aiColor4D **saved, int hide)
{
	unsigned i;

	for (i = 0; i < sc->mNumMeshes && i < CV_MAX_MESHES; i++) {
		if (hide) {
			saved[i] = sc->mMeshes[i]->mColors[0];
			sc->mMeshes[i]->mColors[0] = NULL;
		} else
			sc->mMeshes[i]->mColors[0] = saved[i];
	}
}

static int texture_png(const struct aiTexture *t, struct cv_buf *out);

/*
 * Assimp 5.2's FBX reader corrupts its heap on an embedded JPEG that its
 * writer wrote; embedded PNGs read back.  So for FBX every embedded
 * texture is handed to the writer as PNG: the texture's data is swapped
 * for the PNG bytes during the export and put back for the free.
 */
struct saved_tex {
	struct aiTexel *data;
	unsigned w, h;
	char hint[HINTMAXTEXTURELEN];
	struct cv_buf png;
};

static int
swap_textures(const struct aiScene *sc, struct saved_tex *sv, int to_png)
{
	unsigned i;

	for (i = 0; i < sc->mNumTextures && i < CV_MAX_TEXTURES; i++) {
		struct aiTexture *t = sc->mTextures[i];

		if (!to_png) {
			if (sv[i].png.p == NULL)
				continue;
			t->pcData = sv[i].data;
			t->mWidth = sv[i].w;
			t->mHeight = sv[i].h;
			memcpy(
			    t->achFormatHint, sv[i].hint, sizeof(sv[i].hint));
			free(sv[i].png.p);
			sv[i].png.p = NULL;
			continue;
		}
		memset(&sv[i], 0, sizeof(sv[i]));
		if (texture_png(t, &sv[i].png) == -1)
			return -1;
		sv[i].data = t->pcData;
		sv[i].w = t->mWidth;
		sv[i].h = t->mHeight;
		memcpy(sv[i].hint, t->achFormatHint, sizeof(sv[i].hint));
		t->pcData = (struct aiTexel *)(void *)sv[i].png.p;
		t->mWidth = (unsigned)sv[i].png.len;
		t->mHeight = 0;
		memset(t->achFormatHint, 0, sizeof(t->achFormatHint));
		memcpy(t->achFormatHint, "png", 3);
	}
	return 0;
}

static int read_all(const char *path, char **out, size_t *len);

/* Assimp's binary FBX, mended (fbxfix.c), onto fd. */
static int
fbx_out(const char *path, int fd, char *err, size_t errlen)
{
	struct cv_buf o;
	char *raw = NULL;
	size_t len = 0, off = 0;
	int rc = -1;

	if (read_all(path, &raw, &len) == -1 ||
	    cv_fbx_fix((const unsigned char *)raw, len, &o) == -1) {
		free(raw);
		snprintf(err, errlen, "Assimp's FBX could not be mended.");
		return -1;
	}
	while (off < o.len) {
		ssize_t n = write(fd, o.p + off, o.len - off);

		if (n <= 0)
			goto out;
		off += (size_t)n;
	}
	rc = 0;
out:
	if (rc == -1)
		snprintf(err, errlen, "The FBX could not be written out.");
	free(o.p);
	free(raw);
	return rc;
}

int
cv_export_assimp(
    const struct aiScene *sc, const char *id, int fd, char *err, size_t errlen)
{
	struct aiColor4D *colours[CV_MAX_MESHES];
	static struct saved_tex tex[CV_MAX_TEXTURES];
	char dir[512], path[600];
	int rc = -1, plyb = strcmp(id, "plyb") == 0;
	int fbx = strncmp(id, "fbx", 3) == 0;
	enum aiReturn r;

	if (fbx &&
	    (sc->mNumTextures > CV_MAX_TEXTURES ||
	        swap_textures(sc, tex, 1) == -1)) {
		swap_textures(sc, tex, 0);
		snprintf(err, errlen,
		    "A texture of the GLB could not be made a PNG for FBX.");
		return -1;
	}

	if (plyb && sc->mNumMeshes > CV_MAX_MESHES) {
		snprintf(err, errlen, "The GLB has more than %d meshes.",
		    CV_MAX_MESHES);
		return -1;
	}
	if (cv_tmpdir_make(dir, sizeof(dir), err, errlen) == -1) {
		if (fbx)
			swap_textures(sc, tex, 0);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/model.out", dir);
	if (plyb)
		hide_colours(sc, colours, 1);
	r = aiExportScene(sc, id, path, 0);
	if (plyb)
		hide_colours(sc, colours, 0);
	if (fbx)
		swap_textures(sc, tex, 0);
	if (r != aiReturn_SUCCESS) {
		snprintf(err, errlen, "Assimp could not write %s (%s).", id,
		    aiGetErrorString());
		goto out;
	}
	rc = fbx ? fbx_out(path, fd, err, errlen)
	         : cv_copy_to_fd(path, fd, err, errlen);
out:
	cv_tmpdir_remove(dir);
	return rc;
}

static void
png_sink(void *ctx, void *data, int len)
{
	struct cv_buf *b = ctx;

	if (buf_add(b, data, (size_t)len) == -1)
		b->cap = (size_t)-1; /* marks the failure */
}

/* texture i of the scene as PNG bytes into *out (caller frees out->p). */
static int
texture_png(const struct aiTexture *t, struct cv_buf *out)
{
	static const unsigned char magic[8] = {
	    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	unsigned char *px = NULL;
	int w, h, n, ok;

	memset(out, 0, sizeof(*out));
	if (t->mHeight == 0) {
		/* Compressed: mWidth bytes of a PNG, JPEG, ... */
		const unsigned char *raw = (const unsigned char *)t->pcData;

		if (t->mWidth >= sizeof(magic) &&
		    memcmp(raw, magic, sizeof(magic)) == 0)
			return buf_add(out, raw, t->mWidth);
		px = stbi_load_from_memory(raw, (int)t->mWidth, &w, &h, &n, 0);
	} else {
		/* Raw aiTexel (b, g, r, a) texels. */
		size_t i, np = (size_t)t->mWidth * t->mHeight;

		w = (int)t->mWidth;
		h = (int)t->mHeight;
		n = 4;
		px = malloc(np * 4);
		for (i = 0; px != NULL && i < np; i++) {
			px[4 * i] = t->pcData[i].r;
			px[4 * i + 1] = t->pcData[i].g;
			px[4 * i + 2] = t->pcData[i].b;
			px[4 * i + 3] = t->pcData[i].a;
		}
	}
	if (px == NULL)
		return -1;
	ok = stbi_write_png_to_func(png_sink, out, w, h, n, px, w * n);
	free(px);
	if (!ok || out->cap == (size_t)-1) {
		free(out->p);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

/*
 * The MTL with every "*<i>" (Assimp's name of embedded texture i) after
 * a map keyword renamed texture_<i>.png.
 */
static int
mtl_rename(const char *mtl, size_t len, struct cv_buf *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		const char *nl = memchr(mtl + i, '\n', len - i);
		size_t l = nl != NULL ? (size_t)(nl - (mtl + i)) + 1 : len - i;
		const char *star = memchr(mtl + i, '*', l);
		char name[64];

		if (strncmp(mtl + i, "map_", 4) == 0 && star != NULL &&
		    star[1] >= '0' && star[1] <= '9') {
			unsigned long k = strtoul(star + 1, NULL, 10);
			int n =
			    snprintf(name, sizeof(name), "texture_%lu.png", k);

			if (buf_add(out, mtl + i, (size_t)(star - (mtl + i))) ||
			    buf_add(out, name, (size_t)n) ||
			    buf_add(out, "\n", 1))
				return -1;
		} else if (buf_add(out, mtl + i, l))
			return -1;
		i += l;
	}
	return 0;
}

static int
zip_entry(struct archive *a, const char *name, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	int rc = -1;

	if (e == NULL)
		return -1;
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (archive_write_header(a, e) == ARCHIVE_OK &&
	    (len == 0 || archive_write_data(a, data, len) == (la_ssize_t)len))
		rc = 0;
	archive_entry_free(e);
	return rc;
}

static int
read_all(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;
	int rc = -1;

	*out = NULL;
	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (*out = malloc((size_t)n + 1)) &&
	    fread(*out, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
		rc = 0;
	}
	fclose(f);
	if (rc == -1) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int
cv_export_obj_zip(const struct aiScene *sc, int fd, char *err, size_t errlen)
{
	char dir[512], obj[600], mtl[600], *mtext = NULL, *otext = NULL;
	struct archive *a = NULL;
	struct cv_buf mfix = {0}, png = {0};
	size_t mlen = 0, olen = 0;
	unsigned i;
	int rc = -1;

	if (cv_tmpdir_make(dir, sizeof(dir), err, errlen) == -1)
		return -1;
	snprintf(obj, sizeof(obj), "%s/model.obj", dir);
	snprintf(mtl, sizeof(mtl), "%s/model.mtl", dir);
	if (aiExportScene(sc, "obj", obj, 0) != aiReturn_SUCCESS) {
		snprintf(err, errlen, "Assimp could not write the OBJ (%s).",
		    aiGetErrorString());
		goto out;
	}
	if (read_all(obj, &otext, &olen) == -1 ||
	    read_all(mtl, &mtext, &mlen) == -1 || mlen > OBJ_MTL_CAP ||
	    mtl_rename(mtext, mlen, &mfix) == -1) {
		snprintf(
		    err, errlen, "The OBJ's files could not be read back.");
		goto out;
	}
	a = archive_write_new();
	/* No padding to libarchive's 10240-byte blocks: a zip ends at its
	 * central directory. */
	if (a == NULL || archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		snprintf(err, errlen, "The zip could not be started.");
		goto out;
	}
	if (zip_entry(a, "model.obj", otext, olen) == -1 ||
	    zip_entry(a, "model.mtl", mfix.p, mfix.len) == -1) {
		snprintf(err, errlen, "The zip could not be written (%s).",
		    archive_error_string(a));
		goto out;
	}
	for (i = 0; i < sc->mNumTextures; i++) {
		char name[64];

		if (texture_png(sc->mTextures[i], &png) == -1) {
			snprintf(err, errlen,
			    "Texture %u of the GLB could not be decoded.", i);
			goto out;
		}
		snprintf(name, sizeof(name), "texture_%u.png", i);
		if (zip_entry(a, name, png.p, png.len) == -1) {
			snprintf(err, errlen,
			    "The zip could not be written (%s).",
			    archive_error_string(a));
			goto out;
		}
		free(png.p);
		memset(&png, 0, sizeof(png));
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		snprintf(err, errlen, "The zip could not be finished (%s).",
		    archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	if (a != NULL)
		archive_write_free(a);
	free(png.p);
	free(mfix.p);
	free(mtext);
	free(otext);
	cv_tmpdir_remove(dir);
	return rc;
}
