"""The plan is the whole truth: `gprdsd plan` shows every change that the next `--once`
makes, including the repairs that only a check finds (a password changed by hand: the login
fails; a privilege revoked inside a database), and the apply step makes those changes and
no others. Each test compares the plan's changes with the audit rows of the pass that
follows, action for action, and checks the outcome with independent clients."""

import collections

from psycopg2 import sql

from checks import assert_can_login, audit_since, owner_creates_table, provision, run_sql

VERIFY_EVERY_PASS = {"reconcile": {"verify_interval": "0s"}}


def planned_changes(world, env):
    """The `+` lines of the text plan (one per change) and the JSON plan's change actions."""
    text = world.gd.plan("--env", env)
    assert text.rc == 0, text
    lines = [ln.strip()[2:] for ln in text.out.splitlines() if ln.strip().startswith("+ ")]
    doc = world.gd.plan("--json", "--env", env).json()
    (envdoc,) = doc["environments"]
    actions = [(x["username"], a["action"], a["why"]) for x in envdoc["entries"]
               for a in x["actions"] if a["why"] != "check"]
    assert len(actions) == len(lines), (lines, actions)
    return lines, actions


def applied_changes(world, env, before):
    """What the audit of the last pass says was changed: one row per successful change
    (transitions and login checks are not changes)."""
    rows = audit_since(world, env, before)
    assert not [r for r in rows if r["status"] == "error"], rows
    return [r["message"] for r in rows
            if r["status"] == "success" and r["action"] not in ("transition", "verify_login")]


def converged(world):
    lay, _, _ = provision(world, **VERIFY_EVERY_PASS)
    db = f"inventory_{world.uid}"
    owner_creates_table(world, lay, "dev", db)
    assert world.gd.once().rc == 0  # the new database's privileges checked once
    return lay, db


def assert_plan_is_applied(world, env):
    lines, actions = planned_changes(world, env)
    before = world.gd.audit_rows(env)
    r = world.gd.once("--env", env)
    assert r.rc == 0, r
    applied = applied_changes(world, env, before)
    assert collections.Counter(applied) == collections.Counter(lines), \
        f"plan said:\n  " + "\n  ".join(lines) + "\npass did:\n  " + "\n  ".join(applied)
    # And the pass after it has nothing left to do.
    again, _ = planned_changes(world, env)
    assert again == [], again
    return actions


def test_password_drift_is_planned_and_applied(world):
    lay, db = converged(world)
    e = lay.by_access("dev", db, "editor")
    world.pg.execute(sql.SQL("ALTER ROLE {} PASSWORD 'changed-by-hand'").format(
        sql.Identifier(e.username)))
    actions = assert_plan_is_applied(world, "dev")
    assert (e.username, "set_password", "drift") in actions, actions
    assert [a for a in actions if a[0] == e.username] == \
        [(e.username, "set_password", "drift")], actions
    assert_can_login(world, e)
    assert not world.can_login(e.username, "changed-by-hand", db)


def test_privilege_drift_is_planned_and_applied(world):
    lay, db = converged(world)
    e = lay.by_access("dev", db, "reader")
    world.pg.execute(sql.SQL("REVOKE SELECT ON items FROM {}").format(
        sql.Identifier(e.username)), dbname=db)
    world.pg.execute(sql.SQL("REVOKE USAGE ON SCHEMA public FROM {}").format(
        sql.Identifier(e.username)), dbname=db)
    actions = assert_plan_is_applied(world, "dev")
    assert actions == [(e.username, "apply_grants", "drift")], actions
    c = world.login(e)
    assert run_sql(c, "SELECT count(*) FROM items") == [(1,)]
    c.close()


def test_plan_changes_nothing_and_checks_read_only(world):
    """The plan's login checks are reads: planning twice shows the same repair, and the
    password stays as the operator left it until a pass applies the plan."""
    lay, db = converged(world)
    e = lay.by_access("dev", db, "reader")
    world.pg.execute(sql.SQL("ALTER ROLE {} PASSWORD 'changed-by-hand'").format(
        sql.Identifier(e.username)))
    first, _ = planned_changes(world, "dev")
    second, _ = planned_changes(world, "dev")
    assert first == second and any(x.startswith(f"set_password {e.username} (drift)")
                                   for x in first), first
    assert world.can_login(e.username, "changed-by-hand", db)
