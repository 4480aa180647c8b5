/*
 * groupstore.c: (2) committed consumer offsets, in memory and in one
 * state file (format and invariants: groupstore.h).
 *
 * Shape:
 *
 *	groupstore --groups[], sorted by id--> gs_group
 *	gs_group --entries[], sorted by (topic, partition)--> entry
 *
 * Lookups are two binary searches; a new group or entry is a memmove in
 * its sorted array (commits of a known partition, the common case,
 * overwrite in place).  The file is rewritten whole on every sync that
 * has something to write: it holds one line's worth per partition a
 * group consumes, small next to the cost of the fsync itself.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "base/xmalloc.h"
#include "proto/rbuf.h"
#include "proto/wbuf.h"
#include "storage/groupstore.h"
#include "storage/osfile.h"
#include "storage/seglog.h"

#define GS_MAGIC     "finnstream-grp 1"
#define GS_MAGIC_LEN 16

struct gs_group {
	char *id;
	size_t idlen;
	struct groupstore_entry *e; /* sorted (invariant 1) */
	size_t n;
	size_t cap;
};

struct groupstore {
	char *path;
	struct gs_group **g; /* sorted by id */
	size_t ng;
	size_t gcap;
	size_t nentries;
	int dirty;
	uint64_t writes;
	uint64_t version; /* changes staged so far */
};

/* Entries hand out const views of strings the store owns and frees. */
static void
free_owned(const char *p)
{
	union {
		const char *c;
		char *m;
	} u;

	u.c = p;
	free(u.m);
}

/* ------------------------------------------------------------------ */
/* Lookup */

static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Index of group id, or -(insertion point) - 1. */
static long
group_find(const struct groupstore *gs, const char *id, size_t len)
{
	size_t lo = 0, hi = gs->ng;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bytes_cmp(gs->g[mid]->id, gs->g[mid]->idlen, id, len);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static int
entry_cmp(const struct groupstore_entry *e, const char *topic, size_t tlen,
    int32_t part)
{
	int c = bytes_cmp(e->topic, strlen(e->topic), topic, tlen);

	if (c != 0)
		return c;
	return e->partition < part ? -1 : e->partition > part ? 1 : 0;
}

static long
entry_find(
    const struct gs_group *g, const char *topic, size_t tlen, int32_t part)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = entry_cmp(&g->e[mid], topic, tlen, part);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

int
groupstore_get(const struct groupstore *gs, const char *group, size_t glen,
    const char *topic, size_t tlen, int32_t partition,
    struct groupstore_commit *out)
{
	long gi, ei;

	if ((gi = group_find(gs, group, glen)) < 0)
		return 0;
	if ((ei = entry_find(gs->g[gi], topic, tlen, partition)) < 0)
		return 0;
	*out = gs->g[gi]->e[ei].c;
	return 1;
}

const char *
groupstore_group_at(const struct groupstore *gs, size_t idx)
{
	return idx < gs->ng ? gs->g[idx]->id : NULL;
}

size_t
groupstore_entries(const struct groupstore *gs, const char *group, size_t glen,
    const struct groupstore_entry **out)
{
	long gi = group_find(gs, group, glen);

	if (gi < 0) {
		*out = NULL;
		return 0;
	}
	*out = gs->g[gi]->e;
	return gs->g[gi]->n;
}

void
groupstore_get_stats(const struct groupstore *gs, struct groupstore_stats *out)
{
	out->writes = gs->writes;
	out->entries = gs->nentries;
	out->groups = gs->ng;
}

/* ------------------------------------------------------------------ */
/* Changes */

static int
commit_same(
    const struct groupstore_commit *a, const struct groupstore_commit *b)
{
	return a->offset == b->offset && a->leader_epoch == b->leader_epoch &&
	       a->metadata_len == b->metadata_len &&
	       (a->metadata_len <= 0 || memcmp(a->metadata, b->metadata,
	                                    (size_t)a->metadata_len) == 0);
}

/* Replace e's commit with a copy of c. */
static void
commit_set(struct groupstore_entry *e, const struct groupstore_commit *c)
{
	char *md = NULL;

	if (c->metadata_len >= 0) {
		/* NUL-terminated too, for log lines. */
		md = xmalloc((size_t)c->metadata_len + 1);
		if (c->metadata_len > 0)
			memcpy(md, c->metadata, (size_t)c->metadata_len);
		md[c->metadata_len] = '\0';
	}
	free_owned(e->c.metadata);
	e->c = *c;
	e->c.metadata = md;
}

static struct gs_group *
group_insert(struct groupstore *gs, size_t at, const char *id, size_t len)
{
	struct gs_group *g;

	if (gs->ng == gs->gcap) {
		gs->gcap = gs->gcap ? gs->gcap * 2 : 16;
		gs->g = xreallocarray(gs->g, gs->gcap, sizeof(*gs->g));
	}
	g = xcalloc(1, sizeof(*g));
	g->id = xstrndup(id, len);
	g->idlen = len;
	memmove(&gs->g[at + 1], &gs->g[at], (gs->ng - at) * sizeof(*gs->g));
	gs->g[at] = g;
	gs->ng++;
	return g;
}

static struct groupstore_entry *
entry_insert(
    struct gs_group *g, size_t at, const char *topic, size_t tlen, int32_t part)
{
	struct groupstore_entry *e;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 8;
		g->e = xreallocarray(g->e, g->cap, sizeof(*g->e));
	}
	memmove(&g->e[at + 1], &g->e[at], (g->n - at) * sizeof(*g->e));
	e = &g->e[at];
	memset(e, 0, sizeof(*e));
	e->topic = xstrndup(topic, tlen);
	e->partition = part;
	e->c.metadata_len = -1;
	g->n++;
	return e;
}

static int
put_check(const char *group, size_t glen, const char *topic, size_t tlen,
    int32_t partition, const struct groupstore_commit *c)
{
	if (glen == 0 || glen > GROUPSTORE_MAX_GROUP_ID ||
	    memchr(group, '\0', glen) != NULL ||
	    !seglog_topic_name_valid(topic, tlen) || partition < 0 ||
	    c->metadata_len < -1 || c->metadata_len > GROUPSTORE_MAX_METADATA)
		return ERR_RANGE;
	return 0;
}

int
groupstore_put(struct groupstore *gs, const char *group, size_t glen,
    const char *topic, size_t tlen, int32_t partition,
    const struct groupstore_commit *c)
{
	struct gs_group *g;
	struct groupstore_entry *e;
	long gi, ei;
	int rc;

	if ((rc = put_check(group, glen, topic, tlen, partition, c)) != 0)
		return rc;
	gi = group_find(gs, group, glen);
	if (gi >= 0) {
		g = gs->g[gi];
		ei = entry_find(g, topic, tlen, partition);
		if (ei >= 0) {
			e = &g->e[ei];
			if (commit_same(&e->c, c)) {
				/* Clients recommit unchanged offsets: no
				 * write for those (the time is advisory). */
				return 0;
			}
			commit_set(e, c);
			gs->dirty = 1;
			gs->version++;
			return 0;
		}
	}
	if (gs->nentries >= GROUPSTORE_MAX_ENTRIES)
		return ERR_TOO_BIG;
	if (gi < 0) {
		if (gs->ng >= GROUPSTORE_MAX_GROUPS)
			return ERR_TOO_BIG;
		g = group_insert(gs, (size_t)(-gi - 1), group, glen);
		ei = -1;
	} else {
		ei = entry_find(g, topic, tlen, partition);
	}
	e = entry_insert(g, (size_t)(-ei - 1), topic, tlen, partition);
	commit_set(e, c);
	gs->nentries++;
	gs->dirty = 1;
	gs->version++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The file image */

void
groupstore_encode(const struct groupstore *gs, struct wbuf *w)
{
	size_t start = w->len, i, k;

	wbuf_put(w, GS_MAGIC, GS_MAGIC_LEN);
	wbuf_u32(w, (uint32_t)gs->ng);
	for (i = 0; i < gs->ng; i++) {
		const struct gs_group *g = gs->g[i];

		wbuf_u16(w, (uint16_t)g->idlen);
		wbuf_put(w, g->id, g->idlen);
		wbuf_u32(w, (uint32_t)g->n);
		for (k = 0; k < g->n; k++) {
			const struct groupstore_entry *e = &g->e[k];
			size_t tlen = strlen(e->topic);

			wbuf_u16(w, (uint16_t)tlen);
			wbuf_put(w, e->topic, tlen);
			wbuf_i32(w, e->partition);
			wbuf_i64(w, e->c.offset);
			wbuf_i32(w, e->c.leader_epoch);
			wbuf_i64(w, e->c.commit_ms);
			wbuf_i16(w, (int16_t)e->c.metadata_len);
			if (e->c.metadata_len > 0)
				wbuf_put(w, e->c.metadata,
				    (size_t)e->c.metadata_len);
		}
	}
	if (w->err == 0)
		wbuf_u32(w, crc32c(0, w->buf + start, w->len - start));
}

/* Free every group and entry (the store is empty afterwards). */
static void
gs_clear(struct groupstore *gs)
{
	size_t i, k;

	for (i = 0; i < gs->ng; i++) {
		struct gs_group *g = gs->g[i];

		for (k = 0; k < g->n; k++) {
			free_owned(g->e[k].topic);
			free_owned(g->e[k].c.metadata);
		}
		free(g->e);
		free(g->id);
		free(g);
	}
	free(gs->g);
	gs->g = NULL;
	gs->ng = gs->gcap = 0;
	gs->nentries = 0;
}

/* One group of the image; appended after the last group loaded. */
static int
decode_group(struct groupstore *gs, struct rbuf *r)
{
	struct gs_group *g;
	const char *id, *topic, *prev_topic = NULL;
	size_t idlen, tlen, prev_tlen = 0;
	uint32_t ne, k;
	int32_t part, prev_part = -1;
	struct groupstore_commit c;

	idlen = rbuf_u16(r);
	id = (const char *)rbuf_bytes(r, idlen);
	ne = rbuf_u32(r);
	if (r->err || idlen == 0 || idlen > GROUPSTORE_MAX_GROUP_ID ||
	    memchr(id, '\0', idlen) != NULL || ne == 0 ||
	    ne > GROUPSTORE_MAX_ENTRIES - gs->nentries)
		return ERR_MALFORMED;
	/* Strictly increasing ids: duplicates and disorder are damage. */
	if (gs->ng > 0 && bytes_cmp(gs->g[gs->ng - 1]->id,
	                      gs->g[gs->ng - 1]->idlen, id, idlen) >= 0)
		return ERR_MALFORMED;
	g = group_insert(gs, gs->ng, id, idlen);
	for (k = 0; k < ne; k++) {
		struct groupstore_entry *e;

		tlen = rbuf_u16(r);
		topic = (const char *)rbuf_bytes(r, tlen);
		part = rbuf_i32(r);
		c.offset = rbuf_i64(r);
		c.leader_epoch = rbuf_i32(r);
		c.commit_ms = rbuf_i64(r);
		c.metadata_len = rbuf_i16(r);
		c.metadata = NULL;
		if (!r->err && c.metadata_len > 0)
			c.metadata =
			    (const char *)rbuf_bytes(r, (size_t)c.metadata_len);
		if (r->err || put_check(id, idlen, topic, tlen, part, &c) != 0)
			return ERR_MALFORMED;
		if (prev_topic != NULL &&
		    (bytes_cmp(prev_topic, prev_tlen, topic, tlen) > 0 ||
		        (bytes_cmp(prev_topic, prev_tlen, topic, tlen) == 0 &&
		            prev_part >= part)))
			return ERR_MALFORMED;
		e = entry_insert(g, g->n, topic, tlen, part);
		commit_set(e, &c);
		gs->nentries++;
		prev_topic = e->topic;
		prev_tlen = tlen;
		prev_part = part;
	}
	return 0;
}

int
groupstore_decode(struct groupstore *gs, const uint8_t *p, size_t n)
{
	struct rbuf r;
	uint32_t ng, i, want;
	int rc = ERR_MALFORMED;

	if (gs->ng != 0 || n < GS_MAGIC_LEN + 4 + 4 ||
	    memcmp(p, GS_MAGIC, GS_MAGIC_LEN) != 0)
		return ERR_MALFORMED;
	want = (uint32_t)p[n - 4] << 24 | (uint32_t)p[n - 3] << 16 |
	       (uint32_t)p[n - 2] << 8 | p[n - 1];
	if (crc32c(0, p, n - 4) != want)
		return ERR_MALFORMED;
	rbuf_init(&r, p + GS_MAGIC_LEN, n - GS_MAGIC_LEN - 4);
	ng = rbuf_u32(&r);
	if (r.err || ng > GROUPSTORE_MAX_GROUPS)
		goto out;
	for (i = 0; i < ng; i++)
		if (decode_group(gs, &r) != 0)
			goto out;
	if (r.err || rbuf_left(&r) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		gs_clear(gs);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files */

uint64_t
groupstore_version(const struct groupstore *gs)
{
	return gs->version;
}

const char *
groupstore_path(const struct groupstore *gs)
{
	return gs->path;
}

int
groupstore_snapshot(
    struct groupstore *gs, uint8_t **buf, size_t *len, uint64_t *version)
{
	struct wbuf w;

	wbuf_init(&w, GROUPSTORE_MAX_FILE);
	groupstore_encode(gs, &w);
	if (w.err != 0) {
		int rc = w.err;

		wbuf_fini(&w);
		return rc;
	}
	*buf = w.buf; /* the caller's now */
	*len = w.len;
	*version = gs->version;
	return 0;
}

void
groupstore_written(struct groupstore *gs, uint64_t version)
{
	gs->writes++;
	if (version == gs->version)
		gs->dirty = 0;
}

int
groupstore_sync(struct groupstore *gs)
{
	struct wbuf w;
	int rc;

	if (!gs->dirty)
		return 0;
	if (gs->path == NULL) {
		gs->dirty = 0;
		return 0;
	}
	wbuf_init(&w, GROUPSTORE_MAX_FILE);
	groupstore_encode(gs, &w);
	rc = w.err != 0 ? w.err : osfile_write_atomic(gs->path, w.buf, w.len);
	if (rc == 0) {
		gs->writes++;
		gs->dirty = 0;
	}
	wbuf_fini(&w);
	return rc;
}

static int
load_file(struct groupstore *gs)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = osfile_read_all(gs->path, GROUPSTORE_MAX_FILE, &buf, &len);
	if (rc == -ENOENT)
		return 0; /* a first start */
	if (rc == 0)
		rc = groupstore_decode(gs, buf, len);
	free(buf);
	return rc;
}

int
groupstore_open(const char *path, struct groupstore **out)
{
	struct groupstore *gs;
	int rc;

	gs = xcalloc(1, sizeof(*gs));
	if (path != NULL) {
		gs->path = xstrdup(path);
		if ((rc = load_file(gs)) != 0) {
			groupstore_free(gs);
			return rc;
		}
	}
	*out = gs;
	return 0;
}

void
groupstore_free(struct groupstore *gs)
{
	if (gs == NULL)
		return;
	gs_clear(gs);
	free(gs->path);
	free(gs);
}
