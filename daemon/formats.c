/*
 * formats.c: a completed model's other formats, made once from its GLB
 * before the file is marked completed (spool/formats.c is the table).
 *
 * Each format is one run of the helper i2m-formats (mkformats/), started
 * here with a CPU-time and an address-space limit and killed at a wall
 * clock deadline, its standard output pointed at a temp file of out/
 * that is published only when it exits 0.  So a conversion that crashes,
 * loops or runs out of memory costs that format alone: its reason goes
 * into "format_errors" and the GLB and every other format stay.  A
 * format the provider already made (job->formats, e.g. FAL's fbx or
 * usdz) is kept and never converted again.
 *
 * The status gets "formats" (GLB first, then each made or kept file:
 * name, ext, file, size, source), "format_errors" ([{name, error}]),
 * "triangles" and "watertight" (every edge shared by exactly two
 * triangles), both counted by the helper's "info" run, and for a GLB
 * over 4 MB "preview_file" / "preview_size": its light web copy
 * (out/<n>.web.glb: meshopt geometry, textures at most 2048 px) that the
 * viewer loads instead (or "preview_error").
 *
 * The helper is $I2M_FORMATS, else i2m-formats beside the daemon's own
 * program.  fork+exec from a worker thread: the child only calls
 * async-signal-safe functions before execv.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define FORMAT_CPU_S 120 /* CPU seconds of one conversion */
#define FORMAT_WALL_S 300 /* and its wall-clock deadline */
#define FORMAT_MEM_MB 4096 /* its address space */
#define FORMAT_OUT_CAP 4096 /* bytes kept of what it says */
#define PREVIEW_OVER (4LL * 1024 * 1024) /* GLBs above get a light copy */

/* An address-space limit kills a sanitizer build at start (it reserves
 * terabytes of shadow memory): such builds only get the time limits. */
#if defined(__SANITIZE_ADDRESS__)
#define FORMAT_NO_AS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FORMAT_NO_AS 1
#endif
#endif

/* dir/i2m-formats into out when it is executable; 0 or -1. */
static int
beside(const char *prog, char *out, size_t len)
{
	const char *slash = strrchr(prog, '/');
	int n;

	if (slash == NULL)
		return -1;
	n = snprintf(out, len, "%.*s/i2m-formats", (int)(slash - prog), prog);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return access(out, X_OK);
}

static int
helper_path(char *out, size_t len)
{
	const char *env = getenv("I2M_FORMATS");
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if (beside(self, out, len) == 0)
			return 0;
	}
	/* Under valgrind /proc/self/exe is valgrind's: use argv[0]. */
	return beside(program_invocation_name, out, len);
}

/* Read what fd has (non-blocking) into buf; 1 at EOF or error. */
static int
drain(int fd, char *buf, size_t cap, size_t *len)
{
	char junk[4096];
	ssize_t n;

	for (;;) {
		if (*len + 1 < cap)
			n = read(fd, buf + *len, cap - 1 - *len);
		else
			n = read(fd, junk, sizeof(junk));
		if (n > 0) {
			if (*len + 1 < cap)
				*len += (size_t)n;
			buf[*len] = '\0';
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return n == 0 || errno != EAGAIN;
	}
}

/*
 * Read the helper's stdout (*op, may be -1) into out and its stderr (*ep)
 * into ebuf until both close or the wall clock runs out (then it is
 * killed); the descriptors are closed and set to -1 as they end.
 * 1 when it was killed for time.
 */
static int
collect(pid_t pid, int *op, int *ep, char *out, size_t outcap, char *ebuf,
    size_t ebufcap, size_t *elen)
{
	struct timespec t0, now;
	size_t olen = 0;
	int open_fds;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	open_fds = *op != -1 ? 2 : 1;
	while (open_fds > 0) {
		struct pollfd pf[2];
		int n = 0, left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (int)((FORMAT_WALL_S - (now.tv_sec - t0.tv_sec)) * 1000);
		if (left <= 0) {
			kill(pid, SIGKILL);
			return 1;
		}
		if (*ep != -1)
			pf[n++] = (struct pollfd){*ep, POLLIN, 0};
		if (*op != -1)
			pf[n++] = (struct pollfd){*op, POLLIN, 0};
		if (poll(pf, (nfds_t)n, left) == -1 && errno != EINTR)
			break;
		if (*ep != -1 && drain(*ep, ebuf, ebufcap, elen)) {
			close(*ep);
			*ep = -1;
			open_fds--;
		}
		if (*op != -1 && drain(*op, out, outcap, &olen)) {
			close(*op);
			*op = -1;
			open_fds--;
		}
	}
	return 0;
}

/* What the helper's end says: 0 when it exited 0, else -1 and why. */
static int
verdict(int status, int timed_out, char *ebuf, size_t elen, char *why,
    size_t whylen)
{
	int rc = -1;

	/* The helper's last line says why; keep that one. */
	while (elen > 0 && ebuf[elen - 1] == '\n')
		ebuf[--elen] = '\0';
	if (timed_out)
		snprintf(why, whylen,
		    "The conversion took longer than %d seconds and was stopped.",
		    FORMAT_WALL_S);
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		snprintf(why, whylen,
		    "The conversion used more than %d seconds of CPU time and was stopped.",
		    FORMAT_CPU_S);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen,
		    "The converter crashed (signal %d); the model may be too large or malformed.",
		    WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else if (WIFEXITED(status) && WEXITSTATUS(status) >= 126)
		snprintf(why, whylen, "The converter program is missing.");
	else
		snprintf(why, whylen, "%s",
		    elen > 0
		        ? (strrchr(ebuf, '\n') != NULL ? strrchr(ebuf, '\n') + 1
		                                       : ebuf)
		        : "The conversion failed without a reason.");
	return rc;
}

/*
 * Run the helper with argv; its stdout goes to outfd, or into out (when
 * outfd is -1); stderr into why.  0 when it exited 0, else -1 with a
 * sentence in why.
 */
static int
run_helper(char *const argv[], int outfd, char *out, size_t outcap, char *why,
    size_t whylen)
{
	int op[2] = {-1, -1}, ep[2] = {-1, -1}, status = 0, rc = -1;
	size_t elen = 0;
	char ebuf[FORMAT_OUT_CAP] = "";
	struct rlimit cpu = {FORMAT_CPU_S, FORMAT_CPU_S + 5}, core = {0, 0};
	struct rlimit mem = {
	    (rlim_t)FORMAT_MEM_MB << 20, (rlim_t)FORMAT_MEM_MB << 20};
	int timed_out;
	sigset_t none;
	pid_t pid;

	sigemptyset(&none);
	(void)mem;
	if (out != NULL)
		out[0] = '\0';
	if ((outfd == -1 && pipe2(op, O_CLOEXEC) == -1) ||
	    pipe2(ep, O_CLOEXEC) == -1) {
		snprintf(why, whylen,
		    "The converter could not be started (%s).",
		    strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid == -1) {
		snprintf(why, whylen,
		    "The converter could not be started (%s).",
		    strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* The child: async-signal-safe calls only, then exec. */
		pthread_sigmask(SIG_SETMASK, &none, NULL);
		if (dup2(outfd != -1 ? outfd : op[1], 1) == -1 ||
		    dup2(ep[1], 2) == -1)
			_exit(126);
		setrlimit(RLIMIT_CPU, &cpu);
		setrlimit(RLIMIT_CORE, &core); /* a crash leaves no core */
#ifndef FORMAT_NO_AS
		setrlimit(RLIMIT_AS, &mem);
#endif
		execv(argv[0], argv);
		_exit(127);
	}
	if (op[1] != -1)
		close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	if (op[0] != -1)
		fcntl(op[0], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	timed_out = collect(
	    pid, &op[0], &ep[0], out, outcap, ebuf, sizeof(ebuf), &elen);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	rc = verdict(status, timed_out, ebuf, elen, why, whylen);
out:
	if (op[0] != -1)
		close(op[0]);
	if (op[1] != -1)
		close(op[1]);
	if (ep[0] != -1)
		close(ep[0]);
	if (ep[1] != -1)
		close(ep[1]);
	return rc;
}

/* 1 when the provider already made format f for this job. */
static int
provider_has(struct job *job, const struct format_info *f)
{
	json_t *e;
	size_t i;

	json_array_foreach(job->formats, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n != NULL && strcmp(n, f->name) == 0)
			return 1;
	}
	return 0;
}

static void
add_error(json_t *errors, const char *name, const char *why)
{
	json_array_append_new(
	    errors, json_pack("{s:s, s:s}", "name", name, "error", why));
}

/* One conversion into out/<file>.<ext>; appends to list or errors. */
static void
convert_one(struct job *job, const char *helper, const char *glb,
    const struct format_info *f, double height, json_t *list, json_t *errors)
{
	struct spool_tmpfile t;
	char name[64], hs[32], why[512];
	char *argv[5];
	struct stat st;

	if (spool_format_file(job->file, f, name, sizeof(name)) == -1 ||
	    spool_tmp_open(&t, job->outdir, name) == -1) {
		snprintf(why, sizeof(why), "No room for the %s file (%s).",
		    f->name, strerror(errno));
		add_error(errors, f->name, why);
		return;
	}
	snprintf(hs, sizeof(hs), "%g", height);
	argv[0] = (char *)helper;
	argv[1] = (char *)f->name;
	argv[2] = (char *)glb;
	argv[3] = (f->flags & FMT_PRINT) ? hs : NULL;
	argv[4] = NULL;
	if (run_helper(argv, t.fd, NULL, 0, why, sizeof(why)) == -1 ||
	    fstat(t.fd, &st) == -1 || st.st_size == 0) {
		if (why[0] == '\0')
			snprintf(
			    why, sizeof(why), "The converter wrote nothing.");
		spool_tmp_abort(&t);
		log_warnx("%s: %s: %s", job->marker, f->name, why);
		add_error(errors, f->name, why);
		return;
	}
	if (spool_tmp_publish(&t) == -1) {
		snprintf(why, sizeof(why),
		    "The %s file could not be saved (%s).", f->name,
		    strerror(errno));
		add_error(errors, f->name, why);
		return;
	}
	json_array_append_new(list,
	    json_pack("{s:s, s:s, s:s, s:I, s:s}", "name", f->name, "ext",
	        f->ext, "file", name, "size", (json_int_t)st.st_size, "source",
	        "converted"));
}

/* The helper's info run: triangles and watertight into extra. */
static void
mesh_info(struct job *job, const char *helper, const char *glb, json_t *extra)
{
	char out[FORMAT_OUT_CAP], why[512];
	char *argv[] = {(char *)helper, "info", (char *)glb, NULL};
	json_t *j;

	if (run_helper(argv, -1, out, sizeof(out), why, sizeof(why)) == -1) {
		log_warnx("%s: info: %s", job->marker, why);
		return;
	}
	j = json_loads(out, 0, NULL);
	if (json_is_integer(json_object_get(j, "triangles"))) {
		json_object_set(
		    extra, "triangles", json_object_get(j, "triangles"));
		json_object_set(
		    extra, "watertight", json_object_get(j, "watertight"));
	}
	json_decref(j);
}

/* The light preview of a large GLB: preview_file and preview_size. */
static void
make_preview(
    struct job *job, const char *helper, const char *glb, json_t *extra)
{
	struct spool_tmpfile t;
	char name[64], why[512] = "";
	char *argv[] = {(char *)helper, "preview", (char *)glb, NULL};
	struct stat st;

	if (spool_preview_file(job->file, name, sizeof(name)) == -1 ||
	    spool_tmp_open(&t, job->outdir, name) == -1)
		return;
	if (run_helper(argv, t.fd, NULL, 0, why, sizeof(why)) == -1 ||
	    fstat(t.fd, &st) == -1 || st.st_size == 0 ||
	    spool_tmp_publish(&t) == -1) {
		spool_tmp_abort(&t);
		log_warnx("%s: no light preview: %s", job->marker,
		    why[0] ? why : "not saved");
		json_object_set_new(extra, "preview_error",
		    json_string(why[0] ? why : "The preview was not saved."));
		return;
	}
	json_object_set_new(extra, "preview_file", json_string(name));
	json_object_set_new(
	    extra, "preview_size", json_integer((json_int_t)st.st_size));
}

static double
print_height(struct job *job)
{
	json_t *v = json_object_get(job->params, "print_height_mm");

	return json_is_number(v) ? json_number_value(v)
	                         : SPOOL_PRINT_HEIGHT_DEF;
}

void
formats_make(struct job *job)
{
	char helper[PATH_MAX], glb[PATH_MAX];
	json_t *list = json_array(), *errors = json_array();
	json_t *extra = json_object(), *e;
	double height = print_height(job);
	size_t i;

	if (list == NULL || errors == NULL || extra == NULL)
		goto out;
	json_array_append_new(list,
	    json_pack("{s:s, s:s, s:s, s:I, s:s}", "name", "glb", "ext", "glb",
	        "file", job->result_model, "size", (json_int_t)job->result_size,
	        "source", "model"));
	/* What the provider made, as it made it. */
	json_array_foreach(job->formats, i, e) {
		json_array_append(list, e);
	}
	if (spool_out_path(
	        job->sp, job->id, job->result_model, glb, sizeof(glb)) == -1)
		goto out;
	if (helper_path(helper, sizeof(helper)) == -1) {
		log_warnx("%s: i2m-formats not found; GLB only", job->marker);
		for (i = 0; i < formats_count(); i++)
			if (formats_at(i)->flags & FMT_CONVERT)
				add_error(errors, formats_at(i)->name,
				    "The converter program is missing on this server.");
		goto done;
	}
	job_progress(job, FS_PROCESSING, 95, -1,
	    "Making the other formats (OBJ, STL, 3MF, PLY, FBX)");
	mesh_info(job, helper, glb, extra);
	if (job->result_size > PREVIEW_OVER)
		make_preview(job, helper, glb, extra);
	for (i = 0; i < formats_count(); i++) {
		const struct format_info *f = formats_at(i);

		if (!(f->flags & FMT_CONVERT) || provider_has(job, f))
			continue;
		convert_one(job, helper, glb, f, height, list, errors);
	}
done:
	json_object_set(extra, "formats", list);
	json_object_set(extra, "format_errors", errors);
	json_decref(job->result_extra);
	job->result_extra = extra;
	extra = NULL;
out:
	json_decref(extra);
	json_decref(list);
	json_decref(errors);
}
