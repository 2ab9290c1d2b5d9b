/*
 * golden.h — compare a produced text with test/golden/<name>, or rewrite the golden file
 * when GPRDSD_UPDATE_GOLDEN=1. Shared by the unit tests; header-only so each test program
 * stays a single translation unit.
 */
#ifndef GP_TEST_GOLDEN_H
#define GP_TEST_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "test/golden"
#endif

/* The whole file, NUL-terminated (length in *len), or NULL when it cannot be opened. */
static inline char *
test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct gp_buf b = {0};
	char chunk[4096];
	size_t n;

	*len = 0;
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		gp_buf_append(&b, chunk, n);
	fclose(f);
	gp_buf_reserve(&b, 0);
	*len = b.len;
	return gp_buf_steal(&b);
}

static inline int
golden_check(const char *name, const char *got)
{
	char path[4096];
	const char *upd = getenv("GPRDSD_UPDATE_GOLDEN");
	FILE *f;
	char *want;
	long n;
	int same;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	if (upd && strcmp(upd, "1") == 0) {
		f = fopen(path, "w");
		if (!f)
			return -1;
		fputs(got, f);
		fclose(f);
		return 0;
	}
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "golden file %s missing (run with GPRDSD_UPDATE_GOLDEN=1)\n", path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	want = calloc(1, (size_t)n + 1);
	if (!want || fread(want, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(want);
		return -1;
	}
	fclose(f);
	same = strcmp(want, got) == 0;
	if (!same)
		fprintf(stderr, "golden mismatch for %s\n--- want\n%s--- got\n%s---\n", name, want,
			got);
	free(want);
	return same ? 0 : -1;
}

#endif
