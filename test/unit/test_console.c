/*
 * Terminal lines on values (codec/console.h): the pieces in order, colour only when asked
 * and always closed, the cut at the width with its ellipsis, control bytes never through,
 * the header's wording, and the progress line's pacing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "codec/console.h"

/* Columns of s once its SGR sequences are taken out, and whether it has any. */
static size_t
visible(const char *s, bool *sgr)
{
	size_t n = 0;

	*sgr = false;
	while (*s) {
		if (*s == '\033') {
			*sgr = true;
			while (*s && *s != 'm')
				s++;
			s += *s == 'm';
			continue;
		}
		n += ((unsigned char)*s & 0xc0) != 0x80;
		s++;
	}
	return n;
}

static void
test_plain_line(void **state)
{
	struct gp_console_line l = {
		.subject = "dev/ledger", .text = "created role ledger_app", .tone = GP_TONE_CHANGE};
	char buf[256];
	size_t n;

	(void)state;
	n = gp_console_format(buf, sizeof(buf), &l);
	assert_string_equal(buf, "dev/ledger  created role ledger_app");
	assert_int_equal(n, strlen(buf));
	l.clock = "12:00:01";
	l.tail = "env=dev";
	gp_console_format(buf, sizeof(buf), &l);
	assert_string_equal(buf, "12:00:01 dev/ledger  created role ledger_app env=dev");
	l = (struct gp_console_line){.text = "no subject"};
	gp_console_format(buf, sizeof(buf), &l);
	assert_string_equal(buf, "no subject");
}

static void
test_colour(void **state)
{
	struct gp_console_line l = {.clock = "12:00:01",
				    .subject = "dev/ledger",
				    .text = "create_role ledger_app failed: 42501",
				    .tone = GP_TONE_ERROR,
				    .color = true};
	char buf[256];
	bool sgr;

	(void)state;
	gp_console_format(buf, sizeof(buf), &l);
	assert_string_equal(buf, "\033[2m12:00:01\033[0m dev/ledger  "
				 "\033[1;31mcreate_role ledger_app failed: 42501\033[0m");
	assert_int_equal(visible(buf, &sgr), strlen("12:00:01 dev/ledger  ") +
						     strlen("create_role ledger_app failed: 42501"));
	l.tone = GP_TONE_CHANGE;
	gp_console_format(buf, sizeof(buf), &l);
	assert_non_null(strstr(buf, "\033[32mcreate_role"));
	l.tone = GP_TONE_WARNING;
	gp_console_format(buf, sizeof(buf), &l);
	assert_non_null(strstr(buf, "\033[33mcreate_role"));
	/* Plain text has no colour even when colour is on; no colour: no escape at all. */
	l = (struct gp_console_line){.text = "held", .tone = GP_TONE_PLAIN, .color = true};
	gp_console_format(buf, sizeof(buf), &l);
	assert_string_equal(buf, "held");
	l = (struct gp_console_line){
		.clock = "12:00:01", .text = "x", .tail = "run=1", .tone = GP_TONE_ERROR};
	gp_console_format(buf, sizeof(buf), &l);
	assert_null(strchr(buf, '\033'));
}

static void
test_cut_at_width(void **state)
{
	struct gp_console_line l = {.subject = "dev/inventory_reporting",
				    .text = "created secret goldenpath/dev/inventory_reporting/postgres",
				    .tone = GP_TONE_CHANGE,
				    .color = true,
				    .width = 40};
	char buf[256];
	bool sgr;

	(void)state;
	gp_console_format(buf, sizeof(buf), &l);
	assert_int_equal(visible(buf, &sgr), 40);
	assert_true(sgr);
	/* cut inside the colour: the ellipsis is the last column and the colour is closed */
	assert_int_equal(strlen(buf) - strlen("\xe2\x80\xa6\033[0m"),
			 (size_t)(strstr(buf, "\xe2\x80\xa6\033[0m") - buf));
	/* a line that fits is not cut; a width of 0 never cuts */
	l.width = 200;
	gp_console_format(buf, sizeof(buf), &l);
	assert_null(strstr(buf, "\xe2\x80\xa6"));
	l.width = 0;
	gp_console_format(buf, sizeof(buf), &l);
	assert_null(strstr(buf, "\xe2\x80\xa6"));
	/* UTF-8 counts one column per character and is never split */
	l = (struct gp_console_line){.text = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", .width = 3};
	gp_console_format(buf, sizeof(buf), &l);
	assert_string_equal(buf, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
}

static void
test_small_buffer_and_control_bytes(void **state)
{
	char text[200], buf[64];
	struct gp_console_line l = {.text = text, .tone = GP_TONE_ERROR, .color = true};
	bool sgr;
	size_t n;

	(void)state;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	n = gp_console_format(buf, sizeof(buf), &l);
	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	/* the cut line still closes its colour */
	assert_int_equal(memcmp(buf + n - 4, "\033[0m", 4), 0);
	l = (struct gp_console_line){.text = "a\033[2Jb\rc\n", .color = false};
	gp_console_format(buf, sizeof(buf), &l);
	assert_string_equal(buf, "a?[2Jb?c?");
	assert_int_equal(visible(buf, &sgr), 9);
	assert_false(sgr);
	assert_int_equal(gp_console_format(buf, 4, &l), 0);
	assert_string_equal(buf, "");
}

static void
test_header(void **state)
{
	char buf[128];

	(void)state;
	gp_console_header(buf, sizeof(buf), "dev", "2b5fb1f862d855f4e9863f442c2b2ad21392fafe", 7,
			  "b3bb057466c3", 10);
	assert_string_equal(buf, "dev: commit 2b5fb1f, run b3bb057466c3, 10 entries");
	gp_console_header(buf, sizeof(buf), "dev", "2b5fb1f862d855f4e9863f442c2b2ad21392fafe", 0,
			  NULL, 1);
	assert_string_equal(buf, "dev: commit 2b5fb1f862d855f4e9863f442c2b2ad21392fafe, 1 entry");
	gp_console_header(buf, sizeof(buf), "test", "", 7, "", 0);
	assert_string_equal(buf, "test: 0 entries");
	assert_int_equal(gp_console_header(buf, 8, "dev", "abc", 7, "r", 3), 7);
	assert_string_equal(buf, "dev: co");
}

static void
test_summary(void **state)
{
	struct gp_console_counts c = {.active = 5,
				      .pending = 1,
				      .gated = 1,
				      .applied = 31,
				      .duration_ms = 544,
				      .statements = 55,
				      .sm_calls = 7};
	char buf[256];

	(void)state;
	gp_console_summary(buf, sizeof(buf), "dev", &c);
	assert_string_equal(buf, "dev: 5 active, 1 pending (1 at a gate), 0 failed; 31 changes, "
				 "0 errors; 0.544s, 55 SQL, 7 Secrets Manager calls");
	c = (struct gp_console_counts){.pending = 3,
				       .gated = 1,
				       .invalid = 2,
				       .failed = 1,
				       .applied = 1,
				       .errors = 1,
				       .orphans = 2,
				       .sm_calls = 1};
	gp_console_summary(buf, sizeof(buf), "test", &c);
	assert_string_equal(buf, "test: 0 active, 3 pending (1 at a gate, 2 invalid), 1 failed; "
				 "1 change, 1 error; 2 orphaned; 0.000s, 0 SQL, 1 Secrets Manager "
				 "call");
	c = (struct gp_console_counts){.invalid = 2};
	gp_console_summary(buf, sizeof(buf), "dev", &c);
	assert_non_null(strstr(buf, "0 pending (2 invalid), 0 failed"));
}

static void
test_progress_pacing(void **state)
{
	(void)state;
	/* not in the first second of a pass */
	assert_false(gp_console_progress_due(1000 + 999, 1000, 0));
	assert_true(gp_console_progress_due(1000 + 1000, 1000, 0));
	/* then at most every 100 ms */
	assert_false(gp_console_progress_due(5050, 1000, 5000));
	assert_true(gp_console_progress_due(5100, 1000, 5000));
	/* a clock that went back never shows a line early */
	assert_false(gp_console_progress_due(500, 1000, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_line),
		cmocka_unit_test(test_colour),
		cmocka_unit_test(test_cut_at_width),
		cmocka_unit_test(test_small_buffer_and_control_bytes),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_progress_pacing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
