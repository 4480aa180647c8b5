/*
 * test_seglog_lease.c: (2) offset leases written by another thread
 * (seglog_set_lease_io): a write is handed over when a partition has used
 * half its lease, without waiting; an append past the confirmed lease
 * waits for the write in flight and never hands out an offset above a
 * lease that is not on disk (seglog.c invariant 5); a failed write is
 * reported, not ignored; a restart starts at or past every offset given.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/byteorder.h"
#include "base/err.h"
#include "proto/kafka_records.h"
#include "proto/wbuf.h"
#include "storage/osfile.h"
#include "storage/seglog.h"
#include "tests/lib/tap.h"

struct fake {
	struct seglog *sl;
	uint8_t *buf; /* the write in flight */
	size_t n;
	const char *path;
	uint64_t tag;
	int writes, waits;
	int fail;        /* make the next write fail */
	int64_t on_disk; /* partition 0's lease in the last file written */
};

static void
fake_write(void *arg, const char *path, uint8_t *buf, size_t n, uint64_t tag)
{
	struct fake *f = arg;

	if (f->buf != NULL)
		abort(); /* one in flight at a time */
	f->buf = buf;
	f->n = n;
	f->path = path;
	f->tag = tag;
	f->writes++;
}

/* The writer thread's job: write it, then report. */
static void
fake_complete(struct fake *f)
{
	int rc = f->fail ? -5 : osfile_write_atomic(f->path, f->buf, f->n);
	const char *p;

	if (rc == 0 && (p = strstr((char *)f->buf, "topic t 1 ")) != NULL)
		f->on_disk = strtoll(p + 10, NULL, 10);
	free(f->buf);
	f->buf = NULL;
	f->fail = 0;
	seglog_lease_done(f->sl, f->tag, rc);
}

static void
fake_wait(void *arg)
{
	struct fake *f = arg;

	f->waits++;
	if (f->buf != NULL)
		fake_complete(f);
}

/* A batch claiming n offsets (lastOffsetDelta n - 1). */
static void
batch(struct wbuf *w, int32_t n)
{
	struct kafka_batch_enc e;

	wbuf_reset(w);
	kafka_batch_enc_begin(&e, w, 1000);
	kafka_batch_enc_add(&e, "k", 1, "v", 1, 1000);
	kafka_batch_enc_end(&e);
	be32_store(
	    w->buf + KAFKA_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(n - 1));
}

int
main(void)
{
	struct seglog_limits lim;
	struct seglog_lease_io io;
	struct seglog_topic *t;
	struct fake f;
	struct wbuf w;
	char dir[256], path[300];
	int64_t base, big = SEGLOG_LEASE / 8, given = 0;
	int i, rc, violated = 0;

	plan_lazy();
	snprintf(dir, sizeof(dir), "%s/test_seglog_lease.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state", dir);
	memset(&lim, 0, sizeof(lim));
	lim.default_partitions = 1;
	lim.retention_bytes = 1 << 20;
	memset(&f, 0, sizeof(f));
	if (seglog_new(&lim, path, &f.sl) != 0)
		return 1;
	io.write = fake_write;
	io.wait = fake_wait;
	io.arg = &f;
	seglog_set_lease_io(f.sl, &io);
	seglog_topic_create(f.sl, "t", 1, 1, &t);
	wbuf_init(&w, 0);

	batch(&w, 10);
	rc = seglog_append(t, 0, w.buf, w.len, 0, &base);
	ok(rc == 0 && f.waits == 1 && f.on_disk >= 10,
	    "a new topic's first append waits for its lease (%lld on disk)",
	    (long long)f.on_disk);
	given = 10;
	/* Appends up to half the lease: no write, no wait. */
	f.writes = f.waits = 0;
	for (i = 0; i < 3; i++) {
		batch(&w, (int32_t)big);
		seglog_append(t, 0, w.buf, w.len, 0, &base);
		given += big;
	}
	ok(f.writes == 0 && f.waits == 0, "below half the lease: no write");
	batch(&w, (int32_t)big + 1);
	seglog_append(t, 0, w.buf, w.len, 0, &base);
	given += big + 1;
	ok(f.writes == 1 && f.waits == 0 && f.buf != NULL,
	    "past half: a write handed over, nobody waits");
	/* The writer is slow: appends go on, within the confirmed lease. */
	for (i = 0; i < 20; i++) {
		batch(&w, (int32_t)big);
		rc = seglog_append(t, 0, w.buf, w.len, 0, &base);
		if (rc != 0)
			break;
		given += big;
		if (given > f.on_disk)
			violated++;
	}
	ok(rc == 0 && f.waits >= 1, "past the lease: the append waited (%d)",
	    f.waits);
	is_int(violated, 0, "no offset was given above a lease on disk");
	if (f.buf != NULL)
		fake_complete(&f);
	/* A failed write: the append is refused, not let through. */
	f.fail = 1;
	for (i = 0; i < 40; i++) {
		batch(&w, (int32_t)big);
		rc = seglog_append(t, 0, w.buf, w.len, 0, &base);
		if (rc != 0)
			break;
		given += big;
		if (given > f.on_disk)
			violated++;
		if (f.buf != NULL && !f.fail)
			fake_complete(&f);
	}
	ok(rc != 0,
	    "a failed write: the append that needed it is refused "
	    "(%s)",
	    err_str(rc));
	is_int(violated, 0, "still nothing above the lease on disk");
	if (f.buf != NULL)
		fake_complete(&f);
	seglog_set_lease_io(f.sl, NULL);
	seglog_free(f.sl);
	/* A restart starts at or past every offset handed out. */
	if (seglog_new(&lim, path, &f.sl) != 0)
		return 1;
	t = seglog_topic_get(f.sl, "t", 1);
	ok(t != NULL && seglog_end_offset(t, 0) >= given,
	    "restart at %lld >= %lld",
	    t ? (long long)seglog_end_offset(t, 0) : -1LL, (long long)given);
	seglog_free(f.sl);
	wbuf_fini(&w);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
