"""(c) `plan` on a fresh repository lists the actions and changes nothing anywhere."""

import os

from checks import ddl_statements
from world import standard_layout

EXPECTED = ("create_secret", "create_role", "create_database")


def _fresh(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    world.gd.write_config()
    return lay


def _assert_nothing_changed(world, lay, mark):
    assert world.app_secret_names() == [], world.app_secret_names()
    roles, dbs = world.pg.roles(), world.pg.databases()
    for e in lay.entries:
        assert e.username not in roles, f"plan created role {e.username}"
        assert e.database not in dbs, f"plan created database {e.database}"
    for env in ("dev", "test"):
        assert not os.path.exists(world.gd.audit_path(env)), "plan wrote an audit file"
        assert not os.path.exists(world.gd.state_path(env)), "plan wrote a state file"
    ddl = ddl_statements(world.pg.log_text()[mark:])
    assert not ddl, "plan sent DDL:\n" + "\n".join(ddl[:20])


def test_plan_lists_actions_and_changes_nothing(world):
    lay = _fresh(world)
    mark = len(world.pg.log_text())
    r = world.gd.plan()
    assert r.rc == 0, r
    for action in EXPECTED + ("apply_grants",):
        assert action in r.out, f"plan output does not mention {action}:{r}"
    for e in lay.entries:
        assert e.username in r.out or e.key in r.out, f"plan does not mention {e.key}:{r}"
    _assert_nothing_changed(world, lay, mark)


def test_plan_detailed_exitcode_is_2_when_changes_pending(world):
    lay = _fresh(world)
    mark = len(world.pg.log_text())
    r = world.gd.plan("--detailed-exitcode")
    assert r.rc == 2, r
    _assert_nothing_changed(world, lay, mark)


def test_plan_json(world):
    lay = _fresh(world)
    mark = len(world.pg.log_text())
    r = world.gd.plan("--json")
    assert r.rc == 0, r
    doc = r.json()
    assert doc["format_version"] == 1, doc.keys()
    envs = {e["env"]: e for e in doc["environments"]}
    assert set(envs) == {"dev", "test"}, envs.keys()
    for env_name, env in envs.items():
        assert env["error"] is None, env
        assert env["changes"] > 0, env
        entries = {x["key"]: x for x in env["entries"]}
        for e in lay.env_entries(env_name):
            assert e.key in entries, f"{e.key} missing from plan: {sorted(entries)}"
            x = entries[e.key]
            assert x["database"] == e.database and x["username"] == e.username, x
            assert x["access"] == e.access, x
            assert x["held"] is False, x
            actions = [a["action"] for a in x["actions"]]
            for a in x["actions"]:
                assert a["why"] in ("new", "drift", "adopt", "check"), a
            assert "create_secret" in actions and "create_role" in actions, actions
            # DESIGN §2: secret, then role, then database, then privileges, then verify.
            assert actions.index("create_secret") < actions.index("create_role"), actions
            if e.access == "owner":
                assert "create_database" in actions, actions
                assert actions.index("create_role") < actions.index("create_database")
            if "verify_login" in actions:
                assert actions[-1] == "verify_login", actions
            assert all(a["why"] == "new" for a in x["actions"]
                       if a["action"].startswith("create_")), x["actions"]
    _assert_nothing_changed(world, lay, mark)


def test_plan_env_filter(world):
    _fresh(world)
    doc = world.gd.plan("--json", "--env", "test").json()
    assert [e["env"] for e in doc["environments"]] == ["test"]
