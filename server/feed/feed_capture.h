/*
 * feed_capture.h: (1) capture files on disk: the writer behind `capture
 * PATH` and the reader behind `feed replay:PATH` (the format itself is
 * proto/capture.h).
 *
 * Both read and write in bounded pieces: a capture of any size costs one
 * buffer of FEED_CAPTURE_CHUNK bytes.  Opening a capture for append
 * checks every record first:
 *
 *	whole file decodes              append at its end
 *	an incomplete final record      (a crash or a full disk mid-write)
 *	                                cut it off, say so, append
 *	a record that does not decode,  damage: refuse (ERR_CRC or
 *	or valid records after a        ERR_MALFORMED) naming the byte
 *	"torn" one                      offset, and leave the file as it is
 *
 * A damaged middle is never cut: the records after it are the user's
 * data, and replay stops at the damage, so appending after it would only
 * add records no reader reaches.
 */
#ifndef SERVER_FEED_CAPTURE_H
#define SERVER_FEED_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/capture.h"
#include "server/feed/feed_ingest.h"

/* The largest record a reader takes (the largest upstream message). */
#define FEED_CAPTURE_MAX_PAYLOAD INGEST_MAX_MSG
#define FEED_CAPTURE_CHUNK                                                     \
	(FEED_CAPTURE_MAX_PAYLOAD + CAPTURE_RECORD_OVERHEAD + 4096)

struct feed_capture_reader;
struct feed_capture_writer;

/*
 * Open path and check its header.  Returns 0 and *out, -errno, or the
 * header's ERR_* (ERR_MALFORMED: not a capture; ERR_UNSUPPORTED: another
 * version); a file shorter than a header is ERR_MALFORMED.
 */
int feed_capture_reader_open(
    const char *path, struct feed_capture_reader **out);
void feed_capture_reader_free(struct feed_capture_reader *r);

/*
 * The next record, without consuming it: its length (> 0) with *f filled
 * in (f->payload valid until the next call on r); 0 at the end of the file
 * (feed_capture_reader_torn() then says how many bytes of an incomplete
 * final record were left); or a negative error: the decoder's ERR_* for a
 * damaged record (at feed_capture_reader_offset()), -errno for a read
 * error.
 */
int feed_capture_reader_peek(
    struct feed_capture_reader *r, struct capture_frame *f);
/* Consume the n bytes of the record peek returned. */
void feed_capture_reader_skip(struct feed_capture_reader *r, size_t n);
/* File offset of the next record. */
int64_t feed_capture_reader_offset(const struct feed_capture_reader *r);
size_t feed_capture_reader_torn(const struct feed_capture_reader *r);

/*
 * Open path for appending records, creating it with a header when it is
 * new or empty, else checking it as the table above says (*cut gets the
 * bytes of a torn tail cut off, 0 if none).  On damage, *damage_off is
 * the byte offset of the first record that does not decode.  Returns 0
 * and *out, -errno, ERR_MALFORMED (not a capture, or damaged) or ERR_CRC
 * (damaged).  Nothing is logged: the caller says what happened.
 */
int feed_capture_writer_open(const char *path, struct feed_capture_writer **out,
    size_t *cut, int64_t *damage_off);

/*
 * Append one text message received at t_us.  Buffered: errors from the
 * disk may surface here, at flush or at close.  0 or a negative error;
 * after an error the writer refuses every call with that error.
 */
int feed_capture_writer_append(struct feed_capture_writer *w, int64_t t_us,
    const uint8_t *msg, size_t len);
/* Push buffered records to the file (fflush).  0 or -errno. */
int feed_capture_writer_flush(struct feed_capture_writer *w);
/* Flush and close (checking both) and free.  0 or -errno.  NULL: 0. */
int feed_capture_writer_close(struct feed_capture_writer *w);

#endif
