/*
 * feed_ingest.h: (1) -> (2): one upstream message in, trades appended to the
 * log.  Every source (the Finnhub websocket, the sim market, a replay)
 * hands its messages here, so all of them go through the same parser.
 */
#ifndef SERVER_FEED_INGEST_H
#define SERVER_FEED_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "storage/seglog.h"

/* Largest upstream message accepted (websocket messages beyond it fail
 * the connection with 1009).  Finnhub's frames are a few KiB. */
#define INGEST_MAX_MSG ((size_t)1 << 20)

struct feed_ingest;

/* Appends to topic (which outlives the ingest).  Aborts on OOM only. */
struct feed_ingest *feed_ingest_new(struct seglog_topic *topic);
void feed_ingest_free(struct feed_ingest *in);

/*
 * One upstream text message received at recv_us (µs since the epoch).
 * Trades are keyed by symbol, partitioned by murmur2 and appended, one
 * RecordBatch per partition per message; invalid trades are counted and
 * skipped.  A ping or error message is counted (and an error logged).
 * Returns the number of trades appended (>= 0), or a negative error for a
 * message that is not valid Finnhub JSON (counted, logged at debug).
 */
int feed_ingest_message(
    struct feed_ingest *in, const uint8_t *msg, size_t len, int64_t recv_us);

/* The last Finnhub "error" message, for /healthz ("" if none). */
const char *feed_ingest_last_error(const struct feed_ingest *in);

#endif
