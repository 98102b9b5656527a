/*
 * tap.h: a tiny TAP producer for the C unit tests.  Each test program
 * prints "ok N - name" / "not ok N - name" lines and a plan at the end;
 * tests/run counts them across every suite.
 */
#ifndef TAP_H
#define TAP_H

void
tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the plan and return the exit status for main(). */
int tap_done(void);

#define TAP_OK(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

#endif
