/*
 * bench_http_latency.c: (1) -> (5) end to end: a trade frame sent to
 * finnstreamd's feed until the trade shows in a chart answered by
 * /grafana/query and by /api/v1/series (the unflushed tail merged).
 *
 *	bench/bench_http_latency -l HOST:PORT -H HOST:PORT [-s SYMBOL]
 *	    [-n SAMPLES] [-W WARMUP] [-i INTERVAL_US] [-T TIMEOUT_S]
 *
 * The bench is the daemon's upstream: a ws:// server on -l that the
 * daemon reaches with
 *
 *	FINNHUB_TOKEN=x finnstreamd --feed finnhub \
 *	    --feed_url ws://HOST:PORT --symbols SYMBOL --http_listen H:P ...
 *
 * Once the daemon has subscribed, for each sample it sends one Finnhub
 * trade message for SYMBOL with a price no other sample has
 * (7.0000011, 7.0000021, ...: never a trailing zero), taking the time just before the send(),
 * then asks the daemon's HTTP listener (-H) for the chart a dashboard
 * panel asks for (the last minute in 1 s buckets: the aggregator's open
 * window merged with the store) until the last bucket's close is that
 * price, and takes the time again.  Samples alternate between
 * POST /grafana/query and GET /api/v1/series.  After WARMUP samples it
 * keeps SAMPLES of each and prints min, p50, p90, p99, max per route
 * as "RESULT" lines (bench/run-http.sh reads them).  One thread,
 * blocking sockets, keep-alive HTTP: what a poller sees.
 */
#include <config.h>

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "proto/wbuf.h"
#include "proto/ws_handshake.h"

#define MAX_ANSWER (4 << 20)

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read a client (masked) frame's payload into buf; its length, or -1. */
static ssize_t
read_frame(int fd, uint8_t *buf, size_t cap)
{
	uint8_t h[14], mask[4];
	uint64_t len;
	size_t i, need;

	if (recv(fd, h, 2, MSG_WAITALL) != 2)
		return -1;
	len = h[1] & 0x7f;
	need = len == 126 ? 2 : len == 127 ? 8 : 0;
	if (need > 0 && recv(fd, h + 2, need, MSG_WAITALL) != (ssize_t)need)
		return -1;
	if (len == 126)
		len = (uint64_t)h[2] << 8 | h[3];
	else if (len == 127)
		for (len = 0, i = 0; i < 8; i++)
			len = len << 8 | h[2 + i];
	if ((h[1] & 0x80) && recv(fd, mask, 4, MSG_WAITALL) != 4)
		return -1;
	if (len > cap)
		return -1;
	if (len > 0 && recv(fd, buf, len, MSG_WAITALL) != (ssize_t)len)
		return -1;
	if (h[1] & 0x80)
		for (i = 0; i < len; i++)
			buf[i] ^= mask[i % 4];
	return (ssize_t)len;
}

/* Send one unmasked text frame. */
static int
send_text(int fd, const char *p, size_t n)
{
	uint8_t h[4];
	size_t hl;

	h[0] = 0x81;
	if (n < 126) {
		h[1] = (uint8_t)n;
		hl = 2;
	} else {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	if (write_all(fd, h, hl) != 0)
		return -1;
	return write_all(fd, p, n);
}

/* The daemon connects, upgrades and subscribes to sym. */
static int
accept_feed(int lfd, const char *sym)
{
	uint8_t buf[8192];
	struct ws_hs_req req;
	char accept_key[WS_ACCEPT_LEN + 1], key[WS_KEY_LEN + 1];
	struct wbuf w;
	size_t n = 0;
	int fd, one = 1, rc;

	if ((fd = accept(lfd, NULL, NULL)) < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		ssize_t r = recv(fd, buf + n, sizeof(buf) - n, 0);

		if (r <= 0)
			goto fail;
		n += (size_t)r;
		rc = ws_handshake_parse_request(buf, n, &req, NULL);
		if (rc > 0)
			break;
		if (rc < 0)
			goto fail;
	}
	memcpy(key, req.key.p, WS_KEY_LEN);
	key[WS_KEY_LEN] = '\0';
	if (ws_handshake_accept(key, accept_key) != 0)
		goto fail;
	wbuf_init(&w, 0);
	ws_handshake_response(&w, accept_key);
	rc = write_all(fd, w.buf, w.len);
	wbuf_fini(&w);
	if (rc != 0)
		goto fail;
	for (;;) { /* until the subscription for sym */
		ssize_t len = read_frame(fd, buf, sizeof(buf) - 1);

		if (len < 0)
			goto fail;
		buf[len] = '\0';
		if (strstr((char *)buf, "subscribe") != NULL &&
		    strstr((char *)buf, sym) != NULL)
			return fd;
	}
fail:
	close(fd);
	return -1;
}

struct http {
	int fd;
	struct sockaddr_in sa;
	char *buf;
	size_t len;
};

static int
http_connect(struct http *h)
{
	int one = 1;

	if (h->fd >= 0)
		close(h->fd);
	h->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (h->fd < 0 ||
	    connect(h->fd, (struct sockaddr *)&h->sa, sizeof(h->sa)) != 0)
		return -1;
	(void)setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* One request, the whole answer's body into h->buf; the status or -1. */
static int
http_do(struct http *h, const char *req, size_t reqlen)
{
	size_t have = 0, head = 0, clen = 0;
	int status = -1;

	if (write_all(h->fd, req, reqlen) != 0)
		return -1;
	for (;;) {
		ssize_t r;
		char *e;

		if (head == 0 && have > 4 &&
		    (e = memmem(h->buf, have, "\r\n\r\n", 4)) != NULL) {
			char *cl;

			head = (size_t)(e - h->buf) + 4;
			h->buf[head - 1] = '\0';
			status = atoi(h->buf + 9);
			cl = strcasestr(h->buf, "\r\nContent-Length:");
			clen = cl != NULL ? (size_t)atol(cl + 17) : 0;
			if (head + clen >= MAX_ANSWER)
				return -1;
		}
		if (head > 0 && have >= head + clen)
			break;
		r = recv(h->fd, h->buf + have, MAX_ANSWER - 1 - have, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	memmove(h->buf, h->buf + head, clen);
	h->buf[clen] = '\0';
	h->len = clen;
	return status;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, int64_t *v, size_t n)
{
	if (n == 0) {
		printf("RESULT %s no samples\n", what);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	printf("RESULT %s n=%zu min=%.0f p50=%.0f p90=%.0f p99=%.0f "
	       "max=%.0f us\n",
	    what, n, v[0] / 1e3, v[n / 2] / 1e3, v[n * 9 / 10] / 1e3,
	    v[n * 99 / 100] / 1e3, v[n - 1] / 1e3);
}

int
main(int argc, char **argv)
{
	const char *listen_at = NULL, *http_at = NULL, *sym = "LATENCY";
	int samples = 1000, warmup = 100, interval_us = 2000, timeout_s = 30;
	struct sockaddr_in sa;
	struct http h;
	int64_t *lat[2];
	size_t nlat[2] = {0, 0};
	int lfd, fd, ch, i, one = 1;

	while ((ch = getopt(argc, argv, "l:H:s:n:W:i:T:")) != -1) {
		switch (ch) {
		case 'l':
			listen_at = optarg;
			break;
		case 'H':
			http_at = optarg;
			break;
		case 's':
			sym = optarg;
			break;
		case 'n':
			samples = atoi(optarg);
			break;
		case 'W':
			warmup = atoi(optarg);
			break;
		case 'i':
			interval_us = atoi(optarg);
			break;
		case 'T':
			timeout_s = atoi(optarg);
			break;
		default:
			fprintf(stderr,
			    "usage: bench_http_latency -l HOST:PORT -H "
			    "HOST:PORT [-s SYMBOL] [-n SAMPLES] [-W "
			    "WARMUP] [-i INTERVAL_US] [-T TIMEOUT_S]\n");
			return 2;
		}
	}
	if (listen_at == NULL || http_at == NULL || samples < 1 ||
	    samples > 1000000 || warmup < 0)
		return 2;
	if (parse_addr(listen_at, &sa) != 0)
		return 2;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 4) != 0) {
		perror("listen");
		return 1;
	}
	printf("listening on %s\n", listen_at);
	fflush(stdout);
	alarm((unsigned)timeout_s);
	if ((fd = accept_feed(lfd, sym)) < 0) {
		fprintf(stderr, "the daemon did not subscribe to %s\n", sym);
		return 1;
	}
	memset(&h, 0, sizeof(h));
	h.fd = -1;
	h.buf = malloc(MAX_ANSWER);
	if (parse_addr(http_at, &h.sa) != 0 || h.buf == NULL ||
	    http_connect(&h) != 0) {
		fprintf(stderr, "cannot reach %s\n", http_at);
		return 1;
	}
	lat[0] = calloc((size_t)samples, sizeof(int64_t));
	lat[1] = calloc((size_t)samples, sizeof(int64_t));
	for (i = 0; i < warmup + 2 * samples; i++) {
		char msg[256], price[32], req[1024], body[512];
		int route = i % 2, n, blen, polls = 0, seen = 0;
		int64_t t = wall_ms(), t0;

		snprintf(price, sizeof(price), "7.%06d1", i + 1);
		n = snprintf(msg, sizeof(msg),
		    "{\"data\":[{\"c\":null,\"p\":%s,\"s\":\"%s\",\"t\":%lld,"
		    "\"v\":1}],\"type\":\"trade\"}",
		    price, sym, (long long)t);
		if (route == 0) {
			blen = snprintf(body, sizeof(body),
			    "{\"range\":{\"from\":%lld,\"to\":%lld},"
			    "\"intervalMs\":1000,\"maxDataPoints\":1000,"
			    "\"targets\":[{\"refId\":\"A\",\"target\":"
			    "\"price\",\"payload\":{\"symbols\":[\"%s\"]}}]}",
			    (long long)(t - 60000), (long long)(t + 1000), sym);
			n = snprintf(req, sizeof(req),
			    "POST /grafana/query HTTP/1.1\r\nHost: bench\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %d\r\n\r\n%s",
			    blen, body);
		} else {
			n = snprintf(req, sizeof(req),
			    "GET /api/v1/series?metric=price&symbols=%s&from="
			    "%lld&to=%lld&points=1000&interval=1000 HTTP/1.1\r\n"
			    "Host: bench\r\n\r\n",
			    sym, (long long)(t - 60000), (long long)(t + 1000));
		}
		t0 = now_ns();
		if (send_text(fd, msg, strlen(msg)) != 0) {
			fprintf(stderr, "the feed connection closed\n");
			return 1;
		}
		while (!seen) {
			const char *at;
			size_t pl = strlen(price);

			if (http_do(&h, req, (size_t)n) != 200) {
				fprintf(stderr, "HTTP failed: %s\n", h.buf);
				return 1;
			}
			polls++;
			at = strstr(h.buf, price);
			seen = at != NULL && (at[pl] == ',' || at[pl] == ']');
			if (!seen &&
			    now_ns() - t0 > (int64_t)timeout_s * 1000000000) {
				fprintf(stderr, "sample %d never visible\n", i);
				return 1;
			}
		}
		if (i >= warmup)
			lat[route][nlat[route]++] = now_ns() - t0;
		if (interval_us > 0)
			usleep((useconds_t)interval_us);
	}
	report("/grafana/query", lat[0], nlat[0]);
	report("/api/v1/series", lat[1], nlat[1]);
	close(fd);
	close(h.fd);
	close(lfd);
	free(h.buf);
	free(lat[0]);
	free(lat[1]);
	return 0;
}
