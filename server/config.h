/*
 * config.h: the daemon's configuration (a `key value` file, then
 * `--key value` overrides, then FINNHUB_TOKEN), validated once at load and
 * passed around as `const struct config *`.
 *
 * Lifetime: the daemon's configurations are counted.  config_new() gives
 * one reference to its caller; every stage that keeps a pointer to a
 * config takes its own with config_ref() and drops it with
 * config_unref() when it lets go (at free, or when a reload hands it a
 * newer one), so a SIGHUP never frees a configuration a stage still
 * reads.  A stage keeps either its start-up config for life (keys that
 * change only on restart) or swaps to the new one in its reload hook.
 * A config made by config_init() (embedded, in tests and tools) is not
 * counted: ref and unref do nothing, and its owner outlives its users.
 *
 * Every key of the design is accepted from the start; keys of stages that
 * are not built yet are validated and otherwise inert.  The option table
 * lives in config_table.c.
 */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum store_fsync {
	STORE_FSYNC_NEVER,
	STORE_FSYNC_INTERVAL,
	STORE_FSYNC_ALWAYS
};

struct config {
	_Atomic int refs; /* 0: embedded (config_init), not counted */
	char *token;      /* secret: never logged */
	char **symbols;   /* NULL-terminated */
	int nsymbols;
	char *feed; /* "finnhub", "sim", "replay:PATH[@SPEED]" */
	char *feed_url;
	char *feed_ca_file;
	char *capture; /* NULL: off */
	char *kafka_listen;
	char *kafka_advertised;
	char *topic;
	int partitions;
	int64_t log_retention_bytes;
	int64_t log_retention_ms;
	char *http_listen;
	char *http_auth_token; /* secret: never logged */
	char *http_web_dir;
	char *http_chart_dir; /* NULL: none */
	char *data_dir;
	int store_fsync; /* enum store_fsync */
	int log_level;
	char *log_file;
	int64_t sim_rate;
	int64_t feed_stall_ms;
	int64_t feed_backoff_max_ms;
	int64_t max_request_bytes;
	int64_t max_memory; /* 0: no limit */
	int64_t kafka_idle_ms;
	int64_t kafka_max_connections;
	int auto_create_topics;
	int64_t max_topics;
	int64_t store_flush_ms;
	int64_t store_compact_rows;
	int64_t trades_retention_days; /* 0: off */
	int64_t bars_retention_days;   /* 0: off */
	int64_t http_max_body_bytes;
	int64_t http_max_connections;
	int64_t http_timeout_ms;
	int64_t group_initial_rebalance_delay_ms;

	/* -c FILE and --check-config come from the command line only;
	 * pidfile and daemonize are keys like the rest (-d sets the latter). */
	char *config_file;
	char *pidfile;
	int daemonize;
	int check_config;
};

/* The option table (config_table.c). */
enum config_type {
	CONFIG_STRING,  /* char *; "" or "off" -> NULL where nullable */
	CONFIG_INT,     /* int64_t in [min, max] */
	CONFIG_INT32,   /* int in [min, max] */
	CONFIG_BYTES,   /* int64_t with an optional k/m/g (KiB...) suffix */
	CONFIG_MS,      /* int64_t with an optional ms/s/m/h/d suffix */
	CONFIG_SYMBOLS, /* comma/space separated list */
	CONFIG_LEVEL,   /* log level name */
	CONFIG_FSYNC,   /* never|interval|always */
	CONFIG_BOOL
};

#define CONFIG_F_SECRET    0x01 /* never echoed in errors or logs */
#define CONFIG_F_NOCMDLINE 0x02 /* refused on the command line (ps shows it) */
#define CONFIG_F_NULLABLE  0x04 /* "off" or "" means unset */
#define CONFIG_F_INERT     0x08 /* stage not built yet: validated only */

struct config_option {
	const char *name;
	int type;
	int flags;
	int64_t min, max;
	const char *def; /* default as text, NULL = unset */
	size_t off;      /* offsetof(struct config, field) */
	const char *help;
};

extern const struct config_option config_options[];
extern const size_t config_noptions;

/* Defaults into c (which must be zeroed or freshly config_fini'ed). */
void config_init(struct config *c);
void config_fini(struct config *c);

/* A heap config with the defaults, holding one reference (the caller's). */
struct config *config_new(void);
/* Take a reference; returns c.  NULL is passed through. */
const struct config *config_ref(const struct config *c);
/* Drop a reference; the last one frees c (secrets wiped).  NULL: no-op. */
void config_unref(const struct config *c);

/*
 * Load: defaults, then the file (if c->config_file or path), then the
 * argv overrides, then FINNHUB_TOKEN, then cross-key checks and derived
 * defaults (feed, kafka_advertised).  Errors are printed to stderr as
 * "file:line: message" or "--key: message" and counted; returns 0 or the
 * (negative) number of errors.  argv holds only --key value pairs
 * already split off by main; flags (-d, -c ...) are handled there.
 */
int config_load(struct config *c, int argc, char **argv);

/* Look up an option by name (with '-' and '_' equivalent); NULL if none. */
const struct config_option *config_find(const char *name);

/* Split "host:port" or "[v6]:port"; 0 or ERR_CONFIG. host is a copy. */
int config_split_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
