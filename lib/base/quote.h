/*
 * base/quote.h — how messages show input values, and where they point.
 *
 * Every input value that a hold reason or a diagnostic shows goes through gp_quote() or
 * gp_escape(): quotes and backslashes get a backslash, control characters and every byte
 * outside printable ASCII become \xNN, and values longer than GP_QUOTE_MAX bytes are cut and
 * end in "...". A hostile name therefore cannot forge log lines, terminal escapes or GitHub
 * annotations, nor read as another name (bidi overrides, zero-width spaces).
 *
 * The caller owns the buffer: the functions write into it and return it, so several values
 * can be shown in one message with one buffer each. The input string must not be NULL.
 */
#ifndef GP_BASE_QUOTE_H
#define GP_BASE_QUOTE_H

#include "base/diag.h"

/* Bytes of one input value shown in a message; the rest is cut and shown as "...". */
#define GP_QUOTE_MAX 64
/* Room for the longest result: two quotes, GP_QUOTE_MAX escaped bytes, "..." and NUL. */
#define GP_QUOTE_BUF (GP_QUOTE_MAX * 4 + 8)

/* s escaped into buf, between double quotes when quotes is set. Returns buf. */
const char *gp_escape(char buf[static GP_QUOTE_BUF], const char *s, bool quotes);
/* s escaped between double quotes: "\"name\"". Returns buf. */
const char *gp_quote(char buf[static GP_QUOTE_BUF], const char *s);
/*
 * "\"value\" " for a present value and "" for NULL, so that one format serves both:
 * "username %s%s" gives "username \"x\" must ..." or "username is missing". Returns buf or "".
 */
const char *gp_quote_sp(char buf[static GP_QUOTE_BUF + 1], const char *s);

/* Where a message points: file (may be NULL), 1-based line and column (0: no position). */
struct gp_pos {
	const char *file;
	unsigned line, col;
};

/* An error (code -EINVAL: bad input) or a warning at p; as gp_diag_error()/gp_diag_warning(). */
#define gp_pos_error(d, p, ...)                                                                    \
	gp_diag_error((d), -EINVAL, (p)->file, (p)->line, (p)->col, __VA_ARGS__)
#define gp_pos_warning(d, p, ...) gp_diag_warning((d), (p)->file, (p)->line, (p)->col, __VA_ARGS__)

#endif
