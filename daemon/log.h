/*
 * log.h — the daemon's only way to say something.
 *
 * Each event goes either to the systemd journal (sd_journal_send, with structured fields and
 * a MESSAGE_ID) or to stderr as one line: "<level> <message> key=value ...". Target "auto"
 * picks the journal when stderr is connected to it (JOURNAL_STREAM matches stderr's
 * device:inode), else the console. Library code never logs; the daemon logs once, where it
 * decides. Never pass a secret in a message or a field.
 *
 * Secrets: this module prints exactly what it is given, to a place many people can read (the
 * journal, CI logs). Passwords, secret JSON, connection strings with a password, AWS keys and
 * session tokens, and request bodies sent to Secrets Manager must never reach gpd_log(), not
 * even at debug level and not inside an error message copied from a library. Log the secret's
 * name or ARN, never its value.
 *
 * Threads: every function here may be called from any thread, including libuv workers. A
 * console event is written with a single write(2) under a lock, so lines never interleave.
 * errno is preserved across gpd_log(), and "%m" in a format works.
 *
 * Bounds: a message is cut at 2 KiB, marked with "…". Every field value, on both targets, is
 * escaped as messages show input values (base/quote.h: '"' and '\' with a backslash, control
 * and non-ASCII bytes as \xNN, more than GP_QUOTE_MAX bytes cut and marked "..."), so a
 * rejected name cannot reach the journal or a terminal raw. On the
 * console, control characters and '\' are escaped (\n, \t, \xNN, \\) and a value containing a
 * space, '"', '=', '\' or a control character, or an empty one, is double-quoted with '"'
 * escaped, so one event is exactly one line. If the journal cannot be reached, events go to
 * stderr instead.
 *
 * The console speaks to people when it can (gpd_log_console_setup()): on a terminal, or with
 * --color=always, each event is one short line, "dev/ledger  created role ledger_app", in
 * colour (errors red, warnings yellow, changes green), cut to the terminal's width (errors
 * and warnings are never cut); a pass announces itself once in a header line, "dev: commit
 * 2b5fb1f, run b3bb057466c3, 10 entries", and a one-shot command on a terminal keeps a
 * progress line, "dev: entry 3 of 10", up to date in place. Elsewhere (pipes, files, CI) a
 * line keeps the "<level> <message> key=value ..." form without colour or progress, and the
 * pass's commit and run id are in its header instead of on every line; at level debug every
 * field is on every line in both forms. None of this touches the journal: its entries keep
 * every field, and it gets no header.
 */
#ifndef GPD_LOG_H
#define GPD_LOG_H

#include <syslog.h>

#include "base/util.h"

/* Structured fields of an event; NULL members are left out. */
struct gpd_logctx {
	const char *env;        /* GPRDSD_ENV */
	const char *database;   /* GPRDSD_DATABASE */
	const char *key;        /* GPRDSD_KEY */
	const char *action;     /* GPRDSD_ACTION */
	const char *state_from; /* GPRDSD_STATE_FROM */
	const char *state_to;   /* GPRDSD_STATE_TO */
	const char *commit;     /* GPRDSD_COMMIT */
	const char *run;        /* GPRDSD_RUN */
	const char *error;      /* GPRDSD_ERROR: SQLSTATE or AWS error code */
	/* Not a field: what a person at a terminal reads instead of the message, without the
	 * entry's name ("created role ledger_app"); NULL: the message. */
	const char *brief;
};

/* MESSAGE_IDs; explained in contrib/systemd/gprdsd.catalog. */
#define GPD_MID_PASS_STARTED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a01"
#define GPD_MID_PASS_FINISHED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a02"
#define GPD_MID_ACTION_APPLIED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a03"
#define GPD_MID_ACTION_FAILED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a04"
#define GPD_MID_TRANSITION "3a1f6c0e52d74b0c9a4e8f1d2b7c6a05"
#define GPD_MID_GATE_HOLDING "3a1f6c0e52d74b0c9a4e8f1d2b7c6a06"
#define GPD_MID_DRIFT_REPAIRED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a07"
#define GPD_MID_CONFIG_RELOADED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a08"
#define GPD_MID_LEADER_GAINED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a09"
#define GPD_MID_LEADER_LOST "3a1f6c0e52d74b0c9a4e8f1d2b7c6a0a"
#define GPD_MID_INPUT_ERROR "3a1f6c0e52d74b0c9a4e8f1d2b7c6a0b"
#define GPD_MID_ENV_FAILED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a0c"
/* Rotation (DESIGN §4.4), one per step, and a rotation that failed. */
#define GPD_MID_ROTATION_STAGED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a10"
#define GPD_MID_ROTATION_PASSWORD_SET "3a1f6c0e52d74b0c9a4e8f1d2b7c6a11"
#define GPD_MID_ROTATION_VERIFIED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a12"
#define GPD_MID_ROTATION_COMPLETED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a13"
#define GPD_MID_ROTATION_FAILED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a14"
/* An object gprdsd manages that no entry wants any more, reported once. */
#define GPD_MID_ORPHANED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a15"
/* A failed entry attempted before its retry time because `gprdsd retry` asked for it. */
#define GPD_MID_RETRY_REQUESTED "3a1f6c0e52d74b0c9a4e8f1d2b7c6a16"

enum gpd_log_target { GPD_LOG_AUTO, GPD_LOG_JOURNAL, GPD_LOG_CONSOLE };

/* level: "debug", "info", "notice", "warning", "error". Returns 0 or -EINVAL. */
int gpd_log_setup(const char *target, const char *level);
/*
 * gpd_log_setup(): target is "auto", "journal" or "console"; NULL means "auto" and a NULL level
 * means "info", which are also the settings before the first call. Both are validated before
 * either changes, so a failed call leaves logging as it was. "auto" is resolved here, once;
 * "journal" on a host without journald's socket falls back to the console.
 * gpd_log_target_from_string() returns an enum gpd_log_target value or -EINVAL.
 */
int gpd_log_target_from_string(const char *s);
int gpd_log_level_from_string(const char *s); /* LOG_* value or -EINVAL */
bool gpd_log_enabled(int prio);

void gpd_log(int prio, const char *message_id, const struct gpd_logctx *ctx, const char *fmt, ...)
	_printf_(4, 5);

/* --color: "auto" (the default), "always" or "never". Returns an enum gpd_log_color or
 * -EINVAL. */
enum gpd_log_color { GPD_LOG_COLOR_AUTO, GPD_LOG_COLOR_ALWAYS, GPD_LOG_COLOR_NEVER };
int gpd_log_color_from_string(const char *s);
/*
 * How the console speaks, decided once from what stderr is. People's lines when stderr is a
 * terminal or color is ALWAYS. Colour with ALWAYS; with AUTO only on a terminal whose TERM is
 * set and not "dumb", and while NO_COLOR is unset or empty (https://no-color.org; an explicit
 * --color=always wins over it); never with NEVER. oneshot (--once, plan, rotate): each pass's
 * header is printed when the pass begins, and on a terminal that can redraw a line (TERM not
 * "dumb") a progress line is kept; the daemon prints a pass's header only before the first
 * line the pass logs, without timestamps only in one-shot runs, and never a progress line.
 * Before the first call: the "<level> <message> ..." form, as for a pipe.
 */
void gpd_log_console_setup(int color, bool oneshot);
/* The same rules for a command's own output on fd (its summary on stdout): whether it is for
 * people, and whether in colour. */
void gpd_log_console_style(int fd, bool *people, bool *colour);
/* The width of the terminal fd writes to: its window size, else $COLUMNS, else 80 when fd is
 * a terminal and 0 (no limit) when it is not. */
unsigned gpd_terminal_columns(int fd);

/*
 * A pass over ctx->env begins, at ctx->commit, as run ctx->run, over entries entries: its
 * header is printed now (one-shot) or kept for the first console line of that env and run.
 * Nothing on the journal (each of its entries has the commit and run).
 */
void gpd_log_pass_begin(const struct gpd_logctx *ctx, size_t entries);
/* "<env>: <what> <i> of <n>" as the progress line, when one is due (codec/console.h). */
void gpd_log_progress(const struct gpd_logctx *ctx, const char *what, size_t i, size_t n);
/* The pass is over: its progress line goes, so that what follows starts on a clean line. */
void gpd_log_pass_end(void);

#define gpd_log_error(ctx, ...) gpd_log(LOG_ERR, NULL, (ctx), __VA_ARGS__)
#define gpd_log_warning(ctx, ...) gpd_log(LOG_WARNING, NULL, (ctx), __VA_ARGS__)
#define gpd_log_info(ctx, ...) gpd_log(LOG_INFO, NULL, (ctx), __VA_ARGS__)
#define gpd_log_debug(ctx, ...) gpd_log(LOG_DEBUG, NULL, (ctx), __VA_ARGS__)

struct gp_diags;
/* Logs each diagnostic (file:line:col: severity: message) with MESSAGE_ID input error. */
void gpd_log_diags(const struct gp_diags *diags, const struct gpd_logctx *ctx);

#endif
