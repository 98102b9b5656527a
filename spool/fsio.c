/*
 * fsio.c: the only way the spool writes files.
 *
 * Publish protocol (Maildir/qmail): write a dot-name temp file opened
 * O_CREAT|O_EXCL, check every write, fsync, close, renameat() to the final
 * name, fsync the directory.  Readers skip dot-names, so they see the old
 * file or the new one, never a part.  Any failure removes the temp file, so
 * a full disk leaves nothing half-written behind.
 *
 * spool_io_write and spool_io_rename are the system calls used; unit tests
 * point them at fault injectors (short writes, ENOSPC, a lost rename race).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "spool.h"

ssize_t (*spool_io_write)(int, const void *, size_t) = write;
int (*spool_io_rename)(int, const char *, int, const char *) = renameat;

int
spool_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = spool_io_write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Open a fresh dot-name next to name; fills tmp. */
static int
open_tmp(int dirfd, const char *name, char *tmp, size_t tmplen)
{
	char id[SPOOL_ID_LEN + 1];
	int fd, n;

	if (spool_id_new(id) == -1)
		return -1;
	n = snprintf(tmp, tmplen, ".%s.%.8s.tmp", name, id);
	if (n < 0 || (size_t)n >= tmplen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	return fd;
}

/* fsync, close, rename, fsync dir; removes tmp on failure. */
static int
publish(int dirfd, int fd, const char *tmp, const char *name)
{
	int saved;

	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (spool_io_rename(dirfd, tmp, dirfd, name) == -1)
		goto fail;
	if (spool_fsync_dir(dirfd) == -1)
		return -1;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}

int
spool_write_atomic(int dirfd, const char *name, const void *buf, size_t len)
{
	char tmp[512];
	int fd, saved;

	fd = open_tmp(dirfd, name, tmp, sizeof(tmp));
	if (fd == -1)
		return -1;
	if (spool_write_all(fd, buf, len) == -1)
		goto fail;
	return publish(dirfd, fd, tmp, name);
fail:
	saved = errno;
	close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}

int
spool_copy_atomic(int dirfd, const char *name, int srcfd, off_t *copied)
{
	char tmp[512];
	char buf[65536];
	off_t total = 0;
	int fd, saved;

	fd = open_tmp(dirfd, name, tmp, sizeof(tmp));
	if (fd == -1)
		return -1;
	for (;;) {
		ssize_t n = read(srcfd, buf, sizeof(buf));

		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		if (spool_write_all(fd, buf, (size_t)n) == -1)
			goto fail;
		total += n;
	}
	if (copied != NULL)
		*copied = total;
	return publish(dirfd, fd, tmp, name);
fail:
	saved = errno;
	close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}

int
spool_read_file(
    int dirfd, const char *name, size_t cap, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, saved;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if ((size_t)st.st_size > cap) {
		errno = EFBIG;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto fail;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	if (outlen != NULL)
		*outlen = len;
	return 0;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

json_t *
spool_read_json(int dirfd, const char *name, size_t cap)
{
	char *buf;
	size_t len;
	json_t *j;

	if (spool_read_file(dirfd, name, cap, &buf, &len) == -1)
		return NULL;
	j = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (j == NULL)
		errno = EBADMSG;
	return j;
}

int
spool_write_json(int dirfd, const char *name, const json_t *j)
{
	char *s;
	int rc;

	s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = spool_write_atomic(dirfd, name, s, strlen(s));
	free(s);
	return rc;
}

int
spool_fsync_dir(int dirfd)
{
	if (fsync(dirfd) == -1 && errno != EINVAL && errno != EROFS)
		return -1;
	return 0;
}

DIR *
spool_opendir(int dirfd, const char *sub)
{
	DIR *d;
	int fd, saved;

	fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

int
spool_fsync_at(int dirfd, const char *sub)
{
	int fd, rc;

	fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = spool_fsync_dir(fd);
	close(fd);
	return rc;
}

int
spool_mkdir(int dirfd, const char *name, mode_t mode)
{
	struct stat st;

	if (mkdirat(dirfd, name, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
spool_rmtree(int parent, const char *name)
{
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (unlinkat(parent, name, 0) == 0)
		return 0;
	if (errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	fd = openat(
	    parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (spool_rmtree(dirfd(d), de->d_name) == -1)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		rc = -1;
	return rc;
}

long long
spool_free_mb(int fd)
{
	struct statvfs vfs;

	if (fstatvfs(fd, &vfs) == -1)
		return -1;
	return (long long)((unsigned long long)vfs.f_bavail * vfs.f_frsize /
	    (1024 * 1024));
}
