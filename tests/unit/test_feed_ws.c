/*
 * test_feed_ws.c: the feed's websocket client (server/feed_ws.c) in
 * an in-process event loop, against finnhub-sim started as a child
 * ($FINNHUB_SIM) and against a scripted raw server inside the test:
 * open, subscribe and receive; a handshake answer that arrives a byte at
 * a time; pings answered; bad answers and HTTP 401 refused and retried;
 * drop, stall and an oversized message each followed by a reconnect and
 * a new on_open; a capture replayed; wss:// with a CA made here by the
 * openssl command: the right host name accepted, a wrong one and an
 * unknown CA refused.
 * Every log line goes to a file, which must never hold the token.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <wslay/wslay.h>

#include "base/err.h"
#include "proto/capture.h"
#include "proto/wbuf.h"
#include "proto/ws_handshake.h"
#include "server/feed/feed_ws.h"
#include "server/log.h"
#include "server/stats.h"
#include "tests/lib/tap.h"

#define TOKEN "tok-5ecret-7d1f"

static struct event_base *base;
static struct evdns_base *dns;
static char tmpdir[256];
static char logpath[300];

/* ---- what the client reported -------------------------------------------- */

struct rec {
	struct feed_ws *c;
	int opens, closes;
	int msgs, msgs_since_open, trades;
	int64_t last_recv_us;
	char why[256];
	int subscribe; /* subscribe AAPL and MSFT on open */
	char last_msg[64];
};

static void
rec_open(void *arg)
{
	struct rec *r = arg;
	static const char *const subs[] = {
	    "{\"type\":\"subscribe\",\"symbol\":\"AAPL\"}",
	    "{\"type\":\"subscribe\",\"symbol\":\"MSFT\"}"};
	size_t i;

	r->opens++;
	r->msgs_since_open = 0;
	if (r->subscribe)
		for (i = 0; i < 2; i++)
			if (feed_ws_send_text(r->c, subs[i], strlen(subs[i])) !=
			    0)
				diag("send_text failed in on_open");
}

static void
rec_msg(void *arg, const uint8_t *msg, size_t len, int opcode, int64_t recv_us)
{
	struct rec *r = arg;

	r->msgs++;
	r->msgs_since_open++;
	r->last_recv_us = recv_us;
	if (len > 8 && memmem(msg, len, "\"trade\"", 7) != NULL)
		r->trades++;
	snprintf(r->last_msg, sizeof(r->last_msg), "%.*s",
	    (int)(len < 63 ? len : 63), (const char *)msg);
}

static void
rec_close(void *arg, const char *why)
{
	struct rec *r = arg;

	r->closes++;
	snprintf(r->why, sizeof(r->why), "%s", why);
}

static const struct feed_ws_cb rec_cb = {rec_open, rec_msg, rec_close};

/* ---- event loop helpers -------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* Run the loop until pred(arg) holds or ms pass; returns pred's value. */
static int
run_until(int (*pred)(void *), void *arg, int64_t ms)
{
	int64_t end = now_ms() + ms;
	struct timeval tv = {0, 10000};
	struct event *wake = event_new(base, -1, EV_PERSIST, wake_cb, NULL);
	int done = 0;

	event_add(wake, &tv);
	while (!(done = pred != NULL && pred(arg)) && now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(wake);
	return done;
}

static int
never(void *arg)
{
	return 0;
}

static void
run_for(int64_t ms)
{
	run_until(never, NULL, ms);
}

static int
got_msgs(void *arg)
{
	const struct rec *r = arg;

	return r->msgs_since_open >= 5;
}

static int
reopened_with_msgs(void *arg)
{
	const struct rec *r = arg;

	return r->opens >= 2 && r->msgs_since_open >= 3;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return calloc(1, 1);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
		buf[0] = '\0';
	fclose(fp);
	return buf;
}

static int
log_has(const char *needle)
{
	char *s = slurp(logpath);
	int r = strstr(s, needle) != NULL;

	free(s);
	return r;
}

/* ---- finnhub-sim as a child ---------------------------------------------- */

struct sim {
	pid_t pid;
	int port;
	char errpath[300];
};

/* Start finnhub-sim with args (NULL-terminated); 0 or -1. */
static int
sim_start(struct sim *s, const char *const *args)
{
	const char *bin = getenv("FINNHUB_SIM");
	const char *argv[40];
	static int n;
	char line[256];
	int pfd[2], i = 0, fd;
	FILE *fp;

	memset(s, 0, sizeof(*s));
	if (bin == NULL || access(bin, X_OK) != 0 || pipe(pfd) != 0)
		return -1;
	snprintf(s->errpath, sizeof(s->errpath), "%s/sim%d.err", tmpdir, ++n);
	argv[i++] = bin;
	argv[i++] = "--listen";
	argv[i++] = "127.0.0.1:0";
	while (*args != NULL && i < 38)
		argv[i++] = *args++;
	argv[i] = NULL;
	if ((s->pid = fork()) == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		if ((fd = open(
		         s->errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0)
			dup2(fd, 2);
		execv(bin, (char **)(uintptr_t)argv);
		_exit(127);
	}
	close(pfd[1]);
	fp = fdopen(pfd[0], "r");
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		char *colon = strrchr(line, ':');

		if (strncmp(line, "listening on ", 13) == 0 && colon != NULL) {
			s->port = atoi(colon + 1);
			break;
		}
	}
	/* Keep the pipe's write end away from the child's later output. */
	if (fp != NULL)
		fclose(fp);
	return s->port > 0 ? 0 : -1;
}

static void
sim_stop(struct sim *s)
{
	char *text, *line, *save = NULL;
	int st = 0;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &st, 0);
	s->pid = 0;
	/* A clean exit also means no sanitizer report in the server. */
	if (!ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	        "finnhub-sim exits 0 on SIGTERM")) {
		text = slurp(s->errpath);
		for (line = strtok_r(text, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			diag("  sim: %s", line);
		free(text);
	}
}

static int
sim_log_has(const struct sim *s, const char *needle)
{
	char *t = slurp(s->errpath);
	int r = strstr(t, needle) != NULL;

	free(t);
	return r;
}

struct sim_wait {
	const struct sim *s;
	const char *needle;
};

static int
sim_wait_pred(void *arg)
{
	const struct sim_wait *w = arg;

	return sim_log_has(w->s, w->needle);
}

/* A client for url with short timings, recording into r. */
static struct feed_ws *
client(struct rec *r, const char *url, const char *ca_file, size_t max_msg,
    int64_t stall_ms)
{
	struct feed_ws_opts o;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.ca_file = ca_file;
	o.stall_ms = stall_ms;
	o.backoff_base_ms = 20;
	o.backoff_max_ms = 100;
	o.connect_timeout_ms = 2000;
	o.max_msg_bytes = max_msg;
	r->subscribe = 1;
	rc = feed_ws_new(base, dns, &o, &rec_cb, r, &r->c);
	if (rc != 0) {
		diag("feed_ws_new: %s", err_str(rc));
		return NULL;
	}
	return r->c;
}

static void
url_for(char *buf, size_t size, const char *scheme, const char *host, int port,
    const char *token)
{
	snprintf(buf, size, "%s://%s:%d/?token=%s", scheme, host, port, token);
}

/* ---- tests against finnhub-sim ------------------------------------------- */

static void
test_open_and_receive(void)
{
	static const char *const args[] = {
	    "--rate", "2000", "--require-token", TOKEN, NULL};
	struct sim s;
	struct rec r;
	struct sim_wait w;
	char url[256];
	uint64_t connects = stats.feed_connects_total;

	if (sim_start(&s, args) != 0) {
		ok(0, "finnhub-sim starts");
		return;
	}
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	is_int(feed_ws_send_text(r.c, "x", 1), ERR_AGAIN,
	    "send before open: ERR_AGAIN");
	is_str(feed_ws_state(r.c), "idle", "idle before start");
	feed_ws_start(r.c);
	ok(run_until(got_msgs, &r, 5000), "open, subscribe, trades arrive");
	is_int(r.opens, 1, "one on_open");
	ok(feed_ws_is_open(r.c), "is open");
	is_int(stats.feed_connects_total - connects, 1, "one connect counted");
	ok(r.trades > 0, "trade messages (%d of %d)", r.trades, r.msgs);
	ok(r.last_recv_us > 1000000000000000 &&
	        r.last_recv_us / 1000000 - time(NULL) < 5,
	    "receive time is wall-clock microseconds");
	w.s = &s;
	w.needle = "subscribe conn=1 symbol=MSFT";
	ok(run_until(sim_wait_pred, &w, 2000), "the server saw the subscribe");
	feed_ws_free(r.c);
	sim_stop(&s);
}

static void
test_drop(void)
{
	static const char *const args[] = {"--rate", "2000", "--drop-after-ms",
	    "200", "--faults-conns", "1", NULL};
	struct sim s;
	struct rec r;
	struct sim_wait w;
	char url[256];
	uint64_t reconnects = stats.feed_reconnects_total;

	if (sim_start(&s, args) != 0) {
		ok(0, "finnhub-sim starts");
		return;
	}
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	feed_ws_start(r.c);
	ok(run_until(reopened_with_msgs, &r, 5000),
	    "drop: reconnected, on_open again, trades again");
	is_int(r.closes, 1, "drop: one on_close");
	ok(strstr(r.why, "closed") != NULL || strstr(r.why, "reset") != NULL,
	    "drop: why = %s", r.why);
	ok(stats.feed_reconnects_total - reconnects >= 1,
	    "drop: reconnect counted");
	w.s = &s;
	w.needle = "subscribe conn=2 symbol=AAPL";
	ok(run_until(sim_wait_pred, &w, 2000), "drop: resubscribed");
	feed_ws_free(r.c);
	sim_stop(&s);
}

static void
test_stall(void)
{
	static const char *const args[] = {"--rate", "2000", "--stall-after-ms",
	    "200", "--faults-conns", "1", NULL};
	struct sim s;
	struct rec r;
	char url[256];
	uint64_t stalls = stats.feed_stalls_total;

	if (sim_start(&s, args) != 0) {
		ok(0, "finnhub-sim starts");
		return;
	}
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 300);
	feed_ws_start(r.c);
	ok(run_until(reopened_with_msgs, &r, 5000),
	    "stall: noticed, reconnected, trades again");
	is_int(stats.feed_stalls_total - stalls, 1, "stall: counted once");
	ok(strstr(r.why, "stall") != NULL, "stall: why = %s", r.why);
	feed_ws_free(r.c);
	sim_stop(&s);
}

static void
test_oversize(void)
{
	static const char *const args[] = {"--rate", "2000",
	    "--oversize-after-ms", "200", "--faults-conns", "1", NULL};
	struct sim s;
	struct rec r;
	struct sim_wait w;
	char url[256];
	uint64_t errs = stats.feed_ws_errors_total;

	if (sim_start(&s, args) != 0) {
		ok(0, "finnhub-sim starts");
		return;
	}
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 65536, 5000);
	feed_ws_start(r.c);
	ok(run_until(reopened_with_msgs, &r, 5000),
	    "oversize: failed, reconnected, trades again");
	ok(stats.feed_ws_errors_total - errs >= 1, "oversize: counted");
	ok(strstr(r.why, "1009") != NULL, "oversize: why = %s", r.why);
	/* The server gets our close frame with 1009 before the socket goes. */
	w.s = &s;
	w.needle = "close frame conn=1 code=1009";
	ok(run_until(sim_wait_pred, &w, 2000),
	    "oversize: the server saw close code 1009");
	feed_ws_free(r.c);
	sim_stop(&s);
}

static int
two_errors(void *arg)
{
	const uint64_t *base_errs = arg;

	return stats.feed_ws_errors_total - *base_errs >= 2;
}

static void
test_401(void)
{
	static const char *const args[] = {"--require-token", "other", NULL};
	struct sim s;
	struct rec r;
	char url[256];
	uint64_t errs = stats.feed_ws_errors_total;

	if (sim_start(&s, args) != 0) {
		ok(0, "finnhub-sim starts");
		return;
	}
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	feed_ws_start(r.c);
	ok(run_until(two_errors, &errs, 3000),
	    "401: refused, and retried after a back-off");
	is_int(r.opens, 0, "401: never open");
	ok(log_has("HTTP 401 Unauthorized: the token was rejected"),
	    "401: logged clearly");
	feed_ws_free(r.c);
	sim_stop(&s);
}

/* A capture replayed by finnhub-sim arrives whole and in order. */
static int
got_capture(void *arg)
{
	const struct rec *r = arg;

	return r->msgs >= 30;
}

static void
test_capture_replay(void)
{
	char path[300], msg[128];
	const char *args[] = {"--capture", path, "--speed", "0", NULL};
	struct wbuf w;
	struct sim s;
	struct rec r;
	char url[256];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/replay.cap", tmpdir);
	wbuf_init(&w, 0);
	capture_encode_header(&w);
	for (i = 0; i < 30; i++) {
		snprintf(msg, sizeof(msg),
		    "{\"data\":[{\"c\":null,\"p\":%d.5,"
		    "\"s\":\"BINANCE:BTCUSDT\",\"t\":%d,\"v\":0.1}],"
		    "\"type\":\"trade\"}",
		    100 + i, 1000 + i);
		capture_encode_frame(&w, 1700000000000000ull + (uint64_t)i,
		    CAPTURE_OP_TEXT, (const uint8_t *)msg, strlen(msg));
	}
	fp = fopen(path, "wb");
	ok(fp != NULL && w.err == 0 && fwrite(w.buf, 1, w.len, fp) == w.len,
	    "capture written");
	if (fp != NULL)
		fclose(fp);
	wbuf_fini(&w);
	if (sim_start(&s, args) != 0) {
		ok(0, "finnhub-sim starts");
		return;
	}
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	feed_ws_start(r.c);
	ok(run_until(got_capture, &r, 5000), "capture replayed: 30 messages");
	ok(strstr(r.last_msg, "\"p\":129.5") != NULL, "the last one last: %s",
	    r.last_msg);
	feed_ws_free(r.c);
	sim_stop(&s);
}

/* ---- TLS ----------------------------------------------------------------- */

static int
sh(const char *cmd)
{
	char full[2048];

	snprintf(
	    full, sizeof(full), "cd '%s' && (%s) >/dev/null 2>&1", tmpdir, cmd);
	return system(full);
}

static int
make_certs(void)
{
	static const char *const names[] = {"localhost", "wrong.example"};
	char cmd[1024];
	size_t i;

	if (sh("openssl req -x509 -newkey ec -pkeyopt "
	       "ec_paramgen_curve:prime256v1 -nodes -days 2 "
	       "-subj '/CN=finnstream test CA' -keyout ca.key -out ca.pem") !=
	    0)
		return -1;
	for (i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd),
		    "echo 'subjectAltName=DNS:%s' > %s.ext && "
		    "openssl req -newkey ec -pkeyopt "
		    "ec_paramgen_curve:prime256v1 -nodes -subj '/CN=%s' "
		    "-keyout %s.key -out %s.csr && "
		    "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key "
		    "-CAcreateserial -days 2 -extfile %s.ext -out %s.pem",
		    names[i], names[i], names[i], names[i], names[i], names[i],
		    names[i], names[i]);
		if (sh(cmd) != 0)
			return -1;
	}
	return 0;
}

static int
tls_sim(struct sim *s, const char *name)
{
	char cert[300], key[300];
	const char *args[] = {
	    "--rate", "2000", "--tls-cert", cert, "--tls-key", key, NULL};

	snprintf(cert, sizeof(cert), "%s/%s.pem", tmpdir, name);
	snprintf(key, sizeof(key), "%s/%s.key", tmpdir, name);
	return sim_start(s, args);
}

static void
test_tls(void)
{
	struct sim s;
	struct rec r;
	char url[256], ca[300];
	uint64_t errs;

	if (make_certs() != 0) {
		ok(0, "openssl makes a test CA");
		return;
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", tmpdir);

	if (tls_sim(&s, "localhost") != 0) {
		ok(0, "finnhub-sim starts with TLS");
		return;
	}
	url_for(url, sizeof(url), "wss", "localhost", s.port, TOKEN);
	client(&r, url, ca, 0, 5000);
	feed_ws_start(r.c);
	ok(run_until(got_msgs, &r, 5000),
	    "wss://localhost with our CA: open, trades arrive");
	feed_ws_free(r.c);

	/* The same server by address: its certificate names no IP. */
	errs = stats.feed_ws_errors_total;
	url_for(url, sizeof(url), "wss", "127.0.0.1", s.port, TOKEN);
	client(&r, url, ca, 0, 5000);
	feed_ws_start(r.c);
	run_until(two_errors, &errs, 3000);
	ok(r.opens == 0 && r.msgs == 0,
	    "wss://127.0.0.1 to a certificate for localhost: refused");
	ok(log_has("certificate verify failed: IP address mismatch"),
	    "logged as an IP address mismatch");
	feed_ws_free(r.c);

	/* No CA file: the system store does not know our CA. */
	errs = stats.feed_ws_errors_total;
	url_for(url, sizeof(url), "wss", "localhost", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	feed_ws_start(r.c);
	run_until(two_errors, &errs, 3000);
	ok(r.opens == 0 && r.msgs == 0, "unknown CA: refused");
	ok(log_has("TLS: certificate verify failed: unable to get local "
	           "issuer certificate"),
	    "logged as a verification failure");
	feed_ws_free(r.c);
	sim_stop(&s);

	if (tls_sim(&s, "wrong.example") != 0) {
		ok(0, "finnhub-sim starts with TLS");
		return;
	}
	errs = stats.feed_ws_errors_total;
	url_for(url, sizeof(url), "wss", "localhost", s.port, TOKEN);
	client(&r, url, ca, 0, 5000);
	feed_ws_start(r.c);
	ok(run_until(two_errors, &errs, 3000),
	    "certificate for another host: refused, retried");
	ok(r.opens == 0 && r.msgs == 0, "no open, no message delivered");
	ok(log_has("TLS: certificate verify failed: hostname mismatch "
	           "(expected localhost)"),
	    "logged as a hostname mismatch");
	feed_ws_free(r.c);
	sim_stop(&s);
}

/* ---- a scripted raw server ----------------------------------------------- */

enum raw_script {
	RAW_TRICKLE,    /* 101 one byte at a time, then a text frame + ping */
	RAW_BAD_ACCEPT, /* 101 with the wrong Sec-WebSocket-Accept */
	RAW_HTTP_200,   /* an ordinary web server */
	RAW_CLOSE,      /* 101, a text frame, then close 1001 "bye" */
	RAW_SILENT      /* accepts TCP and never answers */
};

struct raw {
	struct evconnlistener *lis;
	int port;
	enum raw_script script;
	struct bufferevent *bev;
	struct event *drip;
	struct wbuf out; /* what is still to be sent */
	size_t sent;
	int handshaken, got_pong, conns;
};

static void
raw_drip(evutil_socket_t fd, short what, void *arg)
{
	struct raw *s = arg;

	if (s->bev == NULL || s->sent >= s->out.len)
		return;
	bufferevent_write(s->bev, s->out.buf + s->sent, 1);
	s->sent++;
}

static void
raw_read(struct bufferevent *bev, void *arg)
{
	struct raw *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in), off;
	char accept[WS_ACCEPT_LEN + 1], key[WS_KEY_LEN + 1];
	static const uint8_t text[] = "\x81\x05hello";
	static const uint8_t ping[] = "\x89\x02hb";
	static const uint8_t close_frame[] = "\x88\x05\x03\xe9"
	                                     "bye";
	struct ws_hs_req q;
	uint8_t *p;
	int rc;

	if (s->handshaken) {
		/* Client frames: look for a masked pong (0x8a, 0x82 ...). */
		p = evbuffer_pullup(in, (ev_ssize_t)len);
		if (len >= 2 && p[0] == 0x8a)
			s->got_pong = 1;
		evbuffer_drain(in, len);
		return;
	}
	p = evbuffer_pullup(in, (ev_ssize_t)len);
	if ((rc = ws_handshake_parse_request(p, len, &q, &off)) <= 0)
		return;
	memcpy(key, q.key.p, WS_KEY_LEN);
	key[WS_KEY_LEN] = '\0';
	evbuffer_drain(in, (size_t)rc);
	ws_handshake_accept(key, accept);
	s->handshaken = 1;
	wbuf_reset(&s->out);
	s->sent = 0;
	switch (s->script) {
	case RAW_TRICKLE:
		ws_handshake_response(&s->out, accept);
		wbuf_put(&s->out, text, sizeof(text) - 1);
		wbuf_put(&s->out, ping, sizeof(ping) - 1);
		break;
	case RAW_BAD_ACCEPT:
		accept[0] = accept[0] == 'A' ? 'B' : 'A';
		ws_handshake_response(&s->out, accept);
		break;
	case RAW_HTTP_200:
		wbuf_str(&s->out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		                  "\r\nhi");
		break;
	case RAW_CLOSE:
		ws_handshake_response(&s->out, accept);
		wbuf_put(&s->out, text, sizeof(text) - 1);
		wbuf_put(&s->out, close_frame, sizeof(close_frame) - 1);
		break;
	case RAW_SILENT:
		break;
	}
	if (s->script != RAW_TRICKLE) {
		bufferevent_write(bev, s->out.buf, s->out.len);
		s->sent = s->out.len;
	}
}

static void
raw_event(struct bufferevent *bev, short what, void *arg)
{
	struct raw *s = arg;

	bufferevent_free(bev);
	s->bev = NULL;
}

static void
raw_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct raw *s = arg;
	int one = 1;

	s->conns++;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->handshaken = 0;
	bufferevent_setcb(s->bev, raw_read, NULL, raw_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

static void
raw_start(struct raw *s, enum raw_script script)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct timeval tv = {0, 1000};

	memset(s, 0, sizeof(*s));
	s->script = script;
	wbuf_init(&s->out, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lis = evconnlistener_new_bind(base, raw_accept, s,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof(sin));
	getsockname(
	    evconnlistener_get_fd(s->lis), (struct sockaddr *)&sin, &len);
	s->port = ntohs(sin.sin_port);
	s->drip = event_new(base, -1, EV_PERSIST, raw_drip, s);
	event_add(s->drip, &tv);
}

static void
raw_stop(struct raw *s)
{
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	event_free(s->drip);
	evconnlistener_free(s->lis);
	wbuf_fini(&s->out);
}

static int
pong_seen(void *arg)
{
	const struct raw *s = arg;

	return s->got_pong;
}

static int
closed_once(void *arg)
{
	const struct rec *r = arg;

	return r->closes >= 1;
}

static void
test_raw(void)
{
	struct raw s;
	struct rec r;
	char url[256];
	uint64_t errs;

	raw_start(&s, RAW_TRICKLE);
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	r.subscribe = 0;
	feed_ws_start(r.c);
	ok(run_until(pong_seen, &s, 3000),
	    "answer a byte at a time: open, message, ping answered");
	is_int(r.opens, 1, "trickle: opened once");
	is_int(r.msgs, 1, "trickle: one message");
	is_str(r.last_msg, "hello", "trickle: the frame after the header");
	feed_ws_free(r.c);
	raw_stop(&s);

	raw_start(&s, RAW_BAD_ACCEPT);
	errs = stats.feed_ws_errors_total;
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	feed_ws_start(r.c);
	ok(run_until(two_errors, &errs, 3000), "wrong accept: refused");
	is_int(r.opens, 0, "wrong accept: never open");
	ok(log_has("bad websocket handshake: wrong Sec-WebSocket-Accept"),
	    "wrong accept: logged");
	feed_ws_free(r.c);
	raw_stop(&s);

	raw_start(&s, RAW_HTTP_200);
	errs = stats.feed_ws_errors_total;
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	feed_ws_start(r.c);
	ok(run_until(two_errors, &errs, 3000), "HTTP 200: refused");
	ok(log_has("HTTP 200 OK: not a websocket upgrade"), "200: logged");
	feed_ws_free(r.c);
	raw_stop(&s);

	raw_start(&s, RAW_CLOSE);
	url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
	client(&r, url, NULL, 0, 5000);
	feed_ws_start(r.c);
	ok(run_until(closed_once, &r, 3000), "server close: on_close");
	ok(strstr(r.why, "code 1001: bye") != NULL, "close: why = %s", r.why);
	ok(run_until(reopened_with_msgs, &r, 3000) || r.opens >= 2,
	    "close: reconnected");
	feed_ws_free(r.c);
	raw_stop(&s);

	raw_start(&s, RAW_SILENT);
	{
		struct feed_ws_opts o;

		memset(&r, 0, sizeof(r));
		memset(&o, 0, sizeof(o));
		url_for(url, sizeof(url), "ws", "127.0.0.1", s.port, TOKEN);
		o.url = url;
		o.connect_timeout_ms = 200;
		o.backoff_max_ms = 50;
		errs = stats.feed_ws_errors_total;
		feed_ws_new(base, dns, &o, &rec_cb, &r, &r.c);
		feed_ws_start(r.c);
		ok(run_until(two_errors, &errs, 3000),
		    "silent server: handshake times out, retried");
		ok(log_has("timed out after 200 ms (websocket handshake)"),
		    "timeout: logged");
		feed_ws_free(r.c);
	}
	raw_stop(&s);
}

static void
test_config_errors(void)
{
	struct feed_ws_opts o;
	struct feed_ws *c = NULL;
	struct rec r;
	uint64_t reconnects;

	memset(&o, 0, sizeof(o));
	o.url = "http://example.com/?token=" TOKEN;
	is_int(feed_ws_new(base, dns, &o, &rec_cb, &r, &c), ERR_CONFIG,
	    "http:// refused");
	ok(c == NULL, "and nothing returned");
	o.url = "wss://example.com/";
	o.ca_file = "/nonexistent/ca.pem";
	is_int(feed_ws_new(base, dns, &o, &rec_cb, &r, &c), ERR_CONFIG,
	    "an unreadable CA file is a configuration error");

	/* A refused port: the attempt fails and is retried. */
	memset(&o, 0, sizeof(o));
	o.url = "ws://127.0.0.1:1/?token=" TOKEN;
	o.backoff_max_ms = 20;
	memset(&r, 0, sizeof(r));
	reconnects = stats.feed_reconnects_total;
	is_int(feed_ws_new(base, dns, &o, &rec_cb, &r, &c), 0, "new");
	feed_ws_start(c);
	run_for(300);
	ok(log_has("connect failed: Connection refused"),
	    "refused connect logged");
	ok(stats.feed_reconnects_total - reconnects >= 2,
	    "and retried (%llu times)",
	    (unsigned long long)(stats.feed_reconnects_total - reconnects));
	ok(r.opens == 0 && r.closes == 0, "no on_open, so no on_close");
	feed_ws_free(c);
}

int
main(void)
{
	char *logtext;

	plan_lazy();
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_feed_ws.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir);
	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	snprintf(logpath, sizeof(logpath), "%s/client.log", tmpdir);
	log_open(logpath);
	base = event_base_new();
	dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (dns == NULL)
		dns = evdns_base_new(base, 0);

	test_config_errors();
	test_raw();
	if (getenv("FINNHUB_SIM") == NULL ||
	    access(getenv("FINNHUB_SIM"), X_OK) != 0) {
		/* make check builds it and exports its path. */
		ok(0, "finnhub-sim is not built: FINNHUB_SIM must name it");
	} else {
		test_open_and_receive();
		test_drop();
		test_stall();
		test_oversize();
		test_401();
		test_capture_replay();
		test_tls();
	}

	logtext = slurp(logpath);
	ok(strstr(logtext, TOKEN) == NULL && strstr(logtext, "token=***"),
	    "the token is in no log line (and the URL is, masked)");
	if (tap_failed) {
		char *line, *save = NULL;

		diag("client log:");
		for (line = strtok_r(logtext, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			diag("  %s", line);
	}
	free(logtext);
	log_close();
	evdns_base_free(dns, 0);
	event_base_free(base);
	sh("rm -f *.pem *.key *.csr *.ext *.srl *.err *.cap client.log");
	rmdir(tmpdir);
	return done_testing();
}
