/*
 * config_table.c: every configuration key, its type, bounds and default.
 *
 * The spelling of each key is the contract of DESIGN.md; the same key
 * works in the config file (`key value`) and on the command line
 * (`--key value`).  A key of a stage not built yet would carry
 * CONFIG_F_INERT: validated like the rest and otherwise ignored.
 */
#include <config.h>

#include <stddef.h>

#include "server/config.h"

#define OFF(f) offsetof(struct config, f)
#define KIB    ((int64_t)1024)
#define MIB    (KIB * 1024)
#define GIB    (MIB * 1024)

#ifndef FINNSTREAM_WEB_DIR /* set by the Makefile: $(pkgdatadir)/web */
#define FINNSTREAM_WEB_DIR "web"
#endif

const struct config_option config_options[] = {
    {"token", CONFIG_STRING,
        CONFIG_F_SECRET | CONFIG_F_NOCMDLINE | CONFIG_F_NULLABLE, 0, 0, NULL,
        OFF(token),
        "Finnhub API token (also FINNHUB_TOKEN); never on the command line"},
    /* Crypto first: it trades around the clock, so data flows whenever
     * the daemon runs; then a dozen liquid US stocks. */
    {"symbols", CONFIG_SYMBOLS, 0, 1, 1000,
        "BINANCE:BTCUSDT,BINANCE:ETHUSDT,BINANCE:XRPUSDT,BINANCE:DOGEUSDT,"
        "BINANCE:SOLUSDT,AAPL,MSFT,AMZN,NVDA,TSLA,GOOGL,META,AMD,NFLX,INTC,"
        "JPM,V",
        OFF(symbols), "symbols to subscribe to, comma separated"},
    {"feed", CONFIG_STRING, 0, 0, 0, NULL, OFF(feed),
        "finnhub | sim | replay:PATH[@SPEED] [finnhub with a token, else sim]"},
    {"feed_url", CONFIG_STRING, 0, 0, 0, "wss://ws.finnhub.io", OFF(feed_url),
        "upstream websocket URL (ws:// or wss://)"},
    {"feed_ca_file", CONFIG_STRING, CONFIG_F_NULLABLE, 0, 0, NULL,
        OFF(feed_ca_file), "CA file for wss:// [system CA store]"},
    {"capture", CONFIG_STRING, CONFIG_F_NULLABLE, 0, 0, NULL, OFF(capture),
        "record raw feed frames to PATH for replay [off]"},
    {"kafka_listen", CONFIG_STRING, 0, 0, 0, "127.0.0.1:9092",
        OFF(kafka_listen), "Kafka-protocol listener address"},
    {"kafka_advertised", CONFIG_STRING, CONFIG_F_NULLABLE, 0, 0, NULL,
        OFF(kafka_advertised), "host:port given to clients [kafka_listen]"},
    {"topic", CONFIG_STRING, 0, 0, 0, "trades", OFF(topic),
        "topic the feed's trades go to"},
    {"partitions", CONFIG_INT32, 0, 1, 1024, "4", OFF(partitions),
        "partitions of topics created by the daemon"},
    {"log_retention_bytes", CONFIG_BYTES, 0, 0, INT64_MAX / 2, "256m",
        OFF(log_retention_bytes), "log bytes kept per partition (0: no limit)"},
    {"log_retention_ms", CONFIG_MS, 0, 0, INT64_MAX / 2, "1h",
        OFF(log_retention_ms), "age of log data kept (0: no limit)"},
    {"http_listen", CONFIG_STRING, 0, 0, 0, "127.0.0.1:8080", OFF(http_listen),
        "HTTP (Grafana, /metrics, /healthz) address"},
    {"http_auth_token", CONFIG_STRING, CONFIG_F_SECRET | CONFIG_F_NULLABLE, 0,
        0, NULL, OFF(http_auth_token),
        "bearer token HTTP clients must send, /healthz excepted [off]"},
    {"http_web_dir", CONFIG_STRING, 0, 0, 0, FINNSTREAM_WEB_DIR,
        OFF(http_web_dir), "folder of the chart page's files (GET /, /ui/)"},
    {"http_chart_dir", CONFIG_STRING, CONFIG_F_NULLABLE, 0, 0, NULL,
        OFF(http_chart_dir),
        "folder of uPlot's dist files, served at /vendor/uplot/ for the "
        "chart page [none: the page says what to install]"},
    {"data_dir", CONFIG_STRING, 0, 0, 0, "./data", OFF(data_dir),
        "directory for the store (data_dir/store) and the log's offsets"},
    {"store_fsync", CONFIG_FSYNC, 0, 0, 0, "interval", OFF(store_fsync),
        "always (flush as soon as the last flush is on disk, fsync each) | "
        "interval (flush every store_flush_ms, fsync each) | never (leave "
        "fsync to the OS)"},
    {"log_level", CONFIG_LEVEL, 0, 0, 0, "info", OFF(log_level),
        "error | warn | info | debug"},
    {"log_file", CONFIG_STRING, CONFIG_F_NULLABLE, 0, 0, NULL, OFF(log_file),
        "log to this file [stderr; syslog when daemonized]"},
    {"sim_rate", CONFIG_INT, 0, 1, 10000000, "500", OFF(sim_rate),
        "trades per second of the sim feed"},
    {"feed_stall_ms", CONFIG_MS, 0, 100, 24 * 3600 * 1000, "150000",
        OFF(feed_stall_ms), "reconnect after this long without data or ping"},
    {"feed_backoff_max_ms", CONFIG_MS, 0, 10, 3600 * 1000, "30000",
        OFF(feed_backoff_max_ms), "cap of the reconnect back-off"},
    {"max_request_bytes", CONFIG_BYTES, 0, 1048576, GIB, "16m",
        OFF(max_request_bytes),
        "largest Kafka request accepted (checked before reading it)"},
    {"max_memory", CONFIG_BYTES, 0, 16 * MIB, INT64_MAX / 2, "2g",
        OFF(max_memory),
        "memory budget of the log and requests in flight (0: no limit)"},
    {"kafka_idle_ms", CONFIG_MS, 0, 0, 7 * 24 * 3600 * 1000LL, "10m",
        OFF(kafka_idle_ms),
        "close Kafka connections idle this long (0: never)"},
    {"kafka_max_connections", CONFIG_INT, 0, 1, 1000000, "1024",
        OFF(kafka_max_connections),
        "Kafka connections served at once (more wait to be accepted)"},
    {"auto_create_topics", CONFIG_BOOL, 0, 0, 1, "yes", OFF(auto_create_topics),
        "create topics on first use by Produce or Metadata"},
    {"max_topics", CONFIG_INT, 0, 1, 4096, "256", OFF(max_topics),
        "most topics the log holds (auto-creation stops there)"},
    {"store_flush_ms", CONFIG_MS, 0, 10, 3600 * 1000, "1000",
        OFF(store_flush_ms),
        "store flush interval: the most a killed daemon loses"},
    {"store_compact_rows", CONFIG_INT, 0, 1000, 1 << 30, "262144",
        OFF(store_compact_rows),
        "trades held in memory (about 56 bytes each) before they are "
        "compacted into the day files"},
    {"trades_retention_days", CONFIG_INT, 0, 0, 100000, "0",
        OFF(trades_retention_days),
        "UTC days of trades kept, today included (0: all)"},
    {"bars_retention_days", CONFIG_INT, 0, 0, 100000, "0",
        OFF(bars_retention_days),
        "UTC days of bars kept, today included (0: all)"},
    {"http_max_body_bytes", CONFIG_BYTES, 0, 1024, GIB, "1m",
        OFF(http_max_body_bytes),
        "largest HTTP request body (checked before reading it)"},
    {"http_max_connections", CONFIG_INT, 0, 1, 100000, "512",
        OFF(http_max_connections),
        "HTTP connections served at once (idle ones make room for new)"},
    {"http_timeout_ms", CONFIG_MS, 0, 100, 3600 * 1000, "30s",
        OFF(http_timeout_ms),
        "an HTTP request must arrive whole within this; idle connections "
        "close after it"},
    {"group_initial_rebalance_delay_ms", CONFIG_MS, 0, 0, 300000, "3000",
        OFF(group_initial_rebalance_delay_ms),
        "how long a new consumer group waits for more members before "
        "its first assignment"},
    {"pidfile", CONFIG_STRING, CONFIG_F_NULLABLE, 0, 0, NULL, OFF(pidfile),
        "write the daemon's pid here"},
    {"daemonize", CONFIG_BOOL, 0, 0, 1, "no", OFF(daemonize),
        "detach and run in the background"},
};

const size_t config_noptions =
    sizeof(config_options) / sizeof(config_options[0]);
