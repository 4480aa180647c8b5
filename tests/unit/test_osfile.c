/*
 * test_osfile.c: (4) the storage layer's file calls (storage/osfile.c)
 * and their fault hook: the Nth write or fsync fails, a torn write lands
 * half its bytes, atomic replacement survives a failed rename, and the
 * FINNSTREAM_TEST_FAULTS spec parses.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "storage/osfile.h"
#include "tests/lib/tap.h"

static char dir[256];

static void
path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static int
count_entry(const char *name, void *arg)
{
	(void)name;
	(*(int *)arg)++;
	return 0;
}

int
main(void)
{
	char p[512], q[512];
	uint8_t data[1000], back[1000], *all = NULL;
	size_t len;
	int fd, n = 0;

	plan_lazy();
	snprintf(dir, sizeof(dir), "%s/test_osfile.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	memset(data, 'x', sizeof(data));
	path_of(p, sizeof(p), "a/b/c");
	is_int(osfile_mkdir_p(p), 0, "mkdir -p");
	is_int(osfile_exists(p), 1, "it exists");
	path_of(p, sizeof(p), "a/b/c/f");
	fd = osfile_open(p, O_RDWR | O_CREAT, 0640);
	ok(fd >= 0, "open with O_CREAT");

	osfile_fault_arm(OSFILE_OP_WRITE, 2, 1, OSFILE_FAULT_FAIL, -EIO);
	is_int(osfile_pwrite(fd, data, 100, 0), 0, "write 1 goes through");
	is_int(osfile_pwrite(fd, data, 100, 100), -EIO, "write 2 fails (EIO)");
	is_int(osfile_size(fd), 100, "and wrote nothing");
	is_int(osfile_pwrite(fd, data, 100, 100), 0, "write 3 goes through");
	is_int((int)osfile_fault_hits(), 1, "one fault fired");

	osfile_fault_arm(OSFILE_OP_WRITE, 1, 1, OSFILE_FAULT_SHORT, -ENOSPC);
	is_int(osfile_pwrite(fd, data, 200, 200), -ENOSPC,
	    "a torn write reports ENOSPC");
	is_int(osfile_size(fd), 300, "after landing half its bytes");

	osfile_fault_arm(OSFILE_OP_FSYNC, 1, 2, OSFILE_FAULT_FAIL, -EIO);
	is_int(osfile_fsync(fd), -EIO, "fsync 1 fails");
	is_int(osfile_fsync(fd), -EIO, "fsync 2 fails (count 2)");
	is_int(osfile_fsync(fd), 0, "fsync 3 goes through");

	osfile_fault_arm(OSFILE_OP_TRUNCATE, 1, 0, OSFILE_FAULT_FAIL, -EIO);
	is_int(osfile_truncate(fd, 10), -EIO, "truncate fails");
	is_int(osfile_truncate(fd, 10), -EIO, "and keeps failing (count 0)");
	osfile_fault_reset();
	is_int(osfile_truncate(fd, 10), 0, "reset: truncate works");
	is_int(osfile_pread(fd, back, sizeof(back), 0), 10, "pread to EOF");
	osfile_close(fd);

	/* Atomic replace: a failed rename leaves the old contents. */
	path_of(q, sizeof(q), "state");
	is_int(osfile_write_atomic(q, "old", 3), 0, "write_atomic");
	osfile_fault_arm(OSFILE_OP_RENAME, 1, 1, OSFILE_FAULT_FAIL, -EIO);
	is_int(osfile_write_atomic(q, "new!", 4), -EIO, "rename fails");
	is_int(osfile_read_all(q, 100, &all, &len), 0, "read it back");
	ok(len == 3 && memcmp(all, "old", 3) == 0, "the old contents stand");
	free(all);
	path_of(p, sizeof(p), "state.tmp");
	is_int(osfile_exists(p), 0, "and the tmp file is gone");
	is_int(osfile_read_all(q, 2, &all, &len), ERR_TOO_BIG,
	    "read_all past max: refused");
	path_of(p, sizeof(p), "missing");
	is_int(osfile_read_all(p, 2, &all, &len), -ENOENT, "missing: ENOENT");
	is_int(osfile_list_dir(dir, count_entry, &n), 0, "list_dir");
	is_int(n, 2, "two entries (a, state)");

	/* The spec of FINNSTREAM_TEST_FAULTS. */
	osfile_fault_reset();
	is_int(osfile_faults_parse("write:3,fsync:2:1:eio,write:9:1:short"), 0,
	    "spec parses");
	is_int(osfile_faults_parse("write"), ERR_CONFIG, "no NTH: refused");
	is_int(osfile_faults_parse("bogus:1"), ERR_CONFIG, "unknown op");
	is_int(osfile_faults_parse("write:0"), ERR_CONFIG, "NTH 0: refused");
	is_int(
	    osfile_faults_parse("write:1:1:nope"), ERR_CONFIG, "unknown kind");
	is_int(osfile_faults_parse(""), 0, "empty: nothing armed");
	osfile_fault_reset();
	is_int(osfile_faults_parse("write:2:1:short"), 0, "short spec");
	path_of(p, sizeof(p), "g");
	fd = osfile_open(p, O_RDWR | O_CREAT, 0640);
	osfile_pwrite(fd, data, 10, 0);
	is_int(osfile_pwrite(fd, data, 10, 10), -ENOSPC, "armed by the spec");
	is_int(osfile_size(fd), 15, "torn");
	osfile_close(fd);
	osfile_fault_reset();

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	if (system(p) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
