/*
 * diag.h — errors with a position: "file:line:col: message".
 *
 * Parsers and validators never stop at the first problem when they can go on; they append
 * to a struct gp_diags and return -EINVAL (or another -errno) when any error was added.
 * Line and column are 1-based; 0 means "no position" (then only "file: message" is shown).
 * Messages are built by the module that found the problem and never contain secret values.
 */
#ifndef GP_DIAG_H
#define GP_DIAG_H

#include "base/util.h"

enum gp_severity {
	GP_SEV_ERROR,
	GP_SEV_WARNING,
};

struct gp_diag {
	enum gp_severity severity;
	int code; /* -errno, e.g. -EINVAL for bad input, -ENOENT for a missing file */
	char *file;
	unsigned line;
	unsigned col;
	char *message;
};

struct gp_diags {
	struct gp_diag *v;
	size_t n;
	size_t cap;
	size_t errors; /* number of GP_SEV_ERROR entries */
};

/* Appends one diagnostic; returns 0 or -ENOMEM. file may be NULL. */
int gp_diags_add(struct gp_diags *d, enum gp_severity sev, int code, const char *file,
		 unsigned line, unsigned col, const char *fmt, ...) _printf_(7, 8);
/* The same with a va_list, for the parsers' own printf-like error helpers. */
int gp_diags_vadd(struct gp_diags *d, enum gp_severity sev, int code, const char *file,
		  unsigned line, unsigned col, const char *fmt, va_list ap) _printf_(7, 0);
#define gp_diag_error(d, code, file, line, col, ...)                                               \
	gp_diags_add((d), GP_SEV_ERROR, (code), (file), (line), (col), __VA_ARGS__)
#define gp_diag_warning(d, file, line, col, ...)                                                   \
	gp_diags_add((d), GP_SEV_WARNING, 0, (file), (line), (col), __VA_ARGS__)

/* Moves every entry of src to the end of dst (src is left empty). */
int gp_diags_move(struct gp_diags *dst, struct gp_diags *src);

/* "file:line:col: error: message" into b. */
int gp_diag_format(const struct gp_diag *d, struct gp_buf *b);

void gp_diags_release(struct gp_diags *d);

#endif
