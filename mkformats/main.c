/*
 * main.c: i2m-formats, one conversion of a GLB per run (convert.h).
 *
 *   i2m-formats info GLB                 {"triangles","vertices","watertight"}
 *   i2m-formats stl|3mf GLB [HEIGHT_MM]  the printable formats, HEIGHT_MM
 *                                        high (default 100), z up, base z = 0
 *   i2m-formats obj|ply|fbx GLB          the other formats, as in the GLB
 *   i2m-formats preview GLB              the light web copy (preview.c)
 *
 * The result goes to standard output, the one sentence saying why it
 * failed to standard error.  Exit status: 0 done, 1 the conversion
 * failed, 2 usage.  The daemon (daemon/formats.c) sets the time and
 * memory limits before it starts this program.
 *
 * I2M_FORMATS_FAIL=<format> makes that format's run crash (abort) before
 * it writes anything: the tests' way to show that one broken format
 * leaves the GLB and every other format intact.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <assimp/cimport.h>
#include <assimp/scene.h>

#include "mkformats.h"

enum kind { K_ASSIMP, K_OBJ, K_3MF };

struct fmt {
	const char *name;
	enum kind kind;
	const char *assimp_id;
	int print;
};

static const struct fmt fmts[] = {
    {"stl", K_ASSIMP, "stlb", 1},
    {"3mf", K_3MF, NULL, 1},
    {"ply", K_ASSIMP, "plyb", 0},
    /* binary, mended: Assimp 5.2's lacks the nested-list null records
     * (export.c, fbxfix.c) */
    {"fbx", K_ASSIMP, "fbx", 0},
    {"obj", K_OBJ, NULL, 0},
};

static int
usage(void)
{
	fprintf(stderr,
	    "usage: i2m-formats info|preview|stl|3mf|ply|fbx|obj GLB [HEIGHT_MM]\n");
	return 2;
}

static int
info(const struct aiScene *sc, char *err, size_t errlen)
{
	struct cv_mesh m;

	if (cv_weld(sc, &m, err, errlen) == -1)
		return -1;
	printf("{\"triangles\":%zu,\"vertices\":%zu,\"watertight\":%s}\n",
	    m.ntris, m.nverts, cv_watertight(&m) ? "true" : "false");
	cv_mesh_free(&m);
	return fflush(stdout) == 0 ? 0 : -1;
}

static int
convert(const struct fmt *f, const struct aiScene *sc, double height, char *err,
    size_t errlen)
{
	struct cv_mesh m;
	int rc;

	if (f->print &&
	    cv_print_transform((struct aiScene *)sc, height, err, errlen) == -1)
		return -1;
	switch (f->kind) {
	case K_ASSIMP:
		return cv_export_assimp(sc, f->assimp_id, 1, err, errlen);
	case K_OBJ:
		return cv_export_obj_zip(sc, 1, err, errlen);
	case K_3MF:
		if (cv_weld(sc, &m, err, errlen) == -1)
			return -1;
		rc = cv_export_3mf(&m, 1, err, errlen);
		cv_mesh_free(&m);
		return rc;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	const struct fmt *f = NULL;
	const struct aiScene *sc;
	const char *fail = getenv("I2M_FORMATS_FAIL");
	double height = 100.0;
	char err[512] = "", *end;
	size_t i;
	int rc;

	if (argc < 3 || argc > 4)
		return usage();
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (strcmp(argv[1], fmts[i].name) == 0)
			f = &fmts[i];
	if (f == NULL && strcmp(argv[1], "info") != 0 &&
	    strcmp(argv[1], "preview") != 0)
		return usage();
	if (argc == 4) {
		errno = 0;
		height = strtod(argv[3], &end);
		if (errno != 0 || *end != '\0' || !(height > 0))
			return usage();
	}
	if (fail != NULL && strcmp(fail, argv[1]) == 0)
		abort();
	if (strcmp(argv[1], "preview") == 0) {
		if (cv_preview(argv[2], 1, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "%s\n", err[0] ? err : "The preview failed.");
		return 1;
	}
	sc = cv_load(argv[2], err, sizeof(err));
	if (sc == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rc = f == NULL ? info(sc, err, sizeof(err))
	               : convert(f, sc, height, err, sizeof(err));
	aiReleaseImport(sc);
	if (rc == -1) {
		fprintf(
		    stderr, "%s\n", err[0] ? err : "The conversion failed.");
		return 1;
	}
	return 0;
}
