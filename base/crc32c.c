/*
 * crc32c.c: CRC-32C (Castagnoli) for RecordBatch v2 and storage blocks.
 *
 * Two implementations computing the same reflected CRC (polynomial
 * 0x82F63B78, init and final xor ~0):
 *  - SSE4.2's crc32 instruction, 8 bytes per step, on x86-64 CPUs that
 *    have it (compiled with a target attribute, so the rest of the build
 *    needs no -msse4.2);
 *  - slicing-by-8 tables everywhere else.
 * The choice and the tables are made once, before main, by a constructor,
 * so crc32c() is thread-safe without locks.
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "base/crc32c.h"

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static uint32_t (*crc_fn)(uint32_t, const void *, size_t) = crc32c_sw;

static void
table_init(void)
{
	uint32_t c;
	int i, j, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc_table[0][i];
		for (k = 1; k < 8; k++) {
			c = crc_table[0][c & 0xff] ^ (c >> 8);
			crc_table[k][i] = c;
		}
	}
}

static inline uint64_t
load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

uint32_t
crc32c_sw(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	while (n >= 8) {
		uint64_t v = load_le64(p) ^ c;

		c = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
		    crc_table[5][(v >> 16) & 0xff] ^
		    crc_table[4][(v >> 24) & 0xff] ^
		    crc_table[3][(v >> 32) & 0xff] ^
		    crc_table[2][(v >> 40) & 0xff] ^
		    crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRC32C_HAVE_HW 1

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	/* Align so the 8-byte loads do not straddle cache lines. */
	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		n--;
	}
	while (n >= 32) {
		uint64_t v0, v1, v2, v3;

		memcpy(&v0, p, 8);
		memcpy(&v1, p + 8, 8);
		memcpy(&v2, p + 16, 8);
		memcpy(&v3, p + 24, 8);
		c = __builtin_ia32_crc32di(c, v0);
		c = __builtin_ia32_crc32di(c, v1);
		c = __builtin_ia32_crc32di(c, v2);
		c = __builtin_ia32_crc32di(c, v3);
		p += 32;
		n -= 32;
	}
	while (n >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

__attribute__((constructor)) static void
crc32c_init(void)
{
	table_init();
#ifdef CRC32C_HAVE_HW
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		crc_fn = crc32c_sse42;
#endif
}

int
crc32c_hw(uint32_t (**fn)(uint32_t crc, const void *p, size_t n))
{
#ifdef CRC32C_HAVE_HW
	if (crc_fn == crc32c_sse42) {
		*fn = crc32c_sse42;
		return 1;
	}
#endif
	(void)fn;
	return 0;
}

uint32_t
crc32c(uint32_t crc, const void *p, size_t n)
{
	return crc_fn(crc, p, n);
}
