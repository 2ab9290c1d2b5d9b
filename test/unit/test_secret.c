/*
 * test_secret.c — the secret JSON codec and the password generator, on values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec/secret.h"

/* A scripted random source: hands out script bytes in order, then fails with err. */
struct fake_rnd {
	const uint8_t *script;
	size_t len, pos;
	int err;
	unsigned calls;
};

static int
fake_rnd(void *ud, uint8_t *buf, size_t len)
{
	struct fake_rnd *f = ud;

	f->calls++;
	if (f->pos + len > f->len)
		return f->err;
	memcpy(buf, f->script + f->pos, len);
	f->pos += len;
	return 0;
}

/* A counter source: byte i is i mod 248, so every byte is accepted. */
static int
counting_rnd(void *ud, uint8_t *buf, size_t len)
{
	unsigned *next = ud;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((*next)++ % 248);
	return 0;
}

static bool
in_alphabet(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static void
test_generate_alphabet_and_length(void **state)
{
	char pw[GP_PASSWORD_LEN + 1];
	unsigned next = 0;

	for (int round = 0; round < 20; round++) {
		memset(pw, 'x', sizeof(pw));
		assert_int_equal(gp_password_generate(counting_rnd, &next, pw), 0);
		assert_int_equal(strlen(pw), GP_PASSWORD_LEN);
		for (size_t i = 0; i < GP_PASSWORD_LEN; i++)
			assert_true(in_alphabet(pw[i]));
	}
}

static void
test_generate_deterministic(void **state)
{
	uint8_t script[GP_PASSWORD_LEN];
	struct fake_rnd f = {.script = script, .len = sizeof(script), .err = -EIO};
	char pw[GP_PASSWORD_LEN + 1];

	/* 0 → 'A', 26 → 'a', 52 → '0', 61 → '9', and 62 wraps to 'A' (62 = 0 mod 62). */
	for (size_t i = 0; i < sizeof(script); i++)
		script[i] = (uint8_t[]){0, 26, 52, 61, 62, 247}[i % 6];
	assert_int_equal(gp_password_generate(fake_rnd, &f, pw), 0);
	assert_string_equal(pw, "Aa09A9Aa09A9Aa09A9Aa09A9Aa09A9Aa");
	assert_int_equal(f.calls, 1);
}

static void
test_generate_rejects_biased_bytes(void **state)
{
	uint8_t script[8 + GP_PASSWORD_LEN + 8];
	struct fake_rnd f = {.script = script, .len = 0, .err = -EIO};
	char pw[GP_PASSWORD_LEN + 1];
	size_t n = 0;

	/* First round: 8 biased bytes (248..255) among 24 valid ones; then the 8 missing. */
	for (int i = 0; i < 8; i++)
		script[n++] = (uint8_t)(248 + i);
	for (int i = 0; i < GP_PASSWORD_LEN; i++)
		script[n++] = 1; /* 'B' */
	f.len = n;
	assert_int_equal(gp_password_generate(fake_rnd, &f, pw), 0);
	assert_string_equal(pw, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
	assert_int_equal(f.calls, 2);
	assert_int_equal(f.pos, 8 + GP_PASSWORD_LEN);
}

static int
always_255(void *ud, uint8_t *buf, size_t len)
{
	memset(buf, 255, len);
	return 0;
}

static void
test_generate_broken_source(void **state)
{
	char pw[GP_PASSWORD_LEN + 1] = "untouched";

	assert_int_equal(gp_password_generate(always_255, NULL, pw), -EIO);
	assert_string_equal(pw, "untouched");
}

static void
test_generate_error_propagated(void **state)
{
	uint8_t script[4] = {1, 2, 255, 3};
	struct fake_rnd f = {.script = script, .len = 0, .err = -ENOSYS};
	char pw[GP_PASSWORD_LEN + 1] = "untouched";

	assert_int_equal(gp_password_generate(fake_rnd, &f, pw), -ENOSYS);
	assert_string_equal(pw, "untouched");
	f.len = sizeof(script);
	f.err = -EAGAIN;
	assert_int_equal(gp_password_generate(fake_rnd, &f, pw), -EAGAIN);
}

/* ------------------------------------------------------------------------------------- */

#define PW "s3cretPassw0rdXYZs3cretPassw0rdX"

static struct gp_strv aliases;
static const struct gp_secret_want want = {
	.username = "inventory_user",
	.host = "db.example.com",
	.port = "5432",
	.dbname = "inventory_service",
	.aliases = &aliases,
};

#define GOOD_JSON                                                                                  \
	"{\"username\":\"inventory_user\",\"password\":\"" PW "\",\"host\":\"db.example.com\","  \
	"\"port\":\"5432\",\"dbname\":\"inventory_service\",\"engine\":\"postgres\","            \
	"\"postgres-password\":\"" PW "\"}"

static int
setup_aliases(void **state)
{
	return gp_strv_push(&aliases, "postgres-password");
}

static int
teardown_aliases(void **state)
{
	gp_strv_release(&aliases);
	return 0;
}

/* Runs gp_secret_check and returns its result; *problem is the text (or NULL). */
static int
check(const char *json, char **problem)
{
	int r = gp_secret_check(json, &want, problem);

	if (*problem)
		assert_null(strstr(*problem, PW));
	return r;
}

static void
expect_problem(const char *json, int want_r, const char *want_problem)
{
	char *problem = (char *)"unset";

	assert_int_equal(check(json, &problem), want_r);
	if (want_problem)
		assert_string_equal(problem, want_problem);
	else
		assert_null(problem);
	free(problem);
}

static void
test_check_good(void **state)
{
	expect_problem(GOOD_JSON, 0, NULL);
	/* Extra keys and any key order are fine. */
	expect_problem("{\"engine\":\"postgres\",\"dbname\":\"inventory_service\","
		     "\"port\":\"5432\",\"postgres-password\":\"" PW "\",\"host\":\"db.example.com\","
		     "\"dbInstanceIdentifier\":\"x\",\"extra\":{\"a\":[1,2]},"
		     "\"password\":\"" PW "\",\"username\":\"inventory_user\"}",
		     0, NULL);
	assert_int_equal(gp_secret_check(GOOD_JSON, &want, NULL), 0);
}

static void
test_check_problems(void **state)
{
	expect_problem("{\"password\":\"" PW "\"}", 1,
		     "missing username; missing host; missing port; missing dbname; "
		     "missing engine; missing postgres-password");
	expect_problem("{\"username\":\"other\",\"password\":\"" PW "\",\"host\":\"h\","
		     "\"port\":5432,\"dbname\":\"d\",\"engine\":\"mysql\","
		     "\"postgres-password\":\"other" PW "\"}",
		     1,
		     "username differs; host differs; port is a number; dbname differs; "
		     "engine differs; postgres-password differs from password");
	expect_problem("{\"username\":1,\"password\":\"" PW "\",\"host\":null,\"port\":\"5433\","
		     "\"dbname\":[],\"engine\":true,\"postgres-password\":{}}",
		     1,
		     "username is not a string; host is not a string; port differs; "
		     "dbname is not a string; engine is not a string; "
		     "postgres-password is not a string");
}

static void
test_check_duplicates(void **state)
{
	expect_problem("{\"username\":\"inventory_user\",\"password\":\"" PW "\","
		     "\"host\":\"db.example.com\",\"port\":\"5432\","
		     "\"dbname\":\"inventory_service\","
		     "\"engine\":\"postgres\",\"postgres-password\":\"" PW "\","
		     "\"username\":\"inventory_user\",\"password\":\"x\"}",
		     1, "duplicate key password; duplicate key username");
}

static void
test_check_aliases(void **state)
{
	struct gp_strv two = {0};
	struct gp_secret_want w = want;
	char *problem = NULL;

	assert_int_equal(gp_strv_push(&two, "postgres-password"), 0);
	assert_int_equal(gp_strv_push(&two, "POSTGRES_PASSWORD"), 0);
	w.aliases = &two;
	assert_int_equal(gp_secret_check(GOOD_JSON, &w, &problem), 1);
	assert_string_equal(problem, "missing POSTGRES_PASSWORD");
	free(problem);
	/* No aliases wanted: an alias key that is there is just an extra key. */
	w.aliases = NULL;
	assert_int_equal(gp_secret_check(GOOD_JSON, &w, &problem), 0);
	assert_null(problem);
	gp_strv_release(&two);
}

static void
test_check_unchecked_members(void **state)
{
	struct gp_secret_want w = {.username = "inventory_user"};

	assert_int_equal(gp_secret_check("{\"username\":\"inventory_user\",\"password\":\"p\","
					 "\"engine\":\"postgres\"}",
					 &w, NULL),
			 0);
}

static void
test_check_unusable(void **state)
{
	expect_problem("not json", -EINVAL, "not a JSON object");
	expect_problem("[\"" PW "\"]", -EINVAL, "not a JSON object");
	expect_problem("\"" PW "\"", -EINVAL, "not a JSON object");
	expect_problem("", -EINVAL, "not a JSON object");
	expect_problem(GOOD_JSON " trailing", -EINVAL, "not a JSON object");
	expect_problem("{\"username\":\"inventory_user\"}", -EINVAL, "missing password");
	expect_problem("{\"password\":\"\"}", -EINVAL, "password is empty");
	expect_problem("{\"password\":12345}", -EINVAL, "password is not a string");
	expect_problem("{\"password\":null}", -EINVAL, "password is not a string");
	assert_int_equal(gp_secret_check(NULL, &want, NULL), -EINVAL);
}

static void
test_password(void **state)
{
	char *pw = NULL;

	assert_int_equal(gp_secret_password(GOOD_JSON, &pw), 0);
	assert_string_equal(pw, PW);
	gp_secret_free_string(pw);
	pw = (char *)"unset";
	assert_int_equal(gp_secret_password("{\"password\":\"\"}", &pw), -EINVAL);
	assert_int_equal(gp_secret_password("{}", &pw), -EINVAL);
	assert_int_equal(gp_secret_password("nope", &pw), -EINVAL);
	assert_string_equal(pw, "unset");
	gp_secret_free_string(NULL);
}

/* ------------------------------------------------------------------------------------- */

static void
expect_render(const char *existing, const char *password, const char *expected)
{
	struct gp_buf out = {0};

	assert_int_equal(gp_secret_render(existing, &want, password, &out), 0);
	assert_string_equal(out.p, expected);
	assert_int_equal(out.len, strlen(expected));
	assert_int_equal(gp_secret_check(out.p, &want, NULL), 0);
	gp_buf_release_secure(&out);
}

static void
test_render_new(void **state)
{
	expect_render(NULL, PW, GOOD_JSON);
}

static void
test_render_preserves_and_corrects(void **state)
{
	/* Unmanaged keys stay where they were; managed keys are corrected in place. */
	expect_render("{\"note\":\"keep \\\"me\\\"\",\"port\":5432,\"nested\":{\"a\":[1,2.5,null]},"
		      "\"password\":\"old\",\"username\":\"x\",\"username\":\"y\"}",
		      PW,
		      "{\"note\":\"keep \\\"me\\\"\",\"port\":\"5432\","
		      "\"nested\":{\"a\":[1,2.5,null]},"
		      "\"password\":\"" PW "\",\"username\":\"inventory_user\","
		      "\"host\":\"db.example.com\",\"dbname\":\"inventory_service\","
		      "\"engine\":\"postgres\",\"postgres-password\":\"" PW "\"}");
}

static void
test_render_replaces_non_object(void **state)
{
	/* Plain text, an array, broken JSON: nothing to keep, the value is rendered as new. */
	expect_render("plain-text-password", PW, GOOD_JSON);
	expect_render("[1]", PW, GOOD_JSON);
	expect_render("{", PW, GOOD_JSON);
}

static void
test_render_escapes(void **state)
{
	struct gp_buf out = {0};
	char *pw = NULL;

	/* Control characters print as \u00XX: the output space must still suffice. */
	assert_int_equal(gp_secret_render("{\"k\":\"\\u0001\\u0002\\u0003\\u0004\"}", &want,
					  "p\"\\\x01", &out),
			 0);
	assert_int_equal(gp_secret_password(out.p, &pw), 0);
	assert_string_equal(pw, "p\"\\\x01");
	gp_secret_free_string(pw);
	gp_buf_release_secure(&out);
}

static void
test_render_errors(void **state)
{
	struct gp_buf out = {0};

	assert_int_equal(gp_secret_render(NULL, &want, "", &out), -EINVAL);
	assert_int_equal(gp_secret_render(GOOD_JSON, &want, "", &out), -EINVAL);
	assert_int_equal(gp_secret_render(NULL, &want, NULL, &out), -EINVAL);
	assert_int_equal(out.len, 0);
	gp_buf_release_secure(&out);
}

/* ------------------------------------------------------------------------------------- */

static void
test_master_parse(void **state)
{
	struct gp_master m = {0};
	char *problem = NULL;

	assert_int_equal(gp_master_parse("{\"host\":\"rds.example\",\"port\":\"5433\","
					 "\"username\":\"master\",\"password\":\"" PW "\","
					 "\"dbname\":\"app\",\"engine\":\"postgres\"}",
					 &m, &problem),
			 0);
	assert_null(problem);
	assert_string_equal(m.host, "rds.example");
	assert_string_equal(m.port, "5433");
	assert_string_equal(m.username, "master");
	assert_string_equal(m.password, PW);
	assert_string_equal(m.dbname, "app");
	gp_master_release(&m);
	assert_null(m.password);

	/* Port as a number; dbname defaults to postgres. */
	assert_int_equal(gp_master_parse("{\"host\":\"h\",\"port\":5432,\"username\":\"u\","
					 "\"password\":\"p\"}",
					 &m, NULL),
			 0);
	assert_string_equal(m.port, "5432");
	assert_string_equal(m.dbname, "postgres");
	gp_master_release(&m);

	/* No port: the PostgreSQL default. */
	assert_int_equal(gp_master_parse("{\"host\":\"h\",\"username\":\"u\",\"password\":\"p\","
					 "\"dbname\":\"\"}",
					 &m, NULL),
			 0);
	assert_string_equal(m.port, "5432");
	assert_string_equal(m.dbname, "postgres");
	gp_master_release(&m);
}

static void
expect_master_error(const char *json, const char *want_problem)
{
	struct gp_master m = {0};
	char *problem = NULL;

	assert_int_equal(gp_master_parse(json, &m, &problem), -EINVAL);
	assert_string_equal(problem, want_problem);
	assert_null(strstr(problem, PW));
	assert_null(m.host);
	assert_null(m.password);
	free(problem);
}

static void
test_master_errors(void **state)
{
	expect_master_error("{}", "missing username; missing password");
	expect_master_error("[]", "not a JSON object");
	expect_master_error("{\"host\":\"\",\"port\":true,\"username\":7,\"password\":\"" PW "\","
			    "\"dbname\":3}",
			    "port is not a number or string; "
			    "username is not a string; dbname is not a string");
	expect_master_error("{\"host\":\"h\",\"port\":\"54x\",\"username\":\"u\","
			    "\"password\":\"" PW "\"}",
			    "port is not a port number");
	expect_master_error("{\"host\":\"h\",\"port\":70000,\"username\":\"u\","
			    "\"password\":\"" PW "\"}",
			    "port is not a number or string");
	expect_master_error("{\"host\":\"h\",\"port\":\"0\",\"username\":\"u\","
			    "\"password\":\"\"}",
			    "port is not a port number; password is empty");
	assert_int_equal(gp_master_parse("{}", &(struct gp_master){0}, NULL), -EINVAL);
}

/* RDS-managed master secrets carry only username and password. */
static void
test_master_without_host(void **state)
{
	struct gp_master m = {0};

	assert_int_equal(gp_master_parse("{\"username\":\"admin\",\"password\":\"" PW "\"}", &m,
					 NULL),
			 0);
	assert_string_equal(m.host, "");
	assert_string_equal(m.port, "5432");
	assert_string_equal(m.dbname, "postgres");
	gp_master_release(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_alphabet_and_length),
		cmocka_unit_test(test_generate_deterministic),
		cmocka_unit_test(test_generate_rejects_biased_bytes),
		cmocka_unit_test(test_generate_broken_source),
		cmocka_unit_test(test_generate_error_propagated),
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_problems),
		cmocka_unit_test(test_check_duplicates),
		cmocka_unit_test(test_check_aliases),
		cmocka_unit_test(test_check_unchecked_members),
		cmocka_unit_test(test_check_unusable),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_render_new),
		cmocka_unit_test(test_render_preserves_and_corrects),
		cmocka_unit_test(test_render_replaces_non_object),
		cmocka_unit_test(test_render_escapes),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_master_parse),
		cmocka_unit_test(test_master_errors),
		cmocka_unit_test(test_master_without_host),
	};

	return cmocka_run_group_tests(tests, setup_aliases, teardown_aliases);
}
