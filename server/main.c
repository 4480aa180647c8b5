/*
 * main.c: finnstreamd's entry point: arguments, configuration, daemon
 * set-up (detach, pidfile, logging), signals, and the event loop.  The
 * stages themselves are built by pipeline.c; read that next.
 *
 *	finnstreamd [-c FILE] [-d] [--pidfile PATH] [--check-config]
 *	            [--KEY VALUE ...]
 *	finnstreamd [-c FILE] [--data_dir DIR] --verify-store
 *	finnstreamd [-c FILE] [--data_dir DIR] --dump-store trades|bars
 */
#include <config.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "server/config.h"
#include "server/log.h"
#include "server/pipeline.h"
#include "storage/colfile.h"
#include "storage/colstore.h"
#include "storage/osfile.h"

#define MAIN_MAGIC 0x6d61696e
/* Blocks from this size on get pages of their own (see main). */
#define MAIN_MMAP_THRESHOLD (128 * 1024)

struct main_ctx {
	unsigned magic;
	struct event_base *base;
	struct pipeline *pipeline;
	struct config *cfg; /* in force; main holds one reference */
	char **argv;        /* the --key value overrides, for reloads */
	int argc;
	int stopping;
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "usage: finnstreamd [-c FILE] [-d] [--pidfile PATH] "
	    "[--check-config] [--KEY VALUE ...]\n"
	    "\n"
	    "  -c, --config FILE   read `key value` lines from FILE\n"
	    "  -d, --daemonize     detach (logs go to log_file, else syslog)\n"
	    "      --pidfile PATH  write the pid to PATH (locked)\n"
	    "      --check-config  validate the configuration and exit 0/1\n"
	    "      --verify-store  check every committed block of the store in\n"
	    "                      data_dir and exit 0 (sound) or 1 (damaged)\n"
	    "      --dump-store trades|bars  print the store's committed rows\n"
	    "  -V, --version       print the version\n"
	    "  -h, --help          this text\n"
	    "\nKeys (each also `--key value`; FINNHUB_TOKEN sets token):\n");
	for (i = 0; i < config_noptions; i++) {
		const struct config_option *o = &config_options[i];

		fprintf(fp, "  %-22s %s%s\n", o->name, o->help,
		    o->flags & CONFIG_F_INERT ? " (later stage)" : "");
	}
}

/*
 * The pidfile stays open and locked for the daemon's life, so a second
 * instance finds the lock and refuses to start.
 */
static int
pidfile_open(const char *path)
{
	char buf[32];
	int fd, n;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		log_err("pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = (int)read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_err("pidfile %s is locked: finnstreamd already running "
		        "(pid %s)",
		    path, buf[0] ? buf : "?");
		close(fd);
		return -1;
	}
	return fd;
}

static int
pidfile_write(int fd)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

/*
 * Detach: fork twice with setsid between, so the daemon is no session
 * leader and cannot reacquire a terminal.  The parent waits for the
 * child's word (a byte on a pipe) so `finnstreamd -d` exits non-zero when
 * start-up fails after the fork.  Returns the write end of that pipe in
 * the daemon; the parent never returns.
 */
static int
daemonize(void)
{
	int fds[2], devnull;
	char c = 1;
	pid_t pid;

	if (pipe(fds) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			c = 1;
		_exit(c == 0 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0)
		_exit(0);
	umask(027);
	if ((devnull = open("/dev/null", O_RDWR)) != -1) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	return fds[1];
}

static void
daemon_ready(int fd, int ok)
{
	char c = ok ? 0 : 1;
	int devnull;

	if (fd == -1)
		return;
	if (write(fd, &c, 1) != 1) {
		/* The parent is gone; nothing to tell. */
	}
	close(fd);
	/* stderr stays open until start-up is done, so early errors reach
	 * the terminal; now it goes too. */
	if (ok && (devnull = open("/dev/null", O_RDWR)) != -1) {
		dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
}

/*
 * --verify-store and --dump-store: read the store in data_dir (nothing
 * is changed: a torn tail is reported, the next start cuts it).
 * Returns the exit status.
 */
static int
run_store_tool(const struct config *cfg, const char *what)
{
	size_t n = strlen(cfg->data_dir) + sizeof("/store");
	char *dir = xmalloc(n);
	int rc;

	snprintf(dir, n, "%s/store", cfg->data_dir);
	if (strcmp(what, "verify") == 0)
		rc = colstore_verify(dir, stdout);
	else
		rc = colstore_dump(dir,
		    strcmp(what, "trades") == 0 ? COLFILE_TRADES : COLFILE_BARS,
		    stdout);
	if (rc < 0)
		fprintf(stderr, "store %s: %s\n", dir, err_str(rc));
	fflush(stdout);
	free(dir);
	return rc == 0 ? 0 : 1;
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx *m = arg;

	CHECK_MAGIC(m, MAIN_MAGIC);
	if (m->stopping++) {
		log_warn("second %s: exiting now", strsignal((int)sig));
		exit(1);
	}
	log_info("%s: shutting down", strsignal((int)sig));
	pipeline_stop(m->pipeline);
	event_base_loopexit(m->base, NULL);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx *m = arg;
	struct config *nc;
	int rc;

	CHECK_MAGIC(m, MAIN_MAGIC);
	if ((rc = log_reopen()) != 0)
		log_err("SIGHUP: reopening log_file: %s", err_str(rc));
	log_info("SIGHUP: log reopened, reloading configuration");
	nc = config_new();
	if (m->cfg->config_file != NULL)
		nc->config_file = xstrdup(m->cfg->config_file);
	if (config_load(nc, m->argc, m->argv) != 0) {
		log_err("SIGHUP: configuration has errors (see above); "
		        "keeping the old one");
		config_unref(nc);
		return;
	}
	/* Stages that keep the new config take their own references. */
	pipeline_reload(m->pipeline, nc);
	config_unref(m->cfg);
	m->cfg = nc;
}

int
main(int argc, char **argv)
{
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	struct main_ctx m;
	struct config *cfg;
	char **kv;
	int i, nkv = 0, pidfd = -1, readyfd = -1, rc = 1;
	char *pidpath = NULL;
	const char *store_tool = NULL;

	memset(&m, 0, sizeof(m));
	m.magic = MAIN_MAGIC;
	cfg = m.cfg = config_new();
	kv = xcalloc((size_t)argc + 1, sizeof(*kv));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (strcmp(a, "-V") == 0 ||
		           strcmp(a, "--version") == 0) {
			printf("finnstreamd %s\n", PACKAGE_VERSION);
			rc = 0;
			goto out;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: missing FILE\n", a);
				goto out;
			}
			free(cfg->config_file);
			cfg->config_file = xstrdup(argv[++i]);
		} else if (strncmp(a, "--config=", 9) == 0) {
			free(cfg->config_file);
			cfg->config_file = xstrdup(a + 9);
		} else if (strcmp(a, "-d") == 0) {
			kv[nkv++] = "--daemonize=yes";
		} else if (strcmp(a, "--check-config") == 0) {
			cfg->check_config = 1;
		} else if (strcmp(a, "--verify-store") == 0) {
			store_tool = "verify";
		} else if (strcmp(a, "--dump-store") == 0) {
			if (i + 1 >= argc ||
			    (strcmp(argv[i + 1], "trades") != 0 &&
			        strcmp(argv[i + 1], "bars") != 0)) {
				fprintf(
				    stderr, "--dump-store: trades or bars\n");
				goto out;
			}
			store_tool = argv[++i];
		} else if (strncmp(a, "--", 2) == 0) {
			const struct config_option *o;

			/* --key=value, --key value, or a bare boolean. */
			kv[nkv++] = argv[i];
			if (strchr(a, '=') != NULL || i + 1 >= argc)
				continue;
			o = config_find(a + 2);
			if (o != NULL && o->type == CONFIG_BOOL &&
			    strncmp(argv[i + 1], "-", 1) == 0)
				continue;
			kv[nkv++] = argv[++i];
		} else {
			fprintf(stderr,
			    "finnstreamd: unexpected argument "
			    "\"%s\" (try --help)\n",
			    a);
			goto out;
		}
	}
	m.argv = kv;
	m.argc = nkv;
	if (config_load(cfg, nkv, kv) != 0) {
		fprintf(stderr, "finnstreamd: configuration has errors\n");
		goto out;
	}
	if (cfg->check_config) {
		printf("configuration OK\n");
		rc = 0;
		goto out;
	}
	if (store_tool != NULL) {
		rc = run_store_tool(cfg, store_tool);
		goto out;
	}
	/* A test hook: FINNSTREAM_TEST_FAULTS makes chosen file calls of
	 * the store fail (storage/osfile.h). */
	if (osfile_faults_from_env() != 0) {
		fprintf(stderr, "FINNSTREAM_TEST_FAULTS: bad spec\n");
		goto out;
	}
	log_level = cfg->log_level;
	if (cfg->log_file != NULL && (rc = log_open(cfg->log_file)) != 0) {
		fprintf(
		    stderr, "log_file %s: %s\n", cfg->log_file, err_str(rc));
		goto out;
	}
	rc = 1;
	if (cfg->pidfile != NULL) {
		if ((pidfd = pidfile_open(cfg->pidfile)) < 0)
			goto out;
		pidpath = xstrdup(cfg->pidfile);
	}
	if (cfg->daemonize) {
		readyfd = daemonize();
		if (cfg->log_file == NULL)
			log_open_syslog("finnstreamd");
	}
	if (pidfd != -1 && (i = pidfile_write(pidfd)) != 0) {
		log_err("pidfile %s: %s", pidpath, err_str(i));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Large blocks (request buffers, big responses) are mapped and
	 * unmapped by malloc as they come and go, so resident memory follows
	 * what max_memory counts.  glibc otherwise raises its mmap threshold
	 * after the first such block is freed and serves later ones from the
	 * heap, which keeps their pages after they are freed.
	 */
	mallopt(M_MMAP_THRESHOLD, MAIN_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, 2 * MAIN_MMAP_THRESHOLD);
	log_hook_libs();
	if ((m.base = event_base_new()) == NULL) {
		log_err("event_base_new failed");
		goto out;
	}
	ev_term = evsignal_new(m.base, SIGTERM, on_stop_signal, &m);
	ev_int = evsignal_new(m.base, SIGINT, on_stop_signal, &m);
	ev_hup = evsignal_new(m.base, SIGHUP, on_hup, &m);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) != 0 ||
	    evsignal_add(ev_int, NULL) != 0 ||
	    evsignal_add(ev_hup, NULL) != 0) {
		log_err("cannot install signal handlers");
		goto out;
	}
	if (pipeline_start(m.base, cfg, &m.pipeline) != 0)
		goto out;
	log_info("finnstreamd %s running (pid %ld)", PACKAGE_VERSION,
	    (long)getpid());
	daemon_ready(readyfd, 1);
	readyfd = -1;
	if (event_base_dispatch(m.base) == -1)
		log_err("event loop failed");
	else
		rc = 0;
	pipeline_free(m.pipeline);
	m.pipeline = NULL;
	log_info("stopped");
out:
	daemon_ready(readyfd, 0);
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_hup != NULL)
		event_free(ev_hup);
	if (m.base != NULL)
		event_base_free(m.base);
	if (pidfd != -1) {
		unlink(pidpath);
		close(pidfd);
	}
	free(pidpath);
	config_unref(m.cfg);
	free(kv);
	log_close();
	return rc;
}
