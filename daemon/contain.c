/*
 * contain.c: running i2m-convert (convert.c, protocol convert.h), the
 * program next to i2m-daemon that decodes untrusted images, for the
 * local backend's conversions and for every file's thumbnail.
 *
 * Containment: the child limits itself (RLIMIT_AS = LOCAL_MEMORY_MB,
 * RLIMIT_CPU = LOCAL_CPU_S), so a decoder bug, a bomb or a runaway costs
 * that one run, never the daemon, and the failure says why (out of
 * memory, CPU time, killed or crashed by which signal).  Between fork and
 * exec the child calls only async-signal-safe functions (the daemon is
 * multithreaded); it dies with the daemon (PR_SET_PDEATHSIG).  While it
 * runs the worker polls for a cancel and kills it.  The daemon itself
 * never decodes an image.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "convert.h"
#include "daemon.h"

#define CANCEL_POLL_MS 250

/* The converter's path, next to our own executable (convert_find). */
static char convert_path[PATH_MAX];

int
convert_find(char *err, size_t errlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(err, errlen,
		    "The daemon cannot find its own program (/proc/self/exe: %s).",
		    strerror(errno));
		return -1;
	}
	self[n] = '\0';
	snprintf(convert_path, sizeof(convert_path), "%s/%s", dirname(self),
	    CONVERT_PROG);
	if (access(convert_path, X_OK) == -1) {
		snprintf(err, errlen,
		    "The offline model's converter %.3000s is missing (%s); install it next to i2m-daemon.",
		    convert_path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * After fork, in the child: only async-signal-safe calls.  The image on
 * fd 0, the answer on fd 1, default signal dispositions and an empty
 * mask (a blocked SIGXCPU would not stop it), then exec.
 */
static void __attribute__((noreturn))
child_exec(int in, int out, char *const argv[])
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1)
		_exit(CONVERT_EXEC_FAILED);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(convert_path, argv);
	_exit(CONVERT_EXEC_FAILED);
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
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == CONVERT_EXEC_FAILED) {
		snprintf(err, errlen,
		    "The offline model's converter (%s) could not be started.",
		    CONVERT_PROG);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		snprintf(err, errlen,
		    "The conversion process ended without an answer (exit status %d), e.g. out of memory (LOCAL_MEMORY_MB is %d).",
		    WEXITSTATUS(st), cfg->local_memory_mb);
	} else {
		snprintf(err, errlen,
		    "The conversion process ended without an answer.");
	}
}

enum backend_status
convert_spawn(struct job *job, char *const argv[], size_t cap,
    unsigned char **data, size_t *len, struct i2g_info *info, char *err,
    size_t errlen)
{
	struct convert_reply r;
	int fds[2], in, st = 0, cancelled = 0, got, oom = 0;
	pid_t pid;

	*data = NULL;
	if (convert_path[0] == '\0') {
		snprintf(err, errlen,
		    "The offline model's converter (%s) was not found at start.",
		    CONVERT_PROG);
		return BACKEND_FAILED;
	}
	in = open(job->input, O_RDONLY | O_CLOEXEC);
	if (in == -1) {
		snprintf(err, errlen,
		    "The uploaded image could not be read back from the spool (%s).",
		    strerror(errno));
		return BACKEND_FAILED;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen,
		    "The conversion could not be started (%s); retry later.",
		    strerror(errno));
		close(in);
		return BACKEND_FAILED;
	}
	pid = fork();
	if (pid == 0)
		child_exec(in, fds[1], argv);
	close(in);
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
	if (got && r.ok && r.glblen > 0 && r.glblen <= cap) {
		*data = malloc(r.glblen);
		if (*data == NULL) {
			kill(pid, SIGKILL);
			oom = 1;
		} else if (read_all(job, fds[0], pid, *data, r.glblen,
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
		free(*data);
		*data = NULL;
		return BACKEND_CANCELLED;
	}
	if (got && r.ok && !oom) {
		*len = r.glblen;
		if (info != NULL)
			*info = r.info;
		return BACKEND_OK;
	}
	if (oom) {
		snprintf(err, errlen,
		    "The server ran out of memory while saving the model; retry later.");
	} else if (got) {
		r.err[sizeof(r.err) - 1] = '\0';
		snprintf(err, errlen, "%s", r.err);
	} else {
		child_reason(st, job->cfg, err, errlen);
	}
	free(*data);
	*data = NULL;
	return BACKEND_FAILED;
}
