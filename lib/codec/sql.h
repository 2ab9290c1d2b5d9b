/*
 * sql.h — the text of every SQL statement gprdsd sends, built over quoted identifiers.
 *
 * Pure string building: no libpq, no connection. The daemon (daemon/pg.c) sends these texts;
 * values that are not part of DDL syntax (role names in catalog queries, ...) are bound
 * parameters there and never pass through this module.
 *
 * Rules every builder follows:
 *  - Identifiers are always quoted with gp_sql_ident(), even though callers validate names
 *    first (DESIGN §1.4): quoting is the second, independent line of defence.
 *  - Builders append one complete statement (no trailing semicolon) to b. On failure they
 *    return -EINVAL (a refused identifier, literal or verifier) or -ENOMEM, and b's content is
 *    left as it was before the call (b->len restored; after -ENOMEM b->oom stays set).
 *  - A password is only ever written as a SCRAM-SHA-256 verifier (gp_sql_is_scram_verifier());
 *    plaintext passwords never appear in SQL text, because servers log statements. Builders that
 *    write a verifier reserve their room first, so the verifier is never left behind in a
 *    buffer that realloc() freed; release such buffers with gp_buf_release_secure().
 */
#ifndef GP_SQL_H
#define GP_SQL_H

#include "model/observed.h"

/* PostgreSQL truncates longer identifiers (NAMEDATALEN - 1); gp_sql_ident() refuses them. */
#define GP_SQL_IDENT_MAX 63

/*
 * Appends ident as a quoted identifier: "..." with every embedded " doubled. Refuses
 * (-EINVAL) an empty identifier, one longer than GP_SQL_IDENT_MAX bytes (the server would
 * silently truncate it, so two names could meet), a NUL byte and invalid UTF-8.
 * gp_sql_ident_n() takes an explicit length (so a NUL inside it can be seen and refused).
 */
int gp_sql_ident(struct gp_buf *b, const char *ident);
int gp_sql_ident_n(struct gp_buf *b, const char *ident, size_t len);

/*
 * Appends s as a string literal: '...' with every ' doubled. When s holds a backslash, the
 * literal is written E'...' with backslashes doubled too (as PostgreSQL's quote_literal()
 * does), so it means the same whatever standard_conforming_strings is set to. Refuses
 * (-EINVAL) a NUL byte and invalid UTF-8. An empty s gives ''.
 */
int gp_sql_literal(struct gp_buf *b, const char *s);
int gp_sql_literal_n(struct gp_buf *b, const char *s, size_t len);

/*
 * True when v has the exact shape of a SCRAM-SHA-256 verifier as PostgreSQL stores it:
 * "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" (salt in base64, both keys 32
 * bytes in base64). A string that only starts like one is not enough: the server takes a
 * malformed verifier for a plaintext password and would store (and log) it as such.
 */
bool gp_sql_is_scram_verifier(const char *v);

/*
 * CREATE ROLE "role" LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT
 * [NO]CREATEDB PASSWORD '<verifier>'. -EINVAL when verifier is not a SCRAM verifier.
 */
int gp_sql_create_role(struct gp_buf *b, const char *role, bool createdb, const char *verifier);
/* The same without a password (the second role of the alternating strategy, whose first
 * password comes with its first rotation): no password, so no login yet. */
int gp_sql_create_role_nopassword(struct gp_buf *b, const char *role, bool createdb);
/* ALTER ROLE "role" SET role = 'target': every session of role acts as target. */
int gp_sql_alter_role_set_role(struct gp_buf *b, const char *role, const char *target);

/* Role attributes ALTER ROLE can set; each one is written with its desired value. */
enum gp_sql_role_attr {
	GP_SQL_ATTR_LOGIN = 1u << 0,	   /* LOGIN */
	GP_SQL_ATTR_SUPERUSER = 1u << 1,   /* NOSUPERUSER */
	GP_SQL_ATTR_CREATEROLE = 1u << 2,  /* NOCREATEROLE */
	GP_SQL_ATTR_CREATEDB = 1u << 3,	   /* CREATEDB or NOCREATEDB, per createdb */
	GP_SQL_ATTR_REPLICATION = 1u << 4, /* NOREPLICATION */
	GP_SQL_ATTR_BYPASSRLS = 1u << 5,   /* NOBYPASSRLS */
	GP_SQL_ATTR_INHERIT = 1u << 6,	   /* INHERIT */
	GP_SQL_ATTR_ALL = (1u << 7) - 1,
};

/*
 * Which attributes of an observed role differ from the desired ones (LOGIN, NOSUPERUSER,
 * NOCREATEROLE, createdb, NOREPLICATION, NOBYPASSRLS, INHERIT). 0: nothing to change.
 */
unsigned gp_sql_role_attrs_diff(const struct gp_obs_role *r, bool createdb);

/*
 * ALTER ROLE "role" <attributes in attrs, in the order of enum gp_sql_role_attr>. Only the
 * attributes asked for are written: a non-superuser (the RDS master) may not even mention
 * SUPERUSER, REPLICATION or BYPASSRLS in ALTER ROLE, so they are written only when they must
 * change (and then the statement fails unless the master is a superuser, as it should).
 * -EINVAL when attrs is 0 or has unknown bits.
 */
int gp_sql_alter_role(struct gp_buf *b, const char *role, unsigned attrs, bool createdb);

/* ALTER ROLE "role" PASSWORD '<verifier>'. -EINVAL when verifier is not a SCRAM verifier. */
int gp_sql_alter_role_password(struct gp_buf *b, const char *role, const char *verifier);

/*
 * COMMENT ON ROLE "role" IS 'managed by gprdsd: env=<env> key=<key>'.
 * gp_sql_role_comment() writes only the comment text: observe compares it with this.
 */
int gp_sql_comment_role(struct gp_buf *b, const char *role, const char *env, const char *key);
int gp_sql_role_comment(struct gp_buf *b, const char *env, const char *key);

/* GRANT "role" TO "member"; member NULL means CURRENT_USER (the master granting itself). */
int gp_sql_grant_membership(struct gp_buf *b, const char *role, const char *member);

/*
 * CREATE DATABASE "db" OWNER "owner", plus STRATEGY WAL_LOG when server_version_num >= 150000
 * (older servers do not know the option; WAL_LOG is the PG15 default, written out so that a
 * changed server default does not change what gprdsd does).
 */
int gp_sql_create_database(struct gp_buf *b, const char *db, const char *owner,
			   int server_version_num);

/* ALTER DATABASE "db" OWNER TO "owner" */
int gp_sql_alter_database_owner(struct gp_buf *b, const char *db, const char *owner);

/* REVOKE ALL ON DATABASE "db" FROM PUBLIC */
int gp_sql_revoke_public(struct gp_buf *b, const char *db);

/* GRANT CONNECT, TEMPORARY ON DATABASE "db" TO "role" */
int gp_sql_grant_connect(struct gp_buf *b, const char *db, const char *role);

/*
 * The statements, run inside the target database and in one transaction, that give role
 * exactly the privileges of level (EDITOR or READER) in schema public, now and for the
 * tables and sequences owner creates later:
 *   editor: USAGE on the schema; SELECT, INSERT, UPDATE, DELETE on all tables; USAGE, SELECT
 *           on all sequences; the same as default privileges FOR ROLE owner.
 *   reader: USAGE on the schema; first REVOKE ALL on all tables and sequences and on the
 *           default privileges, then SELECT on tables and sequences, now and by default. The
 *           revokes make a former editor exactly a reader; in one transaction, access never
 *           blinks.
 * Appends the statements to out (gp_strv_push copies). Returns the number appended, or
 * -EINVAL (level OWNER, bad identifier) / -ENOMEM; on failure out may hold some of them and
 * the caller releases it.
 */
int gp_sql_access_statements(struct gp_strv *out, enum gp_access level, const char *owner,
			     const char *role);

/* Decommissioning (DESIGN §4.5) and disabled orphans, over quoted identifiers:
 * ALTER ROLE "r" NOLOGIN; DROP ROLE IF EXISTS "r"; DROP OWNED BY "r";
 * DROP DATABASE IF EXISTS "db" WITH (FORCE) (PostgreSQL 13 and later);
 * REASSIGN OWNED BY "r" TO "to"; REVOKE CONNECT, TEMPORARY ON DATABASE "db" FROM "r" | PUBLIC
 * (role NULL). -EINVAL for a name gp_sql_ident() refuses. */
int gp_sql_role_nologin(struct gp_buf *b, const char *role);
int gp_sql_drop_role(struct gp_buf *b, const char *role);
int gp_sql_drop_owned(struct gp_buf *b, const char *role);
int gp_sql_drop_database(struct gp_buf *b, const char *db);
int gp_sql_reassign_owned(struct gp_buf *b, const char *role, const char *to);
int gp_sql_revoke_connect(struct gp_buf *b, const char *db, const char *role);

#endif
