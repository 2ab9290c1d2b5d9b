"""(h) Unreachable dependencies: the pass fails cleanly with exit 1 and a clear error, and
the next pass with the dependency back converges."""

import json
import re

from checks import assert_can_login
from servers import free_port
from world import standard_layout


def _layout(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    return lay


def _status(world):
    st = world.gd.status_json()
    return {x["key"]: x for env in st["environments"] for x in env["entries"]}


def test_postgres_unreachable_then_recovers(world):
    lay = _layout(world)
    closed = free_port()
    cfg = world.gd.config()
    for env in cfg["environments"].values():
        env["postgres"]["port"] = closed
    world.gd.write_config(cfg)
    r = world.gd.once()
    assert r.rc == 1, r
    assert re.search(r"(?i)connect|refused", r.err), r
    assert str(closed) in r.err or "127.0.0.1" in r.err, r
    roles = world.pg.roles()
    assert not any(e.username in roles for e in lay.entries)
    # The failure must be visible in `status`: either per entry (failed, with a reason) or,
    # when the environment as a whole could not be reconciled, on the environment.
    doc = world.gd.status_json()
    for env in doc["environments"]:
        if env["entries"]:
            for x in env["entries"]:
                assert x["state"] == "failed" and x["reason"], x
        else:
            assert any(env.get(k) for k in ("error", "last_error", "reason")), \
                f"status shows nothing about the failed pass of {env['env']}: {env}"

    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 0, f"after PostgreSQL came back the pass should converge:{r}"
    for e in lay.entries:
        assert_can_login(world, e)
    st = _status(world)
    assert all(st[e.key]["state"] == "active" for e in lay.entries), st


def test_secrets_manager_unreachable_then_recovers(world):
    lay = _layout(world)
    world.gd.write_config(aws={"endpoint": f"http://127.0.0.1:{free_port()}",
                               "timeout": "3s"})
    r = world.gd.once(timeout=180)
    assert r.rc == 1, r
    assert re.search(r"(?i)secrets ?manager|connect|refused|endpoint|couldn't|curl", r.err), r
    roles, dbs = world.pg.roles(), world.pg.databases()
    assert not any(e.username in roles or e.database in dbs for e in lay.entries)

    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 0, r
    for e in lay.entries:
        assert_can_login(world, e)


def test_missing_master_secret_is_env_error(world):
    lay = _layout(world)
    world.sm.delete_secret(SecretId="goldenpath/test/rds/master",
                           ForceDeleteWithoutRecovery=True)
    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 1, r
    assert "goldenpath/test/rds/master" in r.err, r
    roles = world.pg.roles()
    assert not any(e.username in roles for e in lay.env_entries("test"))
    for e in lay.env_entries("dev"):
        assert_can_login(world, e)


def test_wrong_master_password_is_env_error(world):
    lay = _layout(world)
    bad = dict(world.master_secret_value(), password="not-the-password")
    world.sm.put_secret_value(SecretId="goldenpath/dev/rds/master",
                              SecretString=json.dumps(bad))
    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 1, r
    assert re.search(r"(?i)authentication|password", r.err), r
    assert "not-the-password" not in r.err + r.out
    for e in lay.env_entries("test"):
        assert_can_login(world, e)
    world.sm.put_secret_value(SecretId="goldenpath/dev/rds/master",
                              SecretString=json.dumps(world.master_secret_value()))
    r = world.gd.once()
    assert r.rc == 0, r
    for e in lay.entries:
        assert_can_login(world, e)
