/*
 * test_kafka_server.c: (2') the Kafka listener in process, over loopback:
 * the test owns the event_base and runs it while it waits for answers on
 * plain sockets, with requests built by hand (wbuf + the codec's
 * primitives) and responses parsed field by field.
 *
 * Covers: ApiVersions v0 and the v3 -> UNSUPPORTED_VERSION path that
 * keeps the connection; Metadata with and without topic creation;
 * Produce then Fetch (bytes identical but for baseOffset); Produce errors
 * (acks, CRC, compression in the feed topic, size, partition); acks=0;
 * ListOffsets v0/v1; long-poll wake-up on append and max_wait expiry;
 * OFFSET_OUT_OF_RANGE; KIP-74; pipelined requests answered in order
 * across a parked Fetch; oversized frames, garbage, unknown keys and
 * versions and malformed bodies each closing only their connection;
 * consumer groups (MEMBER_ID_REQUIRED, a JoinGroup and a SyncGroup parked
 * and woken by another connection's request, a parked JoinGroup whose
 * connection closes, flexible OffsetCommit/OffsetFetch); topic ids in
 * Metadata v12 and Fetch v13; Fetch sessions refused.
 */
#include <config.h>

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "base/membudget.h"
#include "proto/kafka_frame.h"
#include "proto/kafka_records.h"
#include "proto/rbuf.h"
#include "proto/wbuf.h"
#include "server/config.h"
#include "server/kafka/kafka_server.h"
#include "server/log.h"
#include "server/stats.h"
#include "storage/groupstore.h"
#include "storage/seglog.h"
#include "tests/lib/tap.h"

#define MAX_REQUEST (1 << 20)
#define MAX_BATCH   (64 << 10)

static struct event_base *evb;
static struct kafka_server *ks;
static struct seglog *slog;
static struct groupstore *gstore;
static int port;
static struct config cfg;

struct cli {
	int fd;
	struct wbuf in;    /* bytes received, not yet returned */
	struct wbuf frame; /* the last frame returned (size prefix cut) */
	int closed;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
on_append(struct seglog_topic *t, int part, void *arg)
{
	kafka_server_on_append(ks, t, part);
}

static void
cli_open(struct cli *c)
{
	struct sockaddr_in sin;

	memset(c, 0, sizeof(*c));
	wbuf_init(&c->in, 0);
	wbuf_init(&c->frame, 0);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		diag("connect: %s", strerror(errno));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	event_base_loop(evb, EVLOOP_NONBLOCK); /* accept it */
}

static void
cli_close(struct cli *c)
{
	close(c->fd);
	wbuf_fini(&c->in);
	wbuf_fini(&c->frame);
	event_base_loop(evb, EVLOOP_NONBLOCK);
}

/* Run the loop a little: whatever is ready, then at most ms of waiting
 * on the client socket. */
static void
spin(struct cli *c, int ms)
{
	struct pollfd pfd;

	event_base_loop(evb, EVLOOP_NONBLOCK);
	if (c == NULL) {
		usleep((useconds_t)ms * 1000);
		return;
	}
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	poll(&pfd, 1, ms);
}

static void
cli_send(struct cli *c, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(c->fd, b, n);

		if (w > 0) {
			b += w;
			n -= (size_t)w;
		} else if (w == -1 && errno != EAGAIN && errno != EINTR) {
			diag("write: %s", strerror(errno));
			return;
		} else {
			spin(c, 1);
		}
	}
	event_base_loop(evb, EVLOOP_NONBLOCK);
}

static int
have_frame(const struct cli *c)
{
	size_t sz;

	if (c->in.len < 4)
		return 0;
	sz = (size_t)c->in.buf[0] << 24 | (size_t)c->in.buf[1] << 16 |
	     (size_t)c->in.buf[2] << 8 | c->in.buf[3];
	return c->in.len >= 4 + sz;
}

/* 1 and c->frame = the next response, 0 on timeout (timeout_ms times the
 * test multiplier), -1 once closed. */
static int
cli_recv(struct cli *c, int timeout_ms)
{
	double end = now_ms() + timeout_ms * tap_mult();
	uint8_t tmp[65536];

	for (;;) {
		if (c->in.len >= 4) {
			size_t sz = (size_t)c->in.buf[0] << 24 |
			            (size_t)c->in.buf[1] << 16 |
			            (size_t)c->in.buf[2] << 8 | c->in.buf[3];

			if (c->in.len >= 4 + sz) {
				wbuf_reset(&c->frame);
				wbuf_put(&c->frame, c->in.buf + 4, sz);
				memmove(c->in.buf, c->in.buf + 4 + sz,
				    c->in.len - 4 - sz);
				c->in.len -= 4 + sz;
				return 1;
			}
		}
		if (c->closed)
			return -1;
		for (;;) {
			ssize_t n = read(c->fd, tmp, sizeof(tmp));

			if (n > 0) {
				wbuf_put(&c->in, tmp, (size_t)n);
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				c->closed = 1;
			break;
		}
		if (c->closed || have_frame(c))
			continue;
		if (now_ms() > end)
			return 0;
		spin(c, 1);
	}
}

/* Request framing: size, header v1 (v2 with tags when flex). */
static size_t
req_begin(struct wbuf *w, int16_t key, int16_t ver, int32_t corr, int flex)
{
	size_t mark;

	wbuf_reset(w);
	mark = kafka_frame_begin(w);
	wbuf_i16(w, key);
	wbuf_i16(w, ver);
	wbuf_i32(w, corr);
	kafka_wr_nstr(w, "unit-test", 9);
	if (flex)
		kafka_wr_tags(w);
	return mark;
}

static void
req_send(struct cli *c, struct wbuf *w, size_t mark)
{
	kafka_frame_end(w, mark, 0);
	cli_send(c, w->buf, w->len);
}

static void
send_api_versions(struct cli *c, int16_t ver, int32_t corr)
{
	struct wbuf w;
	size_t m;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_API_VERSIONS, ver, corr, ver >= 3);
	if (ver >= 3) {
		kafka_wr_cstr(&w, "unit", 4);
		kafka_wr_cstr(&w, "1.0", 3);
		kafka_wr_tags(&w);
	}
	req_send(c, &w, m);
	wbuf_fini(&w);
}

/* names NULL: all topics (null array for v1+, empty for v0). */
static void
send_metadata(struct cli *c, int16_t ver, int32_t corr, const char **names,
    int n, int allow)
{
	struct wbuf w;
	size_t m;
	int i;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_METADATA, ver, corr, 0);
	if (names == NULL)
		kafka_wr_array(&w, ver == 0 ? 0 : -1);
	else {
		kafka_wr_array(&w, n);
		for (i = 0; i < n; i++)
			kafka_wr_str(&w, names[i], (int32_t)strlen(names[i]));
	}
	if (ver >= 4)
		wbuf_u8(&w, (uint8_t)allow);
	req_send(c, &w, m);
	wbuf_fini(&w);
}

static void
send_produce(struct cli *c, int32_t corr, int16_t acks, const char *topic,
    int32_t part, const uint8_t *rec, int32_t len)
{
	struct wbuf w;
	size_t m;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_PRODUCE, 3, corr, 0);
	kafka_wr_nstr(&w, NULL, -1);
	wbuf_i16(&w, acks);
	wbuf_i32(&w, 1000);
	kafka_wr_array(&w, 1);
	kafka_wr_str(&w, topic, (int32_t)strlen(topic));
	kafka_wr_array(&w, 1);
	wbuf_i32(&w, part);
	kafka_wr_nbytes(&w, rec, len);
	req_send(c, &w, m);
	wbuf_fini(&w);
}

static void
send_fetch(struct cli *c, int32_t corr, int32_t max_wait, int32_t min_bytes,
    int32_t max_bytes, const char *topic, int32_t part, int64_t off,
    int32_t pmax)
{
	struct wbuf w;
	size_t m;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_FETCH, 4, corr, 0);
	wbuf_i32(&w, -1);
	wbuf_i32(&w, max_wait);
	wbuf_i32(&w, min_bytes);
	wbuf_i32(&w, max_bytes);
	wbuf_u8(&w, 0);
	kafka_wr_array(&w, 1);
	kafka_wr_str(&w, topic, (int32_t)strlen(topic));
	kafka_wr_array(&w, 1);
	wbuf_i32(&w, part);
	wbuf_i64(&w, off);
	wbuf_i32(&w, pmax);
	req_send(c, &w, m);
	wbuf_fini(&w);
}

/* Fetch v4 of two partitions of one topic, each from offset 0. */
static void
send_fetch2(struct cli *c, int32_t corr, int32_t max_bytes, const char *topic,
    int32_t p0, int32_t pmax0, int32_t p1, int32_t pmax1)
{
	struct wbuf w;
	size_t m;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_FETCH, 4, corr, 0);
	wbuf_i32(&w, -1);
	wbuf_i32(&w, 0); /* max_wait */
	wbuf_i32(&w, 1); /* min_bytes */
	wbuf_i32(&w, max_bytes);
	wbuf_u8(&w, 0);
	kafka_wr_array(&w, 1);
	kafka_wr_str(&w, topic, (int32_t)strlen(topic));
	kafka_wr_array(&w, 2);
	wbuf_i32(&w, p0);
	wbuf_i64(&w, 0);
	wbuf_i32(&w, pmax0);
	wbuf_i32(&w, p1);
	wbuf_i64(&w, 0);
	wbuf_i32(&w, pmax1);
	req_send(c, &w, m);
	wbuf_fini(&w);
}

static void
send_list_offsets(struct cli *c, int16_t ver, int32_t corr, const char *topic,
    int32_t part, int64_t ts)
{
	struct wbuf w;
	size_t m;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_LIST_OFFSETS, ver, corr, 0);
	wbuf_i32(&w, -1);
	kafka_wr_array(&w, 1);
	kafka_wr_str(&w, topic, (int32_t)strlen(topic));
	kafka_wr_array(&w, 1);
	wbuf_i32(&w, part);
	wbuf_i64(&w, ts);
	if (ver == 0)
		wbuf_i32(&w, 1);
	req_send(c, &w, m);
	wbuf_fini(&w);
}

/* A batch of n records "v<tag>-i" keyed "k" into w. */
static void
make_batch(struct wbuf *w, int n, int64_t ts, const char *tag, size_t pad)
{
	struct kafka_batch_enc e;
	char val[256];
	int i, vl;

	wbuf_reset(w);
	kafka_batch_enc_begin(&e, w, ts);
	for (i = 0; i < n; i++) {
		vl = snprintf(val, sizeof(val), "v%s-%d", tag, i);
		kafka_batch_enc_add(&e, "k", 1, val, vl, ts + i);
	}
	if (pad > 0) {
		char *big = calloc(1, pad);

		memset(big, 'p', pad);
		kafka_batch_enc_add(&e, "k", 1, big, (int32_t)pad, ts);
		free(big);
	}
	kafka_batch_enc_end(&e);
}

/* ---- response parsing ---- */

struct fetch_res {
	int32_t corr;
	int16_t error;
	int64_t hw;
	int32_t rlen;
	const uint8_t *rec;
};

/* Record bytes of each of two partitions of a Fetch response, or -1. */
static int
parse_fetch2(const struct wbuf *f, int32_t *rlen0, int32_t *rlen1)
{
	struct rbuf r;
	int i;

	rbuf_init(&r, f->buf, f->len);
	rbuf_i32(&r); /* correlation id */
	rbuf_i32(&r); /* throttle */
	if (rbuf_i32(&r) != 1)
		return -1;
	kafka_rd_str(&r);
	if (rbuf_i32(&r) != 2)
		return -1;
	for (i = 0; i < 2; i++) {
		rbuf_i32(&r);          /* partition */
		rbuf_i16(&r);          /* error */
		rbuf_i64(&r);          /* high watermark */
		rbuf_i64(&r);          /* last stable offset */
		if (rbuf_i32(&r) != 0) /* aborted transactions */
			return -1;
		*(i == 0 ? rlen0 : rlen1) = kafka_rd_nbytes(&r).len;
	}
	return r.err != 0 || rbuf_left(&r) != 0 ? -1 : 0;
}

static int
parse_fetch(const struct wbuf *f, struct fetch_res *fr)
{
	struct rbuf r;
	struct kafka_str s;
	struct kafka_bytes b;

	rbuf_init(&r, f->buf, f->len);
	fr->corr = rbuf_i32(&r);
	rbuf_i32(&r); /* throttle */
	if (rbuf_i32(&r) != 1)
		return -1;
	s = kafka_rd_str(&r);
	(void)s;
	if (rbuf_i32(&r) != 1)
		return -1;
	rbuf_i32(&r); /* partition */
	fr->error = rbuf_i16(&r);
	fr->hw = rbuf_i64(&r);
	rbuf_i64(&r); /* lso */
	if (rbuf_i32(&r) != 0)
		return -1; /* aborted transactions: empty */
	b = kafka_rd_nbytes(&r);
	fr->rlen = b.len;
	fr->rec = b.p;
	return r.err != 0 || rbuf_left(&r) != 0 ? -1 : 0;
}

/* Produce v3 response with one partition: error and base offset. */
static int
parse_produce(const struct wbuf *f, int32_t *corr, int16_t *err, int64_t *base)
{
	struct rbuf r;

	rbuf_init(&r, f->buf, f->len);
	*corr = rbuf_i32(&r);
	if (rbuf_i32(&r) != 1)
		return -1;
	kafka_rd_str(&r);
	if (rbuf_i32(&r) != 1)
		return -1;
	rbuf_i32(&r);
	*err = rbuf_i16(&r);
	*base = rbuf_i64(&r);
	rbuf_i64(&r); /* log append time */
	rbuf_i32(&r); /* throttle */
	return r.err != 0 || rbuf_left(&r) != 0 ? -1 : 0;
}

static int32_t
frame_corr(const struct wbuf *f)
{
	struct rbuf r;

	rbuf_init(&r, f->buf, f->len);
	return rbuf_i32(&r);
}

/* Produce one batch over c; returns the error, *base the offset. */
static int16_t
produce(struct cli *c, int16_t acks, const char *topic, int32_t part,
    const struct wbuf *b, int64_t *base)
{
	static int32_t corr = 1000;
	int32_t got;
	int16_t err = -99;

	send_produce(c, ++corr, acks, topic, part, b->buf, (int32_t)b->len);
	if (cli_recv(c, 2000) != 1 ||
	    parse_produce(&c->frame, &got, &err, base) != 0 || got != corr)
		return -99;
	return err;
}

/* ---- tests ---- */

static void
test_api_versions(void)
{
	/* The dispatch table, in its order: (key, min, max). */
	static const int16_t want[][3] = {{0, 3, 11}, {1, 4, 17}, {2, 0, 9},
	    {3, 0, 12}, {8, 2, 9}, {9, 1, 9}, {10, 0, 6}, {11, 0, 9},
	    {12, 0, 4}, {13, 0, 5}, {14, 0, 5}, {15, 0, 5}, {16, 0, 5},
	    {18, 0, 4}};
	const int32_t nwant = (int32_t)(sizeof(want) / sizeof(want[0]));
	struct cli c;
	struct rbuf r;
	int32_t n, i;
	int good = 1;

	cli_open(&c);
	send_api_versions(&c, 0, 7);
	ok(cli_recv(&c, 2000) == 1, "ApiVersions v0 answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	is_int(rbuf_i32(&r), 7, "correlation id");
	is_int(rbuf_i16(&r), 0, "error 0");
	n = rbuf_i32(&r);
	is_int(n, nwant, "14 APIs, no more than implemented");
	for (i = 0; i < n && i < nwant; i++) {
		int16_t k = rbuf_i16(&r), lo = rbuf_i16(&r), hi = rbuf_i16(&r);

		good &= k == want[i][0] && lo == want[i][1] && hi == want[i][2];
	}
	ok(good && r.err == 0 && rbuf_left(&r) == 0,
	    "the versions of Kafka 3.9 from where each client starts");

	/* librdkafka's opening move, now served (flexible, header v0). */
	send_api_versions(&c, 3, 8);
	ok(cli_recv(&c, 2000) == 1, "ApiVersions v3 answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	is_int(rbuf_i32(&r), 8, "correlation id (header v0, no tags)");
	is_int(rbuf_i16(&r), 0, "v3: error 0");
	n = (int32_t)rbuf_uvarint(&r) - 1;
	is_int(n, nwant, "v3: compact array of the same APIs");
	for (i = 0; i < n && i < nwant; i++) {
		rbuf_skip(&r, 6);
		good &= rbuf_u8(&r) == 0; /* no tags per entry */
	}
	rbuf_i32(&r); /* throttle */
	ok(good && rbuf_u8(&r) == 0 && r.err == 0 && rbuf_left(&r) == 0,
	    "v3 layout: tags per entry and at the end");

	/* A version newer than served: the KIP-511 answer, kept open. */
	send_api_versions(&c, 5, 9);
	ok(cli_recv(&c, 2000) == 1, "ApiVersions v5 answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	is_int(rbuf_i32(&r), 9, "correlation id (header v0)");
	is_int(rbuf_i16(&r), KAFKA_ERR_UNSUPPORTED_VERSION,
	    "UNSUPPORTED_VERSION (35)");
	n = rbuf_i32(&r);
	ok(n == nwant && rbuf_left(&r) == (size_t)n * 6,
	    "in the v0 layout, listing what is served");
	send_api_versions(&c, 2, 10);
	ok(cli_recv(&c, 2000) == 1 && frame_corr(&c.frame) == 10,
	    "the connection is kept: the v2 retry is answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_i32(&r);
	is_int(rbuf_i16(&r), 0, "v2: error 0");
	n = rbuf_i32(&r);
	rbuf_skip(&r, (size_t)n * 6);
	rbuf_i32(&r); /* throttle */
	ok(r.err == 0 && rbuf_left(&r) == 0, "v2 layout with throttle");
	cli_close(&c);
}

/* Metadata v4/v1 for one topic: its error and partition count. */
static void
metadata_one(struct cli *c, int16_t ver, const char *name, int allow,
    int16_t *err, int32_t *nparts)
{
	struct rbuf r;
	struct kafka_str s;
	int32_t nb, i, nt;

	*err = -99;
	*nparts = -1;
	send_metadata(c, ver, 40, &name, 1, allow);
	if (cli_recv(c, 2000) != 1)
		return;
	rbuf_init(&r, c->frame.buf, c->frame.len);
	rbuf_i32(&r);
	if (ver >= 3)
		rbuf_i32(&r);
	nb = rbuf_i32(&r);
	for (i = 0; i < nb; i++) {
		rbuf_i32(&r);
		kafka_rd_str(&r);
		rbuf_i32(&r);
		if (ver >= 1)
			kafka_rd_nstr(&r);
	}
	if (ver >= 2)
		kafka_rd_nstr(&r);
	if (ver >= 1)
		rbuf_i32(&r);
	nt = rbuf_i32(&r);
	if (nt != 1)
		return;
	*err = rbuf_i16(&r);
	s = kafka_rd_str(&r);
	if (!(s.len == (int32_t)strlen(name) &&
	        memcmp(s.p, name, strlen(name)) == 0))
		*err = -98;
	if (ver >= 1)
		rbuf_u8(&r);
	*nparts = rbuf_i32(&r);
}

static void
test_metadata(void)
{
	struct cli c;
	struct rbuf r;
	struct kafka_str s;
	int16_t err;
	int32_t np, nt, i, j, n;
	int found = 0, parts_ok = 1;

	cli_open(&c);
	metadata_one(&c, 4, "fresh", 0, &err, &np);
	is_int(err, KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION,
	    "v4 without allow_auto_topic_creation: unknown topic");
	ok(seglog_topic_get(slog, "fresh", 5) == NULL, "and not created");
	metadata_one(&c, 4, "fresh", 1, &err, &np);
	is_int(err, 0, "v4 with allow_auto_topic_creation: created");
	is_int(np, 4, "with the configured partition count");
	metadata_one(&c, 1, "fresh1", 0, &err, &np);
	ok(err == 0 && np == 4, "v1 creates on first use");
	metadata_one(&c, 0, "fresh0", 0, &err, &np);
	ok(err == 0 && np == 4, "v0 creates on first use");
	metadata_one(&c, 4, "bad name!", 1, &err, &np);
	is_int(err, KAFKA_ERR_INVALID_TOPIC_EXCEPTION,
	    "an illegal name: INVALID_TOPIC_EXCEPTION");

	/* All topics, v4: the whole layout. */
	send_metadata(&c, 4, 41, NULL, 0, 0);
	ok(cli_recv(&c, 2000) == 1, "Metadata v4 all topics answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	is_int(rbuf_i32(&r), 41, "correlation id");
	is_int(rbuf_i32(&r), 0, "throttle");
	is_int(rbuf_i32(&r), 1, "one broker");
	is_int(rbuf_i32(&r), 1, "node id 1");
	s = kafka_rd_str(&r);
	ok(s.len == 9 && memcmp(s.p, "127.0.0.1", 9) == 0, "advertised host");
	is_int(rbuf_i32(&r), port, "advertised port = the bound port");
	is_int(kafka_rd_nstr(&r).len, -1, "rack null");
	s = kafka_rd_nstr(&r);
	ok(s.len == 10 && memcmp(s.p, "finnstream", 10) == 0,
	    "cluster id \"finnstream\"");
	is_int(rbuf_i32(&r), 1, "controller 1");
	nt = rbuf_i32(&r);
	ok(nt >= 4, "every topic listed");
	for (i = 0; i < nt && r.err == 0; i++) {
		rbuf_i16(&r);
		s = kafka_rd_str(&r);
		if (s.len == 6 && memcmp(s.p, "trades", 6) == 0)
			found = 1;
		rbuf_u8(&r);
		n = rbuf_i32(&r);
		for (j = 0; j < n; j++) {
			int16_t e = rbuf_i16(&r);
			int32_t p = rbuf_i32(&r), leader = rbuf_i32(&r);
			int32_t nr = rbuf_i32(&r), r0 = rbuf_i32(&r);
			int32_t ni = rbuf_i32(&r), i0 = rbuf_i32(&r);

			parts_ok &= e == 0 && p == j && leader == 1 &&
			            nr == 1 && r0 == 1 && ni == 1 && i0 == 1;
		}
	}
	ok(found, "trades among them");
	ok(parts_ok && r.err == 0 && rbuf_left(&r) == 0,
	    "partitions: leader 1, replicas [1], isr [1]");
	cli_close(&c);
}

static void
test_produce_fetch(void)
{
	struct wbuf b1, b2, bad;
	struct fetch_res fr;
	struct cli c;
	struct kafka_batch kb;
	int64_t base = -1;
	int16_t err;
	int kerr;

	wbuf_init(&b1, 0);
	wbuf_init(&b2, 0);
	wbuf_init(&bad, 0);
	make_batch(&b1, 5, 1700000000000, "one", 0);
	make_batch(&b2, 3, 1700000001000, "two", 0);
	cli_open(&c);
	err = produce(&c, 1, "trades", 0, &b1, &base);
	ok(err == 0 && base == 0, "Produce acks=1: base offset 0");
	err = produce(&c, -1, "trades", 0, &b2, &base);
	ok(err == 0 && base == 5, "Produce acks=-1: base offset 5");
	is_int(seglog_end_offset(seglog_topic_get(slog, "trades", 6), 0), 8,
	    "high watermark 8");

	send_fetch(&c, 50, 0, 1, 1 << 20, "trades", 0, 0, 1 << 20);
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0,
	    "Fetch v4 answered");
	ok(fr.corr == 50 && fr.error == 0 && fr.hw == 8, "error 0, hw 8");
	is_int(fr.rlen, b1.len + b2.len, "both batches");
	ok(fr.rlen == (int32_t)(b1.len + b2.len) &&
	        memcmp(fr.rec + 8, b1.buf + 8, b1.len - 8) == 0 &&
	        memcmp(fr.rec + b1.len + 8, b2.buf + 8, b2.len - 8) == 0,
	    "bytes identical to the produced ones but for baseOffset");
	ok(kafka_batch_validate(fr.rec + b1.len, b2.len, &kb, &kerr) == 0 &&
	        kb.base_offset == 5,
	    "second batch: base offset 5, CRC valid");

	send_fetch(&c, 51, 0, 1, 1 << 20, "trades", 0, 6, 1 << 20);
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0 &&
	        fr.rlen == (int32_t)b2.len,
	    "Fetch from offset 6 starts at the batch holding it");
	send_fetch(&c, 52, 0, 1, 1 << 20, "trades", 0, 0, 10);
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0 &&
	        fr.rlen == (int32_t)b1.len,
	    "KIP-74: a first batch over partition_max_bytes comes whole");
	send_fetch(&c, 53, 0, 1, 1 << 20, "trades", 0, 8, 1 << 20);
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0 &&
	        fr.error == 0 && fr.rlen == 0,
	    "offset == high watermark: valid and empty");
	send_fetch(&c, 54, 0, 1, 1 << 20, "trades", 0, 9, 1 << 20);
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0 &&
	        fr.error == KAFKA_ERR_OFFSET_OUT_OF_RANGE,
	    "offset > high watermark: OFFSET_OUT_OF_RANGE");
	send_fetch(&c, 55, 500, 1, 1 << 20, "nosuch", 0, 0, 1 << 20);
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0 &&
	        fr.error == KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION,
	    "unknown topic: UNKNOWN_TOPIC_OR_PARTITION at once");
	ok(seglog_topic_get(slog, "nosuch", 6) == NULL,
	    "Fetch creates no topic");

	/* Errors */
	is_int(produce(&c, 2, "trades", 0, &b1, &base),
	    KAFKA_ERR_INVALID_REQUIRED_ACKS, "acks=2: INVALID_REQUIRED_ACKS");
	is_int(produce(&c, 1, "trades", 9, &b1, &base),
	    KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION, "partition 9: unknown");
	wbuf_reset(&bad);
	wbuf_put(&bad, b1.buf, b1.len);
	bad.buf[bad.len - 1] ^= 1;
	is_int(produce(&c, 1, "trades", 0, &bad, &base),
	    KAFKA_ERR_CORRUPT_MESSAGE, "bad CRC: CORRUPT_MESSAGE");
	/* The same batch marked gzip, CRC fixed up. */
	wbuf_reset(&bad);
	wbuf_put(&bad, b1.buf, b1.len);
	bad.buf[22] |= KAFKA_CODEC_GZIP;
	{
		uint32_t crc = crc32c(0, bad.buf + 21, bad.len - 21);

		bad.buf[17] = (uint8_t)(crc >> 24);
		bad.buf[18] = (uint8_t)(crc >> 16);
		bad.buf[19] = (uint8_t)(crc >> 8);
		bad.buf[20] = (uint8_t)crc;
	}
	is_int(produce(&c, 1, "trades", 0, &bad, &base),
	    KAFKA_ERR_UNSUPPORTED_COMPRESSION_TYPE,
	    "compressed into trades: UNSUPPORTED_COMPRESSION_TYPE");
	err = produce(&c, 1, "other", 1, &bad, &base);
	ok(err == 0 && base == 0,
	    "compressed into another topic (created by Produce): stored");
	send_fetch(&c, 56, 0, 1, 1 << 20, "other", 1, 0, 1 << 20);
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0 &&
	        fr.rlen == (int32_t)bad.len &&
	        memcmp(fr.rec + 8, bad.buf + 8, bad.len - 8) == 0,
	    "and served verbatim");
	make_batch(&bad, 1, 1, "big", MAX_BATCH + 100);
	is_int(produce(&c, 1, "trades", 0, &bad, &base),
	    KAFKA_ERR_MESSAGE_TOO_LARGE,
	    "over the log's max batch: "
	    "MESSAGE_TOO_LARGE");
	is_int(produce(&c, 1, "bad/name", 0, &b1, &base),
	    KAFKA_ERR_INVALID_TOPIC_EXCEPTION,
	    "Produce to an illegal name: INVALID_TOPIC_EXCEPTION");

	/* Byte budgets: a forced first batch larger than max_bytes leaves
	 * nothing for the next partition (the budget must not wrap), and a
	 * zero or negative partition_max_bytes bounds its partition to the
	 * KIP-74 batch (first) or nothing (later). */
	{
		int32_t r0 = -1, r1 = -1;

		ok(produce(&c, 1, "trades", 1, &b1, &base) == 0 &&
		        produce(&c, 1, "trades", 1, &b2, &base) == 0,
		    "two batches into partition 1");
		send_fetch2(&c, 57, 10, "trades", 0, 1 << 20, 1, 1 << 20);
		ok(cli_recv(&c, 2000) == 1 &&
		        parse_fetch2(&c.frame, &r0, &r1) == 0 &&
		        r0 == (int32_t)b1.len && r1 == 0,
		    "max_bytes 10: partition 0's first batch whole, partition "
		    "1 nothing (%d, %d)",
		    r0, r1);
		send_fetch2(&c, 58, 1 << 20, "trades", 0, -1, 1, -5);
		ok(cli_recv(&c, 2000) == 1 &&
		        parse_fetch2(&c.frame, &r0, &r1) == 0 &&
		        r0 == (int32_t)b1.len && r1 == 0,
		    "negative partition_max_bytes: the first batch, then "
		    "nothing (%d, %d)",
		    r0, r1);
		send_fetch2(&c, 59, 1 << 20, "trades", 0, 0, 1, 0);
		ok(cli_recv(&c, 2000) == 1 &&
		        parse_fetch2(&c.frame, &r0, &r1) == 0 &&
		        r0 == (int32_t)b1.len && r1 == 0,
		    "zero partition_max_bytes: the same (%d, %d)", r0, r1);
	}

	/* acks=0: no response; the next request's answer comes next. */
	send_produce(&c, 60, 0, "trades", 0, b1.buf, (int32_t)b1.len);
	send_api_versions(&c, 0, 61);
	ok(cli_recv(&c, 2000) == 1 && frame_corr(&c.frame) == 61,
	    "acks=0: no response at all");
	is_int(seglog_end_offset(seglog_topic_get(slog, "trades", 6), 0), 13,
	    "but the batch was appended");
	cli_close(&c);
	wbuf_fini(&b1);
	wbuf_fini(&b2);
	wbuf_fini(&bad);
}

static void
test_list_offsets(void)
{
	struct cli c;
	struct rbuf r;
	int64_t v[4];
	int32_t n;

	cli_open(&c);
	send_list_offsets(&c, 0, 70, "trades", 0, -1);
	ok(cli_recv(&c, 2000) == 1, "ListOffsets v0 answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_i32(&r);
	rbuf_i32(&r);
	kafka_rd_str(&r);
	rbuf_i32(&r);
	rbuf_i32(&r);
	is_int(rbuf_i16(&r), 0, "error 0");
	n = rbuf_i32(&r);
	v[0] = rbuf_i64(&r);
	ok(n == 1 && v[0] == 13 && rbuf_left(&r) == 0,
	    "v0 latest: [13], one element");

	send_list_offsets(&c, 1, 71, "trades", 0, -2);
	cli_recv(&c, 2000);
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_skip(&r, 4 + 4 + 2 + 6 + 4 + 4 + 2);
	v[0] = rbuf_i64(&r);
	v[1] = rbuf_i64(&r);
	ok(v[0] == -1 && v[1] == 0 && rbuf_left(&r) == 0,
	    "v1 earliest: timestamp -1, offset 0");

	send_list_offsets(&c, 1, 72, "trades", 0, 1700000001001);
	cli_recv(&c, 2000);
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_skip(&r, 4 + 4 + 2 + 6 + 4 + 4 + 2);
	v[0] = rbuf_i64(&r);
	v[1] = rbuf_i64(&r);
	ok(v[0] == 1700000001001 && v[1] == 6,
	    "v1 by time: the exact record (offset 6) and its timestamp");

	send_list_offsets(&c, 1, 73, "trades", 0, 1800000000000);
	cli_recv(&c, 2000);
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_skip(&r, 4 + 4 + 2 + 6 + 4 + 4 + 2);
	v[0] = rbuf_i64(&r);
	v[1] = rbuf_i64(&r);
	ok(v[0] == -1 && v[1] == -1, "v1 after every record: -1, -1");

	send_list_offsets(&c, 1, 74, "trades", 7, -1);
	cli_recv(&c, 2000);
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_skip(&r, 4 + 4 + 2 + 6 + 4 + 4);
	is_int(rbuf_i16(&r), KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION,
	    "unknown partition");
	cli_close(&c);
}

static void
test_long_poll(void)
{
	struct seglog_topic *t = seglog_topic_get(slog, "trades", 6);
	struct fetch_res fr;
	struct wbuf b;
	struct cli c;
	double t0, dt;
	int64_t hw = seglog_end_offset(t, 2), base;

	wbuf_init(&b, 0);
	make_batch(&b, 2, 1700000002000, "lp", 0);
	cli_open(&c);
	send_fetch(&c, 80, 10000, 1, 1 << 20, "trades", 2, hw, 1 << 20);
	is_int(cli_recv(&c, 100), 0, "Fetch at the high watermark waits");
	t0 = now_ms();
	seglog_append(t, 2, b.buf, b.len, 1, &base); /* as the feed does */
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0,
	    "an append wakes it");
	dt = now_ms() - t0;
	ok(dt < 50 * tap_mult(), "within milliseconds (%.2f ms)", dt);
	ok(fr.corr == 80 && fr.rlen == (int32_t)b.len && fr.hw == hw + 2,
	    "with the new batch");

	/* min_bytes above one batch: the first append is not enough. */
	send_fetch(&c, 81, 10000, (int32_t)b.len + 1, 1 << 20, "trades", 2,
	    hw + 2, 1 << 20);
	seglog_append(t, 2, b.buf, b.len, 1, &base);
	is_int(cli_recv(&c, 50), 0, "under min_bytes: still waiting");
	seglog_append(t, 2, b.buf, b.len, 1, &base);
	ok(cli_recv(&c, 2000) == 1 && parse_fetch(&c.frame, &fr) == 0 &&
	        fr.rlen == (int32_t)(2 * b.len),
	    "answered once min_bytes are there");

	t0 = now_ms();
	send_fetch(&c, 82, 150, 1, 1 << 20, "trades", 2, hw + 6, 1 << 20);
	ok(cli_recv(&c, 3000) == 1 && parse_fetch(&c.frame, &fr) == 0,
	    "max_wait expiry answers");
	dt = now_ms() - t0;
	ok(dt >= 140 && dt < 1500 * tap_mult(), "after max_wait_ms (%.0f ms)",
	    dt);
	ok(fr.corr == 82 && fr.error == 0 && fr.rlen == 0, "empty, no error");
	cli_close(&c);
	wbuf_fini(&b);
}

/* Pipelined: ApiVersions, Metadata, a parked Fetch, ApiVersions. */
static void
test_pipeline(void)
{
	struct seglog_topic *t = seglog_topic_get(slog, "trades", 6);
	struct wbuf all, one;
	struct cli c;
	const char *name = "trades";
	int32_t corr[4];
	int i, got = 0;
	int64_t hw = seglog_end_offset(t, 3);

	wbuf_init(&all, 0);
	wbuf_init(&one, 0);
	cli_open(&c);
	/* Build the four requests, then send them in one write. */
	{
		size_t m;

		m = req_begin(&one, KAFKA_API_API_VERSIONS, 1, 1, 0);
		kafka_frame_end(&one, m, 0);
		wbuf_put(&all, one.buf, one.len);
		m = req_begin(&one, KAFKA_API_METADATA, 1, 2, 0);
		kafka_wr_array(&one, 1);
		kafka_wr_str(&one, name, 6);
		kafka_frame_end(&one, m, 0);
		wbuf_put(&all, one.buf, one.len);
		m = req_begin(&one, KAFKA_API_FETCH, 4, 3, 0);
		wbuf_i32(&one, -1);
		wbuf_i32(&one, 200);
		wbuf_i32(&one, 1);
		wbuf_i32(&one, 1 << 20);
		wbuf_u8(&one, 0);
		kafka_wr_array(&one, 1);
		kafka_wr_str(&one, name, 6);
		kafka_wr_array(&one, 1);
		wbuf_i32(&one, 3);
		wbuf_i64(&one, hw);
		wbuf_i32(&one, 1 << 20);
		kafka_frame_end(&one, m, 0);
		wbuf_put(&all, one.buf, one.len);
		m = req_begin(&one, KAFKA_API_API_VERSIONS, 0, 4, 0);
		kafka_frame_end(&one, m, 0);
		wbuf_put(&all, one.buf, one.len);
	}
	cli_send(&c, all.buf, all.len);
	for (i = 0; i < 4; i++) {
		if (cli_recv(&c, 3000) != 1)
			break;
		corr[i] = frame_corr(&c.frame);
		got++;
	}
	is_int(got, 4, "four pipelined requests, four responses");
	ok(got == 4 && corr[0] == 1 && corr[1] == 2 && corr[2] == 3 &&
	        corr[3] == 4,
	    "in request order, the one after a parked Fetch waiting for it");
	cli_close(&c);
	wbuf_fini(&all);
	wbuf_fini(&one);
}

/*
 * A consumer that stops reading: once KAFKA_CONN_MAX_OUTPUT is queued the
 * connection handles no more requests; retention meanwhile drops segments
 * the queued responses still reference (they stay valid); reading again
 * resumes it, answers in order.
 */
static void
test_output_cap(void)
{
	struct seglog_topic *t = NULL;
	struct wbuf b, one, all;
	struct fetch_res fr;
	struct cli c;
	uint64_t before, handled;
	int64_t base;
	size_t m, blen;
	int i, nfetch = 48, good = 1, got = 0;

	wbuf_init(&b, 0);
	wbuf_init(&one, 0);
	wbuf_init(&all, 0);
	seglog_topic_create(slog, "capped", 6, 1, &t);
	make_batch(&b, 1, 1, "cap", 60000);
	blen = b.len;
	for (i = 0; i < 30; i++) /* about 1.8 MB: within retention */
		seglog_append(t, 0, b.buf, b.len, 1, &base);
	/* 48 Fetches of about 1.8 MB each, then an ApiVersions. */
	for (i = 0; i < nfetch; i++) {
		m = req_begin(&one, KAFKA_API_FETCH, 4, 100 + i, 0);
		wbuf_i32(&one, -1);
		wbuf_i32(&one, 0);
		wbuf_i32(&one, 1);
		wbuf_i32(&one, 64 << 20);
		wbuf_u8(&one, 0);
		kafka_wr_array(&one, 1);
		kafka_wr_str(&one, "capped", 6);
		kafka_wr_array(&one, 1);
		wbuf_i32(&one, 0);
		wbuf_i64(&one, 0);
		wbuf_i32(&one, 64 << 20);
		kafka_frame_end(&one, m, 0);
		wbuf_put(&all, one.buf, one.len);
	}
	m = req_begin(&one, KAFKA_API_API_VERSIONS, 0, 999, 0);
	kafka_frame_end(&one, m, 0);
	wbuf_put(&all, one.buf, one.len);

	cli_open(&c);
	before = stats.kafka_requests_total;
	cli_send(&c, all.buf, all.len);
	for (i = 0; i < 200; i++)
		spin(NULL, 1); /* the client reads nothing */
	handled = stats.kafka_requests_total - before;
	ok(handled < (uint64_t)nfetch,
	    "over the output cap, later requests wait (%llu of %d handled)",
	    (unsigned long long)(stats.kafka_requests_total - before),
	    nfetch + 1);
	/* Retention (2 MiB here) drops segments queued responses hold. */
	for (i = 0; i < 100; i++)
		seglog_append(t, 0, b.buf, b.len, 1, &base);
	ok(seglog_start_offset(t, 0) > 0,
	    "appends past retention dropped segments the queued responses "
	    "reference (start %lld)",
	    (long long)seglog_start_offset(t, 0));
	for (i = 0; i < nfetch; i++) {
		if (cli_recv(&c, 5000) != 1 || parse_fetch(&c.frame, &fr) != 0)
			break;
		/* Answered before retention: records, intact; after: the
		 * offset is gone. */
		if ((uint64_t)i < handled)
			good &=
			    fr.corr == 100 + i && fr.error == 0 &&
			    fr.rlen >= (int32_t)blen &&
			    kafka_batch_validate(fr.rec, blen, NULL, NULL) == 0;
		else
			good &= fr.corr == 100 + i &&
			        fr.error == KAFKA_ERR_OFFSET_OUT_OF_RANGE;
		got++;
	}
	is_int(got, nfetch, "reading again: every Fetch answered");
	ok(good, "in order; those answered before retention with intact "
	         "batches (CRC checked), later ones OFFSET_OUT_OF_RANGE");
	ok(cli_recv(&c, 5000) == 1 && frame_corr(&c.frame) == 999,
	    "then the request that waited behind the cap");
	cli_close(&c);
	wbuf_fini(&b);
	wbuf_fini(&one);
	wbuf_fini(&all);
}

/* A connection that misbehaves is closed; another keeps working. */
static void
bad_input(const char *what, const void *bytes, size_t n)
{
	struct cli bad, good;
	uint64_t before = stats.kafka_bad_requests_total;
	int rc;

	cli_open(&good);
	cli_open(&bad);
	cli_send(&bad, bytes, n);
	rc = cli_recv(&bad, 2000);
	is_int(rc, -1, "%s: that connection is closed", what);
	ok(stats.kafka_bad_requests_total == before + 1, "%s: counted", what);
	send_api_versions(&good, 0, 99);
	ok(cli_recv(&good, 2000) == 1 && frame_corr(&good.frame) == 99,
	    "%s: another connection still served", what);
	cli_close(&bad);
	cli_close(&good);
}

static void
test_bad_input(void)
{
	uint8_t big[] = {0x00, 0x10, 0x00, 0x01, 0, 18, 0, 0};
	uint8_t tiny[] = {0, 0, 0, 3, 1, 2, 3};
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct wbuf w;
	size_t m;

	bad_input(
	    "oversized frame (size checked before the body)", big, sizeof(big));
	bad_input("frame size below a header", tiny, sizeof(tiny));
	bad_input("HTTP garbage", http, sizeof(http) - 1);

	wbuf_init(&w, 0);
	m = req_begin(&w, 99, 0, 5, 0);
	kafka_frame_end(&w, m, 0);
	bad_input("unknown API key 99", w.buf, w.len);
	m = req_begin(&w, KAFKA_API_OFFSET_COMMIT, 2, 5, 0);
	kafka_frame_end(&w, m, 0);
	bad_input("an API not served yet (OffsetCommit)", w.buf, w.len);
	m = req_begin(&w, KAFKA_API_PRODUCE, 9, 5, 1);
	kafka_frame_end(&w, m, 0);
	bad_input("Produce v9 (unsupported version)", w.buf, w.len);
	m = req_begin(&w, KAFKA_API_METADATA, 1, 5, 0);
	wbuf_i32(&w, 5); /* five topics, none there */
	kafka_frame_end(&w, m, 0);
	bad_input("truncated Metadata body", w.buf, w.len);
	wbuf_reset(&w);
	wbuf_i32(&w, 10);
	wbuf_i16(&w, 3);
	wbuf_i16(&w, 1);
	wbuf_i32(&w, 5);
	wbuf_i16(&w, 200); /* client id longer than the frame */
	bad_input("truncated request header", w.buf, w.len);
	wbuf_fini(&w);
}

/* Memory budget, idle and partial-request deadlines, the connection cap,
 * auto-creation switched off. */
static void
test_limits(void)
{
	struct cli a, b, c3;
	struct fetch_res fr;
	struct wbuf w;
	uint8_t prefix[14] = {0, 0x08, 0, 0}; /* announces 512 KiB */
	uint64_t before;
	double t0;

	/* A frame whose rest cannot fit in what the budget has left closes
	 * that connection, before its body is read; another is served. */
	membudget_init(&membudget_global, 256 << 10);
	cli_open(&a);
	cli_open(&b);
	before = stats.kafka_conn_closed_memory_total;
	cli_send(&a, prefix, sizeof(prefix));
	ok(cli_recv(&a, 2000) == -1,
	    "a 512 KiB request under a 256 KiB budget: connection closed");
	is_int(stats.kafka_conn_closed_memory_total - before, 1,
	    "counted as closed for memory");
	send_api_versions(&b, 0, 7);
	ok(cli_recv(&b, 2000) == 1, "another connection is served");
	is_int(
	    membudget_used(&membudget_global), 0, "and nothing stays charged");
	cli_close(&a);
	cli_close(&b);
	membudget_init(&membudget_global, 0);

	/* Idle and partial deadlines: kafka_idle_ms 300. */
	cfg.kafka_idle_ms = 300;
	cli_open(&a);
	t0 = now_ms();
	ok(cli_recv(&a, 3000) == -1, "an idle connection is closed");
	ok(now_ms() - t0 >= 250, "after kafka_idle_ms (%.0f ms)",
	    now_ms() - t0);
	cli_open(&a);
	prefix[1] = 0;
	prefix[3] = 100; /* 100 bytes announced, 10 sent */
	cli_send(&a, prefix, sizeof(prefix));
	ok(cli_recv(&a, 3000) == -1, "a request that stops arriving: closed");
	cli_open(&a);
	send_fetch(&a, 90, 1000, 1 << 20, 1 << 20, "trades", 3,
	    seglog_end_offset(seglog_topic_get(slog, "trades", 6), 3), 1 << 20);
	ok(cli_recv(&a, 3000) == 1 && parse_fetch(&a.frame, &fr) == 0 &&
	        fr.corr == 90,
	    "a Fetch waiting longer than kafka_idle_ms is not idle: answered");
	cli_close(&a);
	cfg.kafka_idle_ms = 0;

	/* The connection cap: the third waits in the backlog until one of
	 * the first two closes. */
	cfg.kafka_max_connections = 2;
	cli_open(&a);
	cli_open(&b);
	cli_open(&c3);
	send_api_versions(&c3, 0, 8);
	is_int(cli_recv(&c3, 300), 0, "a third connection past the cap waits");
	cli_close(&a);
	ok(cli_recv(&c3, 2000) == 1 && frame_corr(&c3.frame) == 8,
	    "and is served once one closes");
	cli_close(&b);
	cli_close(&c3);
	cfg.kafka_max_connections = 1024;

	/* auto_create_topics no: Produce to a new topic is refused. */
	cfg.auto_create_topics = 0;
	wbuf_init(&w, 0);
	make_batch(&w, 1, 1, "nc", 0);
	cli_open(&a);
	{
		int64_t base;

		is_int(produce(&a, 1, "never-made", 0, &w, &base),
		    KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION,
		    "auto_create_topics no: UNKNOWN_TOPIC_OR_PARTITION");
	}
	ok(seglog_topic_get(slog, "never-made", 10) == NULL, "no topic made");
	cli_close(&a);
	cfg.auto_create_topics = 1;
	wbuf_fini(&w);
}

/* ------------------------------------------------------------------ */
/* Consumer groups over loopback */

#define GROUP_REBALANCE_MS 1500

/* JoinGroup v3 (no MEMBER_ID_REQUIRED) or v5 (with it). */
static void
send_join(struct cli *c, int16_t ver, int32_t corr, const char *member)
{
	struct wbuf w;
	size_t m;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_JOIN_GROUP, ver, corr, 0);
	kafka_wr_str(&w, "ug", 2);
	wbuf_i32(&w, 6000);
	wbuf_i32(&w, GROUP_REBALANCE_MS);
	kafka_wr_str(&w, member, (int32_t)strlen(member));
	if (ver >= 5)
		kafka_wr_nstr(&w, NULL, -1);
	kafka_wr_str(&w, "consumer", 8);
	kafka_wr_array(&w, 1);
	kafka_wr_str(&w, "range", 5);
	kafka_wr_bytes(&w, "sub", 3);
	req_send(c, &w, m);
	wbuf_fini(&w);
}

struct join_answer {
	int32_t corr;
	int16_t error;
	int32_t generation;
	char leader[96];
	char member[96];
	int32_t nmembers;
};

/* Parse the JoinGroup v3/v5 response in c->frame. */
static void
parse_join(struct cli *c, struct join_answer *j)
{
	struct rbuf r;
	struct kafka_str s;

	memset(j, 0, sizeof(*j));
	rbuf_init(&r, c->frame.buf, c->frame.len);
	j->corr = rbuf_i32(&r);
	rbuf_i32(&r); /* throttle */
	j->error = rbuf_i16(&r);
	j->generation = rbuf_i32(&r);
	kafka_rd_str(&r); /* protocol */
	s = kafka_rd_str(&r);
	snprintf(j->leader, sizeof(j->leader), "%.*s", s.len > 0 ? s.len : 0,
	    s.p ? s.p : "");
	s = kafka_rd_str(&r);
	snprintf(j->member, sizeof(j->member), "%.*s", s.len > 0 ? s.len : 0,
	    s.p ? s.p : "");
	j->nmembers = rbuf_i32(&r);
}

/* SyncGroup v3; the leader passes (member, assignment) pairs. */
static void
send_sync(struct cli *c, int32_t corr, int32_t gen, const char *member, int n,
    const char *const *pairs)
{
	struct wbuf w;
	size_t m;
	int i;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_SYNC_GROUP, 3, corr, 0);
	kafka_wr_str(&w, "ug", 2);
	wbuf_i32(&w, gen);
	kafka_wr_str(&w, member, (int32_t)strlen(member));
	kafka_wr_nstr(&w, NULL, -1);
	kafka_wr_array(&w, n);
	for (i = 0; i < n; i++) {
		kafka_wr_str(&w, pairs[2 * i], (int32_t)strlen(pairs[2 * i]));
		kafka_wr_bytes(
		    &w, pairs[2 * i + 1], (int32_t)strlen(pairs[2 * i + 1]));
	}
	req_send(c, &w, m);
	wbuf_fini(&w);
}

/* The SyncGroup v3 response in c->frame: error, assignment in buf. */
static int16_t
parse_sync(struct cli *c, char *buf, size_t size)
{
	struct rbuf r;
	struct kafka_bytes b;
	int16_t err;

	rbuf_init(&r, c->frame.buf, c->frame.len);
	rbuf_i32(&r);
	rbuf_i32(&r);
	err = rbuf_i16(&r);
	b = kafka_rd_bytes(&r);
	snprintf(buf, size, "%.*s", b.len > 0 ? b.len : 0,
	    b.p ? (const char *)b.p : "");
	return err;
}

static int16_t
heartbeat(struct cli *c, int32_t corr, int32_t gen, const char *member)
{
	struct wbuf w;
	struct rbuf r;
	size_t m;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_HEARTBEAT, 3, corr, 0);
	kafka_wr_str(&w, "ug", 2);
	wbuf_i32(&w, gen);
	kafka_wr_str(&w, member, (int32_t)strlen(member));
	kafka_wr_nstr(&w, NULL, -1);
	req_send(c, &w, m);
	wbuf_fini(&w);
	if (cli_recv(c, 2000) != 1)
		return -100;
	rbuf_init(&r, c->frame.buf, c->frame.len);
	rbuf_i32(&r);
	rbuf_i32(&r);
	return rbuf_i16(&r);
}

/* OffsetCommit v8 (flexible) of one partition: its error. */
static int16_t
commit_v8(struct cli *c, int32_t gen, const char *member, const char *topic,
    int32_t part, int64_t offset)
{
	struct wbuf w;
	struct rbuf r;
	size_t m;
	int16_t err;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_OFFSET_COMMIT, 8, 77, 1);
	kafka_wr_cstr(&w, "ug", 2);
	wbuf_i32(&w, gen);
	kafka_wr_cstr(&w, member, (int32_t)strlen(member));
	kafka_wr_cnstr(&w, NULL, -1);
	kafka_wr_carray(&w, 1);
	kafka_wr_cstr(&w, topic, (int32_t)strlen(topic));
	kafka_wr_carray(&w, 1);
	wbuf_i32(&w, part);
	wbuf_i64(&w, offset);
	wbuf_i32(&w, -1);
	kafka_wr_cnstr(&w, "md", 2);
	kafka_wr_tags(&w);
	kafka_wr_tags(&w);
	kafka_wr_tags(&w);
	req_send(c, &w, m);
	wbuf_fini(&w);
	if (cli_recv(c, 2000) != 1)
		return -100;
	rbuf_init(&r, c->frame.buf, c->frame.len);
	rbuf_i32(&r);
	rbuf_u8(&r); /* response header v1 tags */
	rbuf_i32(&r);
	rbuf_uvarint(&r); /* 1 topic */
	kafka_rd_cstr(&r);
	rbuf_uvarint(&r); /* 1 partition */
	rbuf_i32(&r);
	err = rbuf_i16(&r);
	return r.err ? -101 : err;
}

/* OffsetFetch v7 (flexible) of trades/part: the offset, or -100. */
static int64_t
offset_fetch_v7(struct cli *c, int32_t part)
{
	struct wbuf w;
	struct rbuf r;
	size_t m;
	int64_t off;
	struct kafka_str md;

	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_OFFSET_FETCH, 7, 78, 1);
	kafka_wr_cstr(&w, "ug", 2);
	kafka_wr_carray(&w, 1);
	kafka_wr_cstr(&w, "trades", 6);
	kafka_wr_carray(&w, 1);
	wbuf_i32(&w, part);
	kafka_wr_tags(&w);
	wbuf_u8(&w, 1); /* require_stable */
	kafka_wr_tags(&w);
	req_send(c, &w, m);
	wbuf_fini(&w);
	if (cli_recv(c, 2000) != 1)
		return -100;
	rbuf_init(&r, c->frame.buf, c->frame.len);
	rbuf_i32(&r);
	rbuf_u8(&r);
	rbuf_i32(&r);
	rbuf_uvarint(&r);
	kafka_rd_cstr(&r);
	rbuf_uvarint(&r);
	rbuf_i32(&r);
	off = rbuf_i64(&r);
	rbuf_i32(&r); /* epoch */
	md = kafka_rd_cnstr(&r);
	/* Committed with "md"; nothing committed reads "" (as Kafka). */
	if (r.err || !kafka_str_eq(md, off >= 0 ? "md" : ""))
		return -101;
	return off;
}

static void
test_groups(void)
{
	struct cli a, b, b2;
	struct join_answer ja, jb;
	char ida[96], idb[96], asg[64];
	int16_t err;

	cli_open(&a);
	cli_open(&b);
	cli_open(&b2);

	/* v5: a new member first gets MEMBER_ID_REQUIRED and its id. */
	send_join(&a, 5, 1, "");
	ok(cli_recv(&a, 2000) == 1, "JoinGroup v5 answered at once");
	parse_join(&a, &ja);
	is_int(ja.error, KAFKA_ERR_MEMBER_ID_REQUIRED, "MEMBER_ID_REQUIRED");
	snprintf(ida, sizeof(ida), "%s", ja.member);
	ok(ida[0] != '\0', "with the member id to use (%s)", ida);
	send_join(&a, 5, 2, ida);
	ok(cli_recv(&a, 2000) == 1, "the rejoin completes a one-member group");
	parse_join(&a, &ja);
	ok(ja.error == 0 && ja.generation == 1 && strcmp(ja.leader, ida) == 0 &&
	        ja.nmembers == 1,
	    "generation 1, A leads, one member");
	{
		const char *pairs[] = {ida, "aa1"};

		send_sync(&a, 3, 1, ida, 1, pairs);
	}
	ok(cli_recv(&a, 2000) == 1 && parse_sync(&a, asg, sizeof(asg)) == 0 &&
	        strcmp(asg, "aa1") == 0,
	    "the leader's SyncGroup: its own assignment");

	/* B joins (v3: no member id round trip) and waits for A. */
	send_join(&b, 3, 10, "");
	is_int(cli_recv(&b, 200), 0, "B's JoinGroup waits (parked)");
	/* A second newcomer whose connection then closes: withdrawn. */
	send_join(&b2, 3, 20, "");
	is_int(cli_recv(&b2, 100), 0, "B2's JoinGroup waits too");
	cli_close(&b2);
	spin(NULL, 50);
	is_int(heartbeat(&a, 4, 1, ida), KAFKA_ERR_REBALANCE_IN_PROGRESS,
	    "A's heartbeat: REBALANCE_IN_PROGRESS");
	send_join(&a, 5, 5, ida);
	/* B2's member never rejoins: the join completes at the rebalance
	 * timeout, without it, answering A and waking B. */
	ok(cli_recv(&a, GROUP_REBALANCE_MS + 3000) == 1,
	    "A's rejoin is answered (at the rebalance timeout)");
	parse_join(&a, &ja);
	ok(cli_recv(&b, 2000) == 1, "B, parked on its own connection, is "
	                            "answered too");
	parse_join(&b, &jb);
	snprintf(idb, sizeof(idb), "%s", jb.member);
	ok(ja.error == 0 && jb.error == 0 && ja.generation == 2 &&
	        jb.generation == 2 && jb.corr == 10,
	    "both in generation 2 (B's own correlation id)");
	ok(ja.nmembers == 2 && jb.nmembers == 0 && strcmp(jb.leader, ida) == 0,
	    "A leads two members (not B2's); B follows");

	/* The follower's SyncGroup waits for the leader's. */
	send_sync(&b, 11, 2, idb, 0, NULL);
	is_int(cli_recv(&b, 200), 0, "B's SyncGroup waits for the leader");
	{
		const char *pairs[] = {ida, "A-part", idb, "B-part"};

		send_sync(&a, 6, 2, ida, 2, pairs);
	}
	ok(cli_recv(&a, 2000) == 1 && parse_sync(&a, asg, sizeof(asg)) == 0 &&
	        strcmp(asg, "A-part") == 0,
	    "the leader gets its part");
	ok(cli_recv(&b, 2000) == 1 && frame_corr(&b.frame) == 11 &&
	        parse_sync(&b, asg, sizeof(asg)) == 0 &&
	        strcmp(asg, "B-part") == 0,
	    "B is woken with its part");

	/* Commits (flexible v8) and OffsetFetch (flexible v7). */
	is_int(commit_v8(&b, 2, idb, "trades", 1, 42), 0, "B commits trades/1");
	is_int(offset_fetch_v7(&a, 1), 42, "OffsetFetch v7 reads it back");
	is_int(offset_fetch_v7(&a, 2), -1, "an uncommitted partition: -1");
	is_int(commit_v8(&b, 1, idb, "trades", 1, 50),
	    KAFKA_ERR_ILLEGAL_GENERATION, "a stale generation is refused");
	is_int(commit_v8(&b, 2, idb, "no-such-topic", 0, 1),
	    KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION, "an unknown topic too");
	is_int(commit_v8(&b, 2, idb, "trades", 99, 1),
	    KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION, "and an unknown partition");
	is_int(
	    offset_fetch_v7(&a, 1), 42, "the refused commits changed nothing");
	err = heartbeat(&b, 12, 2, idb);
	is_int(err, 0, "B's heartbeat in a Stable group: 0");
	cli_close(&a);
	cli_close(&b);
}

/* Metadata v12 gives ids; Fetch v13 names topics by them. */
static void
test_topic_ids(void)
{
	struct cli c;
	struct wbuf w;
	struct rbuf r;
	struct kafka_uuid id, bogus;
	size_t m;
	int32_t n;
	int i;

	cli_open(&c);
	wbuf_init(&w, 0);
	m = req_begin(&w, KAFKA_API_METADATA, 12, 90, 1);
	kafka_wr_carray(&w, 1);
	memset(&id, 0, sizeof(id));
	kafka_wr_uuid(&w, &id);
	kafka_wr_cnstr(&w, "trades", 6);
	kafka_wr_tags(&w);
	wbuf_u8(&w, 0); /* no auto-creation */
	wbuf_u8(&w, 0); /* no topic operations */
	kafka_wr_tags(&w);
	req_send(&c, &w, m);
	ok(cli_recv(&c, 2000) == 1, "Metadata v12 answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_i32(&r);
	rbuf_u8(&r);  /* header tags */
	rbuf_i32(&r); /* throttle */
	n = (int32_t)rbuf_uvarint(&r) - 1;
	for (i = 0; i < n; i++) {
		rbuf_i32(&r);
		kafka_rd_cstr(&r);
		rbuf_i32(&r);
		kafka_rd_cnstr(&r);
		kafka_rd_tags(&r);
	}
	kafka_rd_cnstr(&r); /* cluster id */
	rbuf_i32(&r);       /* controller */
	rbuf_uvarint(&r);   /* topics */
	is_int(rbuf_i16(&r), 0, "trades: error 0");
	ok(kafka_str_eq(kafka_rd_cnstr(&r), "trades"), "its name");
	id = kafka_rd_uuid(&r);
	ok(r.err == 0 && !kafka_uuid_is_zero(&id) && (id.b[6] & 0xf0) == 0x80,
	    "a non-zero version 8 topic id");

	/* Fetch v13 by that id, and by a made-up one. */
	memset(&bogus, 0x5a, sizeof(bogus));
	wbuf_reset(&w);
	m = req_begin(&w, KAFKA_API_FETCH, 13, 91, 1);
	wbuf_i32(&w, -1);
	wbuf_i32(&w, 0); /* max wait 0: answer now */
	wbuf_i32(&w, 1);
	wbuf_i32(&w, 1 << 20);
	wbuf_u8(&w, 0);
	wbuf_i32(&w, 0);  /* session id */
	wbuf_i32(&w, -1); /* session epoch */
	kafka_wr_carray(&w, 2);
	kafka_wr_uuid(&w, &id);
	kafka_wr_carray(&w, 1);
	wbuf_i32(&w, 0);
	wbuf_i32(&w, -1);
	wbuf_i64(&w, 0);
	wbuf_i32(&w, -1);
	wbuf_i64(&w, -1);
	wbuf_i32(&w, 1 << 20);
	kafka_wr_tags(&w);
	kafka_wr_tags(&w);
	kafka_wr_uuid(&w, &bogus);
	kafka_wr_carray(&w, 1);
	wbuf_i32(&w, 0);
	wbuf_i32(&w, -1);
	wbuf_i64(&w, 0);
	wbuf_i32(&w, -1);
	wbuf_i64(&w, -1);
	wbuf_i32(&w, 1 << 20);
	kafka_wr_tags(&w);
	kafka_wr_tags(&w);
	kafka_wr_carray(&w, 0); /* forgotten */
	kafka_wr_cstr(&w, "", 0);
	kafka_wr_tags(&w);
	req_send(&c, &w, m);
	ok(cli_recv(&c, 2000) == 1, "Fetch v13 answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_i32(&r);
	rbuf_u8(&r);
	rbuf_i32(&r);
	is_int(rbuf_i16(&r), 0, "top-level error 0");
	is_int(rbuf_i32(&r), 0, "session 0: none was created");
	is_int((int32_t)rbuf_uvarint(&r) - 1, 2, "two topics");
	{
		struct kafka_uuid got = kafka_rd_uuid(&r);

		ok(memcmp(got.b, id.b, 16) == 0, "the first by its id");
	}
	rbuf_uvarint(&r);
	rbuf_i32(&r);
	is_int(rbuf_i16(&r), 0, "known id: error 0");
	{
		int64_t hw = rbuf_i64(&r);
		uint32_t len;

		rbuf_i64(&r); /* lso */
		rbuf_i64(&r); /* log start */
		rbuf_uvarint(&r);
		rbuf_i32(&r); /* preferred replica */
		len = rbuf_uvarint(&r);
		ok(hw >= 0 && r.err == 0, "a high watermark (%lld)",
		    (long long)hw);
		rbuf_skip(&r, len > 0 ? len - 1 : 0);
		kafka_rd_tags(&r);
		kafka_rd_tags(&r);
	}
	{
		struct kafka_uuid got = kafka_rd_uuid(&r);

		ok(memcmp(got.b, bogus.b, 16) == 0, "the second as asked");
	}
	rbuf_uvarint(&r);
	rbuf_i32(&r);
	is_int(rbuf_i16(&r), KAFKA_ERR_UNKNOWN_TOPIC_ID,
	    "an unknown id: UNKNOWN_TOPIC_ID");

	/* A session the broker never created. */
	wbuf_reset(&w);
	m = req_begin(&w, KAFKA_API_FETCH, 12, 92, 1);
	wbuf_i32(&w, -1);
	wbuf_i32(&w, 0);
	wbuf_i32(&w, 1);
	wbuf_i32(&w, 1 << 20);
	wbuf_u8(&w, 0);
	wbuf_i32(&w, 12345); /* session id */
	wbuf_i32(&w, 3);     /* session epoch */
	kafka_wr_carray(&w, 0);
	kafka_wr_carray(&w, 0);
	kafka_wr_cstr(&w, "", 0);
	kafka_wr_tags(&w);
	req_send(&c, &w, m);
	ok(cli_recv(&c, 2000) == 1, "Fetch v12 with a session answered");
	rbuf_init(&r, c.frame.buf, c.frame.len);
	rbuf_i32(&r);
	rbuf_u8(&r);
	rbuf_i32(&r);
	is_int(rbuf_i16(&r), KAFKA_ERR_FETCH_SESSION_ID_NOT_FOUND,
	    "FETCH_SESSION_ID_NOT_FOUND: the client starts a full fetch");
	wbuf_fini(&w);
	cli_close(&c);
}

int
main(void)
{
	struct seglog_limits lim;
	int rc;

	plan_lazy();
	log_level = getenv("TEST_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERR;
	memset(&cfg, 0, sizeof(cfg));
	cfg.kafka_listen = "127.0.0.1:0";
	cfg.kafka_advertised = NULL;
	cfg.topic = "trades";
	cfg.partitions = 4;
	cfg.max_request_bytes = MAX_REQUEST;
	cfg.kafka_max_connections = 1024;
	cfg.auto_create_topics = 1;
	cfg.max_topics = 256;
	memset(&lim, 0, sizeof(lim));
	lim.segment_bytes = 1 << 20;
	lim.retention_bytes = 2 << 20; /* only "capped" gets that big */
	lim.max_batch_bytes = MAX_BATCH;
	lim.default_partitions = 4;
	evb = event_base_new();
	if (seglog_new(&lim, NULL, &slog) != 0 ||
	    seglog_topic_create(slog, "trades", 6, 4, NULL) != 0)
		return 1;
	seglog_set_append_hook(slog, on_append, NULL);
	if (groupstore_open(NULL, &gstore) != 0)
		abort();
	ks = kafka_server_new(evb, &cfg, slog, gstore);
	rc = kafka_server_listen(ks);
	is_int(rc, 0, "listening");
	port = kafka_server_port(ks);
	ok(port > 0, "on a port of its own (%d)", port);

	test_api_versions();
	test_metadata();
	test_produce_fetch();
	test_list_offsets();
	test_long_poll();
	test_pipeline();
	test_output_cap();
	test_limits();
	test_groups();
	test_topic_ids();
	test_bad_input();
	for (rc = 0; rc < 50 && stats.kafka_connections != 0; rc++)
		spin(NULL, 2);
	is_int(stats.kafka_connections, 0, "every connection closed");

	kafka_server_stop_accepting(ks);
	kafka_server_free(ks);
	groupstore_free(gstore);
	seglog_free(slog);
	event_base_free(evb);
	return done_testing();
}
