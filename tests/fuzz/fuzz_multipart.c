/*
 * fuzz_multipart.c: the upload handler's multipart parser (cgi/multipart.c)
 * fed through an in-memory FCGX_Stream that hands the body over in chunks
 * of a size the input chooses, so delimiters split across reads are
 * covered.  Input: byte 0 = chunk size - 1, then the boundary up to the
 * first '\n' (at most 70 bytes), then the body.  The callbacks check what
 * the parser promises: data only inside a part, begin/end paired.
 */
#include <fcgiapp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
	size_t n, off, chunk;
	unsigned char buf[256];
};

static void
fill(FCGX_Stream *s)
{
	struct mem *m = s->data;
	size_t k = m->n - m->off;

	if (k == 0) {
		s->isClosed = 1;
		return;
	}
	if (k > m->chunk)
		k = m->chunk;
	memcpy(m->buf, m->p + m->off, k);
	m->off += k;
	s->rdNext = m->buf;
	s->stop = m->buf + k;
}

struct ctx {
	int in_part;
	size_t bytes;
};

static int
begin(void *c, const char *name, const char *filename)
{
	struct ctx *x = c;

	if (x->in_part || name == NULL)
		abort();
	x->in_part = 1;
	x->bytes += strlen(name) + (filename != NULL ? strlen(filename) : 0);
	return 0;
}

static int
data_cb(void *c, const char *buf, size_t len)
{
	struct ctx *x = c;
	size_t i;

	if (!x->in_part)
		abort();
	for (i = 0; i < len; i++)
		x->bytes += (unsigned char)buf[i];
	return 0;
}

static int
end(void *c)
{
	struct ctx *x = c;

	if (!x->in_part)
		abort();
	x->in_part = 0;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mp_callbacks cb = {begin, data_cb, end};
	char boundary[80];
	struct mem m;
	struct ctx x = {0, 0};
	FCGX_Stream s;
	const uint8_t *nl;
	size_t bl;

	if (size < 2)
		return 0;
	nl = memchr(data + 1, '\n', size - 1);
	if (nl == NULL)
		return 0;
	bl = (size_t)(nl - (data + 1));
	if (bl == 0 || bl > 70 || memchr(data + 1, '\0', bl) != NULL)
		return 0;
	memcpy(boundary, data + 1, bl);
	boundary[bl] = '\0';
	memset(&m, 0, sizeof(m));
	m.p = nl + 1;
	m.n = size - (size_t)(nl + 1 - data);
	m.chunk = (size_t)data[0] + 1;
	memset(&s, 0, sizeof(s));
	s.isReader = 1;
	s.fillBuffProc = fill;
	s.data = &m;
	s.rdNext = s.stop = s.stopUnget = m.buf;
	if (mp_parse(&s, boundary, &cb, &x) == MP_OK && x.in_part)
		abort(); /* a complete parse ends every part */
	return 0;
}
