/*
 * test_groupstore.c: committed consumer offsets: staging, lookup and
 * iteration order, the file image byte by byte (a vector built from the
 * format table in groupstore.h), every truncation and corruption of it,
 * and the durability rules of the state file (a damaged file refuses to
 * load, a failed sync keeps the commits staged).
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "proto/wbuf.h"
#include "storage/groupstore.h"
#include "tests/lib/hex.h"
#include "tests/lib/tap.h"

static char tmpdir[256];

static struct groupstore_commit
commit(int64_t off, const char *md)
{
	struct groupstore_commit c;

	c.offset = off;
	c.leader_epoch = -1;
	c.commit_ms = 1700000000000;
	c.metadata = md;
	c.metadata_len = md != NULL ? (int32_t)strlen(md) : -1;
	return c;
}

static int
put(struct groupstore *gs, const char *g, const char *t, int32_t p, int64_t off,
    const char *md)
{
	struct groupstore_commit c = commit(off, md);

	return groupstore_put(gs, g, strlen(g), t, strlen(t), p, &c);
}

static int64_t
get(struct groupstore *gs, const char *g, const char *t, int32_t p)
{
	struct groupstore_commit c;

	if (!groupstore_get(gs, g, strlen(g), t, strlen(t), p, &c))
		return -100;
	return c.offset;
}

static void
test_put_get(void)
{
	struct groupstore *gs = NULL;
	const struct groupstore_entry *e;
	struct groupstore_commit c;
	char *big;
	size_t n;

	ok(groupstore_open(NULL, &gs) == 0, "an in-memory store");
	is_int(get(gs, "g", "t", 0), -100, "nothing committed yet");
	is_int(put(gs, "g2", "trades", 1, 10, NULL), 0, "put g2 trades/1");
	is_int(put(gs, "g1", "trades", 3, 30, "m"), 0, "put g1 trades/3");
	is_int(put(gs, "g1", "trades", 0, 5, ""), 0, "put g1 trades/0");
	is_int(put(gs, "g1", "alpha", 2, 7, NULL), 0, "put g1 alpha/2");
	is_int(put(gs, "g1", "trades", 3, 31, "m2"), 0, "overwrite");
	is_int(get(gs, "g1", "trades", 3), 31, "the newer commit wins");
	is_int(get(gs, "g2", "trades", 1), 10, "another group");
	is_int(get(gs, "g1", "trades", 1), -100, "an uncommitted partition");
	is_str(groupstore_group_at(gs, 0), "g1", "groups in byte order (0)");
	is_str(groupstore_group_at(gs, 1), "g2", "groups in byte order (1)");
	ok(groupstore_group_at(gs, 2) == NULL, "two groups");
	n = groupstore_entries(gs, "g1", 2, &e);
	ok(n == 3 && strcmp(e[0].topic, "alpha") == 0 && e[0].partition == 2 &&
	        strcmp(e[1].topic, "trades") == 0 && e[1].partition == 0 &&
	        e[2].partition == 3,
	    "entries sorted by (topic, partition)");
	ok(n == 3 && e[1].c.metadata_len == 0 && e[0].c.metadata_len == -1 &&
	        e[2].c.metadata_len == 2 &&
	        memcmp(e[2].c.metadata, "m2", 2) == 0,
	    "null, empty and set metadata kept apart");
	is_int(groupstore_entries(gs, "nope", 4, &e), 0, "unknown group");

	c = commit(1, NULL);
	is_int(groupstore_put(gs, "", 0, "t", 1, 0, &c), ERR_RANGE,
	    "empty group id refused");
	is_int(groupstore_put(gs, "g", 1, "bad topic", 9, 0, &c), ERR_RANGE,
	    "illegal topic name refused");
	is_int(groupstore_put(gs, "g", 1, "t", 1, -1, &c), ERR_RANGE,
	    "negative partition refused");
	c.metadata_len = GROUPSTORE_MAX_METADATA + 1;
	c.metadata = big = calloc(1, (size_t)c.metadata_len);
	is_int(groupstore_put(gs, "g", 1, "t", 1, 0, &c), ERR_RANGE,
	    "metadata over the limit refused");
	free(big);
	ok(groupstore_group_at(gs, 2) == NULL, "refused commits add nothing");
	groupstore_free(gs);
}

/*
 * The image of { "g": { "t"/0 -> 42 (epoch 3, metadata "md") } }, built
 * field by field from the table in groupstore.h.
 */
static const char image_hex[] =
    "66696e6e73747265616d2d6772702031" /* "finnstream-grp 1" */
    "00000001"                         /* 1 group */
    "0001"
    "67"       /* id "g" */
    "00000001" /* 1 entry */
    "0001"
    "74"               /* topic "t" */
    "00000000"         /* partition 0 */
    "000000000000002a" /* offset 42 */
    "00000003"         /* leader epoch 3 */
    "0000018bcfe56800" /* 1700000000000 ms */
    "0002"
    "6d64"; /* metadata "md" */

static void
test_image(void)
{
	struct groupstore *gs = NULL, *back = NULL;
	struct groupstore_commit c = commit(42, "md");
	struct wbuf w;
	uint8_t *want, *t;
	size_t n, i;
	uint32_t crc;
	int bad;

	want = unhex(image_hex, &n);
	/* Append the CRC the format asks for. */
	want = realloc(want, n + 4);
	crc = crc32c(0, want, n);
	want[n] = (uint8_t)(crc >> 24);
	want[n + 1] = (uint8_t)(crc >> 16);
	want[n + 2] = (uint8_t)(crc >> 8);
	want[n + 3] = (uint8_t)crc;
	n += 4;

	groupstore_open(NULL, &gs);
	c.leader_epoch = 3;
	groupstore_put(gs, "g", 1, "t", 1, 0, &c);
	wbuf_init(&w, 0);
	groupstore_encode(gs, &w);
	is_mem(w.buf, w.len, want, n, "image byte-exact (%zu bytes)", n);

	groupstore_open(NULL, &back);
	is_int(groupstore_decode(back, want, n), 0, "image decodes");
	ok(get(back, "g", "t", 0) == 42, "decoded offset");
	wbuf_reset(&w);
	groupstore_encode(back, &w);
	is_mem(w.buf, w.len, want, n, "encode(decode(x)) == x");
	groupstore_free(back);

	bad = 0;
	for (i = 0; i < n; i++) {
		groupstore_open(NULL, &back);
		t = malloc(i ? i : 1);
		memcpy(t, want, i);
		if (groupstore_decode(back, t, i) != ERR_MALFORMED ||
		    groupstore_group_at(back, 0) != NULL)
			bad++;
		free(t);
		groupstore_free(back);
	}
	is_int(bad, 0, "every truncation is refused and loads nothing");

	bad = 0;
	for (i = 0; i < n; i++) {
		groupstore_open(NULL, &back);
		want[i] ^= 0x20;
		if (groupstore_decode(back, want, n) != ERR_MALFORMED)
			bad++;
		want[i] ^= 0x20;
		groupstore_free(back);
	}
	is_int(bad, 0, "every flipped byte is refused");

	/* A valid CRC over a disordered image: two entries out of order. */
	groupstore_put(gs, "g", 1, "t", 1, 5, &c);
	wbuf_reset(&w);
	groupstore_encode(gs, &w);
	{
		/* Swap the partitions of the two entries (same sizes). */
		size_t e0 = 16 + 4 + 2 + 1 + 4 + 2 + 1;
		size_t e1 = e0 + 4 + 8 + 4 + 8 + 2 + 2 + 2 + 1;

		w.buf[e0 + 3] = 5;
		w.buf[e1 + 3] = 0;
		w.len -= 4;
		wbuf_u32(&w, crc32c(0, w.buf, w.len));
		groupstore_open(NULL, &back);
		is_int(groupstore_decode(back, w.buf, w.len), ERR_MALFORMED,
		    "entries out of order are refused despite a good CRC");
		groupstore_free(back);
	}
	wbuf_fini(&w);
	free(want);
	groupstore_free(gs);
}

static void
test_file(void)
{
	struct groupstore *gs = NULL, *again = NULL;
	struct groupstore_stats st;
	char path[300], bad[320];
	int fd;

	snprintf(path, sizeof(path), "%s/groups.state", tmpdir);
	ok(groupstore_open(path, &gs) == 0, "a missing file is a first start");
	is_int(groupstore_sync(gs), 0, "sync with nothing staged");
	groupstore_get_stats(gs, &st);
	is_int(st.writes, 0, "nothing staged: no write");
	ok(access(path, F_OK) == -1, "and no file");
	put(gs, "grp", "trades", 2, 1234, "x");
	is_int(groupstore_sync(gs), 0, "sync a commit");
	groupstore_get_stats(gs, &st);
	is_int(st.writes, 1, "one write");
	put(gs, "grp", "trades", 2, 1234, "x");
	groupstore_sync(gs);
	groupstore_get_stats(gs, &st);
	is_int(st.writes, 1, "an unchanged recommit writes nothing");
	put(gs, "grp", "trades", 3, 99, NULL);
	/* Not synced: lost on free, as a crash would lose it. */
	groupstore_free(gs);
	gs = NULL;

	ok(groupstore_open(path, &again) == 0, "reopen");
	is_int(get(again, "grp", "trades", 2), 1234, "the synced commit holds");
	is_int(
	    get(again, "grp", "trades", 3), -100, "the unsynced one is gone");
	ok(access(path, F_OK) == 0, "the file is there");
	snprintf(bad, sizeof(bad), "%s.tmp", path);
	ok(access(bad, F_OK) == -1, "no temporary file left behind");
	groupstore_free(again);
	again = NULL;

	/* Damage the file: start-up must refuse it, not reset it. */
	fd = open(path, O_WRONLY);
	(void)!pwrite(fd, "\xff", 1, 30);
	close(fd);
	is_int(groupstore_open(path, &again), ERR_MALFORMED,
	    "a damaged file is refused");
	unlink(path);

	/* A sync that cannot write keeps the commit staged. */
	snprintf(bad, sizeof(bad), "%s/no-such-dir/groups.state", tmpdir);
	ok(groupstore_open(bad, &gs) == 0, "store in a missing directory");
	put(gs, "g", "t", 0, 1, NULL);
	is_int(groupstore_sync(gs), -ENOENT, "sync fails with ENOENT");
	is_int(get(gs, "g", "t", 0), 1, "the commit is still answered");
	groupstore_get_stats(gs, &st);
	is_int(st.writes, 0, "no write counted");
	groupstore_free(gs);
}

/*
 * The asynchronous path: a snapshot is the file image groupstore_sync
 * writes, with the version it holds; written() makes the store clean
 * only when nothing was staged after that snapshot.
 */
static void
test_snapshot(void)
{
	struct groupstore *gs = NULL;
	struct groupstore_stats st;
	struct wbuf w;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t v0, v = 0;
	char path[300];

	snprintf(path, sizeof(path), "%s/snap.state", tmpdir);
	ok(groupstore_open(path, &gs) == 0, "open");
	ok(strcmp(groupstore_path(gs), path) == 0, "its path");
	v0 = groupstore_version(gs);
	put(gs, "grp", "trades", 0, 10, NULL);
	ok(groupstore_version(gs) == v0 + 1, "a put: one change");
	put(gs, "grp", "trades", 0, 10, NULL);
	ok(groupstore_version(gs) == v0 + 1, "an unchanged recommit: none");
	is_int(groupstore_snapshot(gs, &buf, &len, &v), 0, "snapshot");
	ok(v == v0 + 1, "it holds version %llu", (unsigned long long)v);
	wbuf_init(&w, 0);
	groupstore_encode(gs, &w);
	ok(w.len == len && memcmp(w.buf, buf, len) == 0,
	    "the image groupstore_sync would write");
	wbuf_fini(&w);
	put(gs, "grp", "trades", 1, 20, NULL); /* while "writing" */
	groupstore_written(gs, v);
	groupstore_get_stats(gs, &st);
	is_int(st.writes, 1, "written: one write counted");
	is_int(groupstore_sync(gs), 0, "a later change keeps it dirty: sync");
	groupstore_get_stats(gs, &st);
	is_int(st.writes, 2, "and that sync wrote");
	free(buf);
	is_int(groupstore_snapshot(gs, &buf, &len, &v), 0, "snapshot again");
	groupstore_written(gs, v);
	is_int(groupstore_sync(gs), 0, "clean after written: sync");
	groupstore_get_stats(gs, &st);
	is_int(st.writes, 3, "writes nothing more");
	free(buf);
	groupstore_free(gs);
	unlink(path);
}

static void
test_limits(void)
{
	struct groupstore *gs = NULL;
	char g[16];
	int i, rc = 0;

	groupstore_open(NULL, &gs);
	for (i = 0; i < GROUPSTORE_MAX_GROUPS && rc == 0; i++) {
		snprintf(g, sizeof(g), "g%05d", i);
		rc = put(gs, g, "t", 0, i, NULL);
	}
	is_int(rc, 0, "GROUPSTORE_MAX_GROUPS groups fit");
	is_int(put(gs, "zz", "t", 0, 1, NULL), ERR_TOO_BIG,
	    "one more group is refused");
	is_int(put(gs, "g00000", "t", 1, 1, NULL), 0,
	    "a known group still takes a new partition");
	groupstore_free(gs);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	plan_lazy();
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_groupstore.XXXXXX",
	    base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_put_get();
	test_image();
	test_file();
	test_snapshot();
	test_limits();
	rmdir(tmpdir);
	return done_testing();
}
