/*
 * convert.c: i2m-convert, one offline conversion (img2glb) in a process of
 * its own, started by the daemon's local backend for every file
 * (protocol: convert.h).
 *
 * It limits itself before it reads a byte: RLIMIT_AS to the address space
 * it has at start plus MEMORY_MB (a fresh exec'd process: what it maps
 * from then on is what counts), RLIMIT_CPU to CPU_S (SIGXCPU, then SIGKILL
 * 5 s later).  The same limits hold for its second job, the upload's
 * thumbnail ("thumb", i2g_thumbnail).  A bomb or a decoder bug then ends here, and the daemon
 * reads from how it ended what to tell the user.  Nothing else: no
 * configuration, no spool, no log; the only output is the answer on fd 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "convert.h"
#include "img2glb.h"

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
limits(long mem_mb, long cpu_s)
{
	struct rlimit rl;
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	if (pages > 0 && mem_mb > 0) {
		rl.rlim_cur = rl.rlim_max =
		    (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) +
		    (rlim_t)mem_mb * 1024 * 1024;
		setrlimit(RLIMIT_AS, &rl);
	}
	if (cpu_s > 0) {
		rl.rlim_cur = (rlim_t)cpu_s;
		rl.rlim_max = (rlim_t)cpu_s + 5;
		setrlimit(RLIMIT_CPU, &rl);
	}
}

/* The whole of fd 0, at most CONVERT_INPUT_CAP bytes; NULL on failure. */
static char *
slurp(size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *b = malloc(cap), *nb;

	while (b != NULL) {
		ssize_t r;

		if (n == cap) {
			if (cap >= (size_t)CONVERT_INPUT_CAP)
				break;
			cap *= 2;
			nb = realloc(b, cap);
			if (nb == NULL)
				break;
			b = nb;
		}
		r = read(0, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			*len = n;
			return b;
		}
		n += (size_t)r;
	}
	free(b);
	return NULL;
}

/* The thumbnail of the image on fd 0 (i2g_thumbnail), side pixels at most. */
static void
thumb(int side, struct convert_reply *r, unsigned char **out)
{
	size_t len = 0;
	char *img = slurp(&len);

	if (img == NULL) {
		snprintf(r->err, sizeof(r->err),
		    "The uploaded image could not be read for its thumbnail (%s).",
		    errno == 0 ? "out of memory" : strerror(errno));
		return;
	}
	r->ok = i2g_thumbnail(img, len, side, out, &r->glblen, r->err,
	            sizeof(r->err)) == 0;
	free(img);
}

int
main(int argc, char **argv)
{
	struct convert_reply r;
	struct i2g_opts o;
	unsigned char *glb = NULL;
	char *img;
	size_t len = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	if (argc == 5 && strcmp(argv[1], CONVERT_THUMB) == 0) {
		limits(strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10));
		thumb((int)strtol(argv[4], NULL, 10), &r, &glb);
		goto answer;
	}
	if (argc != 7) {
		fprintf(stderr,
		    "usage: %s MEMORY_MB CPU_S MODE BACK RESOLUTION THICKNESS <image >answer\n"
		    "       %s thumb MEMORY_MB CPU_S SIDE <image >answer\n",
		    argv[0], argv[0]);
		return 2;
	}
	limits(strtol(argv[1], NULL, 10), strtol(argv[2], NULL, 10));
	o.mode = strcmp(argv[3], "-") == 0 ? NULL : argv[3];
	o.back = strcmp(argv[4], "-") == 0 ? NULL : argv[4];
	o.resolution = (int)strtol(argv[5], NULL, 10);
	o.thickness = strtod(argv[6], NULL);
	img = slurp(&len);
	if (img == NULL)
		snprintf(r.err, sizeof(r.err),
		    "The uploaded image could not be read for conversion (%s).",
		    errno == 0 ? "out of memory" : strerror(errno));
	else
		r.ok = i2g_convert(img, len, &o, &glb, &r.glblen, &r.info,
		           r.err, sizeof(r.err)) == 0;
	free(img);
answer:
	rc = write_all(1, &r, sizeof(r)) == -1 ||
	    (r.ok && write_all(1, glb, r.glblen) == -1);
	free(glb);
	return rc;
}
