/*
 * diag.h — errors with a position: "file:line:col: message".
 *
 * Parsers and validators never stop at the first problem when they can go on; they append
 * to a struct gp_diags and return -EINVAL (or another -errno) when any error was added.
 * Line and column are 1-based; 0 means "no position" (then only "file: message" is shown).
 * Messages are built by the module that found the problem and never contain secret values.
 *
 * One mistake, one diagnostic: what follows from a problem already reported (a field that is
 * missing because its key was misspelt, an entry held because its owner is invalid) is not
 * reported again as an error of its own; a consequence that lands on another entry is a note.
 */
#ifndef GP_DIAG_H
#define GP_DIAG_H

#include "base/util.h"

enum gp_severity {
	GP_SEV_ERROR,
	GP_SEV_WARNING,
	GP_SEV_NOTE, /* a consequence of an error reported elsewhere, e.g. an entry it holds */
	_GP_SEV_MAX,
};
/* "error", "warning", "note" (NULL when out of range): what text output and JSON show. */
const char *gp_severity_to_string(enum gp_severity s);

struct gp_diag {
	enum gp_severity severity;
	int code; /* -errno, e.g. -EINVAL for bad input, -ENOENT for a missing file */
	char *file;
	unsigned line;
	unsigned col;
	char *message;
	/* Which entry of file the diagnostic concerns: its key there (an application_databases
	 * key in a tfvars file, a database under databases: in the catalog), NULL when it
	 * concerns the file as a whole. Set by gp_diags_set_context(). */
	char *key;
	char *env; /* the environment whose inputs gave it; NULL: shared or unknown */
};

struct gp_diags {
	struct gp_diag *v;
	size_t n;
	size_t cap;
	size_t errors; /* number of GP_SEV_ERROR entries */
};
/* How many diagnostics of d have severity sev. */
size_t gp_diags_count(const struct gp_diags *d, enum gp_severity sev);

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
#define gp_diag_note(d, file, line, col, ...)                                                      \
	gp_diags_add((d), GP_SEV_NOTE, 0, (file), (line), (col), __VA_ARGS__)

/*
 * Gives the diagnostics d->v[from..] an env and a key (either may be NULL: left as it is),
 * where they have none yet: a reader calls it after each entry with the entry's key, and a
 * caller after each environment. Returns 0 or -ENOMEM.
 */
int gp_diags_set_context(struct gp_diags *d, size_t from, const char *env, const char *key);

/*
 * Drops every diagnostic equal to an earlier one (severity, file, line, col and message; env
 * and key do not count), keeping the order of the others and the count of errors right. Two
 * checks may find one problem (inputs/lint.h: the catalog's checks and the join word it the
 * same way); shown and counted, it is one. O(n log n). Returns 0 or -ENOMEM (d unchanged).
 */
int gp_diags_uniq(struct gp_diags *d);
/*
 * Drops every diagnostic of d equal to one of seen (as gp_diags_uniq() compares them): what a
 * run reported once for all environments is not reported again for each. O((n + m) log m).
 * Returns 0 or -ENOMEM (d unchanged).
 */
int gp_diags_drop_seen(struct gp_diags *d, const struct gp_diags *seen);

/* Moves every entry of src to the end of dst (src is left empty). */
int gp_diags_move(struct gp_diags *dst, struct gp_diags *src);

/* "file:line:col: error: message" into b ("warning", "note" as the severity says). */
int gp_diag_format(const struct gp_diag *d, struct gp_buf *b);

void gp_diags_release(struct gp_diags *d);

#endif
