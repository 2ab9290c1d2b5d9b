/*
 * Lifecycle tests as scripts: (time, event) → expected state, attempts, retry time and the
 * transitions reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plan/lifecycle.h"
#include "plan/plan.h"

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

/* What a record learns from a pass: identity and secret dates when the pass reaches it, the
 * verified version and the checks when every action succeeded. */
static void
test_bookkeeping(void **state)
{
	struct gp_record rec = {.key = strdup("inventory"), .state = GP_STATE_ACTIVE};
	struct gp_entry e = {.key = "inventory", .database = "inv", .username = "inv_user"};
	struct gp_obs_secret s = {.name = "n", .created = 50, .changed = 0};
	struct gp_entry_plan ep = {.verifies = true, .grants_checked = true};
	struct gp_transitions t = {0};

	(void)state;
	assert_int_equal(gp_record_observe(&rec, NULL, &e, &s, 10), 0);
	assert_string_equal(rec.database, "inv");
	assert_string_equal(rec.username, "inv_user");
	assert_int_equal(rec.secret_changed, 50); /* never changed: its creation */
	s.changed = 70;
	gp_record_observe(&rec, NULL, &e, &s, 10);
	assert_int_equal(rec.secret_changed, 70);
	/* verified with the version observed */
	assert_int_equal(gp_lifecycle_done(&rec, &ep, 100, "c1", NULL, "v1", &t), 0);
	assert_string_equal(rec.verified_version, "v1");
	assert_int_equal(rec.verified_at, 100);
	assert_int_equal(rec.grants_checked_at, 100);
	assert_int_equal(rec.secret_changed, 70);
	/* with the version this pass wrote, which changed the secret */
	assert_int_equal(gp_lifecycle_done(&rec, &ep, 200, "c1", "v2", "v1", &t), 0);
	assert_string_equal(rec.verified_version, "v2");
	assert_int_equal(rec.secret_changed, 200);
	/* nothing verified, nothing checked: the record keeps what it knew */
	ep = (struct gp_entry_plan){0};
	assert_int_equal(gp_lifecycle_done(&rec, &ep, 300, "c1", NULL, "v3", &t), 0);
	assert_string_equal(rec.verified_version, "v2");
	assert_int_equal(rec.verified_at, 200);
	assert_int_equal(rec.grants_checked_at, 200);
	gp_record_release(&rec);
}

/* `gprdsd retry`: a request brings one attempt forward. It is pending until a pass that
 * plans the entry marks it used; an older request, or one for another key, is not. */
static void
test_retry_request(void **state)
{
	struct gp_record rec = {.key = strdup("ledger"), .state = GP_STATE_FAILED, .attempts = 2,
				.next_retry = 5000};
	struct gp_entry e = {.key = "ledger", .database = "ledger", .username = "ledger_user"};
	struct gp_retry_request v[] = {{.key = "billing", .at = 900, .by = "bob@bastion"},
				       {.key = "ledger", .at = 1000, .by = "alice@bastion"}};
	struct gp_entry_plan ep = {0};

	(void)state;
	assert_ptr_equal(gp_retry_pending(v, 2, &rec), &v[1]);
	assert_null(gp_retry_pending(v, 2, NULL));  /* no record: nothing failed */
	assert_null(gp_retry_pending(v, 1, &rec));  /* no request for the key */
	assert_null(gp_retry_pending(NULL, 0, &rec));
	assert_false(gp_retry_used(&v[1], &rec));
	/* a pass that does not use it (ep without the request) leaves it pending */
	assert_int_equal(gp_record_observe(&rec, &ep, &e, NULL, 1200), 0);
	assert_ptr_equal(gp_retry_pending(v, 2, &rec), &v[1]);
	/* the pass that plans the entry with it marks it used: once */
	ep.retry = gp_retry_pending(v, 2, &rec);
	assert_int_equal(gp_record_observe(&rec, &ep, &e, NULL, 1200), 0);
	assert_int_equal(rec.retry_used, 1000);
	assert_true(gp_retry_used(&v[1], &rec));
	assert_null(gp_retry_pending(v, 2, &rec));
	/* the backoff is the lifecycle's, untouched by the request */
	assert_int_equal(rec.attempts, 2);
	assert_int_equal(rec.next_retry, 5000);
	/* a new request (later) is pending again; an older one never moves the mark back */
	v[1].at = 1300;
	assert_ptr_equal(gp_retry_pending(v, 2, &rec), &v[1]);
	v[1].at = 800;
	ep.retry = &v[1];
	gp_record_observe(&rec, &ep, &e, NULL, 1400);
	assert_int_equal(rec.retry_used, 1000);
	gp_record_release(&rec);
}

static void
test_orphans_marked(void **state)
{
	struct gp_state_file *s = gp_state_file_new("dev");
	struct gp_entry v[] = {{.key = "kept"}};
	struct gp_desired d = {.env = "dev", .v = v, .n = 1};
	struct gp_record *rec;

	(void)state;
	gp_state_upsert(s, "kept", 1, &rec);
	gp_state_upsert(s, "gone", 1, &rec);
	rec->next_retry = 99;
	assert_int_equal(gp_state_mark_orphans(s, &d), 0);
	assert_string_equal(gp_state_find(s, "gone")->reason, GP_ORPHANED_REASON);
	assert_int_equal(gp_state_find(s, "gone")->next_retry, 0);
	assert_null(gp_state_find(s, "kept")->reason);
	assert_int_equal(s->n, 2); /* nothing is removed */
	gp_state_file_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_happy_path),
		cmocka_unit_test(test_failure_and_backoff),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_bookkeeping),
		cmocka_unit_test(test_orphans_marked),
		cmocka_unit_test(test_retry_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
