/*
 * codec/console.h — how an event looks on a terminal: one short line, coloured by what it
 * says, cut to the terminal's width; the header line of a pass; and the pacing of the
 * progress line that a long pass keeps up to date in place.
 *
 * Pure: the caller says what time it is, how wide the terminal is and whether colour is on
 * (daemon/log.c decides that from the stream, --color, NO_COLOR and TERM). Output goes into a
 * caller's fixed buffer, never the heap, because logging must work when memory is short.
 *
 * Text handed in should already be escaped (log.h): a control byte that slips through is
 * written as '?', so the only escape sequences in a line are the colours added here.
 */
#ifndef GP_CODEC_CONSOLE_H
#define GP_CODEC_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a line says, which picks its colour. */
enum gp_tone {
	GP_TONE_PLAIN,
	GP_TONE_CHANGE,	 /* something was changed: green */
	GP_TONE_WARNING, /* yellow */
	GP_TONE_ERROR,	 /* red */
	GP_TONE_HEADER,	 /* a pass's header: bold */
	GP_TONE_DIM,	 /* detail (debug): dim */
};

struct gp_console_line {
	const char *clock;   /* "HH:MM:SS", shown first and dim; NULL: none */
	const char *subject; /* what the line is about ("dev/ledger"); NULL: none */
	const char *text;    /* the event */
	const char *tail;    /* detail after the text, dim ("env=dev run=..."); NULL: none */
	enum gp_tone tone;   /* of the text */
	bool color;	     /* add SGR colour sequences */
	unsigned width;	     /* columns the line must fit in; 0: no limit */
};

/*
 * Writes "<clock> <subject>  <text> <tail>" (absent parts and their spaces left out), without
 * a newline, into dst[size] and returns its length (always < size; dst is NUL-terminated).
 * With a width, a longer line is cut to width columns, its last one "…". Columns are counted
 * as UTF-8 characters; colour sequences take none. A line cut by size ends in "…" too.
 */
size_t gp_console_format(char *dst, size_t size, const struct gp_console_line *l);

/*
 * A pass's header: "dev: commit 2b5fb1f, run b3bb057466c3, 10 entries". commit_len > 0
 * shortens the commit to that many characters; a NULL or empty commit or run is left out.
 * Returns the length, as gp_console_format() does.
 */
size_t gp_console_header(char *dst, size_t size, const char *env, const char *commit,
			 size_t commit_len, const char *run, size_t entries);

/* What a one-shot pass did, for gp_console_summary(). */
struct gp_console_counts {
	size_t active, pending, gated, invalid, failed; /* entries */
	size_t applied, errors, orphans;
	uint64_t duration_ms;
	unsigned long statements; /* SQL statements */
	unsigned sm_calls;	  /* Secrets Manager calls */
};

/*
 * The end of a pass on a terminal, short enough for one line: "dev: 5 active, 1 pending (1 at
 * a gate), 0 failed; 31 changes, 0 errors; 0.544s, 55 SQL, 7 Secrets Manager calls". Counts
 * that are rarely other than zero (at a gate, invalid, orphaned) are left out when zero.
 * Returns the length, as gp_console_format() does.
 */
size_t gp_console_summary(char *dst, size_t size, const char *env,
			  const struct gp_console_counts *c);

/* The progress line waits this long into a pass (a short pass never shows one) and is
 * redrawn at most this often. */
#define GP_CONSOLE_PROGRESS_DELAY_MS 1000
#define GP_CONSOLE_PROGRESS_INTERVAL_MS 100

/* Whether a progress line is due at now_ms, for a pass started at started_ms whose line was
 * last drawn at drawn_ms (0: never). Monotonic milliseconds. */
bool gp_console_progress_due(uint64_t now_ms, uint64_t started_ms, uint64_t drawn_ms);

#endif
