/*
 * mkformats.h: i2m-formats, the helper the daemon starts to turn a finished
 * GLB into another format (daemon/formats.c runs it under time and memory
 * limits, one format per run, so a crash or a runaway conversion costs
 * that format only).  It knows nothing of the spool: it reads the GLB it
 * is named and writes the new file to its standard output, which the
 * daemon has pointed at a temp file it publishes on success.
 *
 * Every conversion reads the GLB with Assimp, node transforms applied,
 * so every format holds the same triangles in the same place; the
 * printable formats (STL, 3MF) are then turned z up (glTF is y up),
 * scaled so their height is the asked number of millimetres, and stood on
 * z = 0, centred in x and y.
 *
 * Functions return 0, or -1 with one sentence in err.
 */
#ifndef MKFORMATS_H
#define MKFORMATS_H

#include <stddef.h>
#include <stdint.h>

struct aiScene;

/* A scene's triangles over welded vertices (equal positions are one). */
struct cv_mesh {
	float *pos; /* 3 floats per vertex */
	size_t nverts;
	uint32_t *tri; /* 3 indices per triangle */
	size_t ntris;
};

/* A growing byte buffer (p malloc'd). */
struct cv_buf {
	unsigned char *p;
	size_t len, cap;
};

/* mesh.c --------------------------------------------------------------- */

/* Read a GLB (transforms applied, triangles only); aiReleaseImport frees. */
const struct aiScene *cv_load(const char *path, char *err, size_t errlen);
/* Every triangle of the scene over welded vertices; cv_mesh_free frees. */
int
cv_weld(const struct aiScene *sc, struct cv_mesh *m, char *err, size_t errlen);
void cv_mesh_free(struct cv_mesh *m);
/* 1 when every edge is shared by exactly two triangles (and there are
 * triangles), else 0. */
int cv_watertight(const struct cv_mesh *m);
/*
 * Turn the scene z up, scale it to height_mm, base at z = 0, centred in x
 * and y (positions and normals, in place).  -1 when it has no extent.
 */
int cv_print_transform(
    struct aiScene *sc, double height_mm, char *err, size_t errlen);

/* export.c ------------------------------------------------------------- */

/* Write the scene with Assimp's exporter id (stlb, plyb, fbx) to fd. */
int cv_export_assimp(
    const struct aiScene *sc, const char *id, int fd, char *err, size_t errlen);
/*
 * OBJ + MTL + every texture as PNG (Assimp writes the OBJ and MTL; the
 * GLB's embedded images are written here, since Assimp's OBJ writer does
 * not), as one zip on fd: model.obj, model.mtl, texture_<i>.png.
 */
int
cv_export_obj_zip(const struct aiScene *sc, int fd, char *err, size_t errlen);

/* fbxfix.c ------------------------------------------------------------- */

/*
 * The binary FBX in with the null record that closes every nested list
 * (Assimp 5.2 writes none) into o (caller frees o->p); -1 when in is not
 * a 64-bit binary FBX.
 */
int cv_fbx_fix(const unsigned char *in, size_t len, struct cv_buf *o);

/* threemf.c ------------------------------------------------------------ */

/* The welded mesh as a 3MF (unit millimetre) on fd, through lib3mf. */
int cv_export_3mf(const struct cv_mesh *m, int fd, char *err, size_t errlen);

/* preview.c ----------------------------------------------------------- */

/*
 * The light web copy of the GLB at path on fd: images scaled to at most
 * 2048 px a side, then gltfpack's meshopt compression and quantization.
 */
int cv_preview(const char *path, int fd, char *err, size_t errlen);

/* tmpdir.c ------------------------------------------------------------- */

/*
 * A private directory for writers that only write to a path: made under
 * $TMPDIR (else /tmp), removed with what is in it by cv_tmpdir_remove.
 */
int cv_tmpdir_make(char *dir, size_t len, char *err, size_t errlen);
void cv_tmpdir_remove(const char *dir);
/* Copy the file at path to fd; 0 or -1. */
int cv_copy_to_fd(const char *path, int fd, char *err, size_t errlen);

#endif
