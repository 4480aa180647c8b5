/*
 * test_crc32c.c: CRC-32C against published check values, chaining, and the
 * hardware path against the portable one on random data.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "tests/lib/tap.h"

/* xorshift64*: deterministic test data without libc rand(). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void
test_vectors(void)
{
	uint8_t buf[32];
	int i;

	/* The CRC catalogue's check value for CRC-32/ISCSI. */
	is_int(crc32c(0, "123456789", 9), 0xE3069283u, "check value");
	is_int(crc32c_sw(0, "123456789", 9), 0xE3069283u, "check value (sw)");
	is_int(crc32c(0, NULL, 0), 0, "empty input");
	is_int(crc32c(0x12345678, NULL, 0), 0x12345678, "empty keeps crc");

	/* RFC 3720 (iSCSI) appendix B.4 test patterns. */
	memset(buf, 0, sizeof(buf));
	is_int(crc32c(0, buf, 32), 0x8A9136AAu, "32 bytes of zeros");
	memset(buf, 0xff, sizeof(buf));
	is_int(crc32c(0, buf, 32), 0x62A8AB43u, "32 bytes of ones");
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	is_int(crc32c(0, buf, 32), 0x46DD794Eu, "32 incrementing bytes");
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	is_int(crc32c(0, buf, 32), 0x113FDB5Cu, "32 decrementing bytes");
}

static void
test_chaining(void)
{
	const char *s = "The quick brown fox jumps over the lazy dog";
	size_t n = strlen(s), i;
	uint32_t whole = crc32c(0, s, n);
	int bad = 0;

	is_int(whole, 0x22620404u, "pangram");
	for (i = 0; i <= n; i++)
		if (crc32c(crc32c(0, s, i), s + i, n - i) != whole)
			bad++;
	is_int(bad, 0, "chaining at every split point");
}

static void
test_hw_vs_sw(void)
{
	uint32_t (*hw)(uint32_t, const void *, size_t);
	uint8_t *buf;
	size_t len, off;
	int i, bad = 0;

	if (!crc32c_hw(&hw)) {
		diag("no hardware CRC-32C here; comparing crc32c() to sw only");
		hw = crc32c;
	}
	buf = malloc(70000);
	if (!ok(buf != NULL, "alloc"))
		return;
	for (i = 0; i < 70000; i++)
		buf[i] = (uint8_t)rng();
	/* Every small length and alignment, then random large spans. */
	for (off = 0; off < 16; off++)
		for (len = 0; len < 300; len++)
			if (hw(0, buf + off, len) !=
			    crc32c_sw(0, buf + off, len))
				bad++;
	for (i = 0; i < 300; i++) {
		off = rng() % 4096;
		len = rng() % (70000 - 4096);
		if (hw(0xdeadbeef, buf + off, len) !=
		    crc32c_sw(0xdeadbeef, buf + off, len))
			bad++;
	}
	is_int(bad, 0, "hardware and portable paths agree");
	is_int(crc32c(0, buf, 70000), crc32c_sw(0, buf, 70000),
	    "dispatching crc32c agrees");
	free(buf);
}

int
main(void)
{
	plan_lazy();
	test_vectors();
	test_chaining();
	test_hw_vs_sw();
	return done_testing();
}
