/*
 * feed_sim.h: (1) the `sim` feed's synthetic market: Finnhub trade
 * messages, byte for byte in Finnhub's format, from a seeded random walk.
 *
 * Each symbol gets a kind from its name and what the market knows about
 * it: US stocks (a $0.01 tick, some sub-penny prints at the midpoint or
 * with price improvement, share volumes mostly in odd lots with round-lot
 * spikes and rare blocks, condition codes like ["1","24","12"]), crypto
 * pairs (BINANCE:..., the pair's own tick, fractional volumes like
 * 0.00012, "c":null) and FX quotes (OANDA:..., five decimals, v = 0, no
 * "c").  Activity is skewed across symbols, prints come in bursts of one
 * symbol, and several trades share a millisecond.  Prices are printed as
 * Finnhub prints them: the shortest decimal that reads back as the same
 * double (66972.77, 0.5612, 122.1, 130), never with an exponent.
 *
 * No I/O, no clock, no libevent: the caller says what time it is, and the
 * output is a function of the seed and the calls made.
 */
#ifndef SERVER_FEED_SIM_H
#define SERVER_FEED_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wbuf.h"

struct feed_sim;

/*
 * A market over the nsymbols (>= 1) symbols given (copied; each 1..64
 * printable ASCII bytes, as the configuration accepts them), with the
 * random streams seeded by seed.  Returns NULL for an empty list or a
 * symbol outside that rule.  Free with feed_sim_free().
 */
struct feed_sim *feed_sim_new(
    const char *const *symbols, int nsymbols, uint64_t seed);
void feed_sim_free(struct feed_sim *m);

/*
 * Append one Finnhub trade message, {"data":[...],"type":"trade"}, with
 * ntrades trades to out.  Their times lie in [1, now_ms] (now_ms: UNIX
 * milliseconds), are non-decreasing within the message and across the
 * messages of a market as long as now_ms does not go back, and often tie.
 * Returns ntrades, or 0 when ntrades < 1 (nothing appended) or out->err
 * is set (the message may be partly appended).
 */
size_t feed_sim_frame(
    struct feed_sim *m, int64_t now_ms, int ntrades, struct wbuf *out);

/* Append Finnhub's keep-alive message, {"type":"ping"}. */
void feed_sim_ping(struct wbuf *out);

#endif
