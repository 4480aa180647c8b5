/*
 * osfile.h: (2)(4) every file call of the storage layer, and the hook that
 * makes them fail on purpose.
 *
 * The column store (and the log's offset state) never calls open(),
 * pwrite(), fsync() and friends directly: they go through here, so a test
 * can make the Nth write or fsync fail, or make a write land only in
 * part, and check that what is left on disk still verifies.  Every
 * function returns 0 (or a count) on success and -errno on failure;
 * EINTR is retried inside.  Writes are whole: a short write is continued
 * until every byte is written or an error comes back.
 *
 * The fault hook counts calls per operation from the moment it is armed.
 * The counters are atomic, so the store's writer thread may hit a fault
 * armed by the thread that started it.  Faults are for tests (unit tests
 * arm them directly; the daemon reads FINNSTREAM_TEST_FAULTS once at
 * start-up, see osfile_faults_from_env) and cost one atomic increment
 * per call otherwise.
 */
#ifndef STORAGE_OSFILE_H
#define STORAGE_OSFILE_H

#include <stddef.h>
#include <stdint.h>

enum osfile_op {
	OSFILE_OP_WRITE,    /* osfile_pwrite (each call, not each syscall) */
	OSFILE_OP_FSYNC,    /* osfile_fsync, osfile_fsync_dir */
	OSFILE_OP_TRUNCATE, /* osfile_truncate */
	OSFILE_OP_RENAME,   /* osfile_rename */
	OSFILE_OP_OPEN,     /* osfile_open with O_CREAT */
	OSFILE_OP_READ,     /* osfile_pread */
	OSFILE_OP_COUNT
};

enum osfile_fault_kind {
	OSFILE_FAULT_FAIL, /* nothing done, the call returns err */
	OSFILE_FAULT_SHORT /* writes: the first half of the bytes land, then
	                      the call returns err (a torn write) */
};

/*
 * Arm a fault: calls number nth, nth+1, ... nth+count-1 of op (counted
 * from now, the first call being 1) fail as kind says, returning err (a
 * negative errno such as -EIO or -ENOSPC).  count 0 means every call
 * from nth on.  Re-arming an op replaces its fault; nth 0 disarms it.
 */
void osfile_fault_arm(int op, uint64_t nth, uint64_t count, int kind, int err);

/* Disarm every fault and zero the call counters. */
void osfile_fault_reset(void);

/* Faults that fired so far (all ops), for tests. */
uint64_t osfile_fault_hits(void);

/*
 * Arm faults from a spec "OP:NTH[:COUNT][:KIND][,...]" with OP one of
 * write, fsync, truncate, rename, open, read and KIND eio (default),
 * enospc or short (a torn write then ENOSPC), e.g.
 * "write:40,fsync:12:1:eio,write:90:1:short".  NULL or "" arms nothing.
 * Returns 0, or ERR_CONFIG for a spec that does not parse (nothing
 * armed then).
 */
int osfile_faults_parse(const char *spec);

/* osfile_faults_parse(getenv("FINNSTREAM_TEST_FAULTS")). */
int osfile_faults_from_env(void);

/* open(2) with O_CLOEXEC added; returns the fd (>= 0) or -errno. */
int osfile_open(const char *path, int flags, int mode);
int osfile_close(int fd);

/* All n bytes at offset off, or -errno (some may have landed). */
int osfile_pwrite(int fd, const void *buf, size_t n, uint64_t off);

/*
 * Up to n bytes at offset off into buf: returns the count read (short
 * only at end of file) or -errno.
 */
int64_t osfile_pread(int fd, void *buf, size_t n, uint64_t off);

int osfile_fsync(int fd);
int osfile_truncate(int fd, uint64_t len);

/* The size of an open file, or -errno. */
int64_t osfile_size(int fd);

/* 1 if path exists, 0 if not, -errno on other errors. */
int osfile_exists(const char *path);

int osfile_rename(const char *from, const char *to);

/* unlink(2); a missing file is not an error. */
int osfile_unlink(const char *path);

/* mkdir -p with mode 0750. */
int osfile_mkdir_p(const char *path);

/* fsync the directory that holds path (after creating or renaming). */
int osfile_fsync_dir(const char *path);

/*
 * Replace path with n bytes atomically: write path.tmp, fsync it, rename
 * it over path, fsync the directory.  On failure path is untouched (the
 * tmp file is removed).  Thread-safe as long as no two threads replace
 * the same path at once.
 */
int osfile_write_atomic(const char *path, const void *buf, size_t n);

/*
 * Read a whole file of at most max bytes into a malloc()ed buffer (the
 * caller frees it).  -ENOENT for a missing file, ERR_TOO_BIG when it is
 * larger than max (checked before allocating), ERR_NOMEM, or -errno.
 */
int osfile_read_all(const char *path, size_t max, uint8_t **buf, size_t *len);

/*
 * Call fn(name, arg) for every entry of dir but "." and "..", in no
 * particular order; stops early when fn returns non-zero and returns
 * that.  -errno when dir cannot be read.
 */
int osfile_list_dir(
    const char *dir, int (*fn)(const char *name, void *arg), void *arg);

#endif
