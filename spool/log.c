/*
 * log.c: one log API for every program (after OpenBSD's log.c).  Lines go
 * to stderr, one per event, "prog[pid]: level: text"; callers put the job
 * id first in the text.  errno is preserved across every call.  The level
 * (LOG_LEVEL, applied by config_load) drops lines below it; warnings are
 * always written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

static const char *log_prog = "image2model";
static int log_verbose;
static enum { LV_DEBUG, LV_INFO, LV_WARN } log_level = LV_INFO;

void
log_init(const char *prog, int verbose)
{
	log_prog = prog;
	log_verbose = verbose;
}

/* The attribute lets -Wformat=2 check callers' va_list use under clang. */
int
log_set_level(const char *name)
{
	if (strcmp(name, "debug") == 0)
		log_level = LV_DEBUG;
	else if (strcmp(name, "info") == 0)
		log_level = LV_INFO;
	else if (strcmp(name, "warn") == 0)
		log_level = LV_WARN;
	else {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

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

	if (log_level > LV_INFO)
		return;
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

	if (!log_verbose && log_level > LV_DEBUG)
		return;
	va_start(ap, fmt);
	log_emit("debug", fmt, ap, 0);
	va_end(ap);
}
