/*
 * bench_local.c: figures for the built-in offline model (i2g_convert).
 *
 *   build/bench/bench_local [samples-dir] [runs]
 *
 * Inputs: chair.png and sneaker.jpg from samples-dir (default
 * $I2M_SAMPLES, else tests/fixtures when run from the repository root), plus two 1024 px versions made
 * in memory (sneaker resized to 1024 on the long side and re-encoded as
 * JPEG q90; chair upscaled to 1024 and re-encoded as PNG).  Each input is
 * measured in a fresh process (this program re-executed with --one), so
 * the peak RSS (getrusage ru_maxrss) is that conversion's own and not
 * inflated by the other inputs.  Time is the median of `runs` (default
 * 20) conversions.  Default options first (mode auto), then every solid
 * mode (inflate, lathe, extrude, relief) forced on the 1024 px inputs.  Targets: <= 200 ms and <= 64 MB for a 1024 px
 * photo, GLB <= 5 MB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include "img2glb.h"

#define NMODES 4 /* solid modes measured at 1024 px */

struct buf {
	unsigned char *p;
	size_t n;
};

static void
buf_put(void *ctx, void *data, int size)
{
	struct buf *b = ctx;
	unsigned char *np = realloc(b->p, b->n + (size_t)size);

	if (np == NULL)
		return;
	memcpy(np + b->n, data, (size_t)size);
	b->p = np;
	b->n += (size_t)size;
}

static int
read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	long n;
	int rc = -1;

	b->p = NULL;
	b->n = 0;
	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		b->p = malloc((size_t)n);
		if (b->p != NULL && fread(b->p, 1, (size_t)n, f) == (size_t)n) {
			b->n = (size_t)n;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

static int
write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(b->p, 1, b->n, f) == b->n ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Resize to `side` on the long side and re-encode (PNG or JPEG q90). */
static int
remake(const struct buf *in, int side, int png, struct buf *out)
{
	unsigned char *px, *rs;
	int w, h, c, nw, nh, ok;

	out->p = NULL;
	out->n = 0;
	px = stbi_load_from_memory(in->p, (int)in->n, &w, &h, &c, 4);
	if (px == NULL)
		return -1;
	nw = w >= h ? side : (int)((double)w * side / h + 0.5);
	nh = h >= w ? side : (int)((double)h * side / w + 0.5);
	rs = malloc((size_t)nw * (size_t)nh * 4);
	if (rs == NULL ||
	    !stbir_resize_uint8_srgb(px, w, h, 0, rs, nw, nh, 0, 4, 3, 0)) {
		free(rs);
		stbi_image_free(px);
		return -1;
	}
	if (png) {
		/* RGB: the chair photo has no alpha. */
		long i;

		for (i = 0; i < (long)nw * nh; i++)
			memmove(rs + i * 3, rs + i * 4, 3);
		ok =
		    stbi_write_png_to_func(buf_put, out, nw, nh, 3, rs, nw * 3);
	} else {
		ok = stbi_write_jpg_to_func(buf_put, out, nw, nh, 4, rs, 90);
	}
	free(rs);
	stbi_image_free(px);
	return ok && out->n > 0 ? 0 : -1;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Child: convert one file `runs` times in mode ("" = default) and print
 * one table row. */
static int
one(const char *path, const char *label, int runs, const char *mode)
{
	struct i2g_opts o = {mode[0] != '\0' ? mode : NULL, 0, 0, 0, NULL};
	struct buf in;
	struct i2g_info info;
	struct rusage ru;
	double *t;
	unsigned char *glb = NULL;
	size_t glblen = 0;
	char err[256];
	int k, w, h, c;

	if (read_file(path, &in) == -1 ||
	    (t = calloc((size_t)runs, sizeof(double))) == NULL) {
		fprintf(stderr, "bench_local: cannot read %s\n", path);
		return 1;
	}
	for (k = 0; k < runs; k++) {
		double t0 = now_ms();

		free(glb);
		if (i2g_convert(in.p, in.n, &o, &glb, &glblen, &info, err,
		        sizeof(err)) != 0) {
			fprintf(stderr, "bench_local: %s: %s\n", label, err);
			return 1;
		}
		t[k] = now_ms() - t0;
	}
	qsort(t, (size_t)runs, sizeof(double), cmp_d);
	getrusage(RUSAGE_SELF, &ru);
	stbi_info_from_memory(in.p, (int)in.n, &w, &h, &c);
	printf("%-16s %5dx%-5d %9zu %7s %8.1f %8.1f %9zu %8ld %8ld %7.1f\n",
	    label, w, h, in.n, info.mode, t[runs / 2], t[0], glblen,
	    info.vertices, info.triangles, ru.ru_maxrss / 1024.0);
	free(glb);
	free(in.p);
	free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dir = getenv("I2M_SAMPLES");
	char tmp[] = "/tmp/bench_local.XXXXXX", path[4][512], runs_s[16];
	static const char *label[4] = {
	    "chair.png", "sneaker.jpg", "chair-1024.png", "sneaker-1024.jpg"};
	static const char *modes[] = {"inflate", "lathe", "extrude", "relief"};
	struct buf chair, sneak, b1024;
	int runs = 20, k, rc = 0;

	if (argc == 6 && strcmp(argv[1], "--one") == 0)
		return one(argv[2], argv[3], atoi(argv[4]), argv[5]);
	if (argc > 1)
		dir = argv[1];
	if (dir == NULL)
		dir = access("tests/fixtures/chair.png", R_OK) == 0
		    ? "tests/fixtures"
		    : "/work/shared/samples";
	if (argc > 2)
		runs = atoi(argv[2]) > 0 ? atoi(argv[2]) : 20;
	snprintf(path[0], sizeof(path[0]), "%s/chair.png", dir);
	snprintf(path[1], sizeof(path[1]), "%s/sneaker.jpg", dir);
	if (read_file(path[0], &chair) == -1 ||
	    read_file(path[1], &sneak) == -1 || mkdtemp(tmp) == NULL) {
		fprintf(stderr, "bench_local: samples not found in %s\n", dir);
		return 1;
	}
	snprintf(path[2], sizeof(path[2]), "%s/chair-1024.png", tmp);
	snprintf(path[3], sizeof(path[3]), "%s/sneaker-1024.jpg", tmp);
	if (remake(&chair, 1024, 1, &b1024) == -1 ||
	    write_file(path[2], &b1024) == -1) {
		fprintf(stderr, "bench_local: cannot make %s\n", path[2]);
		return 1;
	}
	free(b1024.p);
	if (remake(&sneak, 1024, 0, &b1024) == -1 ||
	    write_file(path[3], &b1024) == -1) {
		fprintf(stderr, "bench_local: cannot make %s\n", path[3]);
		return 1;
	}
	free(b1024.p);
	free(chair.p);
	free(sneak.p);
	snprintf(runs_s, sizeof(runs_s), "%d", runs);
	printf(
	    "# i2g_convert, default options, median of %d runs, one process per input\n",
	    runs);
	printf("%-16s %11s %9s %7s %8s %8s %9s %8s %8s %7s\n", "input",
	    "pixels", "in_bytes", "mode", "med_ms", "min_ms", "glb_bytes",
	    "verts", "tris", "rss_mb");
	fflush(stdout);
	/* The four inputs in auto mode, then each solid mode forced on the
	 * two 1024 px inputs. */
	for (k = 0; k < 4 + 2 * NMODES; k++) {
		int in = k < 4 ? k : 2 + (k - 4) / NMODES;
		const char *mode = k < 4 ? "" : modes[(k - 4) % NMODES];
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			execl("/proc/self/exe", argv[0], "--one", path[in],
			    label[in], runs_s, mode, (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			rc = 1;
	}
	unlink(path[2]);
	unlink(path[3]);
	rmdir(tmp);
	return rc;
}
