/*
 * test_state.c — lib/state.c: the lifecycle records' JSON codec. Exact rendering, round trips,
 * and refusal (with the file name) of everything that would change behaviour if misread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "base/doc.h"
#include "model/state.h"

#define NAME "/var/lib/gprdsd/dev.state.json"

/* Upserts key and fills the record from the arguments. */
static struct gp_record *
add_record(struct gp_state_file *s, const char *key, const char *db, const char *user,
	   enum gp_state st, int64_t since)
{
	struct gp_record *r;

	assert_int_equal(gp_state_upsert(s, key, since, &r), 0);
	r->database = gp_strdup0(db);
	r->username = gp_strdup0(user);
	r->state = st;
	return r;
}

/* Two records: one full (every member set), one with every optional member empty. */
static struct gp_state_file *
sample(void)
{
	struct gp_state_file *s = gp_state_file_new("dev");
	struct gp_record *r;

	assert_non_null(s);
	add_record(s, "reporting", "inventory_service", "reporting_ro", GP_STATE_PENDING, 0);
	r = add_record(s, "inventory", "inventory_service", "inventory_user", GP_STATE_FAILED,
		       1768471200);
	r->reason = strdup("create_role: 42501 \"permission denied\"\nDETAIL: x");
	r->attempts = 3;
	r->next_retry = 1768471500;
	r->transient = true;
	r->last_commit = strdup("0123456789abcdef0123456789abcdef01234567");
	r->verified_version = strdup("a1b2c3d4-0000-4000-8000-000000000000");
	r->verified_at = 1709210096;
	return s;
}

static const char SAMPLE_JSON[] =
	"{\n"
	"\t\"version\":\t1,\n"
	"\t\"env\":\t\"dev\",\n"
	"\t\"last_pass\":\tnull,\n"
	"\t\"last_success\":\tnull,\n"
	"\t\"last_error\":\tnull,\n"
	"\t\"entries\":\t[{\n"
	"\t\t\t\"key\":\t\"inventory\",\n"
	"\t\t\t\"database\":\t\"inventory_service\",\n"
	"\t\t\t\"username\":\t\"inventory_user\",\n"
	"\t\t\t\"state\":\t\"failed\",\n"
	"\t\t\t\"since\":\t\"2026-01-15T10:00:00Z\",\n"
	"\t\t\t\"reason\":\t\"create_role: 42501 \\\"permission denied\\\"\\nDETAIL: x\",\n"
	"\t\t\t\"attempts\":\t3,\n"
	"\t\t\t\"next_retry\":\t\"2026-01-15T10:05:00Z\",\n"
	"\t\t\t\"transient\":\ttrue,\n"
	"\t\t\t\"last_commit\":\t\"0123456789abcdef0123456789abcdef01234567\",\n"
	"\t\t\t\"verified_version\":\t\"a1b2c3d4-0000-4000-8000-000000000000\",\n"
	"\t\t\t\"verified_at\":\t\"2024-02-29T12:34:56Z\",\n"
	"\t\t\t\"secret_changed\":\tnull,\n"
	"\t\t\t\"grants_checked_at\":\tnull,\n"
	"\t\t\t\"current_version\":\tnull,\n"
	"\t\t\t\"current_since\":\tnull,\n"
	"\t\t\t\"rotation_due\":\tnull,\n"
	"\t\t\t\"rotating_since\":\tnull\n"
	"\t\t}, {\n"
	"\t\t\t\"key\":\t\"reporting\",\n"
	"\t\t\t\"database\":\t\"inventory_service\",\n"
	"\t\t\t\"username\":\t\"reporting_ro\",\n"
	"\t\t\t\"state\":\t\"pending\",\n"
	"\t\t\t\"since\":\t\"1970-01-01T00:00:00Z\",\n"
	"\t\t\t\"reason\":\tnull,\n"
	"\t\t\t\"attempts\":\t0,\n"
	"\t\t\t\"next_retry\":\tnull,\n"
	"\t\t\t\"transient\":\tfalse,\n"
	"\t\t\t\"last_commit\":\tnull,\n"
	"\t\t\t\"verified_version\":\tnull,\n"
	"\t\t\t\"verified_at\":\tnull,\n"
	"\t\t\t\"secret_changed\":\tnull,\n"
	"\t\t\t\"grants_checked_at\":\tnull,\n"
	"\t\t\t\"current_version\":\tnull,\n"
	"\t\t\t\"current_since\":\tnull,\n"
	"\t\t\t\"rotation_due\":\tnull,\n"
	"\t\t\t\"rotating_since\":\tnull\n"
	"\t\t}]\n"
	"}\n";

static void
assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_same_records(const struct gp_state_file *a, const struct gp_state_file *b)
{
	assert_string_equal(a->env, b->env);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct gp_record *x = &a->v[i], *y = &b->v[i];

		assert_string_equal(x->key, y->key);
		assert_str_or_null(x->database, y->database);
		assert_str_or_null(x->username, y->username);
		assert_int_equal(x->state, y->state);
		assert_true(x->since == y->since);
		assert_str_or_null(x->reason, y->reason);
		assert_int_equal(x->attempts, y->attempts);
		assert_true(x->next_retry == y->next_retry);
		assert_int_equal(x->transient, y->transient);
		assert_str_or_null(x->last_commit, y->last_commit);
		assert_str_or_null(x->verified_version, y->verified_version);
		assert_true(x->verified_at == y->verified_at);
		assert_true(x->secret_changed == y->secret_changed);
		assert_true(x->grants_checked_at == y->grants_checked_at);
		assert_str_or_null(x->current_version, y->current_version);
		assert_true(x->current_since == y->current_since);
		assert_true(x->rotation_due == y->rotation_due);
		assert_true(x->rotating_since == y->rotating_since);
		assert_true(x->retry_used == y->retry_used);
	}
}

/* Parses text that must be refused; returns the diagnostics for inspection. */
static void
expect_refused(const char *text, const char *needle)
{
	struct gp_state_file *s = (struct gp_state_file *)0x1;
	struct gp_diags d = {0};
	struct gp_buf b = {0};

	assert_int_equal(gp_state_parse(text, strlen(text), NAME, &s, &d), -EINVAL);
	assert_ptr_equal(s, (struct gp_state_file *)0x1); /* untouched */
	assert_true(d.errors >= 1);
	for (size_t i = 0; i < d.n; i++) {
		gp_diag_format(&d.v[i], &b);
		gp_buf_putc(&b, '\n');
	}
	assert_non_null(strstr(b.p, NAME));
	if (!strstr(b.p, needle))
		fail_msg("\"%s\" not in diagnostics:\n%s", needle, b.p);
	gp_buf_release(&b);
	gp_diags_release(&d);
}

static struct gp_state_file *
parse_ok(const char *text)
{
	struct gp_state_file *s = NULL;
	struct gp_diags d = {0};

	assert_int_equal(gp_state_parse(text, strlen(text), NAME, &s, &d), 0);
	assert_int_equal(d.n, 0);
	assert_non_null(s);
	return s;
}

static void
test_render_exact(void **state)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = sample();
	struct gp_buf b = {0};

	assert_int_equal(gp_state_render(s, &b), 0);
	assert_string_equal(b.p, SAMPLE_JSON);
	gp_buf_release(&b);
}

static void
test_roundtrip(void **state)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = sample(), *back = NULL;
	struct gp_buf b1 = {0}, b2 = {0};

	assert_int_equal(gp_state_render(s, &b1), 0);
	back = parse_ok(b1.p);
	assert_same_records(s, back);
	assert_int_equal(gp_state_render(back, &b2), 0);
	assert_string_equal(b1.p, b2.p); /* a fixed point: rendering is canonical */
	gp_buf_release(&b1);
	gp_buf_release(&b2);
}

static void
test_roundtrip_every_state(void **state)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = gp_state_file_new("prod");
	_cleanup_(gp_state_file_freep) struct gp_state_file *back = NULL;
	struct gp_buf b = {0};

	for (int i = 0; i < _GP_STATE_MAX; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		add_record(s, key, NULL, NULL, (enum gp_state)i, 1000 * i);
	}
	s->v[0].attempts = UINT32_MAX;
	s->v[1].reason = strdup("unicode \xe2\x82\xac, tab\t, ctl \x01, quote \" slash \\");
	s->v[2].next_retry = 253402300799; /* far future stays far future */
	s->v[3].verified_at = -1;
	assert_int_equal(gp_state_render(s, &b), 0);
	back = parse_ok(b.p);
	assert_same_records(s, back);
	gp_buf_release(&b);
}

static void
test_render_sorts_and_refuses(void **state)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = sample();
	_cleanup_(gp_state_file_freep) struct gp_state_file *back = NULL;
	struct gp_record tmp;
	struct gp_buf b = {0};

	/* A caller that broke the order still gets a canonical file. */
	tmp = s->v[0];
	s->v[0] = s->v[1];
	s->v[1] = tmp;
	assert_int_equal(gp_state_render(s, &b), 0);
	assert_string_equal(b.p, SAMPLE_JSON);
	gp_buf_release(&b);

	/* Files that could not be read back are never written. */
	s->v[1].state = _GP_STATE_MAX;
	assert_int_equal(gp_state_render(s, &b), -EINVAL);
	s->v[1].state = GP_STATE_ACTIVE;
	free(s->v[1].key);
	s->v[1].key = strdup("reporting");
	assert_int_equal(gp_state_render(s, &b), -EINVAL); /* duplicate key */
	free(s->v[1].key);
	s->v[1].key = NULL;
	assert_int_equal(gp_state_render(s, &b), -EINVAL);
	s->v[1].key = strdup("z");
	assert_int_equal(gp_state_render(s, &b), 0);
	back = parse_ok(b.p);
	assert_int_equal(back->n, 2);
	gp_buf_release(&b);
}

static void
test_empty(void **state)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = gp_state_file_new("test");
	_cleanup_(gp_state_file_freep) struct gp_state_file *back = NULL;
	struct gp_buf b = {0};

	assert_int_equal(gp_state_render(s, &b), 0);
	assert_string_equal(
		b.p, "{\n\t\"version\":\t1,\n\t\"env\":\t\"test\",\n\t\"last_pass\":\tnull,\n"
		"\t\"last_success\":\tnull,\n\t\"last_error\":\tnull,\n\t\"entries\":\t[]\n}\n");
	back = parse_ok(b.p);
	assert_string_equal(back->env, "test");
	assert_int_equal(back->n, 0);
	gp_buf_release(&b);
}

static void
test_parse_compact_and_defaults(void **state)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;

	/* Missing optional members read as null/0/false; unknown members are ignored. */
	s = parse_ok("  {\"env\":\"dev\",\"entries\":[{\"key\":\"b\",\"state\":\"active\","
		     "\"since\":\"2026-01-15T10:00:00.250Z\",\"future_member\":{\"x\":[1]}},"
		     "{\"key\":\"a\",\"state\":\"approved\",\"since\":\"2026-01-15T10:00:00Z\","
		     "\"database\":null,\"attempts\":2,\"next_retry\":null}],\"version\":1}\r\n");
	assert_string_equal(s->env, "dev");
	assert_int_equal(s->n, 2);
	assert_string_equal(s->v[0].key, "a"); /* sorted by key */
	assert_int_equal(s->v[0].state, GP_STATE_APPROVED);
	assert_int_equal(s->v[0].attempts, 2);
	assert_null(s->v[0].database);
	assert_string_equal(s->v[1].key, "b");
	assert_int_equal(s->v[1].state, GP_STATE_ACTIVE);
	assert_true(s->v[1].since == 1768471200);
	assert_null(s->v[1].reason);
	assert_int_equal(s->v[1].attempts, 0);
	assert_true(s->v[1].next_retry == 0);
	assert_false(s->v[1].transient);
	assert_true(s->v[1].verified_at == 0);
}

static void
test_parse_not_json(void **state)
{
	expect_refused("", NAME ":1:1: error: not valid JSON");
	expect_refused("{\n  \"version\": 1,\n  \"env\": \"dev\",,\n", NAME ":3:");
	expect_refused("{\"version\":1,\"env\":\"dev\",\"entries\":[]", "not valid JSON");
	expect_refused("{\"version\":1,\"env\":\"dev\",\"entries\":[]}\n{}",
		       NAME ":2:1: error: unexpected data after the JSON value");
	expect_refused("{\"version\":1,\"env\":\"dev\",\"entries\":[]} x", "unexpected data");
}

static void
test_parse_nul_byte(void **state)
{
	static const char text[] = "{\"version\":1,\"env\":\"d\0ev\",\"entries\":[]}";
	struct gp_state_file *s = NULL;
	struct gp_diags d = {0};

	assert_int_equal(gp_state_parse(text, sizeof(text) - 1, NAME, &s, &d), -EINVAL);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.v[0].file, NAME);
	assert_int_equal(d.v[0].col, 22);
	assert_null(s);
	gp_diags_release(&d);
}

static void
test_parse_not_nul_terminated(void **state)
{
	static const char text[] = "{\"version\":1,\"env\":\"dev\",\"entries\":[]}GARBAGE";
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;
	struct gp_diags d = {0};

	/* Only len bytes count: the caller's buffer need not end in NUL. */
	assert_int_equal(gp_state_parse(text, sizeof(text) - 1 - 7, NAME, &s, &d), 0);
	assert_string_equal(s->env, "dev");
	assert_int_equal(d.n, 0);
}

static void
test_parse_bad_top_level(void **state)
{
	expect_refused("[]", "the top level must be an object");
	expect_refused("{\"env\":\"dev\",\"entries\":[]}", "unsupported \"version\"");
	expect_refused("{\"version\":2,\"env\":\"dev\",\"entries\":[]}", "unsupported \"version\"");
	expect_refused("{\"version\":\"1\",\"env\":\"dev\",\"entries\":[]}", "\"version\"");
	expect_refused("{\"version\":1,\"entries\":[]}", "\"env\" must be a non-empty string");
	expect_refused("{\"version\":1,\"env\":\"\",\"entries\":[]}", "\"env\"");
	expect_refused("{\"version\":1,\"env\":\"dev\"}", "\"entries\" must be an array");
	expect_refused("{\"version\":1,\"env\":\"dev\",\"entries\":{}}", "\"entries\"");
}

#define ENTRY(body) "{\"version\":1,\"env\":\"dev\",\"entries\":[" body "]}"
#define GOOD "\"key\":\"a\",\"state\":\"active\",\"since\":\"2026-01-15T10:00:00Z\""

static void
test_parse_bad_entries(void **state)
{
	expect_refused(
		ENTRY("{\"key\":\"a\",\"state\":\"running\",\"since\":\"2026-01-15T10:00:00Z\"}"),
		"entries[0] (key \"a\"): unknown state \"running\"");
	expect_refused(
		ENTRY("{\"key\":\"a\",\"state\":\"Active\",\"since\":\"2026-01-15T10:00:00Z\"}"),
		"unknown state \"Active\"");
	expect_refused(ENTRY("{\"key\":\"a\",\"since\":\"2026-01-15T10:00:00Z\"}"),
		       "\"state\" is missing");
	expect_refused(ENTRY("{\"state\":\"active\",\"since\":\"2026-01-15T10:00:00Z\"}"),
		       "entries[0]: \"key\" is missing");
	expect_refused(
		ENTRY("{\"key\":\"\",\"state\":\"active\",\"since\":\"2026-01-15T10:00:00Z\"}"),
		"\"key\" must not be empty");
	expect_refused(ENTRY("{\"key\":7,\"state\":\"active\",\"since\":\"2026-01-15T10:00:00Z\"}"),
		       "\"key\" must be a string");
	expect_refused(ENTRY("{\"key\":\"a\",\"state\":\"active\"}"), "\"since\" is missing");
	expect_refused(
		ENTRY("{\"key\":\"a\",\"state\":\"active\",\"since\":\"2026-02-30T10:00:00Z\"}"),
		"\"since\" must be a time");
	expect_refused(ENTRY("{\"key\":\"a\",\"state\":\"active\",\"since\":1768471200}"),
		       "\"since\" must be a time");
	expect_refused(ENTRY("{" GOOD ",\"next_retry\":\"soon\"}"),
		       "\"next_retry\" must be a time");
	expect_refused(ENTRY("{" GOOD ",\"attempts\":-1}"), "\"attempts\" must be an integer");
	expect_refused(ENTRY("{" GOOD ",\"attempts\":1.5}"), "\"attempts\" must be an integer");
	expect_refused(ENTRY("{" GOOD ",\"attempts\":4294967296}"), "\"attempts\"");
	expect_refused(ENTRY("{" GOOD ",\"attempts\":\"3\"}"), "\"attempts\"");
	expect_refused(ENTRY("{" GOOD ",\"transient\":\"yes\"}"),
		       "\"transient\" must be true or false");
	expect_refused(ENTRY("{" GOOD ",\"reason\":[]}"), "\"reason\" must be a string");
	expect_refused(ENTRY("{" GOOD "}, 3"), "entries[1]: must be an object");
	expect_refused(ENTRY("{" GOOD "},{" GOOD "}"), "duplicate entry key \"a\"");
}

/* Every problem is reported, not just the first. */
static void
test_parse_reports_all(void **state)
{
	static const char text[] =
		ENTRY("{\"key\":\"a\",\"state\":\"bogus\",\"since\":\"x\"},"
		      "{\"key\":\"b\",\"state\":\"active\",\"since\":\"2026-01-15T10:00:00Z\"},"
		      "{\"key\":\"c\",\"state\":\"active\",\"since\":\"2026-01-15T10:00:00Z\","
		      "\"attempts\":-2}");
	struct gp_state_file *s = NULL;
	struct gp_diags d = {0};

	assert_int_equal(gp_state_parse(text, strlen(text), NAME, &s, &d), -EINVAL);
	assert_null(s);
	assert_int_equal(d.errors, 3);
	assert_string_equal(d.v[0].message, "entries[0] (key \"a\"): unknown state \"bogus\"");
	assert_non_null(strstr(d.v[1].message, "entries[0] (key \"a\"): \"since\""));
	assert_non_null(strstr(d.v[2].message, "entries[2] (key \"c\"): \"attempts\""));
	for (size_t i = 0; i < d.n; i++)
		assert_string_equal(d.v[i].file, NAME);
	gp_diags_release(&d);
}

/* The digest covers every member the file holds but the pass times: each change shows. */
static void
test_digest(void **state)
{
	struct gp_state_file *s = sample();
	struct gp_record *r = gp_state_find(s, "inventory");
	uint64_t d0 = gp_state_digest(s), prev = d0;

	(void)state;
	assert_non_null(r);
	s->last_pass = 1768471200;
	s->last_success = 1768471200;
	assert_true(gp_state_digest(s) == d0);
#define CHANGES(stmt)                                                                              \
	do {                                                                                       \
		stmt;                                                                              \
		assert_true(gp_state_digest(s) != prev);                                           \
		prev = gp_state_digest(s);                                                         \
	} while (0)
	CHANGES(free(s->last_error); s->last_error = strdup("no connection"));
	CHANGES(free(r->database); r->database = strdup("inventory_service2"));
	CHANGES(free(r->username); r->username = strdup("inventory_user2"));
	CHANGES(r->state = GP_STATE_ACTIVE);
	CHANGES(r->since++);
	CHANGES(free(r->reason); r->reason = NULL);
	CHANGES(r->attempts = 0);
	CHANGES(r->next_retry = 0);
	CHANGES(r->transient = false);
	CHANGES(free(r->last_commit); r->last_commit = strdup("fedcba9876543210fedcba9876543210fedcba98"));
	CHANGES(free(r->verified_version); r->verified_version = NULL);
	CHANGES(r->verified_at++);
	CHANGES(r->secret_changed = 1768471200);
	CHANGES(r->grants_checked_at = 1768471200);
	CHANGES(free(r->current_version); r->current_version = strdup("v9"));
	CHANGES(r->current_since = 1768471200);
	CHANGES(r->rotation_due = 1768471200);
	CHANGES(r->rotating_since = 1768471200);
	CHANGES(r->retry_used = 1768471200);
	CHANGES(free(r->key); r->key = strdup("inventory2"));
	CHANGES(assert_int_equal(gp_state_upsert(s, "zeta", 1, &r), 0));
#undef CHANGES
	gp_state_file_free(s);
}

/* The `gprdsd retry` request a record used: written only when there is one, read back. */
static void
test_retry_used(void **state)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = sample(), *back = NULL;
	struct gp_buf b = {0};

	(void)state;
	assert_int_equal(gp_state_render(s, &b), 0);
	assert_null(strstr(b.p, "retry_used")); /* files without it stay as they were */
	gp_buf_release(&b);
	gp_state_find(s, "inventory")->retry_used = 1768471300;
	assert_int_equal(gp_state_render(s, &b), 0);
	assert_non_null(strstr(b.p, "\t\t\t\"retry_used\":\t\"2026-01-15T10:01:40Z\""));
	back = parse_ok(b.p);
	assert_same_records(s, back);
	assert_true(gp_state_find(back, "reporting")->retry_used == 0);
	gp_buf_release(&b);
	expect_refused("{\"version\":1,\"env\":\"dev\",\"entries\":[{\"key\":\"k\",\"state\":"
		       "\"failed\",\"since\":\"2026-01-15T10:00:00Z\",\"retry_used\":5}]}",
		       "retry_used");
}

/* Many records at once: one sort and one merge, the result as sorted as upserts make it. */
static void
test_reserve(void **state)
{
	struct gp_state_file *s = gp_state_file_new("dev");
	const char *keys[] = {"orders", "alpha", NULL, "zeta", "orders", "mid", "alpha"};
	struct gp_record *r;
	char key[16];

	(void)state;
	assert_int_equal(gp_state_reserve(s, keys, 0, 5), 0);
	assert_int_equal(s->n, 0);
	add_record(s, "mid", "db", "u", GP_STATE_ACTIVE, 1);
	add_record(s, "beta", "db2", "u2", GP_STATE_FAILED, 2);
	assert_int_equal(gp_state_reserve(s, keys, ELEMENTSOF(keys), 7), 0);
	assert_int_equal(s->n, 5); /* beta, mid kept; alpha, orders, zeta new, once each */
	assert_string_equal(s->v[0].key, "alpha");
	assert_string_equal(s->v[1].key, "beta");
	assert_string_equal(s->v[2].key, "mid");
	assert_string_equal(s->v[3].key, "orders");
	assert_string_equal(s->v[4].key, "zeta");
	assert_int_equal(s->v[0].state, GP_STATE_PENDING);
	assert_int_equal(s->v[0].since, 7);
	assert_int_equal(s->v[1].state, GP_STATE_FAILED); /* existing records untouched */
	assert_int_equal(s->v[2].state, GP_STATE_ACTIVE);
	assert_int_equal(s->v[2].since, 1);
	assert_string_equal(s->v[2].database, "db");
	/* upsert finds them now, and still inserts in order */
	assert_int_equal(gp_state_upsert(s, "orders", 9, &r), 0);
	assert_ptr_equal(r, &s->v[3]);
	assert_int_equal(gp_state_upsert(s, "omega", 9, &r), 0);
	assert_string_equal(s->v[3].key, "omega");
	assert_ptr_equal(gp_state_find(s, "zeta"), &s->v[5]);
	/* a few thousand in reverse order: all found, in order */
	for (int i = 3000; i > 0; i--) {
		const char *k = key;

		snprintf(key, sizeof(key), "k%05d", i);
		assert_int_equal(gp_state_reserve(s, &k, 1, 1), 0);
	}
	for (size_t i = 1; i < s->n; i++)
		assert_true(strcmp(s->v[i - 1].key, s->v[i].key) < 0);
	assert_int_equal(s->n, 3006);
	assert_non_null(gp_state_find(s, "k01234"));
	gp_state_file_free(s);
}

static void
test_dup(void **state)
{
	struct gp_state_file *s = sample(), *c;
	struct gp_buf a = {0}, b = {0};

	(void)state;
	s->last_pass = 1768471200;
	s->last_error = strdup("no connection");
	c = gp_state_file_dup(s);
	assert_non_null(c);
	assert_int_equal(c->n, s->n);
	assert_true(gp_state_digest(c) == gp_state_digest(s));
	assert_int_equal(gp_state_render(s, &a), 0);
	assert_int_equal(gp_state_render(c, &b), 0);
	assert_string_equal(a.p, b.p);
	for (size_t i = 0; i < c->n; i++)
		assert_ptr_not_equal(c->v[i].key, s->v[i].key);
	gp_buf_release(&a);
	gp_buf_release(&b);
	gp_state_file_free(s);
	gp_state_file_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_every_state),
		cmocka_unit_test(test_render_sorts_and_refuses),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_parse_compact_and_defaults),
		cmocka_unit_test(test_parse_not_json),
		cmocka_unit_test(test_parse_nul_byte),
		cmocka_unit_test(test_parse_not_nul_terminated),
		cmocka_unit_test(test_parse_bad_top_level),
		cmocka_unit_test(test_parse_bad_entries),
		cmocka_unit_test(test_parse_reports_all),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_retry_used),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
