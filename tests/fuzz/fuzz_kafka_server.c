/*
 * fuzz_kafka_server.c: (2') the Kafka listener's whole request path, in
 * process over loopback: each input is the byte stream one client sends
 * (frames, headers, bodies, batches, in any order and any shape).  The
 * server must answer or close that connection, never crash, hang or
 * leak, and keep serving: the loop below waits for the server to close
 * the connection after the client's EOF and aborts if it does not.
 */
#include <config.h>

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "server/config.h"
#include "server/kafka/kafka_server.h"
#include "server/log.h"
#include "server/stats.h"
#include "storage/groupstore.h"
#include "storage/seglog.h"

static struct event_base *evb;
static struct kafka_server *ks;
static struct seglog *slog;
static struct groupstore *gstore;
static struct config cfg;
static int port;

static void
on_append(struct seglog_topic *t, int part, void *arg)
{
	kafka_server_on_append(ks, t, part);
}

static void
setup(void)
{
	struct seglog_limits lim;

	log_level = getenv("FUZZ_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERR;
	cfg.kafka_listen = "127.0.0.1:0";
	cfg.topic = "trades";
	cfg.partitions = 1;
	cfg.max_request_bytes = 1 << 16;
	cfg.kafka_max_connections = 1024;
	cfg.auto_create_topics = 1;
	cfg.max_topics = 64;
	memset(&lim, 0, sizeof(lim));
	lim.segment_bytes = 4096;
	lim.retention_bytes = 4096;
	lim.max_batch_bytes = 1 << 16;
	lim.default_partitions = 1;
	evb = event_base_new();
	if (evb == NULL || seglog_new(&lim, NULL, &slog) != 0 ||
	    seglog_topic_create(slog, "trades", 6, 2, NULL) != 0)
		abort();
	seglog_set_append_hook(slog, on_append, NULL);
	if (groupstore_open(NULL, &gstore) != 0)
		abort();
	ks = kafka_server_new(evb, &cfg, slog, gstore);
	if (kafka_server_listen(ks) != 0)
		abort();
	port = kafka_server_port(ks);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linger lin = {1, 0};
	struct sockaddr_in sin;
	struct pollfd pfd;
	uint8_t buf[65536];
	double deadline;
	size_t off = 0;
	int fd, shut = 0;

	if (evb == NULL)
		setup();
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		abort();
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* Fetch waits are capped by the bytes a fuzzer can choose, so allow
	 * the longest a request can park (max_wait) plus slack. */
	deadline = now_ms() + 10000;
	for (;;) {
		ssize_t n;

		if (off < size) {
			n = write(fd, data + off, size - off);
			if (n > 0)
				off += (size_t)n;
			else if (n == -1 && errno != EAGAIN)
				off = size; /* the server closed: fine */
		}
		if (off == size && !shut) {
			shutdown(fd, SHUT_WR);
			shut = 1;
		}
		event_base_loop(evb, EVLOOP_NONBLOCK);
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno != EAGAIN))
			break; /* the server closed the connection */
		if (n > 0)
			continue;
		if (now_ms() > deadline)
			abort(); /* the server neither answered nor closed */
		pfd.fd = fd;
		pfd.events = POLLIN;
		poll(&pfd, 1, 1);
	}
	/* Reset instead of FIN: a million connections must not use up the
	 * ephemeral ports in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(fd);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	if (stats.kafka_connections != 0)
		abort(); /* the server kept a connection the client closed */
	seglog_expire(slog, 0);
	return 0;
}
