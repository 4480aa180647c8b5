/*
 * crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * Kafka's RecordBatch v2 checksum, and the checksum of every block the
 * storage layer writes.  The feed encoder runs it over every batch, so it
 * uses the SSE4.2 crc32 instruction when the CPU has it (checked once, by
 * a constructor before main) and a portable slicing-by-8 table otherwise.
 *
 * The value is the standard one (init ~0, final xor ~0), with the
 * inversion handled inside, so calls chain:
 *	crc32c(crc32c(0, a, na), b, nb) == crc32c(0, a || b, na + nb)
 * crc32c(0, "123456789", 9) == 0xE3069283.
 */
#ifndef BASE_CRC32C_H
#define BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * CRC-32C of n bytes at p, continuing from crc (0 to start).  p may be
 * NULL when n is 0.  Thread-safe.
 */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

/* The portable path, always available (tests compare the two). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

/*
 * The hardware path: 1 and *fn set when this CPU and build have it, else 0
 * (and *fn untouched).  For tests and benchmarks.
 */
int crc32c_hw(uint32_t (**fn)(uint32_t crc, const void *p, size_t n));

#endif
