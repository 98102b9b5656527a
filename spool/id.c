/*
 * id.c: batch ids and queue marker names.
 *
 * A batch id is 128 bits from getrandom(2) as 32 lowercase hex digits.
 * Every id that arrives from outside (URL, command line, directory entry)
 * passes spool_id_valid() before a path is built from it, so "..", "/",
 * "%2e" and friends can never reach the file system.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "spool.h"

int
spool_id_new(char out[SPOOL_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[SPOOL_ID_LEN / 2];
	size_t got = 0;
	int i;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	for (i = 0; i < SPOOL_ID_LEN / 2; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[SPOOL_ID_LEN] = '\0';
	return 0;
}

int
spool_id_valid(const char *s)
{
	int i;

	if (s == NULL)
		return 0;
	for (i = 0; i < SPOOL_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[SPOOL_ID_LEN] == '\0';
}

int
spool_marker_name(char *out, size_t len, const char *id, int file)
{
	int n;

	if (!spool_id_valid(id) || file < 0 || file >= SPOOL_MAX_FILES) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, len, "%s.%d", id, file);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
spool_marker_parse(const char *name, char id[SPOOL_ID_LEN + 1], int *file)
{
	char *end;
	long v;

	if (strlen(name) < SPOOL_ID_LEN + 2 || name[SPOOL_ID_LEN] != '.')
		goto bad;
	memcpy(id, name, SPOOL_ID_LEN);
	id[SPOOL_ID_LEN] = '\0';
	if (!spool_id_valid(id))
		goto bad;
	/* Digits only: strtol alone would take "+1" or " 1". */
	if (name[SPOOL_ID_LEN + 1] < '0' || name[SPOOL_ID_LEN + 1] > '9')
		goto bad;
	errno = 0;
	v = strtol(name + SPOOL_ID_LEN + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v >= SPOOL_MAX_FILES)
		goto bad;
	*file = (int)v;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
