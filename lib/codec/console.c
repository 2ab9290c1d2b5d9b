/*
 * codec/console.c — an event as one terminal line (codec/console.h): the pieces in order,
 * colour around the ones that have one, and a cut at the terminal's width that keeps the
 * colours balanced, so that a cut line never leaves the terminal red.
 *
 * Deliberately not here: deciding whether a stream is a terminal, reading the clock or the
 * window size, escaping (log.c escapes what it is handed; a stray control byte becomes '?').
 */
#include "codec/console.h"

#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SGR_RESET "\033[0m"
#define ELLIPSIS "\xe2\x80\xa6" /* "…": one column */
#define LEN(s) (sizeof(s) - 1)

static const char *const tone_sgr[] = {
	[GP_TONE_PLAIN] = NULL,		[GP_TONE_CHANGE] = "\033[32m",
	[GP_TONE_WARNING] = "\033[33m", [GP_TONE_ERROR] = "\033[1;31m",
	[GP_TONE_HEADER] = "\033[1m",	[GP_TONE_DIM] = "\033[2m",
};

/* A line being written. room: bytes that text may use; the ellipsis of a cut line is kept
 * out of it, and so is the reset of a colour while the colour is open, so both always fit. */
struct out {
	char *p;
	size_t len, room;
	size_t budget; /* columns left; SIZE_MAX: no limit */
	bool cut;
};

static size_t
columns(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static bool
put_raw(struct out *o, const char *s, size_t n)
{
	if (n > o->room - o->len)
		return false;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	return true;
}

/* One UTF-8 character of s (its lead byte and continuation bytes); false when it does not
 * fit in the columns or the bytes left. */
static bool
put_char(struct out *o, const char *s, size_t *n)
{
	unsigned char c = (unsigned char)s[0];
	size_t k = 1;

	while (c >= 0xc0 && k < 4 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k++;
	*n = k;
	if (o->budget == 0)
		return false;
	if (c < 0x20 || c == 0x7f) {
		if (!put_raw(o, "?", 1))
			return false;
	} else if (!put_raw(o, s, k)) {
		return false;
	}
	if (o->budget != SIZE_MAX)
		o->budget--;
	return true;
}

/* A piece of the line in its colour (sgr NULL: none). False once the line is cut. */
static bool
put_piece(struct out *o, const char *s, const char *sgr)
{
	bool open = false;
	size_t n;

	if (o->cut)
		return false;
	if (sgr && strlen(sgr) + LEN(SGR_RESET) <= o->room - o->len) {
		put_raw(o, sgr, strlen(sgr));
		o->room -= LEN(SGR_RESET);
		open = true;
	} else if (sgr) {
		o->cut = true;
	}
	for (; !o->cut && *s; s += n)
		if (!put_char(o, s, &n))
			o->cut = true;
	if (o->cut) {
		memcpy(o->p + o->len, ELLIPSIS, LEN(ELLIPSIS));
		o->len += LEN(ELLIPSIS);
	}
	if (open) {
		o->room += LEN(SGR_RESET);
		memcpy(o->p + o->len, SGR_RESET, LEN(SGR_RESET));
		o->len += LEN(SGR_RESET);
	}
	return !o->cut;
}

size_t
gp_console_format(char *dst, size_t size, const struct gp_console_line *l)
{
	const char *sgr = l->color && (size_t)l->tone < sizeof(tone_sgr) / sizeof(tone_sgr[0])
				  ? tone_sgr[l->tone]
				  : NULL;
	const char *dim = l->color ? tone_sgr[GP_TONE_DIM] : NULL;
	size_t total = columns(l->text);
	struct out o = {.p = dst, .budget = SIZE_MAX};

	if (size < 1 + LEN(ELLIPSIS) + 16) {
		if (size)
			dst[0] = '\0';
		return 0;
	}
	o.room = size - 1 - LEN(ELLIPSIS);
	total += l->clock ? columns(l->clock) + 1 : 0;
	total += l->subject ? columns(l->subject) + 2 : 0;
	total += l->tail ? columns(l->tail) + 1 : 0;
	if (l->width && total > l->width)
		o.budget = l->width - 1; /* the last column is the ellipsis */
	if (l->clock && put_piece(&o, l->clock, dim))
		put_piece(&o, " ", NULL);
	if (l->subject && put_piece(&o, l->subject, NULL))
		put_piece(&o, "  ", NULL);
	put_piece(&o, l->text, sgr);
	if (l->tail && put_piece(&o, " ", NULL))
		put_piece(&o, l->tail, dim);
	dst[o.len] = '\0';
	return o.len;
}

/* Appends a formatted piece to dst[size] at *len, which stays within the buffer. */
static void append(char *dst, size_t size, size_t *len, const char *fmt, ...) _printf_(4, 5);

static void
append(char *dst, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len + 1 >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(dst + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

size_t
gp_console_header(char *dst, size_t size, const char *env, const char *commit, size_t commit_len,
		  const char *run, size_t entries)
{
	size_t len = 0;
	/* %.*s with a negative precision prints the whole string. */
	int keep = commit && commit_len && strlen(commit) > commit_len ? (int)commit_len : -1;

	if (!size)
		return 0;
	dst[0] = '\0';
	append(dst, size, &len, "%s:", env ? env : "?");
	if (commit && *commit)
		append(dst, size, &len, " commit %.*s,", keep, commit);
	if (run && *run)
		append(dst, size, &len, " run %s,", run);
	append(dst, size, &len, " %zu entr%s", entries, entries == 1 ? "y" : "ies");
	return len;
}

size_t
gp_console_summary(char *dst, size_t size, const char *env, const struct gp_console_counts *c)
{
	size_t len = 0;

	if (!size)
		return 0;
	dst[0] = '\0';
	append(dst, size, &len, "%s: %zu active, %zu pending", env ? env : "?", c->active,
	       c->pending);
	if (c->gated && c->invalid)
		append(dst, size, &len, " (%zu at a gate, %zu invalid)", c->gated, c->invalid);
	else if (c->gated || c->invalid)
		append(dst, size, &len, c->gated ? " (%zu at a gate)" : " (%zu invalid)",
		       c->gated ? c->gated : c->invalid);
	append(dst, size, &len, ", %zu failed; %zu change%s, %zu error%s", c->failed, c->applied,
	       c->applied == 1 ? "" : "s", c->errors, c->errors == 1 ? "" : "s");
	if (c->orphans)
		append(dst, size, &len, "; %zu orphaned", c->orphans);
	append(dst, size, &len, "; %.3fs, %lu SQL, %u Secrets Manager call%s",
	       (double)c->duration_ms / 1000.0, c->statements, c->sm_calls,
	       c->sm_calls == 1 ? "" : "s");
	return len;
}

bool
gp_console_progress_due(uint64_t now_ms, uint64_t started_ms, uint64_t drawn_ms)
{
	if (now_ms < started_ms || now_ms - started_ms < GP_CONSOLE_PROGRESS_DELAY_MS)
		return false;
	return drawn_ms == 0 || now_ms < drawn_ms ||
	       now_ms - drawn_ms >= GP_CONSOLE_PROGRESS_INTERVAL_MS;
}
