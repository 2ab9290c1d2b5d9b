/*
 * test/fuzz/fuzz.h — what every libFuzzer harness shares.
 *
 * A harness feeds one input to the parsers of one module of lib/, renders what they accept
 * and checks the properties that must hold for any input (a render parses back, a check of
 * what was rendered passes). A property that fails aborts, so libFuzzer keeps the input as a
 * crash; so do AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer, which is why a
 * harness frees everything it was handed.
 */
#ifndef GP_FUZZ_H
#define GP_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold for every input: abort with the expression, so libFuzzer keeps
 * the input. Unlike assert() it stays on in every build type. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__,        \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a NUL-terminated string, for the parsers that take one (an embedded NUL ends
 * it there, as it would for the daemon). NULL only on ENOMEM. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Formats every diagnostic, as `validate` and the daemon's log do, and releases them. */
static inline void
fuzz_diags_flush(struct gp_diags *d)
{
	struct gp_buf b = {0};

	for (size_t i = 0; i < d->n; i++)
		(void)gp_diag_format(&d->v[i], &b);
	gp_buf_release(&b);
	gp_diags_release(d);
}

/* The contract of every parser: a refusal names at least one error and hands nothing out, an
 * acceptance hands out its result. Then the diagnostics are formatted and released. */
static inline void
fuzz_parsed(int r, const void *ret, struct gp_diags *d)
{
	FUZZ_CHECK(r >= 0 ? ret != NULL : (d->errors > 0 && ret == NULL));
	fuzz_diags_flush(d);
}

/* Parses the input with the HCL or YAML front end and dumps the tree it accepts (the golden
 * files' canonical form). Returns the document (gp_doc_free()), or NULL when it was refused. */
typedef int (*fuzz_doc_parse_fn)(const char *buf, size_t len, const char *name, struct gp_doc **ret,
				 struct gp_diags *diags);

static inline struct gp_doc *
fuzz_doc_parse(fuzz_doc_parse_fn parse, const uint8_t *data, size_t size, const char *name)
{
	struct gp_doc *doc = NULL;
	struct gp_diags diags = {0};
	struct gp_buf dump = {0};

	fuzz_parsed(parse((const char *)data, size, name, &doc, &diags), doc, &diags);
	if (doc)
		(void)gp_doc_dump(doc->root, &dump);
	gp_buf_release(&dump);
	return doc;
}

/* Whether two rendered texts are the same bytes. */
static inline int
fuzz_buf_eq(const struct gp_buf *a, const struct gp_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

#endif
