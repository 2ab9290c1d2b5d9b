/*
 * test_util.c — lib/util.c: buffers, string vectors, durations, timestamps, UTF-8 checks;
 * lib/base/diag.c: severities, context, one diagnostic per problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "base/diag.h"
#include "base/util.h"

/* ---------------------------------------------------------------------------------------
 * gp_buf, gp_strv, small string helpers
 */

static void
test_buf_append(void **state)
{
	struct gp_buf b = {0};

	assert_int_equal(gp_buf_puts(&b, "abc"), 0);
	assert_int_equal(gp_buf_putc(&b, ','), 0);
	assert_int_equal(gp_buf_append(&b, "xyz", 2), 0);
	assert_int_equal(gp_buf_append(&b, NULL, 0), 0);
	assert_int_equal(gp_buf_printf(&b, "%d-%s", 42, "q"), 0);
	assert_string_equal(b.p, "abc,xy42-q");
	assert_int_equal(b.len, 10);
	assert_false(b.oom);
	gp_buf_release(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

static void
test_buf_grows(void **state)
{
	struct gp_buf b = {0};

	for (int i = 0; i < 10000; i++)
		assert_int_equal(gp_buf_printf(&b, "%04d", i % 10000), 0);
	assert_int_equal(b.len, 40000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.p[b.len], '\0');
	assert_memory_equal(b.p + 39996, "9999", 4);
	gp_buf_release_secure(&b);
	assert_null(b.p);
}

static void
test_buf_steal(void **state)
{
	struct gp_buf b = {0};
	char *s;

	/* Never written: still a valid empty string (this used to be uninitialised memory). */
	s = gp_buf_steal(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);

	assert_int_equal(gp_buf_reserve(&b, 100), 0);
	assert_string_equal(b.p, "");
	s = gp_buf_steal(&b);
	assert_string_equal(s, "");
	free(s);

	gp_buf_puts(&b, "hello");
	s = gp_buf_steal(&b);
	assert_string_equal(s, "hello");
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	free(s);
}

static void
test_buf_oom_sticky(void **state)
{
	struct gp_buf b = {0};

	gp_buf_puts(&b, "x");
	assert_int_equal(gp_buf_reserve(&b, SIZE_MAX), -ENOMEM);
	assert_true(b.oom);
	assert_int_equal(gp_buf_puts(&b, "y"), -ENOMEM);
	assert_int_equal(gp_buf_printf(&b, "%s", "z"), -ENOMEM);
	assert_string_equal(b.p, "x"); /* the content before the failure stays readable */
	assert_null(gp_buf_steal(&b));
	assert_null(b.p);
	assert_false(b.oom);
}

static void
test_strv_sorted(void **state)
{
	struct gp_strv sv = {0};
	const char *in[] = {"orders", "billing", "zeta", "alpha", "billing_ro"};

	assert_false(gp_strv_has(&sv, "alpha"));
	for (size_t i = 0; i < ELEMENTSOF(in); i++)
		assert_int_equal(gp_strv_push(&sv, in[i]), 0);
	gp_strv_sort(&sv);
	assert_string_equal(sv.v[0], "alpha");
	assert_string_equal(sv.v[4], "zeta");
	for (size_t i = 0; i < ELEMENTSOF(in); i++)
		assert_true(gp_strv_has(&sv, in[i]));
	assert_false(gp_strv_has(&sv, "billin"));
	assert_false(gp_strv_has(&sv, NULL));
	gp_strv_release(&sv);
}

static void
test_strv_uniq(void **state)
{
	struct gp_strv sv = {0};
	const char *in[] = {"orders", "billing", "orders", "alpha", "billing", "orders"};

	(void)state;
	gp_strv_uniq(&sv); /* empty: nothing to do */
	assert_int_equal(sv.n, 0);
	for (size_t i = 0; i < ELEMENTSOF(in); i++)
		assert_int_equal(gp_strv_push(&sv, in[i]), 0);
	gp_strv_uniq(&sv);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "alpha");
	assert_string_equal(sv.v[1], "billing");
	assert_string_equal(sv.v[2], "orders");
	assert_true(gp_strv_has(&sv, "orders"));
	/* still a growable array: pushing after it works */
	assert_int_equal(gp_strv_push(&sv, "zeta"), 0);
	assert_int_equal(sv.n, 4);
	gp_strv_release(&sv); /* valgrind: the duplicates were freed, nothing twice */
}

static void
test_strv(void **state)
{
	struct gp_strv sv = {0};
	char name[16];

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(gp_strv_push(&sv, name), 0);
	}
	assert_int_equal(sv.n, 100);
	assert_string_equal(sv.v[0], "n0");
	assert_string_equal(sv.v[99], "n99");
	assert_true(gp_strv_contains(&sv, "n57"));
	assert_false(gp_strv_contains(&sv, "n100"));
	assert_false(gp_strv_contains(&sv, "n"));
	gp_strv_release(&sv);
	assert_null(sv.v);
	assert_int_equal(sv.n, 0);
	assert_false(gp_strv_contains(&sv, "n1"));
	gp_strv_release(&sv);
}

static void
test_string_helpers(void **state)
{
	_cleanup_free_ char *d = gp_strdup0("abc");

	assert_string_equal(d, "abc");
	assert_null(gp_strdup0(NULL));
	assert_true(gp_streq(NULL, NULL));
	assert_false(gp_streq("a", NULL));
	assert_false(gp_streq(NULL, "a"));
	assert_true(gp_streq("a", "a"));
	assert_false(gp_streq("a", "b"));
	assert_true(gp_isempty(NULL));
	assert_true(gp_isempty(""));
	assert_false(gp_isempty(" "));
}

static void
test_did_you_mean(void **state)
{
	static const char *const keys[] = {"username", "database_name", "risk", "aws"};

	assert_int_equal(gp_edit_distance("usernme", "username"), 1);
	assert_int_equal(gp_edit_distance("", "abc"), 3);
	assert_int_equal(gp_edit_distance("kitten", "sitting"), 3);
	assert_string_equal(gp_did_you_mean("usernme", keys, ELEMENTSOF(keys)), "username");
	assert_string_equal(gp_did_you_mean("databse_name", keys, ELEMENTSOF(keys)), "database_name");
	assert_string_equal(gp_did_you_mean("rsk", keys, ELEMENTSOF(keys)), "risk");
	/* Too short to be a typo of anything, or too far from every key. */
	assert_null(gp_did_you_mean("x", keys, ELEMENTSOF(keys)));
	assert_null(gp_did_you_mean("owner", keys, ELEMENTSOF(keys)));
	assert_null(gp_did_you_mean("usernme", keys, 0));
}

/* One problem found twice is shown and counted once; env and key do not make it another. */
static void
test_diags_uniq(void **state)
{
	struct gp_diags d = {0};
	struct gp_buf b = {0};

	assert_int_equal(gp_diag_error(&d, -EINVAL, "c.yaml", 3, 5, "bad risk"), 0);
	assert_int_equal(gp_diag_warning(&d, "c.yaml", 3, 5, "bad risk"), 0);
	assert_int_equal(gp_diag_note(&d, "t.tfvars", 9, 0, "held: its owner is invalid"), 0);
	assert_int_equal(gp_diags_set_context(&d, 0, NULL, "ledger"), 0);
	assert_int_equal(gp_diag_error(&d, -EINVAL, "c.yaml", 3, 5, "bad risk"), 0);
	assert_int_equal(gp_diag_error(&d, -EINVAL, NULL, 0, 0, "no inputs"), 0);
	assert_int_equal(gp_diag_error(&d, -EINVAL, NULL, 0, 0, "no inputs"), 0);
	/* A context fills only what is unset. */
	assert_int_equal(gp_diags_set_context(&d, 0, "dev", "other"), 0);
	assert_string_equal(d.v[0].key, "ledger");
	assert_string_equal(d.v[3].key, "other");
	assert_string_equal(d.v[0].env, "dev");
	assert_int_equal(d.errors, 4);
	assert_int_equal(gp_diags_uniq(&d), 0);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.errors, 2);
	assert_int_equal(gp_diags_count(&d, GP_SEV_WARNING), 1);
	assert_int_equal(gp_diags_count(&d, GP_SEV_NOTE), 1);
	/* The first of equals stays, in the original order. */
	assert_int_equal(d.v[0].severity, GP_SEV_ERROR);
	assert_string_equal(d.v[0].key, "ledger");
	assert_int_equal(d.v[1].severity, GP_SEV_WARNING);
	assert_string_equal(d.v[3].message, "no inputs");
	gp_diag_format(&d.v[2], &b);
	assert_string_equal(b.p, "t.tfvars:9:1: note: held: its owner is invalid");
	assert_string_equal(gp_severity_to_string(GP_SEV_NOTE), "note");
	assert_null(gp_severity_to_string(_GP_SEV_MAX));
	gp_buf_release(&b);
	gp_diags_release(&d);
	assert_int_equal(gp_diags_uniq(&d), 0);
}

/* What was reported for every environment once is dropped from one environment's own. */
static void
test_diags_drop_seen(void **state)
{
	struct gp_diags seen = {0}, d = {0};

	assert_int_equal(gp_diag_error(&seen, -EINVAL, "c.yaml", 3, 5, "bad risk"), 0);
	assert_int_equal(gp_diag_warning(&seen, "c.yaml", 9, 1, "odd size"), 0);
	assert_int_equal(gp_diag_error(&d, -EINVAL, "t.tfvars", 1, 1, "own problem"), 0);
	assert_int_equal(gp_diag_error(&d, -EINVAL, "c.yaml", 3, 5, "bad risk"), 0);
	assert_int_equal(gp_diags_set_context(&d, 0, "dev", NULL), 0); /* env does not count */
	assert_int_equal(gp_diag_error(&d, -EINVAL, "c.yaml", 9, 1, "odd size"), 0); /* severity does */
	assert_int_equal(gp_diags_drop_seen(&d, &seen), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].message, "own problem");
	assert_string_equal(d.v[1].message, "odd size");
	assert_int_equal(d.errors, 2);
	gp_diags_release(&seen);
	assert_int_equal(gp_diags_drop_seen(&d, &seen), 0); /* nothing seen: nothing dropped */
	assert_int_equal(d.n, 2);
	gp_diags_release(&d);
}

static void
test_span_format(void **state)
{
	static const struct {
		int64_t secs;
		const char *want;
	} cases[] = {
		{-5, "0s"}, {0, "0s"}, {119, "119s"}, {120, "2m"}, {7199, "119m"}, {7200, "2h"},
		{48 * 3600 - 1, "47h"}, {48 * 3600, "2d"}, {400 * 86400 + 5, "400d"},
	};
	char buf[32];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		gp_span_format(cases[i].secs, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

static void
test_take_ptr(void **state)
{
	_cleanup_free_ char *p = strdup("x");
	char *q = TAKE_PTR(p);

	assert_null(p);
	assert_string_equal(q, "x");
	free(q);
}

/* ---------------------------------------------------------------------------------------
 * Durations
 */

static void
test_duration_parse_ok(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} ok[] = {
		{"30s", 30000},
		{"5m", 300000},
		{"1h", 3600000},
		{"14d", 1209600000},
		{"250ms", 250},
		{"0", 0},
		{"00", 0},
		{"0s", 0},
		{"0ms", 0},
		{"90s", 90000},
		{"007s", 7000},
		{"18446744073709551615ms", UINT64_MAX},
		{"213503982334d", 213503982334ULL * 86400000},
	};

	for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
		uint64_t ms = 1;

		assert_int_equal(gp_duration_parse(ok[i].s, &ms), 0);
		assert_true(ms == ok[i].ms);
	}
}

static void
test_duration_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",    "5",   "1000", "s",    "ms",  "5x",  "5S",    "5 s",   " 5s",  "5s ",
		"-5s", "+5s", "1.5h", "5sec", "5mm", "5hs", "1h30m", "0x10s", "5\ns",
	};
	uint64_t ms = 123;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		assert_int_equal(gp_duration_parse(bad[i], &ms), -EINVAL);
		assert_true(ms == 123); /* untouched on failure */
	}
	assert_int_equal(gp_duration_parse(NULL, &ms), -EINVAL);
}

static void
test_duration_parse_overflow(void **state)
{
	uint64_t ms = 123;

	assert_int_equal(gp_duration_parse("18446744073709551616ms", &ms), -ERANGE);
	assert_int_equal(gp_duration_parse("99999999999999999999999s", &ms), -ERANGE);
	assert_int_equal(gp_duration_parse("18446744073709552s", &ms), -ERANGE);
	assert_int_equal(gp_duration_parse("213503982335d", &ms), -ERANGE);
	assert_int_equal(gp_duration_parse("5124095576030432h", &ms), -ERANGE);
	assert_true(ms == 123);
}

static void
test_duration_format(void **state)
{
	static const struct {
		uint64_t ms;
		const char *s;
	} v[] = {
		{30000, "30s"},
		{300000, "5m"},
		{3600000, "1h"},
		{1209600000, "14d"},
		{250, "250ms"},
		{0, "0ms"},
		{90000, "90s"},
		{1500, "1500ms"},
		{5400000, "90m"},
		{172800000, "2d"},
		{90000000, "25h"},
		{1, "1ms"},
		{UINT64_MAX, "18446744073709551615ms"},
	};
	char buf[32];

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		uint64_t back = 1;

		gp_duration_format(v[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, v[i].s);
		assert_int_equal(gp_duration_parse(buf, &back), 0);
		assert_true(back == v[i].ms);
	}
	/* A short buffer truncates, NUL-terminated. */
	memset(buf, 'X', sizeof(buf));
	gp_duration_format(1209600000, buf, 3);
	assert_string_equal(buf, "14");
}

/* ---------------------------------------------------------------------------------------
 * Timestamps
 */

static void
test_time_format(void **state)
{
	static const struct {
		int64_t t;
		const char *s;
	} v[] = {
		{0, "1970-01-01T00:00:00Z"},
		{1768471200, "2026-01-15T10:00:00Z"},
		{1709210096, "2024-02-29T12:34:56Z"},
		{951782400, "2000-02-29T00:00:00Z"},
		{-1, "1969-12-31T23:59:59Z"},
		{-86400, "1969-12-31T00:00:00Z"},
		{4102444799, "2099-12-31T23:59:59Z"},
		{-30641760000, "0999-01-01T00:00:00Z"},
		{-62167219200, "0000-01-01T00:00:00Z"},
		{253402300799, "9999-12-31T23:59:59Z"},
		/* Out of the 4-digit range: clamped (never unterminated or 1970). */
		{253402300800, "9999-12-31T23:59:59Z"},
		{INT64_MAX, "9999-12-31T23:59:59Z"},
		{-62167219201, "0000-01-01T00:00:00Z"},
		{INT64_MIN, "0000-01-01T00:00:00Z"},
	};

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char buf[32];

		memset(buf, 'X', sizeof(buf));
		gp_time_format(v[i].t, buf);
		assert_string_equal(buf, v[i].s);
	}
}

static void
test_time_parse_ok(void **state)
{
	static const struct {
		const char *s;
		int64_t t;
	} v[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"2026-01-15T10:00:00Z", 1768471200},
		{"2026-01-15T10:00:00.123Z", 1768471200},
		{"2026-01-15T10:00:00.999999999Z", 1768471200},
		{"2026-01-15T10:00:00+00:00", 1768471200},
		{"2026-01-15T10:00:00.5+00:00", 1768471200},
		{"2024-02-29T12:34:56Z", 1709210096},
		{"2000-02-29T00:00:00Z", 951782400},
		{"1969-12-31T23:59:59Z", -1},
		{"2016-12-31T23:59:60Z", 1483228800}, /* leap second: the next second */
		{"0000-01-01T00:00:00Z", -62167219200},
		{"9999-12-31T23:59:59Z", 253402300799},
	};

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		int64_t t = 7;

		assert_int_equal(gp_time_parse(v[i].s, &t), 0);
		assert_true(t == v[i].t);
	}
}

static void
test_time_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"2026-01-15",
		"2026-01-15T10:00:00",	     /* no zone: refuse, do not guess */
		"2026-01-15T10:00:00+01:00", /* only UTC */
		"2026-01-15t10:00:00z",
		"2026-01-15 10:00:00Z",
		" 2026-01-15T10:00:00Z",
		"2026-01-15T10:00:00Z ",
		"2026-01-15T10:00:00ZZ",
		"2026-1-15T10:00:00Z",
		"2026-01-5T10:00:00Z",
		"2026-01-15T1:00:00Z",
		"2026-01-15T10: 0:00Z",
		"2026-01-15T10:00:00.Z",
		"2026-01-15T10:00:00.12a Z",
		"2026-00-15T10:00:00Z",
		"2026-13-15T10:00:00Z",
		"2026-01-00T10:00:00Z",
		"2026-01-32T10:00:00Z",
		"2026-02-29T10:00:00Z", /* not a leap year */
		"2100-02-29T10:00:00Z", /* not a leap year either */
		"2026-04-31T10:00:00Z",
		"2026-01-15T24:00:00Z",
		"2026-01-15T10:60:00Z",
		"2026-01-15T10:00:61Z",
		"+2026-01-15T10:00:00Z",
		"20260115T100000Z",
		"12026-01-15T10:00:00Z",
	};
	int64_t t = 7;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		assert_int_equal(gp_time_parse(bad[i], &t), -EINVAL);
		assert_true(t == 7);
	}
	assert_int_equal(gp_time_parse(NULL, &t), -EINVAL);
}

/* Every day of 1900..2100 (and some seconds) survives format → parse. */
static void
test_time_roundtrip(void **state)
{
	for (int64_t t = -2208988800; t <= 4133980799; t += 86400 - 7) {
		char buf[21];
		int64_t back;

		gp_time_format(t, buf);
		assert_int_equal(gp_time_parse(buf, &back), 0);
		assert_true(back == t);
	}
}

/* ---------------------------------------------------------------------------------------
 * UTF-8
 */

#define UTF8_OK(s) assert_true(gp_utf8_valid((s), sizeof(s) - 1))
#define UTF8_BAD(s) assert_false(gp_utf8_valid((s), sizeof(s) - 1))

static void
test_utf8_valid(void **state)
{
	UTF8_OK("");
	UTF8_OK("plain ascii, with\ttabs\nand newlines");
	UTF8_OK("\xc3\xa9");	     /* é */
	UTF8_OK("\xe2\x82\xac");     /* € */
	UTF8_OK("\xf0\x9f\x98\x80"); /* 😀 */
	UTF8_OK("\xc2\x80");	     /* U+0080, smallest 2-byte */
	UTF8_OK("\xe0\xa0\x80");     /* U+0800, smallest 3-byte */
	UTF8_OK("\xf0\x90\x80\x80"); /* U+10000, smallest 4-byte */
	UTF8_OK("\xef\xbf\xbf");     /* U+FFFF */
	UTF8_OK("\xee\x80\x80");     /* U+E000, just after the surrogates */
	UTF8_OK("\xed\x9f\xbf");     /* U+D7FF, just before them */
	UTF8_OK("\xf4\x8f\xbf\xbf"); /* U+10FFFF, the last code point */
	UTF8_OK("a\xc3\xa9z\xe2\x82\xac!");
}

static void
test_utf8_invalid(void **state)
{
	UTF8_BAD("\xc0\x80");		      /* overlong NUL */
	UTF8_BAD("\xc0\xaf");		      /* overlong '/' */
	UTF8_BAD("\xc1\xbf");		      /* overlong 2-byte */
	UTF8_BAD("\xe0\x80\xaf");	      /* overlong 3-byte */
	UTF8_BAD("\xe0\x9f\xbf");	      /* overlong: U+07FF in 3 bytes */
	UTF8_BAD("\xf0\x80\x80\xaf");	      /* overlong 4-byte */
	UTF8_BAD("\xf0\x8f\xbf\xbf");	      /* overlong: U+FFFF in 4 bytes */
	UTF8_BAD("\xed\xa0\x80");	      /* U+D800, high surrogate */
	UTF8_BAD("\xed\xbf\xbf");	      /* U+DFFF, low surrogate */
	UTF8_BAD("\xed\xa0\xbd\xed\xb8\x80"); /* CESU-8 pair */
	UTF8_BAD("\xf4\x90\x80\x80");	      /* U+110000 */
	UTF8_BAD("\xf5\x80\x80\x80");
	UTF8_BAD("\xf8\x88\x80\x80\x80"); /* 5-byte form */
	UTF8_BAD("\xfc\x84\x80\x80\x80\x80");
	UTF8_BAD("\xfe");
	UTF8_BAD("\xff");
	UTF8_BAD("\x80"); /* lone continuation */
	UTF8_BAD("a\xbf");
	UTF8_BAD("\xc3");	  /* truncated 2-byte */
	UTF8_BAD("\xe2\x82");	  /* truncated 3-byte */
	UTF8_BAD("\xf0\x9f\x98"); /* truncated 4-byte */
	UTF8_BAD("\xe2\x82z");	  /* bad continuation */
	UTF8_BAD("\xc3\xc3\xa9");
	UTF8_BAD("abc\0def"); /* NUL inside the given length */
	UTF8_BAD("\0");
	/* The length counts, not the terminator: a sequence cut by len is truncated. */
	assert_false(gp_utf8_valid("\xe2\x82\xac", 2));
	assert_true(gp_utf8_valid("ab\xe2\x82\xac", 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append),
		cmocka_unit_test(test_buf_grows),
		cmocka_unit_test(test_buf_steal),
		cmocka_unit_test(test_buf_oom_sticky),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_strv_sorted),
		cmocka_unit_test(test_strv_uniq),
		cmocka_unit_test(test_string_helpers),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_span_format),
		cmocka_unit_test(test_diags_uniq),
		cmocka_unit_test(test_diags_drop_seen),
		cmocka_unit_test(test_take_ptr),
		cmocka_unit_test(test_duration_parse_ok),
		cmocka_unit_test(test_duration_parse_bad),
		cmocka_unit_test(test_duration_parse_overflow),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_parse_ok),
		cmocka_unit_test(test_time_parse_bad),
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
