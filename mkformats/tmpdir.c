/*
 * tmpdir.c: a private scratch directory for the writers that only take a
 * path (Assimp's exporters), and copying what they wrote to the output.
 * The directory is the helper's own (mkdtemp, 0700) and never in the
 * spool: the daemon publishes only what arrives on standard output.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mkformats.h"

int
cv_tmpdir_make(char *dir, size_t len, char *err, size_t errlen)
{
	const char *t = getenv("TMPDIR");
	int n;

	if (t == NULL || *t == '\0')
		t = "/tmp";
	n = snprintf(dir, len, "%s/i2m-formats.XXXXXX", t);
	if (n < 0 || (size_t)n >= len || mkdtemp(dir) == NULL) {
		snprintf(err, errlen,
		    "No scratch directory for the conversion (%s).",
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
cv_tmpdir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int fd;

	if (d == NULL)
		return;
	fd = dirfd(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

int
cv_copy_to_fd(const char *path, int fd, char *err, size_t errlen)
{
	char buf[65536];
	ssize_t n = 0;
	int in = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (in == -1) {
		snprintf(err, errlen, "The writer left no file (%s).",
		    strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t w = 0, k;

		n = read(in, buf, sizeof(buf));
		if (n <= 0)
			break;
		while (w < n) {
			k = write(fd, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				goto out;
			w += k;
		}
	}
	rc = n == 0 ? 0 : -1;
out:
	if (rc == -1)
		snprintf(err, errlen, "The file could not be written out (%s).",
		    strerror(errno));
	close(in);
	return rc;
}
