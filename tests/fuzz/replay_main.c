/*
 * replay_main.c: runs a fuzz target over its seed corpus without libFuzzer,
 * so make check exercises every fuzz target in every build.
 *
 * The program replay_<codec> reads every file in
 * $top_srcdir/tests/fuzz/corpus/<codec>/
 * (or the files/directories named on the command line) and prints TAP:
 * one line per input.  A crash or sanitizer report fails the test.
 */
#include <config.h>

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ntests;

static int
replay_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "rb")) == NULL) {
		printf("not ok %d - %s: %s\n", ++ntests, path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *p;

			cap = cap ? cap * 2 : 4096;
			if ((p = realloc(buf, cap)) == NULL)
				goto out;
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, fp);
		if (n == 0)
			break;
		len += n;
	}
	/* Copy to an exact-size buffer so ASan sees any over-read. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL)
			goto out;
		memcpy(exact, buf, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	printf("ok %d - %s (%zu bytes)\n", ++ntests, path, len);
	rc = 0;
out:
	if (rc != 0)
		printf("not ok %d - %s: out of memory\n", ++ntests, path);
	fclose(fp);
	free(buf);
	return rc;
}

static int
replay_path(const char *path)
{
	struct dirent **names;
	struct stat st;
	char sub[4096];
	int i, n, rc = 0;

	if (stat(path, &st) != 0) {
		printf("not ok %d - %s: %s\n", ++ntests, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	if ((n = scandir(path, &names, NULL, alphasort)) < 0) {
		printf("not ok %d - %s: %s\n", ++ntests, path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(
			    sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
			if (replay_path(sub) != 0)
				rc = -1;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *base, *top;
	char dir[4096];
	int i, rc = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (replay_path(argv[i]) != 0)
				rc = 1;
	} else {
		base = strrchr(argv[0], '/');
		base = base ? base + 1 : argv[0];
		if (strncmp(base, "replay_", 7) == 0)
			base += 7;
		if ((top = getenv("top_srcdir")) == NULL)
			top = ".";
		snprintf(
		    dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top, base);
		if (replay_path(dir) != 0)
			rc = 1;
	}
	printf("1..%d\n", ntests);
	return rc || ntests == 0;
}
