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

/*
 * i2m_user.c: as root on a spool another user owns, become that user
 * (uid, gid) before touching it; -1 with one sentence in err if not.
 */
int i2m_become_spool_owner(const char *spool_dir, char *err, size_t len);

/* i2m_lighttpd.c: print lighttpd's API_KEYS block; the exit code. */
int i2m_lighttpd_auth(const struct config *cfg);

#endif
