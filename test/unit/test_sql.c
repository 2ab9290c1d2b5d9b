/*
 * test_sql.c — exact text of every statement sql.c builds, quoting of hostile names, and the
 * refusals (bad identifiers, anything that is not a SCRAM verifier where a password goes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec/scram.h"
#include "codec/secret.h"
#include "codec/sql.h"

#define VERIFIER                                                                                   \
	"SCRAM-SHA-256$4096:I8Sd7E3Dfdd1lK3h9dK86g==$MCOMZ/aVR+aFaNU/o47FQcQStVAoQVSDPgoADpIt+hQ=" \
	":HsM91WDArfvs2gEG9pwH2aX4tb8NzXGoBPSGW0ayFuA="

/* Runs a builder into a fresh buffer and compares the whole text. */
#define assert_sql(expect, call)                                                                   \
	do {                                                                                       \
		struct gp_buf b = {0};                                                             \
		assert_int_equal(call, 0);                                                         \
		assert_string_equal(b.p, expect);                                                  \
		gp_buf_release_secure(&b);                                                         \
	} while (0)

/* A refused call returns -EINVAL and leaves the buffer's earlier content untouched. */
#define assert_refused(call)                                                                       \
	do {                                                                                       \
		struct gp_buf b = {0};                                                             \
		assert_int_equal(gp_buf_puts(&b, "kept"), 0);                                      \
		assert_int_equal(call, -EINVAL);                                                   \
		assert_int_equal(b.len, 4);                                                        \
		assert_string_equal(b.p, "kept");                                                  \
		gp_buf_release_secure(&b);                                                         \
	} while (0)

static void
test_ident(void **state)
{
	(void)state;
	assert_sql("\"inventory_user\"", gp_sql_ident(&b, "inventory_user"));
	assert_sql("\"a\"\"b\"", gp_sql_ident(&b, "a\"b"));
	assert_sql("\"\"\"\"", gp_sql_ident(&b, "\""));
	assert_sql("\"x; DROP TABLE t; --\"", gp_sql_ident(&b, "x; DROP TABLE t; --"));
	assert_sql("\"with space\"", gp_sql_ident(&b, "with space"));
	assert_sql("\"x\"\"; DROP ROLE postgres; --\"",
		   gp_sql_ident(&b, "x\"; DROP ROLE postgres; --"));
	assert_sql("\"Ünïcødé\"", gp_sql_ident(&b, "Ünïcødé"));
	assert_sql("\"it's\"", gp_sql_ident(&b, "it's"));
	/* 63 bytes is the longest name PostgreSQL keeps whole. */
	assert_sql("\""
		   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		   "\"",
		   gp_sql_ident(&b,
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void
test_ident_appends(void **state)
{
	struct gp_buf b = {0};

	(void)state;
	assert_int_equal(gp_buf_puts(&b, "SELECT "), 0);
	assert_int_equal(gp_sql_ident(&b, "a"), 0);
	assert_int_equal(gp_buf_puts(&b, ", "), 0);
	assert_int_equal(gp_sql_ident(&b, "b\"c"), 0);
	assert_string_equal(b.p, "SELECT \"a\", \"b\"\"c\"");
	gp_buf_release(&b);
}

static void
test_ident_refused(void **state)
{
	(void)state;
	assert_refused(gp_sql_ident(&b, ""));
	assert_refused(gp_sql_ident(&b, NULL));
	assert_refused(gp_sql_ident_n(&b, "ab\0cd", 5));
	assert_refused(gp_sql_ident_n(&b, "\0", 1));
	assert_refused(gp_sql_ident(&b, "bad\xff"));
	assert_refused(gp_sql_ident(&b, "\xc3"));	  /* truncated sequence */
	assert_refused(gp_sql_ident(&b, "\xc0\xaf"));	  /* overlong '/' */
	assert_refused(gp_sql_ident(&b, "\xed\xa0\x80")); /* surrogate */
	assert_refused(gp_sql_ident(
		&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 64 */
}

static void
test_literal(void **state)
{
	(void)state;
	assert_sql("'abc'", gp_sql_literal(&b, "abc"));
	assert_sql("''", gp_sql_literal(&b, ""));
	assert_sql("'it''s'", gp_sql_literal(&b, "it's"));
	assert_sql("''''''", gp_sql_literal(&b, "''"));
	assert_sql("'x''; DROP ROLE a; --'", gp_sql_literal(&b, "x'; DROP ROLE a; --"));
	assert_sql("'\"q\"'", gp_sql_literal(&b, "\"q\""));
	/* With a backslash: E'' form, so the meaning does not depend on the server setting. */
	assert_sql("E'a\\\\b'", gp_sql_literal(&b, "a\\b"));
	assert_sql("E'\\\\'''", gp_sql_literal(&b, "\\'"));
	assert_refused(gp_sql_literal(&b, NULL));
	assert_refused(gp_sql_literal_n(&b, "a\0b", 3));
	assert_refused(gp_sql_literal(&b, "\xfe"));
}

static void
test_verifier_shape(void **state)
{
	(void)state;
	assert_true(gp_sql_is_scram_verifier(VERIFIER));
	assert_false(gp_sql_is_scram_verifier(NULL));
	assert_false(gp_sql_is_scram_verifier(""));
	assert_false(gp_sql_is_scram_verifier("hunter2"));
	assert_false(gp_sql_is_scram_verifier("md5a3556571e93b0d20722ba62be61e8c2d"));
	/* Only the prefix: PostgreSQL would take this for a plaintext password. */
	assert_false(gp_sql_is_scram_verifier("SCRAM-SHA-256$"));
	assert_false(gp_sql_is_scram_verifier("SCRAM-SHA-256$hunter2"));
	assert_false(gp_sql_is_scram_verifier("SCRAM-SHA-256$4096:c2FsdA==$x:y"));
	assert_false(gp_sql_is_scram_verifier("SCRAM-SHA-256$:I8Sd7E3Dfdd1lK3h9dK86g==$MCOMZ/"
					      "aVR+aFaNU/o47FQcQStVAoQVSDPgoADpIt+hQ="
					      ":HsM91WDArfvs2gEG9pwH2aX4tb8NzXGoBPSGW0ayFuA="));
	assert_false(gp_sql_is_scram_verifier(VERIFIER "x"));
	assert_false(gp_sql_is_scram_verifier(VERIFIER "'; DROP ROLE a; --"));
	assert_false(gp_sql_is_scram_verifier("SCRAM-SHA-256$4096:I8Sd7E3Dfdd1lK3h9dK86g==$MCOMZ/"
					      "aVR+aFaNU/o47FQcQStVAoQVSDPgoADpIt+hQ="
					      ":HsM91WDArfvs2gEG9pwH2aX4tb8NzXGoBPSGW0ayFu'="));
	assert_false(gp_sql_is_scram_verifier("scram-sha-256$4096:I8Sd7E3Dfdd1lK3h9dK86g==$MCOMZ/"
					      "aVR+aFaNU/o47FQcQStVAoQVSDPgoADpIt+hQ="
					      ":HsM91WDArfvs2gEG9pwH2aX4tb8NzXGoBPSGW0ayFuA="));
}

static void
test_create_role(void **state)
{
	(void)state;
	assert_sql("CREATE ROLE \"inventory_user\" LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION "
		   "NOBYPASSRLS INHERIT CREATEDB PASSWORD '" VERIFIER "'",
		   gp_sql_create_role(&b, "inventory_user", true, VERIFIER));
	assert_sql("CREATE ROLE \"reporting_ro\" LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION "
		   "NOBYPASSRLS INHERIT NOCREATEDB PASSWORD '" VERIFIER "'",
		   gp_sql_create_role(&b, "reporting_ro", false, VERIFIER));
	assert_sql("CREATE ROLE \"a\"\"; --\" LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION "
		   "NOBYPASSRLS INHERIT CREATEDB PASSWORD '" VERIFIER "'",
		   gp_sql_create_role(&b, "a\"; --", true, VERIFIER));
	/* A plaintext password (or anything short of a verifier) never becomes SQL. */
	assert_refused(gp_sql_create_role(&b, "inventory_user", true, "hunter2"));
	assert_refused(gp_sql_create_role(&b, "inventory_user", true, "SCRAM-SHA-256$hunter2"));
	assert_refused(gp_sql_create_role(&b, "inventory_user", true, NULL));
	assert_refused(gp_sql_create_role(&b, "", true, VERIFIER));
	assert_refused(gp_sql_create_role(&b, NULL, true, VERIFIER));
}

static void
test_alter_role(void **state)
{
	(void)state;
	assert_sql("ALTER ROLE \"u1\" LOGIN NOSUPERUSER NOCREATEROLE CREATEDB NOREPLICATION "
		   "NOBYPASSRLS INHERIT",
		   gp_sql_alter_role(&b, "u1", GP_SQL_ATTR_ALL, true));
	assert_sql("ALTER ROLE \"u1\" NOCREATEDB",
		   gp_sql_alter_role(&b, "u1", GP_SQL_ATTR_CREATEDB, false));
	assert_sql("ALTER ROLE \"u1\" LOGIN NOCREATEROLE INHERIT",
		   gp_sql_alter_role(
			   &b, "u1",
			   GP_SQL_ATTR_LOGIN | GP_SQL_ATTR_CREATEROLE | GP_SQL_ATTR_INHERIT, true));
	assert_refused(gp_sql_alter_role(&b, "u1", 0, true));
	assert_refused(gp_sql_alter_role(&b, "u1", 1u << 7, true));
	assert_refused(gp_sql_alter_role(&b, "", GP_SQL_ATTR_LOGIN, true));
}

static void
test_role_attrs_diff(void **state)
{
	struct gp_obs_role ok = {.login = true, .createdb = true, .inherit = true};
	struct gp_obs_role bad = {
		.superuser = true, .createrole = true, .replication = true, .bypassrls = true};

	(void)state;
	assert_int_equal(gp_sql_role_attrs_diff(&ok, true), 0);
	assert_int_equal(gp_sql_role_attrs_diff(&ok, false), GP_SQL_ATTR_CREATEDB);
	assert_int_equal(gp_sql_role_attrs_diff(&bad, false),
			 GP_SQL_ATTR_ALL & ~GP_SQL_ATTR_CREATEDB);
	assert_int_equal(gp_sql_role_attrs_diff(&bad, true), GP_SQL_ATTR_ALL);
}

static void
test_password(void **state)
{
	(void)state;
	assert_sql("ALTER ROLE \"inventory_user\" PASSWORD '" VERIFIER "'",
		   gp_sql_alter_role_password(&b, "inventory_user", VERIFIER));
	assert_refused(gp_sql_alter_role_password(&b, "inventory_user", "hunter2"));
	assert_refused(gp_sql_alter_role_password(&b, "inventory_user", ""));
	assert_refused(gp_sql_alter_role_password(&b, "inventory_user", NULL));
	assert_refused(gp_sql_alter_role_password(&b, "inventory_user",
						  "md5a3556571e93b0d20722ba62be61e8c2d"));
	assert_refused(gp_sql_alter_role_password(&b, "bad\xff", VERIFIER));
}

static void
test_comment(void **state)
{
	(void)state;
	assert_sql("managed by gprdsd: env=dev key=inventory",
		   gp_sql_role_comment(&b, "dev", "inventory"));
	assert_sql(
		"COMMENT ON ROLE \"inventory_user\" IS 'managed by gprdsd: env=dev key=inventory'",
		gp_sql_comment_role(&b, "inventory_user", "dev", "inventory"));
	assert_sql("COMMENT ON ROLE \"u\" IS 'managed by gprdsd: env=dev key=it''s'",
		   gp_sql_comment_role(&b, "u", "dev", "it's"));
	assert_refused(gp_sql_comment_role(&b, "u", "", "k"));
	assert_refused(gp_sql_comment_role(&b, "u", "dev", NULL));
	assert_refused(gp_sql_comment_role(&b, "", "dev", "k"));
}

static void
test_membership(void **state)
{
	(void)state;
	assert_sql("GRANT \"inventory_user\" TO CURRENT_USER",
		   gp_sql_grant_membership(&b, "inventory_user", NULL));
	assert_sql("GRANT \"inventory_user\" TO \"rdsmaster\"",
		   gp_sql_grant_membership(&b, "inventory_user", "rdsmaster"));
	assert_refused(gp_sql_grant_membership(&b, "", NULL));
	assert_refused(gp_sql_grant_membership(&b, "a", ""));
}

static void
test_database(void **state)
{
	(void)state;
	assert_sql(
		"CREATE DATABASE \"inventory_service\" OWNER \"inventory_user\" STRATEGY WAL_LOG",
		gp_sql_create_database(&b, "inventory_service", "inventory_user", 150004));
	assert_sql(
		"CREATE DATABASE \"inventory_service\" OWNER \"inventory_user\" STRATEGY WAL_LOG",
		gp_sql_create_database(&b, "inventory_service", "inventory_user", 170000));
	assert_sql("CREATE DATABASE \"inventory_service\" OWNER \"inventory_user\"",
		   gp_sql_create_database(&b, "inventory_service", "inventory_user", 140010));
	assert_sql("ALTER DATABASE \"inventory_service\" OWNER TO \"inventory_user\"",
		   gp_sql_alter_database_owner(&b, "inventory_service", "inventory_user"));
	assert_sql("REVOKE ALL ON DATABASE \"inventory_service\" FROM PUBLIC",
		   gp_sql_revoke_public(&b, "inventory_service"));
	assert_sql("GRANT CONNECT, TEMPORARY ON DATABASE \"inventory_service\" TO \"reporting_ro\"",
		   gp_sql_grant_connect(&b, "inventory_service", "reporting_ro"));
	assert_sql("REVOKE ALL ON DATABASE \"x\"\"; DROP DATABASE y; --\" FROM PUBLIC",
		   gp_sql_revoke_public(&b, "x\"; DROP DATABASE y; --"));
	assert_refused(gp_sql_create_database(&b, "db", "", 150000));
	assert_refused(gp_sql_create_database(&b, "", "o", 150000));
	assert_refused(gp_sql_alter_database_owner(&b, "db", NULL));
	assert_refused(gp_sql_revoke_public(&b, ""));
	assert_refused(gp_sql_grant_connect(&b, "db", "\xff"));
}

static void
assert_strv(const struct gp_strv *sv, const char *const *expect, size_t n)
{
	assert_int_equal(sv->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(sv->v[i], expect[i]);
}

static void
test_access_editor(void **state)
{
	static const char *const expect[] = {
		"GRANT USAGE ON SCHEMA public TO \"app_rw\"",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"app_rw\"",
		"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO \"app_rw\"",
		"ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" IN SCHEMA public GRANT SELECT, "
		"INSERT, UPDATE, DELETE ON TABLES TO \"app_rw\"",
		"ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" IN SCHEMA public GRANT USAGE, "
		"SELECT ON SEQUENCES TO \"app_rw\"",
	};
	struct gp_strv sv = {0};

	(void)state;
	assert_int_equal(gp_sql_access_statements(&sv, GP_ACCESS_EDITOR, "app_owner", "app_rw"),
			 (int)ELEMENTSOF(expect));
	assert_strv(&sv, expect, ELEMENTSOF(expect));
	gp_strv_release(&sv);
}

static void
test_access_reader(void **state)
{
	static const char *const expect[] = {
		"GRANT USAGE ON SCHEMA public TO \"app_ro\"",
		"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \"app_ro\"",
		"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM \"app_ro\"",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"app_ro\"",
		"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO \"app_ro\"",
		"ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" IN SCHEMA public REVOKE ALL ON "
		"TABLES FROM \"app_ro\"",
		"ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" IN SCHEMA public REVOKE ALL ON "
		"SEQUENCES FROM \"app_ro\"",
		"ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" IN SCHEMA public GRANT SELECT ON "
		"TABLES TO \"app_ro\"",
		"ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" IN SCHEMA public GRANT SELECT ON "
		"SEQUENCES TO \"app_ro\"",
	};
	struct gp_strv sv = {0};

	(void)state;
	assert_int_equal(gp_sql_access_statements(&sv, GP_ACCESS_READER, "app_owner", "app_ro"),
			 (int)ELEMENTSOF(expect));
	assert_strv(&sv, expect, ELEMENTSOF(expect));
	gp_strv_release(&sv);
}

static void
test_access_hostile_and_refused(void **state)
{
	struct gp_strv sv = {0};

	(void)state;
	/* A "%R" inside a name is data, not a template: it is quoted, never expanded. */
	assert_int_equal(gp_sql_access_statements(&sv, GP_ACCESS_EDITOR, "o%R\"x", "r; s"), 5);
	assert_string_equal(sv.v[0], "GRANT USAGE ON SCHEMA public TO \"r; s\"");
	assert_string_equal(sv.v[4], "ALTER DEFAULT PRIVILEGES FOR ROLE \"o%R\"\"x\" IN SCHEMA "
				     "public GRANT USAGE, SELECT ON SEQUENCES TO \"r; s\"");
	gp_strv_release(&sv);

	assert_int_equal(gp_sql_access_statements(&sv, GP_ACCESS_OWNER, "o", "r"), -EINVAL);
	assert_int_equal(sv.n, 0);
	assert_int_equal(gp_sql_access_statements(&sv, GP_ACCESS_READER, "", "r"), -EINVAL);
	assert_int_equal(gp_sql_access_statements(&sv, GP_ACCESS_READER, "o", NULL), -EINVAL);
	assert_int_equal(gp_sql_access_statements(&sv, (enum gp_access)42, "o", "r"), -EINVAL);
	assert_int_equal(sv.n, 0);
	gp_strv_release(&sv);
}

/* RFC 7677's example (user "user", password "pencil"): the keys below give the RFC's
 * ServerSignature "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" for its AuthMessage. */
static void
test_scram_verifier(void **state)
{
	static const uint8_t salt[] = {0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
				       0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81};
	char *v = NULL;

	assert_int_equal(gp_scram_verifier("pencil", salt, sizeof(salt), 4096, &v), 0);
	assert_string_equal(v, "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
			       "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
			       "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
	assert_true(gp_sql_is_scram_verifier(v));
	gp_secret_free_string(v);
	v = NULL;
	/* Text PostgreSQL would SASLprep first is left to libpq; nothing else is accepted. */
	assert_int_equal(gp_scram_verifier("p\xc3\xa4ssword", salt, sizeof(salt), 4096, &v), -EDOM);
	assert_int_equal(gp_scram_verifier("", salt, sizeof(salt), 4096, &v), -EINVAL);
	assert_int_equal(gp_scram_verifier("pencil", salt, 0, 4096, &v), -EINVAL);
	assert_int_equal(gp_scram_verifier("pencil", salt, sizeof(salt), 0, &v), -EINVAL);
	assert_null(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_ident_appends),
		cmocka_unit_test(test_ident_refused),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_verifier_shape),
		cmocka_unit_test(test_create_role),
		cmocka_unit_test(test_alter_role),
		cmocka_unit_test(test_role_attrs_diff),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_comment),
		cmocka_unit_test(test_membership),
		cmocka_unit_test(test_database),
		cmocka_unit_test(test_access_editor),
		cmocka_unit_test(test_access_reader),
		cmocka_unit_test(test_access_hostile_and_refused),
		cmocka_unit_test(test_scram_verifier),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
