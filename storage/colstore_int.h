/*
 * colstore_int.h: (4) internals shared by the column store's reader
 * (colstore.c), its writer and offline tools (colstore_write.c), and
 * their tests.
 */
#ifndef STORAGE_COLSTORE_INT_H
#define STORAGE_COLSTORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/agg_window.h"
#include "storage/colfile.h"

#define COLSTORE_PATH_MAX 4096

/* "DIR/trades" or "DIR/bars". */
const char *colstore_table_name(int table);

/* DIR/<table>/YYYY-MM-DD into buf (COLSTORE_PATH_MAX). */
void colstore_file_path(const char *dir, int table, uint32_t day, char *buf);

/* DIR/tail.G into buf. */
void colstore_tail_path(const char *dir, uint64_t gen, char *buf);

/* The day of a file name "YYYY-MM-DD": 0 and *day, or -1. */
int colstore_parse_day(const char *name, uint32_t *day);

/*
 * Read the block at off of fd (committed bytes up to end) into *buf
 * (grown with realloc up to the block's size, which the header bounds),
 * check its header and CRC.  Returns the block length (> 0) and *h; 0 at
 * end; ERR_MALFORMED, ERR_CRC for a damaged block; -errno.
 */
int colstore_read_block(int fd, uint64_t off, uint64_t end, uint8_t **buf,
    size_t *cap, struct colfile_head *h);

/*
 * Merge bar rows (deltas, in write order) by bucket: returns the merged
 * rows sorted by t, one per bucket, in a malloc()ed array (*nout rows).
 */
struct colbar *colstore_merge_rows(
    const struct colbar *rows, size_t n, size_t *nout);

/*
 * Roll merged rows (sorted by t, one per bucket) up to buckets of
 * size_ms: a malloc()ed array, *nout rows, sorted.
 */
struct colbar *colstore_rollup(
    const struct colbar *rows, size_t n, int64_t size_ms, size_t *nout);

#endif
