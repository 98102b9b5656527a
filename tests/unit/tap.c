/*
 * tap.c: TAP output for the unit tests (see tap.h).  A failed check
 * prints its name and carries on, so one run shows every failure.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tap.h"

static int tap_n;
static int tap_failed;

void
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
