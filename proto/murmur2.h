/*
 * murmur2.h: Kafka's default partitioner hash.
 *
 * Records with a key go to partition
 *	(murmur2(key) & 0x7fffffff) % npartitions
 * exactly as the Java client's DefaultPartitioner (and librdkafka's
 * "murmur2_random", kafka-python's DefaultPartitioner) compute it, so a
 * keyed record lands in the same partition whichever client wrote it.
 * The hash is MurmurHash2, 32 bits, seed 0x9747b28c, reading the key in
 * 4-byte little-endian words, the tail bytes as Java's switch does.
 */
#ifndef PROTO_MURMUR2_H
#define PROTO_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

/* The 32-bit hash of len bytes at key (key may be NULL when len is 0). */
uint32_t murmur2(const void *key, size_t len);

/*
 * The partition in [0, npart) for key; npart must be >= 1 (ASSERT-free:
 * npart < 1 returns 0).
 */
int murmur2_partition(const void *key, size_t len, int npart);

#endif
