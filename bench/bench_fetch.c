/*
 * bench_fetch.c: (2') Kafka Fetch throughput as a librdkafka consumer
 * sees it, against a running finnstreamd.
 *
 *	bench/bench_fetch -b HOST:PORT [-w 16k|trade] [-n RECORDS] [-s BYTES]
 *	    [-t TOPIC] [-r RUNS] [-N] [-X key=value ...]
 *
 * First preloads TOPIC (a plain topic, created on first use) with RECORDS
 * records through a librdkafka producer: acks=1, linger.ms 5, 1 MB
 * batches, no compression.  Then, RUNS times, a fresh consumer starts
 * every partition at the beginning and consumes until each partition
 * reaches the high watermark read before the run; the clock runs from
 * starting the partitions to the last record.  Prints every run, then the
 * best as a "RESULT" line (bench/run-kafka.sh reads it).  MB/s counts
 * key + value bytes (1 MB = 10^6 bytes), not the batch framing.
 *
 * Workloads:
 *	16k    values of BYTES (16384) bytes, no key.
 *	trade  the feed's value shape {"s":..,"p":..,"v":..,"t":..,"c":[..]}
 *	       (~70 bytes) keyed by symbol, murmur2-partitioned like the
 *	       feed's own trades.
 *
 * -N skips the preload and consumes what TOPIC already holds.  -X sets a
 * consumer property (e.g. -X max.partition.fetch.bytes=1048576) to try
 * other fetch sizes.  The consumer uses librdkafka's simple (legacy)
 * consumer: starting partitions by hand needs no group coordinator, and
 * it is the same fetcher the high-level consumer uses.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define BENCH_MAX_PARTS 1024
#define BENCH_MAX_X     32
#define BENCH_MAX_RUNS  100
#define BENCH_TIMEOUT_S 120 /* one run may take at most this long */
#define BENCH_VALUE_MAX (16 << 20)

struct opts {
	const char *brokers;
	const char *workload;
	const char *topic;
	long records;
	long value_bytes;
	int runs;
	int no_produce;
	int nx;
	const char *x[BENCH_MAX_X];
};

/* Filled by the delivery report callback. */
struct dr_state {
	long delivered;
	long failed;
	rd_kafka_resp_err_t first_err;
};

static volatile unsigned sink;

static const char *const symbols[] = {"AAPL", "MSFT", "AMZN", "NVDA", "TSLA",
    "GOOGL", "META", "AMD", "NFLX", "INTC", "JPM", "BAC", "XOM", "KO", "PEP",
    "DIS"};
#define NSYMBOLS (sizeof(symbols) / sizeof(symbols[0]))

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_fetch -b HOST:PORT [-w 16k|trade] [-n RECORDS] "
	    "[-s BYTES]\n"
	    "                   [-t TOPIC] [-r RUNS] [-N] [-X key=value]\n");
	exit(2);
}

/* Set one property or die: a benchmark with a wrong setting means nothing. */
static void
conf_set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
	char err[512];

	if (rd_kafka_conf_set(conf, key, val, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "bench_fetch: %s=%s: %s\n", key, val, err);
		exit(1);
	}
}

static void
conf_set_kv(rd_kafka_conf_t *conf, const char *kv)
{
	char key[256];
	const char *eq = strchr(kv, '=');

	if (eq == NULL || (size_t)(eq - kv) >= sizeof(key)) {
		fprintf(stderr, "bench_fetch: -X %s: want key=value\n", kv);
		exit(2);
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	conf_set(conf, key, eq + 1);
}

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct dr_state *dr = opaque;

	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		dr->delivered++;
		return;
	}
	if (dr->failed++ == 0)
		dr->first_err = m->err;
}

/* One trade value in the feed's shape; returns its length. */
static int
trade_value(char *buf, size_t size, long i, const char **sym)
{
	long cents = 10000 + (i * 7919) % 90000;

	*sym = symbols[(size_t)i % NSYMBOLS];
	return snprintf(buf, size,
	    "{\"s\":\"%s\",\"p\":%ld.%02ld,\"v\":%ld,\"t\":%" PRId64
	    ",\"c\":[\"1\",\"24\",\"12\"]}",
	    *sym, cents / 100, cents % 100, 1 + i % 500,
	    (int64_t)1672348887666 + i / 8);
}

/* Preload the topic; returns 0 or -1 (reported). */
static int
produce(const struct opts *o, int trade)
{
	char err[512], vbuf[256];
	struct dr_state dr = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = NULL;
	rd_kafka_resp_err_t rc;
	unsigned char *value = NULL;
	double t0, t1;
	long i;
	int ret = -1;

	conf_set(conf, "bootstrap.servers", o->brokers);
	conf_set(conf, "client.id", "bench_fetch-producer");
	conf_set(conf, "acks", "1");
	conf_set(conf, "linger.ms", "5");
	conf_set(conf, "batch.size", "1000000");
	conf_set(conf, "batch.num.messages", "100000");
	conf_set(conf, "compression.codec", "none");
	conf_set(conf, "partitioner", "murmur2_random");
	conf_set(conf, "queue.buffering.max.messages", "1000000");
	conf_set(conf, "queue.buffering.max.kbytes", "1048576");
	/* A 16 KiB record plus batch overhead must fit one request. */
	conf_set(conf, "message.max.bytes", "4000000");
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, &dr);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "bench_fetch: producer: %s\n", err);
		rd_kafka_conf_destroy(conf);
		goto out;
	}
	if (!trade) {
		/* One buffer serves every record: librdkafka neither copies
		 * nor frees it (no RD_KAFKA_MSG_F_COPY), and it outlives the
		 * flush below. */
		if ((value = malloc((size_t)o->value_bytes)) == NULL)
			goto out;
		for (i = 0; i < o->value_bytes; i++)
			value[i] = (unsigned char)('a' + i % 26);
	}
	t0 = now_s();
	for (i = 0; i < o->records; i++) {
		for (;;) {
			if (trade) {
				const char *sym;
				int n =
				    trade_value(vbuf, sizeof(vbuf), i, &sym);

				rc = rd_kafka_producev(rk,
				    RD_KAFKA_V_TOPIC(o->topic),
				    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				    RD_KAFKA_V_KEY(sym, strlen(sym)),
				    RD_KAFKA_V_VALUE(vbuf, (size_t)n),
				    RD_KAFKA_V_END);
			} else {
				rc = rd_kafka_producev(rk,
				    RD_KAFKA_V_TOPIC(o->topic),
				    RD_KAFKA_V_MSGFLAGS(0),
				    RD_KAFKA_V_VALUE(
				        value, (size_t)o->value_bytes),
				    RD_KAFKA_V_END);
			}
			if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				break;
			rd_kafka_poll(rk, 10);
		}
		if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "bench_fetch: produce: %s\n",
			    rd_kafka_err2str(rc));
			goto out;
		}
		if (i % 10000 == 0)
			rd_kafka_poll(rk, 0);
	}
	if ((rc = rd_kafka_flush(rk, 120 * 1000)) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(
		    stderr, "bench_fetch: flush: %s\n", rd_kafka_err2str(rc));
		goto out;
	}
	t1 = now_s();
	if (dr.failed > 0) {
		fprintf(stderr, "bench_fetch: %ld records failed: %s\n",
		    dr.failed, rd_kafka_err2str(dr.first_err));
		goto out;
	}
	printf("preload: %ld records into %s in %.2f s (%.0f records/s, "
	       "not a target)\n",
	    dr.delivered, o->topic, t1 - t0, (double)dr.delivered / (t1 - t0));
	fflush(stdout);
	ret = 0;
out:
	if (rk != NULL)
		rd_kafka_destroy(rk);
	free(value);
	return ret;
}

static rd_kafka_t *
consumer_new(const struct opts *o)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	int i;

	conf_set(conf, "bootstrap.servers", o->brokers);
	conf_set(conf, "client.id", "bench_fetch-consumer");
	conf_set(conf, "fetch.wait.max.ms", "100");
	conf_set(conf, "fetch.min.bytes", "1");
	/* Whole 1 MB producer batches fit a partition's share; a response
	 * carries several partitions.  The broker caps a response at 64 MiB. */
	conf_set(conf, "max.partition.fetch.bytes", "4194304");
	conf_set(conf, "fetch.max.bytes", "16777216");
	conf_set(conf, "receive.message.max.bytes", "17825792");
	conf_set(conf, "check.crcs", "false");
	conf_set(conf, "enable.partition.eof", "false");
	for (i = 0; i < o->nx; i++)
		conf_set_kv(conf, o->x[i]);
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "bench_fetch: consumer: %s\n", err);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* What the consume callback counts, for one run. */
struct run_state {
	const struct opts *o;
	int nparts;
	const int64_t *hi;
	long got;
	long long bytes;
	int left; /* partitions not yet at their high watermark */
	int errors;
};

static void
on_message(rd_kafka_message_t *m, void *opaque)
{
	struct run_state *rs = opaque;
	int32_t p = m->partition;

	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "bench_fetch: %s/%d: %s\n", rs->o->topic, p,
		    rd_kafka_message_errstr(m));
		rs->errors++;
		return;
	}
	if (p < 0 || p >= rs->nparts || m->offset >= rs->hi[p])
		return;
	/* Read the last byte, as a real consumer reads its records. */
	if (m->len > 0)
		sink += ((const unsigned char *)m->payload)[m->len - 1];
	rs->got++;
	rs->bytes += (long long)(m->len + m->key_len);
	if (m->offset == rs->hi[p] - 1)
		rs->left--;
}

/*
 * One timed run.  Returns 0 and the records, payload bytes and seconds,
 * or -1 (reported).  Messages are taken with consume_callback_queue,
 * which hands over whatever is queued and returns: consume_batch_queue
 * would wait out its timeout whenever fewer than a full batch remain.
 */
static int
consume_run(const struct opts *o, long *nrec, long long *nbytes, double *secs)
{
	static int64_t lo[BENCH_MAX_PARTS], hi[BENCH_MAX_PARTS];
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_t *rk = NULL;
	rd_kafka_topic_t *rkt = NULL;
	rd_kafka_queue_t *q = NULL;
	rd_kafka_resp_err_t rc;
	struct run_state rs;
	long expect = 0;
	double t0, t1, deadline;
	int nparts = 0, started = 0, i, ret = -1;

	memset(&rs, 0, sizeof(rs));
	if ((rk = consumer_new(o)) == NULL)
		goto out;
	rkt = rd_kafka_topic_new(rk, o->topic, NULL);
	rc = rd_kafka_metadata(rk, 0, rkt, &md, 10 * 1000);
	if (rc != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
	    md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "bench_fetch: metadata for %s: %s\n", o->topic,
		    rd_kafka_err2str(rc != 0 ? rc
		                     : md->topic_cnt != 1
		                         ? RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC
		                         : md->topics[0].err));
		goto out;
	}
	nparts = md->topics[0].partition_cnt;
	if (nparts <= 0 || nparts > BENCH_MAX_PARTS) {
		fprintf(stderr, "bench_fetch: %d partitions\n", nparts);
		goto out;
	}
	rs.o = o;
	rs.nparts = nparts;
	rs.hi = hi;
	for (i = 0; i < nparts; i++) {
		rc = rd_kafka_query_watermark_offsets(
		    rk, o->topic, i, &lo[i], &hi[i], 10 * 1000);
		if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "bench_fetch: watermarks %s/%d: %s\n",
			    o->topic, i, rd_kafka_err2str(rc));
			goto out;
		}
		expect += (long)(hi[i] - lo[i]);
		if (hi[i] > lo[i])
			rs.left++;
	}
	if (expect == 0) {
		fprintf(stderr, "bench_fetch: %s is empty\n", o->topic);
		goto out;
	}
	q = rd_kafka_queue_new(rk);

	t0 = now_s();
	deadline = t0 + BENCH_TIMEOUT_S;
	for (i = 0; i < nparts; i++) {
		if (hi[i] == lo[i])
			continue;
		if (rd_kafka_consume_start_queue(
		        rkt, i, RD_KAFKA_OFFSET_BEGINNING, q) == -1) {
			fprintf(stderr, "bench_fetch: start %s/%d: %s\n",
			    o->topic, i,
			    rd_kafka_err2str(rd_kafka_last_error()));
			goto out;
		}
	}
	started = 1;
	while (rs.left > 0) {
		if (rd_kafka_consume_callback_queue(q, 100, on_message, &rs) <
		    0) {
			fprintf(stderr, "bench_fetch: consume: %s\n",
			    rd_kafka_err2str(rd_kafka_last_error()));
			goto out;
		}
		if (rs.errors > 0)
			goto out;
		if (now_s() > deadline) {
			fprintf(stderr,
			    "bench_fetch: timed out after %d s with %ld of %ld "
			    "records\n",
			    BENCH_TIMEOUT_S, rs.got, expect);
			goto out;
		}
	}
	t1 = now_s();
	if (rs.got != expect) {
		fprintf(stderr, "bench_fetch: got %ld records, expected %ld\n",
		    rs.got, expect);
		goto out;
	}
	*nrec = rs.got;
	*nbytes = rs.bytes;
	*secs = t1 - t0;
	ret = 0;
out:
	if (started)
		for (i = 0; i < nparts; i++)
			if (hi[i] > lo[i])
				rd_kafka_consume_stop(rkt, i);
	if (q != NULL)
		rd_kafka_queue_destroy(q);
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	if (rkt != NULL)
		rd_kafka_topic_destroy(rkt);
	if (rk != NULL)
		rd_kafka_destroy(rk);
	return ret;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->workload = "16k";
	o->runs = 3;
	o->records = -1;
	o->value_bytes = 16384;
	while ((c = getopt(argc, argv, "b:w:n:s:t:r:NX:h")) != -1) {
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 'w':
			o->workload = optarg;
			break;
		case 'n':
			o->records = strtol(optarg, NULL, 10);
			break;
		case 's':
			o->value_bytes = strtol(optarg, NULL, 10);
			break;
		case 't':
			o->topic = optarg;
			break;
		case 'r':
			o->runs = atoi(optarg);
			break;
		case 'N':
			o->no_produce = 1;
			break;
		case 'X':
			if (o->nx == BENCH_MAX_X)
				usage();
			o->x[o->nx++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (o->brokers == NULL || optind != argc || o->runs < 1 ||
	    o->runs > BENCH_MAX_RUNS)
		usage();
	if (strcmp(o->workload, "16k") == 0) {
		if (o->records < 0)
			o->records = 32768;
		if (o->topic == NULL)
			o->topic = "bench-16k";
	} else if (strcmp(o->workload, "trade") == 0) {
		if (o->records < 0)
			o->records = 4000000;
		if (o->topic == NULL)
			o->topic = "bench-trade";
	} else
		usage();
	if (o->records < 1 || o->value_bytes < 1 ||
	    o->value_bytes > BENCH_VALUE_MAX)
		usage();
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct opts o;
	double secs[BENCH_MAX_RUNS], best, median;
	long nrec = 0;
	long long nbytes = 0;
	int trade, run;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, &o);
	trade = strcmp(o.workload, "trade") == 0;
	printf("bench_fetch: librdkafka %s, workload %s, topic %s\n",
	    rd_kafka_version_str(), o.workload, o.topic);
	if (!o.no_produce && produce(&o, trade) != 0)
		return 1;
	for (run = 0; run < o.runs; run++) {
		long n;
		long long nb;

		if (consume_run(&o, &n, &nb, &secs[run]) != 0)
			return 1;
		printf("run %d: %ld records, %lld bytes in %.3f s: %.0f "
		       "records/s, %.1f MB/s\n",
		    run + 1, n, nb, secs[run], (double)n / secs[run],
		    (double)nb / secs[run] / 1e6);
		/* Every run reads the same records (watermarks are taken
		 * per run; nothing else writes the topic). */
		nrec = n;
		nbytes = nb;
	}
	qsort(secs, (size_t)o.runs, sizeof(secs[0]), cmp_double);
	best = secs[0];
	median = secs[o.runs / 2];
	/* Named per workload, so that bench/repeat.sh keeps them apart. */
	printf("RESULT fetch_%s workload=%s records=%ld bytes=%lld runs=%d "
	       "seconds=%.4f records_per_s=%.0f MB_per_s=%.1f "
	       "median_records_per_s=%.0f median_MB_per_s=%.1f\n",
	    o.workload, o.workload, nrec, nbytes, o.runs, best,
	    (double)nrec / best, (double)nbytes / best / 1e6,
	    (double)nrec / median, (double)nbytes / median / 1e6);
	return 0;
}
