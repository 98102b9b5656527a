/*
 * formats.c: the one table of download formats of a model, and the names
 * their files have under out/.
 *
 * Every completed model is a GLB (out/<n>.glb).  The daemon makes the
 * other formats from it once (daemon/formats.c, through the helper
 * i2m-formats) or keeps the provider's own copy of a format, and lists
 * what it has in the file's status ("formats", "format_errors").  A
 * format is a row here: the daemon makes the rows marked FMT_CONVERT, the
 * API serves any row by its download extension, and all.zip?format=<name>
 * streams one row for the whole batch.
 *
 *   out/<n>.<ext>        a format's file, ext from the row ("0.stl",
 *                        "0.obj.zip": OBJ + MTL + textures in one zip)
 *   out/<n>.web.glb      the light preview of a large GLB
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spool.h"

static const struct format_info formats[] = {
    {"glb", "glb", "GLB (glTF binary)", "model/gltf-binary", 0},
    {"obj", "obj.zip", "OBJ + MTL + texture (zip)", "application/zip",
        FMT_CONVERT},
    {"stl", "stl", "STL (binary, millimetres, for printing)", "model/stl",
        FMT_CONVERT | FMT_PRINT},
    {"3mf", "3mf", "3MF (millimetres, for printing)", "model/3mf",
        FMT_CONVERT | FMT_PRINT},
    {"ply", "ply", "PLY (binary)", "application/x-ply", FMT_CONVERT},
    {"fbx", "fbx", "FBX (binary)", "application/octet-stream", FMT_CONVERT},
    {"usdz", "usdz", "USDZ (from the provider, for iOS AR)",
        "model/vnd.usdz+zip", 0},
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

size_t
formats_count(void)
{
	return NFORMATS;
}

const struct format_info *
formats_at(size_t i)
{
	return i < NFORMATS ? &formats[i] : NULL;
}

const struct format_info *
formats_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NFORMATS; i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

static int
name_into(char *out, size_t len, int file, const char *suffix)
{
	int n;

	if (file < 0 || file >= SPOOL_MAX_FILES) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, len, "%d.%s", file, suffix);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
spool_format_file(int file, const struct format_info *f, char *out, size_t len)
{
	if (f == NULL) {
		errno = EINVAL;
		return -1;
	}
	return name_into(out, len, file, f->ext);
}

int
spool_preview_file(int file, char *out, size_t len)
{
	return name_into(out, len, file, "web.glb");
}
