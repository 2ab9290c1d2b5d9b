/*
 * hcl.c — lexer and recursive-descent parser for terraform.tfvars files (HCL native syntax),
 * producing the gp_doc tree of doc.h: a root OBJECT of attributes, whose values are strings
 * (quoted or heredoc), numbers (kept as literal text), bools, null, lists and objects.
 *
 * A tfvars file holds literal values only, so this parser deliberately does not implement the
 * rest of the HCL expression language: references (var.x), function calls, operators,
 * conditionals, for expressions, templates (${...}, %{...}) and blocks are recognised just far
 * enough to be rejected with a positioned error. Nothing is ever evaluated.
 *
 * Error policy: a syntax error stops the parse (what follows one would be guesswork and give
 * cascades of bogus errors); problems that leave the structure intact (bad escapes, templates,
 * duplicate keys) are all reported and the parse goes on. NUL bytes and invalid UTF-8 are
 * rejected before lexing, at the first offending byte. Positions are 1-based lines and byte
 * columns. Nesting is bounded by GP_DOC_MAX_DEPTH, which also bounds the recursion.
 * Every node and string comes from the document's arena, so error paths free nothing by hand.
 */
#include "base/doc.h"

#include <assert.h>
#include <stdio.h>

enum tok_kind {
	TOK_EOF,
	TOK_NEWLINE,
	TOK_IDENT,
	TOK_NUMBER,
	TOK_STRING,  /* quoted string; val holds the decoded text */
	TOK_HEREDOC, /* val holds the decoded text */
	TOK_PUNCT,
};

struct token {
	enum tok_kind kind;
	size_t start, end; /* source bytes */
	unsigned line, col;
	char *val;
	size_t vlen;
};

struct parser {
	const char *buf;
	size_t len;
	size_t pos;
	unsigned line;
	size_t bol; /* offset of the first byte of the current line */
	const char *name;
	struct gp_doc *doc;
	struct gp_diags *diags;
	struct token tok; /* the current (lookahead) token */
	unsigned depth;	  /* containers open, the root object included */
	int status;	  /* first error that did not stop the parse */
};

/* Members of an object under construction, with a hash index to find duplicates in O(1). */
struct memberset {
	struct gp_member *v;
	size_t n, cap;
	size_t *slots; /* member index + 1; 0 is an empty slot */
	size_t nslots; /* a power of two, or 0 */
};

struct nodevec {
	struct gp_node **v;
	size_t n, cap;
};

static int parse_value(struct parser *p, struct gp_node **ret);

/* ---------------------------------------------------------------------------------------
 * Diagnostics
 */

static int perr(struct parser *p, unsigned line, unsigned col, const char *fmt, ...) _printf_(4, 5);

static int
perr(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_diags_vadd(p->diags, GP_SEV_ERROR, -EINVAL, p->name, line, col, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

/* Records an error that does not stop the parse (r is what perr() returned). */
static void
soft_error(struct parser *p, int r)
{
	if (p->status == 0 || r == -ENOMEM)
		p->status = r;
}

static size_t
u8len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	return c >= 0xe0 ? 3 : 2;
}

/*
 * Copies s into out for a message: at most max bytes (cut on a character boundary), control
 * characters as '?', so that one diagnostic stays one line whatever the input holds.
 */
static void
msg_text(char *out, size_t size, const char *s, size_t len, size_t max)
{
	size_t o = 0, i = 0;

	while (i < len && o + 4 < size) {
		size_t n = u8len((unsigned char)s[i]);

		if (i + n > len || i + n > max)
			break;
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			out[o++] = '?';
		else
			for (size_t k = 0; k < n; k++)
				out[o++] = s[i + k];
		i += n;
	}
	if (i < len)
		for (int k = 0; k < 3 && o + 1 < size; k++)
			out[o++] = '.';
	out[o] = '\0';
}

/* What a token is, for "found ..." in messages. */
static const char *
tok_describe(const struct parser *p, const struct token *t, char *out, size_t size)
{
	char text[80];

	switch (t->kind) {
	case TOK_EOF:
		return "end of file";
	case TOK_NEWLINE:
		return "newline";
	case TOK_STRING:
		return "a quoted string";
	case TOK_HEREDOC:
		return "a heredoc";
	default:
		msg_text(text, sizeof(text), p->buf + t->start, t->end - t->start, 32);
		snprintf(out, size, "\"%s\"", text);
		return out;
	}
}

/* ---------------------------------------------------------------------------------------
 * Encoding: the whole input must be UTF-8 without NUL bytes
 */

/* Length of the valid UTF-8 sequence at s[0..n), or 0 (the same rules as gp_utf8_valid). */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = u8len(s[0]);
	uint32_t cp;

	if (s[0] == 0)
		return 0;
	if (len == 1)
		return 1;
	if ((s[0] & 0xc0) == 0x80 || s[0] >= 0xf8 || n < len)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int
check_encoding(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->buf;
	unsigned line = 1;
	size_t bol = 0;

	for (size_t i = 0; i < p->len;) {
		size_t n = utf8_seq(s + i, p->len - i);

		if (n == 0 && s[i] == 0)
			return perr(p, line, (unsigned)(i - bol + 1), "NUL byte in input");
		if (n == 0)
			return perr(p, line, (unsigned)(i - bol + 1), "invalid UTF-8 (byte 0x%02x)",
				    s[i]);
		if (s[i] == '\n') {
			line++;
			bol = i + 1;
		}
		i += n;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Lexer
 */

/* The byte k positions ahead, or 0 at the end (the input holds no NUL, so 0 means EOF). */
static unsigned char
peekc(const struct parser *p, size_t k)
{
	return p->pos + k < p->len ? (unsigned char)p->buf[p->pos + k] : 0;
}

static unsigned
col_of(const struct parser *p, size_t off)
{
	return (unsigned)(off - p->bol + 1);
}

static void
newline_at(struct parser *p, size_t off)
{
	p->line++;
	p->bol = off + 1;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * HCL allows Unicode letters in identifiers; tfvars names are ASCII in practice, and keeping
 * to ASCII makes a stray non-breaking space an "unexpected character" rather than a name.
 */
static bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '-';
}

static int
skip_block_comment(struct parser *p)
{
	unsigned line = p->line, col = col_of(p, p->pos);

	for (p->pos += 2; p->pos < p->len; p->pos++) {
		if (p->buf[p->pos] == '*' && peekc(p, 1) == '/') {
			p->pos += 2;
			return 0;
		}
		if (p->buf[p->pos] == '\n')
			newline_at(p, p->pos);
	}
	return perr(p, line, col, "unterminated comment (\"/*\" is never closed)");
}

/* Skips blanks and comments, stopping at a newline (which is a token) or anything else. */
static int
skip_blank(struct parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->buf[p->pos];

		if (c == ' ' || c == '\t' || (c == '\r' && peekc(p, 1) != '\n')) {
			p->pos++;
		} else if (c == '#' || (c == '/' && peekc(p, 1) == '/')) {
			while (p->pos < p->len && p->buf[p->pos] != '\n')
				p->pos++;
		} else if (c == '/' && peekc(p, 1) == '*') {
			int r = skip_block_comment(p);

			if (r < 0)
				return r;
		} else {
			break;
		}
	}
	return 0;
}

static int
lex_number(struct parser *p, struct token *t)
{
	while (is_digit(peekc(p, 0)))
		p->pos++;
	if (peekc(p, 0) == '.' && is_digit(peekc(p, 1))) {
		p->pos++;
		while (is_digit(peekc(p, 0)))
			p->pos++;
	}
	if ((peekc(p, 0) == 'e' || peekc(p, 0) == 'E') &&
	    (is_digit(peekc(p, 1)) ||
	     ((peekc(p, 1) == '+' || peekc(p, 1) == '-') && is_digit(peekc(p, 2))))) {
		p->pos += 2;
		while (is_digit(peekc(p, 0)))
			p->pos++;
	}
	if (is_ident_char(peekc(p, 0)) || peekc(p, 0) == '.') {
		while (is_ident_char(peekc(p, 0)) || peekc(p, 0) == '.')
			p->pos++;
		return perr(p, t->line, t->col, "invalid number \"%.*s\"",
			    (int)(p->pos - t->start > 40 ? 40 : p->pos - t->start),
			    p->buf + t->start);
	}
	t->kind = TOK_NUMBER;
	return 0;
}

/*
 * Template introducers at s[i] (s[end] is not part of the text): "$${" and "%%{" are escapes
 * for a literal "${" / "%{"; a bare "${" or "%{" starts an interpolation or directive, which a
 * tfvars file may not hold. Returns the number of source bytes consumed, 0 when s[i] is an
 * ordinary character.
 */
static size_t
template_seq(struct parser *p, size_t i, size_t end, char *out, size_t *o, unsigned line,
	     unsigned col)
{
	const char *s = p->buf;
	char c = s[i];

	if (c != '$' && c != '%')
		return 0;
	if (i + 2 < end && s[i + 1] == c && s[i + 2] == '{') {
		out[(*o)++] = c;
		out[(*o)++] = '{';
		return 3;
	}
	if (i + 1 < end && s[i + 1] == '{') {
		soft_error(p,
			   perr(p, line, col,
				"templates/interpolation are not allowed in tfvars (\"%c{\"; write "
				"\"%c%c{\" for a literal \"%c{\")",
				c, c, c, c));
		out[(*o)++] = c;
		out[(*o)++] = '{';
		return 2;
	}
	return 0;
}

static size_t
utf8_put(char *out, uint32_t cp)
{
	unsigned char *u = (unsigned char *)out;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uNNNN or \UNNNNNNNN at s[i] (the backslash); returns bytes consumed. */
static size_t
unicode_escape(struct parser *p, size_t i, size_t end, char *out, size_t *o, unsigned line,
	       unsigned col)
{
	const char *s = p->buf;
	size_t ndig = s[i + 1] == 'u' ? 4 : 8;
	uint32_t cp = 0;

	for (size_t k = 0; k < ndig; k++) {
		char c = i + 2 + k < end ? s[i + 2 + k] : '\0';
		int v = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;

		if (v < 0) {
			soft_error(p, perr(p, line, col,
					   "invalid escape sequence: \\%c needs %zu hex digits",
					   s[i + 1], ndig));
			return 2;
		}
		cp = cp << 4 | (uint32_t)v;
	}
	if (cp == 0)
		soft_error(p,
			   perr(p, line, col, "NUL character (\\%c%0*x) is not allowed in strings",
				s[i + 1], (int)ndig, 0));
	else if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		soft_error(p, perr(p, line, col, "invalid Unicode code point U+%04X in escape",
				   (unsigned)cp));
	else
		*o += utf8_put(out + *o, cp);
	return 2 + ndig;
}

/* One backslash escape at s[i] (i + 1 < end); returns bytes consumed. */
static size_t
string_escape(struct parser *p, size_t i, size_t end, char *out, size_t *o, unsigned line,
	      unsigned col)
{
	static const char from[] = "nrt\"\\", to[] = "\n\r\t\"\\";
	const char *s = p->buf;
	const char *f = strchr(from, s[i + 1]);
	char text[16];

	if (f && s[i + 1] != '\0') {
		out[(*o)++] = to[f - from];
		return 2;
	}
	if (s[i + 1] == 'u' || s[i + 1] == 'U')
		return unicode_escape(p, i, end, out, o, line, col);
	msg_text(text, sizeof(text), s + i + 1, u8len((unsigned char)s[i + 1]), 4);
	soft_error(p, perr(p, line, col, "invalid escape sequence \"\\%s\"", text));
	return 1 + u8len((unsigned char)s[i + 1]);
}

static int
lex_string(struct parser *p, struct token *t)
{
	size_t open = p->pos, end, o = 0;
	char *out;

	/* Find the closing quote first: a quoted string never spans lines. */
	for (end = open + 1; end < p->len; end++) {
		char c = p->buf[end];

		if (c == '"' || c == '\n')
			break;
		if (c == '\\' && end + 1 < p->len && p->buf[end + 1] != '\n')
			end++;
	}
	if (end >= p->len || p->buf[end] != '"')
		return perr(p, t->line, t->col, "unterminated string (missing closing '\"')");
	out = gp_arena_alloc(p->doc->arena, end - open);
	if (!out)
		return -ENOMEM;
	for (size_t i = open + 1; i < end;) {
		unsigned col = col_of(p, i);
		size_t n = template_seq(p, i, end, out, &o, t->line, col);

		if (n == 0 && p->buf[i] == '\\')
			n = string_escape(p, i, end, out, &o, t->line, col);
		if (n == 0) {
			out[o++] = p->buf[i];
			n = 1;
		}
		i += n;
	}
	out[o] = '\0';
	p->pos = end + 1;
	t->kind = TOK_STRING;
	t->val = out;
	t->vlen = o;
	return 0;
}

/* ---- heredocs ---- */

struct heredoc {
	const char *delim;
	size_t dlen;
	bool flush;    /* <<- : strip the common indentation */
	size_t body;   /* offset of the first content line */
	size_t close;  /* offset of the closing marker's line */
	size_t indent; /* flush: columns of leading whitespace common to all non-blank lines */
	unsigned nlines;
};

/* Content end of the line starting at ls (before "\n" or "\r\n"); *ret_next: next line. */
static size_t
line_end(const struct parser *p, size_t ls, size_t *ret_next)
{
	const char *nl = memchr(p->buf + ls, '\n', p->len - ls);
	size_t le = nl ? (size_t)(nl - p->buf) : p->len;

	*ret_next = nl ? le + 1 : p->len;
	if (nl && le > ls && p->buf[le - 1] == '\r')
		le--;
	return le;
}

static size_t
leading_blanks(const struct parser *p, size_t ls, size_t le)
{
	size_t t = ls;

	while (t < le && (p->buf[t] == ' ' || p->buf[t] == '\t'))
		t++;
	return t - ls;
}

/* Finds the closing marker: a line holding only the delimiter, optionally indented. */
static bool
heredoc_scan(const struct parser *p, struct heredoc *h)
{
	size_t ls = h->body, next;

	h->indent = SIZE_MAX;
	while (ls < p->len) {
		size_t le = line_end(p, ls, &next);
		size_t lead = leading_blanks(p, ls, le);

		if (le - ls - lead == h->dlen &&
		    memcmp(p->buf + ls + lead, h->delim, h->dlen) == 0) {
			h->close = ls;
			return true;
		}
		/* Whitespace-only lines do not count towards the indentation, as in HCL. */
		if (ls + lead < le && lead < h->indent)
			h->indent = lead;
		h->nlines++;
		ls = next;
	}
	return false;
}

/* Copies the content lines into out, stripping indentation and checking for templates. */
static size_t
heredoc_copy(struct parser *p, const struct heredoc *h, unsigned first_line, char *out)
{
	size_t ls = h->body, next, o = 0;

	for (unsigned k = 0; k < h->nlines; k++, ls = next) {
		size_t le = line_end(p, ls, &next);
		size_t i = ls;

		if (h->flush && ls + leading_blanks(p, ls, le) < le)
			i += h->indent;
		while (i < le) {
			size_t n = template_seq(p, i, le, out, &o, first_line + k,
						(unsigned)(i - ls + 1));

			if (n == 0)
				out[o++] = p->buf[i++];
			i += n;
		}
		out[o++] = '\n';
	}
	out[o] = '\0';
	return o;
}

/* Reads "<<EOT" / "<<-EOT" and the newline after it. */
static int
heredoc_open(struct parser *p, struct heredoc *h)
{
	p->pos += 2;
	h->flush = peekc(p, 0) == '-';
	if (h->flush)
		p->pos++;
	if (!is_ident_start(peekc(p, 0)))
		return perr(p, p->line, col_of(p, p->pos),
			    "expected a heredoc delimiter (an identifier) after \"%s\"",
			    h->flush ? "<<-" : "<<");
	h->delim = p->buf + p->pos;
	while (is_ident_char(peekc(p, 0)))
		p->pos++;
	h->dlen = (size_t)(p->buf + p->pos - h->delim);
	if (peekc(p, 0) == '\r' && peekc(p, 1) == '\n')
		p->pos++;
	if (peekc(p, 0) != '\n')
		return perr(p, p->line, col_of(p, p->pos),
			    "heredoc delimiter \"%.*s\" must be followed by a newline",
			    (int)h->dlen, h->delim);
	h->body = ++p->pos;
	return 0;
}

static int
lex_heredoc(struct parser *p, struct token *t)
{
	struct heredoc h = {0};
	char *out;
	int r;

	r = heredoc_open(p, &h);
	if (r < 0)
		return r;
	if (!heredoc_scan(p, &h))
		return perr(p, t->line, t->col, "unterminated heredoc (no closing \"%.*s\" line)",
			    (int)h.dlen, h.delim);
	out = gp_arena_alloc(p->doc->arena, h.close - h.body + 1);
	if (!out)
		return -ENOMEM;
	t->vlen = heredoc_copy(p, &h, t->line + 1, out);
	t->val = out;
	t->kind = TOK_HEREDOC;
	/* Resume right after the delimiter: its newline ends the attribute. */
	p->line = t->line + 1 + h.nlines;
	p->bol = h.close;
	p->pos = h.close + leading_blanks(p, h.close, p->len) + h.dlen;
	return 0;
}

static int
lex_punct(struct parser *p, struct token *t)
{
	static const char *const multi[] = {"...", "==", "!=", "<=", ">=", "&&", "||", "=>"};
	static const char single[] = "=:,{}[]().?+-*/%<>!";
	unsigned char c = peekc(p, 0);

	for (size_t i = 0; i < ELEMENTSOF(multi); i++) {
		size_t n = strlen(multi[i]);

		if (p->len - p->pos >= n && memcmp(p->buf + p->pos, multi[i], n) == 0) {
			p->pos += n;
			t->kind = TOK_PUNCT;
			return 0;
		}
	}
	if (c != '\0' && strchr(single, c)) {
		p->pos++;
		t->kind = TOK_PUNCT;
		return 0;
	}
	if (c < 0x20 || c == 0x7f)
		return perr(p, t->line, t->col, "unexpected control character 0x%02x", c);
	if (c == '\'')
		return perr(p, t->line, t->col,
			    "unexpected character \"'\" (strings use double quotes)");
	return perr(p, t->line, t->col, "unexpected character \"%.*s\"", (int)u8len(c),
		    p->buf + p->pos);
}

static int
lex_next(struct parser *p)
{
	struct token *t = &p->tok;
	unsigned char c;
	int r;

	r = skip_blank(p);
	if (r < 0)
		return r;
	*t = (struct token){.start = p->pos, .line = p->line, .col = col_of(p, p->pos)};
	c = peekc(p, 0);
	if (p->pos >= p->len) {
		t->kind = TOK_EOF;
	} else if (c == '\n' || c == '\r') { /* a lone '\r' was skipped as blank */
		p->pos += c == '\r' ? 2 : 1;
		newline_at(p, p->pos - 1);
		t->kind = TOK_NEWLINE;
	} else if (is_ident_start(c)) {
		while (is_ident_char(peekc(p, 0)))
			p->pos++;
		t->kind = TOK_IDENT;
	} else if (is_digit(c)) {
		r = lex_number(p, t);
	} else if (c == '"') {
		r = lex_string(p, t);
	} else if (c == '<' && peekc(p, 1) == '<') {
		r = lex_heredoc(p, t);
	} else {
		r = lex_punct(p, t);
	}
	t->end = p->pos;
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Parser
 */

static bool
tok_is(const struct parser *p, const char *punct)
{
	const struct token *t = &p->tok;
	size_t n = strlen(punct);

	return t->kind == TOK_PUNCT && t->end - t->start == n &&
	       memcmp(p->buf + t->start, punct, n) == 0;
}

static bool
tok_is_word(const struct parser *p, const char *word)
{
	const struct token *t = &p->tok;
	size_t n = strlen(word);

	return t->kind == TOK_IDENT && t->end - t->start == n &&
	       memcmp(p->buf + t->start, word, n) == 0;
}

static int
skip_newlines(struct parser *p)
{
	while (p->tok.kind == TOK_NEWLINE) {
		int r = lex_next(p);

		if (r < 0)
			return r;
	}
	return 0;
}

/* "expected X, found Y" at the current token. */
static int
unexpected(struct parser *p, const char *what)
{
	char d[96];

	return perr(p, p->tok.line, p->tok.col, "expected %s, found %s", what,
		    tok_describe(p, &p->tok, d, sizeof(d)));
}

static struct gp_node *
node_new(struct parser *p, enum gp_node_kind kind, unsigned line, unsigned col)
{
	struct gp_node *n = gp_arena_alloc(p->doc->arena, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->line = line;
		n->col = col;
	}
	return n;
}

/* End of file inside a list or object: point at the opening bracket, where the fix usually is. */
static int
check_unclosed(struct parser *p, const struct gp_node *open)
{
	if (p->tok.kind != TOK_EOF)
		return 0;
	return perr(p, open->line, open->col, "\"%s\" is never closed (end of file reached)",
		    open->kind == GP_NODE_LIST ? "[" : "{");
}

/* Enters a list or object at the current token; the depth check keeps recursion bounded. */
static int
nest_enter(struct parser *p)
{
	if (p->depth >= GP_DOC_MAX_DEPTH)
		return perr(p, p->tok.line, p->tok.col, "nesting deeper than %d levels",
			    GP_DOC_MAX_DEPTH);
	p->depth++;
	return lex_next(p);
}

static int
nodevec_push(struct parser *p, struct nodevec *v, struct gp_node *n)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		struct gp_node **nv = gp_arena_alloc(p->doc->arena, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		if (v->n)
			memcpy(nv, v->v, v->n * sizeof(*nv));
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = n;
	return 0;
}

/* FNV-1a */
static size_t
key_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (size_t)h;
}

/* Slot of key: the one holding it, or the empty one where it would go. */
static size_t *
memberset_slot(struct memberset *m, const char *key)
{
	size_t mask = m->nslots - 1;

	for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask)
		if (m->slots[i] == 0 || strcmp(m->v[m->slots[i] - 1].key, key) == 0)
			return &m->slots[i];
}

static int
memberset_grow(struct parser *p, struct memberset *m)
{
	size_t cap = m->cap ? m->cap * 2 : 8;
	struct gp_member *v = gp_arena_alloc(p->doc->arena, cap * sizeof(*v));
	size_t *slots = gp_arena_alloc(p->doc->arena, 2 * cap * sizeof(*slots));

	if (!v || !slots)
		return -ENOMEM;
	if (m->n)
		memcpy(v, m->v, m->n * sizeof(*v));
	m->v = v;
	m->cap = cap;
	m->slots = slots;
	m->nslots = 2 * cap;
	for (size_t i = 0; i < m->n; i++)
		*memberset_slot(m, m->v[i].key) = i + 1;
	return 0;
}

/*
 * Adds key unless it is already there: then reports the duplicate (a soft error: the
 * structure is intact) and returns NULL in *ret.
 */
static int
memberset_add(struct parser *p, struct memberset *m, const char *key, unsigned line, unsigned col,
	      const char *what, struct gp_member **ret)
{
	size_t *slot;
	char text[80];
	int r;

	*ret = NULL;
	if (m->n == m->cap) {
		r = memberset_grow(p, m);
		if (r < 0)
			return r;
	}
	slot = memberset_slot(m, key);
	if (*slot) {
		msg_text(text, sizeof(text), key, strlen(key), 64);
		soft_error(p, perr(p, line, col, "duplicate %s \"%s\" (first defined at line %u)",
				   what, text, m->v[*slot - 1].line));
		return 0;
	}
	m->v[m->n] = (struct gp_member){.key = key, .line = line, .col = col};
	*slot = ++m->n;
	*ret = &m->v[m->n - 1];
	return 0;
}

/* Rejects what HCL could continue an expression with, naming the construct. */
static int
check_after_value(struct parser *p)
{
	static const char *const ops[] = {
		"+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "!"};
	char d[96];

	if (p->tok.kind != TOK_PUNCT)
		return 0;
	if (tok_is(p, "?"))
		return perr(p, p->tok.line, p->tok.col,
			    "conditional expressions are not allowed in tfvars");
	if (tok_is(p, ".") || tok_is(p, "["))
		return perr(p, p->tok.line, p->tok.col,
			    "attribute access and indexing are not allowed in tfvars (found %s)",
			    tok_describe(p, &p->tok, d, sizeof(d)));
	for (size_t i = 0; i < ELEMENTSOF(ops); i++)
		if (tok_is(p, ops[i]))
			return perr(p, p->tok.line, p->tok.col,
				    "operators are not allowed in tfvars (found %s)",
				    tok_describe(p, &p->tok, d, sizeof(d)));
	return 0;
}

static int
parse_list(struct parser *p, struct gp_node **ret)
{
	struct gp_node *list = node_new(p, GP_NODE_LIST, p->tok.line, p->tok.col);
	struct nodevec items = {0};
	int r;

	if (!list)
		return -ENOMEM;
	r = nest_enter(p);
	while (r >= 0 && (r = skip_newlines(p)) >= 0 && (r = check_unclosed(p, list)) >= 0 &&
	       !tok_is(p, "]")) {
		struct gp_node *item;

		r = parse_value(p, &item);
		if (r >= 0)
			r = nodevec_push(p, &items, item);
		if (r >= 0)
			r = skip_newlines(p);
		if (r >= 0)
			r = check_unclosed(p, list);
		if (r < 0)
			break;
		if (tok_is(p, ","))
			r = lex_next(p);
		else if (!tok_is(p, "]"))
			r = unexpected(p, "\",\" or \"]\" after a list item");
	}
	if (r < 0)
		return r;
	p->depth--;
	list->items = items.v;
	list->n = items.n;
	*ret = list;
	return lex_next(p);
}

/* Object key: an identifier or a quoted string; *ret_key in the arena. */
static int
parse_key(struct parser *p, const char **ret_key)
{
	const struct token *t = &p->tok;
	char *key;

	if (t->kind == TOK_STRING) {
		*ret_key = t->val;
		return lex_next(p);
	}
	if (t->kind != TOK_IDENT)
		return unexpected(p, "an object key (an identifier or a quoted string) or \"}\"");
	key = gp_arena_strndup(p->doc->arena, p->buf + t->start, t->end - t->start);
	if (!key)
		return -ENOMEM;
	*ret_key = key;
	return lex_next(p);
}

/* One "key = value" (or "key: value") of an object. */
static int
parse_member(struct parser *p, struct memberset *m)
{
	unsigned line = p->tok.line, col = p->tok.col;
	bool was_for = tok_is_word(p, "for");
	struct gp_member *mem;
	struct gp_node *value = NULL;
	const char *key = NULL;
	int r;

	r = parse_key(p, &key);
	if (r < 0)
		return r;
	if (was_for && p->tok.kind == TOK_IDENT)
		return perr(p, line, col, "for expressions are not allowed in tfvars");
	if (!tok_is(p, "=") && !tok_is(p, ":"))
		return unexpected(p, "\"=\" or \":\" after object key");
	r = lex_next(p);
	if (r >= 0)
		r = parse_value(p, &value);
	if (r >= 0)
		r = memberset_add(p, m, key, line, col, "key", &mem);
	if (r >= 0 && mem)
		mem->value = value;
	return r;
}

static int
parse_object(struct parser *p, struct gp_node **ret)
{
	struct gp_node *obj = node_new(p, GP_NODE_OBJECT, p->tok.line, p->tok.col);
	struct memberset m = {0};
	int r;

	if (!obj)
		return -ENOMEM;
	r = nest_enter(p);
	while (r >= 0 && (r = skip_newlines(p)) >= 0 && (r = check_unclosed(p, obj)) >= 0 &&
	       !tok_is(p, "}")) {
		r = parse_member(p, &m);
		if (r >= 0)
			r = check_unclosed(p, obj);
		if (r < 0)
			break;
		/* Members are separated by a comma, newlines, or both. */
		if (tok_is(p, ","))
			r = lex_next(p);
		else if (p->tok.kind != TOK_NEWLINE && !tok_is(p, "}"))
			r = unexpected(p, "\",\", newline or \"}\" after an object member");
	}
	if (r < 0)
		return r;
	p->depth--;
	obj->members = m.v;
	obj->n = m.n;
	*ret = obj;
	return lex_next(p);
}

/* A minus sign is only allowed as the sign of a number literal; the text keeps it. */
static int
parse_negative(struct parser *p, struct gp_node **ret)
{
	struct gp_node *n = node_new(p, GP_NODE_NUMBER, p->tok.line, p->tok.col);
	char *text;
	int r;

	if (!n)
		return -ENOMEM;
	r = lex_next(p);
	if (r < 0)
		return r;
	if (p->tok.kind != TOK_NUMBER)
		return perr(p, n->line, n->col,
			    "operators are not allowed in tfvars (found \"-\")");
	n->len = p->tok.end - p->tok.start + 1;
	text = gp_arena_alloc(p->doc->arena, n->len + 1);
	if (!text)
		return -ENOMEM;
	text[0] = '-';
	memcpy(text + 1, p->buf + p->tok.start, n->len - 1);
	n->str = text;
	*ret = n;
	return lex_next(p);
}

/* An identifier in value position: a literal keyword, or something a tfvars file cannot hold. */
static int
parse_word(struct parser *p, struct gp_node **ret)
{
	const struct token t = p->tok;
	size_t len = t.end - t.start;
	char text[80];
	int r;

	if (tok_is_word(p, "true") || tok_is_word(p, "false") || tok_is_word(p, "null")) {
		struct gp_node *n = node_new(p, GP_NODE_NULL, t.line, t.col);

		if (!n)
			return -ENOMEM;
		if (!tok_is_word(p, "null")) {
			n->kind = GP_NODE_BOOL;
			n->b = tok_is_word(p, "true");
			n->str = n->b ? "true" : "false";
			n->len = len;
		}
		*ret = n;
		return lex_next(p);
	}
	r = lex_next(p);
	if (r < 0)
		return r;
	msg_text(text, sizeof(text), p->buf + t.start, len, 64);
	if (tok_is(p, "("))
		return perr(p, t.line, t.col,
			    "function calls are not allowed in tfvars (found \"%s(\")", text);
	if (len == 3 && memcmp(p->buf + t.start, "for", 3) == 0 && p->tok.kind == TOK_IDENT)
		return perr(p, t.line, t.col, "for expressions are not allowed in tfvars");
	return perr(p, t.line, t.col,
		    "references are not allowed in tfvars (found \"%s\"; strings must be quoted)",
		    text);
}

static int
parse_scalar_token(struct parser *p, struct gp_node **ret)
{
	const struct token *t = &p->tok;
	struct gp_node *n = node_new(p, t->kind == TOK_NUMBER ? GP_NODE_NUMBER : GP_NODE_STRING,
				     t->line, t->col);

	if (!n)
		return -ENOMEM;
	if (t->kind == TOK_NUMBER) {
		n->len = t->end - t->start;
		n->str = gp_arena_strndup(p->doc->arena, p->buf + t->start, n->len);
		if (!n->str)
			return -ENOMEM;
	} else {
		n->str = t->val;
		n->len = t->vlen;
	}
	*ret = n;
	return lex_next(p);
}

static int
parse_value(struct parser *p, struct gp_node **ret)
{
	const struct token *t = &p->tok;
	int r;

	if (t->kind == TOK_STRING || t->kind == TOK_HEREDOC || t->kind == TOK_NUMBER)
		r = parse_scalar_token(p, ret);
	else if (t->kind == TOK_IDENT)
		r = parse_word(p, ret);
	else if (tok_is(p, "{"))
		r = parse_object(p, ret);
	else if (tok_is(p, "["))
		r = parse_list(p, ret);
	else if (tok_is(p, "-"))
		r = parse_negative(p, ret);
	else if (tok_is(p, "("))
		return perr(p, t->line, t->col,
			    "parenthesized expressions are not allowed in tfvars");
	else if (tok_is(p, "!"))
		return perr(p, t->line, t->col,
			    "operators are not allowed in tfvars (found \"!\")");
	else
		return unexpected(p, "a value");
	if (r < 0)
		return r;
	return check_after_value(p);
}

/* name = value, at the top level. */
static int
parse_attribute(struct parser *p, struct memberset *attrs)
{
	const struct token name = p->tok;
	struct gp_member *mem;
	struct gp_node *value = NULL;
	char *key;
	int r;

	if (name.kind != TOK_IDENT)
		return unexpected(p, "an attribute name");
	key = gp_arena_strndup(p->doc->arena, p->buf + name.start, name.end - name.start);
	if (!key)
		return -ENOMEM;
	r = lex_next(p);
	if (r < 0)
		return r;
	if (p->tok.kind == TOK_IDENT || p->tok.kind == TOK_STRING || tok_is(p, "{"))
		return perr(p, name.line, name.col,
			    "blocks are not allowed in tfvars (found block \"%s\"); write \"%s = "
			    "{ ... }\"",
			    key, key);
	if (!tok_is(p, "="))
		return unexpected(p, "\"=\" after attribute name");
	r = lex_next(p);
	if (r >= 0)
		r = parse_value(p, &value);
	if (r < 0)
		return r;
	if (p->tok.kind != TOK_NEWLINE && p->tok.kind != TOK_EOF)
		return unexpected(p, "newline after the attribute's value");
	r = memberset_add(p, attrs, key, name.line, name.col, "attribute", &mem);
	if (r >= 0 && mem)
		mem->value = value;
	return r;
}

static int
parse_body(struct parser *p)
{
	struct gp_node *root = node_new(p, GP_NODE_OBJECT, 1, 1);
	struct memberset attrs = {0};
	int r;

	if (!root)
		return -ENOMEM;
	p->depth = 1;
	r = lex_next(p);
	while (r >= 0 && (r = skip_newlines(p)) >= 0 && p->tok.kind != TOK_EOF)
		r = parse_attribute(p, &attrs);
	if (r < 0)
		return r;
	root->members = attrs.v;
	root->n = attrs.n;
	p->doc->root = root;
	return 0;
}

int
gp_hcl_parse(const char *buf, size_t len, const char *name, struct gp_doc **ret,
	     struct gp_diags *diags)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	struct parser p;
	int r;

	assert(ret && diags);
	r = gp_doc_new(name, &doc);
	if (r < 0)
		return r;
	p = (struct parser){
		.buf = buf ? buf : "",
		.len = buf ? len : 0,
		.line = 1,
		.name = doc->name,
		.doc = doc,
		.diags = diags,
	};
	r = check_encoding(&p);
	if (r >= 0)
		r = parse_body(&p);
	if (r >= 0)
		r = p.status;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(doc);
	return 0;
}
