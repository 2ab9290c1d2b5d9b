"""Request contracts (docs/20-contracts/rds-requests/<env>/RDS-NNNN.yaml) as the third input:
an approval route holds a database until the catalog records every approval it needs;
invalid contracts hold only their own database and change nothing; a contract without tfvars
entry is reported, not an error for its environment."""

import os
import re

import pytest

from checks import assert_can_login, provision, snapshot
from daemon_helpers import daemon_config, daemons, role_exists, wait_until  # noqa: F401
from daemon_helpers import write_config
from world import standard_layout


def contract_path(env, n):
    return f"docs/20-contracts/rds-requests/{env}/RDS-{n:04d}.yaml"


def contract(n, env, database, username, risk="medium", extra=""):
    return (f"# request contract (tests)\n"
            f"id: RDS-{n:04d}\nservice: postgres\nenvironment: {env}\nowner: app-team\n"
            f"requester: test-runner\n"
            f"metadata:\n  title: \"{database}\"\n"
            f"spec:\n  databaseName: {database}\n  username: {username}\n  size: small\n"
            f"  domain: catalog\n  risk: {risk}\n{extra}")


def entries_by_key(doc, env):
    return {x["key"]: x for e in doc["environments"] if e["env"] == env for x in e["entries"]}


def assert_absent(world, entries):
    roles, dbs, secrets = world.pg.roles(), world.pg.databases(), world.app_secret_names()
    for e in entries:
        assert e.username not in roles, f"role {e.username} exists"
        assert e.database not in dbs, f"database {e.database} exists"
        assert e.secret_name not in secrets, f"secret {e.secret_name} exists"


def test_high_risk_contract_waits_for_security_team(world):
    lay = standard_layout(world.uid)
    inv = lay.owner_of(lay.env_entries("dev")[0])
    held = [e for e in lay.entries if e.database == inv.database]
    others = [e for e in lay.entries if e.database != inv.database]
    lay.catalog[inv.database]["metadata"].update(risk="high", approved_by="platform-team")
    world.repo.write(contract_path("dev", 1),
                     contract(1, "dev", inv.database, inv.username, risk="high"))
    provision(world, lay)

    assert_absent(world, held)
    for e in others:
        assert_can_login(world, e)
    status = entries_by_key(world.gd.status_json(), "dev")
    for e in held:
        x = status[e.key]
        assert x["state"] == "pending", x
        assert x["route"] == "security-approval" and x["approvals_missing"] == "security-team", x
        assert "security-team" in x["reason"] and "RDS-0001" in x["reason"], x
    text = world.gd.status("--env", "dev")
    assert re.search(rf"{re.escape(inv.key)} .*approval route security-approval.*"
                     r"lacks security-team", text.out), text
    plan = world.gd.plan("--json", "--env", "dev")
    assert plan.rc == 0, plan
    pe = {x["key"]: x for x in plan.json()["environments"][0]["entries"]}
    assert pe[inv.key]["hold"] == "needs_approval", pe[inv.key]
    assert pe[inv.key]["contract"] == "RDS-0001" and pe[inv.key]["route"] == "security-approval"
    assert pe[inv.key]["approvals_missing"] == "security-team", pe[inv.key]

    lay.catalog[inv.database]["metadata"]["approved_by"] = ["platform-team", "security-team"]
    world.repo.write_layout(lay)
    r = world.gd.once()
    assert r.rc == 0, r
    for e in held:
        assert_can_login(world, e)
    status = entries_by_key(world.gd.status_json(), "dev")
    assert status[inv.key]["state"] == "active", status[inv.key]
    assert status[inv.key]["route"] == "security-approval", status[inv.key]
    assert status[inv.key]["approvals_missing"] is None, status[inv.key]


def test_invalid_contracts_change_nothing(world):
    lay = standard_layout(world.uid)
    orders = lay.owner_of(next(e for e in lay.entries if e.database.startswith("orders_")))
    held = [e for e in lay.entries if e.database == orders.database]
    others = [e for e in lay.entries if e.database != orders.database]
    bad = contract(2, "dev", orders.database, orders.username,
                   extra="  storageGb: 5000\n  multiAz: \"false\"\n")
    world.repo.write(contract_path("dev", 2), bad)
    world.repo.write(contract_path("dev", 3), "id: RDS-0003\nspec: [unclosed\n")
    world.repo.write(contract_path("dev", 4),
                     contract(4, "dev", "Bad-Name; DROP", "x").replace("RDS-0004", "nope"))
    provision(world, lay, expect_rc=1)

    assert_absent(world, held)
    for e in others:
        assert_can_login(world, e)
    x = entries_by_key(world.gd.status_json(), "dev")[orders.key]
    assert x["state"] == "pending" and "RDS-0002.yaml is invalid" in x["reason"], x

    v = world.gd.run("validate")
    assert v.rc == 1, v
    path = contract_path("dev", 2)
    assert f"{path}:15:14: error: spec.storageGb 5000 must be at most 500" in v.out, v
    assert f"{path}:16:12: error: spec.multiAz must be a boolean" in v.out, v
    assert f"{contract_path('dev', 3)}:" in v.out, v
    assert f'{contract_path("dev", 4)}:2:5: error: id "nope"' in v.out, v
    gh = world.gd.run("validate", "--format=github")
    assert f"::error file={path},line=15,col=14::spec.storageGb 5000" in gh.out, gh

    # Fixed: provisioned. Broken again: held, and nothing it had is touched.
    world.repo.write(contract_path("dev", 2), contract(2, "dev", orders.database, orders.username))
    world.repo.commit("RDS-0002 fixed")
    r = world.gd.once()
    assert r.rc == 0, r.out + r.err
    for e in held:
        assert_can_login(world, e)
    before = snapshot(world, lay)
    world.repo.write(contract_path("dev", 2), bad)
    world.repo.commit("RDS-0002 broken")
    r = world.gd.once()
    assert r.rc == 1, r
    after = snapshot(world, lay)
    for part in ("versions", "secrets", "roles", "dbs"):
        assert after[part] == before[part], part
    for e in lay.entries:
        assert_can_login(world, e)


def test_contract_without_tfvars_is_reported(world):
    lay = standard_layout(world.uid)
    db, user = f"shipping_{world.uid}", f"ship_owner_{world.uid}"
    world.repo.write(contract_path("dev", 5), contract(5, "dev", db, user))
    provision(world, lay)

    for e in lay.entries:
        assert_can_login(world, e)
    assert db not in world.pg.databases() and user not in world.pg.roles()
    x = entries_by_key(world.gd.status_json(), "dev")[db]
    assert x["state"] == "pending" and x["reason"] == "no tfvars entry", x

    v = world.gd.run("validate")
    assert v.rc == 0, v
    assert re.search(rf"{re.escape(contract_path('dev', 5))}:\d+:\d+: warning: contract "
                     rf"RDS-0005 requests database \"{db}\" in dev, which no tfvars entry has",
                     v.out), v


def test_daemon_counts_the_wait_and_sees_new_contracts(world, daemons):
    """The daemon: entries held for a route are counted in the metrics by route and missing
    group; an approval (a catalog commit) releases them; a contract added to the directory
    is seen without a restart."""
    parser = pytest.importorskip("prometheus_client.parser",
                                 reason="pip install prometheus_client (requirements.txt)")
    lay = standard_layout(world.uid)
    inv = lay.owner_of(lay.env_entries("dev")[0])
    orders = lay.owner_of(next(e for e in lay.entries if e.database.startswith("orders_")))
    lay.catalog[inv.database]["metadata"].update(risk="high", approved_by="platform-team")
    world.repo.write(contract_path("dev", 1),
                     contract(1, "dev", inv.database, inv.username, risk="high"))
    world.repo.write_layout(lay)
    metrics = os.path.join(world.gd.workdir, "textfile", "gprdsd.prom")
    os.makedirs(os.path.dirname(metrics))
    d = daemons(write_config(world, daemon_config(world, metrics_file=metrics))).start()
    d.wait_ready()

    def sample(family, **labels):
        if not os.path.exists(metrics):
            return None
        for f in parser.text_string_to_metric_families(open(metrics).read()):
            for s in f.samples:
                if s.name == family and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        return None

    wait_until(lambda: role_exists(world.pg, orders.username) and
               sample("gprdsd_entries_awaiting_approval", env="dev",
                      route="security-approval") == 3, 60, what="the held entries counted")
    assert sample("gprdsd_approvals_missing", env="dev", group="security-team") == 3
    assert not role_exists(world.pg, inv.username)

    lay.catalog[inv.database]["metadata"]["approved_by"] = ["platform-team", "security-team"]
    world.repo.write_layout(lay)
    wait_until(lambda: role_exists(world.pg, inv.username) and
               sample("gprdsd_entries_awaiting_approval", env="dev",
                      route="security-approval") == 0, 60, what="the approval released")
    assert sample("gprdsd_approvals_missing", env="dev", group="security-team") == 0
    assert_can_login(world, inv)

    world.repo.write(contract_path("dev", 2),
                     contract(2, "dev", orders.database, orders.username))
    world.repo.commit("RDS-0002")

    def orders_route():
        x = entries_by_key(world.gd.status_json(), "dev").get(orders.key, {})
        return x.get("route") == "self-serve"
    wait_until(orders_route, 60, interval=0.2, what="the new contract's route in status")
    assert d.stop() == 0
