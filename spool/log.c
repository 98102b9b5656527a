/*
 * log.c: one log API for every program (after OpenBSD's log.c).  Lines go
 * to stderr, one per event, "prog[pid]: level: text"; callers put the job
 * id first in the text.  errno is preserved across every call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

static const char *log_prog = "image2model";
static int log_verbose;

void
log_init(const char *prog, int verbose)
{
	log_prog = prog;
	log_verbose = verbose;
}

/* The attribute lets -Wformat=2 check callers' va_list use under clang. */
static void log_emit(const char *level, const char *fmt, va_list ap,
    int with_errno) __attribute__((format(printf, 2, 0)));

static void
log_emit(const char *level, const char *fmt, va_list ap, int with_errno)
{
	char msg[2048];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s[%d]: %s: %s: %s\n", log_prog, (int)getpid(),
		    level, msg, strerror(saved));
	else
		fprintf(stderr, "%s[%d]: %s: %s\n", log_prog, (int)getpid(),
		    level, msg);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("info", fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("warn", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("warn", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_emit("debug", fmt, ap, 0);
	va_end(ap);
}
