/*
 * diag.c — collection and formatting of positioned diagnostics. No printing here: the
 * daemon decides where a diagnostic goes (stderr, journal, GitHub annotations).
 */
#include "base/diag.h"

#include <stdio.h>

int
gp_diags_vadd(struct gp_diags *d, enum gp_severity sev, int code, const char *file, unsigned line,
	      unsigned col, const char *fmt, va_list ap)
{
	struct gp_buf msg = {0};
	struct gp_diag *e;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct gp_diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	gp_buf_vprintf(&msg, fmt, ap);
	e = &d->v[d->n];
	*e = (struct gp_diag){
		.severity = sev,
		.code = code ? code : (sev == GP_SEV_ERROR ? -EINVAL : 0),
		.file = gp_strdup0(file),
		.line = line,
		.col = col,
		.message = gp_buf_steal(&msg),
	};
	if (!e->message || (file && !e->file)) {
		free(e->message);
		free(e->file);
		return -ENOMEM;
	}
	d->n++;
	if (sev == GP_SEV_ERROR)
		d->errors++;
	return 0;
}

int
gp_diags_add(struct gp_diags *d, enum gp_severity sev, int code, const char *file, unsigned line,
	     unsigned col, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_diags_vadd(d, sev, code, file, line, col, fmt, ap);
	va_end(ap);
	return r;
}

int
gp_diags_move(struct gp_diags *dst, struct gp_diags *src)
{
	for (size_t i = 0; i < src->n; i++) {
		if (dst->n == dst->cap) {
			size_t cap = dst->cap ? dst->cap * 2 : 8;
			struct gp_diag *v = realloc(dst->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			dst->v = v;
			dst->cap = cap;
		}
		dst->v[dst->n++] = src->v[i];
		if (src->v[i].severity == GP_SEV_ERROR)
			dst->errors++;
	}
	free(src->v);
	*src = (struct gp_diags){0};
	return 0;
}

int
gp_diag_format(const struct gp_diag *d, struct gp_buf *b)
{
	const char *sev = d->severity == GP_SEV_ERROR ? "error" : "warning";

	if (d->file && d->line)
		return gp_buf_printf(b, "%s:%u:%u: %s: %s", d->file, d->line, d->col ? d->col : 1,
				     sev, d->message);
	if (d->file)
		return gp_buf_printf(b, "%s: %s: %s", d->file, sev, d->message);
	return gp_buf_printf(b, "%s: %s", sev, d->message);
}

void
gp_diags_release(struct gp_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].message);
	}
	free(d->v);
	*d = (struct gp_diags){0};
}
