/*
 * mesh.c: the GLB as Assimp reads it, its triangles over welded vertices,
 * the watertight test and the turn into printing coordinates.
 *
 * Welding is by exact position (-0 and +0 are one): a GLB splits a vertex
 * wherever its UV or normal changes, and a watertight surface must not
 * count those seams as open edges.  Both welding and the edge count sort
 * instead of hashing, so memory is a few arrays of the mesh's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <assimp/cimport.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>

#include "mkformats.h"

const struct aiScene *
cv_load(const char *path, char *err, size_t errlen)
{
	const struct aiScene *sc;

	/* Node transforms baked in, so every writer sees world positions. */
	sc = aiImportFile(path,
	    aiProcess_Triangulate | aiProcess_PreTransformVertices |
	        aiProcess_ValidateDataStructure);
	if (sc == NULL) {
		snprintf(err, errlen, "The GLB could not be read (%s).",
		    aiGetErrorString());
		return NULL;
	}
	if (sc->mNumMeshes == 0) {
		snprintf(err, errlen, "The GLB has no mesh.");
		aiReleaseImport(sc);
		return NULL;
	}
	return sc;
}

struct wv {
	float p[3];
	uint32_t at; /* index in the scene's vertex order */
};

static int
wv_cmp(const void *a, const void *b)
{
	const struct wv *x = a, *y = b;
	int i;

	for (i = 0; i < 3; i++)
		if (x->p[i] != y->p[i])
			return x->p[i] < y->p[i] ? -1 : 1;
	return 0;
}

int
cv_weld(const struct aiScene *sc, struct cv_mesh *m, char *err, size_t errlen)
{
	struct wv *v = NULL;
	uint32_t *id = NULL, *base = NULL;
	size_t nv = 0, nt = 0, i, k, t = 0;
	unsigned mi, f;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	for (mi = 0; mi < sc->mNumMeshes; mi++) {
		nv += sc->mMeshes[mi]->mNumVertices;
		for (f = 0; f < sc->mMeshes[mi]->mNumFaces; f++)
			nt += sc->mMeshes[mi]->mFaces[f].mNumIndices == 3;
	}
	if (nt == 0 || nv >= UINT32_MAX) {
		snprintf(err, errlen, "The GLB has no triangles to convert.");
		return -1;
	}
	v = malloc(nv * sizeof(*v));
	id = malloc(nv * sizeof(*id));
	base = malloc(sc->mNumMeshes * sizeof(*base));
	m->pos = malloc(nv * 3 * sizeof(float));
	m->tri = malloc(nt * 3 * sizeof(uint32_t));
	if (v == NULL || id == NULL || base == NULL || m->pos == NULL ||
	    m->tri == NULL) {
		snprintf(err, errlen, "Out of memory for %zu vertices.", nv);
		goto out;
	}
	for (mi = 0, k = 0; mi < sc->mNumMeshes; mi++) {
		const struct aiMesh *me = sc->mMeshes[mi];
		unsigned j;

		base[mi] = (uint32_t)k;
		for (j = 0; j < me->mNumVertices; j++, k++) {
			v[k].p[0] = me->mVertices[j].x + 0.0f; /* -0 -> +0 */
			v[k].p[1] = me->mVertices[j].y + 0.0f;
			v[k].p[2] = me->mVertices[j].z + 0.0f;
			v[k].at = (uint32_t)k;
		}
	}
	qsort(v, nv, sizeof(*v), wv_cmp);
	for (i = 0; i < nv; i++) {
		if (i == 0 || wv_cmp(&v[i - 1], &v[i]) != 0) {
			memcpy(m->pos + 3 * m->nverts, v[i].p, sizeof(v[i].p));
			m->nverts++;
		}
		id[v[i].at] = (uint32_t)(m->nverts - 1);
	}
	for (mi = 0; mi < sc->mNumMeshes; mi++) {
		const struct aiMesh *me = sc->mMeshes[mi];

		for (f = 0; f < me->mNumFaces; f++) {
			const struct aiFace *fc = &me->mFaces[f];

			if (fc->mNumIndices != 3)
				continue;
			for (k = 0; k < 3; k++)
				m->tri[3 * t + k] =
				    id[base[mi] + fc->mIndices[k]];
			t++;
		}
	}
	m->ntris = t;
	rc = 0;
out:
	free(v);
	free(id);
	free(base);
	if (rc == -1)
		cv_mesh_free(m);
	return rc;
}

void
cv_mesh_free(struct cv_mesh *m)
{
	free(m->pos);
	free(m->tri);
	memset(m, 0, sizeof(*m));
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
cv_watertight(const struct cv_mesh *m)
{
	uint64_t *e;
	size_t n = m->ntris * 3, i, run;
	int ok = m->ntris > 0;

	if (!ok || (e = malloc(n * sizeof(*e))) == NULL)
		return 0;
	for (i = 0; i < m->ntris; i++) {
		int k;

		for (k = 0; k < 3; k++) {
			uint64_t a = m->tri[3 * i + k],
			         b = m->tri[3 * i + (k + 1) % 3];

			e[3 * i + k] = a < b ? a << 32 | b : b << 32 | a;
		}
	}
	qsort(e, n, sizeof(*e), u64_cmp);
	for (i = 0; ok && i < n; i += run) {
		for (run = 1; i + run < n && e[i + run] == e[i]; run++)
			;
		/* A degenerate triangle's edge (a, a) is open too. */
		ok = run == 2 && (e[i] >> 32) != (e[i] & 0xffffffffu);
	}
	free(e);
	return ok;
}

int
cv_print_transform(
    struct aiScene *sc, double height_mm, char *err, size_t errlen)
{
	double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
	double s, c[3];
	unsigned mi, j;
	int k;

	/* glTF is y up, a printer z up: (x, y, z) -> (x, -z, y), a rotation. */
	for (mi = 0; mi < sc->mNumMeshes; mi++) {
		struct aiMesh *me = sc->mMeshes[mi];

		for (j = 0; j < me->mNumVertices; j++) {
			struct aiVector3D *p = &me->mVertices[j];
			float y = p->y;
			double q[3];

			p->y = -p->z;
			p->z = y;
			if (me->mNormals != NULL) {
				struct aiVector3D *nv = &me->mNormals[j];
				float ny = nv->y;

				nv->y = -nv->z;
				nv->z = ny;
			}
			q[0] = p->x;
			q[1] = p->y;
			q[2] = p->z;
			for (k = 0; k < 3; k++) {
				if (q[k] < lo[k])
					lo[k] = q[k];
				if (q[k] > hi[k])
					hi[k] = q[k];
			}
		}
	}
	if (!(hi[2] > lo[2])) {
		snprintf(err, errlen, "The model has no height to scale.");
		return -1;
	}
	s = height_mm / (hi[2] - lo[2]);
	c[0] = (lo[0] + hi[0]) / 2;
	c[1] = (lo[1] + hi[1]) / 2;
	c[2] = lo[2];
	for (mi = 0; mi < sc->mNumMeshes; mi++) {
		struct aiMesh *me = sc->mMeshes[mi];

		for (j = 0; j < me->mNumVertices; j++) {
			struct aiVector3D *p = &me->mVertices[j];

			p->x = (float)((p->x - c[0]) * s);
			p->y = (float)((p->y - c[1]) * s);
			p->z = (float)((p->z - c[2]) * s);
		}
	}
	return 0;
}
