"""kill -9 of `gprdsd --once` at many points of a pass, each followed by a run that must
converge. The points are requests, not times: a relay (relay.py) between gprdsd and the real
PostgreSQL or moto counts the statements or Secrets Manager calls and kills the process as
the K-th one passes, so every point is hit the same way on every run.

After each crash and the converging run, the outcome is checked from outside: every entry's
secret logs in as its role to its database, no secret has more than one AWSCURRENT or a left
over AWSPENDING, no version was written twice, and every audit CSV parses."""

import os
import signal

import pytest

from checks import assert_can_login, provision
from relay import Relay
from test_decommission import decommission, dev_config, scheduled_for_deletion, three_databases
from test_rotation import labels, layout as rotation_layout, run_shifted
from world import FAKETIME_LIB, standard_layout


def _run_killed(world, kind, k, shift=None, envs=None, over=None):
    """Runs `--once` with PostgreSQL or Secrets Manager behind a relay that kills the process
    with SIGKILL as the k-th request passes; returns the relay's request count (the pass's
    whole count when it ended before k). over: the configuration's other overrides."""
    relay = Relay(world.pg.port if kind == "pg" else world.gd.moto_port,
                  protocol="pg" if kind == "pg" else "http")
    _via(world, relay, kind, envs, over)
    box = {}

    def at(n):
        p = box.get("p")
        if n == k and p and p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            box["killed"] = True
    relay.on_request = at
    box["p"] = world.gd.start("--once", shift=shift)
    try:
        box["p"].wait(timeout=120)
    finally:
        if box["p"].poll() is None:
            box["p"].kill()
            box["p"].wait()
        relay.close()
        world.gd.write_config(envs=envs, **(over or {}))
    assert box.get("killed"), \
        f"the pass made {relay.requests} {kind} requests, fewer than {k}: move the point"
    return relay.requests


def _via(world, relay, kind, envs=None, over=None):
    cfg = world.gd.config(envs=envs, **(over or {}))
    if kind == "pg":
        for env in cfg["environments"].values():
            env["postgres"]["port"] = relay.port
    else:
        cfg["aws"]["endpoint"] = f"http://127.0.0.1:{relay.port}"
    world.gd.write_config(cfg)


def _assert_sound(world, entries, max_versions):
    for e in entries:
        assert_can_login(world, e)
        vs = world.secret_versions(e.secret_name)
        lab = labels(world, e.secret_name)
        assert "AWSPENDING" not in lab, (e.key, vs)
        assert sum("AWSCURRENT" in st for _, st in vs) == 1, (e.key, vs)
        assert len(vs) <= max_versions, f"{e.key}: a version was written twice: {vs}"
    for env in {e.env for e in entries}:
        rows = world.gd.audit_rows(env)      # asserts the header
        assert all(len(r) == 10 and None not in r for r in rows), env


# Points across a cold pass of the standard layout (8 entries, 2 environments): 90
# statements and 12 Secrets Manager calls (every one of them).
ROT_PG = range(1, 9)     # all 8 statements of the pass
ROT_SM = range(1, 10)    # all 9 calls
COLD_POINTS = [("pg", k) for k in (2, 5, 9, 14, 20, 28, 37, 48, 62, 80, 90)] + \
              [("sm", k) for k in range(1, 13)]


@pytest.mark.parametrize("kind,k", COLD_POINTS, ids=[f"{a}{b}" for a, b in COLD_POINTS])
def test_kill_during_cold_pass_then_converge(world, kind, k):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    _run_killed(world, kind, k)
    r = world.gd.once()
    assert r.rc == 0, f"the run after kill -9 at {kind} request {k} did not converge:{r}"
    _assert_sound(world, lay.entries, max_versions=1)
    r = world.gd.once()
    assert r.rc == 0 and r.out.count(" 0 changes applied, 0 errors") == 2, r


# A rotation pass of the rotation layout (one entry due under a clock moved 15 days): the
# points span its observation and the rotation's four steps.
ROTATION_POINTS = [("pg", k) for k in ROT_PG] + [("sm", k) for k in ROT_SM]


@pytest.mark.parametrize("kind,k", ROTATION_POINTS, ids=[f"{a}{b}" for a, b in ROTATION_POINTS])
def test_kill_during_rotation_then_converge(world, kind, k):
    if not os.path.exists(FAKETIME_LIB):
        pytest.fail("libfaketime is missing: scripts/install-deps.sh installs it")
    lay, hi, rd, med = rotation_layout(world)
    world.repo.write_layout(lay)
    world.gd.write_config(envs=("dev",))
    assert world.gd.once().rc == 0
    before = len(world.secret_versions(hi.secret_name))
    _run_killed(world, kind, k, shift="+15d", envs=("dev",))
    rc, out, err = run_shifted(world, "+15d", "--once")
    assert rc == 0, out + err
    # Exactly one new version: written by the killed pass and found by the next, or written
    # by the next when the kill came first; never two.
    assert len(world.secret_versions(hi.secret_name)) == before + 1, \
        world.secret_versions(hi.secret_name)
    _assert_sound(world, [hi, rd, med], max_versions=before + 1)


# A confirmed decommission of one database (owner, editor, reader) among three: 24
# statements and 5 Secrets Manager calls, every one of them a point.
DECOMMISSION_POINTS = [("pg", k) for k in range(1, 25)] + [("sm", k) for k in range(1, 6)]


@pytest.mark.parametrize("kind,k", DECOMMISSION_POINTS,
                         ids=[f"{a}{b}" for a, b in DECOMMISSION_POINTS])
def test_kill_during_decommission_then_converge(world, kind, k):
    lay, a, b, c = three_databases(world)
    over = dev_config(world)
    provision(world, lay, **over)
    decommission(lay, a[0].database)
    world.repo.write_layout(lay)
    envs = over.pop("envs")
    _run_killed(world, kind, k, envs=envs, over=over)
    r = world.gd.once()
    assert r.rc == 0, f"the run after kill -9 at {kind} request {k} did not converge:{r}"
    assert a[0].database not in world.pg.databases()
    for e in a:
        assert world.pg.role(e.username) is None, e.username
        assert scheduled_for_deletion(world, e.secret_name), e.secret_name
    _assert_sound(world, [b, c], max_versions=1)
    st = {x["key"]: x for x in world.gd.status_json()["environments"][0]["entries"]}
    assert all(st[e.key]["state"] == "decommissioned" for e in a), st
    r = world.gd.once()
    assert r.rc == 0 and " 0 changes applied, 0 errors" in r.out, r
