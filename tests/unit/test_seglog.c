/*
 * test_seglog.c: (2) the in-memory partitioned log (storage/seglog.c):
 * append and read by offset, spans across segments, the KIP-74 first
 * batch, byte limits, segment refcounts against retention, offset leases
 * across restarts, damaged state files, the consumer cursor, retention by
 * bytes and by age, and lookup by time.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/membudget.h"
#include "proto/kafka_records.h"
#include "proto/wbuf.h"
#include "storage/seglog.h"
#include "tests/lib/tap.h"

static char tmpdir[256];

/* A batch of nrec records with timestamps ts0, ts0 + 1, ... into w. */
static void
make_batch(struct wbuf *w, int nrec, int64_t ts0, const char *tag)
{
	struct kafka_batch_enc e;
	char val[64];
	int i;

	wbuf_reset(w);
	kafka_batch_enc_begin(&e, w, ts0);
	for (i = 0; i < nrec; i++) {
		int n = snprintf(val, sizeof(val), "%s-%d", tag, i);

		kafka_batch_enc_add(&e, "key", 3, val, n, ts0 + i);
	}
	kafka_batch_enc_end(&e);
}

static struct seglog *
new_log(size_t seg_bytes, size_t ret_bytes, int64_t ret_ms, const char *state)
{
	struct seglog_limits lim;
	struct seglog *sl = NULL;
	int rc;

	memset(&lim, 0, sizeof(lim));
	lim.segment_bytes = seg_bytes;
	lim.retention_bytes = ret_bytes;
	lim.retention_ms = ret_ms;
	lim.max_batch_bytes = 4096;
	lim.default_partitions = 3;
	rc = seglog_new(&lim, state, &sl);
	if (rc != 0)
		diag("seglog_new: %s", err_str(rc));
	return sl;
}

static int hook_calls, hook_part;

static void
hook(struct seglog_topic *t, int part, void *arg)
{
	(void)t;
	(void)arg;
	hook_calls++;
	hook_part = part;
}

static void
test_topics(void)
{
	struct seglog *sl = new_log(1 << 16, 0, 0, NULL);
	struct seglog_topic *t = NULL, *t2 = NULL;
	char longname[260];

	is_int(seglog_topic_create(sl, "trades", 6, 0, &t), 0, "create");
	is_int(seglog_topic_partitions(t), 3, "default partition count");
	is_str(seglog_topic_name(t), "trades", "name");
	is_int(
	    seglog_topic_create(sl, "trades", 6, 8, &t2), ERR_EXISTS, "exists");
	ok(t2 == t, "ERR_EXISTS returns the topic");
	ok(seglog_topic_get(sl, "trades", 6) == t, "get");
	ok(seglog_topic_get(sl, "trade", 5) == NULL, "get: prefix is not it");
	is_int(seglog_topic_create(sl, "a b", 3, 1, NULL), ERR_RANGE,
	    "space refused");
	is_int(seglog_topic_create(sl, "..", 2, 1, NULL), ERR_RANGE,
	    "\"..\" refused");
	is_int(seglog_topic_create(sl, "", 0, 1, NULL), ERR_RANGE,
	    "empty refused");
	memset(longname, 'x', sizeof(longname));
	is_int(seglog_topic_create(sl, longname, 250, 1, NULL), ERR_RANGE,
	    "250 bytes refused");
	is_int(seglog_topic_create(sl, longname, 249, 1, NULL), 0,
	    "249 bytes accepted");
	is_int(
	    seglog_topic_create(sl, "many", 4, SEGLOG_MAX_PARTITIONS + 1, NULL),
	    ERR_RANGE, "too many partitions");
	is_int(seglog_topic_create(sl, "a.B_c-9", 7, 2, &t2), 0,
	    "all legal characters");
	ok(seglog_topic_at(sl, 0) == t && seglog_topic_at(sl, 2) == t2 &&
	        seglog_topic_at(sl, 3) == NULL,
	    "topic_at iterates in creation order");
	seglog_free(sl);
}

static void
test_append_read(void)
{
	struct seglog *sl = new_log(1 << 16, 0, 0, NULL);
	struct seglog_span sp[8];
	struct seglog_topic *t;
	struct kafka_batch b;
	struct wbuf w[3];
	size_t total, len;
	int64_t base = -1;
	int i, ns, kerr;

	seglog_topic_create(sl, "t", 1, 2, &t);
	seglog_set_append_hook(sl, hook, NULL);
	for (i = 0; i < 3; i++) {
		wbuf_init(&w[i], 0);
		make_batch(&w[i], 5, 1000 + 10 * i, "r");
	}
	is_int(seglog_append(t, 1, w[0].buf, w[0].len, 1, &base), 0, "append");
	is_int(base, 0, "first base offset 0");
	is_int(hook_calls, 1, "hook called");
	is_int(hook_part, 1, "hook gets the partition");
	seglog_append(t, 1, w[1].buf, w[1].len, 1, &base);
	is_int(base, 5, "second base offset 5");
	seglog_append(t, 1, w[2].buf, w[2].len, 1, &base);
	is_int(base, 10, "third base offset 10");
	is_int(seglog_end_offset(t, 1), 15, "end offset");
	is_int(seglog_start_offset(t, 1), 0, "start offset");
	is_int(seglog_end_offset(t, 0), 0, "other partition untouched");
	is_int(seglog_bytes(t, 1), w[0].len + w[1].len + w[2].len, "bytes");
	is_int(seglog_append(t, 2, w[0].buf, w[0].len, 1, &base), ERR_RANGE,
	    "bad partition");
	is_int(seglog_append(t, 0, w[0].buf, w[0].len - 1, 1, &base),
	    ERR_MALFORMED, "length mismatch refused");

	total = seglog_read(t, 1, 0, 1 << 20, 1, sp, 8, &ns);
	is_int(total, seglog_bytes(t, 1), "read all");
	is_int(ns, 1, "one span");
	/* Stored bytes equal the produced ones except baseOffset. */
	ok(memcmp(sp[0].p + 8, w[0].buf + 8, w[0].len - 8) == 0,
	    "batch bytes kept after baseOffset");
	is_int(kafka_batch_validate(sp[0].p, w[0].len, &b, &kerr), 0,
	    "stored batch still validates (CRC intact)");
	ok(kafka_batch_validate(sp[0].p + w[0].len, w[1].len, &b, &kerr) == 0 &&
	        b.base_offset == 5,
	    "second stored batch has base offset 5");

	total = seglog_read(t, 1, 7, 1 << 20, 1, sp, 8, &ns);
	is_int(total, w[1].len + w[2].len,
	    "read from inside batch 2 starts at batch 2");
	total = seglog_read(t, 1, 10, 1 << 20, 1, sp, 8, &ns);
	is_int(total, w[2].len, "read from a batch start");
	total = seglog_read(t, 1, 15, 1 << 20, 1, sp, 8, &ns);
	ok(total == 0 && ns == 0, "read at end: nothing");
	total = seglog_read(t, 1, 16, 1 << 20, 1, sp, 8, &ns);
	ok(total == 0 && ns == 0, "read past end: nothing");

	/* max_bytes and the first batch */
	len = w[0].len;
	total = seglog_read(t, 1, 0, len + w[1].len - 1, 1, sp, 8, &ns);
	is_int(total, len, "stops before the batch that would pass max");
	total = seglog_read(t, 1, 0, len - 1, 0, sp, 8, &ns);
	ok(total == 0 && ns == 0, "first batch over max: nothing");
	total = seglog_read(t, 1, 0, len - 1, 1, sp, 8, &ns);
	is_int(total, len, "first_whole: the first batch anyway");
	total = seglog_read(t, 1, 0, 0, 1, sp, 8, &ns);
	is_int(total, len, "first_whole with max 0");
	is_int(seglog_append(t, 0, w[0].buf, 5000, 1, &base), ERR_TOO_BIG,
	    "over max_batch_bytes");
	for (i = 0; i < 3; i++)
		wbuf_fini(&w[i]);
	seglog_free(sl);
}

static void
test_spans(void)
{
	/* Segments of 2 batches: 8 batches make 4 segments. */
	struct seglog_span sp[8];
	struct seglog_topic *t;
	struct seglog *sl;
	struct wbuf w;
	size_t blen, total;
	int64_t base;
	int i, ns, good = 1;

	wbuf_init(&w, 0);
	make_batch(&w, 2, 5, "s");
	blen = w.len;
	sl = new_log(2 * blen + blen / 2, 0, 0, NULL);
	seglog_topic_create(sl, "t", 1, 1, &t);
	for (i = 0; i < 8; i++)
		seglog_append(t, 0, w.buf, w.len, 1, &base);
	total = seglog_read(t, 0, 0, 1 << 20, 1, sp, 8, &ns);
	is_int(ns, 4, "one span per segment");
	is_int(total, 8 * blen, "all bytes");
	for (i = 0; i < ns; i++)
		good &= sp[i].len == 2 * blen &&
		        kafka_batch_validate(sp[i].p, blen, NULL, NULL) == 0;
	ok(good, "every span holds two whole batches");
	total = seglog_read(t, 0, 0, 1 << 20, 1, sp, 2, &ns);
	ok(ns == 2 && total == 4 * blen, "maxspans caps the read");
	total = seglog_read(t, 0, 6, 3 * blen, 1, sp, 8, &ns);
	ok(ns == 2 && total == 3 * blen && sp[0].len == blen,
	    "from the middle of a segment, across one boundary");

	/* A budget smaller than the first batch, which ends its segment:
	 * KIP-74 sends that batch whole, and nothing after it (the budget
	 * is spent, it must not wrap around into "no limit"). */
	total = seglog_read(t, 0, 2, blen / 2, 1, sp, 8, &ns);
	ok(ns == 1 && total == blen && sp[0].len == blen,
	    "budget %zu < batch %zu at a segment's end: one batch (%d spans, "
	    "%zu bytes)",
	    blen / 2, blen, ns, total);
	total = seglog_read(t, 0, 0, blen / 2, 1, sp, 8, &ns);
	ok(ns == 1 && total == blen, "budget < batch mid-segment: one batch");
	total = seglog_read(t, 0, 2, 0, 1, sp, 8, &ns);
	ok(ns == 1 && total == blen, "budget 0: the forced first batch only");
	total = seglog_read(t, 0, 2, 0, 0, sp, 8, &ns);
	ok(ns == 0 && total == 0, "budget 0, not first: nothing");
	total = seglog_read(t, 0, 2, blen + 1, 1, sp, 8, &ns);
	ok(ns == 1 && total == blen,
	    "budget one byte over a batch at a segment's end: that batch");
	wbuf_fini(&w);
	seglog_free(sl);
}

static void
test_refs_and_expire(void)
{
	struct seglog_span sp[8], keep;
	struct seglog_stats st;
	struct seglog_topic *t;
	struct seglog *sl;
	struct wbuf w;
	uint8_t copy[512];
	size_t blen, freed;
	int64_t base;
	int i, ns;

	wbuf_init(&w, 0);
	make_batch(&w, 2, 5, "x");
	blen = w.len;
	/* One batch per segment; keep at most 3 batches' bytes.  Retention
	 * by bytes runs as each append lands. */
	sl = new_log(blen, 3 * blen, 0, NULL);
	seglog_topic_create(sl, "t", 1, 1, &t);
	seglog_append(t, 0, w.buf, w.len, 100, &base);
	seglog_read(t, 0, 0, blen, 1, sp, 8, &ns);
	keep = sp[0];
	memcpy(copy, keep.p, keep.len);
	seglog_seg_ref(keep.seg);
	for (i = 1; i < 6; i++)
		seglog_append(t, 0, w.buf, w.len, 100, &base);
	is_int(seglog_start_offset(t, 0), 6,
	    "appending past retention_bytes drops the 3 oldest: start 6");
	is_int(seglog_bytes(t, 0), 3 * blen, "3 batches left");
	seglog_get_stats(sl, &st);
	is_int(st.bytes_expired, 3 * blen, "counted as expired");
	is_int(st.segments, 3, "3 segments held");
	ok(memcmp(copy, keep.p, keep.len) == 0,
	    "a referenced expired segment stays readable");
	seglog_seg_unref(keep.seg);
	is_int(seglog_read(t, 0, 0, 1 << 20, 1, sp, 8, &ns), 0,
	    "reading below start gives nothing");
	freed = seglog_expire(sl, 100);
	is_int(freed, 0, "no age retention: expire releases nothing");
	seglog_free(sl);

	/* Age: 1 s retention; the newest segment always stays. */
	sl = new_log(blen, 0, 1000, NULL);
	seglog_topic_create(sl, "t", 1, 1, &t);
	seglog_append(t, 0, w.buf, w.len, 1000, &base);
	seglog_append(t, 0, w.buf, w.len, 1500, &base);
	seglog_append(t, 0, w.buf, w.len, 2100, &base);
	is_int(seglog_expire(sl, 2000), 0, "nothing older than 1 s yet");
	is_int(seglog_expire(sl, 2001), blen, "the segment from t=1000 goes");
	is_int(seglog_expire(sl, 9000), blen,
	    "much later: all but the newest segment go");
	is_int(seglog_start_offset(t, 0), 4, "start at the newest batch");
	is_int(seglog_end_offset(t, 0), 6, "end unchanged");
	seglog_free(sl);

	/* Segments roll by age so old data in a slow partition expires. */
	sl = new_log(1 << 16, 0, 8000, NULL);
	seglog_topic_create(sl, "t", 1, 1, &t);
	seglog_append(t, 0, w.buf, w.len, 1000, &base);
	seglog_append(t, 0, w.buf, w.len, 1500, &base);
	seglog_append(t, 0, w.buf, w.len, 2000, &base); /* rolls: 1 s old */
	is_int(seglog_expire(sl, 9600), 2 * blen,
	    "age retention works inside a big segment's lifetime");
	is_int(seglog_start_offset(t, 0), 4, "start after the rolled part");
	seglog_free(sl);
	wbuf_fini(&w);
}

static void
test_cursor(void)
{
	struct seglog_cursor c;
	struct seglog_topic *t;
	struct seglog *sl;
	struct kafka_batch b;
	const uint8_t *p;
	struct wbuf w;
	size_t len, blen;
	int64_t base, lost;
	int i, rc, n = 0, inorder = 1;

	wbuf_init(&w, 0);
	make_batch(&w, 3, 5, "c");
	blen = w.len;
	sl = new_log(blen, 2 * blen, 0, NULL);
	seglog_topic_create(sl, "t", 1, 1, &t);
	for (i = 0; i < 5; i++)
		seglog_append(t, 0, w.buf, w.len, 1, &base);
	seglog_expire(sl, 1);
	c.topic = t;
	c.part = 0;
	c.offset = 0;
	rc = seglog_cursor_next(&c, &p, &len, &lost);
	is_int(rc, ERR_RANGE, "cursor below start: ERR_RANGE");
	is_int(lost, 9, "9 offsets lost");
	is_int(c.offset, 9, "moved to start");
	while ((rc = seglog_cursor_next(&c, &p, &len, &lost)) == 1) {
		kafka_batch_parse(p, len, &b);
		inorder &= b.base_offset == 9 + 3 * n && len == blen;
		n++;
	}
	is_int(rc, 0, "then 0 at the end");
	is_int(n, 2, "two batches");
	ok(inorder, "in order, whole");
	is_int(c.offset, 15, "cursor at end");
	c.offset = 13;
	rc = seglog_cursor_next(&c, &p, &len, &lost);
	kafka_batch_parse(p, len, &b);
	ok(rc == 1 && b.base_offset == 12 && c.offset == 15,
	    "an offset inside a batch gives that batch");
	seglog_append(t, 0, w.buf, w.len, 1, &base);
	is_int(seglog_cursor_next(&c, &p, &len, &lost), 1,
	    "a new batch after the end is seen");
	wbuf_fini(&w);
	seglog_free(sl);
}

static void
test_time(void)
{
	struct seglog_topic *t;
	struct seglog *sl;
	struct wbuf w;
	int64_t base, ts;

	wbuf_init(&w, 0);
	sl = new_log(1 << 10, 0, 0, NULL);
	seglog_topic_create(sl, "t", 1, 1, &t);
	is_int(seglog_offset_for_time(t, 0, 0, &ts), -1, "empty: -1");
	is_int(ts, -1, "and ts -1");
	make_batch(&w, 4, 1000, "a"); /* offsets 0-3, ts 1000-1003 */
	seglog_append(t, 0, w.buf, w.len, 1, &base);
	make_batch(&w, 4, 2000, "b"); /* offsets 4-7, ts 2000-2003 */
	seglog_append(t, 0, w.buf, w.len, 1, &base);
	make_batch(&w, 4, 1500, "c"); /* offsets 8-11: late trades */
	seglog_append(t, 0, w.buf, w.len, 1, &base);
	is_int(seglog_offset_for_time(t, 0, 0, &ts), 0, "before all: 0");
	is_int(ts, 1000, "with its timestamp");
	is_int(seglog_offset_for_time(t, 0, 1002, &ts), 2,
	    "inside a batch: the exact record");
	is_int(ts, 1002, "with its timestamp");
	is_int(seglog_offset_for_time(t, 0, 1004, &ts), 4,
	    "between batches: the next batch");
	is_int(seglog_offset_for_time(t, 0, 2003, &ts), 7, "last record");
	is_int(seglog_offset_for_time(t, 0, 2004, &ts), -1, "after all: -1");
	is_int(ts, -1, "and ts -1");
	wbuf_fini(&w);
	seglog_free(sl);
}

static int
read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static void
write_file(const char *path, const char *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || write(fd, buf, n) != (ssize_t)n)
		diag("write %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
}

static void
test_leases(void)
{
	struct seglog_topic *t;
	struct seglog *sl;
	struct wbuf w;
	char path[300], crash[4096], now[4096], bad[4096];
	int64_t base;
	int n, m;

	snprintf(path, sizeof(path), "%s/seglog.state", tmpdir);
	wbuf_init(&w, 0);
	make_batch(&w, 10, 5, "l");

	sl = new_log(1 << 16, 0, 0, path);
	ok(sl != NULL, "a missing state file is a first start");
	seglog_topic_create(sl, "t", 1, 2, &t);
	seglog_topic_create(sl, "idle", 4, 1, NULL);
	seglog_append(t, 1, w.buf, w.len, 1, &base);
	seglog_append(t, 1, w.buf, w.len, 1, &base);
	n = read_file(path, crash, sizeof(crash));
	ok(n > 0, "the first append wrote the state file");
	if (!ok(strstr(crash, "topic t 2 0 16777226\n") != NULL,
	        "partition 1 leased 10 + SEGLOG_LEASE"))
		diag("%s", crash);
	seglog_free(sl); /* clean shutdown: exact offsets */

	sl = new_log(1 << 16, 0, 0, path);
	t = seglog_topic_get(sl, "t", 1);
	ok(t != NULL && seglog_topic_partitions(t) == 2,
	    "after a restart the topic exists with its partitions");
	ok(seglog_topic_get(sl, "idle", 4) != NULL, "so does an idle one");
	is_int(seglog_start_offset(t, 1), 20,
	    "clean restart: starts at the old end");
	is_int(seglog_end_offset(t, 1), 20, "and empty");
	is_int(seglog_bytes(t, 1), 0, "no bytes");
	seglog_append(t, 1, w.buf, w.len, 1, &base);
	is_int(base, 20, "appends continue at 20");
	seglog_free(sl);

	/* A crash: the state file as written while running. */
	write_file(path, crash, (size_t)n);
	sl = new_log(1 << 16, 0, 0, path);
	t = seglog_topic_get(sl, "t", 1);
	is_int(seglog_start_offset(t, 1), 10 + SEGLOG_LEASE,
	    "after a crash: starts at the lease, beyond anything handed out");
	is_int(seglog_start_offset(t, 0), 0, "an unused partition at 0");
	seglog_free(sl);

	/* Damage: a flipped digit, a truncation, garbage. */
	m = read_file(path, now, sizeof(now));
	memcpy(bad, now, (size_t)m);
	bad[strlen("finnstream-seglog 1\n") + 9] ^= 1; /* "topic t 2" */
	write_file(path, bad, (size_t)m);
	sl = NULL;
	{
		struct seglog_limits lim;

		memset(&lim, 0, sizeof(lim));
		is_int(seglog_new(&lim, path, &sl), ERR_MALFORMED,
		    "a flipped byte is refused");
		write_file(path, now, (size_t)m - 3);
		is_int(seglog_new(&lim, path, &sl), ERR_MALFORMED,
		    "a truncated file is refused");
		write_file(path, "hello\n", 6);
		is_int(seglog_new(&lim, path, &sl), ERR_MALFORMED,
		    "garbage is refused");
		n = read_file(path, bad, sizeof(bad));
		ok(n == 6 && memcmp(bad, "hello\n", 6) == 0,
		    "a refused file is left as it was");
		write_file(path, "", 0);
		is_int(seglog_new(&lim, path, &sl), ERR_MALFORMED,
		    "an empty file is refused");
	}
	unlink(path);
	wbuf_fini(&w);
}

/* The memory budget: the oldest segments across all topics go first,
 * every byte is charged until its segment is freed, and a batch the
 * budget cannot hold is refused without touching the log. */
static void
test_budget(void)
{
	struct seglog_topic *a, *b, *c;
	struct seglog_limits lim;
	struct seglog_span sp[4];
	struct seglog_stats st;
	struct membudget mb;
	struct seglog *sl;
	struct wbuf w;
	size_t blen, per;
	int64_t base;
	int i, ns, rc = 0;

	wbuf_init(&w, 0);
	make_batch(&w, 2, 5, "b");
	blen = w.len;
	per = blen + SEGLOG_BATCH_OVERHEAD; /* what a batch is charged */
	membudget_init(&mb, 10 * per);
	memset(&lim, 0, sizeof(lim));
	lim.segment_bytes = blen; /* one batch per segment */
	lim.max_batch_bytes = 1 << 20;
	lim.default_partitions = 1;
	lim.budget = &mb;
	lim.max_topics = 3;
	ok(seglog_new(&lim, NULL, &sl) == 0, "a log with a budget");
	seglog_topic_create(sl, "a", 1, 1, &a);
	seglog_topic_create(sl, "b", 1, 1, &b);
	is_int(seglog_topic_create(sl, "c", 1, 1, &c), 0, "3 topics");
	is_int(seglog_topic_create(sl, "d", 1, 1, NULL), ERR_TOO_BIG,
	    "a 4th past max_topics: ERR_TOO_BIG");
	for (i = 0; i < 4; i++)
		seglog_append(a, 0, w.buf, w.len, 1000 + i, &base);
	for (i = 0; i < 4; i++)
		seglog_append(b, 0, w.buf, w.len, 2000 + i, &base);
	seglog_get_stats(sl, &st);
	is_int(st.segments_evicted, 0, "8 batches fit");
	is_int(membudget_used(&mb), 8 * per,
	    "every byte is charged, with the index");
	/* A reader holds a's oldest segment across its eviction. */
	seglog_read(a, 0, 0, blen, 1, sp, 4, &ns);
	seglog_seg_ref(sp[0].seg);
	for (i = 0; i < 6; i++)
		rc |= seglog_append(c, 0, w.buf, w.len, 3000 + i, &base);
	is_int(rc, 0, "appends past the budget succeed");
	seglog_get_stats(sl, &st);
	/* 14 batches in a budget of 10, and the segment the reader holds
	 * still counts after its eviction: 5 go. */
	is_int(st.segments_evicted, 5, "by evicting 5 segments");
	ok(seglog_start_offset(a, 0) == 8 && seglog_start_offset(b, 0) == 2 &&
	        seglog_start_offset(c, 0) == 0,
	    "the oldest first, across topics: all of a, then b's oldest "
	    "(a starts at %lld, b at %lld)",
	    (long long)seglog_start_offset(a, 0),
	    (long long)seglog_start_offset(b, 0));
	ok(membudget_used(&mb) <= 10 * per, "the budget holds (%llu)",
	    (unsigned long long)membudget_used(&mb));
	ok(kafka_batch_validate(sp[0].p, sp[0].len, NULL, NULL) == 0,
	    "an evicted segment a reader holds stays readable");
	seglog_seg_unref(sp[0].seg);

	/* Another holder's charge makes the log give up its oldest. */
	{
		int64_t a0 = seglog_start_offset(b, 0);

		is_int(membudget_charge_reclaim(&mb, 3 * per), 0,
		    "a request's charge is met by the log");
		ok(seglog_start_offset(b, 0) > a0,
		    "which evicted its oldest segments (b starts at %lld)",
		    (long long)seglog_start_offset(b, 0));
		ok(membudget_used(&mb) <= 10 * per, "the budget holds");
		membudget_release(&mb, 3 * per);
	}

	/* One batch bigger than the whole budget: refused, log untouched. */
	make_batch(&w, 2, 5, "x");
	{
		struct wbuf big;
		struct kafka_batch_enc e;
		char *v = calloc(1, 20 * per);

		wbuf_init(&big, 0);
		kafka_batch_enc_begin(&e, &big, 1);
		kafka_batch_enc_add(&e, "k", 1, v, (int32_t)(20 * per), 1);
		kafka_batch_enc_end(&e);
		base = -1;
		is_int(seglog_append(b, 0, big.buf, big.len, 9000, &base),
		    ERR_NOMEM, "a batch over the whole budget: ERR_NOMEM");
		ok(seglog_end_offset(b, 0) == 8 && base == -1,
		    "nothing appended");
		wbuf_fini(&big);
		free(v);
	}
	seglog_free(sl);
	is_int(membudget_used(&mb), 0, "freeing the log releases every byte");
	wbuf_fini(&w);
}

/* Age retention visits a bounded number of segments per call. */
static void
test_expire_bounded(void)
{
	struct seglog_limits lim;
	struct seglog_topic *t;
	struct seglog *sl;
	struct wbuf w;
	size_t blen, freed, total = 0;
	int64_t base;
	int i, calls = 0, nseg = 3 * SEGLOG_EXPIRE_VISIT;

	wbuf_init(&w, 0);
	make_batch(&w, 1, 5, "e");
	blen = w.len;
	memset(&lim, 0, sizeof(lim));
	lim.segment_bytes = blen;
	lim.retention_ms = 1000;
	lim.default_partitions = 1;
	seglog_new(&lim, NULL, &sl);
	seglog_topic_create(sl, "t", 1, 1, &t);
	for (i = 0; i < nseg; i++)
		seglog_append(t, 0, w.buf, w.len, 1000, &base);
	while ((freed = seglog_expire(sl, 5000)) > 0 && calls < 100) {
		ok(freed <= SEGLOG_EXPIRE_VISIT * blen || calls > 0,
		    "call %d released %zu bytes", calls, freed);
		total += freed;
		calls++;
	}
	is_int(
	    calls, 3, "3 bounded calls release %d expired segments", nseg - 1);
	is_int(total, (size_t)(nseg - 1) * blen, "all but the newest");
	seglog_free(sl);
	wbuf_fini(&w);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	plan_lazy();
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_seglog.XXXXXX",
	    base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_topics();
	test_append_read();
	test_spans();
	test_refs_and_expire();
	test_cursor();
	test_time();
	test_leases();
	test_budget();
	test_expire_bounded();
	rmdir(tmpdir);
	return done_testing();
}
