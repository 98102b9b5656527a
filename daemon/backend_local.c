/*
 * backend_local.c: the built-in offline model as a backend.
 *
 * Reads the input image, then runs i2g_convert() (img2glb/img2glb.h) with
 * the batch's parameters, each missing one taken from the model's row of
 * the model table (spool/models.c, whose "local" row is written in terms
 * of img2glb.h's limits), and publishes out/<n>.glb atomically.
 *
 * Containment: the decode and the meshing run in a forked child under
 * RLIMIT_AS (its address space may grow by LOCAL_MEMORY_MB) and
 * RLIMIT_CPU (LOCAL_CPU_S), which dies with the daemon
 * (PR_SET_PDEATHSIG).  A decoder bug, a bomb or a runaway costs that
 * file, never the daemon, and the failure says why (out of memory, CPU
 * time, killed or crashed by which signal).  The child answers on a pipe:
 * a fixed header (struct reply), then the GLB's bytes; it touches no lock
 * the other threads may hold (glibc's malloc is fork-safe) and leaves with
 * _exit.  While it runs the parent polls for a cancel and kills it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "img2glb.h"

#define LOCAL_INPUT_CAP (256LL * 1024 * 1024)
#define LOCAL_GLB_CAP ((size_t)1 << 30)
#define CANCEL_POLL_MS 250

/* What the child sends before the GLB's glblen bytes. */
struct reply {
	int ok;
	size_t glblen;
	struct i2g_info info;
	char err[512];
};

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

/* The limits: address space now + mem_mb, cpu_s seconds (then SIGXCPU,
 * SIGKILL 5 s later). */
static void
child_limits(int mem_mb, int cpu_s)
{
	struct rlimit rl;
	char buf[64];
	unsigned long pages = 0;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			pages = strtoul(buf, NULL, 10);
		}
		close(fd);
	}
	if (pages > 0) {
		rl.rlim_cur = rl.rlim_max =
		    (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) +
		    (rlim_t)mem_mb * 1024 * 1024;
		setrlimit(RLIMIT_AS, &rl);
	}
	rl.rlim_cur = (rlim_t)cpu_s;
	rl.rlim_max = (rlim_t)cpu_s + 5;
	setrlimit(RLIMIT_CPU, &rl);
}

static void __attribute__((noreturn)) child(int fd, const char *img,
    size_t imglen, const struct i2g_opts *o, const struct config *cfg)
{
	struct reply r;
	unsigned char *glb = NULL;
	sigset_t all;
	int sig;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (getppid() == 1)
		_exit(1);
	child_limits(cfg->local_memory_mb, cfg->local_cpu_s);
	memset(&r, 0, sizeof(r));
	r.ok = i2g_convert(img, imglen, o, &glb, &r.glblen, &r.info, r.err,
	           sizeof(r.err)) == 0;
	if (write_all(fd, &r, sizeof(r)) == -1 ||
	    (r.ok && write_all(fd, glb, r.glblen) == -1))
		_exit(1);
	_exit(0);
}

/* Read exactly n bytes; 0, or -1 at EOF/error.  While waiting, a cancel
 * request kills the child (*cancelled set). */
static int
read_all(struct job *job, int fd, pid_t pid, void *p, size_t n, int *cancelled)
{
	char *c = p;

	while (n > 0) {
		struct pollfd pf = {fd, POLLIN, 0};
		ssize_t r;
		int pr = poll(&pf, 1, CANCEL_POLL_MS);

		if (pr < 0 && errno != EINTR)
			return -1;
		if (pr <= 0) {
			if (!*cancelled && job_cancel_requested(job)) {
				*cancelled = 1;
				kill(pid, SIGKILL);
			}
			continue;
		}
		r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Why a child that gave no answer ended, as one sentence. */
static void
child_reason(int st, const struct config *cfg, char *err, size_t errlen)
{
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		const char *d = sigdescr_np(sig);

		if (sig == SIGXCPU)
			snprintf(err, errlen,
			    "The conversion used more than its %d s of CPU time (LOCAL_CPU_S) and was stopped; try a smaller image.",
			    cfg->local_cpu_s);
		else if (sig == SIGKILL)
			snprintf(err, errlen,
			    "The conversion was killed (signal %d, %s), e.g. by the system when out of memory or at the CPU time limit of %d s.",
			    sig, d != NULL ? d : "unknown", cfg->local_cpu_s);
		else
			snprintf(err, errlen,
			    "The conversion crashed (signal %d, %s); the image could not be converted.",
			    sig, d != NULL ? d : "unknown");
	} else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		snprintf(err, errlen,
		    "The conversion process ended without an answer (exit status %d), e.g. out of memory (LOCAL_MEMORY_MB is %d).",
		    WEXITSTATUS(st), cfg->local_memory_mb);
	} else {
		snprintf(err, errlen,
		    "The conversion process ended without an answer.");
	}
}

/*
 * Convert in a child; BACKEND_OK with *glb (malloc'd) and *info, else
 * FAILED with err or CANCELLED.
 */
static enum backend_status
convert_contained(struct job *job, const char *img, size_t imglen,
    const struct i2g_opts *o, unsigned char **glb, size_t *glblen,
    struct i2g_info *info, char *err, size_t errlen)
{
	struct reply r;
	int fds[2], st = 0, cancelled = 0, got, oom = 0;
	pid_t pid;
	enum backend_status rc = BACKEND_FAILED;

	*glb = NULL;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen,
		    "The conversion could not be started (%s); retry later.",
		    strerror(errno));
		return BACKEND_FAILED;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], img, imglen, o, job->cfg);
	}
	close(fds[1]);
	if (pid == -1) {
		snprintf(err, errlen,
		    "The conversion could not be started (%s); retry later.",
		    strerror(errno));
		close(fds[0]);
		return BACKEND_FAILED;
	}
	memset(&r, 0, sizeof(r));
	got = read_all(job, fds[0], pid, &r, sizeof(r), &cancelled) == 0;
	if (got && r.ok && r.glblen > 0 && r.glblen <= LOCAL_GLB_CAP) {
		*glb = malloc(r.glblen);
		if (*glb == NULL) {
			kill(pid, SIGKILL);
			oom = 1;
		} else if (read_all(job, fds[0], pid, *glb, r.glblen,
		               &cancelled) == -1) {
			got = 0;
		}
	} else if (got && r.ok) {
		got = 0;
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (cancelled) {
		rc = BACKEND_CANCELLED;
	} else if (got && r.ok) {
		*glblen = r.glblen;
		*info = r.info;
		return BACKEND_OK;
	} else if (got && !oom) {
		r.err[sizeof(r.err) - 1] = '\0';
		snprintf(err, errlen, "%s", r.err);
	} else if (oom) {
		snprintf(err, errlen,
		    "The server ran out of memory while saving the model; retry later.");
	} else {
		child_reason(st, job->cfg, err, errlen);
	}
	free(*glb);
	*glb = NULL;
	return rc;
}

static enum backend_status
local_run(struct job *job, char *err, size_t errlen)
{
	const struct model_info *m = models_find(job->model);
	struct i2g_opts o;
	struct i2g_info info;
	unsigned char *glb = NULL;
	char *img = NULL;
	size_t imglen, glblen = 0;
	enum backend_status rc = BACKEND_FAILED;
	json_t *mode = NULL, *res = NULL, *th = NULL, *back = NULL;

	memset(&o, 0, sizeof(o));
	if (m != NULL) {
		mode = models_param_value(m, job->params, "mode");
		res = models_param_value(m, job->params, "resolution");
		th = models_param_value(m, job->params, "thickness");
		back = models_param_value(m, job->params, "back");
	}
	o.mode = json_string_value(mode);
	o.back = json_string_value(back);
	if (json_is_integer(res))
		o.resolution = (int)json_integer_value(res);
	if (json_is_number(th))
		o.thickness = json_number_value(th);

	if (spool_read_file(
	        AT_FDCWD, job->input, LOCAL_INPUT_CAP, &img, &imglen) == -1) {
		snprintf(err, errlen,
		    "The uploaded image could not be read back from the spool (%s).",
		    strerror(errno));
		goto out;
	}
	job_progress(job, FS_PROCESSING, 10, -1, "Building the 3D model");
	err[0] = '\0';
	rc = convert_contained(
	    job, img, imglen, &o, &glb, &glblen, &info, err, errlen);
	if (rc != BACKEND_OK)
		goto out;
	rc = BACKEND_FAILED;
	if (job_cancel_requested(job)) {
		rc = BACKEND_CANCELLED;
		goto out;
	}
	job_progress(job, FS_PROCESSING, 90, -1, "Saving the model");
	snprintf(
	    job->result_model, sizeof(job->result_model), "%d.glb", job->file);
	if (spool_write_atomic(job->outdir, job->result_model, glb, glblen) ==
	    -1) {
		if (errno == ENOSPC)
			snprintf(err, errlen,
			    "The server's disk is full; retry this file later.");
		else
			snprintf(err, errlen,
			    "The model could not be saved (%s).",
			    strerror(errno));
		goto out;
	}
	job->result_size = (long long)glblen;
	log_info("%s: %s mesh, %ld vertices, %ld triangles, %zu bytes",
	    job->marker, info.mode, info.vertices, info.triangles, glblen);
	rc = BACKEND_OK;
out:
	json_decref(mode);
	json_decref(res);
	json_decref(th);
	json_decref(back);
	free(img);
	free(glb);
	return rc;
}

const struct backend backend_local = {
    .name = "local",
    .max_interrupted = 2,
    .worker_init = NULL,
    .worker_free = NULL,
    .run = local_run,
};
