/*
 * test_requests.c — codec/requests.c: the requests file `gprdsd rotate`, `gprdsd retry` and
 * `--confirm-mass-change` leave for the passes. Exact rendering, round trips, files written
 * before a kind of request existed, refusal of what would be misread, and which requests the
 * records show done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "codec/requests.h"

#define NAME "/var/lib/gprdsd/dev.requests.json"
#define T0 1796551200 /* 2026-12-06T10:00:00Z */

static const char FULL[] =
	"{\n"
	"\t\"version\":\t1,\n"
	"\t\"env\":\t\"dev\",\n"
	"\t\"rotate\":\t[{\n"
	"\t\t\t\"key\":\t\"inventory\",\n"
	"\t\t\t\"at\":\t\"2026-12-06T10:00:00Z\",\n"
	"\t\t\t\"by\":\t\"alice@bastion\",\n"
	"\t\t\t\"version\":\t\"v1\"\n"
	"\t\t}],\n"
	"\t\"retry\":\t[{\n"
	"\t\t\t\"key\":\t\"ledger\",\n"
	"\t\t\t\"at\":\t\"2026-12-06T10:01:00Z\",\n"
	"\t\t\t\"by\":\t\"bob@bastion\"\n"
	"\t\t}, {\n"
	"\t\t\t\"key\":\t\"notes\",\n"
	"\t\t\t\"at\":\t\"2026-12-06T10:02:00Z\",\n"
	"\t\t\t\"by\":\tnull\n"
	"\t\t}],\n"
	"\t\"confirm_mass_change\":\t{\n"
	"\t\t\"at\":\t\"2026-12-06T10:03:00Z\",\n"
	"\t\t\"by\":\t\"carol@bastion\"\n"
	"\t}\n"
	"}\n";

static void
parse_ok(const char *text, struct gp_requests *r)
{
	struct gp_diags d = {0};

	assert_int_equal(gp_requests_parse(text, strlen(text), NAME, r, &d), 0);
	assert_int_equal(d.n, 0);
}

static void
expect_refused(const char *text, const char *needle)
{
	struct gp_requests r = {0};
	struct gp_diags d = {0};
	struct gp_buf b = {0};

	assert_int_equal(gp_requests_parse(text, strlen(text), NAME, &r, &d), -EINVAL);
	assert_int_equal(r.n_rotate + r.n_retry, 0);
	for (size_t i = 0; i < d.n; i++)
		gp_diag_format(&d.v[i], &b);
	assert_non_null(b.p);
	assert_non_null(strstr(b.p, NAME));
	if (!strstr(b.p, needle))
		fail_msg("\"%s\" not in diagnostics: %s", needle, b.p);
	gp_buf_release(&b);
	gp_diags_release(&d);
}

static void
test_render_exact_and_round_trip(void **state)
{
	struct gp_requests r = {0}, back = {0};
	struct gp_buf b = {0}, again = {0};

	(void)state;
	/* added out of order, one key twice: sorted, the newest request kept */
	assert_int_equal(gp_requests_add_retry(&r, "notes", T0 + 120, NULL), 0);
	assert_int_equal(gp_requests_add_retry(&r, "ledger", T0, "alice@bastion"), 0);
	assert_int_equal(gp_requests_add_retry(&r, "ledger", T0 + 60, "bob@bastion"), 0);
	assert_int_equal(gp_requests_add_rotate(&r, "inventory", T0, "alice@bastion", "v1"), 0);
	r.confirm_at = T0 + 180;
	r.confirm_by = strdup("carol@bastion");
	assert_int_equal(r.n_retry, 2);
	assert_int_equal(gp_requests_render(&r, "dev", &b), 0);
	assert_string_equal(b.p, FULL);
	parse_ok(b.p, &back);
	assert_int_equal(back.n_rotate, 1);
	assert_int_equal(back.n_retry, 2);
	assert_string_equal(back.retry[0].key, "ledger");
	assert_true(back.retry[0].at == T0 + 60);
	assert_string_equal(back.retry[0].by, "bob@bastion");
	assert_null(back.retry[1].by);
	assert_true(back.confirm_at == T0 + 180);
	assert_int_equal(gp_requests_render(&back, "dev", &again), 0);
	assert_string_equal(again.p, FULL); /* canonical: the command rewrites what it read */
	gp_buf_release(&b);
	gp_buf_release(&again);
	gp_requests_release(&r);
	gp_requests_release(&back);
}

/* A file written before `gprdsd retry` existed (no "retry") reads as no retry requests. */
static void
test_older_file(void **state)
{
	static const char old[] = "{\"version\": 1, \"env\": \"dev\", \"rotate\": [{\"key\": "
				  "\"inventory\", \"at\": \"2026-12-06T10:00:00Z\", \"by\": null, "
				  "\"version\": null}], \"confirm_mass_change\": null}";
	struct gp_requests r = {0};

	(void)state;
	parse_ok(old, &r);
	assert_int_equal(r.n_rotate, 1);
	assert_int_equal(r.n_retry, 0);
	assert_null(r.retry);
	gp_requests_release(&r);
	parse_ok("{\"version\": 1}", &r);
	assert_int_equal(r.n_rotate + r.n_retry, 0);
	gp_requests_release(&r);
}

static void
test_refused(void **state)
{
	(void)state;
	expect_refused("{\"version\": 1, \"retry\": {}}", "\"retry\" is not a list");
	expect_refused("{\"version\": 1, \"rotate\": 3}", "\"rotate\" is not a list");
	expect_refused("{\"version\": 1, \"retry\": [{\"at\": \"2026-12-06T10:00:00Z\"}]}",
		       "a retry request needs a key");
	expect_refused("{\"version\": 1, \"retry\": [{\"key\": \"k\", \"at\": \"yesterday\"}]}",
		       "a retry request needs a key");
	expect_refused("{\"version\": 1, \"retry\": [{\"key\": \"k\", \"at\": "
		       "\"2026-12-06T10:00:00Z\", \"by\": 7}]}",
		       "a retry request needs a key");
	expect_refused("{\"version\": 1, \"retry\": [{\"key\": \"k\", \"at\": "
		       "\"2026-12-06T10:00:00Z\"}, 5]}",
		       "a retry request needs a key");
	expect_refused("{\"version\": 2, \"retry\": []}", "unknown version");
	expect_refused("[]", "not a JSON object");
}

/* Done requests go when the command rewrites the file: a retry request once the key's record
 * used it or when the key has no record; a rotate request once another version is current. */
static void
test_prune(void **state)
{
	struct gp_state_file *s = gp_state_file_new("dev");
	struct gp_requests r = {0};
	struct gp_record *rec;

	(void)state;
	gp_state_upsert(s, "ledger", T0, &rec);
	rec->state = GP_STATE_FAILED;
	rec->retry_used = T0 - 100; /* an earlier request */
	gp_state_upsert(s, "notes", T0, &rec);
	rec->state = GP_STATE_ACTIVE;
	rec->retry_used = T0;
	gp_state_upsert(s, "inventory", T0, &rec);
	rec->state = GP_STATE_ACTIVE;
	rec->current_version = strdup("v2");
	gp_requests_add_retry(&r, "ledger", T0, "a");
	gp_requests_add_retry(&r, "notes", T0, "a");
	gp_requests_add_retry(&r, "gone", T0, "a");
	gp_requests_add_rotate(&r, "inventory", T0, "a", "v1");
	gp_requests_add_rotate(&r, "orders", T0, "a", "v1");
	gp_requests_prune(&r, s);
	assert_int_equal(r.n_retry, 1);
	assert_string_equal(r.retry[0].key, "ledger");
	assert_int_equal(r.n_rotate, 1);
	assert_string_equal(r.rotate[0].key, "orders"); /* no record yet: not done */
	gp_requests_release(&r);
	gp_state_file_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact_and_round_trip),
		cmocka_unit_test(test_older_file),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_prune),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
