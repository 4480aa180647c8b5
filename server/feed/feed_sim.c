/*
 * feed_sim.c: (1) the synthetic market of the `sim` feed (see
 * feed_sim.h).
 *
 * Prices and volumes are kept as integers in units of 10^-decimals of
 * their symbol, so every price printed is an exact multiple of the tick
 * and prints as the shortest decimal that reads back as the same double
 * (a decimal of at most 15 significant digits is the unique shortest one
 * for its double).
 *
 * Randomness is xoshiro256** seeded through splitmix64; distributions
 * (after published market statistics: odd lots are over half of US
 * trades, a liquid name prints tens of times a second):
 *  - symbol of a trade: the previous trade's symbol with SIM_BURST
 *    probability (bursts of prints in one name), else drawn by weight
 *    (liquid names trade far more often: a Zipf-like skew);
 *  - price: no move about half the time, else 1 + an exponential number
 *    of ticks scaled to the symbol's volatility, with a pull back towards
 *    the starting price so a long run cannot walk to zero;
 *  - stock volume: >50% odd lots (many exact 1s), spikes at 100, 200,
 *    500, 1000 and a Pareto tail of blocks up to 2,000,000 shares;
 *    crypto volume: log-normal around the pair's typical size with rare
 *    blocks 50 times as large; FX: 0 (price-only updates);
 *  - time: a third of consecutive trades share a millisecond, the rest
 *    are a few ms apart, the message ends at or before now.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "proto/feed.h"
#include "proto/wbuf.h"
#include "server/feed/feed_sim.h"

#define SIM_BURST   0.5 /* P(next trade is the same symbol) */
#define SIM_SAME_MS 0.3 /* P(next trade is in the same ms) */
#define SIM_NO_MOVE 0.5 /* P(a trade does not move the price) */
#define SIM_MAX_DEC 8   /* decimals of prices and volumes */
/* Bytes a trade object takes, beyond its symbol: prices and volumes are
 * at most 19 digits each, c at most the longest condition set. */
#define SIM_TRADE_MAX 160

enum sim_kind { SIM_STOCK, SIM_CRYPTO, SIM_FX };

struct sim_sym {
	char *json; /* the symbol as a JSON string, with quotes */
	size_t jsonlen;
	int kind;     /* enum sim_kind */
	int pdec;     /* decimals of the price */
	int64_t tick; /* the price tick, in price units */
	int64_t px;   /* the last price, in units of 10^-pdec */
	int64_t px0;  /* where it started: the walk is pulled back here */
	double sigma; /* typical move, in ticks */
	int vdec;     /* decimals of the volume */
	double vtyp;  /* typical volume, in units of 10^-vdec */
};

struct feed_sim {
	uint64_t s[4];  /* xoshiro256** state */
	uint64_t ts[4]; /* a second stream, for the gaps between times */
	int nsym;
	struct sim_sym *sym;
	double *cum; /* cumulative weights */
	int last;    /* symbol of the previous trade */
	int64_t last_t;
};

/* What the market knows about well-known symbols. */
struct sim_known {
	const char *name;
	int kind;
	double price;
	int pdec; /* stocks: 2 (their tick), printed with up to 4 */
	int vdec;
	double vtyp; /* in whole shares / coins */
	double weight;
};

static const struct sim_known known[] = {
    {"BINANCE:BTCUSDT", SIM_CRYPTO, 66972.77, 2, 5, 0.0006, 20},
    {"BINANCE:ETHUSDT", SIM_CRYPTO, 3512.45, 2, 4, 0.02, 12},
    {"BINANCE:XRPUSDT", SIM_CRYPTO, 0.5612, 4, 0, 300, 6},
    {"BINANCE:DOGEUSDT", SIM_CRYPTO, 0.12345, 5, 0, 2000, 5},
    {"BINANCE:SOLUSDT", SIM_CRYPTO, 151.23, 2, 3, 2.5, 6},
    {"BINANCE:BNBUSDT", SIM_CRYPTO, 581.3, 2, 3, 0.5, 4},
    {"BINANCE:ADAUSDT", SIM_CRYPTO, 0.4521, 4, 1, 500, 3},
    {"COINBASE:BTC-USD", SIM_CRYPTO, 66981.02, 2, 8, 0.0008, 8},
    {"COINBASE:ETH-USD", SIM_CRYPTO, 3513.1, 2, 8, 0.03, 5},
    {"AAPL", SIM_STOCK, 189.98, 2, 0, 87, 7},
    {"MSFT", SIM_STOCK, 421.53, 2, 0, 87, 7},
    {"AMZN", SIM_STOCK, 183.66, 2, 0, 87, 6},
    {"NVDA", SIM_STOCK, 122.1, 2, 0, 47, 10},
    {"TSLA", SIM_STOCK, 251.52, 2, 0, 80, 8},
    {"GOOGL", SIM_STOCK, 172.63, 2, 0, 87, 5},
    {"META", SIM_STOCK, 504.22, 2, 0, 60, 5},
    {"AMD", SIM_STOCK, 160.02, 2, 0, 87, 5},
    {"NFLX", SIM_STOCK, 652.84, 2, 0, 40, 2},
    {"INTC", SIM_STOCK, 30.69, 2, 0, 150, 3},
    {"JPM", SIM_STOCK, 199.75, 2, 0, 80, 2},
    {"V", SIM_STOCK, 274.08, 2, 0, 60, 2},
    {"SPY", SIM_STOCK, 548.3, 2, 0, 100, 6},
    {"OANDA:EUR_USD", SIM_FX, 1.08412, 5, 0, 0, 4},
    {"OANDA:GBP_USD", SIM_FX, 1.27134, 5, 0, 0, 3},
    {"OANDA:USD_JPY", SIM_FX, 157.123, 3, 0, 0, 3},
    {"OANDA:XAU_USD", SIM_FX, 2351.125, 3, 0, 0, 2},
};

/* Condition sets of US stock prints, as Finnhub sends them. */
static const struct {
	const char *c;
	double weight;
} conds[] = {
    {"[\"1\",\"24\",\"12\"]", 30},
    {"[\"1\",\"8\",\"24\",\"12\"]", 15},
    {"[\"1\",\"24\"]", 20},
    {"[\"1\"]", 15},
    {"[\"1\",\"8\",\"24\"]", 10},
    {"[\"1\",\"12\"]", 5},
    {"[\"1\",\"8\"]", 5},
};
#define NCONDS (sizeof(conds) / sizeof(conds[0]))

static const int64_t pow10_i[] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* ---- randomness ------------------------------------------------------- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
xoshiro(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static uint64_t
rnd(struct feed_sim *m)
{
	return xoshiro(m->s);
}

/* Milliseconds from one trade to the next: often 0, else a few. */
static int64_t
time_gap(uint64_t *s)
{
	double u = (double)(xoshiro(s) >> 11) * 0x1.0p-53;

	if (u < SIM_SAME_MS)
		return 0;
	u = 1.0 - (double)(xoshiro(s) >> 11) * 0x1.0p-53;
	return 1 + (int64_t)(-2.0 * log(u));
}

/* Uniform in [0, 1). */
static double
unif(struct feed_sim *m)
{
	return (double)(rnd(m) >> 11) * 0x1.0p-53;
}

/* Uniform in (0, 1]: safe under log(). */
static double
unif_pos(struct feed_sim *m)
{
	return 1.0 - unif(m);
}

static double
expo(struct feed_sim *m, double mean)
{
	return -mean * log(unif_pos(m));
}

static double
gauss(struct feed_sim *m)
{
	return sqrt(-2.0 * log(unif_pos(m))) * cos(6.283185307179586 * unif(m));
}

/* ---- symbols ---------------------------------------------------------- */

static uint64_t
hash_name(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static int
has_prefix(const char *s, const char *const *prefixes)
{
	for (; *prefixes != NULL; prefixes++)
		if (strncmp(s, *prefixes, strlen(*prefixes)) == 0)
			return 1;
	return 0;
}

/* Fill in a symbol the market does not know from its name alone. */
static void
guess_symbol(const char *name, struct sim_known *k)
{
	static const char *const fx[] = {"OANDA:", "FXCM:", "FOREX:", "FHFX:",
	    "IC MARKETS:", "FXPRO:", "PEPPERSTONE:", NULL};
	uint64_t h = hash_name(name);
	double u = (double)(h >> 11) * 0x1.0p-53;
	int mag;

	k->name = name;
	k->weight = 1 + (double)(h % 4);
	if (has_prefix(name, fx)) {
		k->kind = SIM_FX;
		k->price = 0.6 + 1.4 * u;
		k->pdec = 5;
		k->vdec = 0;
		k->vtyp = 0;
	} else if (strchr(name, ':') != NULL) {
		k->kind = SIM_CRYPTO;
		k->price = exp(log(0.05) + u * (log(50000.0) - log(0.05)));
		mag = (int)floor(log10(k->price));
		k->pdec = mag >= 2                ? 2
		          : 4 - mag > SIM_MAX_DEC ? SIM_MAX_DEC
		                                  : 4 - mag;
		k->vdec = mag + 1 < 0 ? 0 : mag + 1 > 5 ? 5 : mag + 1;
		/* About $40 a trade. */
		k->vtyp = 40.0 / k->price;
	} else {
		k->kind = SIM_STOCK;
		k->price = 5 + 495 * u;
		k->pdec = 2;
		k->vdec = 0;
		k->vtyp = 87;
	}
}

static int
symbol_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > FEED_MAX_SYMBOL)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static void
init_symbol(struct sim_sym *y, const char *name, const struct sim_known *k)
{
	struct wbuf w;
	double tickval;

	wbuf_init(&w, 0);
	feed_encode_string(&w, name, strlen(name));
	if (w.err != 0)
		abort(); /* out of memory for a 64-byte string */
	y->json = (char *)wbuf_detach(&w, &y->jsonlen);
	y->kind = k->kind;
	y->vdec = k->vdec;
	/* Stocks trade on cents but print sub-penny prices too. */
	if (k->kind == SIM_STOCK) {
		y->pdec = 4;
		y->tick = 100;
	} else {
		y->pdec = k->pdec;
		y->tick = 1;
	}
	y->px = (int64_t)llround(k->price * (double)pow10_i[y->pdec]);
	y->px -= y->px % y->tick;
	if (y->px < 100 * y->tick)
		y->px = 100 * y->tick;
	y->px0 = y->px;
	tickval = (double)y->tick / (double)pow10_i[y->pdec];
	y->sigma = k->price * 3e-5 / tickval;
	y->vtyp = k->vtyp * (double)pow10_i[y->vdec];
	if (y->kind == SIM_CRYPTO && y->vtyp < 1)
		y->vtyp = 1;
}

struct feed_sim *
feed_sim_new(const char *const *symbols, int nsymbols, uint64_t seed)
{
	struct feed_sim *m;
	struct sim_known k;
	double total = 0;
	int i;
	size_t j;

	if (nsymbols < 1)
		return NULL;
	for (i = 0; i < nsymbols; i++)
		if (symbols[i] == NULL || !symbol_ok(symbols[i]))
			return NULL;
	m = xcalloc(1, sizeof(*m));
	for (j = 0; j < 4; j++)
		m->s[j] = splitmix64(&seed);
	for (j = 0; j < 4; j++)
		m->ts[j] = splitmix64(&seed);
	m->nsym = nsymbols;
	m->sym = xcalloc((size_t)nsymbols, sizeof(*m->sym));
	m->cum = xcalloc((size_t)nsymbols, sizeof(*m->cum));
	for (i = 0; i < nsymbols; i++) {
		for (j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (strcmp(known[j].name, symbols[i]) == 0)
				break;
		if (j < sizeof(known) / sizeof(known[0]))
			k = known[j];
		else
			guess_symbol(symbols[i], &k);
		init_symbol(&m->sym[i], symbols[i], &k);
		total += k.weight;
		m->cum[i] = total;
	}
	m->last = -1;
	return m;
}

void
feed_sim_free(struct feed_sim *m)
{
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nsym; i++)
		free(m->sym[i].json);
	free(m->sym);
	free(m->cum);
	free(m);
}

/* ---- one trade -------------------------------------------------------- */

static int
pick_symbol(struct feed_sim *m)
{
	double x;
	int lo = 0, hi = m->nsym - 1, mid;

	if (m->last >= 0 && unif(m) < SIM_BURST)
		return m->last;
	x = unif(m) * m->cum[m->nsym - 1];
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (m->cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Move the symbol's price and return the price of this print. */
static int64_t
walk(struct feed_sim *m, struct sim_sym *y)
{
	double dev, up;
	int64_t k, px, floor_px;

	if (unif(m) >= SIM_NO_MOVE) {
		k = 1 + (int64_t)expo(m, y->sigma);
		if (k > 1000)
			k = 1000;
		/* Pulled back towards px0: 75% the other way at +-12.5%. */
		dev = (double)(y->px - y->px0) / (double)y->px0;
		up = 0.5 - (dev > 0.125       ? 0.25
		               : dev < -0.125 ? -0.25
		                              : dev * 2);
		y->px += unif(m) < up ? k * y->tick : -k * y->tick;
		floor_px = y->px0 / 10 - y->px0 / 10 % y->tick;
		if (y->px < floor_px || y->px < y->tick)
			y->px = floor_px > y->tick ? floor_px : y->tick;
	}
	px = y->px;
	if (y->kind == SIM_STOCK) {
		double r = unif(m);

		if (r < 0.08)
			px += 50; /* the midpoint: x.xx5 */
		else if (r < 0.12)
			px +=
			    1 + (int64_t)(rnd(m) % 99); /* price improvement */
	}
	return px;
}

static int64_t
stock_volume(struct feed_sim *m)
{
	static const int64_t lots[] = {
	    100, 100, 100, 100, 200, 200, 300, 400, 500, 500, 1000};
	double r = unif(m);
	int64_t v;

	if (r < 0.15)
		return 1;
	if (r < 0.55) /* odd lots, log-uniform over 1..99 */
		return (int64_t)exp(unif(m) * log(100.0));
	if (r < 0.60)
		return (int64_t[]){10, 20, 25, 50}[rnd(m) % 4];
	if (r < 0.93)
		return lots[rnd(m) % (sizeof(lots) / sizeof(lots[0]))];
	if (r < 0.995) /* mixed lots, 101..~5000 */
		return 101 + (int64_t)expo(m, 700);
	v = (int64_t)(10000.0 * pow(unif_pos(m), -1 / 1.2)); /* blocks */
	return v > 2000000 ? 2000000 : v;
}

static int64_t
crypto_volume(struct feed_sim *m, const struct sim_sym *y)
{
	double v = y->vtyp * exp(1.6 * gauss(m));

	if (unif(m) < 0.005)
		v *= 50;
	if (v > y->vtyp * 1e5)
		v = y->vtyp * 1e5;
	return v < 1 ? 1 : (int64_t)llround(v);
}

/* units / 10^dec as the shortest decimal; returns the length. */
static size_t
put_decimal(char *o, int64_t units, int dec)
{
	char tmp[24];
	int64_t ip = units / pow10_i[dec], fp = units % pow10_i[dec];
	size_t n = 0, len = 0;
	int i;

	do {
		tmp[n++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip != 0);
	while (n > 0)
		o[len++] = tmp[--n];
	if (fp != 0) {
		o[len++] = '.';
		for (i = dec - 1; i >= 0; i--) {
			tmp[i] = (char)('0' + fp % 10);
			fp /= 10;
		}
		n = (size_t)dec;
		while (tmp[n - 1] == '0')
			n--;
		memcpy(o + len, tmp, n);
		len += n;
	}
	return len;
}

static size_t
put_int(char *o, int64_t v)
{
	return put_decimal(o, v, 0);
}

static const char *
pick_conds(struct feed_sim *m)
{
	double x = unif(m) * 100, acc = 0;
	size_t i;

	for (i = 0; i < NCONDS - 1; i++) {
		acc += conds[i].weight;
		if (x < acc)
			break;
	}
	return conds[i].c;
}

#define PUT(o, lit)                                                            \
	do {                                                                   \
		memcpy((o), (lit), sizeof(lit) - 1);                           \
		(o) += sizeof(lit) - 1;                                        \
	} while (0)

size_t
feed_sim_frame(
    struct feed_sim *m, int64_t now_ms, int ntrades, struct wbuf *out)
{
	uint64_t ts[4];
	int64_t t0, t, lim, span = 0;
	size_t maxlen, i;
	char *o, *start;
	int n;

	if (ntrades < 1 || out->err != 0)
		return 0;
	maxlen = 0;
	for (i = 0; i < (size_t)m->nsym; i++)
		if (m->sym[i].jsonlen > maxlen)
			maxlen = m->sym[i].jsonlen;
	if ((size_t)ntrades > (SIZE_MAX - 64) / (maxlen + SIM_TRADE_MAX) ||
	    wbuf_reserve(
	        out, (size_t)ntrades * (maxlen + SIM_TRADE_MAX) + 64) != 0)
		return 0;
	/*
	 * The message ends at or before now and starts no earlier than the
	 * previous one ended: its span is drawn on a copy of the gap stream
	 * first, then the same gaps again while writing.
	 */
	memcpy(ts, m->ts, sizeof(ts));
	for (n = 1; n < ntrades; n++)
		span += time_gap(ts);
	lim = now_ms > 1 ? now_ms : 1;
	t0 = now_ms - span - (int64_t)expo(m, 2);
	if (t0 < m->last_t)
		t0 = m->last_t;
	if (t0 < 1)
		t0 = 1;
	if (t0 > lim)
		t0 = lim;
	t = t0;
	start = o = (char *)out->buf + out->len;
	PUT(o, "{\"data\":[");
	for (n = 0; n < ntrades; n++) {
		struct sim_sym *y;
		const char *c;
		int64_t px, v;
		size_t cl;

		if (n > 0) {
			t0 += time_gap(m->ts);
			t = t0 < lim ? t0 : lim;
			*o++ = ',';
		}
		m->last = pick_symbol(m);
		y = &m->sym[m->last];
		px = walk(m, y);
		*o++ = '{';
		if (y->kind == SIM_STOCK) {
			c = pick_conds(m);
			cl = strlen(c);
			PUT(o, "\"c\":");
			memcpy(o, c, cl);
			o += cl;
			*o++ = ',';
		} else if (y->kind == SIM_CRYPTO) {
			PUT(o, "\"c\":null,");
		}
		PUT(o, "\"p\":");
		o += put_decimal(o, px, y->pdec);
		PUT(o, ",\"s\":");
		memcpy(o, y->json, y->jsonlen);
		o += y->jsonlen;
		PUT(o, ",\"t\":");
		o += put_int(o, t);
		PUT(o, ",\"v\":");
		if (y->kind == SIM_STOCK)
			v = stock_volume(m);
		else if (y->kind == SIM_CRYPTO)
			v = crypto_volume(m, y);
		else
			v = 0;
		o += put_decimal(o, v, y->vdec);
		*o++ = '}';
	}
	PUT(o, "],\"type\":\"trade\"}");
	out->len += (size_t)(o - start);
	m->last_t = t;
	return (size_t)ntrades;
}

void
feed_sim_ping(struct wbuf *out)
{
	wbuf_str(out, "{\"type\":\"ping\"}");
}
