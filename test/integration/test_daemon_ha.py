"""Two daemons on one environment (same config, different state and audit dirs): exactly one
holds the advisory lock and acts; the other says standby (STATUS=, journal/log, `gprdsd
status`). kill -9 of the leader: the standby takes over within one interval and applies the
next change."""

import os
import signal
import time

from daemon_helpers import daemon_config, daemons, role_exists, wait_until, write_config  # noqa
from world import Entry, Layout, catalog_entry

INTERVAL = 2.0


def add_owner(world, lay, name):
    u = world.uid
    e = Entry("dev", f"{name}-{u}", f"{name}_{u}", f"{name}_own_{u}")
    lay.entries.append(e)
    lay.catalog[e.database] = catalog_entry("dev", e.database, e.username, key=e.key,
                                            status="approved")
    return e


def audit_keys(path):
    if not os.path.exists(path):
        return set()
    text = open(path).read()
    return {line.split(",")[4] for line in text.splitlines()[1:] if line.count(",") >= 9}


def test_two_daemons_one_leader_and_takeover(world, daemons):
    lay = Layout(modes={"dev": "standalone"})
    add_owner(world, lay, "first")
    world.repo.write_layout(lay)
    cfgs, ds = {}, {}
    for name in ("a", "b"):
        c = daemon_config(world, interval=f"{int(INTERVAL)}s", state=name)
        cfgs[name] = write_config(world, c, name=f"{name}.yaml")
        ds[name] = daemons(cfgs[name], name=name)
    for d in ds.values():  # both at once: they race for the lock
        d.start()
    status = {}
    for name, d in ds.items():
        d.wait_ready()
        status[name] = d.wait_status(30)[2]["STATUS"]
    print(f"\nSTATUS: {status}")
    leaders = [n for n, s in status.items() if "standby" not in s]
    standbys = [n for n, s in status.items() if "dev: standby" in s]
    assert len(leaders) == 1 and len(standbys) == 1, status
    lead, stand = ds[leaders[0]], ds[standbys[0]]
    assert "1 active" in status[leaders[0]]
    assert "leader: this gprdsd holds the environment's lock" in lead.log()
    assert "standby: another gprdsd holds the environment's lock" in stand.log()
    assert "leader:" not in stand.log()

    # `gprdsd status` of the standby says so.
    r = world.gd.run("status", "--json", config=cfgs[standbys[0]])
    assert r.rc == 0, r
    dev = next(e for e in r.json()["environments"] if e["env"] == "dev")
    assert (dev.get("daemon") or {}).get("role") == "standby", dev

    # A change: only the leader acts (its audit file has the rows, the standby's none).
    e = add_owner(world, lay, "second")
    world.repo.write_layout(lay)
    wait_until(lambda: role_exists(world.pg, e.username), 10, what="the leader applying")
    lead_audit = os.path.join(world.gd.workdir, leaders[0], "audit", "dev",
                              "rds_provision_audit.csv")
    stand_audit = os.path.join(world.gd.workdir, standbys[0], "audit", "dev",
                               "rds_provision_audit.csv")
    wait_until(lambda: e.database in audit_keys(lead_audit), 5, what="the leader's audit row")
    # Let the standby run a pass over the same commit before checking it did nothing.
    n0 = stand.notify.count()
    stand.wait_status(INTERVAL * 2 + 10, start=n0)
    assert audit_keys(stand_audit) == set()

    # kill -9 the leader: the standby takes over within one interval.
    n0 = stand.notify.count()
    t_kill = time.monotonic()
    os.kill(lead.pid, signal.SIGKILL)
    _, t_lead, f = stand.wait_status(INTERVAL * 2 + 10, start=n0,
                                     pred=lambda s: "standby" not in s and "2 active" in s)
    took = t_lead - t_kill
    print(f"kill -9 of the leader -> standby leads after {took:.2f}s (interval {INTERVAL}s): "
          f"{f['STATUS']}")
    assert took <= INTERVAL + 2.0, took
    assert "leader: this gprdsd holds the environment's lock" in stand.log()

    # ... and applies the next change.
    e3 = add_owner(world, lay, "third")
    world.repo.write_layout(lay)
    wait_until(lambda: role_exists(world.pg, e3.username), INTERVAL + 5,
               what="the new leader applying")
    wait_until(lambda: e3.database in audit_keys(stand_audit), 5, what="the new leader's audit")
    assert e3.database not in audit_keys(lead_audit)
    assert stand.stop() == 0


def test_standby_status_says_how_its_own_passes_went(world, daemons):
    """A host's state file keeps the error of its last saved pass. Once its daemon runs as a
    standby (which never saves the state), `gprdsd status` says how the daemon's own last
    pass went, not that old error."""
    lay = Layout(modes={"dev": "standalone"})
    add_owner(world, lay, "first")
    world.repo.write_layout(lay)
    cfg_a = daemon_config(world, interval=f"{int(INTERVAL)}s", state="a")
    cfg_b = daemon_config(world, interval=f"{int(INTERVAL)}s", state="b")
    path_a = write_config(world, cfg_a, name="a.yaml")
    path_b = write_config(world, cfg_b, name="b.yaml")
    # b's last saved pass failed: Secrets Manager did not answer.
    bad = dict(cfg_b, aws=dict(cfg_b["aws"], endpoint="http://127.0.0.1:9"))
    r = world.gd.run("--once", config=write_config(world, bad, name="b-bad.yaml"))
    assert r.rc == 1 and "cannot read the master secret" in r.err, r
    r = world.gd.run("status", config=path_b)
    assert "dev: the last pass could not reconcile it" in r.out, r

    lead = daemons(path_a, name="a")
    lead.start()
    lead.wait_ready()
    assert "dev: 1 active" in lead.wait_status(30)[2]["STATUS"]
    stand = daemons(path_b, name="b")
    stand.start()
    stand.wait_ready()
    assert "dev: standby" in stand.wait_status(30)[2]["STATUS"]

    r = world.gd.run("status", config=path_b)
    assert r.rc == 0, r
    assert "is standby" in r.out and "could not reconcile" not in r.out, r
    assert "error:" not in r.out, r
    r = world.gd.run("status", "--json", config=path_b)
    dev = next(e for e in r.json()["environments"] if e["env"] == "dev")
    assert dev["last_error"] is None, dev
    assert dev["daemon"]["role"] == "standby", dev
