/*
 * threemf.c: the welded mesh as a 3MF package through lib3mf (Debian's
 * lib3mf 1.x), unit millimetre, one object, one build item.
 *
 * lib3mf 1.x's header is C++ only (namespaces around an extern "C"
 * block), so the plain-C exports used here are declared below, with the
 * library's handles as void pointers; their ABI is that of
 * Model/COM/NMR_DLLInterfaces.h (int results, 0 = success; vertices
 * MODELMESHVERTEX = 3 floats, triangles MODELMESHTRIANGLE = 3 DWORDs).
 * Welded vertices matter here: a slicer finds a 3MF mesh closed through
 * shared vertex indices.
 *
 * lib3mf 1.8 writes every part of the package as a zip64 entry dated
 * month 0, which older zip readers (Assimp's among them) refuse; the
 * package is therefore copied part by part into a plain zip by
 * libarchive, the parts' bytes unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkformats.h"

#define MODELUNIT_MILLIMETER 1

int lib3mf_createmodel(void **model);
int lib3mf_release(void *instance);
int lib3mf_getlasterror(void *instance, unsigned *code, const char **msg);
int lib3mf_model_setunit(void *model, unsigned unit);
int lib3mf_model_addmeshobject(void *model, void **mesh);
int lib3mf_object_setnameutf8(void *object, const char *name);
int lib3mf_meshobject_setgeometry(void *mesh, const float *vertices,
    unsigned nvertices, const uint32_t *triangles, unsigned ntriangles);
int lib3mf_model_addbuilditem(
    void *model, void *object, const void *transform, void **item);
int lib3mf_model_querywriter(void *model, const char *cls, void **writer);
int lib3mf_writer_getstreamsize(void *writer, unsigned long long *size);
int lib3mf_writer_writetobuffer(
    void *writer, unsigned char *buf, unsigned long long len);

static void
fail(void *inst, const char *what, char *err, size_t errlen)
{
	const char *msg = NULL;
	unsigned code = 0;

	if (inst != NULL)
		lib3mf_getlasterror(inst, &code, &msg);
	snprintf(err, errlen, "lib3mf could not %s (%s, code %u).", what,
	    msg != NULL ? msg : "no reason given", code);
}

/* Copy the zip in buf, part by part, as a plain zip onto fd. */
static int
repack(const unsigned char *buf, size_t len, int fd, char *err, size_t errlen)
{
	struct archive *in = archive_read_new(), *out = archive_write_new();
	struct archive_entry *e;
	char chunk[65536];
	int r, rc = -1;

	if (in == NULL || out == NULL ||
	    archive_read_support_format_zip(in) != ARCHIVE_OK ||
	    archive_read_open_memory(in, buf, len) != ARCHIVE_OK ||
	    archive_write_set_format_zip(out) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(out, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(out, fd) != ARCHIVE_OK) {
		snprintf(err, errlen, "The 3MF package could not be opened.");
		goto out;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		la_ssize_t n;

		archive_entry_set_mtime(e, time(NULL), 0);
		archive_entry_set_perm(e, 0644);
		if (archive_write_header(out, e) != ARCHIVE_OK)
			break;
		while ((n = archive_read_data(in, chunk, sizeof(chunk))) > 0)
			if (archive_write_data(out, chunk, (size_t)n) != n)
				goto fail;
		if (n < 0)
			goto fail;
	}
	if (r == ARCHIVE_EOF && archive_write_close(out) == ARCHIVE_OK)
		rc = 0;
fail:
	if (rc == -1)
		snprintf(err, errlen,
		    "The 3MF package could not be written (%s).",
		    archive_error_string(out) != NULL
		        ? archive_error_string(out)
		        : "bad zip");
out:
	if (in != NULL)
		archive_read_free(in);
	if (out != NULL)
		archive_write_free(out);
	return rc;
}

int
cv_export_3mf(const struct cv_mesh *m, int fd, char *err, size_t errlen)
{
	void *model = NULL, *mesh = NULL, *item = NULL, *writer = NULL;
	unsigned long long size = 0;
	unsigned char *buf = NULL;
	int rc = -1;

	if (lib3mf_createmodel(&model) != 0) {
		fail(NULL, "start a model", err, errlen);
		return -1;
	}
	if (lib3mf_model_setunit(model, MODELUNIT_MILLIMETER) != 0) {
		fail(model, "set the unit", err, errlen);
		goto out;
	}
	if (lib3mf_model_addmeshobject(model, &mesh) != 0) {
		fail(model, "add the mesh", err, errlen);
		goto out;
	}
	/* Assimp's 3MF reader (5.2) drops an object without a name. */
	if (lib3mf_object_setnameutf8(mesh, "model") != 0) {
		fail(mesh, "name the object", err, errlen);
		goto out;
	}
	if (lib3mf_meshobject_setgeometry(mesh, m->pos, (unsigned)m->nverts,
	        m->tri, (unsigned)m->ntris) != 0) {
		fail(mesh, "store the triangles", err, errlen);
		goto out;
	}
	if (lib3mf_model_addbuilditem(model, mesh, NULL, &item) != 0) {
		fail(model, "place the object", err, errlen);
		goto out;
	}
	if (lib3mf_model_querywriter(model, "3mf", &writer) != 0 ||
	    lib3mf_writer_getstreamsize(writer, &size) != 0) {
		fail(writer != NULL ? writer : model, "write the package", err,
		    errlen);
		goto out;
	}
	if ((buf = malloc(size)) == NULL) {
		snprintf(
		    err, errlen, "Out of memory for a %llu-byte 3MF.", size);
		goto out;
	}
	if (lib3mf_writer_writetobuffer(writer, buf, size) != 0) {
		fail(writer, "write the package", err, errlen);
		goto out;
	}
	rc = repack(buf, (size_t)size, fd, err, errlen);
out:
	free(buf);
	if (writer != NULL)
		lib3mf_release(writer);
	if (item != NULL)
		lib3mf_release(item);
	if (mesh != NULL)
		lib3mf_release(mesh);
	lib3mf_release(model);
	return rc;
}
