/*
 * fbxfix.c: mend the binary FBX that Assimp 5.2 writes.
 *
 * A binary FBX (7.5, 64-bit records) is a tree of records: end offset,
 * property count, property bytes, name, properties, then the nested
 * records, which must be closed by a null record (25 zero bytes).
 * Assimp 5.2 omits that null record after every nested list, so no
 * reader (Blender's, Autodesk's, Assimp's own) opens the file.  The tree
 * is copied here record by record, each nested list closed, every end
 * offset recomputed; properties are copied byte for byte.  A file that
 * already has its null records comes out the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mkformats.h"

#define FBX_HEAD 27 /* "Kaydara FBX Binary  \0\x1a\0" + version */
#define FBX_REC 25 /* end, count, length (8 bytes each), name length */

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int
grow(struct cv_buf *o, size_t more)
{
	if (o->len + more > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 1 << 20;
		unsigned char *p;

		while (cap < o->len + more)
			cap *= 2;
		if ((p = realloc(o->p, cap)) == NULL)
			return -1;
		o->p = p;
		o->cap = cap;
	}
	return 0;
}

/*
 * Copy the records of in[off, end) to o; the offset of the null record
 * that ends the list (or end), or -1 on a malformed tree.
 */
static long long
copy_list(const unsigned char *in, size_t off, size_t end, struct cv_buf *o,
    int depth)
{
	static const unsigned char zero[FBX_REC];

	if (depth > 64)
		return -1;
	while (off + FBX_REC <= end) {
		uint64_t e = le64(in + off), pl = le64(in + off + 16);
		size_t nl = in[off + 24], at = o->len, head;

		if (e == 0)
			return (long long)off; /* the list's null record */
		if (e > end || pl > end || e < off + FBX_REC + nl + pl)
			return -1;
		head = FBX_REC + nl + (size_t)pl;
		if (grow(o, head) == -1)
			return -1;
		memcpy(o->p + o->len, in + off, head);
		o->len += head;
		if (off + head < e) {
			if (copy_list(in, off + head, (size_t)e, o, depth + 1) <
			        0 ||
			    grow(o, FBX_REC) == -1)
				return -1;
			memcpy(o->p + o->len, zero, FBX_REC);
			o->len += FBX_REC;
		}
		put64(o->p + at, (uint64_t)o->len);
		off = (size_t)e;
	}
	return (long long)off;
}

int
cv_fbx_fix(const unsigned char *in, size_t len, struct cv_buf *o)
{
	static const char magic[] = "Kaydara FBX Binary  ";
	long long top;
	uint32_t version;

	memset(o, 0, sizeof(*o));
	if (len < FBX_HEAD || memcmp(in, magic, sizeof(magic)) != 0)
		return -1;
	version = (uint32_t)in[23] | (uint32_t)in[24] << 8 |
	    (uint32_t)in[25] << 16 | (uint32_t)in[26] << 24;
	if (version < 7500 || grow(o, FBX_HEAD) == -1)
		return -1;
	memcpy(o->p, in, FBX_HEAD);
	o->len = FBX_HEAD;
	top = copy_list(in, FBX_HEAD, len, o, 0);
	/* The top-level null record and the footer, as they were. */
	if (top < 0 || grow(o, len - (size_t)top) == -1) {
		free(o->p);
		memset(o, 0, sizeof(*o));
		return -1;
	}
	memcpy(o->p + o->len, in + top, len - (size_t)top);
	o->len += len - (size_t)top;
	return 0;
}
