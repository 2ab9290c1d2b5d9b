/*
 * diag.c — collection and formatting of positioned diagnostics. No printing here: the
 * daemon decides where a diagnostic goes (stderr, journal, GitHub annotations).
 */
#include "base/diag.h"

#include <stdio.h>

static const char *const severities[_GP_SEV_MAX] = {
	[GP_SEV_ERROR] = "error",
	[GP_SEV_WARNING] = "warning",
	[GP_SEV_NOTE] = "note",
};

const char *
gp_severity_to_string(enum gp_severity s)
{
	return (size_t)s < ELEMENTSOF(severities) ? severities[s] : NULL;
}

size_t
gp_diags_count(const struct gp_diags *d, enum gp_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].severity == sev;
	return n;
}

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

/* Sets *field to a copy of v unless it has a value or v is NULL. */
static int
set_once(char **field, const char *v)
{
	if (*field || !v)
		return 0;
	*field = strdup(v);
	return *field ? 0 : -ENOMEM;
}

int
gp_diags_set_context(struct gp_diags *d, size_t from, const char *env, const char *key)
{
	for (size_t i = from; i < d->n; i++)
		if (set_once(&d->v[i].env, env) < 0 || set_once(&d->v[i].key, key) < 0)
			return -ENOMEM;
	return 0;
}

static int
cmp_str0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") ?: (a != NULL) - (b != NULL);
}

/* Orders diagnostics by what makes two of them the same (env and key do not count). */
static int
diag_cmp(const struct gp_diag *x, const struct gp_diag *y)
{
	int r = cmp_str0(x->file, y->file);

	if (!r)
		r = (x->line > y->line) - (x->line < y->line);
	if (!r)
		r = (x->col > y->col) - (x->col < y->col);
	if (!r)
		r = (int)x->severity - (int)y->severity;
	return r ? r : strcmp(x->message, y->message);
}

/* Indexes into the array userdata, equal diagnostics by index: the first of them first. */
static int
cmp_index(const void *a, const void *b, void *userdata)
{
	const struct gp_diag *v = userdata;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = diag_cmp(&v[x], &v[y]);

	return r ? r : (x > y) - (x < y);
}

static void
diag_release(struct gp_diag *d)
{
	free(d->file);
	free(d->message);
	free(d->key);
	free(d->env);
}

/* Releases the diagnostics marked in gone, keeps the others in order, recounts the errors. */
static void
drop(struct gp_diags *d, const bool *gone)
{
	size_t n = 0;

	d->errors = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (gone[i]) {
			diag_release(&d->v[i]);
			continue;
		}
		d->v[n++] = d->v[i];
		d->errors += d->v[i].severity == GP_SEV_ERROR;
	}
	d->n = n;
}

int
gp_diags_uniq(struct gp_diags *d)
{
	_cleanup_free_ size_t *order = calloc(d->n + 1, sizeof(*order));
	_cleanup_free_ bool *dup = calloc(d->n + 1, sizeof(*dup));

	if (!order || !dup)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++)
		order[i] = i;
	qsort_r(order, d->n, sizeof(*order), cmp_index, d->v);
	for (size_t k = 1; k < d->n; k++)
		dup[order[k]] = diag_cmp(&d->v[order[k - 1]], &d->v[order[k]]) == 0;
	drop(d, dup);
	return 0;
}

static int
cmp_diag_ptr(const void *a, const void *b)
{
	return diag_cmp(*(const struct gp_diag *const *)a, *(const struct gp_diag *const *)b);
}

int
gp_diags_drop_seen(struct gp_diags *d, const struct gp_diags *seen)
{
	_cleanup_free_ const struct gp_diag **sorted = calloc(seen->n + 1, sizeof(*sorted));
	_cleanup_free_ bool *gone = calloc(d->n + 1, sizeof(*gone));

	if (!sorted || !gone)
		return -ENOMEM;
	for (size_t i = 0; i < seen->n; i++)
		sorted[i] = &seen->v[i];
	qsort(sorted, seen->n, sizeof(*sorted), cmp_diag_ptr);
	for (size_t i = 0; i < d->n && seen->n; i++) {
		const struct gp_diag *key = &d->v[i];

		gone[i] = bsearch(&key, sorted, seen->n, sizeof(*sorted), cmp_diag_ptr) != NULL;
	}
	drop(d, gone);
	return 0;
}

int
gp_diag_format(const struct gp_diag *d, struct gp_buf *b)
{
	const char *sev = gp_severity_to_string(d->severity);

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
	for (size_t i = 0; i < d->n; i++)
		diag_release(&d->v[i]);
	free(d->v);
	*d = (struct gp_diags){0};
}
