/*
 * quote.c — escaping input values for messages (quote.h).
 *
 * Deliberately not here: deciding what a message says or which value it shows (the modules
 * that find problems do), and any locale or UTF-8 awareness: escaping every non-ASCII byte is
 * cruder than showing it, and that is the point.
 */
#include "base/quote.h"

#include <stdio.h>

/*
 * Non-ASCII is escaped too because valid-looking UTF-8 (bidi overrides, zero-width spaces)
 * is exactly what makes a hostile name read as something else.
 */
const char *
gp_escape(char buf[static GP_QUOTE_BUF], const char *s, bool quotes)
{
	size_t o = 0, i;

	if (quotes)
		buf[o++] = '"';
	for (i = 0; s[i] && i < GP_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(buf + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			buf[o++] = (char)c;
		}
	}
	if (quotes)
		buf[o++] = '"';
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

const char *
gp_quote(char buf[static GP_QUOTE_BUF], const char *s)
{
	return gp_escape(buf, s, true);
}

const char *
gp_quote_sp(char buf[static GP_QUOTE_BUF + 1], const char *s)
{
	size_t n;

	if (!s)
		return "";
	gp_quote(buf, s);
	n = strlen(buf);
	buf[n] = ' ';
	buf[n + 1] = '\0';
	return buf;
}
