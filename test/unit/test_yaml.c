/*
 * test_yaml.c — the YAML front end: tree shape, positions, and every input it must refuse
 * (duplicate keys, aliases, several documents, deep nesting, NUL bytes, bad UTF-8, tabs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/doc.h"

struct parsed {
	struct gp_doc *doc;
	struct gp_diags diags;
	struct gp_buf errs; /* every diagnostic, formatted, one per line */
	int r;
};

static void
parse_len(struct parsed *p, const char *buf, size_t len)
{
	*p = (struct parsed){0};
	p->r = gp_yaml_parse(buf, len, "t.yaml", &p->doc, &p->diags);
	for (size_t i = 0; i < p->diags.n; i++) {
		gp_diag_format(&p->diags.v[i], &p->errs);
		gp_buf_putc(&p->errs, '\n');
	}
	gp_buf_putc(&p->errs, '\0'); /* so that errs.p is never NULL */
}

static void
parse(struct parsed *p, const char *buf)
{
	parse_len(p, buf, strlen(buf));
}

static void
done(struct parsed *p)
{
	gp_doc_free(p->doc);
	gp_diags_release(&p->diags);
	gp_buf_release(&p->errs);
}

/* Parses buf, expects failure, and checks that the first diagnostic is exactly `want`. */
static void
expect_error(const char *buf, size_t len, const char *want)
{
	struct parsed p;
	struct gp_buf first = {0};

	parse_len(&p, buf, len);
	assert_int_equal(p.r, -EINVAL);
	assert_null(p.doc);
	assert_true(p.diags.errors >= 1);
	gp_diag_format(&p.diags.v[0], &first);
	assert_string_equal(first.p, want);
	gp_buf_release(&first);
	done(&p);
}

static void
test_block_tree(void **state)
{
	struct parsed p;
	const struct gp_node *r, *l, *m;

	parse(&p, "# comment\n"
		  "name: inventory\n"
		  "quoted: \"a: b\"\n"
		  "single: 'x'\n"
		  "list:\n"
		  "  - one\n"
		  "  - two: 2\n"
		  "empty:\n"
		  "tilde: ~\n"
		  "literal: |\n"
		  "  line1\n"
		  "  line2\n");
	assert_int_equal(p.r, 0);
	r = p.doc->root;
	assert_int_equal(r->kind, GP_NODE_OBJECT);
	assert_int_equal(r->n, 7);
	assert_int_equal(r->line, 2);
	assert_int_equal(r->col, 1);
	assert_string_equal(r->members[0].key, "name");
	assert_int_equal(r->members[0].line, 2);
	assert_int_equal(r->members[0].col, 1);
	m = gp_node_get(r, "name");
	assert_int_equal(m->kind, GP_NODE_STRING);
	assert_string_equal(m->str, "inventory");
	assert_int_equal(m->len, 9);
	assert_true(m->plain);
	assert_int_equal(m->line, 2);
	assert_int_equal(m->col, 7);
	m = gp_node_get(r, "quoted");
	assert_string_equal(m->str, "a: b");
	assert_false(m->plain);
	assert_false(gp_node_get(r, "single")->plain);
	l = gp_node_get(r, "list");
	assert_int_equal(l->kind, GP_NODE_LIST);
	assert_int_equal(l->n, 2);
	assert_int_equal(l->line, 6);
	assert_int_equal(l->col, 3);
	assert_string_equal(l->items[0]->str, "one");
	assert_int_equal(l->items[1]->kind, GP_NODE_OBJECT);
	assert_string_equal(gp_node_str(gp_node_get(l->items[1], "two")), "2");
	/* Nulls stay strings: the consumer decides what an empty value means. */
	m = gp_node_get(r, "empty");
	assert_int_equal(m->kind, GP_NODE_STRING);
	assert_string_equal(m->str, "");
	assert_true(m->plain);
	assert_string_equal(gp_node_get(r, "tilde")->str, "~");
	m = gp_node_get(r, "literal");
	assert_string_equal(m->str, "line1\nline2\n");
	assert_false(m->plain);
	assert_string_equal(p.doc->name, "t.yaml");
	done(&p);
}

static void
test_flow_tree(void **state)
{
	struct parsed p;
	struct gp_buf dump = {0};

	parse(&p, "sync: { enabled: false, remote: origin }\nl: [a, \"b\", [c]]\ne: {}\nf: []\n");
	assert_int_equal(p.r, 0);
	assert_int_equal(gp_doc_dump(p.doc->root, &dump), 0);
	assert_string_equal(dump.p, ".sync.enabled = string:\"false\"  @1:18\n"
				    ".sync.remote = string:\"origin\"  @1:33\n"
				    ".l[0] = string:\"a\"  @2:5\n"
				    ".l[1] = string:\"b\"  @2:8\n"
				    ".l[2][0] = string:\"c\"  @2:14\n"
				    ".e = {}  @3:4\n"
				    ".f = []  @4:4\n");
	gp_buf_release(&dump);
	done(&p);
}

static void
test_scalar_root_and_crlf(void **state)
{
	struct parsed p;

	parse(&p, "a: 1\r\nb:\r\n  c: 2\r\n");
	assert_int_equal(p.r, 0);
	assert_int_equal(gp_node_get(gp_node_get(p.doc->root, "b"), "c")->line, 3);
	assert_int_equal(gp_node_get(gp_node_get(p.doc->root, "b"), "c")->col, 6);
	done(&p);

	parse(&p, "just text\n");
	assert_int_equal(p.r, 0);
	assert_int_equal(p.doc->root->kind, GP_NODE_STRING);
	assert_string_equal(p.doc->root->str, "just text");
	done(&p);
}

static void
test_not_nul_terminated(void **state)
{
	struct parsed p;
	const char buf[] = "a: 1\nb: 2\nGARBAGE: [";

	/* Only the first 10 bytes belong to the document. */
	parse_len(&p, buf, 10);
	assert_int_equal(p.r, 0);
	assert_int_equal(p.doc->root->n, 2);
	done(&p);
}

static void
test_empty(void **state)
{
	struct parsed p;

	parse(&p, "");
	assert_int_equal(p.r, 0);
	assert_null(p.doc->root);
	done(&p);
	parse(&p, "# only a comment\n\n");
	assert_int_equal(p.r, 0);
	assert_null(p.doc->root);
	done(&p);
	parse_len(&p, NULL, 0);
	assert_int_equal(p.r, 0);
	assert_null(p.doc->root);
	done(&p);
}

static void
test_duplicate_keys(void **state)
{
	struct parsed p;

	expect_error("a: 1\nb: 2\na: 3\n", 15,
		     "t.yaml:3:1: error: duplicate key \"a\" (first defined at line 1)");
	/* Nested, flow, and every repetition reported. */
	parse(&p, "x:\n  k: 1\n  k: 2\n  k: 3\ny: {q: 1, q: 2}\n");
	assert_int_equal(p.r, -EINVAL);
	assert_int_equal(p.diags.errors, 3);
	assert_string_equal(p.errs.p,
			    "t.yaml:3:3: error: duplicate key \"k\" (first defined at line 2)\n"
			    "t.yaml:4:3: error: duplicate key \"k\" (first defined at line 2)\n"
			    "t.yaml:5:11: error: duplicate key \"q\" (first defined at line 5)\n");
	done(&p);
}

static void
test_many_keys(void **state)
{
	struct gp_buf b = {0};
	struct parsed p;

	/* Duplicate detection must not be quadratic: 100k keys parse quickly. */
	for (int i = 0; i < 100000; i++)
		gp_buf_printf(&b, "k%d: %d\n", i, i);
	gp_buf_puts(&b, "k77: again\n");
	parse_len(&p, b.p, b.len);
	assert_int_equal(p.r, -EINVAL);
	assert_int_equal(p.diags.errors, 1);
	assert_string_equal(p.errs.p, "t.yaml:100001:1: error: duplicate key \"k77\" (first "
				      "defined at line 78)\n");
	done(&p);
	gp_buf_release(&b);
}

/* A stop request (the daemon's SIGTERM flag) ends a long parse with -ECANCELED; cleared, the
 * same input parses. */
static void
test_cancelled(void **state)
{
	atomic_bool stop = true;
	struct gp_buf b = {0};
	struct parsed p;

	for (int i = 0; i < 10000; i++)
		gp_buf_printf(&b, "k%d: %d\n", i, i);
	gp_cancel_watch(&stop);
	parse_len(&p, b.p, b.len);
	assert_int_equal(p.r, -ECANCELED);
	assert_null(p.doc);
	done(&p);
	atomic_store(&stop, false);
	parse_len(&p, b.p, b.len);
	assert_int_equal(p.r, 0);
	done(&p);
	gp_cancel_watch(NULL);
	gp_buf_release(&b);
}

static void
test_aliases(void **state)
{
	struct parsed p;

	expect_error("base: &b {x: 1}\nother: *b\n", 26,
		     "t.yaml:2:8: error: YAML aliases are not supported (*b)");
	/* A merge key is an alias too. */
	parse(&p, "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n");
	assert_int_equal(p.r, -EINVAL);
	assert_int_equal(p.diags.errors, 1);
	done(&p);
	/* An anchor alone is harmless. */
	parse(&p, "base: &b {x: 1}\n");
	assert_int_equal(p.r, 0);
	done(&p);
}

static void
test_multiple_documents(void **state)
{
	struct parsed p;

	expect_error("a: 1\n---\nb: 2\n", 14,
		     "t.yaml:2:1: error: more than one YAML document in the file (only one is "
		     "expected)");
	/* One explicit document is fine. */
	parse(&p, "---\na: 1\n...\n");
	assert_int_equal(p.r, 0);
	done(&p);
}

static void
test_depth(void **state)
{
	const size_t n = 200000;
	char *deep = malloc(n);
	struct gp_buf ok = {0};
	struct parsed p;

	memset(deep, '[', n);
	expect_error(deep, n, "t.yaml:1:65: error: nesting deeper than 64 levels");
	memset(deep, '{', n);
	parse_len(&p, deep, n);
	assert_int_equal(p.r, -EINVAL);
	done(&p);
	free(deep);

	/* Exactly GP_DOC_MAX_DEPTH levels is allowed. */
	for (int i = 0; i < GP_DOC_MAX_DEPTH; i++)
		gp_buf_putc(&ok, '[');
	for (int i = 0; i < GP_DOC_MAX_DEPTH; i++)
		gp_buf_putc(&ok, ']');
	parse(&p, ok.p);
	assert_int_equal(p.r, 0);
	done(&p);
	/* Block style counts the same way. */
	ok.len = 0;
	for (int i = 0; i < GP_DOC_MAX_DEPTH + 1; i++)
		gp_buf_printf(&ok, "%*sk:\n", 2 * i, "");
	parse(&p, ok.p);
	assert_int_equal(p.r, -EINVAL);
	assert_non_null(strstr(p.errs.p, "t.yaml:65:129: error: nesting deeper than 64 levels"));
	done(&p);
	gp_buf_release(&ok);
}

static void
test_nul_and_utf8(void **state)
{
	struct parsed p;

	expect_error("a: 1\nb: x\0y\n", 11, "t.yaml:2:5: error: NUL byte in input");
	expect_error("a: caf\xc3\xa9\nb: \xff\n", 16, "t.yaml:2:4: error: invalid UTF-8 in input");
	/* Overlong encodings, surrogates and truncated sequences are invalid. */
	expect_error("a: \xc0\xaf\n", 6, "t.yaml:1:4: error: invalid UTF-8 in input");
	expect_error("a: \xed\xa0\x80\n", 7, "t.yaml:1:4: error: invalid UTF-8 in input");
	expect_error("a: \xe2\x82", 5, "t.yaml:1:4: error: invalid UTF-8 in input");
	/* An escaped NUL would cut the C string short. */
	expect_error("a: \"x\\0y\"\n", 10, "t.yaml:1:4: error: NUL character (\\0) in a string");
	/* Valid multi-byte text counts as one column per character. */
	parse(&p, "é: ü\n");
	assert_int_equal(p.r, 0);
	assert_int_equal(gp_node_get(p.doc->root, "é")->col, 4);
	done(&p);
	/* Other control characters are libyaml's to refuse; the position is still given. */
	expect_error("a: 1\nb: \x01\n", 9, "t.yaml:2:4: error: control characters are not allowed");
}

static void
test_tabs(void **state)
{
	struct parsed p;

	parse(&p, "a:\n\tb: 1\n");
	assert_int_equal(p.r, -EINVAL);
	assert_int_equal(p.diags.errors, 1);
	assert_int_equal(p.diags.v[0].line, 2);
	assert_int_equal(p.diags.v[0].col, 1);
	assert_non_null(strstr(p.diags.v[0].message, "cannot start any token"));
	done(&p);
	/* A tab inside a quoted value is text. */
	parse(&p, "a: \"x\ty\"\n");
	assert_int_equal(p.r, 0);
	assert_string_equal(gp_node_get(p.doc->root, "a")->str, "x\ty");
	done(&p);
}

static void
test_syntax_errors(void **state)
{
	expect_error("a: [1, 2\nb: 3\n", 14,
		     "t.yaml:2:2: error: did not find expected ',' or ']' (while parsing a flow "
		     "sequence at 1:4)");
	expect_error("a: 1\n b: 2\n", 10,
		     "t.yaml:2:3: error: mapping values are not allowed in this context");
	expect_error("a: \"open\n", 9,
		     "t.yaml:2:1: error: found unexpected end of stream (while scanning a quoted "
		     "scalar at 1:4)");
}

static void
test_complex_keys(void **state)
{
	struct parsed p;

	parse(&p, "? [a, b]\n: 1\nc: 2\n");
	assert_int_equal(p.r, -EINVAL);
	assert_string_equal(p.errs.p,
			    "t.yaml:1:3: error: mapping keys must be scalars, not a sequence\n");
	done(&p);
	parse(&p, "{ {x: 1}: 2 }\n");
	assert_int_equal(p.r, -EINVAL);
	assert_int_equal(p.diags.v[0].col, 3);
	done(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_tree),
		cmocka_unit_test(test_flow_tree),
		cmocka_unit_test(test_scalar_root_and_crlf),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_cancelled),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_multiple_documents),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_nul_and_utf8),
		cmocka_unit_test(test_tabs),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_complex_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
