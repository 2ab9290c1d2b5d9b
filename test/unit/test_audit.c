/*
 * test_audit.c — lib/audit.c: exact CSV bytes for audit rows (RFC 4180 quoting, NULL fields,
 * build_id truncation, formula guard, UTF-8 repair, status strings).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec/audit.h"

#define TS 1768471200 /* 2026-01-15T10:00:00Z */

static struct gp_audit_row
base_row(void)
{
	return (struct gp_audit_row){
		.timestamp = TS,
		.environment = "dev",
		.build_id = "0123456789abcdef0123456789abcdef01234567",
		.run_id = "r42",
		.database = "inventory_service",
		.username = "inventory_user",
		.action = "create_role",
		.status = "success",
		.duration_ms = 125,
		.message = "role created",
	};
}

/* Formats r into a fresh buffer, checks the result and the exact bytes. */
static void
expect_row(const struct gp_audit_row *r, const char *want)
{
	struct gp_buf b = {0};

	assert_int_equal(gp_audit_format(r, &b), 0);
	assert_string_equal(b.p, want);
	assert_int_equal(b.len, strlen(want));
	gp_buf_release(&b);
}

/* The row of base_row() with another message; valid until the next call. */
static struct gp_buf msg_buf;

static const char *
with_message(const char *msg)
{
	struct gp_audit_row r = base_row();

	gp_buf_release(&msg_buf);
	r.message = msg;
	assert_int_equal(gp_audit_format(&r, &msg_buf), 0);
	return msg_buf.p;
}

#define PREFIX                                                                                     \
	"2026-01-15T10:00:00Z,dev,0123456789ab,r42,inventory_service,inventory_user,"              \
	"create_role,success,125,"

static void
test_header(void **state)
{
	struct gp_buf b = {0};

	assert_int_equal(gp_audit_header(&b), 0);
	assert_string_equal(b.p, "timestamp_utc,environment,build_id,run_id,database,username,"
				 "action,status,duration_ms,message\n");
	gp_buf_release(&b);
}

static void
test_plain_row(void **state)
{
	struct gp_audit_row r = base_row();

	expect_row(&r, PREFIX "role created\n");
}

static void
test_status_strings(void **state)
{
	static const char *const names[] = {"success", "no_change", "warning", "error", "dry_run"};

	assert_int_equal(ELEMENTSOF(names), _GP_AUDIT_STATUS_MAX);
	for (int i = 0; i < _GP_AUDIT_STATUS_MAX; i++) {
		struct gp_audit_row r = base_row();
		struct gp_buf b = {0};

		assert_string_equal(gp_audit_status_to_string(i), names[i]);
		assert_int_equal(gp_audit_status_from_string(names[i]), i);
		r.status = gp_audit_status_to_string(i);
		assert_int_equal(gp_audit_format(&r, &b), 0);
		assert_non_null(strstr(b.p, names[i]));
		gp_buf_release(&b);
	}
	assert_null(gp_audit_status_to_string(_GP_AUDIT_STATUS_MAX));
	assert_null(gp_audit_status_to_string((enum gp_audit_status)99));
	assert_int_equal(gp_audit_status_from_string("SUCCESS"), -EINVAL);
	assert_int_equal(gp_audit_status_from_string("ok"), -EINVAL);
	assert_int_equal(gp_audit_status_from_string(""), -EINVAL);
	assert_int_equal(gp_audit_status_from_string(NULL), -EINVAL);
}

static void
test_bad_status_refused(void **state)
{
	struct gp_audit_row r = base_row();
	struct gp_buf b = {0};

	gp_buf_puts(&b, "before\n");
	r.status = "done";
	assert_int_equal(gp_audit_format(&r, &b), -EINVAL);
	r.status = NULL;
	assert_int_equal(gp_audit_format(&r, &b), -EINVAL);
	r.status = "success,error"; /* would smuggle a column */
	assert_int_equal(gp_audit_format(&r, &b), -EINVAL);
	assert_string_equal(b.p, "before\n"); /* untouched */
	assert_false(b.oom);
	gp_buf_release(&b);
}

static void
test_comma(void **state)
{
	assert_string_equal(with_message("a,b"), PREFIX "\"a,b\"\n");
	assert_string_equal(with_message(","), PREFIX "\",\"\n");
}

static void
test_quotes(void **state)
{
	assert_string_equal(with_message("say \"hi\""), PREFIX "\"say \"\"hi\"\"\"\n");
	assert_string_equal(with_message("\""), PREFIX "\"\"\"\"\n");
	assert_string_equal(with_message("\"\""), PREFIX "\"\"\"\"\"\"\n");
	/* A quote alone forces quoting even without a comma. */
	assert_string_equal(with_message("it's \"x\""), PREFIX "\"it's \"\"x\"\"\"\n");
}

static void
test_newlines(void **state)
{
	assert_string_equal(with_message("ERROR: x\nDETAIL: y"),
			    PREFIX "\"ERROR: x\nDETAIL: y\"\n");
	assert_string_equal(with_message("a\rb"), PREFIX "\"a\rb\"\n");
	assert_string_equal(with_message("a\r\nb"), PREFIX "\"a\r\nb\"\n");
	assert_string_equal(with_message("trailing\n"), PREFIX "\"trailing\n\"\n");
	assert_string_equal(with_message("\n"), PREFIX "\"\n\"\n");
}

static void
test_other_characters_verbatim(void **state)
{
	/* Spaces, single quotes, semicolons and tabs inside are not special in RFC 4180. */
	assert_string_equal(with_message("  it's; fine\there  "), PREFIX "  it's; fine\there  \n");
	assert_string_equal(with_message("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
			    PREFIX "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
}

static void
test_invalid_utf8_replaced(void **state)
{
	assert_string_equal(with_message("a\xffz"), PREFIX "a\xef\xbf\xbdz\n");
	assert_string_equal(with_message("\xc3"), PREFIX "\xef\xbf\xbd\n");
	assert_string_equal(with_message("x\xe2\x82"), PREFIX "x\xef\xbf\xbd\xef\xbf\xbd\n");
	assert_string_equal(with_message("\xed\xa0\x80"), /* surrogate: three bad bytes */
			    PREFIX "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n");
	assert_string_equal(with_message("\xc0\xaf,"), PREFIX "\"\xef\xbf\xbd\xef\xbf\xbd,\"\n");
}

static void
test_null_and_empty_fields(void **state)
{
	struct gp_audit_row r = {.timestamp = 0, .status = "warning"};

	expect_row(&r, "1970-01-01T00:00:00Z,,,,,,,warning,0,\n");
	r = (struct gp_audit_row){
		.timestamp = TS,
		.environment = "",
		.build_id = "",
		.run_id = "",
		.database = "",
		.username = "",
		.action = "",
		.status = "error",
		.message = "",
	};
	expect_row(&r, "2026-01-15T10:00:00Z,,,,,,,error,0,\n");
}

static void
test_build_id_truncation(void **state)
{
	struct gp_audit_row r = base_row();

	r.build_id = "0123456789ab";
	expect_row(&r, PREFIX "role created\n");
	r.build_id = "abc123";
	expect_row(&r, "2026-01-15T10:00:00Z,dev,abc123,r42,inventory_service,inventory_user,"
		       "create_role,success,125,role created\n");
	r.build_id = "0123456789abc";
	expect_row(&r, PREFIX "role created\n");
	/* Only the kept part decides the quoting. */
	r.build_id = "0123456789ab,x";
	expect_row(&r, PREFIX "role created\n");
	r.build_id = "0123456,9abcdef";
	expect_row(&r, "2026-01-15T10:00:00Z,dev,\"0123456,9abc\",r42,inventory_service,"
		       "inventory_user,create_role,success,125,role created\n");
}

static void
test_formula_guard(void **state)
{
	struct gp_audit_row r = base_row();

	assert_string_equal(with_message("=SUM(A1:A9)"), PREFIX "'=SUM(A1:A9)\n");
	assert_string_equal(with_message("+1"), PREFIX "'+1\n");
	assert_string_equal(with_message("-1 retries"), PREFIX "'-1 retries\n");
	assert_string_equal(with_message("@cmd"), PREFIX "'@cmd\n");
	assert_string_equal(with_message("\tx"), PREFIX "'\tx\n");
	/* CR needs quotes too: the guard goes inside them. */
	assert_string_equal(with_message("\rx"), PREFIX "\"'\rx\"\n");
	assert_string_equal(with_message("=HYPERLINK(\"http://x\",\"y\")"),
			    PREFIX "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n");
	/* Only the first character matters. */
	assert_string_equal(with_message("a=b-c+d@e"), PREFIX "a=b-c+d@e\n");
	assert_string_equal(with_message(" =1"), PREFIX " =1\n");
	assert_string_equal(with_message("'=1"), PREFIX "'=1\n");

	/* Names from rejected input entries are guarded as well. */
	r.database = "=cmd|' /C calc'!A0";
	r.username = "-x";
	r.message = NULL;
	expect_row(&r, "2026-01-15T10:00:00Z,dev,0123456789ab,r42,'=cmd|' /C calc'!A0,'-x,"
		       "create_role,success,125,\n");
}

static void
test_timestamps_and_durations(void **state)
{
	struct gp_audit_row r = base_row();

	r.timestamp = 1709210096;
	r.duration_ms = UINT64_MAX;
	r.message = NULL;
	expect_row(&r, "2024-02-29T12:34:56Z,dev,0123456789ab,r42,inventory_service,"
		       "inventory_user,create_role,success,18446744073709551615,\n");
	r.timestamp = -1;
	r.duration_ms = 0;
	expect_row(&r, "1969-12-31T23:59:59Z,dev,0123456789ab,r42,inventory_service,"
		       "inventory_user,create_role,success,0,\n");
}

static void
test_rows_append(void **state)
{
	struct gp_audit_row r = base_row();
	struct gp_buf b = {0};

	assert_int_equal(gp_audit_header(&b), 0);
	assert_int_equal(gp_audit_format(&r, &b), 0);
	r.status = "no_change";
	r.action = "verify_login";
	r.message = "ok, \"still\"\nvalid";
	assert_int_equal(gp_audit_format(&r, &b), 0);
	assert_string_equal(b.p,
			    "timestamp_utc,environment,build_id,run_id,database,username,action,"
			    "status,duration_ms,message\n" PREFIX "role created\n"
			    "2026-01-15T10:00:00Z,dev,0123456789ab,r42,inventory_service,"
			    "inventory_user,verify_login,no_change,125,"
			    "\"ok, \"\"still\"\"\nvalid\"\n");
	gp_buf_release(&b);
}

static void
test_oom_buffer(void **state)
{
	struct gp_audit_row r = base_row();
	struct gp_buf b = {0};

	gp_buf_puts(&b, "keep\n");
	gp_buf_reserve(&b, SIZE_MAX); /* puts the buffer into its sticky oom state */
	assert_int_equal(gp_audit_format(&r, &b), -ENOMEM);
	assert_string_equal(b.p, "keep\n");
	gp_buf_release(&b);
}

static void
test_every_text_column_quoted(void **state)
{
	struct gp_audit_row r = {
		.timestamp = TS,
		.environment = "e,1",
		.build_id = "b\"",
		.run_id = "r\n",
		.database = "d\r",
		.username = "u,",
		.action = "a\"",
		.status = "dry_run",
		.duration_ms = 1,
		.message = "m",
	};

	expect_row(&r, "2026-01-15T10:00:00Z,\"e,1\",\"b\"\"\",\"r\n\",\"d\r\",\"u,\",\"a\"\"\","
		       "dry_run,1,m\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_plain_row),
		cmocka_unit_test(test_status_strings),
		cmocka_unit_test(test_bad_status_refused),
		cmocka_unit_test(test_comma),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_newlines),
		cmocka_unit_test(test_other_characters_verbatim),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_null_and_empty_fields),
		cmocka_unit_test(test_build_id_truncation),
		cmocka_unit_test(test_formula_guard),
		cmocka_unit_test(test_timestamps_and_durations),
		cmocka_unit_test(test_rows_append),
		cmocka_unit_test(test_oom_buffer),
		cmocka_unit_test(test_every_text_column_quoted),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	gp_buf_release(&msg_buf);
	return r;
}
