/*
 * bench_ws_ingest.c: (1) -> (2) over the network: finnhub-sim sends
 * Finnhub trade messages as fast as the socket takes them; the daemon's
 * own feed_ws (libevent + wslay), feed_ingest_message() and the log take
 * them in, on one event loop, as in finnstreamd.
 *
 *	bench/bench_ws_ingest [-s FINNHUB_SIM] [-n TRADES] [-k PER_MSG] [-t]
 *
 * -t uses wss:// (a throw-away certificate made with the openssl CLI).
 * Timing runs from the first trade received to the N-th appended.
 */
#include <config.h>

#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "proto/feed.h"
#include "proto/wbuf.h"
#include "server/config.h"
#include "server/feed/feed_ingest.h"
#include "server/feed/feed_sim.h"
#include "server/feed/feed_ws.h"
#include "server/log.h"
#include "server/stats.h"
#include "storage/seglog.h"

struct bench {
	struct event_base *base;
	struct feed_ws *ws;
	struct feed_ingest *in;
	const struct config *cfg; /* its symbols are subscribed */
	long long target;
	double t_first, t_done;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_open(void *arg)
{
	struct bench *b = arg;
	struct wbuf w;
	int i;

	wbuf_init(&w, 0);
	for (i = 0; i < b->cfg->nsymbols; i++) {
		wbuf_reset(&w);
		feed_encode_subscribe(&w, "subscribe", b->cfg->symbols[i]);
		feed_ws_send_text(b->ws, w.buf, w.len);
	}
	wbuf_fini(&w);
}

static void
on_message(
    void *arg, const uint8_t *msg, size_t len, int opcode, int64_t recv_us)
{
	struct bench *b = arg;

	if (b->t_first == 0)
		b->t_first = now_s();
	feed_ingest_message(b->in, msg, len, recv_us);
	if ((long long)stats.feed_trades_total >= b->target) {
		b->t_done = now_s();
		event_base_loopbreak(b->base);
	}
}

static void
on_close(void *arg, const char *why)
{
	fprintf(stderr, "connection closed: %s\n", why);
}

int
main(int argc, char **argv)
{
	static const struct feed_ws_cb cb = {on_open, on_message, on_close};
	const char *sim = "bench/finnhub-sim";
	char url[256], line[256], ntxt[32], ktxt[32], dir[] = "/tmp/fsbXXXXXX";
	char cert[300], key[300], cmd[1024];
	struct feed_ws_opts o;
	struct seglog_limits lim;
	struct seglog_topic *topic;
	struct seglog *sl;
	struct config cfg;
	struct bench b;
	int c, tls = 0, per = 10, port = 0, pfd[2];
	long long n = 5000000;
	pid_t pid;
	FILE *fp;

	while ((c = getopt(argc, argv, "s:n:k:t")) != -1) {
		switch (c) {
		case 's':
			sim = optarg;
			break;
		case 'n':
			n = atoll(optarg);
			break;
		case 'k':
			per = atoi(optarg);
			break;
		case 't':
			tls = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: bench_ws_ingest [-s FINNHUB_SIM] "
			    "[-n TRADES] [-k PER_MSG] [-t]\n");
			return 2;
		}
	}
	log_level = LOG_LEVEL_WARN;
	snprintf(ntxt, sizeof(ntxt), "%lld", n);
	snprintf(ktxt, sizeof(ktxt), "%d", per);
	if (tls) {
		if (mkdtemp(dir) == NULL)
			return 1;
		snprintf(cert, sizeof(cert), "%s/c.pem", dir);
		snprintf(key, sizeof(key), "%s/k.pem", dir);
		snprintf(cmd, sizeof(cmd),
		    "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
		    "-subj /CN=localhost -addext subjectAltName=DNS:localhost "
		    "-keyout %s -out %s 2>/dev/null",
		    key, cert);
		if (system(cmd) != 0) {
			fprintf(stderr, "openssl failed\n");
			return 1;
		}
	}
	if (pipe(pfd) != 0 || (pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		if (tls)
			execl(sim, sim, "--listen", "127.0.0.1:0", "--rate",
			    "0", "--max-trades", ntxt, "--trades-per-frame",
			    ktxt, "--ping-ms", "0", "--tls-cert", cert,
			    "--tls-key", key, (char *)NULL);
		else
			execl(sim, sim, "--listen", "127.0.0.1:0", "--rate",
			    "0", "--max-trades", ntxt, "--trades-per-frame",
			    ktxt, "--ping-ms", "0", (char *)NULL);
		perror(sim);
		_exit(127);
	}
	close(pfd[1]);
	fp = fdopen(pfd[0], "r");
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "listening on 127.0.0.1:%d", &port) == 1)
			break;
	if (port == 0) {
		fprintf(stderr, "finnhub-sim did not start\n");
		return 1;
	}
	snprintf(url, sizeof(url), "%s://%s:%d/?token=x", tls ? "wss" : "ws",
	    tls ? "localhost" : "127.0.0.1", port);

	config_init(&cfg);
	memset(&lim, 0, sizeof(lim));
	lim.retention_bytes = 64 << 20;
	lim.segment_bytes = 1 << 20;
	lim.max_batch_bytes = 16 << 20;
	lim.default_partitions = 4;
	if (seglog_new(&lim, NULL, &sl) != 0 ||
	    seglog_topic_create(sl, "trades", 6, 4, &topic) != 0)
		return 1;
	memset(&b, 0, sizeof(b));
	b.target = n;
	b.base = event_base_new();
	b.in = feed_ingest_new(topic);
	b.cfg = &cfg;
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.ca_file = tls ? cert : NULL;
	o.max_msg_bytes = INGEST_MAX_MSG;
	if (feed_ws_new(b.base, NULL, &o, &cb, &b, &b.ws) != 0)
		return 1;
	feed_ws_start(b.ws);
	event_base_dispatch(b.base);
	if (b.t_done == 0) {
		fprintf(stderr, "stopped after %llu trades\n",
		    (unsigned long long)stats.feed_trades_total);
		return 1;
	}
	printf("finnhub-sim -> %s loopback -> log: %lld trades, %d per "
	       "message\n",
	    tls ? "wss://" : "ws://", n, per);
	printf("%.3f s  %.0f trades/s  %.1f MB/s of frames  "
	       "(%llu bad trades, %llu bad messages)\n",
	    b.t_done - b.t_first, (double)n / (b.t_done - b.t_first),
	    (double)stats.feed_bytes_total / (b.t_done - b.t_first) / 1e6,
	    (unsigned long long)stats.feed_bad_trades_total,
	    (unsigned long long)stats.feed_bad_frames_total);
	feed_ws_free(b.ws);
	feed_ingest_free(b.in);
	seglog_free(sl);
	event_base_free(b.base);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	config_fini(&cfg);
	if (tls) {
		unlink(cert);
		unlink(key);
		rmdir(dir);
	}
	return 0;
}
