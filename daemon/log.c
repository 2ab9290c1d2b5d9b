/*
 * log.c — one event in, one journal entry or one stderr line out.
 *
 * An event is a priority, an optional MESSAGE_ID, a struct gpd_logctx of structured fields and
 * a printf-style message. The message is formatted into a bounded buffer (long ones end in
 * "…"). With the journal as target, the event becomes one entry sent with sd_journal_sendv():
 * MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=gprdsd, MESSAGE_ID and a GPRDSD_* field per non-NULL
 * member of the context. With the console as target, it becomes exactly one line on stderr,
 * "<level> <message> env=... database=...", in which control characters are escaped and values
 * that would be ambiguous are quoted, so that one event is always one line and a line can be
 * split back into its fields.
 *
 * Any thread may log: the settings are atomics, the journal client is thread-safe, and a
 * console line is written with one write(2) under a mutex so lines never interleave.
 *
 * On a terminal the console line is for people instead (log.h): the entry's name, the
 * event's brief text or its message without the name, colour by what it says, a cut at the
 * terminal's width (codec/console.c formats it); a header line per pass; and a progress line
 * that every other line clears first and puts back after itself.
 *
 * Deliberately not here: no buffering, no rate limiting (journald does that per service), no
 * timestamps on lines that are not for a terminal (whatever collects stderr adds its own), no
 * heap allocation (logging must work when memory is short), and no knowledge of what a secret
 * is. This module prints exactly what callers hand it; keeping secrets out is their job.
 */
#include "log.h"

#include "base/diag.h"
#include "base/quote.h"
#include "codec/console.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Without this, sd_journal_sendv() would record CODE_FILE=log.c for every entry, which tells
 * the reader nothing and costs three fields per entry. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

/* Bounds, in bytes, chosen so that an event never needs the heap and a worker thread's stack
 * is not strained: a message longer than a screenful is a bug in the caller anyway. */
#define GPD_LOG_MESSAGE_MAX 2048
#define GPD_LOG_VALUE_MAX 256
/* The worst case, every byte escaped to four, is about 17.5 KiB: a console line is never cut in
 * practice, and the cut that remains is a safety net, not a format. */
#define GPD_LOG_LINE_MAX 18432

#define GPD_LOG_ELLIPSIS "\xe2\x80\xa6" /* "…" in UTF-8 */
#define GPD_LOG_IDENTIFIER "gprdsd"

static const struct {
	const char *journal; /* journal field name */
	const char *console; /* key on a console line */
	size_t offset;	     /* of the const char * member in struct gpd_logctx */
	bool per_pass;	     /* the same on every line of a pass: on the console, said once in
			      * the pass's header, and on each line only at level debug */
} gpd_log_fields[] = {
	{"GPRDSD_ENV", "env", offsetof(struct gpd_logctx, env), false},
	{"GPRDSD_DATABASE", "database", offsetof(struct gpd_logctx, database), false},
	{"GPRDSD_KEY", "key", offsetof(struct gpd_logctx, key), false},
	{"GPRDSD_ACTION", "action", offsetof(struct gpd_logctx, action), false},
	{"GPRDSD_STATE_FROM", "from", offsetof(struct gpd_logctx, state_from), false},
	{"GPRDSD_STATE_TO", "to", offsetof(struct gpd_logctx, state_to), false},
	{"GPRDSD_COMMIT", "commit", offsetof(struct gpd_logctx, commit), true},
	{"GPRDSD_RUN", "run", offsetof(struct gpd_logctx, run), true},
	{"GPRDSD_ERROR", "error", offsetof(struct gpd_logctx, error), false},
};

#define GPD_LOG_NFIELDS ELEMENTSOF(gpd_log_fields)

/* Indexed by LOG_* priority. The first five are what gpd_log_setup() accepts; the others can
 * still be logged, so they need a name on the console. */
static const char *const gpd_log_level_names[] = {
	[LOG_EMERG] = "emergency", [LOG_ALERT] = "alert",     [LOG_CRIT] = "critical",
	[LOG_ERR] = "error",	   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",	   [LOG_DEBUG] = "debug",
};

static const char *const gpd_log_target_names[] = {
	[GPD_LOG_AUTO] = "auto",
	[GPD_LOG_JOURNAL] = "journal",
	[GPD_LOG_CONSOLE] = "console",
};

/* Settings are read by every logging thread and changed only by gpd_log_setup(), so relaxed
 * atomics suffice: a thread that sees the old level for one more event does no harm. Before any
 * setup, events at info and above go where "auto" says, so early errors are not lost. */
static atomic_int gpd_log_max_level = LOG_INFO;
static atomic_int gpd_log_resolved = -1; /* GPD_LOG_JOURNAL or GPD_LOG_CONSOLE once resolved */
static pthread_mutex_t gpd_log_console_lock = PTHREAD_MUTEX_INITIALIZER;

/* How the console speaks (gpd_log_console_setup()). */
static atomic_int gpd_log_color;    /* --color: enum gpd_log_color */
static atomic_bool gpd_log_people;  /* lines for people, not the key=value form */
static atomic_bool gpd_log_colour;  /* SGR colours on those lines */
static atomic_bool gpd_log_oneshot; /* --once, plan: headers at once, no timestamps */
static atomic_bool gpd_log_redraw;  /* a progress line may be drawn on stderr */

/* A pass's header, printed at its beginning or kept for its first line. Under the console
 * lock. One per environment: a pass that begins replaces its environment's previous one. */
struct gpd_log_header {
	char env[64], run[16], commit[64];
	size_t entries;
	bool pending;
};
static struct gpd_log_header gpd_log_headers[8];

/* The progress line of a one-shot run's pass. Under the console lock. */
struct gpd_log_bar {
	uint64_t started_ms, drawn_ms; /* monotonic; 0: no pass, never drawn */
	size_t shown;		       /* columns it takes on the screen now */
	char text[256];
};
static struct gpd_log_bar gpd_log_bar;

int
gpd_log_level_from_string(const char *s)
{
	static const int accepted[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(accepted); i++)
		if (strcmp(s, gpd_log_level_names[accepted[i]]) == 0)
			return accepted[i];
	return -EINVAL;
}

int
gpd_log_target_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(gpd_log_target_names); i++)
		if (strcmp(s, gpd_log_target_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

/*
 * systemd sets JOURNAL_STREAM="<dev>:<ino>" for a service whose stdout or stderr is connected
 * to journald. Comparing it with what stderr actually is guards against the variable being
 * inherited by a child whose stderr was redirected elsewhere (a shell, a pipe to a file).
 */
static bool
gpd_log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (gp_isempty(e))
		return false;
	errno = 0;
	dev = strtoull(e, &end, 10);
	if (errno || end == e || *end != ':')
		return false;
	e = end + 1;
	ino = strtoull(e, &end, 10);
	if (errno || end == e || *end != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/*
 * sd_journal_sendv() silently succeeds when journald's socket does not exist, so a forced
 * "journal" target on a host without journald (a container, CI) would swallow every event.
 * Checked once, at setup: journald's socket, once there, stays while the host runs.
 */
static int
gpd_log_resolve(int target)
{
	if (target == GPD_LOG_AUTO)
		return gpd_log_stderr_is_journal() ? GPD_LOG_JOURNAL : GPD_LOG_CONSOLE;
	if (target == GPD_LOG_JOURNAL && access("/run/systemd/journal/socket", F_OK) < 0)
		return GPD_LOG_CONSOLE;
	return target;
}

int
gpd_log_setup(const char *target, const char *level)
{
	int t = gpd_log_target_from_string(target ? target : "auto");
	int l = gpd_log_level_from_string(level ? level : "info");

	/* Validate both before changing either, so a bad reload leaves logging as it was. */
	if (t < 0 || l < 0)
		return -EINVAL;
	atomic_store_explicit(&gpd_log_resolved, gpd_log_resolve(t), memory_order_relaxed);
	atomic_store_explicit(&gpd_log_max_level, l, memory_order_relaxed);
	return 0;
}

int
gpd_log_color_from_string(const char *s)
{
	static const char *const names[] = {
		[GPD_LOG_COLOR_AUTO] = "auto",
		[GPD_LOG_COLOR_ALWAYS] = "always",
		[GPD_LOG_COLOR_NEVER] = "never",
	};

	for (size_t i = 0; s && i < ELEMENTSOF(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

/* A terminal that understands colours and redraws a line: TERM set, and not "dumb" (what
 * Emacs' shell buffers and some CI runners set). */
static bool
gpd_log_term_capable(void)
{
	const char *term = getenv("TERM");

	return !gp_isempty(term) && strcmp(term, "dumb") != 0;
}

void
gpd_log_console_style(int fd, bool *people, bool *colour)
{
	int color = atomic_load(&gpd_log_color);
	bool tty = isatty(fd) == 1;

	*people = tty || color == GPD_LOG_COLOR_ALWAYS;
	*colour = color == GPD_LOG_COLOR_ALWAYS ||
		  (color == GPD_LOG_COLOR_AUTO && tty && gpd_log_term_capable() &&
		   gp_isempty(getenv("NO_COLOR")));
}

void
gpd_log_console_setup(int color, bool oneshot)
{
	bool people, colour;

	atomic_store(&gpd_log_color, color);
	gpd_log_console_style(STDERR_FILENO, &people, &colour);
	atomic_store(&gpd_log_people, people);
	atomic_store(&gpd_log_colour, colour);
	atomic_store(&gpd_log_oneshot, oneshot);
	atomic_store(&gpd_log_redraw,
		     oneshot && isatty(STDERR_FILENO) == 1 && gpd_log_term_capable());
}

bool
gpd_log_enabled(int prio)
{
	return (prio & LOG_PRIMASK) <=
	       atomic_load_explicit(&gpd_log_max_level, memory_order_relaxed);
}

static int
gpd_log_target_now(void)
{
	int t = atomic_load_explicit(&gpd_log_resolved, memory_order_relaxed);

	/* Two threads racing here compute the same answer, so the race is harmless. */
	if (t < 0) {
		t = gpd_log_resolve(GPD_LOG_AUTO);
		atomic_store_explicit(&gpd_log_resolved, t, memory_order_relaxed);
	}
	return t;
}

/* Drops a UTF-8 sequence cut short at the end of s[0..*len), so a truncated string stays valid
 * UTF-8 and the ellipsis does not fuse with half a character. */
static void
gpd_log_utf8_trim(const char *s, size_t *len)
{
	size_t n = *len, i = n, need;
	unsigned char c;

	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	if (c < 0xc0)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (n - (i - 1) < need)
		*len = i - 1;
}

/* Copies src into dst[size], ending it in "…" when it does not fit. Returns the length. */
static size_t
gpd_log_copy_bounded(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src), room = size - sizeof(GPD_LOG_ELLIPSIS);

	if (len < size) {
		memcpy(dst, src, len + 1);
		return len;
	}
	len = room;
	memcpy(dst, src, len);
	gpd_log_utf8_trim(dst, &len);
	memcpy(dst + len, GPD_LOG_ELLIPSIS, sizeof(GPD_LOG_ELLIPSIS));
	return len + sizeof(GPD_LOG_ELLIPSIS) - 1;
}

/*
 * Field i of ctx, escaped into buf as messages show input values (base/quote.h: non-ASCII and
 * control bytes as \xNN, at most GP_QUOTE_MAX bytes), or NULL when absent. A field often
 * holds a name that was rejected (a key with a bidi override), and a journal field or a
 * console tail is read and filtered as trustingly as the message. Every field is escaped, so
 * none depends on its caller having checked it.
 */
static const char *
gpd_log_field_value(const struct gpd_logctx *ctx, size_t i, char buf[static GP_QUOTE_BUF])
{
	const char *v =
		ctx ? *(const char *const *)((const char *)ctx + gpd_log_fields[i].offset) : NULL;

	return v ? gp_escape(buf, v, false) : NULL;
}

/* message is the whole "MESSAGE=..." field, len its length. Returns sd_journal_sendv()'s 0 or
 * -errno. */
static int
gpd_log_journal(int prio, const char *message_id, const struct gpd_logctx *ctx, const char *message,
		size_t len)
{
	char priority[sizeof("PRIORITY=") + 4], mid[sizeof("MESSAGE_ID=") + 32];
	char fields[GPD_LOG_NFIELDS][sizeof("GPRDSD_STATE_FROM=") + GPD_LOG_VALUE_MAX];
	struct iovec iov[4 + GPD_LOG_NFIELDS];
	int n = 0;

	iov[n++] = (struct iovec){(char *)message, len};
	snprintf(priority, sizeof(priority), "PRIORITY=%d", prio & LOG_PRIMASK);
	iov[n++] = (struct iovec){priority, strlen(priority)};
	iov[n++] = (struct iovec){(char *)"SYSLOG_IDENTIFIER=" GPD_LOG_IDENTIFIER,
				  sizeof("SYSLOG_IDENTIFIER=" GPD_LOG_IDENTIFIER) - 1};
	if (message_id) {
		snprintf(mid, sizeof(mid), "MESSAGE_ID=%s", message_id);
		iov[n++] = (struct iovec){mid, strlen(mid)};
	}
	for (size_t i = 0; i < GPD_LOG_NFIELDS; i++) {
		char esc[GP_QUOTE_BUF];
		const char *v = gpd_log_field_value(ctx, i, esc);
		size_t k;

		if (!v)
			continue;
		k = strlen(gpd_log_fields[i].journal);
		memcpy(fields[i], gpd_log_fields[i].journal, k);
		fields[i][k++] = '=';
		/* Escaped as on the console, though journal values may hold any byte. */
		k += gpd_log_copy_bounded(fields[i] + k, GPD_LOG_VALUE_MAX, v);
		iov[n++] = (struct iovec){fields[i], k};
	}
	return sd_journal_sendv(iov, n);
}

/* A console line under construction. Appends that do not fit set .full and are dropped whole,
 * keeping room for the ellipsis and the newline, so the line is always well-formed. */
struct gpd_log_line {
	char p[GPD_LOG_LINE_MAX];
	size_t len;
	bool full;
};

static void
gpd_log_put(struct gpd_log_line *l, const char *s, size_t n)
{
	if (l->full || n > sizeof(l->p) - sizeof(GPD_LOG_ELLIPSIS) - l->len) {
		l->full = true;
		return;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void
gpd_log_puts(struct gpd_log_line *l, const char *s)
{
	gpd_log_put(l, s, strlen(s));
}

/* One byte, with control characters and '\' (and, in quoted values, '"') escaped, so that every
 * escape on a line can be read back unambiguously. */
static void
gpd_log_put_escaped(struct gpd_log_line *l, unsigned char c, bool quoted)
{
	char esc[5];

	switch (c) {
	case '\n':
		gpd_log_put(l, "\\n", 2);
		return;
	case '\r':
		gpd_log_put(l, "\\r", 2);
		return;
	case '\t':
		gpd_log_put(l, "\\t", 2);
		return;
	case '\\':
		gpd_log_put(l, "\\\\", 2);
		return;
	case '"':
		if (quoted) {
			gpd_log_put(l, "\\\"", 2);
			return;
		}
		break;
	default:
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			gpd_log_put(l, esc, 4);
			return;
		}
		break;
	}
	gpd_log_put(l, (const char *)&c, 1);
}

static bool
gpd_log_needs_quotes(const char *v)
{
	if (!*v)
		return true; /* key= would look like a missing value */
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c <= ' ' || c == 0x7f || c == '"' || c == '=' || c == '\\')
			return true;
	}
	return false;
}

static void
gpd_log_put_field(struct gpd_log_line *l, const char *key, const char *v)
{
	bool quoted = gpd_log_needs_quotes(v);
	size_t len = strlen(v), keep = len;

	/* Bound each value as the journal does, so both targets show the same text. */
	if (len >= GPD_LOG_VALUE_MAX) {
		keep = GPD_LOG_VALUE_MAX - sizeof(GPD_LOG_ELLIPSIS);
		gpd_log_utf8_trim(v, &keep);
	}
	gpd_log_put(l, " ", 1);
	gpd_log_puts(l, key);
	gpd_log_put(l, quoted ? "=\"" : "=", quoted ? 2 : 1);
	for (size_t i = 0; i < keep; i++)
		gpd_log_put_escaped(l, (unsigned char)v[i], quoted);
	if (keep < len)
		gpd_log_puts(l, GPD_LOG_ELLIPSIS);
	if (quoted)
		gpd_log_put(l, "\"", 1);
}

static void
gpd_log_write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDERR_FILENO, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return; /* nowhere left to complain to */
		p += k;
		n -= (size_t)k;
	}
}

static void
gpd_log_put_text(struct gpd_log_line *l, const char *s)
{
	for (; *s; s++)
		gpd_log_put_escaped(l, (unsigned char)*s, false);
}

/* Cut short? Then it ends in "…", so a reader knows. */
static void
gpd_log_line_end(struct gpd_log_line *l)
{
	if (!l->full)
		return;
	gpd_log_utf8_trim(l->p, &l->len);
	memcpy(l->p + l->len, GPD_LOG_ELLIPSIS, sizeof(GPD_LOG_ELLIPSIS) - 1);
	l->len += sizeof(GPD_LOG_ELLIPSIS) - 1;
}

/* " key=value ..." of ctx; the per-pass fields (commit, run) only when every is set. */
static void
gpd_log_put_fields(struct gpd_log_line *l, const struct gpd_logctx *ctx, bool every)
{
	for (size_t i = 0; i < GPD_LOG_NFIELDS; i++) {
		char esc[GP_QUOTE_BUF];
		const char *v = gpd_log_field_value(ctx, i, esc);

		if (v && (every || !gpd_log_fields[i].per_pass))
			gpd_log_put_field(l, gpd_log_fields[i].console, v);
	}
}

/* "<level> <message> key=value ...": one line that a program can split back into fields. */
static void
gpd_log_plain_line(struct gpd_log_line *l, int prio, const struct gpd_logctx *ctx,
		   const char *message)
{
	gpd_log_puts(l, gpd_log_level_names[prio & LOG_PRIMASK]);
	gpd_log_put(l, " ", 1);
	gpd_log_put_text(l, message);
	gpd_log_put_fields(l, ctx, gpd_log_enabled(LOG_DEBUG));
	gpd_log_line_end(l);
}

unsigned
gpd_terminal_columns(int fd)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws = {0};
	unsigned long n;
	char *end;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (!gp_isempty(env)) {
		n = strtoul(env, &end, 10);
		if (*end == '\0' && n > 0 && n < 10000)
			return (unsigned)n;
	}
	return isatty(fd) == 1 ? 80 : 0;
}

static enum gp_tone
gpd_log_tone(int prio, const struct gpd_logctx *ctx)
{
	prio &= LOG_PRIMASK;
	if (prio <= LOG_ERR || (ctx && gp_streq(ctx->state_to, "failed")))
		return GP_TONE_ERROR;
	if (prio == LOG_WARNING)
		return GP_TONE_WARNING;
	if (prio == LOG_DEBUG)
		return GP_TONE_DIM;
	return ctx && (ctx->action || ctx->state_to) ? GP_TONE_CHANGE : GP_TONE_PLAIN;
}

/* What an entry's events are about, "<env>/<key>", escaped as apply.c's messages name it,
 * so that the name at the head of a message can be recognised and left out. */
static const char *
gpd_log_subject(const struct gpd_logctx *ctx, char buf[static 2 * GP_QUOTE_BUF])
{
	char qe[GP_QUOTE_BUF], qk[GP_QUOTE_BUF];

	if (!ctx || !ctx->env || !ctx->key)
		return NULL;
	snprintf(buf, 2 * GP_QUOTE_BUF, "%s/%s", gp_escape(qe, ctx->env, false),
		 gp_escape(qk, ctx->key, false));
	return buf;
}

static void
gpd_log_clock(char buf[static 16])
{
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) || strftime(buf, 16, "%H:%M:%S", &tm) == 0)
		snprintf(buf, 16, "--:--:--");
}

/* "<clock> <env>/<key>  <brief or message>", for people (log.h). */
static void
gpd_log_people_line(struct gpd_log_line *l, int prio, const struct gpd_logctx *ctx,
		    const char *message)
{
	struct gpd_log_line text = {.len = 0}, tail = {.len = 0};
	char subject[2 * GP_QUOTE_BUF], clock[16];
	bool debug = gpd_log_enabled(LOG_DEBUG);
	struct gp_console_line cl = {
		.subject = gpd_log_subject(ctx, subject),
		.tone = gpd_log_tone(prio, ctx),
		.color = atomic_load(&gpd_log_colour),
	};
	size_t n = cl.subject ? strlen(cl.subject) : 0;

	if (ctx && ctx->brief)
		message = ctx->brief;
	else if (n && strncmp(message, cl.subject, n) == 0 && strncmp(message + n, ": ", 2) == 0)
		message += n + 2;
	gpd_log_put_text(&text, message);
	gpd_log_line_end(&text);
	text.p[text.len] = '\0';
	cl.text = text.p;
	if (debug) {
		gpd_log_put_fields(&tail, ctx, true);
		tail.p[tail.len] = '\0';
		cl.tail = tail.len ? tail.p + 1 : NULL;
	}
	if (!atomic_load(&gpd_log_oneshot)) {
		gpd_log_clock(clock);
		cl.clock = clock;
	}
	/* Problems are read in full, and debug lines are for reading in full. */
	cl.width = (prio & LOG_PRIMASK) <= LOG_WARNING || debug ? 0 : gpd_terminal_columns(STDERR_FILENO);
	l->len = gp_console_format(l->p, sizeof(l->p) - 1, &cl);
}

static void
gpd_log_write_str(const char *s)
{
	gpd_log_write_all(s, strlen(s));
}

/* Under the console lock: n spaces over what the progress line showed. */
static void
gpd_log_bar_blank(size_t n)
{
	static const char spaces[] = "                                ";

	for (; n > 0; n -= n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1)
		gpd_log_write_all(spaces, n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1);
}

/*
 * The progress line, under the console lock: drawn over itself with "\r", and cleared by
 * overwriting it with spaces rather than "\033[K", so that it takes no escape sequence and
 * NO_COLOR leaves none on the screen. Never as wide as the terminal: the cursor stays on
 * the line.
 */
static void
gpd_log_bar_draw(void)
{
	char buf[sizeof(gpd_log_bar.text) + 16];
	unsigned cols = gpd_terminal_columns(STDERR_FILENO);
	struct gp_console_line cl = {.text = gpd_log_bar.text, .width = cols > 1 ? cols - 1 : 0};
	size_t len = gp_console_format(buf, sizeof(buf), &cl), now = 0;

	for (const char *c = buf; *c; c++)
		now += ((unsigned char)*c & 0xc0) != 0x80;
	gpd_log_write_str("\r");
	gpd_log_write_all(buf, len);
	if (gpd_log_bar.shown > now)
		gpd_log_bar_blank(gpd_log_bar.shown - now);
	gpd_log_bar.shown = gpd_log_bar.shown > now ? gpd_log_bar.shown : now;
}

static void
gpd_log_bar_clear(void)
{
	if (!gpd_log_bar.shown)
		return;
	gpd_log_write_str("\r");
	gpd_log_bar_blank(gpd_log_bar.shown);
	gpd_log_write_str("\r");
	gpd_log_bar.shown = 0;
}

/* Under the console lock: h as a line, for people or in the key=value form. */
static void
gpd_log_header_write(struct gpd_log_header *h)
{
	char text[384], line[512], clock[16];
	bool people = atomic_load(&gpd_log_people);
	struct gp_console_line cl = {
		.clock = clock,
		.text = text,
		.tone = GP_TONE_HEADER,
		.color = atomic_load(&gpd_log_colour),
		.width = gpd_terminal_columns(STDERR_FILENO),
	};

	h->pending = false;
	gp_console_header(text, sizeof(text), h->env, h->commit, people ? 7 : 0, h->run,
			  h->entries);
	if (!people) {
		snprintf(line, sizeof(line), "%s %s\n", gpd_log_level_names[LOG_INFO], text);
		gpd_log_write_str(line);
		return;
	}
	gpd_log_clock(clock);
	gp_console_format(line, sizeof(line) - 1, &cl);
	gpd_log_write_str(line);
	gpd_log_write_str("\n");
}

/* Under the console lock: the header kept for ctx's pass, before that pass's first line. */
static void
gpd_log_header_flush(const struct gpd_logctx *ctx)
{
	if (!ctx || !ctx->env || !ctx->run)
		return;
	for (size_t i = 0; i < ELEMENTSOF(gpd_log_headers); i++) {
		struct gpd_log_header *h = &gpd_log_headers[i];

		if (h->pending && strcmp(h->env, ctx->env) == 0 && strcmp(h->run, ctx->run) == 0)
			gpd_log_header_write(h);
	}
}

static void
gpd_log_console(int prio, const struct gpd_logctx *ctx, const char *message)
{
	struct gpd_log_line line = {.len = 0};

	if (atomic_load(&gpd_log_people))
		gpd_log_people_line(&line, prio, ctx, message);
	else
		gpd_log_plain_line(&line, prio, ctx, message);
	line.p[line.len++] = '\n';

	/* One write per line under a lock: concurrent worker threads never split each other's
	 * lines, and stdio's buffering never holds a line back when the process dies. A
	 * progress line steps aside for the line and comes back under it. */
	pthread_mutex_lock(&gpd_log_console_lock);
	gpd_log_bar_clear();
	gpd_log_header_flush(ctx);
	gpd_log_write_all(line.p, line.len);
	if (gpd_log_bar.drawn_ms)
		gpd_log_bar_draw();
	pthread_mutex_unlock(&gpd_log_console_lock);
}

static uint64_t
gpd_log_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Under the console lock: env's header, else a free one, else the first. */
static struct gpd_log_header *
gpd_log_header_slot(const char *env)
{
	struct gpd_log_header *free_slot = NULL;

	for (size_t i = 0; i < ELEMENTSOF(gpd_log_headers); i++) {
		if (strcmp(gpd_log_headers[i].env, env) == 0)
			return &gpd_log_headers[i];
		if (!free_slot && !gpd_log_headers[i].env[0])
			free_slot = &gpd_log_headers[i];
	}
	return free_slot ? free_slot : &gpd_log_headers[0];
}

void
gpd_log_pass_begin(const struct gpd_logctx *ctx, size_t entries)
{
	struct gpd_log_header *h;

	if (!ctx || !ctx->env || gpd_log_target_now() != GPD_LOG_CONSOLE)
		return;
	pthread_mutex_lock(&gpd_log_console_lock);
	h = gpd_log_header_slot(ctx->env);
	snprintf(h->env, sizeof(h->env), "%s", ctx->env);
	snprintf(h->run, sizeof(h->run), "%s", ctx->run ? ctx->run : "");
	snprintf(h->commit, sizeof(h->commit), "%s", ctx->commit ? ctx->commit : "");
	h->entries = entries;
	h->pending = true;
	if (atomic_load(&gpd_log_oneshot)) {
		gpd_log_bar = (struct gpd_log_bar){.started_ms = gpd_log_mono_ms()};
		if (gpd_log_enabled(LOG_INFO))
			gpd_log_header_write(h);
	}
	pthread_mutex_unlock(&gpd_log_console_lock);
}

void
gpd_log_progress(const struct gpd_logctx *ctx, const char *what, size_t i, size_t n)
{
	uint64_t now;

	if (!atomic_load(&gpd_log_redraw) || gpd_log_target_now() != GPD_LOG_CONSOLE)
		return;
	now = gpd_log_mono_ms();
	pthread_mutex_lock(&gpd_log_console_lock);
	if (gpd_log_bar.started_ms &&
	    gp_console_progress_due(now, gpd_log_bar.started_ms, gpd_log_bar.drawn_ms)) {
		snprintf(gpd_log_bar.text, sizeof(gpd_log_bar.text), "%s: %s %zu of %zu",
			 ctx && ctx->env ? ctx->env : "?", what, i, n);
		gpd_log_bar.drawn_ms = now;
		gpd_log_bar_draw();
	}
	pthread_mutex_unlock(&gpd_log_console_lock);
}

void
gpd_log_pass_end(void)
{
	pthread_mutex_lock(&gpd_log_console_lock);
	gpd_log_bar_clear();
	gpd_log_bar = (struct gpd_log_bar){0};
	pthread_mutex_unlock(&gpd_log_console_lock);
}

void
gpd_log(int prio, const char *message_id, const struct gpd_logctx *ctx, const char *fmt, ...)
{
	/* The message is formatted straight after a "MESSAGE=" prefix, so the journal gets the
	 * field without a copy and the console gets the message alone. */
	char buf[sizeof("MESSAGE=") - 1 + GPD_LOG_MESSAGE_MAX];
	char *message = buf + sizeof("MESSAGE=") - 1;
	int saved_errno = errno; /* callers log and then look at errno; %m needs it too */
	va_list ap;
	int n;

	if (!gpd_log_enabled(prio))
		return;
	memcpy(buf, "MESSAGE=", sizeof("MESSAGE=") - 1);
	va_start(ap, fmt);
	n = vsnprintf(message, GPD_LOG_MESSAGE_MAX, fmt, ap);
	va_end(ap);
	if (n < 0) {
		n = (int)gpd_log_copy_bounded(message, GPD_LOG_MESSAGE_MAX,
					      "(unformattable message)");
	} else if ((size_t)n >= GPD_LOG_MESSAGE_MAX) {
		size_t len = GPD_LOG_MESSAGE_MAX - sizeof(GPD_LOG_ELLIPSIS);

		gpd_log_utf8_trim(message, &len);
		memcpy(message + len, GPD_LOG_ELLIPSIS, sizeof(GPD_LOG_ELLIPSIS));
		n = (int)(len + sizeof(GPD_LOG_ELLIPSIS) - 1);
	}

	/* If journald refuses the entry (too many queued, too big), the event still goes
	 * somewhere a human can see it. */
	if (gpd_log_target_now() != GPD_LOG_JOURNAL ||
	    gpd_log_journal(prio, message_id, ctx, buf, sizeof("MESSAGE=") - 1 + (size_t)n) < 0)
		gpd_log_console(prio, ctx, message);
	errno = saved_errno;
}

void
gpd_log_diags(const struct gp_diags *diags, const struct gpd_logctx *ctx)
{
	for (size_t i = 0; i < diags->n; i++) {
		struct gp_buf b = {0};

		gp_diag_format(&diags->v[i], &b);
		gpd_log(diags->v[i].severity == GP_SEV_ERROR	 ? LOG_ERR
			: diags->v[i].severity == GP_SEV_WARNING ? LOG_WARNING
								 : LOG_NOTICE,
			GPD_MID_INPUT_ERROR, ctx, "%s", b.p ? b.p : "out of memory");
		gp_buf_release(&b);
	}
}
