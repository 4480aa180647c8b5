/*
 * store_writer.c: (4) the store's writer thread (see store_writer.h).
 *
 * Invariants:
 *  1. Jobs run one at a time, in the order queued, except that a lease
 *     write runs before any flush, compaction or retirement still
 *     waiting.
 *  2. A job's completion is queued before the thread takes the next job,
 *     and completions are delivered on the loop thread in that order; a
 *     release has none (it is done when its chunks are freed).
 *  3. busy counts queued and running non-lease jobs; leases counts
 *     queued and running lease jobs; both change under the mutex, and
 *     the condition variable is broadcast whenever either drops.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "server/log.h"
#include "server/stats.h"
#include "server/store/store_writer.h"
#include "storage/osfile.h"

#define STORE_WRITER_MAGIC 0x73777274

struct job {
	struct job *next;
	int kind;
	/* flush */
	struct agg_chunk **chunks;
	uint64_t *seqs;
	size_t n;
	int64_t now_ms;
	/* retire */
	int table;
	uint32_t day;
	/* lease */
	const char *path;
	uint8_t *buf;
	size_t len;
	uint64_t tag;
	void (*file_done)(void *arg, int rc); /* a file: not lease_done */
	void *file_arg;
	/* outcome */
	int rc;
	struct colstore_done done;
};

struct jobq {
	struct job *head, *tail;
};

struct store_writer {
	unsigned magic;
	struct colstore_writer *wr;
	struct store_writer_cb cb;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* jobs queued, or stop */
	pthread_cond_t idle; /* busy or leases dropped (invariant 3) */
	struct jobq jobs, leases, completed;
	size_t busy, leases_left;
	int stop;
	int pipe[2];
	struct event *ev;
};

static void
q_push(struct jobq *q, struct job *j)
{
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct job *
q_pop(struct jobq *q)
{
	struct job *j = q->head;

	if (j != NULL) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return j;
}

static void
job_free(struct job *j)
{
	if (j->kind == STORE_JOB_RELEASE) /* not run: stopped before it */
		while (j->n > 0)
			agg_chunk_free(j->chunks[--j->n]);
	free(j->chunks);
	free(j->seqs);
	free(j->buf);
	colstore_done_fini(&j->done);
	free(j);
}

static void
run(struct store_writer *sw, struct job *j)
{
	switch (j->kind) {
	case STORE_JOB_FLUSH:
		j->rc = colstore_writer_flush(
		    sw->wr, j->chunks, j->seqs, j->n, j->now_ms, &j->done);
		break;
	case STORE_JOB_COMPACT:
		j->rc = colstore_writer_compact(sw->wr, &j->done);
		break;
	case STORE_JOB_RETIRE:
		j->rc =
		    colstore_writer_retire(sw->wr, j->table, j->day, &j->done);
		break;
	case STORE_JOB_LEASE:
		j->rc = osfile_write_atomic(j->path, j->buf, j->len);
		free(j->buf);
		j->buf = NULL;
		break;
	case STORE_JOB_RELEASE:
		while (j->n > 0)
			agg_chunk_free(j->chunks[--j->n]);
		break;
	}
}

static void *
thread_main(void *arg)
{
	struct store_writer *sw = arg;
	struct job *j;
	char c = 1;

	pthread_mutex_lock(&sw->mu);
	for (;;) {
		while (!sw->stop && sw->jobs.head == NULL &&
		       sw->leases.head == NULL)
			pthread_cond_wait(&sw->cond, &sw->mu);
		if ((j = q_pop(&sw->leases)) == NULL)
			j = q_pop(&sw->jobs); /* invariant 1 */
		if (j == NULL)
			break; /* stop, and nothing left */
		pthread_mutex_unlock(&sw->mu);
		run(sw, j);
		if (j->kind == STORE_JOB_RELEASE) {
			job_free(j);
			pthread_mutex_lock(&sw->mu);
			sw->busy--;
			pthread_cond_broadcast(&sw->idle);
			continue;
		}
		pthread_mutex_lock(&sw->mu);
		q_push(&sw->completed, j); /* invariant 2 */
		if (j->kind == STORE_JOB_LEASE)
			sw->leases_left--;
		else
			sw->busy--;
		pthread_cond_broadcast(&sw->idle);
		/* A full pipe already holds a wake-up. */
		if (write(sw->pipe[1], &c, 1) == -1) {
			/* EAGAIN: nothing to add */
		}
	}
	pthread_mutex_unlock(&sw->mu);
	return NULL;
}

/* Deliver completed jobs (leases only, or all) on the loop thread. */
static void
deliver(struct store_writer *sw, int leases_only)
{
	struct jobq mine = {NULL, NULL}, keep = {NULL, NULL};
	struct job *j;

	pthread_mutex_lock(&sw->mu);
	while ((j = q_pop(&sw->completed)) != NULL) {
		if (leases_only && j->kind != STORE_JOB_LEASE)
			q_push(&keep, j);
		else
			q_push(&mine, j);
	}
	sw->completed = keep;
	pthread_mutex_unlock(&sw->mu);
	while ((j = q_pop(&mine)) != NULL) {
		if (j->kind == STORE_JOB_LEASE && j->file_done != NULL) {
			j->file_done(j->file_arg, j->rc);
		} else if (j->kind == STORE_JOB_LEASE) {
			if (sw->cb.lease_done != NULL)
				sw->cb.lease_done(sw->cb.arg, j->tag, j->rc);
		} else if (sw->cb.done != NULL) {
			sw->cb.done(sw->cb.arg, j->kind, &j->done);
		}
		job_free(j);
	}
}

static void
on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct store_writer *sw = arg;
	int64_t t0 = stats_loop_begin();
	char buf[64];

	CHECK_MAGIC(sw, STORE_WRITER_MAGIC);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	deliver(sw, 0);
	stats_loop_end(LOOP_STORE, t0);
}

int
store_writer_start(struct event_base *base, struct colstore_writer *wr,
    const struct store_writer_cb *cb, struct store_writer **out)
{
	struct store_writer *sw = xcalloc(1, sizeof(*sw));
	int rc, i;

	sw->magic = STORE_WRITER_MAGIC;
	sw->wr = wr;
	sw->cb = *cb;
	sw->pipe[0] = sw->pipe[1] = -1;
	pthread_mutex_init(&sw->mu, NULL);
	pthread_cond_init(&sw->cond, NULL);
	pthread_cond_init(&sw->idle, NULL);
	if (pipe(sw->pipe) == -1) {
		rc = -errno;
		goto fail;
	}
	for (i = 0; i < 2; i++)
		if (fcntl(sw->pipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(sw->pipe[i], F_SETFD, FD_CLOEXEC) == -1) {
			rc = -errno;
			goto fail;
		}
	sw->ev =
	    event_new(base, sw->pipe[0], EV_READ | EV_PERSIST, on_pipe, sw);
	if (sw->ev == NULL || event_add(sw->ev, NULL) != 0) {
		rc = ERR_NOMEM;
		goto fail;
	}
	if ((rc = pthread_create(&sw->thread, NULL, thread_main, sw)) != 0) {
		rc = -rc;
		goto fail;
	}
	sw->started = 1;
	*out = sw;
	return 0;
fail:
	store_writer_stop(sw);
	return rc;
}

static struct job *
job_new(int kind)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	return j;
}

static void
submit(struct store_writer *sw, struct job *j)
{
	pthread_mutex_lock(&sw->mu);
	if (j->kind == STORE_JOB_LEASE) {
		q_push(&sw->leases, j);
		sw->leases_left++;
	} else {
		q_push(&sw->jobs, j);
		sw->busy++;
	}
	pthread_cond_signal(&sw->cond);
	pthread_mutex_unlock(&sw->mu);
}

void
store_writer_flush(struct store_writer *sw, struct agg_chunk *const *chunks,
    const uint64_t *seqs, size_t n, int64_t now_ms)
{
	struct job *j = job_new(STORE_JOB_FLUSH);

	ASSERT(n > 0);
	j->chunks = xreallocarray(NULL, n, sizeof(*j->chunks));
	j->seqs = xreallocarray(NULL, n, sizeof(*j->seqs));
	memcpy(j->chunks, chunks, n * sizeof(*j->chunks));
	memcpy(j->seqs, seqs, n * sizeof(*j->seqs));
	j->n = n;
	j->now_ms = now_ms;
	submit(sw, j);
}

void
store_writer_compact(struct store_writer *sw)
{
	submit(sw, job_new(STORE_JOB_COMPACT));
}

void
store_writer_release(
    struct store_writer *sw, struct agg_chunk *const *chunks, size_t n)
{
	struct job *j = job_new(STORE_JOB_RELEASE);

	ASSERT(n > 0);
	j->chunks = xreallocarray(NULL, n, sizeof(*j->chunks));
	memcpy(j->chunks, chunks, n * sizeof(*j->chunks));
	j->n = n;
	submit(sw, j);
}

void
store_writer_retire(struct store_writer *sw, int table, uint32_t floor_day)
{
	struct job *j = job_new(STORE_JOB_RETIRE);

	j->table = table;
	j->day = floor_day;
	submit(sw, j);
}

void
store_writer_lease(struct store_writer *sw, const char *path, uint8_t *buf,
    size_t n, uint64_t tag)
{
	struct job *j = job_new(STORE_JOB_LEASE);

	j->path = path;
	j->buf = buf;
	j->len = n;
	j->tag = tag;
	submit(sw, j);
}

void
store_writer_file(struct store_writer *sw, const char *path, uint8_t *buf,
    size_t n, void (*done)(void *arg, int rc), void *arg)
{
	struct job *j = job_new(STORE_JOB_LEASE);

	j->path = path;
	j->buf = buf;
	j->len = n;
	j->file_done = done;
	j->file_arg = arg;
	submit(sw, j);
}

void
store_writer_wait_leases(struct store_writer *sw)
{
	pthread_mutex_lock(&sw->mu);
	while (sw->leases_left > 0)
		pthread_cond_wait(&sw->idle, &sw->mu);
	pthread_mutex_unlock(&sw->mu);
	deliver(sw, 1);
}

void
store_writer_drain(struct store_writer *sw)
{
	pthread_mutex_lock(&sw->mu);
	while (sw->busy > 0 || sw->leases_left > 0)
		pthread_cond_wait(&sw->idle, &sw->mu);
	pthread_mutex_unlock(&sw->mu);
	deliver(sw, 0);
}

size_t
store_writer_busy(struct store_writer *sw)
{
	size_t n;

	pthread_mutex_lock(&sw->mu);
	n = sw->busy;
	pthread_mutex_unlock(&sw->mu);
	return n;
}

void
store_writer_stop(struct store_writer *sw)
{
	struct job *j;

	if (sw == NULL)
		return;
	if (sw->started) {
		store_writer_drain(sw);
		pthread_mutex_lock(&sw->mu);
		sw->stop = 1;
		pthread_cond_signal(&sw->cond);
		pthread_mutex_unlock(&sw->mu);
		pthread_join(sw->thread, NULL);
		deliver(sw, 0);
	}
	while ((j = q_pop(&sw->jobs)) != NULL)
		job_free(j);
	while ((j = q_pop(&sw->leases)) != NULL)
		job_free(j);
	if (sw->ev != NULL)
		event_free(sw->ev);
	if (sw->pipe[0] >= 0)
		close(sw->pipe[0]);
	if (sw->pipe[1] >= 0)
		close(sw->pipe[1]);
	pthread_mutex_destroy(&sw->mu);
	pthread_cond_destroy(&sw->cond);
	pthread_cond_destroy(&sw->idle);
	sw->magic = 0;
	free(sw);
}
