/*
 * feed_capture.c: (1) capture files on disk, read and appended in bounded
 * pieces (see feed_capture.h).
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/xmalloc.h"
#include "proto/wbuf.h"
#include "server/feed/feed_capture.h"

struct feed_capture_reader {
	FILE *fp;
	uint8_t *buf;    /* FEED_CAPTURE_CHUNK bytes */
	size_t pos, len; /* unread bytes: buf[pos .. len) */
	int64_t off;     /* file offset of buf[pos] */
	int eof;
};

struct feed_capture_writer {
	FILE *fp;
	struct wbuf rec; /* one encoded record */
	int err;         /* sticky: the first error */
};

/* Read more after the unread bytes; 0, or -errno.  Sets r->eof. */
static int
reader_fill(struct feed_capture_reader *r)
{
	size_t n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	n = fread(r->buf + r->len, 1, FEED_CAPTURE_CHUNK - r->len, r->fp);
	if (n == 0) {
		if (ferror(r->fp))
			return -EIO;
		r->eof = 1;
	}
	r->len += n;
	return 0;
}

int
feed_capture_reader_open(const char *path, struct feed_capture_reader **out)
{
	struct feed_capture_reader *r;
	int rc;

	r = xcalloc(1, sizeof(*r));
	if ((r->fp = fopen(path, "rb")) == NULL) {
		rc = -errno;
		goto fail;
	}
	r->buf = xmalloc(FEED_CAPTURE_CHUNK);
	while ((rc = capture_decode_header(r->buf, r->len)) == 0 && !r->eof)
		if ((rc = reader_fill(r)) != 0)
			goto fail;
	if (rc <= 0) {
		rc = rc == 0 ? ERR_MALFORMED : rc; /* shorter than a header */
		goto fail;
	}
	r->pos = (size_t)rc;
	r->off = rc;
	*out = r;
	return 0;
fail:
	feed_capture_reader_free(r);
	return rc;
}

void
feed_capture_reader_free(struct feed_capture_reader *r)
{
	if (r == NULL)
		return;
	if (r->fp != NULL)
		fclose(r->fp);
	free(r->buf);
	free(r);
}

int
feed_capture_reader_peek(struct feed_capture_reader *r, struct capture_frame *f)
{
	int rc;

	for (;;) {
		rc = capture_decode_frame(r->buf + r->pos, r->len - r->pos,
		    FEED_CAPTURE_MAX_PAYLOAD, f);
		if (rc != 0 || r->eof)
			return rc;
		if ((rc = reader_fill(r)) != 0)
			return rc;
	}
}

void
feed_capture_reader_skip(struct feed_capture_reader *r, size_t n)
{
	r->pos += n;
	r->off += (int64_t)n;
}

int64_t
feed_capture_reader_offset(const struct feed_capture_reader *r)
{
	return r->off;
}

size_t
feed_capture_reader_torn(const struct feed_capture_reader *r)
{
	return r->eof ? r->len - r->pos : 0;
}

/*
 * An incomplete final record is a torn tail only if nothing after its
 * start decodes: a damaged length field in the middle of a file also
 * looks like "need more", but valid records follow it.  The bytes left
 * are fewer than one record, so this scan is bounded by the chunk.
 */
static int
tail_is_torn(const struct feed_capture_reader *r)
{
	struct capture_frame f;
	size_t i;

	for (i = r->pos + 1; i + CAPTURE_RECORD_OVERHEAD <= r->len; i++)
		if (capture_decode_frame(r->buf + i, r->len - i,
		        FEED_CAPTURE_MAX_PAYLOAD, &f) > 0)
			return 0;
	return 1;
}

/* Walk every record of an existing capture: 0 and *end (the end of the
 * last whole record), or an error with *end at the damaged record (-1
 * when the header itself is refused). */
static int
writer_check(const char *path, int64_t *end)
{
	struct feed_capture_reader *r = NULL;
	struct capture_frame f;
	int rc;

	*end = -1;
	if ((rc = feed_capture_reader_open(path, &r)) != 0)
		return rc;
	while ((rc = feed_capture_reader_peek(r, &f)) > 0)
		feed_capture_reader_skip(r, (size_t)rc);
	*end = feed_capture_reader_offset(r);
	if (rc == 0 && feed_capture_reader_torn(r) > 0 && !tail_is_torn(r))
		rc = ERR_MALFORMED;
	feed_capture_reader_free(r);
	return rc;
}

int
feed_capture_writer_open(const char *path, struct feed_capture_writer **out,
    size_t *cut, int64_t *damage_off)
{
	struct feed_capture_writer *w;
	struct stat st;
	int64_t end = 0;
	int rc = 0;

	*cut = 0;
	*damage_off = -1;
	w = xcalloc(1, sizeof(*w));
	wbuf_init(&w->rec, 0);
	if ((w->fp = fopen(path, "ab")) == NULL) {
		rc = -errno;
		goto fail;
	}
	if (fstat(fileno(w->fp), &st) != 0) {
		rc = -errno;
		goto fail;
	}
	if (st.st_size == 0) {
		capture_encode_header(&w->rec);
		if (fwrite(w->rec.buf, 1, w->rec.len, w->fp) != w->rec.len ||
		    fflush(w->fp) != 0) {
			rc = -errno;
			goto fail;
		}
		*out = w;
		return 0;
	}
	if ((rc = writer_check(path, &end)) != 0) {
		*damage_off = end;
		goto fail;
	}
	if (end < st.st_size) {
		/* A torn final record: cut it, so what is appended now is
		 * reachable by a reader. */
		if (ftruncate(fileno(w->fp), (off_t)end) != 0) {
			rc = -errno;
			goto fail;
		}
		*cut = (size_t)(st.st_size - end);
	}
	*out = w;
	return 0;
fail:
	if (w->fp != NULL)
		fclose(w->fp);
	wbuf_fini(&w->rec);
	free(w);
	return rc;
}

int
feed_capture_writer_append(
    struct feed_capture_writer *w, int64_t t_us, const uint8_t *msg, size_t len)
{
	if (w->err != 0)
		return w->err;
	wbuf_reset(&w->rec);
	capture_encode_frame(
	    &w->rec, (uint64_t)t_us, CAPTURE_OP_TEXT, msg, len);
	if (w->rec.err != 0)
		return w->rec.err; /* this record only: not the file's fault */
	if (fwrite(w->rec.buf, 1, w->rec.len, w->fp) != w->rec.len)
		w->err = errno != 0 ? -errno : -EIO;
	return w->err;
}

int
feed_capture_writer_flush(struct feed_capture_writer *w)
{
	if (w->err == 0 && fflush(w->fp) != 0)
		w->err = errno != 0 ? -errno : -EIO;
	return w->err;
}

int
feed_capture_writer_close(struct feed_capture_writer *w)
{
	int rc;

	if (w == NULL)
		return 0;
	rc = feed_capture_writer_flush(w);
	if (fclose(w->fp) != 0 && rc == 0)
		rc = errno != 0 ? -errno : -EIO;
	wbuf_fini(&w->rec);
	free(w);
	return rc;
}
