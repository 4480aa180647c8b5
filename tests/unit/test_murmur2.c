/*
 * test_murmur2.c: Kafka's partitioner hash against published vectors.
 *
 * Hashes: Apache Kafka clients, UtilsTest.testMurmur2 (org.apache.kafka.
 * common.utils), the values the Java client computes.  Partitions mod 1000:
 * kafka-python test/test_partitioner.py, test_murmur2_java_compatibility
 * ("compare with output from Kafka's ... Partitioner").
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "proto/murmur2.h"
#include "tests/lib/tap.h"

static const struct {
	const char *key;
	int32_t hash;
} java[] = {
    {"21", -973932308},
    {"foobar", -790332482},
    {"a-little-bit-long-string", -985981536},
    {"a-little-bit-longer-string", -1486304829},
    {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
    {"abc", 479470107},
};

static const struct {
	const char *key;
	size_t len;
	int part;
} kpy[] = {
    {"", 0, 681},
    {"a", 1, 524},
    {"ab", 2, 434},
    {"abc", 3, 107},
    {"123456789", 9, 566},
    {"\x00 ", 2, 742},
};

int
main(void)
{
	size_t i;

	plan_lazy();
	for (i = 0; i < sizeof(java) / sizeof(java[0]); i++)
		is_int((int32_t)murmur2(java[i].key, strlen(java[i].key)),
		    java[i].hash, "murmur2(\"%s\")", java[i].key);
	for (i = 0; i < sizeof(kpy) / sizeof(kpy[0]); i++)
		is_int(murmur2_partition(kpy[i].key, kpy[i].len, 1000),
		    kpy[i].part, "partition of key %zu of 1000", i);
	/* toPositive, not abs: a negative hash keeps its low 31 bits. */
	is_int(murmur2_partition("foobar", 6, 50),
	    (int)(((uint32_t)-790332482 & 0x7fffffffu) % 50),
	    "negative hash masked, not negated");
	is_int(murmur2_partition("x", 1, 1), 0, "one partition");
	is_int(murmur2_partition("x", 1, 0), 0, "zero partitions is 0");
	return done_testing();
}
