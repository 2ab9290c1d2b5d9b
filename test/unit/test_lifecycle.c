/*
 * Lifecycle tests as scripts: (time, event) → expected state, attempts, retry time and the
 * transitions reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plan/lifecycle.h"

static void
assert_transitions(const struct gp_transitions *t, size_t n, const enum gp_state *pairs)
{
	assert_int_equal(t->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(t->v[i].from, pairs[2 * i]);
		assert_int_equal(t->v[i].to, pairs[2 * i + 1]);
	}
}

static void
test_happy_path(void **state)
{
	struct gp_record rec = {.key = strdup("inventory"), .state = GP_STATE_PENDING, .since = 100};
	struct gp_transitions t = {0};
	const enum gp_state expect[] = {GP_STATE_PENDING,      GP_STATE_APPROVED,
					GP_STATE_APPROVED,     GP_STATE_PROVISIONING,
					GP_STATE_PROVISIONING, GP_STATE_ACTIVE};

	assert_int_equal(gp_lifecycle_begin(&rec, 200, &t), 0);
	assert_int_equal(gp_lifecycle_succeed(&rec, 210, "abc", &t), 0);
	assert_transitions(&t, 3, expect);
	assert_int_equal(rec.state, GP_STATE_ACTIVE);
	assert_int_equal(rec.since, 210);
	assert_string_equal(rec.last_commit, "abc");
	assert_null(rec.reason);
	gp_record_release(&rec);
}

static void
test_failure_and_backoff(void **state)
{
	struct gp_record rec = {.key = strdup("k"), .state = GP_STATE_PENDING};
	struct gp_failure f = {.reason = "create_role: 08006 connection lost", .transient = true,
			       .base_ms = 30000, .max_ms = 3600000, .r = 0.0, .commit = "c1"};
	struct gp_transitions t = {0};

	gp_lifecycle_begin(&rec, 1000, &t);
	assert_int_equal(gp_lifecycle_fail(&rec, 1000, &f, &t), 0);
	assert_int_equal(rec.state, GP_STATE_FAILED);
	assert_int_equal(rec.attempts, 1);
	assert_true(rec.transient);
	assert_int_equal(rec.next_retry, 1000 + 15); /* half of 30 s with r = 0 */
	assert_string_equal(rec.reason, f.reason);
	/* second failure: the delay doubles */
	t.n = 0;
	gp_lifecycle_begin(&rec, 2000, &t);
	assert_int_equal(t.n, 2); /* failed → approved → provisioning */
	gp_lifecycle_fail(&rec, 2000, &f, &t);
	assert_int_equal(rec.attempts, 2);
	assert_int_equal(rec.next_retry, 2000 + 30);
	/* permanent errors wait for the cap */
	f.transient = false;
	gp_lifecycle_fail(&rec, 3000, &f, &t);
	assert_int_equal(rec.next_retry, 3000 + 3600);
	assert_false(rec.transient);
	/* success resets attempts and reason */
	gp_lifecycle_succeed(&rec, 4000, "c2", &t);
	assert_int_equal(rec.attempts, 0);
	assert_int_equal(rec.next_retry, 0);
	assert_null(rec.reason);
	assert_string_equal(rec.last_commit, "c2");
	gp_record_release(&rec);
}

static void
test_backoff_bounds(void **state)
{
	assert_int_equal(gp_backoff_delay_ms(30000, 3600000, 1, 0.0), 15000);
	assert_int_equal(gp_backoff_delay_ms(30000, 3600000, 1, 0.999999), 29999);
	assert_int_equal(gp_backoff_delay_ms(30000, 3600000, 2, 0.0), 30000);
	assert_int_equal(gp_backoff_delay_ms(30000, 3600000, 40, 0.0), 1800000);
	assert_true(gp_backoff_delay_ms(30000, 3600000, 1000, 0.5) <= 3600000);
	/* out-of-range random values are clamped, never produce a longer delay */
	assert_int_equal(gp_backoff_delay_ms(30000, 3600000, 1, 7.0), 15000);
}

static void
test_hold(void **state)
{
	struct gp_record rec = {.key = strdup("k"), .state = GP_STATE_FAILED, .next_retry = 99};
	struct gp_transitions t = {0};
	const enum gp_state expect[] = {GP_STATE_FAILED, GP_STATE_PENDING};

	gp_lifecycle_hold(&rec, "allow_provision is false for env prod", 500, &t);
	assert_transitions(&t, 1, expect);
	assert_int_equal(rec.next_retry, 0);
	assert_string_equal(rec.reason, "allow_provision is false for env prod");
	/* an active entry stays active while held: nothing is taken away */
	rec.state = GP_STATE_ACTIVE;
	t.n = 0;
	gp_lifecycle_hold(&rec, "size_tier large needs metadata.approved_by", 600, &t);
	assert_int_equal(t.n, 0);
	assert_int_equal(rec.state, GP_STATE_ACTIVE);
	gp_record_release(&rec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_happy_path),
		cmocka_unit_test(test_failure_and_backoff),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
