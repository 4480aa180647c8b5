/*
 * groupstore.h: (2) consumer groups' committed offsets, in memory and in
 * one state file under data_dir.
 *
 * The Kafka listener's group coordinator (server/kafka/kafka_group.c)
 * decides whether an OffsetCommit may be stored; this module only keeps
 * what was committed: per group, per (topic, partition), the offset, its
 * leader epoch, the client's metadata string and when it was committed.
 * A commit is staged with groupstore_put and made durable with
 * groupstore_sync, or written elsewhere from groupstore_snapshot's image
 * (the daemon writes it on the store's writer thread), before the
 * listener answers the OffsetCommit, so an acknowledged commit survives a
 * crash.  Durability
 * follows seglog's state file: the whole file is written to PATH.tmp,
 * fsync()ed, rename()d over PATH and the directory fsync()ed; a file that
 * does not decode exactly or fails its CRC refuses start-up.
 *
 * File format (all integers big-endian):
 *
 *	OFFSET  SIZE  FIELD
 *	0       16    magic "finnstream-grp 1" (no NUL)
 *	16      4     G: number of groups (<= GROUPSTORE_MAX_GROUPS)
 *	20      ...   G groups, in strictly increasing byte order of id:
 *	              2   L: group id length, 1..GROUPSTORE_MAX_GROUP_ID
 *	              L   group id
 *	              4   E: entries, 1..GROUPSTORE_MAX_ENTRIES in all
 *	              ... E entries, in strictly increasing (topic, partition):
 *	                  2  T: topic length, 1..249
 *	                  T  topic (a legal Kafka topic name)
 *	                  4  partition, >= 0
 *	                  8  committed offset
 *	                  4  leader epoch (-1: none)
 *	                  8  commit time, ms since the epoch
 *	                  2  M: metadata length, -1 (null) or
 *	                     0..GROUPSTORE_MAX_METADATA
 *	                  M  metadata
 *	end-4   4     CRC-32C of every byte before it
 *
 * A missing file is a first start (no commits).
 *
 * Invariants:
 *  1. Groups, and each group's entries, are kept sorted (the file order),
 *     so iteration, the file and OffsetFetch answers are deterministic.
 *  2. Every group holds at least one entry; nothing is ever deleted.
 *  3. gs->dirty is set exactly when memory differs from the file.
 *
 * Not thread-safe: every call happens on the event-loop thread.
 */
#ifndef STORAGE_GROUPSTORE_H
#define STORAGE_GROUPSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/wbuf.h"

#define GROUPSTORE_MAX_GROUPS   10000
#define GROUPSTORE_MAX_ENTRIES  200000 /* (topic, partition) over all groups */
#define GROUPSTORE_MAX_GROUP_ID 255
#define GROUPSTORE_MAX_METADATA 4096 /* Kafka's offset.metadata.max.bytes */
#define GROUPSTORE_MAX_FILE     ((size_t)64 << 20)

struct groupstore;

/* One committed offset. */
struct groupstore_commit {
	int64_t offset;
	int32_t leader_epoch; /* -1: none */
	int64_t commit_ms;
	const char *metadata; /* metadata_len bytes; NULL when null */
	int32_t metadata_len; /* -1: null */
};

/* One entry of a group, as iteration hands it out. */
struct groupstore_entry {
	const char *topic; /* NUL-terminated */
	int32_t partition;
	struct groupstore_commit c;
};

/*
 * Open the store at path (NULL: in memory only, nothing persisted),
 * loading what the file holds.  Returns 0 and *out; ERR_MALFORMED for a
 * file that does not decode or fails its CRC, ERR_TOO_BIG past
 * GROUPSTORE_MAX_FILE, or -errno if it cannot be read.  *out is freed
 * with groupstore_free.
 */
int groupstore_open(const char *path, struct groupstore **out);

/* Free everything (staged commits not synced are lost).  NULL: no-op. */
void groupstore_free(struct groupstore *gs);

/*
 * The committed offset of (group, topic, partition): 1 and *out (valid
 * until the next groupstore_put), or 0 when none is stored.
 */
int groupstore_get(const struct groupstore *gs, const char *group, size_t glen,
    const char *topic, size_t tlen, int32_t partition,
    struct groupstore_commit *out);

/*
 * Stage a commit in memory (copied); groupstore_sync makes it durable.
 * Returns 0; ERR_RANGE for an empty or over-long group id or topic, a
 * negative partition or metadata over GROUPSTORE_MAX_METADATA (nothing
 * changed then); ERR_TOO_BIG past GROUPSTORE_MAX_GROUPS or _ENTRIES.
 * A commit identical to the stored one but for its time changes nothing.
 */
int groupstore_put(struct groupstore *gs, const char *group, size_t glen,
    const char *topic, size_t tlen, int32_t partition,
    const struct groupstore_commit *c);

/*
 * Write the file if anything was staged since the last sync.  Returns 0,
 * or a negative errno / ERR_TOO_BIG; the staged commits then stay staged
 * (in memory, answered by groupstore_get) and the next sync retries.
 */
int groupstore_sync(struct groupstore *gs);

/*
 * The same durability off the event loop: groupstore_snapshot gives the
 * file image of everything held (malloc()ed, the caller's to free or
 * hand on) and *version, the number of changes it includes;
 * groupstore_written says that image is on disk (written, fsync()ed and
 * renamed as groupstore_sync does), which makes the store clean when
 * nothing was staged since.  groupstore_version counts the changes staged
 * so far: a commit is durable once an image of a version at least as
 * large is written.  groupstore_path is NULL for a store in memory.
 */
int groupstore_snapshot(
    struct groupstore *gs, uint8_t **buf, size_t *len, uint64_t *version);
void groupstore_written(struct groupstore *gs, uint64_t version);
uint64_t groupstore_version(const struct groupstore *gs);
const char *groupstore_path(const struct groupstore *gs);

/* Groups with commits: idx from 0 until NULL, in byte order of id. */
const char *groupstore_group_at(const struct groupstore *gs, size_t idx);

/*
 * A group's entries, sorted by (topic, partition): returns how many and
 * sets *out (valid until the next groupstore_put); 0 for an unknown group.
 */
size_t groupstore_entries(const struct groupstore *gs, const char *group,
    size_t glen, const struct groupstore_entry **out);

/* Counters: file writes, and entries held. */
struct groupstore_stats {
	uint64_t writes;
	uint64_t entries;
	uint64_t groups;
};
void groupstore_get_stats(
    const struct groupstore *gs, struct groupstore_stats *out);

/*
 * The file image of what is held (format above) appended to w; and its
 * inverse, loading an image into an empty store (0, or ERR_MALFORMED with
 * nothing loaded).  groupstore_sync and groupstore_open use them; they
 * are public for the tests and the fuzz target.
 */
void groupstore_encode(const struct groupstore *gs, struct wbuf *w);
int groupstore_decode(struct groupstore *gs, const uint8_t *p, size_t n);

#endif
