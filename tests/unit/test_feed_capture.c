/*
 * test_feed_capture.c: capture files on disk: append after a torn final
 * record, refuse a damaged middle without touching the file, read in
 * bounded pieces, report a full disk.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "proto/capture.h"
#include "proto/wbuf.h"
#include "server/feed/feed_capture.h"
#include "tests/lib/tap.h"

static char dir[] = "/tmp/test_feed_capture.XXXXXX";
static char path[512];

#define NREC 200

/* A capture of NREC records; *offs gets each record's offset. */
static void
write_capture(const char *p, long *offs)
{
	struct wbuf w;
	char msg[128];
	FILE *fp;
	int i;

	wbuf_init(&w, 0);
	capture_encode_header(&w);
	for (i = 0; i < NREC; i++) {
		int n = snprintf(msg, sizeof(msg),
		    "{\"data\":[{\"s\":\"AAPL\",\"p\":%d.5,\"v\":1,\"t\":%d}],"
		    "\"type\":\"trade\"}",
		    100 + i, 1000 + i);

		if (offs != NULL)
			offs[i] = (long)w.len;
		capture_encode_frame(&w, 1700000000000000ull + (uint64_t)i,
		    CAPTURE_OP_TEXT, (const uint8_t *)msg, (size_t)n);
	}
	fp = fopen(p, "wb");
	fwrite(w.buf, 1, w.len, fp);
	fclose(fp);
	wbuf_fini(&w);
}

static long
file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static char *
slurp(const char *p, long *n)
{
	FILE *fp = fopen(p, "rb");
	char *b;

	*n = file_size(p);
	b = malloc((size_t)*n + 1);
	if (fread(b, 1, (size_t)*n, fp) != (size_t)*n)
		*n = -1;
	fclose(fp);
	return b;
}

static void
poke(const char *p, long off, uint8_t x)
{
	FILE *fp = fopen(p, "r+b");
	int c;

	fseek(fp, off, SEEK_SET);
	c = fgetc(fp);
	fseek(fp, off, SEEK_SET);
	fputc(c ^ x, fp);
	fclose(fp);
}

/* Records a reader gets from p, or a negative error. */
static int
count_records(const char *p)
{
	struct feed_capture_reader *r;
	struct capture_frame f;
	int rc, n = 0;

	if ((rc = feed_capture_reader_open(p, &r)) != 0)
		return rc;
	while ((rc = feed_capture_reader_peek(r, &f)) > 0) {
		feed_capture_reader_skip(r, (size_t)rc);
		n++;
	}
	feed_capture_reader_free(r);
	return rc < 0 ? rc : n;
}

static void
test_append_and_torn_tail(void)
{
	struct feed_capture_writer *w;
	int64_t bad;
	size_t cut;
	long size;
	FILE *fp;

	write_capture(path, NULL);
	size = file_size(path);
	is_int(count_records(path), NREC, "a written capture reads back");
	fp = fopen(path, "ab");
	fwrite("\0\0\1\x8c\0\0\0", 1, 7, fp); /* a record cut short */
	fclose(fp);
	is_int(feed_capture_writer_open(path, &w, &cut, &bad), 0,
	    "a torn final record: open for append");
	is_int(cut, 7, "cutting the 7 torn bytes");
	is_int(file_size(path), size, "back to the last whole record");
	is_int(feed_capture_writer_append(w, 1, (const uint8_t *)"{}", 2), 0,
	    "append");
	is_int(feed_capture_writer_close(w), 0, "close");
	is_int(count_records(path), NREC + 1, "the appended record is reached");
}

static void
test_damaged_middle(void)
{
	struct feed_capture_writer *w = NULL;
	long offs[NREC], n1, n2;
	char *before, *after;
	int64_t bad;
	size_t cut;
	int rc;

	/* A flipped payload byte: a CRC error in the middle. */
	write_capture(path, offs);
	poke(path, offs[NREC / 2] + 20, 0x01);
	before = slurp(path, &n1);
	rc = feed_capture_writer_open(path, &w, &cut, &bad);
	is_int(rc, ERR_CRC, "a flipped byte in the middle: refused (ERR_CRC)");
	is_int(bad, offs[NREC / 2], "naming the damaged record's offset");
	after = slurp(path, &n2);
	ok(n1 == n2 && memcmp(before, after, (size_t)n1) == 0,
	    "and the file keeps every byte");
	free(before);
	free(after);

	/* A damaged length field that makes the middle look torn: valid
	 * records follow it, so it is damage, not a tail to cut. */
	write_capture(path, offs);
	poke(path, offs[NREC - 20] + 10, 0x08); /* length += 512 KiB */
	before = slurp(path, &n1);
	rc = feed_capture_writer_open(path, &w, &cut, &bad);
	is_int(rc, ERR_MALFORMED,
	    "a length that runs past the end, with records after it: refused");
	is_int(bad, offs[NREC - 20], "at that record");
	after = slurp(path, &n2);
	ok(n1 == n2 && memcmp(before, after, (size_t)n1) == 0,
	    "the file keeps every byte");
	free(before);
	free(after);

	/* Not a capture at all. */
	{
		FILE *fp = fopen(path, "wb");

		fputs("hello, this is not a capture\n", fp);
		fclose(fp);
	}
	rc = feed_capture_writer_open(path, &w, &cut, &bad);
	ok(rc == ERR_MALFORMED && bad == -1,
	    "not a capture: ERR_MALFORMED, no record offset");
	is_int(file_size(path), 29, "left alone");
}

static void
test_full_disk(void)
{
	struct feed_capture_writer *w = NULL;
	int64_t bad;
	size_t cut;
	int rc;

	if (access("/dev/full", W_OK) != 0) {
		skip("/dev/full is not writable here");
		return;
	}
	rc = feed_capture_writer_open("/dev/full", &w, &cut, &bad);
	is_int(rc, -ENOSPC, "a full disk is reported at open (ENOSPC)");
}

static void
test_big_file_bounded(void)
{
	/* Many records read in chunks: the reader's count matches and it
	 * does not need the whole file in memory (FEED_CAPTURE_CHUNK). */
	struct wbuf w;
	char msg[64];
	FILE *fp;
	int i, n = 80000;

	wbuf_init(&w, 0);
	capture_encode_header(&w);
	for (i = 0; i < n; i++) {
		int k = snprintf(
		    msg, sizeof(msg), "{\"type\":\"ping\",\"i\":%d}", i);

		capture_encode_frame(&w, (uint64_t)i, CAPTURE_OP_TEXT,
		    (const uint8_t *)msg, (size_t)k);
	}
	fp = fopen(path, "wb");
	fwrite(w.buf, 1, w.len, fp);
	fclose(fp);
	ok(w.len > 2 * FEED_CAPTURE_CHUNK, "a capture of %zu bytes", w.len);
	is_int(count_records(path), n, "every record across chunk edges");
	wbuf_fini(&w);
}

int
main(void)
{
	plan_lazy();
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/feed.cap", dir);
	test_append_and_torn_tail();
	test_damaged_middle();
	test_full_disk();
	test_big_file_bounded();
	unlink(path);
	rmdir(dir);
	return done_testing();
}
