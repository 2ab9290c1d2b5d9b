"""(a) A fresh repository: owner/editor/reader entries across two databases in dev
(standalone tfvars) and one in test (coupled tfvars) converge in one `--once`."""

import psycopg2
import pytest

from checks import (AUDIT_STATUSES, ISO_Z, PASSWORD_RE, assert_can_login, assert_database,
                    assert_role, assert_secret, denied, owner_creates_table, provision,
                    run_sql)


def test_secrets_created_with_full_json_and_tags(world):
    lay, _, _ = provision(world)
    passwords = []
    for e in lay.entries:
        s = assert_secret(world, e)
        assert PASSWORD_RE.match(s["password"]), "password is not 32 [A-Za-z0-9]"
        passwords.append(s["password"])
    assert len(set(passwords)) == len(passwords), "two entries share a password"


def test_every_entry_logs_in_with_its_secret(world):
    lay, _, _ = provision(world)
    for e in lay.entries:
        assert_can_login(world, e)


def test_roles_have_safe_attributes_and_comment(world):
    lay, _, _ = provision(world)
    for e in lay.entries:
        r = assert_role(world, e)
        assert e.env in r["comment"] or e.key in r["comment"], r["comment"]


def test_databases_owned_and_isolated(world):
    lay, _, _ = provision(world)
    for env, db in lay.databases():
        assert_database(world, lay, env, db)
    # Isolation: a role of one database cannot connect to another one.
    inv_reader = lay.by_access("dev", f"inventory_{world.uid}", "reader")
    s = world.secret(inv_reader.secret_name)
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        world.pg.login(s["username"], s["password"], f"orders_{world.uid}")


@pytest.mark.parametrize("env,db", [("dev", "inventory"), ("test", "search")])
def test_access_levels(world, env, db):
    lay, _, _ = provision(world)
    database = f"{db}_{world.uid}"
    owner_creates_table(world, lay, env, database)

    reader = world.login(lay.by_access(env, database, "reader"))
    assert run_sql(reader, "SELECT count(*) FROM items") == [(1,)]
    assert denied(reader, "INSERT INTO items (name) VALUES ('reader')")
    assert denied(reader, "UPDATE items SET name = 'x'")
    assert denied(reader, "DELETE FROM items")
    assert denied(reader, "CREATE TABLE reader_table (id int)")
    reader.close()

    editor = world.login(lay.by_access(env, database, "editor"))
    run_sql(editor, "INSERT INTO items (name) VALUES ('editor')")
    run_sql(editor, "UPDATE items SET name = 'edited' WHERE name = 'editor'")
    assert run_sql(editor, "SELECT count(*) FROM items WHERE name = 'edited'") == [(1,)]
    run_sql(editor, "DELETE FROM items WHERE name = 'edited'")
    assert run_sql(editor, "SELECT nextval('items_id_seq') > 0") == [(True,)]
    assert denied(editor, "DROP TABLE items")
    editor.close()


def test_audit_csv(world):
    lay, sha, _ = provision(world)
    for env in ("dev", "test"):
        rows = world.gd.audit_rows(env)  # asserts the exact header
        assert rows, f"no audit rows for {env} at {world.gd.audit_path(env)}"
        for row in rows:
            assert ISO_Z.match(row["timestamp_utc"]), row
            assert row["environment"] == env, row
            assert row["build_id"] == sha[:12], (row, sha)
            assert row["run_id"], row
            assert row["status"] in AUDIT_STATUSES, row
            assert row["status"] != "error", row
            assert row["duration_ms"].isdigit(), row
        assert len({r["run_id"] for r in rows}) == 1, "one pass, one run_id"

        def has(action, **match):
            return any(r["action"] == action and r["status"] == "success"
                       and all(r[k] == v for k, v in match.items()) for r in rows)

        for e in lay.env_entries(env):
            for action in ("create_secret", "create_role", "verify_login"):
                assert has(action, username=e.username), f"no {action} row for {e.username}"
            assert any(r["action"] == "transition" and r["username"] == e.username
                       for r in rows), f"no transition row for {e.username}"
        for _, db in lay.databases(env):
            assert has("create_database", database=db), f"no create_database row for {db}"
            assert has("apply_grants", database=db), f"no apply_grants row for {db}"
