/*
 * audit.c — formats audit rows as RFC 4180 CSV lines (see audit.h for the column contract).
 *
 * It produces bytes only. Where the file lives, how a row reaches it in one write(), how a
 * torn last line is repaired and when the file is fsynced is daemon/audit_file.c's job. There
 * is no parser: the audit is for people and their tools, gprdsd never reads it back.
 */
#include "codec/audit.h"

static const char *const status_table[_GP_AUDIT_STATUS_MAX] = {
	[GP_AUDIT_SUCCESS] = "success",
	[GP_AUDIT_NO_CHANGE] = "no_change",
	[GP_AUDIT_WARNING] = "warning",
	[GP_AUDIT_ERROR] = "error",
	[GP_AUDIT_DRY_RUN] = "dry_run",
};

const char *
gp_audit_status_to_string(enum gp_audit_status s)
{
	if ((unsigned)s >= ELEMENTSOF(status_table))
		return NULL;
	return status_table[s];
}

int
gp_audit_status_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(status_table); i++)
		if (gp_streq(s, status_table[i]))
			return (int)i;
	return -EINVAL;
}

int
gp_audit_header(struct gp_buf *out)
{
	return gp_buf_puts(out, "timestamp_utc,environment,build_id,run_id,database,username,"
				"action,status,duration_ms,message\n");
}

/* Number of continuation bytes a UTF-8 lead byte announces, or -1 for a byte that is no lead. */
static int
utf8_tail_len(unsigned char c)
{
	if (c < 0x80)
		return 0;
	if ((c & 0xe0) == 0xc0)
		return 1;
	if ((c & 0xf0) == 0xe0)
		return 2;
	if ((c & 0xf8) == 0xf0)
		return 3;
	return -1;
}

/*
 * Copies s[0, len) with embedded double quotes doubled when quoted, and each byte that does
 * not start a valid UTF-8 sequence replaced with U+FFFD. Errors are left in out->oom.
 */
static void
put_text(struct gp_buf *out, const char *s, size_t len, bool quoted)
{
	size_t i = 0;

	while (i < len) {
		int n = utf8_tail_len((unsigned char)s[i]);

		if (n < 0 || (size_t)n >= len - i || !gp_utf8_valid(s + i, (size_t)n + 1)) {
			gp_buf_puts(out, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (quoted && s[i] == '"')
			gp_buf_putc(out, '"');
		gp_buf_append(out, s + i, (size_t)n + 1);
		i += (size_t)n + 1;
	}
}

static bool
needs_quotes(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

/* See "Formula guard" in audit.h. */
static bool
needs_formula_guard(const char *s, size_t len)
{
	return len > 0 && strchr("=+-@\t\r", s[0]);
}

/* One text field (NULL: empty) of at most max bytes, preceded by a comma unless first. */
static void
put_field(struct gp_buf *out, const char *s, size_t max, bool first)
{
	size_t len;
	bool quoted;

	if (!first)
		gp_buf_putc(out, ',');
	if (!s)
		return;
	len = strnlen(s, max);
	quoted = needs_quotes(s, len);
	if (quoted)
		gp_buf_putc(out, '"');
	if (needs_formula_guard(s, len))
		gp_buf_putc(out, '\'');
	put_text(out, s, len, quoted);
	if (quoted)
		gp_buf_putc(out, '"');
}

int
gp_audit_format(const struct gp_audit_row *r, struct gp_buf *out)
{
	size_t start = out->len;
	char ts[21];

	if (gp_audit_status_from_string(r->status) < 0)
		return -EINVAL;
	if (out->oom)
		return -ENOMEM;

	/* Appends are checked once at the end: gp_buf's oom flag is sticky. */
	gp_time_format(r->timestamp, ts);
	put_field(out, ts, SIZE_MAX, true);
	put_field(out, r->environment, SIZE_MAX, false);
	put_field(out, r->build_id, GP_AUDIT_BUILD_ID_LEN, false);
	put_field(out, r->run_id, SIZE_MAX, false);
	put_field(out, r->database, SIZE_MAX, false);
	put_field(out, r->username, SIZE_MAX, false);
	put_field(out, r->action, SIZE_MAX, false);
	put_field(out, r->status, SIZE_MAX, false);
	gp_buf_printf(out, ",%llu", (unsigned long long)r->duration_ms);
	put_field(out, r->message, SIZE_MAX, false);
	gp_buf_putc(out, '\n');

	if (out->oom) {
		if (out->p) {
			out->len = start;
			out->p[start] = '\0';
		}
		return -ENOMEM;
	}
	return 0;
}
