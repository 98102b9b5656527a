/*
 * multipart.c: a streaming multipart/form-data parser (RFC 7578).
 *
 * Memory is one fixed buffer whatever the body size: body bytes are
 * handed to the part_data callback as soon as they cannot be the start of
 * a delimiter, so at most strlen(delimiter) - 1 bytes are held back.  The
 * body is treated as if it began with CRLF, so the first delimiter
 * "--boundary" and every later "\r\n--boundary" are found by one search.
 * A part's header block is bounded (MP_HEAD_MAX); anything that does not
 * follow the grammar, or a body that ends before the close delimiter, is
 * MP_MALFORMED, so a cut-off upload can never look complete.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgi.h"

#define MP_BUF (64 * 1024)
#define MP_HEAD_MAX (8 * 1024)
#define MP_DELIM_MAX 80

enum mp_state { ST_PREAMBLE, ST_AFTER, ST_HEADERS, ST_BODY };

struct mp {
	char buf[MP_BUF];
	size_t len, pos;
	int eof;
	char delim[MP_DELIM_MAX + 8];
	size_t dlen;
	char name[128];
	char filename[512];
	int has_filename;
};

int
mp_boundary(const char *ctype, char *out, size_t len)
{
	const char *p;
	size_t n;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0)
		return -1;
	p = strcasestr(ctype, "boundary=");
	if (p == NULL)
		return -1;
	p += 9;
	if (*p == '"') {
		p++;
		n = strcspn(p, "\"");
	} else
		n = strcspn(p, "; \t");
	if (n == 0 || n > 70 || n >= len)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Copy a token or quoted string at p into out; returns the end. */
static const char *
param_value(const char *p, char *out, size_t len)
{
	size_t o = 0;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (o + 1 < len)
				out[o++] = *p;
		}
		if (*p == '"')
			p++;
	} else {
		for (; *p != '\0' && *p != ';'; p++)
			if (o + 1 < len)
				out[o++] = *p;
		while (o > 0 && isspace((unsigned char)out[o - 1]))
			o--;
	}
	out[o] = '\0';
	return p;
}

/* Content-Disposition: form-data; name="x"; filename="y" */
static int
parse_disposition(struct mp *m, const char *v)
{
	const char *p = v;

	if (strncasecmp(p, "form-data", 9) != 0)
		return -1;
	p += 9;
	while (*p != '\0') {
		char key[32];
		size_t k = 0;

		while (*p == ';' || isspace((unsigned char)*p))
			p++;
		while (*p != '\0' && *p != '=' && *p != ';' &&
		    !isspace((unsigned char)*p)) {
			if (k + 1 < sizeof(key))
				key[k++] = *p;
			p++;
		}
		key[k] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			continue;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (strcasecmp(key, "name") == 0)
			p = param_value(p, m->name, sizeof(m->name));
		else if (strcasecmp(key, "filename") == 0) {
			p = param_value(p, m->filename, sizeof(m->filename));
			m->has_filename = 1;
		} else {
			char skip[256];

			p = param_value(p, skip, sizeof(skip));
		}
	}
	return m->name[0] != '\0' ? 0 : -1;
}

/* Parse the header block [h, h+n) (without the final empty line). */
static int
parse_headers(struct mp *m, char *h, size_t n)
{
	char *line = h, *end = h + n;
	int seen = 0;

	m->name[0] = '\0';
	m->filename[0] = '\0';
	m->has_filename = 0;
	while (line < end) {
		char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		char *colon, *v;

		if (eol == NULL)
			eol = end;
		*eol = '\0';
		colon = strchr(line, ':');
		if (colon == NULL)
			return -1;
		*colon = '\0';
		for (v = colon + 1; isspace((unsigned char)*v); v++)
			;
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (parse_disposition(m, v) == -1)
				return -1;
			seen = 1;
		}
		line = eol + 2;
	}
	return seen ? 0 : -1;
}

/* Move unread bytes to the front and read more; -1 on a read error. */
static int
fill(struct mp *m, FCGX_Stream *in)
{
	int n;

	if (m->pos > 0) {
		memmove(m->buf, m->buf + m->pos, m->len - m->pos);
		m->len -= m->pos;
		m->pos = 0;
	}
	if (m->len == sizeof(m->buf))
		return 0;
	n = FCGX_GetStr(m->buf + m->len, (int)(sizeof(m->buf) - m->len), in);
	if (n < 0 || FCGX_GetError(in) != 0)
		return -1;
	if (n == 0)
		m->eof = 1;
	m->len += (size_t)n;
	return 0;
}

static enum mp_result
run(struct mp *m, FCGX_Stream *in, const struct mp_callbacks *cb, void *ctx)
{
	enum mp_state st = ST_PREAMBLE;

	for (;;) {
		size_t avail = m->len - m->pos;
		char *p = m->buf + m->pos;
		int more = 0;

		switch (st) {
		case ST_PREAMBLE:
		case ST_BODY: {
			char *d = memmem(p, avail, m->delim, m->dlen);
			size_t safe;

			if (d != NULL) {
				if (st == ST_BODY && d > p &&
				    cb->part_data(ctx, p, (size_t)(d - p)) ==
				        -1)
					return MP_STOPPED;
				m->pos += (size_t)(d - p) + m->dlen;
				if (st == ST_BODY && cb->part_end(ctx) == -1)
					return MP_STOPPED;
				st = ST_AFTER;
				continue;
			}
			safe = avail >= m->dlen ? avail - (m->dlen - 1) : 0;
			if (st == ST_BODY && safe > 0 &&
			    cb->part_data(ctx, p, safe) == -1)
				return MP_STOPPED;
			m->pos += safe;
			more = 1;
			break;
		}
		case ST_AFTER:
			if (avail < 2) {
				more = 1;
				break;
			}
			if (p[0] == '-' && p[1] == '-')
				return MP_OK; /* the epilogue is ignored */
			if (p[0] != '\r' || p[1] != '\n')
				return MP_MALFORMED;
			m->pos += 2;
			st = ST_HEADERS;
			continue;
		case ST_HEADERS: {
			char *e;

			if (avail >= 2 && p[0] == '\r' && p[1] == '\n')
				return MP_MALFORMED; /* no disposition */
			e = memmem(p, avail, "\r\n\r\n", 4);
			if (e == NULL) {
				if (avail > MP_HEAD_MAX)
					return MP_MALFORMED;
				more = 1;
				break;
			}
			if (parse_headers(m, p, (size_t)(e - p)) == -1)
				return MP_MALFORMED;
			m->pos += (size_t)(e - p) + 4;
			if (cb->part_begin(ctx, m->name,
			        m->has_filename ? m->filename : NULL) == -1)
				return MP_STOPPED;
			st = ST_BODY;
			continue;
		}
		}
		if (more) {
			if (m->eof)
				return MP_MALFORMED;
			if (fill(m, in) == -1)
				return MP_IO;
		}
	}
}

enum mp_result
mp_parse(FCGX_Stream *in, const char *boundary, const struct mp_callbacks *cb,
    void *ctx)
{
	enum mp_result rc;
	struct mp *m;
	int n;

	m = malloc(sizeof(*m));
	if (m == NULL)
		return MP_IO;
	m->len = m->pos = 0;
	m->eof = 0;
	n = snprintf(m->delim, sizeof(m->delim), "\r\n--%s", boundary);
	if (n < 0 || (size_t)n >= sizeof(m->delim)) {
		free(m);
		return MP_MALFORMED;
	}
	m->dlen = (size_t)n;
	/* The virtual CRLF before the first delimiter. */
	memcpy(m->buf, "\r\n", 2);
	m->len = 2;
	rc = run(m, in, cb, ctx);
	free(m);
	return rc;
}
