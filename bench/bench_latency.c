/*
 * bench_latency.c: (1) -> (2) -> (2') end to end: a trade frame sent to
 * finnstreamd's feed until the record is in a long-polling librdkafka
 * consumer's hands.
 *
 *	bench/bench_latency -l HOST:PORT -b HOST:PORT [-t TOPIC] [-s SYMBOL]
 *	    [-n SAMPLES] [-W WARMUP] [-i INTERVAL_US] [-T TIMEOUT_S] [-o FILE]
 *
 * The bench is the daemon's upstream: a ws:// server on -l (libevent +
 * wslay's server API + proto/ws_handshake) that the daemon reaches with
 *
 *	FINNHUB_TOKEN=x finnstreamd --feed finnhub \
 *	    --feed_url ws://HOST:PORT --symbols SYMBOL ...
 *
 * Once the daemon has subscribed to SYMBOL and the consumer has started,
 * it sends one Finnhub trade message every INTERVAL_US (2 ms) whose "c"
 * array holds the send time (CLOCK_REALTIME, ns) as a string; the log
 * keeps "c" verbatim.  A librdkafka consumer on its own thread reads
 * TOPIC (all partitions, from the end; fetch.wait.max.ms 500,
 * fetch.min.bytes 1) and takes now - send time for every record keyed
 * SYMBOL.  After WARMUP records it keeps SAMPLES and prints min, p50,
 * p90, p99, p99.9 and max as a "RESULT" line (bench/run-kafka.sh reads
 * it).  The send time is taken just before the send() of the frame, so
 * the figure also counts the loopback hop into the daemon.  -o writes
 * every sample (send time and latency, ns) to FILE, in arrival order, to
 * look for patterns in the tail.
 */
#include <config.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <librdkafka/rdkafka.h>
#include <wslay/wslay.h>

#include "base/assert.h"
#include "base/err.h"
#include "proto/wbuf.h"
#include "proto/ws_handshake.h"
#include "server/log.h"

#define BENCH_MAGIC      0x626c6174u
#define BENCH_CONN_MAGIC 0x626c636eu
#define BENCH_MAX_MSG    (64 * 1024) /* subscribe messages are tiny */

struct bench_conn {
	unsigned magic;
	struct bench *b;
	evutil_socket_t fd;
	struct event *rev;
	struct event *wev;
	int open; /* handshake done; ws is set */
	wslay_event_context_ptr ws;
	uint8_t hs[WS_HS_MAX_HEADER];
	size_t hslen;
	size_t hsused; /* header bytes; the rest goes to wslay first */
	int subscribed;
};

struct bench {
	unsigned magic;
	struct event_base *base;
	struct evconnlistener *lis;
	struct event *tick;
	struct bench_conn *conn; /* the daemon's feed connection, if any */
	const char *brokers;
	const char *topic;
	const char *symbol;
	long want;   /* samples */
	long warmup; /* records skipped first */
	long interval_us;
	long timeout_s;
	double deadline;
	long sent;
	int failed;
	/* Shared with the consumer thread. */
	atomic_int ready; /* partitions started: sending is worth it */
	atomic_int done;  /* samples complete, or the consumer failed */
	atomic_int stop;  /* main thread asks the consumer to quit */
	int consumer_err;
	/* Written by the consumer thread only; read after the join. */
	int64_t *samples;
	int64_t *sent_at;
	long nsamples;
	long skipped;
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the consumer thread ---------------------------------------------- */

static void
conf_set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
	char err[512];

	if (rd_kafka_conf_set(conf, key, val, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "bench_latency: %s=%s: %s\n", key, val, err);
		exit(1);
	}
}

/* The send time in the value's "c":["<ns>"], or -1. */
static int64_t
sent_ns(const char *v, size_t len)
{
	static const char tag[] = "\"c\":[\"";
	const char *p = memmem(v, len, tag, sizeof(tag) - 1);
	const char *end = v + len;
	int64_t ns = 0;

	if (p == NULL)
		return -1;
	for (p += sizeof(tag) - 1; p < end && *p >= '0' && *p <= '9'; p++)
		ns = ns * 10 + (*p - '0');
	return p < end && *p == '"' ? ns : -1;
}

static void *
consumer_main(void *arg)
{
	struct bench *b = arg;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = NULL;
	rd_kafka_topic_t *rkt = NULL;
	rd_kafka_queue_t *q = NULL;
	size_t symlen = strlen(b->symbol);
	char err[512];
	long seen = 0;
	int nparts = 0, started = 0, i;

	conf_set(conf, "bootstrap.servers", b->brokers);
	conf_set(conf, "client.id", "bench_latency");
	conf_set(conf, "fetch.wait.max.ms", "500");
	conf_set(conf, "fetch.min.bytes", "1");
	conf_set(conf, "fetch.error.backoff.ms", "10");
	conf_set(conf, "socket.nagle.disable", "true");
	conf_set(conf, "enable.partition.eof", "false");
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "bench_latency: consumer: %s\n", err);
		rd_kafka_conf_destroy(conf);
		goto out;
	}
	rkt = rd_kafka_topic_new(rk, b->topic, NULL);
	/* The daemon may still be starting: ask until it answers. */
	while (!atomic_load(&b->stop)) {
		rd_kafka_resp_err_t rc =
		    rd_kafka_metadata(rk, 0, rkt, &md, 1000);

		if (rc == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
		    md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
		    md->topics[0].partition_cnt > 0)
			break;
		if (md != NULL)
			rd_kafka_metadata_destroy(md);
		md = NULL;
		usleep(100 * 1000);
	}
	if (md == NULL)
		goto out;
	nparts = md->topics[0].partition_cnt;
	q = rd_kafka_queue_new(rk);
	for (i = 0; i < nparts; i++)
		if (rd_kafka_consume_start_queue(
		        rkt, i, RD_KAFKA_OFFSET_END, q) == -1) {
			fprintf(stderr, "bench_latency: start %s/%d: %s\n",
			    b->topic, i,
			    rd_kafka_err2str(rd_kafka_last_error()));
			goto out;
		}
	started = 1;
	atomic_store(&b->ready, 1);

	while (!atomic_load(&b->stop) && b->nsamples < b->want) {
		rd_kafka_message_t *m = rd_kafka_consume_queue(q, 100);
		int64_t now, sent;

		if (m == NULL)
			continue;
		now = now_real_ns();
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "bench_latency: %s\n",
			    rd_kafka_message_errstr(m));
		} else if (m->key_len == symlen &&
		           memcmp(m->key, b->symbol, symlen) == 0 &&
		           (sent = sent_ns(m->payload, m->len)) > 0) {
			if (seen++ < b->warmup)
				b->skipped++;
			else {
				b->sent_at[b->nsamples] = sent;
				b->samples[b->nsamples++] = now - sent;
			}
		}
		rd_kafka_message_destroy(m);
	}
	if (b->nsamples == b->want)
		b->consumer_err = 0;
out:
	if (started)
		for (i = 0; i < nparts; i++)
			rd_kafka_consume_stop(rkt, i);
	if (q != NULL)
		rd_kafka_queue_destroy(q);
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	if (rkt != NULL)
		rd_kafka_topic_destroy(rkt);
	if (rk != NULL)
		rd_kafka_destroy(rk);
	atomic_store(&b->done, 1);
	return NULL;
}

/* ---- the websocket server --------------------------------------------- */

static void
conn_free(struct bench_conn *c)
{
	if (c == NULL)
		return;
	if (c->b->conn == c)
		c->b->conn = NULL;
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	if (c->fd != -1)
		evutil_closesocket(c->fd);
	free(c);
}

/* Handshake leftovers first, then the socket. */
static ssize_t
ws_recv(
    wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
	struct bench_conn *c = arg;
	ssize_t n;

	if (c->hsused < c->hslen) {
		n = (ssize_t)(c->hslen - c->hsused);
		if ((size_t)n > len)
			n = (ssize_t)len;
		memcpy(buf, c->hs + c->hsused, (size_t)n);
		c->hsused += (size_t)n;
		return n;
	}
	n = recv(c->fd, buf, len, 0);
	if (n > 0)
		return n;
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

/*
 * Straight to the socket, not through a bufferevent: a bufferevent would
 * write on its next loop turn, after the send time was taken.
 */
static ssize_t
ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
    void *arg)
{
	struct bench_conn *c = arg;
	ssize_t n;

	n = send(c->fd, data, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static void
ws_on_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct bench_conn *c = arg;
	const char *sym = c->b->symbol;

	if (m->opcode != WSLAY_TEXT_FRAME)
		return;
	if (memmem(m->msg, m->msg_length, "\"subscribe\"", 11) != NULL &&
	    memmem(m->msg, m->msg_length, sym, strlen(sym)) != NULL &&
	    !c->subscribed) {
		c->subscribed = 1;
		printf("feed: daemon subscribed to %s\n", sym);
	}
}

/* Send what wslay has queued; 0, or -1 when the connection is done. */
static int
conn_flush(struct bench_conn *c)
{
	if (wslay_event_send(c->ws) != 0)
		return -1;
	if (wslay_event_want_write(c->ws)) {
		if (event_add(c->wev, NULL) != 0)
			return -1;
	} else
		event_del(c->wev);
	if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws))
		return -1;
	return 0;
}

/* The upgrade request: 1 when answered, 0 for more bytes, -1 to close. */
static int
conn_handshake(struct bench_conn *c)
{
	static const struct wslay_event_callbacks cbs = {
	    .recv_callback = ws_recv,
	    .send_callback = ws_send,
	    .on_msg_recv_callback = ws_on_msg,
	};
	struct ws_hs_req req;
	struct wbuf w;
	char key[WS_KEY_LEN + 1], accept[WS_ACCEPT_LEN + 1];
	ssize_t n;
	int rc, ret = -1;

	wbuf_init(&w, 4096);
	n = recv(c->fd, c->hs + c->hslen, sizeof(c->hs) - c->hslen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		ret = 0;
	if (n <= 0)
		goto out;
	c->hslen += (size_t)n;
	rc = ws_handshake_parse_request(c->hs, c->hslen, &req, NULL);
	if (rc == 0) {
		ret = c->hslen < sizeof(c->hs) ? 0 : -1;
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "feed: bad upgrade request: %s\n", req.why);
		ws_handshake_reject(&w, req.status, req.why);
		(void)send(c->fd, w.buf, w.len, MSG_NOSIGNAL);
		goto out;
	}
	memcpy(key, req.key.p, WS_KEY_LEN);
	key[WS_KEY_LEN] = '\0';
	if (ws_handshake_accept(key, accept) != 0)
		goto out;
	ws_handshake_response(&w, accept);
	/* A fresh socket's buffer takes a ~150-byte answer whole. */
	if (w.err != 0 ||
	    send(c->fd, w.buf, w.len, MSG_NOSIGNAL) != (ssize_t)w.len)
		goto out;
	c->hsused = (size_t)rc;
	if (wslay_event_context_server_init(&c->ws, &cbs, c) != 0)
		goto out;
	wslay_event_config_set_max_recv_msg_length(c->ws, BENCH_MAX_MSG);
	c->open = 1;
	printf("feed: daemon connected\n");
	ret = 1;
out:
	wbuf_fini(&w);
	return ret;
}

static void
conn_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct bench_conn *c = arg;
	int rc;

	CHECK_MAGIC(c, BENCH_CONN_MAGIC);
	if (!c->open) {
		if ((rc = conn_handshake(c)) <= 0) {
			if (rc < 0)
				conn_free(c);
			return;
		}
	}
	if ((what & EV_READ) && wslay_event_recv(c->ws) != 0) {
		conn_free(c);
		return;
	}
	if (conn_flush(c) != 0) {
		printf("feed: daemon disconnected\n");
		conn_free(c);
	}
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct bench *b = arg;
	struct bench_conn *c;
	int one = 1;

	CHECK_MAGIC(b, BENCH_MAGIC);
	/* The daemon has one feed connection: a new one replaces it. */
	conn_free(b->conn);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->magic = BENCH_CONN_MAGIC;
	c->b = b;
	c->fd = fd;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->rev = event_new(b->base, fd, EV_READ | EV_PERSIST, conn_on_event, c);
	c->wev = event_new(b->base, fd, EV_WRITE, conn_on_event, c);
	if (c->rev == NULL || c->wev == NULL || event_add(c->rev, NULL) != 0) {
		conn_free(c);
		return;
	}
	b->conn = c;
}

/* One trade message carrying its own send time. */
static void
send_trade(struct bench *b)
{
	struct bench_conn *c = b->conn;
	struct wslay_event_msg m;
	char msg[256];
	int64_t ns;
	int n;

	ns = now_real_ns();
	n = snprintf(msg, sizeof(msg),
	    "{\"data\":[{\"c\":[\"%" PRId64 "\"],\"p\":%ld.%02ld,\"s\":\"%s\","
	    "\"t\":%" PRId64 ",\"v\":1}],\"type\":\"trade\"}",
	    ns, 100 + b->sent % 50, b->sent % 100, b->symbol, ns / 1000000);
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = (const uint8_t *)msg;
	m.msg_length = (size_t)n;
	if (wslay_event_queue_msg(c->ws, &m) != 0 || conn_flush(c) != 0) {
		conn_free(c);
		return;
	}
	b->sent++;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	CHECK_MAGIC(b, BENCH_MAGIC);
	if (atomic_load(&b->done)) {
		event_base_loopbreak(b->base);
		return;
	}
	if (now_mono() > b->deadline) {
		fprintf(stderr,
		    "bench_latency: timed out after %ld s (%ld sent, daemon "
		    "%s)\n",
		    b->timeout_s, b->sent,
		    b->conn == NULL        ? "not connected"
		    : !b->conn->subscribed ? "not subscribed"
		                           : "subscribed");
		b->failed = 1;
		event_base_loopbreak(b->base);
		return;
	}
	if (b->conn != NULL && b->conn->open && b->conn->subscribed &&
	    atomic_load(&b->ready))
		send_trade(b);
}

/* ---- main --------------------------------------------------------------- */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
pct_us(const int64_t *s, long n, double q)
{
	long i = (long)(q * (double)n + 0.999999) - 1;

	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return (double)s[i] / 1000.0;
}

static int
dump_samples(const struct bench *b, const char *path)
{
	FILE *fp = fopen(path, "w");
	long i;

	if (fp == NULL) {
		fprintf(
		    stderr, "bench_latency: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < b->nsamples; i++)
		fprintf(fp, "%" PRId64 " %" PRId64 "\n", b->sent_at[i],
		    b->samples[i]);
	if (fclose(fp) != 0) {
		fprintf(
		    stderr, "bench_latency: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_latency -l HOST:PORT -b HOST:PORT [-t TOPIC] "
	    "[-s SYMBOL]\n"
	    "                     [-n SAMPLES] [-W WARMUP] [-i INTERVAL_US] "
	    "[-T TIMEOUT_S] [-o FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct sockaddr_storage ss;
	int sslen = sizeof(ss), c, started = 0, ret = 1;
	const char *listen_addr = NULL, *dump = NULL;
	pthread_t thr;
	struct timeval tv;
	double sum = 0;
	long i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&b, 0, sizeof(b));
	b.magic = BENCH_MAGIC;
	b.topic = "trades";
	b.symbol = "BENCH";
	b.want = 5000;
	b.warmup = 500;
	b.interval_us = 2000;
	b.timeout_s = 120;
	b.consumer_err = 1;
	while ((c = getopt(argc, argv, "l:b:t:s:n:W:i:T:o:h")) != -1) {
		switch (c) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'b':
			b.brokers = optarg;
			break;
		case 't':
			b.topic = optarg;
			break;
		case 's':
			b.symbol = optarg;
			break;
		case 'n':
			b.want = strtol(optarg, NULL, 10);
			break;
		case 'W':
			b.warmup = strtol(optarg, NULL, 10);
			break;
		case 'i':
			b.interval_us = strtol(optarg, NULL, 10);
			break;
		case 'T':
			b.timeout_s = strtol(optarg, NULL, 10);
			break;
		case 'o':
			dump = optarg;
			break;
		default:
			usage();
		}
	}
	if (listen_addr == NULL || b.brokers == NULL || optind != argc ||
	    b.want < 1 || b.warmup < 0 || b.interval_us < 100 ||
	    b.timeout_s < 1)
		usage();
	if (evutil_parse_sockaddr_port(
	        listen_addr, (struct sockaddr *)&ss, &sslen) != 0) {
		fprintf(stderr, "bench_latency: bad address %s\n", listen_addr);
		return 2;
	}
	b.samples = calloc((size_t)b.want, sizeof(*b.samples));
	b.sent_at = calloc((size_t)b.want, sizeof(*b.sent_at));
	if (b.samples == NULL || b.sent_at == NULL)
		goto out;
	if ((b.base = event_base_new()) == NULL)
		goto out;
	b.lis = evconnlistener_new_bind(b.base, on_accept, &b,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&ss, sslen);
	if (b.lis == NULL) {
		fprintf(stderr, "bench_latency: listen on %s: %s\n",
		    listen_addr, strerror(errno));
		goto out;
	}
	tv.tv_sec = b.interval_us / 1000000;
	tv.tv_usec = b.interval_us % 1000000;
	b.tick = event_new(b.base, -1, EV_PERSIST, on_tick, &b);
	if (b.tick == NULL || evtimer_add(b.tick, &tv) != 0)
		goto out;
	printf("bench_latency: librdkafka %s; ws://%s, consumer of %s at %s; "
	       "%ld samples after %ld warm-up, one every %ld us\n",
	    rd_kafka_version_str(), listen_addr, b.topic, b.brokers, b.want,
	    b.warmup, b.interval_us);
	if (pthread_create(&thr, NULL, consumer_main, &b) != 0)
		goto out;
	started = 1;
	b.deadline = now_mono() + (double)b.timeout_s;
	event_base_dispatch(b.base);
	atomic_store(&b.stop, 1);
	pthread_join(thr, NULL);
	started = 0;
	if (b.failed || b.consumer_err || b.nsamples == 0)
		goto out;

	if (dump != NULL && dump_samples(&b, dump) != 0)
		goto out;
	qsort(b.samples, (size_t)b.nsamples, sizeof(*b.samples), cmp_i64);
	for (i = 0; i < b.nsamples; i++)
		sum += (double)b.samples[i];
	printf("%ld frames sent, %ld records measured after %ld warm-up\n",
	    b.sent, b.nsamples, b.skipped);
	printf("RESULT latency samples=%ld min_us=%.1f p50_us=%.1f "
	       "p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
	       "mean_us=%.1f\n",
	    b.nsamples, (double)b.samples[0] / 1000.0,
	    pct_us(b.samples, b.nsamples, 0.50),
	    pct_us(b.samples, b.nsamples, 0.90),
	    pct_us(b.samples, b.nsamples, 0.99),
	    pct_us(b.samples, b.nsamples, 0.999),
	    (double)b.samples[b.nsamples - 1] / 1000.0,
	    sum / (double)b.nsamples / 1000.0);
	ret = 0;
out:
	if (started) {
		atomic_store(&b.stop, 1);
		pthread_join(thr, NULL);
	}
	conn_free(b.conn);
	if (b.tick != NULL)
		event_free(b.tick);
	if (b.lis != NULL)
		evconnlistener_free(b.lis);
	if (b.base != NULL)
		event_base_free(b.base);
	free(b.samples);
	free(b.sent_at);
	return ret;
}
