"""Assertions shared by the integration tests. Each reads the outcome from PostgreSQL
(psycopg2), Secrets Manager (boto3) or the files gprdsd writes; none asks gprdsd."""

import re

import psycopg2
import psycopg2.errors

from world import standard_layout

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
AUDIT_STATUSES = {"success", "no_change", "warning", "error", "dry_run"}
PASSWORD_RE = re.compile(r"^[A-Za-z0-9]{32}$")


def provision(w, layout=None, expect_rc=0, **config):
    """Writes the layout (standard by default), a config, runs one pass; returns
    (layout, commit, result)."""
    layout = layout or standard_layout(w.uid)
    sha = w.repo.write_layout(layout)
    w.gd.write_config(**config)
    r = w.gd.once()
    assert r.rc == expect_rc, f"gprdsd --once exit {r.rc}, expected {expect_rc}:{r}"
    return layout, sha, r


def assert_secret(w, e, pg=None):
    pg = pg or w.pg
    assert e.secret_name in w.secret_names(), f"no secret {e.secret_name}"
    s = w.secret(e.secret_name)
    for k in ("username", "password", "host", "port", "dbname", "engine", "postgres-password"):
        assert k in s, f"{e.secret_name}: key {k} missing (keys {sorted(s)})"
    assert s["username"] == e.username
    assert s["dbname"] == e.database
    assert s["host"] == "127.0.0.1"
    assert isinstance(s["port"], str) and s["port"] == str(pg.port), s["port"]
    assert s["engine"] == "postgres"
    assert s["postgres-password"] == s["password"]
    tags = w.secret_tags(e.secret_name)
    assert tags.get("managed-by") == "gprdsd", tags
    assert tags.get("Environment") == e.env, tags
    assert tags.get("Application") == e.key, tags
    return s


def assert_role(w, e, pg=None, createdb=None):
    """createdb: by default as DESIGN §3 says, only owner entries have CREATEDB."""
    if createdb is None:
        createdb = e.access == "owner"
    r = (pg or w.pg).role(e.username)
    assert r is not None, f"role {e.username} does not exist"
    assert r["login"], r
    assert not r["super"], r
    assert not r["createrole"], r
    assert not r["replication"], r
    assert not r["bypassrls"], r
    assert r["createdb"] is createdb, r
    assert r["comment"] and "gprdsd" in r["comment"], f"role comment: {r['comment']!r}"
    return r


def assert_database(w, layout, env, database, pg=None):
    pg = pg or w.pg
    owner = next(e for e in layout.env_entries(env) if e.database == database
                 and e.access == "owner")
    d = pg.database(database)
    assert d is not None, f"database {database} does not exist"
    assert d["owner"] == owner.username, d
    acl = pg.database_acl(database)
    assert ("PUBLIC", "CONNECT") not in acl, f"PUBLIC can CONNECT to {database}: {acl}"
    assert ("PUBLIC", "TEMPORARY") not in acl, f"PUBLIC has TEMPORARY on {database}: {acl}"
    for e in layout.env_entries(env):
        if e.database == database:
            assert (e.username, "CONNECT") in acl, f"{e.username} lacks CONNECT: {acl}"


def assert_can_login(w, e, pg=None):
    s = w.secret(e.secret_name)
    c = (pg or w.pg).login(s["username"], s["password"], s["dbname"])
    with c.cursor() as cur:
        cur.execute("SELECT current_user, current_database()")
        assert cur.fetchone() == (e.username, e.database)
    c.close()


def run_sql(conn, q, args=()):
    with conn.cursor() as cur:
        cur.execute(q, args)
        return cur.fetchall() if cur.description else None


def denied(conn, q):
    """True when the statement fails with insufficient_privilege."""
    try:
        run_sql(conn, q)
    except psycopg2.errors.InsufficientPrivilege:
        return True
    return False


def owner_creates_table(w, layout, env, database, table="items"):
    owner = layout.by_access(env, database, "owner")
    c = w.login(owner)
    run_sql(c, f"CREATE TABLE {table} (id serial PRIMARY KEY, name text NOT NULL)")
    run_sql(c, f"INSERT INTO {table} (name) VALUES ('created by owner')")
    c.close()


def audit_since(w, env, before):
    return w.gd.audit_rows(env)[len(before):]


def snapshot(w, layout):
    """Everything a no-op pass must leave unchanged."""
    snap = {"audit": {env: w.gd.audit_text(env) for env in layout.modes},
            "versions": {e.secret_name: w.secret_versions(e.secret_name)
                         for e in layout.entries},
            "secrets": {e.secret_name: w.secret(e.secret_name) for e in layout.entries},
            "roles": {e.username: w.pg.role(e.username) for e in layout.entries},
            "dbs": {db: (w.pg.database(db), sorted(w.pg.database_acl(db)))
                    for _, db in layout.databases()}}
    return snap


DDL_RE = re.compile(r"(statement|execute [^:]*):\s*(CREATE|ALTER|GRANT|REVOKE|COMMENT|DROP|REASSIGN)\b", re.I)


def ddl_statements(log_text):
    """Statements logged by gprdsd's master connections that change something."""
    out = []
    for line in log_text.splitlines():
        if " rdsmaster@" in line and DDL_RE.search(line):
            out.append(line)
    return out
