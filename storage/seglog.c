/*
 * seglog.c: (2) the partitioned log, in memory, with persisted offsets.
 *
 * Shape:
 *
 *	seglog --hash/array--> topic --parts[npart]--> part
 *	part --segs[head .. head+nsegs), oldest first--> seg
 *	seg = buf (whole batches back to back) + idx[] (one entry per batch)
 *
 * Invariants (beyond those of seglog.h):
 *  1. Offsets in a partition are dense: each batch's base offset is the
 *     previous batch's base + lastOffsetDelta + 1, so seg[k]->end ==
 *     seg[k+1]->base and part->start == segs[head]->base (== part->end
 *     when the partition holds no segment).
 *  2. A segment's buf never moves or shrinks once allocated: spans handed
 *     to the socket point into it.  Only its len grows, and only while it
 *     is the partition's last (active) segment.
 *  3. idx[i].max_ts is the running maximum of maxTimestamp over every
 *     batch of the partition up to batch i, so it is sorted and a time
 *     lookup is a binary search like an offset lookup.
 *  4. The partition holds one reference on each of its segments; a reader
 *     that keeps a span holds another.  refs == 0 frees the segment.
 *  5. With a state file, part->end never passes part->lease, and every
 *     lease is on disk before an offset below it is handed out.
 *     part->lease is the lease confirmed on disk; part->lease_sent the
 *     one in a write not yet confirmed (never below part->lease).
 *
 * Lease writes (the state file) happen in one of two ways.  Without
 * lease I/O (tests, benchmarks) seglog_append writes and fsyncs the file
 * itself when an append would pass its partition's lease.  With lease
 * I/O (the daemon: seglog_set_lease_io), the write moves to the store's
 * writer thread: when a partition has used half of its lease, the log
 * hands over the state with every partition's lease raised to end +
 * SEGLOG_LEASE, without waiting, and takes the new leases when
 * seglog_lease_done reports the file on disk.  One such write is in
 * flight at a time.  An append that would still pass its confirmed lease
 * (the disk took longer than half a lease's worth of offsets, or a new
 * topic's first append) waits for the write in flight, through the I/O's
 * wait hook, rather than being refused: a refused append would lose the
 * feed's trades, while a wait costs only time, and only on a disk that
 * is already far behind (the wait is counted in lease_waits).  So
 * invariant 5 holds with either: no offset is handed out above a lease
 * that is not on disk.
 *  6. Every segment in a partition holds at least one batch: a segment is
 *     pushed only by the append that fills it, in the same call.
 *  7. Every segment in a partition is on the log's age list, which runs
 *     oldest to newest across all topics in the order segments were
 *     pushed; a segment leaves the list when it leaves its partition.
 *     So the list's head is the oldest segment of its own partition, and
 *     dropping it keeps invariant 1.
 *  8. With a budget, every byte of batch data and index a segment holds is
 *     charged to it, from the append until the segment is freed (which a
 *     reader's reference may delay past its leaving the partition).
 *
 * Memory: segment buffers are mapped pages of their own (anonymous
 * mmap, munmap at free), so a freed segment goes back to the system and
 * the unused tail of a segment costs no resident memory; heap allocation
 * of megabyte blocks let freed memory linger (glibc raises its mmap
 * threshold after the first free and serves later blocks from the heap).
 * The last SEGLOG_FREE_SEGS freed segments of the usual size are kept for
 * reuse instead: in steady state retention frees a segment for every one
 * appends fill, and touching fresh pages cost the feed's path more than
 * parsing did.  Sanitizer builds use malloc so overflows are still
 * caught.
 *
 * Retention by bytes runs at append time on the partition appended to;
 * retention by age walks the age list from its head, a bounded number of
 * segments per call; the budget evicts from the head of the age list.
 * None of them visits every partition.
 *
 * Work per append and per read is per batch, never per record: append
 * copies the batch, stamps baseOffset and adds one index entry; read is
 * two binary searches per segment touched.
 *
 * State file (text, LF line ends, written whole to PATH.tmp, fsync()ed,
 * rename()d over PATH, then the directory fsync()ed):
 *
 *	finnstream-seglog 1
 *	topic NAME NPART LEASE_0 LEASE_1 ... LEASE_NPART-1
 *	... one line per topic ...
 *	crc32c XXXXXXXX
 *
 * NAME is a legal topic name (no spaces possible), NPART in
 * 1..SEGLOG_MAX_PARTITIONS, each LEASE a decimal offset >= 0: the offset
 * that partition starts at after a restart.  The last line holds the
 * CRC-32C (storage/crc32c.h) of every byte before it, as 8 lower-case hex
 * digits.  A file that does not parse exactly, or whose CRC does not
 * match, is refused (ERR_MALFORMED): offsets must never go back, so the
 * log does not guess.
 */
#include <config.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/membudget.h"
#include "base/xmalloc.h"
#include "proto/kafka_records.h"
#include "proto/wbuf.h"
#include "storage/osfile.h"
#include "storage/seglog.h"

#define SEGLOG_HASH        1024        /* topic hash buckets */
#define SEGLOG_MAX_STATE   (64u << 20) /* bigger state files are refused */
#define SEGLOG_STATE_MAGIC "finnstream-seglog 1\n"
#define SEG_MAGIC          0x5345474du

/* Sanitizer builds allocate segments on the heap (see the top). */
#if defined(__SANITIZE_ADDRESS__)
#define SEG_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEG_HEAP 1
#endif
#endif

struct seglog_idx {
	int64_t base;   /* the batch's base offset */
	int64_t max_ts; /* running max of maxTimestamp (invariant 3) */
	size_t pos;     /* where the batch starts in buf */
};

_Static_assert(sizeof(struct seglog_idx) <= SEGLOG_BATCH_OVERHEAD,
    "the budget charges SEGLOG_BATCH_OVERHEAD per batch for its index");

struct seglog_seg {
	unsigned magic;
	int refs;
	struct seglog *sl; /* whose free list takes it back */
	struct seglog_seg *next_free;
	struct seglog_part *part; /* NULL once it left its partition */
	struct seglog_seg *older; /* the age list (invariant 7) */
	struct seglog_seg *newer;
	struct membudget *budget; /* what charged holds is charged to */
	size_t charged;
	int64_t base;     /* offset of the first batch */
	int64_t end;      /* offset after the last batch */
	int64_t first_ms; /* append time of the first batch */
	int64_t last_ms;  /* append time of the newest batch */
	uint8_t *buf;
	size_t len;
	size_t cap;
	struct seglog_idx *idx;
	size_t nidx;
	size_t idxcap;
};

struct seglog_part {
	struct seglog_topic *topic;
	struct seglog_seg **segs; /* live window: [head, head + nsegs) */
	size_t head;
	size_t nsegs;
	size_t cap;
	int64_t start;
	int64_t end;
	int64_t lease;      /* on disk (invariant 5) */
	int64_t lease_sent; /* in the write in flight, or 0 */
	int64_t max_ts;     /* running max over every batch appended */
	size_t bytes;
};

struct seglog_topic {
	struct seglog *sl;
	struct seglog_topic *hnext;
	char name[SEGLOG_MAX_TOPIC_NAME + 1];
	size_t namelen;
	int npart;
	struct seglog_part *parts;
};

struct seglog {
	struct seglog_limits lim;
	char *state_path;
	struct seglog_topic **topics; /* creation order */
	size_t ntopics;
	size_t topicscap;
	struct seglog_topic *hash[SEGLOG_HASH];
	struct seglog_seg *oldest; /* the age list (invariant 7) */
	struct seglog_seg *newest;
	seglog_append_hook hook;
	void *hook_arg;
	struct seglog_lease_io io; /* io.write NULL: leases written here */
	int lease_busy;            /* a write is in flight */
	int lease_err;             /* of the last write that failed */
	uint64_t lease_tag;
	struct seglog_seg *free_segs; /* freed, kept for reuse */
	int nfree;
	size_t live; /* segments not freed: in partitions or read */
	struct seglog_stats st;
};

/* ------------------------------------------------------------------ */
/* Small helpers */

static unsigned
name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 16777619u;
	}
	return h % SEGLOG_HASH;
}

static struct seglog_part *
part_get(const struct seglog_topic *t, int part)
{
	if (t == NULL || part < 0 || part >= t->npart)
		return NULL;
	return &t->parts[part];
}

static struct seglog_seg *
part_seg(const struct seglog_part *p, size_t k)
{
	return p->segs[p->head + k];
}

/* End position in buf of batch i of s. */
static size_t
batch_end(const struct seglog_seg *s, size_t i)
{
	return i + 1 < s->nidx ? s->idx[i + 1].pos : s->len;
}

/* Offset after batch i of s. */
static int64_t
batch_next(const struct seglog_seg *s, size_t i)
{
	return i + 1 < s->nidx ? s->idx[i + 1].base : s->end;
}

/* Index (in the live window) of the segment holding offset: the last one
 * whose base <= offset.  The caller checked start <= offset < end. */
static size_t
find_seg(const struct seglog_part *p, int64_t offset)
{
	size_t lo = 0, hi = p->nsegs; /* answer in [lo, hi) */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (part_seg(p, mid)->base <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The batch of s holding offset: the last entry whose base <= offset. */
static size_t
find_batch(const struct seglog_seg *s, int64_t offset)
{
	size_t lo = 0, hi = s->nidx;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->idx[mid].base <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* ------------------------------------------------------------------ */
/* Segments */

/* Take a segment of cap bytes from sl's free list, or allocate one. */
static struct seglog_seg *
seg_new(struct seglog *sl, size_t cap)
{
	struct seglog_seg *s;
	uint8_t *buf;

	if (cap == sl->lim.segment_bytes && (s = sl->free_segs) != NULL) {
		sl->free_segs = s->next_free;
		sl->nfree--;
		s->next_free = NULL;
		s->magic = SEG_MAGIC;
		s->refs = 1;
		sl->live++;
		return s;
	}
	/* cap comes from a batch size (bounded by max_batch_bytes) or the
	 * configured segment size: a refused allocation is an error, not an
	 * abort. */
#ifdef SEG_HEAP
	if ((buf = malloc(cap)) == NULL)
		return NULL;
#else
	buf = mmap(NULL, cap, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
#endif
	s = xcalloc(1, sizeof(*s));
	s->magic = SEG_MAGIC;
	s->refs = 1;
	s->sl = sl;
	s->buf = buf;
	s->cap = cap;
	sl->live++;
	return s;
}

static void
seg_destroy(struct seglog_seg *s)
{
#ifdef SEG_HEAP
	free(s->buf);
#else
	munmap(s->buf, s->cap);
#endif
	free(s->idx);
	free(s);
}

void
seglog_seg_ref(struct seglog_seg *s)
{
	CHECK_MAGIC(s, SEG_MAGIC);
	ASSERT(s->refs > 0);
	s->refs++;
}

void
seglog_seg_unref(struct seglog_seg *s)
{
	struct seglog *sl;

	CHECK_MAGIC(s, SEG_MAGIC);
	ASSERT(s->refs > 0);
	if (--s->refs > 0)
		return;
	ASSERT(s->part == NULL);
	s->magic = 0;
	if (s->budget != NULL)
		membudget_release(s->budget, s->charged);
	sl = s->sl;
	sl->live--;
	if (s->cap != sl->lim.segment_bytes || sl->nfree >= SEGLOG_FREE_SEGS) {
		seg_destroy(s);
		return;
	}
	/* Kept whole, index array included, for the next segment. */
	s->budget = NULL;
	s->charged = 0;
	s->base = s->end = 0;
	s->first_ms = s->last_ms = 0;
	s->len = 0;
	s->nidx = 0;
	s->next_free = sl->free_segs;
	sl->free_segs = s;
	sl->nfree++;
}

static void
seg_add_idx(struct seglog_seg *s, int64_t base, int64_t max_ts, size_t pos)
{
	if (s->nidx == s->idxcap) {
		s->idxcap = s->idxcap ? s->idxcap * 2 : 64;
		s->idx = xreallocarray(s->idx, s->idxcap, sizeof(*s->idx));
	}
	s->idx[s->nidx].base = base;
	s->idx[s->nidx].max_ts = max_ts;
	s->idx[s->nidx].pos = pos;
	s->nidx++;
}

/* Add an empty segment at the end of p (the new active one); the caller
 * appends its first batch before returning (invariant 6). */
static int
part_push_seg(struct seglog *sl, struct seglog_part *p, size_t cap)
{
	struct seglog_seg *s;

	if ((s = seg_new(sl, cap)) == NULL)
		return ERR_NOMEM;
	s->base = s->end = p->end;
	s->part = p;
	s->budget = sl->lim.budget;
	if (p->head + p->nsegs == p->cap) {
		if (p->head > 0) {
			/* Reclaim the slots retention freed at the front. */
			memmove(p->segs, p->segs + p->head,
			    p->nsegs * sizeof(*p->segs));
			p->head = 0;
		}
		if (p->nsegs == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 8;
			p->segs =
			    xreallocarray(p->segs, p->cap, sizeof(*p->segs));
		}
	}
	p->segs[p->head + p->nsegs++] = s;
	s->older = sl->newest;
	if (sl->newest != NULL)
		sl->newest->newer = s;
	else
		sl->oldest = s;
	sl->newest = s;
	sl->st.segments++;
	return 0;
}

/*
 * Drop the oldest segment of p: out of the partition and the age list,
 * its bytes counted as released (why: expired or evicted).  Readers
 * holding a reference keep it readable until they let go.
 */
static size_t
part_drop_head(struct seglog *sl, struct seglog_part *p)
{
	struct seglog_seg *s = part_seg(p, 0);
	size_t len = s->len;

	ASSERT(s->part == p);
	p->head++;
	p->nsegs--;
	p->start = p->nsegs > 0 ? part_seg(p, 0)->base : p->end;
	p->bytes -= len;
	if (s->older != NULL)
		s->older->newer = s->newer;
	else
		sl->oldest = s->newer;
	if (s->newer != NULL)
		s->newer->older = s->older;
	else
		sl->newest = s->older;
	s->older = s->newer = NULL;
	s->part = NULL;
	sl->st.segments--;
	sl->st.bytes -= len;
	seglog_seg_unref(s);
	return len;
}

static void
part_fini(struct seglog *sl, struct seglog_part *p)
{
	while (p->nsegs > 0)
		(void)part_drop_head(sl, p);
	free(p->segs);
	p->segs = NULL;
}

/* ------------------------------------------------------------------ */
/* Topics */

int
seglog_topic_name_valid(const char *name, size_t len)
{
	size_t i;

	if (name == NULL || len == 0 || len > SEGLOG_MAX_TOPIC_NAME)
		return 0;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-'))
			return 0;
	}
	return 1;
}

struct seglog_topic *
seglog_topic_get(struct seglog *sl, const char *name, size_t namelen)
{
	struct seglog_topic *t;

	if (name == NULL || namelen > SEGLOG_MAX_TOPIC_NAME)
		return NULL;
	for (t = sl->hash[name_hash(name, namelen)]; t != NULL; t = t->hnext)
		if (t->namelen == namelen &&
		    memcmp(t->name, name, namelen) == 0)
			return t;
	return NULL;
}

/* Create without checks beyond the name; offsets start at lease[i] (or 0). */
static struct seglog_topic *
topic_add(struct seglog *sl, const char *name, size_t namelen, int npart,
    const int64_t *lease)
{
	struct seglog_topic *t;
	unsigned h = name_hash(name, namelen);
	int i;

	t = xcalloc(1, sizeof(*t));
	t->sl = sl;
	memcpy(t->name, name, namelen);
	t->name[namelen] = '\0';
	t->namelen = namelen;
	t->npart = npart;
	t->parts = xcalloc((size_t)npart, sizeof(*t->parts));
	for (i = 0; i < npart; i++) {
		struct seglog_part *p = &t->parts[i];

		p->topic = t;
		p->start = p->end = p->lease = lease ? lease[i] : 0;
		p->max_ts = INT64_MIN;
	}
	if (sl->ntopics == sl->topicscap) {
		sl->topicscap = sl->topicscap ? sl->topicscap * 2 : 16;
		sl->topics = xreallocarray(
		    sl->topics, sl->topicscap, sizeof(*sl->topics));
	}
	sl->topics[sl->ntopics++] = t;
	t->hnext = sl->hash[h];
	sl->hash[h] = t;
	return t;
}

int
seglog_topic_create(struct seglog *sl, const char *name, size_t namelen,
    int npart, struct seglog_topic **out)
{
	struct seglog_topic *t;

	if (!seglog_topic_name_valid(name, namelen))
		return ERR_RANGE;
	if ((t = seglog_topic_get(sl, name, namelen)) != NULL) {
		if (out != NULL)
			*out = t;
		return ERR_EXISTS;
	}
	if (npart <= 0)
		npart = sl->lim.default_partitions > 0
		            ? sl->lim.default_partitions
		            : 1;
	if (npart > SEGLOG_MAX_PARTITIONS)
		return ERR_RANGE;
	if (sl->ntopics >= SEGLOG_MAX_TOPICS ||
	    (sl->lim.max_topics > 0 && sl->ntopics >= sl->lim.max_topics))
		return ERR_TOO_BIG;
	t = topic_add(sl, name, namelen, npart, NULL);
	if (out != NULL)
		*out = t;
	return 0;
}

struct seglog_topic *
seglog_topic_at(struct seglog *sl, size_t idx)
{
	return idx < sl->ntopics ? sl->topics[idx] : NULL;
}

const char *
seglog_topic_name(const struct seglog_topic *t)
{
	return t->name;
}

int
seglog_topic_partitions(const struct seglog_topic *t)
{
	return t->npart;
}

static void
topic_free(struct seglog_topic *t)
{
	int i;

	for (i = 0; i < t->npart; i++)
		part_fini(t->sl, &t->parts[i]);
	free(t->parts);
	free(t);
}

/* ------------------------------------------------------------------ */
/* State file */

/*
 * The state file's bytes (format: see the top) with each partition's
 * lease, or the one being sent when sent is set.
 */
static void
state_encode(const struct seglog *sl, struct wbuf *w, int sent)
{
	size_t i;
	int k;

	wbuf_str(w, SEGLOG_STATE_MAGIC);
	for (i = 0; i < sl->ntopics; i++) {
		const struct seglog_topic *t = sl->topics[i];

		wbuf_printf(w, "topic %s %d", t->name, t->npart);
		for (k = 0; k < t->npart; k++)
			wbuf_printf(w, " %" PRId64,
			    sent ? t->parts[k].lease_sent : t->parts[k].lease);
		wbuf_u8(w, '\n');
	}
	wbuf_printf(w, "crc32c %08" PRIx32 "\n", crc32c(0, w->buf, w->len));
}

/* Write every topic's leases, here and now. */
static int
state_save(struct seglog *sl)
{
	struct wbuf w;
	int rc;

	if (sl->state_path == NULL)
		return 0;
	wbuf_init(&w, SEGLOG_MAX_STATE);
	state_encode(sl, &w, 0);
	if ((rc = w.err) == 0 &&
	    (rc = osfile_write_atomic(sl->state_path, w.buf, w.len)) == 0)
		sl->st.lease_writes++;
	wbuf_fini(&w);
	return rc;
}

/* Hand the lease I/O a state with every lease raised to cover at least
 * end + want + SEGLOG_LEASE (invariant 5). */
static void
lease_request(struct seglog *sl, int64_t want)
{
	struct wbuf w;
	uint8_t *buf;
	size_t i, len;
	int k;

	for (i = 0; i < sl->ntopics; i++) {
		struct seglog_topic *t = sl->topics[i];

		for (k = 0; k < t->npart; k++) {
			struct seglog_part *p = &t->parts[k];
			int64_t v = p->end + want + SEGLOG_LEASE;

			p->lease_sent = v > p->lease ? v : p->lease;
		}
	}
	wbuf_init(&w, SEGLOG_MAX_STATE);
	state_encode(sl, &w, 1);
	if (w.err != 0) {
		sl->lease_err = w.err;
		wbuf_fini(&w);
		return;
	}
	buf = wbuf_detach(&w, &len);
	sl->lease_busy = 1;
	sl->io.write(sl->io.arg, sl->state_path, buf, len, ++sl->lease_tag);
}

/* Some partition has used half its lease: time to ask for more. */
static int
lease_low(const struct seglog *sl)
{
	size_t i;
	int k;

	for (i = 0; i < sl->ntopics; i++)
		for (k = 0; k < sl->topics[i]->npart; k++) {
			const struct seglog_part *p = &sl->topics[i]->parts[k];

			if (p->end > p->lease - SEGLOG_LEASE / 2)
				return 1;
		}
	return 0;
}

void
seglog_set_lease_io(struct seglog *sl, const struct seglog_lease_io *io)
{
	if (io != NULL)
		sl->io = *io;
	else
		memset(&sl->io, 0, sizeof(sl->io));
}

void
seglog_lease_done(struct seglog *sl, uint64_t tag, int rc)
{
	size_t i;
	int k;

	if (!sl->lease_busy || tag != sl->lease_tag)
		return;
	sl->lease_busy = 0;
	sl->lease_err = rc;
	if (rc == 0)
		sl->st.lease_writes++;
	for (i = 0; i < sl->ntopics; i++)
		for (k = 0; k < sl->topics[i]->npart; k++) {
			struct seglog_part *p = &sl->topics[i]->parts[k];

			if (rc == 0 && p->lease_sent > p->lease)
				p->lease = p->lease_sent;
			p->lease_sent = 0;
		}
	if (rc == 0 && sl->io.write != NULL && lease_low(sl))
		lease_request(sl, 0);
}

/*
 * The lease of p must cover end + n before the append: with lease I/O,
 * wait for writes until it does (a few rounds at most: each one raises
 * every lease past end + n).  0 or the write's error.
 */
static int
lease_cover(struct seglog *sl, struct seglog_part *p, int64_t n)
{
	int64_t old;
	int round, rc;

	if (sl->io.write == NULL) {
		old = p->lease;
		p->lease = p->end + n + SEGLOG_LEASE;
		if ((rc = state_save(sl)) != 0)
			p->lease = old;
		return rc;
	}
	sl->st.lease_waits++;
	for (round = 0; round < 3 && p->end + n > p->lease; round++) {
		if (!sl->lease_busy)
			lease_request(sl, n);
		if (!sl->lease_busy)
			break; /* the state did not encode */
		sl->io.wait(sl->io.arg);
		if (sl->lease_busy)
			break; /* the hook broke its promise */
		if (sl->lease_err != 0)
			break;
	}
	if (p->end + n <= p->lease)
		return 0;
	return sl->lease_err != 0 ? sl->lease_err : ERR_AGAIN;
}

/* A decimal int64 >= 0 at *pp, up to a space or newline. */
static int
parse_num(const char **pp, const char *end, int64_t *out)
{
	const char *p = *pp;
	int64_t v = 0;

	if (p == end || *p < '0' || *p > '9')
		return ERR_MALFORMED;
	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return ERR_MALFORMED;
		v = v * 10 + (*p - '0');
		p++;
	}
	*pp = p;
	*out = v;
	return 0;
}

/* Parse and apply one "topic NAME NPART LEASE..." line [p, end). */
static int
state_topic_line(
    struct seglog *sl, const char *p, const char *end, int64_t *lease)
{
	const char *name;
	size_t namelen;
	int64_t v;
	int npart, i;

	if ((size_t)(end - p) < 6 || memcmp(p, "topic ", 6) != 0)
		return ERR_MALFORMED;
	p += 6;
	name = p;
	while (p < end && *p != ' ')
		p++;
	namelen = (size_t)(p - name);
	if (!seglog_topic_name_valid(name, namelen) ||
	    seglog_topic_get(sl, name, namelen) != NULL ||
	    sl->ntopics >= SEGLOG_MAX_TOPICS)
		return ERR_MALFORMED;
	if (p == end || *p++ != ' ' || parse_num(&p, end, &v) != 0 || v < 1 ||
	    v > SEGLOG_MAX_PARTITIONS)
		return ERR_MALFORMED;
	npart = (int)v;
	for (i = 0; i < npart; i++)
		if (p == end || *p++ != ' ' ||
		    parse_num(&p, end, &lease[i]) != 0)
			return ERR_MALFORMED;
	if (p != end)
		return ERR_MALFORMED;
	topic_add(sl, name, namelen, npart, lease);
	return 0;
}

static int
state_parse(struct seglog *sl, const char *buf, size_t len)
{
	const char *p, *end, *crcline, *nl;
	int64_t *lease = NULL;
	uint32_t want = 0;
	size_t ml = strlen(SEGLOG_STATE_MAGIC);
	int rc = ERR_MALFORMED, i;

	/* The CRC line is the last line: "crc32c XXXXXXXX\n". */
	if (len < ml + 16 || buf[len - 1] != '\n' ||
	    memcmp(buf, SEGLOG_STATE_MAGIC, ml) != 0)
		return ERR_MALFORMED;
	crcline = buf + len - 16;
	if (memcmp(crcline, "crc32c ", 7) != 0 || crcline[-1] != '\n')
		return ERR_MALFORMED;
	for (i = 0; i < 8; i++) {
		char c = crcline[7 + i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return ERR_MALFORMED;
		want = want << 4 | (uint32_t)d;
	}
	if (crc32c(0, buf, (size_t)(crcline - buf)) != want)
		return ERR_MALFORMED;
	lease = xcalloc(SEGLOG_MAX_PARTITIONS, sizeof(*lease));
	for (p = buf + ml, end = crcline; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			goto out;
		if ((rc = state_topic_line(sl, p, nl, lease)) != 0)
			goto out;
	}
	rc = 0;
out:
	free(lease);
	return rc;
}

static int
state_load(struct seglog *sl)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = 0;

	if ((fd = open(sl->state_path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -errno; /* ENOENT: first start */
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		goto out;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > SEGLOG_MAX_STATE) {
		rc = ERR_MALFORMED;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size)) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	rc = state_parse(sl, buf, got);
out:
	free(buf);
	close(fd);
	return rc;
}

int
seglog_sync(struct seglog *sl)
{
	size_t i;
	int k;

	if (sl->state_path == NULL)
		return 0;
	/* A write in flight must land first: it holds larger leases, and
	 * renaming it over this one later would only be untidy, but the
	 * hook's owner may free its buffer at shutdown. */
	if (sl->lease_busy && sl->io.wait != NULL)
		sl->io.wait(sl->io.arg);
	/* Every offset below end was handed out and none at or above it:
	 * end is the tightest lease that keeps invariant 5. */
	for (i = 0; i < sl->ntopics; i++)
		for (k = 0; k < sl->topics[i]->npart; k++) {
			struct seglog_part *p = &sl->topics[i]->parts[k];

			p->lease = p->end;
		}
	return state_save(sl);
}

/* ------------------------------------------------------------------ */
/* The log */

/* The budget's reclaimer: other holders (requests in flight) need room,
 * and the log's oldest segments go first. */
static size_t
seglog_reclaim(void *arg, size_t need)
{
	struct seglog *sl = arg;
	uint64_t before = membudget_used(sl->lim.budget), now = before;

	while (sl->oldest != NULL && before - now < need) {
		struct seglog_seg *s = sl->oldest;

		sl->st.bytes_evicted += s->len;
		sl->st.segments_evicted++;
		(void)part_drop_head(sl, s->part);
		now = membudget_used(sl->lim.budget);
		if (now > before)
			before = now; /* another holder charged meanwhile */
	}
	return (size_t)(before - now);
}

int
seglog_new(const struct seglog_limits *lim, const char *state_path,
    struct seglog **out)
{
	struct seglog *sl;
	int rc;

	sl = xcalloc(1, sizeof(*sl));
	sl->lim = *lim;
	if (sl->lim.segment_bytes < KAFKA_BATCH_HEADER_LEN)
		sl->lim.segment_bytes = SEGLOG_SEGMENT_BYTES;
	if (sl->lim.max_batch_bytes < KAFKA_BATCH_HEADER_LEN)
		sl->lim.max_batch_bytes = SEGLOG_MAX_BATCH;
	if (sl->lim.budget != NULL)
		membudget_set_reclaim(sl->lim.budget, seglog_reclaim, sl);
	if (state_path != NULL) {
		sl->state_path = xstrdup(state_path);
		if ((rc = state_load(sl)) != 0) {
			/* Do not let seglog_free overwrite what we refused. */
			free(sl->state_path);
			sl->state_path = NULL;
			seglog_free(sl);
			return rc;
		}
	}
	*out = sl;
	return 0;
}

void
seglog_free(struct seglog *sl)
{
	size_t i;

	if (sl == NULL)
		return;
	(void)seglog_sync(sl); /* the leases already on disk still hold */
	if (sl->lim.budget != NULL && sl->lim.budget->reclaim_arg == sl)
		membudget_set_reclaim(sl->lim.budget, NULL, NULL);
	for (i = 0; i < sl->ntopics; i++)
		topic_free(sl->topics[i]);
	/* Readers let go of every segment before the log goes. */
	ASSERT(sl->live == 0);
	while (sl->free_segs != NULL) {
		struct seglog_seg *s = sl->free_segs;

		sl->free_segs = s->next_free;
		seg_destroy(s);
	}
	free(sl->topics);
	free(sl->state_path);
	free(sl);
}

void
seglog_set_append_hook(struct seglog *sl, seglog_append_hook fn, void *arg)
{
	sl->hook = fn;
	sl->hook_arg = arg;
}

void
seglog_get_stats(const struct seglog *sl, struct seglog_stats *out)
{
	*out = sl->st;
}

/*
 * Charge n bytes to the budget, making room first by evicting the oldest
 * segments across all topics (invariant 7), never keep (the segment the
 * append goes into).  0, or ERR_NOMEM when the budget cannot hold n bytes
 * even after every other segment went.
 */
static int
budget_charge(struct seglog *sl, const struct seglog_seg *keep, size_t n)
{
	struct seglog_seg *s;

	if (sl->lim.budget == NULL)
		return 0;
	while (membudget_charge(sl->lim.budget, n) != 0) {
		s = sl->oldest;
		if (s != NULL && s == keep)
			s = s->newer;
		if (s == NULL)
			return ERR_NOMEM;
		sl->st.bytes_evicted += s->len;
		sl->st.segments_evicted++;
		(void)part_drop_head(sl, s->part);
	}
	return 0;
}

int
seglog_append(struct seglog_topic *t, int part, const uint8_t *batch,
    size_t len, int64_t now_ms, int64_t *base_offset)
{
	struct seglog *sl;
	struct seglog_part *p;
	struct seglog_seg *s = NULL;
	int64_t n, max_ts, lim_ms;
	int32_t lod;
	int rc;

	if ((p = part_get(t, part)) == NULL)
		return ERR_RANGE;
	sl = t->sl;
	if (len > sl->lim.max_batch_bytes)
		return ERR_TOO_BIG;
	/* The caller validated the batch; these are the fields the log
	 * itself depends on, re-checked so a caller bug cannot corrupt it. */
	if (len < KAFKA_BATCH_HEADER_LEN ||
	    (size_t)kafka_batch_length(batch) != len - KAFKA_BATCH_LEN_OFF)
		return ERR_MALFORMED;
	lod = kafka_batch_last_offset_delta(batch);
	if (lod < 0)
		return ERR_MALFORMED;
	n = (int64_t)lod + 1;
	if (p->end > INT64_MAX - n - SEGLOG_LEASE)
		return ERR_RANGE;

	if (sl->state_path != NULL) {
		if (p->end + n > p->lease) {
			if ((rc = lease_cover(sl, p, n)) != 0)
				return rc;
		} else if (sl->io.write != NULL && !sl->lease_busy &&
		           p->end + n > p->lease - SEGLOG_LEASE / 2) {
			lease_request(sl, n); /* early: nobody waits */
		}
	}

	if (p->nsegs > 0)
		s = part_seg(p, p->nsegs - 1);
	lim_ms = sl->lim.retention_ms / SEGLOG_ROLL_DIV;
	if (s != NULL && (s->cap - s->len < len ||
	                     (lim_ms > 0 && now_ms - s->first_ms >= lim_ms)))
		s = NULL; /* full or old enough: roll */
	if ((rc = budget_charge(sl, s, len + SEGLOG_BATCH_OVERHEAD)) != 0)
		return rc;
	if (s == NULL) {
		size_t cap = sl->lim.segment_bytes;

		if ((rc = part_push_seg(sl, p, cap > len ? cap : len)) != 0) {
			if (sl->lim.budget != NULL)
				membudget_release(sl->lim.budget,
				    len + SEGLOG_BATCH_OVERHEAD);
			return rc;
		}
		s = part_seg(p, p->nsegs - 1);
	}
	if (sl->lim.budget != NULL)
		s->charged += len + SEGLOG_BATCH_OVERHEAD;

	memcpy(s->buf + s->len, batch, len);
	kafka_batch_set_base_offset(s->buf + s->len, p->end);
	max_ts = kafka_batch_max_timestamp(batch);
	if (max_ts > p->max_ts)
		p->max_ts = max_ts;
	seg_add_idx(s, p->end, p->max_ts, s->len);
	if (s->nidx == 1)
		s->first_ms = now_ms;
	s->last_ms = now_ms;
	s->len += len;
	*base_offset = p->end;
	p->end += n;
	s->end = p->end;
	p->bytes += len;

	sl->st.appends++;
	sl->st.records += (uint32_t)kafka_batch_record_count(batch);
	sl->st.bytes_appended += len;
	sl->st.bytes += len;

	/* Retention by bytes, on this partition only: the newest segment
	 * always stays (memory per partition is then bounded by
	 * retention_bytes + one segment). */
	if (sl->lim.retention_bytes > 0)
		while (p->nsegs > 1 && p->bytes > sl->lim.retention_bytes)
			sl->st.bytes_expired += part_drop_head(sl, p);
	if (sl->hook != NULL)
		sl->hook(t, part, sl->hook_arg);
	return 0;
}

int64_t
seglog_start_offset(const struct seglog_topic *t, int part)
{
	const struct seglog_part *p = part_get(t, part);

	return p ? p->start : -1;
}

int64_t
seglog_end_offset(const struct seglog_topic *t, int part)
{
	const struct seglog_part *p = part_get(t, part);

	return p ? p->end : -1;
}

size_t
seglog_bytes(const struct seglog_topic *t, int part)
{
	const struct seglog_part *p = part_get(t, part);

	return p ? p->bytes : 0;
}

/*
 * How many whole batches of s from batch i fit in budget bytes: the
 * largest j (>= i) with batch_end(j) - pos(i) <= budget, as j + 1; i when
 * not even batch i fits.  Binary search, so a large read costs no more
 * than a small one.
 */
static size_t
fit_batches(const struct seglog_seg *s, size_t i, size_t budget)
{
	size_t lo = i, hi = s->nidx, pos0 = s->idx[i].pos;

	/* Invariant: batches [i, lo) fit; none from hi on does. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (batch_end(s, mid) - pos0 <= budget)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
seglog_read(struct seglog_topic *t, int part, int64_t offset, size_t max_bytes,
    int first_whole, struct seglog_span *spans, int maxspans, int *nspans)
{
	const struct seglog_part *p = part_get(t, part);
	size_t k, i, total = 0;
	int ns = 0;

	*nspans = 0;
	if (p == NULL || offset < p->start || offset >= p->end || maxspans <= 0)
		return 0;
	k = find_seg(p, offset);
	i = find_batch(part_seg(p, k), offset);
	for (; k < p->nsegs && ns < maxspans; k++, i = 0) {
		struct seglog_seg *s = part_seg(p, k);
		size_t j, pos0, len;

		ASSERT(s->nidx > 0); /* invariant 6 */
		pos0 = s->idx[i].pos;
		/* The forced first batch may pass max_bytes: what is left
		 * is then 0, never a wrapped-around "no limit". */
		j = fit_batches(
		    s, i, total < max_bytes ? max_bytes - total : 0);
		if (j == i && total == 0 && first_whole)
			j = i + 1; /* KIP-74: the first batch goes whole */
		if (j == i)
			break;
		len = batch_end(s, j - 1) - pos0;
		spans[ns].seg = s;
		spans[ns].p = s->buf + pos0;
		spans[ns].len = len;
		ns++;
		total += len;
		if (j < s->nidx)
			break; /* the next batch did not fit */
	}
	*nspans = ns;
	return total;
}

int64_t
seglog_offset_for_time(
    struct seglog_topic *t, int part, int64_t ts, int64_t *found_ts)
{
	const struct seglog_part *p = part_get(t, part);
	const struct seglog_seg *s;
	struct kafka_rec_iter it;
	struct kafka_record rec;
	struct kafka_batch b;
	size_t lo, hi, i, blen;
	int64_t off = -1, fts = -1;

	if (p == NULL || p->nsegs == 0 || p->max_ts < ts)
		goto out;
	/* Invariant 3: max_ts is sorted across segments and batches. */
	lo = 0;
	hi = p->nsegs - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		s = part_seg(p, mid);
		if (s->nidx > 0 && s->idx[s->nidx - 1].max_ts >= ts)
			hi = mid;
		else
			lo = mid + 1;
	}
	s = part_seg(p, lo);
	lo = 0;
	hi = s->nidx - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->idx[mid].max_ts >= ts)
			hi = mid;
		else
			lo = mid + 1;
	}
	i = lo;
	off = s->idx[i].base;
	fts = kafka_batch_max_timestamp(s->buf + s->idx[i].pos);
	blen = batch_end(s, i) - s->idx[i].pos;
	if (kafka_batch_parse(s->buf + s->idx[i].pos, blen, &b) <= 0)
		goto out;
	kafka_records_init(&it, &b);
	while (kafka_records_next(&it, &rec) == 1)
		if (rec.timestamp >= ts) {
			off = rec.offset;
			fts = rec.timestamp;
			break;
		}
out:
	if (found_ts != NULL)
		*found_ts = fts;
	return off;
}

int64_t
seglog_max_timestamp(const struct seglog_topic *t, int part)
{
	const struct seglog_part *p = part_get(t, part);

	return p == NULL || p->nsegs == 0 ? -1 : p->max_ts;
}

int
seglog_cursor_next(
    struct seglog_cursor *c, const uint8_t **batch, size_t *len, int64_t *lost)
{
	const struct seglog_part *p = part_get(c->topic, c->part);
	const struct seglog_seg *s;
	size_t i;

	if (lost != NULL)
		*lost = 0;
	if (p == NULL)
		return ERR_RANGE;
	if (c->offset < p->start) {
		if (lost != NULL)
			*lost = p->start - c->offset;
		c->offset = p->start;
		return ERR_RANGE;
	}
	if (c->offset >= p->end)
		return 0;
	s = part_seg(p, find_seg(p, c->offset));
	ASSERT(s->nidx > 0); /* invariant 6 */
	i = find_batch(s, c->offset);
	*batch = s->buf + s->idx[i].pos;
	*len = batch_end(s, i) - s->idx[i].pos;
	c->offset = batch_next(s, i);
	return 1;
}

size_t
seglog_expire(struct seglog *sl, int64_t now_ms)
{
	struct seglog_seg *s, *next;
	size_t freed = 0, visited = 0;
	int64_t keep_ms = sl->lim.retention_ms;

	if (keep_ms <= 0)
		return 0;
	for (s = sl->oldest; s != NULL && visited < SEGLOG_EXPIRE_VISIT;
	     s = next) {
		struct seglog_part *p = s->part;

		next = s->newer;
		visited++;
		/* Segments are pushed in time order: from one younger than
		 * the retention on, so are the rest. */
		if (now_ms - s->first_ms <= keep_ms)
			break;
		/* A partition's newest segment stays; so does one whose
		 * older sibling is still kept (a clock that went back). */
		if (now_ms - s->last_ms > keep_ms && part_seg(p, 0) == s &&
		    p->nsegs > 1)
			freed += part_drop_head(sl, p);
	}
	sl->st.bytes_expired += freed;
	return freed;
}
