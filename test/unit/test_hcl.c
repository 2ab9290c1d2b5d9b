/*
 * test_hcl.c — the tfvars HCL parser: every accepted construct, every error with its exact
 * position, hostile input (NUL, invalid UTF-8, deep nesting, truncations, token soup), and
 * golden files test/golden/hcl/NAME.tfvars → NAME.out (GPRDSD_UPDATE_GOLDEN=1 rewrites them).
 *
 * Inputs are copied into exact-size heap blocks, so a read past `len` shows up under valgrind
 * or ASan instead of landing on a string literal's NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "golden.h"

#include "base/doc.h"

#define NAME "t.tfvars"

/* Parses src[0..len): the dump when it parses, else the formatted diagnostics, one a line. */
static char *
parse_text(const char *src, size_t len, const char *name, int *ret_rc)
{
	struct gp_diags d = {0};
	struct gp_doc *doc = NULL;
	struct gp_buf out = {0};
	char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	if (len)
		memcpy(copy, src, len);
	r = gp_hcl_parse(copy, len, name, &doc, &d);
	if (r == 0) {
		assert_non_null(doc);
		assert_non_null(doc->root);
		assert_int_equal(d.n, 0);
		assert_int_equal(gp_doc_dump(doc->root, &out), 0);
	} else {
		assert_null(doc);
		assert_int_equal(r, -EINVAL);
		assert_true(d.errors > 0);
		for (size_t i = 0; i < d.n; i++) {
			assert_true(d.v[i].line >= 1 && d.v[i].col >= 1);
			gp_diag_format(&d.v[i], &out);
			gp_buf_putc(&out, '\n');
		}
	}
	gp_doc_free(doc);
	gp_diags_release(&d);
	free(copy);
	*ret_rc = r;
	return gp_buf_steal(&out);
}

static void
expect_ok_n(const char *src, size_t len, const char *expected)
{
	int rc;
	char *got = parse_text(src, len, NAME, &rc);

	if (rc != 0)
		fprintf(stderr, "unexpected failure:\n%s", got);
	assert_int_equal(rc, 0);
	assert_string_equal(got, expected);
	free(got);
}

/* expected: the diagnostics, one string each, NULL-terminated. */
static void
expect_err_n(const char *src, size_t len, const char *const *expected)
{
	struct gp_buf exp = {0};
	int rc;
	char *got = parse_text(src, len, NAME, &rc);

	for (; *expected; expected++)
		gp_buf_puts(&exp, *expected);

	if (rc == 0)
		fprintf(stderr, "unexpected success:\n%s", got);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(got, exp.p);
	free(got);
	gp_buf_release(&exp);
}

/* Literals may hold NUL bytes: their length comes from sizeof. */
#define OK(src, exp) expect_ok_n(src, sizeof(src) - 1, exp)
#define ERR(src, ...) expect_err_n(src, sizeof(src) - 1, (const char *const[]){__VA_ARGS__, NULL})
#define E(pos, msg) NAME ":" pos ": error: " msg "\n"

/* ---- accepted syntax ---- */

static void
test_empty_and_comments(void **state)
{
	OK("", "$ = {}  @1:1\n");
	OK("\n\n\r\n   \t\n", "$ = {}  @1:1\n");
	OK("# a\n// b\n/* c\n d */\n  # e", "$ = {}  @1:1\n");
	OK("/**/", "$ = {}  @1:1\n");
	OK("a = 1 # trailing\nb = 2 // trailing\nc = /* inside */ 3 /* after */\n",
	   ".a = number:\"1\"  @1:5\n.b = number:\"2\"  @2:5\n.c = number:\"3\"  @3:18\n");
	OK("a = \"# not a comment // nor this /* */\"",
	   ".a = string:\"# not a comment // nor this /* */\"  @1:5\n");
	OK("a = [ # comment in a list\n 1, // another\n /* and */ 2 ]",
	   ".a[0] = number:\"1\"  @2:2\n.a[1] = number:\"2\"  @3:12\n");
}

static void
test_scalars(void **state)
{
	OK("s = \"x\"\nn = 12\nd = 0.5\ne = 1e3\nE = 2.5E-2\nneg = -3\nnegd = -0.25\n"
	   "t = true\nf = false\nz = null\n",
	   ".s = string:\"x\"  @1:5\n.n = number:\"12\"  @2:5\n.d = number:\"0.5\"  @3:5\n"
	   ".e = number:\"1e3\"  @4:5\n.E = number:\"2.5E-2\"  @5:5\n.neg = number:\"-3\"  @6:7\n"
	   ".negd = number:\"-0.25\"  @7:8\n.t = bool:\"true\"  @8:5\n.f = bool:\"false\"  @9:5\n"
	   ".z = null:null  @10:5\n");
	/* Numbers keep their literal text. */
	OK("a = 007\nb = 1.50\nc = - 4", ".a = number:\"007\"  @1:5\n.b = number:\"1.50\"  @2:5\n"
					 ".c = number:\"-4\"  @3:5\n");
	OK("hyphen-ated_name2 = 1", ".hyphen-ated_name2 = number:\"1\"  @1:21\n");
}

static void
test_string_escapes(void **state)
{
	OK("a = \"q\\\" b\\\\ n\\n r\\r t\\t\"",
	   ".a = string:\"q\\\" b\\\\ n\\n r\\u000d t\\t\"  @1:5\n");
	OK("a = \"\\u00e9\\u20AC\\U0001F600\"", ".a = string:\"é€😀\"  @1:5\n");
	OK("a = \"$${x} %%{y} $ $$ % %% $x\"", ".a = string:\"${x} %{y} $ $$ % %% $x\"  @1:5\n");
	OK("a = \"déjà vu\"", ".a = string:\"déjà vu\"  @1:5\n");
	OK("a = \"tab\tinside\"", ".a = string:\"tab\\tinside\"  @1:5\n");
}

static void
test_objects(void **state)
{
	OK("o = { a = 1, \"b c\" = 2, d: 3, \"e\": 4, }",
	   ".o.a = number:\"1\"  @1:11\n.o.b c = number:\"2\"  @1:22\n.o.d = number:\"3\"  @1:28\n"
	   ".o.e = number:\"4\"  @1:36\n");
	OK("o = {\n  a = 1\n\n  b = 2,\n  c = 3,\n}\n",
	   ".o.a = number:\"1\"  @2:7\n.o.b = number:\"2\"  @4:7\n.o.c = number:\"3\"  @5:7\n");
	OK("o = {}\np = {\n}\n", ".o = {}  @1:5\n.p = {}  @2:5\n");
	OK("o = { a = { b = { c = \"deep\" } } }", ".o.a.b.c = string:\"deep\"  @1:23\n");
	/* Keywords are plain keys in key position. */
	OK("o = { true = 1, for = 2, null = 3 }",
	   ".o.true = number:\"1\"  @1:14\n.o.for = number:\"2\"  @1:23\n"
	   ".o.null = number:\"3\"  @1:33\n");
	OK("o = { a = 1 }\n", ".o.a = number:\"1\"  @1:11\n");
	OK("o = {a=1,b=2}", ".o.a = number:\"1\"  @1:8\n.o.b = number:\"2\"  @1:12\n");
}

static void
test_lists(void **state)
{
	OK("l = []", ".l = []  @1:5\n");
	OK("l = [\n  \"a\",\n\n  \"b\"\n  ,\"c\",\n]",
	   ".l[0] = string:\"a\"  @2:3\n.l[1] = string:\"b\"  @4:3\n.l[2] = string:\"c\"  @5:4\n");
	OK("l = [[1], [], {a = [true]}]",
	   ".l[0][0] = number:\"1\"  @1:7\n.l[1] = []  @1:11\n.l[2].a[0] = bool:\"true\"  @1:21\n");
	OK("l = [-1, -2.5]", ".l[0] = number:\"-1\"  @1:6\n.l[1] = number:\"-2.5\"  @1:10\n");
}

static void
test_heredocs(void **state)
{
	OK("h = <<EOT\nline 1\n  line 2\nEOT\n", ".h = string:\"line 1\\n  line 2\\n\"  @1:5\n");
	OK("h = <<-EOT\n    a\n      b\n\n    c\n    EOT\n",
	   ".h = string:\"a\\n  b\\n\\nc\\n\"  @1:5\n");
	/* Whitespace-only lines neither count towards the indentation nor get stripped. */
	OK("h = <<-EOT\n    a\n  \n    b\nEOT", ".h = string:\"a\\n  \\nb\\n\"  @1:5\n");
	OK("h = <<-X\n\t\ta\n\tb\n\tX\n", ".h = string:\"\\ta\\nb\\n\"  @1:5\n");
	OK("h = <<EOT\nEOT\n", ".h = string:\"\"  @1:5\n");
	OK("h = <<MY_DELIM-2\nEOT\n MY_DELIM-2\nnext = 1",
	   ".h = string:\"EOT\\n\"  @1:5\n.next = number:\"1\"  @4:8\n");
	OK("h = <<EOT\n  NOT EOT\nEOT x\nEOT", ".h = string:\"  NOT EOT\\nEOT x\\n\"  @1:5\n");
	OK("h = <<EOT\n\\n \\\" $${a} %%{b} $5\nEOT",
	   ".h = string:\"\\\\n \\\\\\\" ${a} %{b} $5\\n\"  @1:5\n");
	OK("l = [<<A\nx\nA\n, <<-B\n  y\n  B\n]\n",
	   ".l[0] = string:\"x\\n\"  @1:6\n.l[1] = string:\"y\\n\"  @4:3\n");
	OK("h = <<EOT\r\none\r\n  two\r\nEOT\r\nn = 1\r\n",
	   ".h = string:\"one\\n  two\\n\"  @1:5\n.n = number:\"1\"  @5:5\n");
}

static void
test_crlf(void **state)
{
	OK("a = {\r\n  b = [\r\n    1,\r\n  ]\r\n}\r\n# c\r\nd = \"e\" // f\r\n",
	   ".a.b[0] = number:\"1\"  @3:5\n.d = string:\"e\"  @7:5\n");
	/* A lone CR is blank space, not a line break. */
	ERR("a = 1\rb = 2\n",
	    E("1:7", "expected newline after the attribute's value, found \"b\""));
}

static void
test_hostile_names(void **state)
{
	OK("m = { \"x\\\"; DROP TABLE y; --\" = \"'; --\", \"a;b\" = \"c\\\"d\" }",
	   ".m.x\"; DROP TABLE y; -- = string:\"'; --\"  @1:33\n.m.a;b = string:\"c\\\"d\"  "
	   "@1:50\n");
	OK("m = { \"\" = \"\" }", ".m. = string:\"\"  @1:12\n");
}

/* ---- errors, each at its exact position ---- */

static void
test_err_structure(void **state)
{
	ERR("a }", E("1:3", "expected \"=\" after attribute name, found \"}\""));
	ERR("a\n= 1", E("1:2", "expected \"=\" after attribute name, found newline"));
	ERR("a = \n1", E("1:5", "expected a value, found newline"));
	ERR("a =", E("1:4", "expected a value, found end of file"));
	ERR("a = 1 b = 2", E("1:7", "expected newline after the attribute's value, found \"b\""));
	ERR("\"a\" = 1", E("1:1", "expected an attribute name, found a quoted string"));
	ERR("= 1", E("1:1", "expected an attribute name, found \"=\""));
	ERR("a: 1", E("1:2", "expected \"=\" after attribute name, found \":\""));
	ERR("a = [1 2]", E("1:8", "expected \",\" or \"]\" after a list item, found \"2\""));
	ERR("a = [1,, 2]", E("1:8", "expected a value, found \",\""));
	ERR("a = { b = 1 c = 2 }",
	    E("1:13", "expected \",\", newline or \"}\" after an object member, found \"c\""));
	ERR("a = { b 1 }", E("1:9", "expected \"=\" or \":\" after object key, found \"1\""));
	ERR("a = { 1 = 2 }",
	    E("1:7", "expected an object key (an identifier or a quoted string) or "
		     "\"}\", found \"1\""));
	ERR("a = { , }", E("1:7", "expected an object key (an identifier or a quoted string) or "
				  "\"}\", found \",\""));
	ERR("a = { b = 1,, }",
	    E("1:13", "expected an object key (an identifier or a quoted string) "
		      "or \"}\", found \",\""));
	ERR("a = [1, 2}", E("1:10", "expected \",\" or \"]\" after a list item, found \"}\""));
	ERR("a = {\n  b = [1,\n", E("2:7", "\"[\" is never closed (end of file reached)"));
	ERR("a = {\n  b = 1\n", E("1:5", "\"{\" is never closed (end of file reached)"));
	ERR("a = {\n  b = 1", E("1:5", "\"{\" is never closed (end of file reached)"));
	ERR("a = 1;", E("1:6", "unexpected character \";\""));
	ERR("a = 'x'", E("1:5", "unexpected character \"'\" (strings use double quotes)"));
	ERR("a = \"x\"\n@b = 1", E("2:1", "unexpected character \"@\""));
	ERR("a = 1\x01", E("1:6", "unexpected control character 0x01"));
	ERR("a\xc2\xa0= 1", E("1:2", "unexpected character \"\xc2\xa0\""));
	ERR("a = 12abc", E("1:5", "invalid number \"12abc\""));
	ERR("a = 1.", E("1:5", "invalid number \"1.\""));
	ERR("a = 1.2.3", E("1:5", "invalid number \"1.2.3\""));
	ERR("a = 1e", E("1:5", "invalid number \"1e\""));
}

static void
test_err_expressions(void **state)
{
	ERR("a = var.x",
	    E("1:5",
	      "references are not allowed in tfvars (found \"var\"; strings must be quoted)"));
	ERR("a = hello",
	    E("1:5",
	      "references are not allowed in tfvars (found \"hello\"; strings must be quoted)"));
	ERR("a = [local.x]",
	    E("1:6", "references are not allowed in tfvars (found \"local\"; strings "
		     "must be quoted)"));
	ERR("a = upper(\"x\")",
	    E("1:5", "function calls are not allowed in tfvars (found \"upper(\")"));
	ERR("a = 1 + 2", E("1:7", "operators are not allowed in tfvars (found \"+\")"));
	ERR("a = \"x\" == \"y\"", E("1:9", "operators are not allowed in tfvars (found \"==\")"));
	ERR("a = { b = 2 * 3 }", E("1:13", "operators are not allowed in tfvars (found \"*\")"));
	ERR("a = !true", E("1:5", "operators are not allowed in tfvars (found \"!\")"));
	ERR("a = -\"x\"", E("1:5", "operators are not allowed in tfvars (found \"-\")"));
	ERR("a = --1", E("1:5", "operators are not allowed in tfvars (found \"-\")"));
	ERR("a = true ? 1 : 2", E("1:10", "conditional expressions are not allowed in tfvars"));
	ERR("a = [for s in x : s]", E("1:6", "for expressions are not allowed in tfvars"));
	ERR("a = {for k, v in x : k => v}", E("1:6", "for expressions are not allowed in tfvars"));
	ERR("a = (1)", E("1:5", "parenthesized expressions are not allowed in tfvars"));
	ERR("a = [1][0]", E("1:8", "attribute access and indexing are not allowed in tfvars (found "
				   "\"[\")"));
	ERR("a = {b = 1}.b", E("1:12", "attribute access and indexing are not allowed in tfvars "
				       "(found \".\")"));
	ERR("a = [x...]",
	    E("1:6", "references are not allowed in tfvars (found \"x\"; strings must "
		     "be quoted)"));
	ERR("locals {\n  a = 1\n}",
	    E("1:1", "blocks are not allowed in tfvars (found block \"locals\"); write \"locals = "
		     "{ ... }\""));
	ERR("resource \"aws_db_instance\" \"x\" {}",
	    E("1:1", "blocks are not allowed in tfvars (found block \"resource\"); write "
		     "\"resource = { ... }\""));
}

static void
test_err_strings(void **state)
{
	ERR("a = \"x${var.y}\"",
	    E("1:7",
	      "templates/interpolation are not allowed in tfvars (\"${\"; write \"$${\" for a "
	      "literal \"${\")"));
	ERR("a = \"%{ if x }y%{ endif }\"",
	    E("1:6",
	      "templates/interpolation are not allowed in tfvars (\"%{\"; write \"%%{\" for a "
	      "literal \"%{\")"),
	    E("1:16", "templates/interpolation are not allowed in tfvars (\"%{\"; write "
		      "\"%%{\" for a literal \"%{\")"));
	ERR("a = <<EOT\nok\n  ${x}\nEOT",
	    E("3:3",
	      "templates/interpolation are not allowed in tfvars (\"${\"; write \"$${\" for a "
	      "literal \"${\")"));
	ERR("a = \"\\q\"", E("1:6", "invalid escape sequence \"\\q\""));
	ERR("a = \"\\é\"", E("1:6", "invalid escape sequence \"\\é\""));
	ERR("a = \"ab\\u12\"", E("1:8", "invalid escape sequence: \\u needs 4 hex digits"));
	ERR("a = \"\\U0001F6\"", E("1:6", "invalid escape sequence: \\U needs 8 hex digits"));
	ERR("a = \"\\u0000\"", E("1:6", "NUL character (\\u0000) is not allowed in strings"));
	ERR("a = \"\\U00000000\"",
	    E("1:6", "NUL character (\\U00000000) is not allowed in strings"));
	ERR("a = \"\\uD800\"", E("1:6", "invalid Unicode code point U+D800 in escape"));
	ERR("a = \"\\U00110000\"", E("1:6", "invalid Unicode code point U+110000 in escape"));
	/* Problems inside strings do not stop the parse: all of them are reported. */
	ERR("a = \"\\q\"\nb = \"${x}\"\nc = 1 +", E("1:6", "invalid escape sequence \"\\q\""),
	    E("2:6", "templates/interpolation are not allowed in tfvars (\"${\"; write "
		     "\"$${\" for a literal \"${\")"),
	    E("3:7", "operators are not allowed in tfvars (found \"+\")"));
}

static void
test_err_unterminated(void **state)
{
	ERR("a = 1\nb = \"abc", E("2:5", "unterminated string (missing closing '\"')"));
	ERR("a = \"abc\nb = 1\"", E("1:5", "unterminated string (missing closing '\"')"));
	ERR("a = \"abc\\\"", E("1:5", "unterminated string (missing closing '\"')"));
	ERR("a = \"abc\\\n\"", E("1:5", "unterminated string (missing closing '\"')"));
	ERR("a = 1\n  /* never\n closed *",
	    E("2:3", "unterminated comment (\"/*\" is never closed)"));
	ERR("a = <<EOT\nx\nEOTX\n EOT y",
	    E("1:5", "unterminated heredoc (no closing \"EOT\" line)"));
	ERR("a = <<EOT\n", E("1:5", "unterminated heredoc (no closing \"EOT\" line)"));
	ERR("a = <<EOT", E("1:10", "heredoc delimiter \"EOT\" must be followed by a newline"));
	ERR("a = <<EOT x\nEOT",
	    E("1:10", "heredoc delimiter \"EOT\" must be followed by a newline"));
	ERR("a = << EOT\nEOT",
	    E("1:7", "expected a heredoc delimiter (an identifier) after \"<<\""));
	ERR("a = <<-\"EOT\"\nEOT",
	    E("1:8", "expected a heredoc delimiter (an identifier) after \"<<-\""));
	ERR("a = [", E("1:5", "\"[\" is never closed (end of file reached)"));
	ERR("a = {", E("1:5", "\"{\" is never closed (end of file reached)"));
}

static void
test_err_duplicates(void **state)
{
	ERR("a = 1\nb = 2\na = 3", E("3:1", "duplicate attribute \"a\" (first defined at line 1)"));
	ERR("o = {\n  k = 1\n  \"k\" = 2\n}",
	    E("3:3", "duplicate key \"k\" (first defined at line 2)"));
	/* Every duplicate is reported, and nested objects are separate scopes. */
	ERR("o = { a = { a = 1, b = 2 }, b = { b = 3 }, a = 4, b = 5, a = 6 }",
	    E("1:44", "duplicate key \"a\" (first defined at line 1)"),
	    E("1:51", "duplicate key \"b\" (first defined at line 1)"),
	    E("1:58", "duplicate key \"a\" (first defined at line 1)"));
	ERR("o = { \"a\\nb\" = 1, \"a\\nb\" = 2 }",
	    E("1:19", "duplicate key \"a?b\" (first defined at line 1)"));
}

static void
test_err_encoding(void **state)
{
	ERR("a = 1\nb = \"x\0y\"", E("2:7", "NUL byte in input"));
	ERR("\0", E("1:1", "NUL byte in input"));
	ERR("# \xff comment\n", E("1:3", "invalid UTF-8 (byte 0xff)"));
	ERR("a = 1\nb = \"\xc0\x80\"", E("2:6", "invalid UTF-8 (byte 0xc0)"));	   /* overlong */
	ERR("a = 1\nb = \"\xed\xa0\x80\"", E("2:6", "invalid UTF-8 (byte 0xed)")); /* surrogate */
	ERR("a = \"ok\"\nb = \"\xe2\x82", E("2:6", "invalid UTF-8 (byte 0xe2)"));  /* truncated */
	ERR("a = \"\x80\"", E("1:6", "invalid UTF-8 (byte 0x80)"));
	ERR("a = \"\xf4\x90\x80\x80\"", E("1:6", "invalid UTF-8 (byte 0xf4)")); /* > U+10FFFF */
	ERR("\xef\xbb\xbf"
	    "a = 1",
	    E("1:1", "unexpected character \"\xef\xbb\xbf\""));
}

/* ---- nesting ---- */

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *ret_len)
{
	struct gp_buf b = {0};

	gp_buf_puts(&b, head);
	for (size_t i = 0; i < n; i++)
		gp_buf_puts(&b, unit);
	gp_buf_puts(&b, tail);
	assert_false(b.oom);
	*ret_len = b.len;
	return gp_buf_steal(&b);
}

static void
expect_nesting(const char *head, const char *open, size_t n, const char *close, const char *exp)
{
	struct gp_buf tail = {0};
	size_t len;
	char *src, *got;
	int rc;

	/* The innermost object needs a value for its last key. */
	if (n && strchr(open, '='))
		gp_buf_puts(&tail, "1");
	for (size_t i = 0; i < n; i++)
		gp_buf_puts(&tail, close);
	src = repeat(head, open, n, tail.p ? tail.p : "", &len);
	got = parse_text(src, len, NAME, &rc);
	if (exp)
		assert_string_equal(got, exp);
	else
		assert_int_equal(rc, 0);
	free(got);
	free(src);
	gp_buf_release(&tail);
}

static void
test_nesting(void **state)
{
	/* The root object is level 1: 63 nested containers fit, the 64th does not. */
	expect_nesting("a = ", "[", 63, "]", NULL);
	expect_nesting("a = ", "[", 64, "]", E("1:68", "nesting deeper than 64 levels"));
	expect_nesting("a = ", "{b=", 63, "}", NULL);
	expect_nesting("a = ", "{b=", 64, "}", E("1:194", "nesting deeper than 64 levels"));
	/* Hostile depth fails at once, with no deep recursion. */
	expect_nesting("a = ", "[", 200000, "", E("1:68", "nesting deeper than 64 levels"));
	expect_nesting("a = ", "{b=", 200000, "", E("1:194", "nesting deeper than 64 levels"));
	expect_nesting("a = ", "[\n{\nb = ", 100000, "",
		       E("64:1", "nesting deeper than 64 levels"));
}

static void
test_large_object(void **state)
{
	struct gp_buf b = {0};
	struct gp_diags d = {0};
	struct gp_doc *doc = NULL;
	const size_t n = 50000;

	gp_buf_puts(&b, "big = {\n");
	for (size_t i = 0; i < n; i++)
		gp_buf_printf(&b, "  k%zu = %zu\n", i, i);
	gp_buf_puts(&b, "}\n");
	assert_int_equal(gp_hcl_parse(b.p, b.len, NAME, &doc, &d), 0);
	assert_int_equal(gp_node_get(doc->root, "big")->n, n);
	assert_string_equal(gp_node_get(gp_node_get(doc->root, "big"), "k49999")->str, "49999");
	gp_doc_free(doc);
	doc = NULL;

	b.len -= 2;
	gp_buf_puts(&b, "  k12345 = 0\n}\n");
	assert_int_equal(gp_hcl_parse(b.p, b.len, NAME, &doc, &d), -EINVAL);
	assert_null(doc);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, n + 2);
	assert_string_equal(d.v[0].message,
			    "duplicate key \"k12345\" (first defined at line 12347)");
	gp_diags_release(&d);
	gp_buf_release(&b);
}

static void
test_doc_shape(void **state)
{
	struct gp_diags d = {0};
	struct gp_doc *doc = NULL;
	const char src[] = "a = { x = 1 }\nb = [true, \"s\"]\n";
	const struct gp_node *a, *b;

	assert_int_equal(gp_hcl_parse(src, sizeof(src) - 1, NULL, &doc, &d), 0);
	assert_string_equal(doc->name, "<input>");
	assert_int_equal(doc->root->kind, GP_NODE_OBJECT);
	assert_int_equal(doc->root->n, 2);
	a = gp_node_get(doc->root, "a");
	b = gp_node_get(doc->root, "b");
	assert_int_equal(a->kind, GP_NODE_OBJECT);
	assert_int_equal(gp_node_member(doc->root, "b")->line, 2);
	assert_int_equal(gp_node_member(doc->root, "b")->col, 1);
	assert_int_equal(b->kind, GP_NODE_LIST);
	assert_true(b->items[0]->b);
	assert_int_equal(b->items[1]->len, 1);
	gp_doc_free(doc);
}

/* ---- robustness: truncations and mutations of a real file, token soup ---- */

/* Any input: 0, or -EINVAL with positioned errors; nothing else, never a crash. */
static void
parse_any(const char *src, size_t len)
{
	int rc;
	char *got = parse_text(src, len, NAME, &rc);

	assert_true(rc == 0 || rc == -EINVAL);
	free(got);
}

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
test_truncations_and_mutations(void **state)
{
	static const char mut[] = "\"{}[]=,:\\\n\r#/*<-$%\t x1";
	size_t len;
	char *src = test_read_file(GOLDEN_DIR "/hcl/standalone_dev.tfvars", &len);
	uint32_t seed = 42;

	assert_non_null(src);
	for (size_t i = 0; i <= len; i++)
		parse_any(src, i);
	for (int k = 0; k < 3000; k++) {
		char *m = malloc(len);
		int edits = 1 + (int)(lcg(&seed) % 3);

		memcpy(m, src, len);
		while (edits--)
			m[lcg(&seed) % len] = mut[lcg(&seed) % (sizeof(mut) - 1)];
		parse_any(m, len);
		free(m);
	}
	free(src);
}

static void
test_token_soup(void **state)
{
	static const char *const toks[] = {
		"a",	    " = ",   "=",     "\"s\"", "\"", "{",   "}",	"[",	"]",
		",",	    ":",     "\n",    "\r\n",  "1",  "-",   "true",	"null", "<<EOT\n",
		"<<-EOT\n", "EOT\n", "  EOT", "#c\n",  "/*", "*/",  "${",	"$${",	"\\",
		"\\u",	    "(",     ")",     ".",     "?",  "for", "\xc3\xa9", "\xff", " ",
	};
	uint32_t seed = 7;

	for (int k = 0; k < 20000; k++) {
		struct gp_buf b = {0};
		int n = 1 + (int)(lcg(&seed) % 40);

		while (n--)
			gp_buf_puts(&b, toks[lcg(&seed) % ELEMENTSOF(toks)]);
		parse_any(b.p, b.len);
		gp_buf_release(&b);
	}
}

/* ---- golden files ---- */

static const char *const golden[] = {
	"standalone_dev", "coupled_dev",   "syntax_tour", "heredocs",
	"crlf",		  "comments_only", "empty",	  "hostile_names",
	"err_duplicates", "err_template",  "err_block",	  "err_unterminated_heredoc",
	"err_reference",
};

static void
test_golden(void **state)
{
	const char *update = getenv("GPRDSD_UPDATE_GOLDEN");

	for (size_t i = 0; i < ELEMENTSOF(golden); i++) {
		char in[512], outp[512], name[128];
		size_t len, elen;
		char *src, *got, *exp;
		int rc;

		snprintf(in, sizeof(in), "%s/hcl/%s.tfvars", GOLDEN_DIR, golden[i]);
		snprintf(outp, sizeof(outp), "%s/hcl/%s.out", GOLDEN_DIR, golden[i]);
		snprintf(name, sizeof(name), "%s.tfvars", golden[i]);
		src = test_read_file(in, &len);
		if (!src)
			fail_msg("cannot read %s", in);
		got = parse_text(src, len, name, &rc);
		/* err_* inputs must fail, the others must parse. */
		assert_int_equal(rc, strncmp(golden[i], "err_", 4) == 0 ? -EINVAL : 0);
		if (update && strcmp(update, "1") == 0) {
			FILE *f = fopen(outp, "wb");

			assert_non_null(f);
			fputs(got, f);
			fclose(f);
		} else {
			exp = test_read_file(outp, &elen);
			if (!exp)
				fail_msg("cannot read %s (GPRDSD_UPDATE_GOLDEN=1 creates it)",
					 outp);
			if (strcmp(got, exp) != 0)
				fprintf(stderr, "golden mismatch for %s; got:\n%s", golden[i], got);
			assert_string_equal(got, exp);
			free(exp);
		}
		free(got);
		free(src);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_heredocs),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_err_structure),
		cmocka_unit_test(test_err_expressions),
		cmocka_unit_test(test_err_strings),
		cmocka_unit_test(test_err_unterminated),
		cmocka_unit_test(test_err_duplicates),
		cmocka_unit_test(test_err_encoding),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_large_object),
		cmocka_unit_test(test_doc_shape),
		cmocka_unit_test(test_truncations_and_mutations),
		cmocka_unit_test(test_token_soup),
		cmocka_unit_test(test_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
