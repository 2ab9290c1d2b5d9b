/*
 * sql.c — SQL statement text over quoted identifiers and literals.
 *
 * Each builder writes exactly one statement so that tests can compare whole texts and the
 * daemon can count, send and report statements one by one. Deliberately not here: sending
 * anything (daemon/pg_apply.c), bound parameters (libpq does those), validation of names (join.c
 * decides what a good name is; this module only makes any name safe to write), and plaintext
 * passwords, which have no builder at all.
 */
#include "codec/sql.h"
#include "model/names.h"

#include <stdio.h>

/* Undo a failed builder's partial output so that b is as the caller left it. */
static int
sql_fail(struct gp_buf *b, size_t len, int r)
{
	if (b->p && len <= b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
	return r;
}

int
gp_sql_ident_n(struct gp_buf *b, const char *ident, size_t len)
{
	size_t start = b->len;
	int r;

	if (!ident || len == 0 || len > GP_SQL_IDENT_MAX || !gp_utf8_valid(ident, len))
		return -EINVAL;
	/* Worst case every byte is a quote: reserve once so the loop cannot half-fail. */
	r = gp_buf_reserve(b, 2 * len + 2);
	if (r < 0)
		return r;
	gp_buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		if (ident[i] == '"')
			gp_buf_putc(b, '"');
		gp_buf_putc(b, ident[i]);
	}
	r = gp_buf_putc(b, '"');
	return r < 0 ? sql_fail(b, start, r) : 0;
}

int
gp_sql_ident(struct gp_buf *b, const char *ident)
{
	if (!ident)
		return -EINVAL;
	return gp_sql_ident_n(b, ident, strlen(ident));
}

int
gp_sql_literal_n(struct gp_buf *b, const char *s, size_t len)
{
	size_t start = b->len;
	bool backslash;
	int r;

	if (!s || !gp_utf8_valid(s, len))
		return -EINVAL;
	backslash = memchr(s, '\\', len) != NULL;
	r = gp_buf_reserve(b, 2 * len + 3);
	if (r < 0)
		return r;
	if (backslash)
		gp_buf_putc(b, 'E');
	gp_buf_putc(b, '\'');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'' || (backslash && s[i] == '\\'))
			gp_buf_putc(b, s[i]);
		gp_buf_putc(b, s[i]);
	}
	r = gp_buf_putc(b, '\'');
	return r < 0 ? sql_fail(b, start, r) : 0;
}

int
gp_sql_literal(struct gp_buf *b, const char *s)
{
	if (!s)
		return -EINVAL;
	return gp_sql_literal_n(b, s, strlen(s));
}

/* Length of the run of base64 characters (with '=' padding only at its end) at s. */
static size_t
b64_span(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	size_t pad = strspn(s + n, "=");

	if (pad > 2 || (n + pad) % 4 != 0)
		return 0;
	return n + pad;
}

bool
gp_sql_is_scram_verifier(const char *v)
{
	static const char prefix[] = "SCRAM-SHA-256$";
	size_t n;

	if (!v || strncmp(v, prefix, sizeof(prefix) - 1) != 0)
		return false;
	v += sizeof(prefix) - 1;
	n = strspn(v, "0123456789");
	if (n == 0 || n > 9 || v[n] != ':')
		return false;
	v += n + 1;
	n = b64_span(v);
	if (n == 0 || v[n] != '$')
		return false;
	v += n + 1;
	/* StoredKey and ServerKey are SHA-256 sized: 32 bytes, 44 base64 characters. */
	if (b64_span(v) != 44 || v[44] != ':')
		return false;
	v += 45;
	return b64_span(v) == 44 && v[44] == '\0';
}

/*
 * Builders below append pieces with "r = r < 0 ? r : piece" chains; the first failure sticks
 * and sql_fail() rolls b back.
 */
#define SQL_PUTS(r, b, s) ((r) = (r) < 0 ? (r) : gp_buf_puts((b), (s)))
#define SQL_IDENT(r, b, s) ((r) = (r) < 0 ? (r) : gp_sql_ident((b), (s)))
#define SQL_LITERAL(r, b, s) ((r) = (r) < 0 ? (r) : gp_sql_literal((b), (s)))

static int
sql_done(struct gp_buf *b, size_t start, int r)
{
	return r < 0 ? sql_fail(b, start, r) : 0;
}

/* Room for a statement holding a verifier, reserved up front (see sql.h). */
static int
reserve_secret(struct gp_buf *b, const char *role, const char *verifier)
{
	if (!gp_sql_is_scram_verifier(verifier) || !role)
		return -EINVAL;
	return gp_buf_reserve(b, 2 * strlen(role) + 2 * strlen(verifier) + 192);
}

int
gp_sql_create_role(struct gp_buf *b, const char *role, bool createdb, const char *verifier)
{
	size_t start = b->len;
	int r = reserve_secret(b, role, verifier);

	if (r < 0)
		return r;
	SQL_PUTS(r, b, "CREATE ROLE ");
	SQL_IDENT(r, b, role);
	SQL_PUTS(r, b, " LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT ");
	SQL_PUTS(r, b, createdb ? "CREATEDB" : "NOCREATEDB");
	SQL_PUTS(r, b, " PASSWORD ");
	SQL_LITERAL(r, b, verifier);
	return sql_done(b, start, r);
}

int
gp_sql_create_role_nopassword(struct gp_buf *b, const char *role, bool createdb)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "CREATE ROLE ");
	SQL_IDENT(r, b, role);
	SQL_PUTS(r, b, " LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT ");
	SQL_PUTS(r, b, createdb ? "CREATEDB" : "NOCREATEDB");
	return sql_done(b, start, r);
}

int
gp_sql_alter_role_set_role(struct gp_buf *b, const char *role, const char *target)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "ALTER ROLE ");
	SQL_IDENT(r, b, role);
	SQL_PUTS(r, b, " SET role = ");
	SQL_LITERAL(r, b, target);
	return sql_done(b, start, r);
}

unsigned
gp_sql_role_attrs_diff(const struct gp_obs_role *o, bool createdb)
{
	unsigned d = 0;

	if (!o->login)
		d |= GP_SQL_ATTR_LOGIN;
	if (o->superuser)
		d |= GP_SQL_ATTR_SUPERUSER;
	if (o->createrole)
		d |= GP_SQL_ATTR_CREATEROLE;
	if (o->createdb != createdb)
		d |= GP_SQL_ATTR_CREATEDB;
	if (o->replication)
		d |= GP_SQL_ATTR_REPLICATION;
	if (o->bypassrls)
		d |= GP_SQL_ATTR_BYPASSRLS;
	if (!o->inherit)
		d |= GP_SQL_ATTR_INHERIT;
	return d;
}

int
gp_sql_alter_role(struct gp_buf *b, const char *role, unsigned attrs, bool createdb)
{
	size_t start = b->len;
	int r = 0;

	if (attrs == 0 || (attrs & ~(unsigned)GP_SQL_ATTR_ALL))
		return -EINVAL;
	SQL_PUTS(r, b, "ALTER ROLE ");
	SQL_IDENT(r, b, role);
	if (attrs & GP_SQL_ATTR_LOGIN)
		SQL_PUTS(r, b, " LOGIN");
	if (attrs & GP_SQL_ATTR_SUPERUSER)
		SQL_PUTS(r, b, " NOSUPERUSER");
	if (attrs & GP_SQL_ATTR_CREATEROLE)
		SQL_PUTS(r, b, " NOCREATEROLE");
	if (attrs & GP_SQL_ATTR_CREATEDB)
		SQL_PUTS(r, b, createdb ? " CREATEDB" : " NOCREATEDB");
	if (attrs & GP_SQL_ATTR_REPLICATION)
		SQL_PUTS(r, b, " NOREPLICATION");
	if (attrs & GP_SQL_ATTR_BYPASSRLS)
		SQL_PUTS(r, b, " NOBYPASSRLS");
	if (attrs & GP_SQL_ATTR_INHERIT)
		SQL_PUTS(r, b, " INHERIT");
	return sql_done(b, start, r);
}

int
gp_sql_alter_role_password(struct gp_buf *b, const char *role, const char *verifier)
{
	size_t start = b->len;
	int r = reserve_secret(b, role, verifier);

	if (r < 0)
		return r;
	SQL_PUTS(r, b, "ALTER ROLE ");
	SQL_IDENT(r, b, role);
	SQL_PUTS(r, b, " PASSWORD ");
	SQL_LITERAL(r, b, verifier);
	return sql_done(b, start, r);
}

int
gp_sql_role_comment(struct gp_buf *b, const char *env, const char *key)
{
	return gp_role_marker(env, key, b);
}

int
gp_sql_comment_role(struct gp_buf *b, const char *role, const char *env, const char *key)
{
	struct gp_buf text = {0};
	size_t start = b->len;
	int r;

	r = gp_sql_role_comment(&text, env, key);
	SQL_PUTS(r, b, "COMMENT ON ROLE ");
	SQL_IDENT(r, b, role);
	SQL_PUTS(r, b, " IS ");
	SQL_LITERAL(r, b, text.p);
	gp_buf_release(&text);
	return sql_done(b, start, r);
}

int
gp_sql_grant_membership(struct gp_buf *b, const char *role, const char *member)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "GRANT ");
	SQL_IDENT(r, b, role);
	SQL_PUTS(r, b, " TO ");
	if (member)
		SQL_IDENT(r, b, member);
	else
		SQL_PUTS(r, b, "CURRENT_USER");
	return sql_done(b, start, r);
}

int
gp_sql_create_database(struct gp_buf *b, const char *db, const char *owner, int server_version_num)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "CREATE DATABASE ");
	SQL_IDENT(r, b, db);
	SQL_PUTS(r, b, " OWNER ");
	SQL_IDENT(r, b, owner);
	if (server_version_num >= 150000)
		SQL_PUTS(r, b, " STRATEGY WAL_LOG");
	return sql_done(b, start, r);
}

int
gp_sql_alter_database_owner(struct gp_buf *b, const char *db, const char *owner)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "ALTER DATABASE ");
	SQL_IDENT(r, b, db);
	SQL_PUTS(r, b, " OWNER TO ");
	SQL_IDENT(r, b, owner);
	return sql_done(b, start, r);
}

int
gp_sql_revoke_public(struct gp_buf *b, const char *db)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "REVOKE ALL ON DATABASE ");
	SQL_IDENT(r, b, db);
	SQL_PUTS(r, b, " FROM PUBLIC");
	return sql_done(b, start, r);
}

int
gp_sql_grant_connect(struct gp_buf *b, const char *db, const char *role)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "GRANT CONNECT, TEMPORARY ON DATABASE ");
	SQL_IDENT(r, b, db);
	SQL_PUTS(r, b, " TO ");
	SQL_IDENT(r, b, role);
	return sql_done(b, start, r);
}

/*
 * One access statement: fmt has "%R" for the quoted role and "%O" for the quoted owner, and
 * no other conversions. A tiny template keeps the table of statements below readable.
 */
static int
access_push(struct gp_strv *out, const char *fmt, const char *qowner, const char *qrole)
{
	struct gp_buf b = {0};
	int r = 0;

	for (const char *p = fmt; *p && r >= 0; p++) {
		if (p[0] == '%' && (p[1] == 'R' || p[1] == 'O')) {
			r = gp_buf_puts(&b, *++p == 'R' ? qrole : qowner);
			continue;
		}
		r = gp_buf_putc(&b, *p);
	}
	if (r >= 0)
		r = gp_strv_push(out, b.p);
	gp_buf_release(&b);
	return r;
}

#define ADP "ALTER DEFAULT PRIVILEGES FOR ROLE %O IN SCHEMA public "

static const char *const editor_sql[] = {
	"GRANT USAGE ON SCHEMA public TO %R",
	"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %R",
	"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %R",
	ADP "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %R",
	ADP "GRANT USAGE, SELECT ON SEQUENCES TO %R",
};

/* Revoke first, then grant: whatever the role had before, it ends exactly a reader. */
static const char *const reader_sql[] = {
	"GRANT USAGE ON SCHEMA public TO %R",
	"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %R",
	"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %R",
	"GRANT SELECT ON ALL TABLES IN SCHEMA public TO %R",
	"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO %R",
	ADP "REVOKE ALL ON TABLES FROM %R",
	ADP "REVOKE ALL ON SEQUENCES FROM %R",
	ADP "GRANT SELECT ON TABLES TO %R",
	ADP "GRANT SELECT ON SEQUENCES TO %R",
};

int
gp_sql_access_statements(struct gp_strv *out, enum gp_access level, const char *owner,
			 const char *role)
{
	struct gp_buf qowner = {0}, qrole = {0};
	const char *const *v;
	size_t n;
	int r;

	if (level == GP_ACCESS_EDITOR) {
		v = editor_sql;
		n = ELEMENTSOF(editor_sql);
	} else if (level == GP_ACCESS_READER) {
		v = reader_sql;
		n = ELEMENTSOF(reader_sql);
	} else {
		return -EINVAL;
	}
	r = gp_sql_ident(&qowner, owner);
	SQL_IDENT(r, &qrole, role);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = access_push(out, v[i], qowner.p, qrole.p);
	gp_buf_release(&qowner);
	gp_buf_release(&qrole);
	return r < 0 ? r : (int)n;
}

/* ---------------------------------------------------------------------------------------
 * Decommissioning (DESIGN §4.5) and disabled orphans
 */

/* "<verb> "ident"<tail>": the shape of the one-identifier statements below. */
static int
one_ident(struct gp_buf *b, const char *verb, const char *ident, const char *tail)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, verb);
	SQL_IDENT(r, b, ident);
	SQL_PUTS(r, b, tail);
	return sql_done(b, start, r);
}

int
gp_sql_role_nologin(struct gp_buf *b, const char *role)
{
	return one_ident(b, "ALTER ROLE ", role, " NOLOGIN");
}

int
gp_sql_drop_role(struct gp_buf *b, const char *role)
{
	return one_ident(b, "DROP ROLE IF EXISTS ", role, "");
}

int
gp_sql_drop_owned(struct gp_buf *b, const char *role)
{
	return one_ident(b, "DROP OWNED BY ", role, "");
}

int
gp_sql_drop_database(struct gp_buf *b, const char *db)
{
	return one_ident(b, "DROP DATABASE IF EXISTS ", db, " WITH (FORCE)");
}

int
gp_sql_reassign_owned(struct gp_buf *b, const char *role, const char *to)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "REASSIGN OWNED BY ");
	SQL_IDENT(r, b, role);
	SQL_PUTS(r, b, " TO ");
	SQL_IDENT(r, b, to);
	return sql_done(b, start, r);
}

int
gp_sql_revoke_connect(struct gp_buf *b, const char *db, const char *role)
{
	size_t start = b->len;
	int r = 0;

	SQL_PUTS(r, b, "REVOKE CONNECT, TEMPORARY ON DATABASE ");
	SQL_IDENT(r, b, db);
	SQL_PUTS(r, b, " FROM ");
	if (role)
		SQL_IDENT(r, b, role);
	else
		SQL_PUTS(r, b, "PUBLIC");
	return sql_done(b, start, r);
}
