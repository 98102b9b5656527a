/*
 * fcgi_conn.c: one FastCGI responder connection on a non-blocking socket
 * (the FastCGI 1.0 record protocol, as lighttpd speaks it: one request
 * per connection, BEGIN_REQUEST, PARAMS until an empty one, STDIN; we
 * answer STDOUT records, an empty STDOUT and END_REQUEST).
 *
 * libfcgi's streams block on the socket, so a program holding thousands
 * of requests in one thread (i2m-sse) speaks the protocol itself.  The
 * input is parsed record by record from what has arrived; the output is
 * written at once when nothing is queued (the common case: lighttpd
 * reads its backends eagerly), else queued up to FC_OUT_MAX and written
 * when the socket takes it.  Everything after the params (STDIN, a
 * second request on a kept connection) is read and dropped, so the end
 * of the connection is always seen: lighttpd closes it when the client
 * goes away.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sse.h"

#define FCGI_BEGIN_REQUEST 1
#define FCGI_ABORT_REQUEST 2
#define FCGI_END_REQUEST 3
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_STDOUT 6
#define FC_PARAMS_MAX (64 * 1024)
#define FC_REC_MAX 65535

static void
header(unsigned char h[8], int type, unsigned reqid, size_t len)
{
	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(reqid >> 8);
	h[3] = (unsigned char)reqid;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;
	h[7] = 0;
}

/* A name or value length: 1 byte below 128, else 4 with the top bit. */
static int
nvlen(const unsigned char **p, const unsigned char *end, size_t *len)
{
	if (*p >= end)
		return -1;
	if (**p < 128) {
		*len = *(*p)++;
		return 0;
	}
	if (end - *p < 4)
		return -1;
	*len = ((size_t)((*p)[0] & 0x7f) << 24) | ((size_t)(*p)[1] << 16) |
	    ((size_t)(*p)[2] << 8) | (*p)[3];
	*p += 4;
	return 0;
}

/* The PARAMS stream into "name\0value\0" pairs. */
static int
decode_params(struct fconn *c)
{
	const unsigned char *p = (const unsigned char *)c->params.p;
	const unsigned char *end = p + c->params.len;

	while (p < end) {
		size_t nl, vl;

		if (nvlen(&p, end, &nl) == -1 || nvlen(&p, end, &vl) == -1 ||
		    (size_t)(end - p) < nl || (size_t)(end - p) - nl < vl)
			return -1;
		if (sbuf_add(&c->kv, p, nl) == -1 ||
		    sbuf_add(&c->kv, "", 1) == -1 ||
		    sbuf_add(&c->kv, p + nl, vl) == -1 ||
		    sbuf_add(&c->kv, "", 1) == -1)
			return -1;
		p += nl + vl;
	}
	return 0;
}

/* One complete record; 1 when the params just became complete. */
static int
record(struct fconn *c, int type, unsigned reqid, const unsigned char *body,
    size_t len)
{
	switch (type) {
	case FCGI_BEGIN_REQUEST:
		if (c->reqid != 0)
			return 0; /* a kept connection's next request: dropped */
		c->reqid = reqid;
		return 0;
	case FCGI_ABORT_REQUEST:
		return reqid == c->reqid ? -1 : 0;
	case FCGI_PARAMS:
		if (c->ready || reqid != c->reqid)
			return 0;
		if (len == 0) {
			if (decode_params(c) == -1)
				return -1;
			sbuf_free(&c->params); /* kv holds them now */
			c->ready = 1;
			return 1;
		}
		if (c->params.len + len > FC_PARAMS_MAX)
			return -1;
		return sbuf_add(&c->params, body, len);
	default:
		return 0; /* STDIN, management records: not needed */
	}
}

int
fc_read(struct fconn *c)
{
	unsigned char buf[16384];
	int became_ready = 0;

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		size_t off = 0;

		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		if (sbuf_add(&c->in, buf, (size_t)n) == -1)
			return -1;
		/* Every whole record in the buffer. */
		while (c->in.len - off >= 8) {
			const unsigned char *h =
			    (const unsigned char *)c->in.p + off;
			size_t clen = ((size_t)h[4] << 8) | h[5];
			size_t total = 8 + clen + h[6];
			int rc;

			if (h[0] != 1)
				return -1;
			if (c->in.len - off < total)
				break;
			rc = record(
			    c, h[1], ((unsigned)h[2] << 8) | h[3], h + 8, clen);
			if (rc == -1)
				return -1;
			if (rc == 1)
				became_ready = 1;
			off += total;
		}
		memmove(c->in.p, c->in.p + off, c->in.len - off);
		c->in.len -= off;
	}
	return became_ready;
}

const char *
fc_param(struct fconn *c, const char *name)
{
	const char *p = c->kv.p, *end = c->kv.p + c->kv.len;

	while (p != NULL && p < end) {
		const char *v = p + strlen(p) + 1;

		if (strcmp(p, name) == 0)
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

int
fc_pending(const struct fconn *c)
{
	return c->out.len > c->outoff;
}

int
fc_flush(struct fconn *c)
{
	while (c->outoff < c->out.len) {
		ssize_t n =
		    write(c->fd, c->out.p + c->outoff, c->out.len - c->outoff);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		c->outoff += (size_t)n;
	}
	c->out.len = c->outoff = 0;
	return 0;
}

/* Queue (or write) one record: header + len bytes of p. */
static int
put_record(struct fconn *c, int type, const void *p, size_t len)
{
	unsigned char h[8];
	struct iovec iov[2];
	size_t done = 0, total = 8 + len;

	header(h, type, c->reqid, len);
	if (!fc_pending(c)) {
		ssize_t n;

		iov[0].iov_base = h;
		iov[0].iov_len = 8;
		iov[1].iov_base = (void *)(uintptr_t)p;
		iov[1].iov_len = len;
		do
			n = writev(c->fd, iov, len > 0 ? 2 : 1);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		done = n > 0 ? (size_t)n : 0;
		if (done == total)
			return 0;
	}
	if (c->out.len - c->outoff + total - done > FC_OUT_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	if (done < 8 && sbuf_add(&c->out, h + done, 8 - done) == -1)
		return -1;
	done = done > 8 ? done - 8 : 0;
	return sbuf_add(&c->out, (const char *)p + done, len - done);
}

int
fc_write(struct fconn *c, const void *p, size_t len)
{
	const char *s = p;

	while (len > 0) {
		size_t n = len > FC_REC_MAX ? FC_REC_MAX : len;

		if (put_record(c, FCGI_STDOUT, s, n) == -1)
			return -1;
		s += n;
		len -= n;
	}
	return 0;
}

int
fc_end(struct fconn *c)
{
	/* appStatus 0, FCGI_REQUEST_COMPLETE. */
	static const unsigned char end[8] = {0, 0, 0, 0, 0, 0, 0, 0};

	if (put_record(c, FCGI_STDOUT, "", 0) == -1)
		return -1;
	return put_record(c, FCGI_END_REQUEST, end, sizeof(end));
}

void
fc_free(struct fconn *c)
{
	sbuf_free(&c->in);
	sbuf_free(&c->params);
	sbuf_free(&c->kv);
	sbuf_free(&c->out);
	c->outoff = 0;
}
