/*
 * osfile.c: (2)(4) the storage layer's file calls and their fault hook
 * (see osfile.h).
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "storage/osfile.h"

struct fault {
	_Atomic uint64_t calls; /* since armed */
	_Atomic uint64_t nth;   /* 0: disarmed */
	_Atomic uint64_t count; /* 0: forever */
	_Atomic int kind;
	_Atomic int err;
};

static struct fault faults[OSFILE_OP_COUNT];
static _Atomic uint64_t fault_hits;

void
osfile_fault_arm(int op, uint64_t nth, uint64_t count, int kind, int err)
{
	struct fault *f;

	if (op < 0 || op >= OSFILE_OP_COUNT)
		return;
	f = &faults[op];
	atomic_store(&f->nth, 0);
	atomic_store(&f->calls, 0);
	atomic_store(&f->count, count);
	atomic_store(&f->kind, kind);
	atomic_store(&f->err, err < 0 ? err : -EIO);
	atomic_store(&f->nth, nth);
}

void
osfile_fault_reset(void)
{
	int i;

	for (i = 0; i < OSFILE_OP_COUNT; i++) {
		atomic_store(&faults[i].nth, 0);
		atomic_store(&faults[i].calls, 0);
	}
	atomic_store(&fault_hits, 0);
}

uint64_t
osfile_fault_hits(void)
{
	return atomic_load(&fault_hits);
}

/*
 * Count a call of op; 0 when it goes ahead, else the fault's error with
 * *kind set.
 */
static int
fault_check(int op, int *kind)
{
	struct fault *f = &faults[op];
	uint64_t nth = atomic_load_explicit(&f->nth, memory_order_relaxed);
	uint64_t call, count;

	if (nth == 0)
		return 0;
	call = atomic_fetch_add(&f->calls, 1) + 1;
	count = atomic_load(&f->count);
	if (call < nth || (count != 0 && call - nth >= count))
		return 0;
	atomic_fetch_add(&fault_hits, 1);
	*kind = atomic_load(&f->kind);
	return atomic_load(&f->err);
}

int
osfile_faults_parse(const char *spec)
{
	static const char *const ops[OSFILE_OP_COUNT] = {
	    "write", "fsync", "truncate", "rename", "open", "read"};
	struct {
		int op, kind, err;
		uint64_t nth, count;
	} parsed[16];
	char *copy, *item, *save = NULL;
	int n = 0, i, rc = 0;

	if (spec == NULL || *spec == '\0')
		return 0;
	copy = xstrdup(spec);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *f[4], *s2 = NULL, *tok;
		int nf = 0;

		for (tok = strtok_r(item, ":", &s2); tok != NULL && nf < 4;
		     tok = strtok_r(NULL, ":", &s2))
			f[nf++] = tok;
		if (nf < 2 || tok != NULL || n == 16) {
			rc = ERR_CONFIG;
			goto out;
		}
		parsed[n].op = -1;
		for (i = 0; i < OSFILE_OP_COUNT; i++)
			if (strcmp(f[0], ops[i]) == 0)
				parsed[n].op = i;
		parsed[n].nth = strtoull(f[1], NULL, 10);
		parsed[n].count = nf > 2 ? strtoull(f[2], NULL, 10) : 1;
		parsed[n].kind = OSFILE_FAULT_FAIL;
		parsed[n].err = -EIO;
		if (nf > 3) {
			if (strcmp(f[3], "enospc") == 0)
				parsed[n].err = -ENOSPC;
			else if (strcmp(f[3], "short") == 0) {
				parsed[n].kind = OSFILE_FAULT_SHORT;
				parsed[n].err = -ENOSPC;
			} else if (strcmp(f[3], "eio") != 0) {
				rc = ERR_CONFIG;
				goto out;
			}
		}
		if (parsed[n].op < 0 || parsed[n].nth == 0) {
			rc = ERR_CONFIG;
			goto out;
		}
		n++;
	}
	for (i = 0; i < n; i++)
		osfile_fault_arm(parsed[i].op, parsed[i].nth, parsed[i].count,
		    parsed[i].kind, parsed[i].err);
out:
	free(copy);
	return rc;
}

int
osfile_faults_from_env(void)
{
	return osfile_faults_parse(getenv("FINNSTREAM_TEST_FAULTS"));
}

int
osfile_open(const char *path, int flags, int mode)
{
	int fd, kind, rc;

	if ((flags & O_CREAT) && (rc = fault_check(OSFILE_OP_OPEN, &kind)))
		return rc;
	do
		fd = open(path, flags | O_CLOEXEC, mode);
	while (fd == -1 && errno == EINTR);
	return fd == -1 ? -errno : fd;
}

int
osfile_close(int fd)
{
	/* Linux closes the fd even when close() reports EINTR: no retry. */
	return close(fd) == -1 && errno != EINTR ? -errno : 0;
}

static int
write_at(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int
osfile_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	int kind = 0, rc;

	if ((rc = fault_check(OSFILE_OP_WRITE, &kind)) != 0) {
		if (kind == OSFILE_FAULT_SHORT && n > 1)
			(void)write_at(fd, buf, n / 2, off);
		return rc;
	}
	return write_at(fd, buf, n, off);
}

int64_t
osfile_pread(int fd, void *buf, size_t n, uint64_t off)
{
	uint8_t *p = buf;
	size_t got = 0;
	int kind, rc;

	if ((rc = fault_check(OSFILE_OP_READ, &kind)) != 0)
		return rc;
	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, (off_t)(off + got));

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (int64_t)got;
}

int
osfile_fsync(int fd)
{
	int kind, rc;

	if ((rc = fault_check(OSFILE_OP_FSYNC, &kind)) != 0)
		return rc;
	while (fsync(fd) == -1) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int
osfile_truncate(int fd, uint64_t len)
{
	int kind, rc;

	if ((rc = fault_check(OSFILE_OP_TRUNCATE, &kind)) != 0)
		return rc;
	while (ftruncate(fd, (off_t)len) == -1) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int64_t
osfile_size(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return -errno;
	return (int64_t)st.st_size;
}

int
osfile_exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int
osfile_rename(const char *from, const char *to)
{
	int kind, rc;

	if ((rc = fault_check(OSFILE_OP_RENAME, &kind)) != 0)
		return rc;
	return rename(from, to) == -1 ? -errno : 0;
}

int
osfile_unlink(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		return -errno;
	return 0;
}

int
osfile_mkdir_p(const char *path)
{
	char *copy = xstrdup(path), *s;
	int rc = 0;

	for (s = copy + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(copy, 0750) == -1 && errno != EEXIST)
			rc = -errno;
		*s = '/';
	}
	if (rc == 0 && mkdir(copy, 0750) == -1 && errno != EEXIST)
		rc = -errno;
	free(copy);
	return rc;
}

int
osfile_fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	fd = osfile_open(dir, O_RDONLY | O_DIRECTORY, 0);
	free(dir);
	if (fd < 0)
		return fd;
	rc = osfile_fsync(fd);
	osfile_close(fd);
	return rc;
}

int
osfile_write_atomic(const char *path, const void *buf, size_t n)
{
	size_t plen = strlen(path) + sizeof(".tmp");
	char *tmp = xmalloc(plen);
	int fd = -1, rc;

	snprintf(tmp, plen, "%s.tmp", path);
	fd = osfile_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0) {
		rc = fd;
		fd = -1;
		goto out;
	}
	if ((rc = osfile_pwrite(fd, buf, n, 0)) != 0 ||
	    (rc = osfile_fsync(fd)) != 0)
		goto out;
	rc = osfile_close(fd);
	fd = -1;
	if (rc != 0 || (rc = osfile_rename(tmp, path)) != 0)
		goto out;
	rc = osfile_fsync_dir(path);
out:
	if (fd >= 0)
		osfile_close(fd);
	if (rc != 0)
		(void)osfile_unlink(tmp);
	free(tmp);
	return rc;
}

int
osfile_read_all(const char *path, size_t max, uint8_t **bufp, size_t *lenp)
{
	uint8_t *buf = NULL;
	int64_t size, got;
	int fd, rc = 0;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = osfile_open(path, O_RDONLY, 0)) < 0)
		return fd;
	if ((size = osfile_size(fd)) < 0) {
		rc = (int)size;
		goto out;
	}
	if ((uint64_t)size > max) {
		rc = ERR_TOO_BIG;
		goto out;
	}
	if ((buf = malloc(size > 0 ? (size_t)size : 1)) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if ((got = osfile_pread(fd, buf, (size_t)size, 0)) < 0) {
		rc = (int)got;
		goto out;
	}
	*bufp = buf;
	*lenp = (size_t)got;
	buf = NULL;
out:
	free(buf);
	osfile_close(fd);
	return rc;
}

int
osfile_list_dir(
    const char *dir, int (*fn)(const char *name, void *arg), void *arg)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((rc = fn(de->d_name, arg)) != 0)
			break;
	}
	closedir(d);
	return rc;
}
