/*
 * util.h — small helpers shared by lib/ and daemon/.
 *
 * _cleanup_(f) runs f(&var) when var goes out of scope; TAKE_PTR(p) hands ownership on and
 * leaves NULL behind. struct gp_buf is a growable byte buffer that is always NUL-terminated.
 * Allocation failure in these helpers is reported as -ENOMEM, never by aborting.
 */
#ifndef GP_UTIL_H
#define GP_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _warn_unused_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp = (p);                                                           \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})

#define DEFINE_FREEP(type, fn)                                                                     \
	static inline void fn##p(type **p)                                                         \
	{                                                                                          \
		fn(*p);                                                                            \
		*p = NULL;                                                                         \
	}

static inline void
gp_freep(void *p)
{
	free(*(void **)p);
	*(void **)p = NULL;
}
#define _cleanup_free_ _cleanup_(gp_freep)

static inline bool
gp_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline bool
gp_isempty(const char *s)
{
	return !s || !*s;
}

/* asprintf() that returns the string, or NULL on failure (asprintf leaves it undefined). */
char *gp_strprintf(const char *fmt, ...) _printf_(1, 2);

/* strdup that accepts NULL (returns NULL, which callers must tell apart from ENOMEM). */
char *gp_strdup0(const char *s);

/* 64-bit FNV-1a: h = gp_fnv64(GP_FNV64_INIT, p, n), then more calls to continue. For keys
 * and change detection, never for anything an adversary could exploit. */
#define GP_FNV64_INIT 1469598103934665603ULL
uint64_t gp_fnv64(uint64_t h, const void *p, size_t n);

/* Growable, NUL-terminated byte buffer. Zero-initialise, then append. */
struct gp_buf {
	char *p;
	size_t len;
	size_t cap;
	bool oom; /* sticky: an append failed; the content is incomplete */
};

int gp_buf_reserve(struct gp_buf *b, size_t extra);
int gp_buf_append(struct gp_buf *b, const void *data, size_t len);
int gp_buf_puts(struct gp_buf *b, const char *s);
int gp_buf_putc(struct gp_buf *b, char c);
int gp_buf_printf(struct gp_buf *b, const char *fmt, ...) _printf_(2, 3);
int gp_buf_vprintf(struct gp_buf *b, const char *fmt, va_list ap) _printf_(2, 0);
/* Returns the string (owned by the caller) and resets the buffer; NULL after an OOM. */
char *gp_buf_steal(struct gp_buf *b);
void gp_buf_release(struct gp_buf *b);
/* Wipes the content (explicit_bzero) before freeing: for buffers that held a secret. */
void gp_buf_release_secure(struct gp_buf *b);

/* Growable array of owned strings. */
struct gp_strv {
	char **v;
	size_t n;
	size_t cap;
};
int gp_strv_push(struct gp_strv *sv, const char *s);
bool gp_strv_contains(const struct gp_strv *sv, const char *s);
/* Sorts the strings (strcmp order); then gp_strv_has() finds one in O(log n). */
void gp_strv_sort(struct gp_strv *sv);
bool gp_strv_has(const struct gp_strv *sorted, const char *s);
/* Sorts the strings and drops the duplicates: a set built by pushing everything and
 * deduplicating once, O(n log n), instead of a gp_strv_contains() scan before each push. */
void gp_strv_uniq(struct gp_strv *sv);
void gp_strv_release(struct gp_strv *sv);

/*
 * Durations "30s", "5m", "1h", "14d" (and "250ms", plain "0") → milliseconds.
 * Returns 0 or -EINVAL.
 */
int gp_duration_parse(const char *s, uint64_t *ret_ms);
/* Formats ms as the largest exact unit ("90s", "5m", "14d"). */
void gp_duration_format(uint64_t ms, char *buf, size_t len);

/* A span of seconds as people read it in a table: "45s", "12m", "5h", "3d" (the largest
 * unit that leaves at least 2 of it, rounded down; negative spans as 0s). */
void gp_span_format(int64_t secs, char *buf, size_t len);

/* Seconds since the epoch ↔ "YYYY-MM-DDTHH:MM:SSZ". Pure (no time zone, no clock). */
void gp_time_format(int64_t t, char buf[static 21]);
int gp_time_parse(const char *s, int64_t *ret);
/* RFC 3339 as people write it: gp_time_parse()'s form, or with a numeric offset
 * ("2026-12-06T10:00:00+01:00"), converted to UTC. */
int gp_time_parse_rfc3339(const char *s, int64_t *ret);
/* A daily UTC window "HH:MM-HH:MM" → minutes after midnight (end may be before start: the
 * window spans midnight). Returns 0 or -EINVAL. */
int gp_window_parse(const char *s, unsigned *ret_start, unsigned *ret_end);
/* Whether the time t (seconds since the epoch) falls inside the window [start, end). */
bool gp_window_contains(unsigned start, unsigned end, int64_t t);

/* True when s is valid UTF-8 without NUL bytes (len bytes). */
bool gp_utf8_valid(const char *s, size_t len);

/* Levenshtein distance of two short strings (SIZE_MAX when either is over 64 bytes). */
size_t gp_edit_distance(const char *a, const char *b);
/* The candidate closest to key, for a "did you mean" hint, or NULL when none is close:
 * fewer than 3 edits and fewer edits than key has characters ("x" is 2 edits from "aws"). */
const char *gp_did_you_mean(const char *key, const char *const *cands, size_t n);

/*
 * A process-wide stop request for the loops of lib/ that run for seconds on large inputs
 * (parsing a 40 MB catalog): the shell points it at its SIGTERM flag once, before any thread
 * starts; those loops then end with -ECANCELED within milliseconds. NULL (the default): never.
 */
void gp_cancel_watch(const atomic_bool *flag);
bool gp_cancelled(void);

#endif
