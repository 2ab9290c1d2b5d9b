"""(e) Hand-made drift, one test per kind: the next pass repairs it and audits the repair.

Every test runs with reconcile.verify_interval 0s, so each pass re-checks everything,
including credentials by login. Drift is made by the cluster's superuser, as an operator
with too much access would."""

import json

import pytest
from psycopg2 import sql

from checks import (assert_can_login, assert_database, assert_role, audit_since,
                    owner_creates_table, provision, run_sql)
from servers import MASTER_USER

VERIFY_EVERY_PASS = {"reconcile": {"verify_interval": "0s"}}


@pytest.fixture
def converged(world):
    lay, _, _ = provision(world, **VERIFY_EVERY_PASS)
    db = f"inventory_{world.uid}"
    owner_creates_table(world, lay, "dev", db)
    before = {env: world.gd.audit_rows(env) for env in ("dev", "test")}
    return world, lay, db, before


def repair_pass(world):
    r = world.gd.once()
    assert r.rc == 0, f"the repair pass failed:{r}"
    return r


def assert_repair_audited(world, before, env, username=None, database=None):
    new = audit_since(world, env, before[env])
    hits = [r for r in new if r["status"] == "success"
            and ((username and r["username"] == username)
                 or (database and r["database"] == database))]
    assert hits, f"no audit row for the repair of {username or database}; new rows: {new}"
    assert not [r for r in new if r["status"] == "error"], new


def q(ident):
    return sql.Identifier(ident)


@pytest.mark.parametrize("access,change,field,good", [
    ("editor", "CREATEROLE", "createrole", False),
    ("editor", "NOLOGIN", "login", True),
    ("owner", "NOCREATEDB", "createdb", True),
    ("editor", "CREATEDB", "createdb", False),
    ("reader", "CREATEDB", "createdb", False),
])
def test_role_attribute_repaired(converged, access, change, field, good):
    world, lay, db, before = converged
    e = lay.by_access("dev", db, access)
    world.pg.execute(sql.SQL("ALTER ROLE {} " + change).format(q(e.username)))
    assert world.pg.role(e.username)[field] is not good
    repair_pass(world)
    assert world.pg.role(e.username)[field] is good
    assert_role(world, e)
    assert_can_login(world, e)
    assert_repair_audited(world, before, "dev", username=e.username)


def test_public_connect_revoked_again(converged):
    world, lay, db, before = converged
    world.pg.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO PUBLIC").format(q(db)))
    assert ("PUBLIC", "CONNECT") in world.pg.database_acl(db)
    repair_pass(world)
    assert ("PUBLIC", "CONNECT") not in world.pg.database_acl(db)
    assert_database(world, lay, "dev", db)
    assert_repair_audited(world, before, "dev", database=db)


def test_entry_connect_regranted(converged):
    world, lay, db, before = converged
    e = lay.by_access("dev", db, "reader")
    world.pg.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM {}").format(q(db),
                                                                            q(e.username)))
    assert not world.can_login(e.username, world.secret(e.secret_name)["password"], db)
    repair_pass(world)
    assert_can_login(world, e)
    assert_repair_audited(world, before, "dev", username=e.username, database=db)


def test_reader_select_regranted(converged):
    world, lay, db, before = converged
    e = lay.by_access("dev", db, "reader")
    world.pg.execute(sql.SQL("REVOKE SELECT ON items FROM {}").format(q(e.username)),
                     dbname=db)
    c = world.login(e)
    with pytest.raises(Exception, match="permission denied"):
        run_sql(c, "SELECT count(*) FROM items")
    c.close()
    repair_pass(world)
    c = world.login(e)
    assert run_sql(c, "SELECT count(*) FROM items") == [(1,)]
    c.close()
    assert_repair_audited(world, before, "dev", username=e.username, database=db)


def test_database_owner_restored(converged):
    world, lay, db, before = converged
    owner = lay.by_access("dev", db, "owner")
    # A role the master can act for (on RDS the master is a member of every role it made),
    # so that the repair is possible without superuser.
    intruder = world.n("intruder")
    world.pg.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(q(intruder)))
    world.pg.execute(sql.SQL("GRANT {} TO {}").format(q(intruder), q(MASTER_USER)))
    world.pg.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(q(db), q(intruder)))
    assert world.pg.database(db)["owner"] == intruder
    repair_pass(world)
    assert world.pg.database(db)["owner"] == owner.username
    assert_database(world, lay, "dev", db)
    assert_repair_audited(world, before, "dev", database=db)


def test_password_changed_by_hand(converged):
    world, lay, db, before = converged
    e = lay.by_access("dev", db, "editor")
    s = world.secret(e.secret_name)
    world.pg.execute(sql.SQL("ALTER ROLE {} PASSWORD 'changed-by-hand'").format(
        q(e.username)))
    assert not world.can_login(e.username, s["password"], db)
    repair_pass(world)
    assert world.can_login(e.username, world.secret(e.secret_name)["password"], db)
    assert world.secret(e.secret_name)["password"] == s["password"], \
        "the repair should set the role from the secret, not replace the secret"
    assert not world.can_login(e.username, "changed-by-hand", db)
    assert_repair_audited(world, before, "dev", username=e.username)


def test_secret_json_corrected(converged):
    world, lay, db, before = converged
    e = lay.by_access("dev", db, "reader")
    s = world.secret(e.secret_name)
    damaged = {k: v for k, v in s.items() if k not in ("engine", "postgres-password")}
    damaged["port"] = int(s["port"])
    world.sm.put_secret_value(SecretId=e.secret_name, SecretString=json.dumps(damaged))
    repair_pass(world)
    fixed = world.secret(e.secret_name)
    assert fixed["engine"] == "postgres"
    assert fixed["port"] == s["port"]
    assert fixed["postgres-password"] == s["password"] == fixed["password"]
    assert_can_login(world, e)
    assert_repair_audited(world, before, "dev", username=e.username)


def test_dropped_role_recreated(converged):
    world, lay, db, before = converged
    e = lay.by_access("dev", db, "reader")
    password = world.secret(e.secret_name)["password"]
    world.pg.execute(sql.SQL("DROP OWNED BY {}").format(q(e.username)), dbname=db)
    world.pg.execute(sql.SQL("DROP ROLE {}").format(q(e.username)))
    assert world.pg.role(e.username) is None
    repair_pass(world)
    assert_role(world, e)
    assert world.secret(e.secret_name)["password"] == password
    assert world.can_login(e.username, password, db)
    c = world.login(e)
    assert run_sql(c, "SELECT count(*) FROM items") == [(1,)]
    c.close()
    assert_database(world, lay, "dev", db)
    assert_repair_audited(world, before, "dev", username=e.username)


def test_privilege_checks_follow_verify_interval(world):
    """In-database privileges cost a connection per database, so once an entry is active they
    are re-checked only every verify_interval (like credentials): with the default (12h) a
    revoke made right after a check waits; with 0s the next pass repairs it. The state file
    remembers when each entry's privileges were last checked."""
    lay, _, _ = provision(world)               # cold pass: the databases are new
    db = f"inventory_{world.uid}"
    owner_creates_table(world, lay, "dev", db)
    assert world.gd.once().rc == 0              # first check of the new databases' privileges
    e = lay.by_access("dev", db, "reader")
    state = json.load(open(f"{world.gd.state_dir}/dev.state.json"))
    rec = next(r for r in state["entries"] if r["key"] == e.key)
    assert rec["grants_checked_at"], rec
    world.pg.execute(sql.SQL("REVOKE SELECT ON items FROM {}").format(q(e.username)),
                     dbname=db)
    r = world.gd.plan("--env", "dev")
    assert r.rc == 0 and "apply_grants" not in r.out, r.out
    world.gd.write_config(**VERIFY_EVERY_PASS)
    r = world.gd.plan("--env", "dev")
    assert f"apply_grants {e.username} on {db} (drift)" in r.out, r.out
    repair_pass(world)
    c = world.login(e)
    assert run_sql(c, "SELECT count(*) FROM items") == [(1,)]
    c.close()


def test_reader_createdb_is_planned_then_repaired(converged):
    """Least privilege (DESIGN §3): an editor has NOCREATEDB; CREATEDB given to a reader by
    hand shows in plan as an alter_role repair, and the pass takes it away."""
    world, lay, db, before = converged
    assert not world.pg.role(lay.by_access("dev", db, "editor").username)["createdb"]
    e = lay.by_access("dev", db, "reader")
    assert not world.pg.role(e.username)["createdb"]
    world.pg.execute(sql.SQL("ALTER ROLE {} CREATEDB").format(q(e.username)))
    r = world.gd.plan("--env", "dev", "--detailed-exitcode")
    assert r.rc == 2, r
    assert f"alter_role {e.username} (drift): createdb is on" in r.out, r
    assert world.pg.role(e.username)["createdb"], "plan changed the role"
    repair_pass(world)
    assert_role(world, e)
    assert_repair_audited(world, before, "dev", username=e.username)


def test_verify_checks_now(world):
    """`--once --verify` (issue 12): an operator who changed a password by hand has it
    checked now, not at the next verify_interval. `plan --verify` shows the repair and
    changes nothing; a plain --once within the interval does not notice."""
    lay, _, _ = provision(world, reconcile={"verify_interval": "24h"})
    db = f"inventory_{world.uid}"
    assert world.gd.once().rc == 0           # the new databases' first privilege check
    e = lay.by_access("dev", db, "editor")
    password = world.secret(e.secret_name)["password"]
    world.pg.execute(sql.SQL("ALTER ROLE {} PASSWORD 'changed-by-hand'").format(
        q(e.username)))
    r = world.gd.plan("--env", "dev")
    assert r.rc == 0 and "set_password" not in r.out, r.out
    assert world.gd.once().rc == 0
    assert not world.can_login(e.username, password, db), "a plain --once checked the login"

    before = {"dev": world.gd.audit_rows("dev")}
    r = world.gd.plan("--env", "dev", "--verify", "--detailed-exitcode")
    assert r.rc == 2, r
    assert f"set_password {e.username} (drift)" in r.out, r.out
    assert not world.can_login(e.username, password, db), "plan --verify changed the role"
    assert world.gd.audit_rows("dev") == before["dev"], "plan --verify wrote audit rows"

    r = world.gd.once("--verify")
    assert r.rc == 0, r
    assert world.can_login(e.username, password, db)
    assert world.secret(e.secret_name)["password"] == password
    assert_repair_audited(world, before, "dev", username=e.username)
    r = world.gd.plan("--env", "dev", "--verify", "--detailed-exitcode")
    assert r.rc == 0, r
