/*
 * i2m.h: the commands of tools/i2m that live in their own files.  Each
 * returns i2m's exit code (0 done, 1 usage or bad input, 111 temporary).
 */
#ifndef I2M_H
#define I2M_H

#include "spool.h"

/* i2m_spend.c */
void i2m_fmt_time(long long ms, char *buf, size_t len);
int i2m_spend(
    struct spool *sp, const struct config *cfg, const char *day, int json_out);

#endif
