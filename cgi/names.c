/*
 * names.c: a batch's download names, and the way back from a name to
 * the file of the spool it means.
 *
 * The names follow the uploaded names: the stem of "Chair photo.png" is
 * "Chair_photo" (URL-safe characters only, so the URL needs no
 * escaping), the model is "<stem>.glb", duplicates in one batch get
 * "-2", "-3" in upload order, so a name always means the same file (the
 * upload order never changes).  Each other format of a model is
 * "<stem>.<ext>" with the ext of its row in the formats table
 * (spool/formats.c), the provider's preview image "<stem>.<its ext>",
 * the light preview of a large GLB "<stem>.web.glb".  Only completed
 * files have names that resolve.
 */
#include <stdio.h>
#include <string.h>

#include "cgi.h"

#define STEM_MAX 100

/* URL-safe stem of an uploaded name: "My chair.PNG" -> "My_chair". */
static void
stem_of(const char *filename, char *out, size_t len)
{
	const char *dot = strrchr(filename, '.');
	size_t n = dot != NULL && dot != filename ? (size_t)(dot - filename)
	                                          : strlen(filename);
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < len && o < STEM_MAX; i++) {
		unsigned char c = (unsigned char)filename[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';

		if (!ok)
			c = '_';
		if (c == '_' && o > 0 && out[o - 1] == '_')
			continue;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	/* Never a dot-name, never empty. */
	if (o == 0 || out[0] == '.')
		snprintf(out, len, "model");
}

static int
name_taken(json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return 1;
	return 0;
}

json_t *
batch_names_build(json_t *summary)
{
	json_t *names = json_array(), *f;
	size_t i;

	if (names == NULL)
		return NULL;
	json_array_foreach(json_object_get(summary, "files"), i, f) {
		const char *fn =
		    json_string_value(json_object_get(f, "filename"));
		char stem[STEM_MAX + 1], name[STEM_MAX + 32];
		int k;

		stem_of(fn != NULL ? fn : "model", stem, sizeof(stem));
		snprintf(name, sizeof(name), "%s.glb", stem);
		for (k = 2; name_taken(names, name); k++)
			snprintf(name, sizeof(name), "%s-%d.glb", stem, k);
		json_array_append_new(names, json_string(name));
	}
	return names;
}

int
batch_preview_name(json_t *f, const char *glbname, char *out, size_t len)
{
	const char *pf =
	    json_string_value(json_object_get(f, "rendered_image_file"));
	const char *ext;
	size_t sl = strlen(glbname) - 4;

	if (pf == NULL || (ext = strrchr(pf, '.')) == NULL || ext[1] == '\0' ||
	    strchr(ext, '/') != NULL)
		return 0;
	snprintf(out, len, "%.*s%s", (int)sl, glbname, ext);
	return 1;
}

/* The download name of file f (index i) when it is completed, else NULL. */
static const char *
completed_name(json_t *f, json_t *names, size_t i)
{
	const char *st = json_string_value(json_object_get(f, "status"));

	if (st == NULL || strcmp(st, "completed") != 0)
		return NULL;
	return json_string_value(json_array_get(names, i));
}

/* name is "<stem of glbname>.<ext>": 1, else 0. */
static int
is_variant(const char *name, const char *glbname, const char *ext)
{
	size_t sl = strlen(glbname) - 4;

	return strncmp(name, glbname, sl) == 0 && name[sl] == '.' &&
	    strcmp(name + sl + 1, ext) == 0;
}

int
batch_lookup_download(json_t *summary, json_t *names, const char *name,
    size_t *file, const char **spool_file, const char **ctype)
{
	json_t *files = json_object_get(summary, "files"), *e;
	size_t i, k;
	int preview;

	if (batch_lookup_name(summary, names, name, file, &preview) == 0) {
		json_t *f = json_array_get(files, *file);

		*spool_file = json_string_value(json_object_get(
		    f, preview ? "rendered_image_file" : "model_file"));
		*ctype = preview ? json_string_value(json_object_get(
		                       f, "rendered_image_type"))
		                 : "model/gltf-binary";
		return *spool_file != NULL ? 0 : -1;
	}
	for (i = 0; i < json_array_size(names); i++) {
		json_t *f = json_array_get(files, i);
		const char *n = completed_name(f, names, i);

		if (n == NULL)
			continue;
		json_array_foreach(json_object_get(f, "formats"), k, e) {
			const struct format_info *fi = formats_find(
			    json_string_value(json_object_get(e, "name")));

			if (fi == NULL || !is_variant(name, n, fi->ext))
				continue;
			*file = i;
			*spool_file =
			    json_string_value(json_object_get(e, "file"));
			*ctype = fi->content_type;
			return *spool_file != NULL ? 0 : -1;
		}
		if (json_is_string(json_object_get(f, "preview_file")) &&
		    is_variant(name, n, "web.glb")) {
			*file = i;
			*spool_file = json_string_value(
			    json_object_get(f, "preview_file"));
			*ctype = "model/gltf-binary";
			return 0;
		}
	}
	return -1;
}

int
batch_lookup_name(json_t *summary, json_t *names, const char *name,
    size_t *file, int *preview)
{
	json_t *files = json_object_get(summary, "files");
	char pname[BATCH_NAME_MAX];
	size_t i;

	for (i = 0; i < json_array_size(names); i++) {
		json_t *f = json_array_get(files, i);
		const char *n = completed_name(f, names, i);

		if (n == NULL)
			continue;
		if (strcmp(n, name) == 0) {
			*file = i;
			*preview = 0;
			return 0;
		}
		if (batch_preview_name(f, n, pname, sizeof(pname)) &&
		    strcmp(pname, name) == 0) {
			*file = i;
			*preview = 1;
			return 0;
		}
	}
	return -1;
}
