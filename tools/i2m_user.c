/*
 * i2m_user.c: i2m run as root writes as the spool's owner.  Files root
 * wrote into the service's spool (root-owned, 0640) could not be read by
 * the daemon or the API: markers were dropped, the API answered 500.  So
 * before the spool is touched, root becomes the owner (uid, gid and only
 * that group) of SPOOL_DIR, or i2m stops with one sentence naming the
 * user to run it as.  A spool that belongs to root, or does not exist
 * yet, is used as root.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i2m.h"

int
i2m_become_spool_owner(const char *spool_dir, char *err, size_t len)
{
	struct passwd *pw;
	struct stat st;
	char who[64];

	if (geteuid() != 0)
		return 0;
	if (stat(spool_dir, &st) == -1 || st.st_uid == 0)
		return 0;
	pw = getpwuid(st.st_uid);
	if (pw != NULL)
		snprintf(who, sizeof(who), "%s", pw->pw_name);
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned)st.st_uid);
	if (setgroups(1, &st.st_gid) == -1 || setgid(st.st_gid) == -1 ||
	    setuid(st.st_uid) == -1 || geteuid() != st.st_uid) {
		snprintf(err, len,
		    "the spool %s belongs to %s; run i2m as that user (e.g. sudo -u %s i2m ...), root could not switch to it (%s).",
		    spool_dir, who, pw != NULL ? pw->pw_name : "<owner>",
		    strerror(errno));
		return -1;
	}
	return 0;
}
