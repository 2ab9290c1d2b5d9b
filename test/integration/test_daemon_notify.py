"""The daemon and systemd: READY=1, STATUS=, WATCHDOG=1 cadence, RELOADING=1/READY=1 on SIGHUP,
STOPPING=1 on SIGTERM (all seen on a NOTIFY_SOCKET the test binds); the metrics file parsed
by prometheus_client's parser; `gprdsd status --json` and the runtime file while the daemon
runs."""

import json
import os
import re
import signal
import statistics
import time

import pytest

from daemon_helpers import daemon_config, daemons, write_config  # noqa: F401
from world import standard_layout

STATUS_ENV = re.compile(r"(?P<env>\w+): (?P<active>\d+) active, (?P<pending>\d+) pending, "
                        r"(?P<failed>\d+) failed")


def env_counts(status):
    return {m["env"]: (int(m["active"]), int(m["pending"]), int(m["failed"]))
            for m in STATUS_ENV.finditer(status)}


def both_converged(lay):
    want = {env: sum(1 for e in lay.entries if e.env == env) for env in ("dev", "test")}

    def pred(status):
        c = env_counts(status)
        return all(c.get(env, (0,))[0] == n for env, n in want.items())
    return pred


def test_ready_status_watchdog_reload_stopping(world, daemons):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    cfg = write_config(world, daemon_config(world, envs=("dev", "test")))
    d = daemons(cfg, watchdog_usec=2_000_000).start()

    # READY=1 once the config is loaded and the loop runs.
    i_ready, t_ready, _ = d.wait_ready()
    # STATUS= after the first passes: per environment, counts of active/pending/failed.
    _, _, f = d.wait_status(60, start=i_ready, pred=both_converged(lay))
    counts = env_counts(f["STATUS"])
    assert counts == {"dev": (5, 0, 0), "test": (3, 0, 0)}, f["STATUS"]
    # A time, not an age: STATUS= is sent after passes only, so an age would freeze.
    assert re.search(r"last pass \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f["STATUS"]), f["STATUS"]
    print(f"\nSTATUS={f['STATUS']}")

    # WATCHDOG=1 at about half of WATCHDOG_USEC (2 s -> every 1 s).
    n0 = d.notify.count()
    for _ in range(5):
        n0 = d.notify.wait_key("WATCHDOG", 10, start=n0, value="1")[0] + 1
    pings = [t for t, v in d.notify.all("WATCHDOG") if v == "1"]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    med = statistics.median(gaps[-4:])
    print(f"WATCHDOG=1 gaps: {[round(g, 3) for g in gaps]} (median {med:.3f}s)")
    assert 0.75 <= med <= 1.25, gaps
    assert max(gaps) < 2.0, f"a ping came later than WATCHDOG_USEC: {gaps}"

    # SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1, then a pass.
    n0 = d.notify.count()
    before = time.clock_gettime(time.CLOCK_MONOTONIC)
    d.signal(signal.SIGHUP)
    i_rl, _, f = d.notify.wait_key("RELOADING", 10, start=n0, value="1")
    after = time.clock_gettime(time.CLOCK_MONOTONIC)
    assert "MONOTONIC_USEC" in f, f
    mono = int(f["MONOTONIC_USEC"]) / 1e6
    assert before - 0.01 <= mono <= after + 0.01, (before, mono, after)
    i_r2, _, _ = d.notify.wait_key("READY", 10, start=i_rl + 1, value="1")
    d.wait_status(30, start=i_r2 + 1, pred=both_converged(lay))
    assert d.running()

    # SIGTERM: STOPPING=1, exit 0.
    n0 = d.notify.count()
    d.signal(signal.SIGTERM)
    d.notify.wait_key("STOPPING", 10, start=n0, value="1")
    assert d.wait_exit(30) == 0, d.log()[-3000:]


def test_no_watchdog_pings_for_another_pid(world, daemons):
    """sd_watchdog_enabled(3): WATCHDOG_PID names the watched process; a daemon that is not
    that process must not ping."""
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    cfg = write_config(world, daemon_config(world, envs=("dev",)))
    d = daemons(cfg, extra_env={"WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"}).start()
    d.wait_ready()
    i, _, _ = d.wait_status(60)
    # At 0.2 s per ping, a second of status updates would carry five; SIGHUP gives a marker.
    d.signal(signal.SIGHUP)
    d.wait_status(30, start=i + 1)
    assert d.notify.all("WATCHDOG") == []
    assert d.stop() == 0


def test_metrics_file_parses_as_prometheus_text(world, daemons):
    parser = pytest.importorskip("prometheus_client.parser",
                                 reason="pip install prometheus_client (requirements.txt)")
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    metrics = os.path.join(world.gd.workdir, "textfile", "gprdsd.prom")
    os.makedirs(os.path.dirname(metrics))
    cfg = write_config(world, daemon_config(world, envs=("dev", "test"),
                                            metrics_file=metrics))
    d = daemons(cfg).start()
    d.wait_ready()
    d.wait_status(60, pred=both_converged(lay))
    text = open(metrics).read()
    families = {f.name: f for f in parser.text_string_to_metric_families(text)}
    print(f"\n{len(families)} metric families: {sorted(families)}")

    def value(family, **labels):
        for s in families[family].samples:
            if all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
        raise AssertionError(f"no sample {family}{labels} in:\n{text}")

    assert families["gprdsd_entries"].type == "gauge"
    assert value("gprdsd_entries", env="dev", state="active") == 5
    assert value("gprdsd_entries", env="test", state="active") == 3
    assert value("gprdsd_entries", env="dev", state="failed") == 0
    assert value("gprdsd_leader", env="dev") == 1
    # Counters: prometheus_client names the family without _total.
    assert families["gprdsd_passes"].type == "counter"
    assert value("gprdsd_passes", env="dev", result="ok") >= 1
    assert value("gprdsd_actions", env="dev") > 0
    # Error counters have a series at 0 before the first error.
    assert families["gprdsd_action_errors"].type == "counter"
    for code in ("internal", "pg_connection", "aws_transport"):
        assert value("gprdsd_action_errors", env="dev", code=code) == 0
    # SQLSTATEs and AWS codes cannot be listed in advance: the code-less total is there at 0.
    assert families["gprdsd_failed_actions"].type == "counter"
    assert value("gprdsd_failed_actions", env="dev") == 0
    assert value("gprdsd_passes", env="dev", result="error") == 0
    assert value("gprdsd_secret_rotations", env="dev", result="error") == 0
    assert value("gprdsd_secretsmanager_calls", env="dev") > 0
    assert abs(value("gprdsd_last_success_timestamp_seconds", env="dev") - time.time()) < 120
    assert value("gprdsd_pass_duration_seconds", env="dev") > 0
    for e in lay.entries:
        assert value("gprdsd_secret_last_changed_timestamp_seconds", env=e.env,
                     key=e.key) > 0
    assert value("gprdsd_secret_rotations_overdue", env="dev") == 0
    # Written atomically: no temp files left next to it.
    assert os.listdir(os.path.dirname(metrics)) == ["gprdsd.prom"]
    assert d.stop() == 0


def test_status_json_while_the_daemon_runs(world, daemons):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    cfg = write_config(world, daemon_config(world, envs=("dev", "test")))
    d = daemons(cfg).start()
    d.wait_ready()
    # Written before READY=1, so status knows the daemon during a long first pass.
    rt = json.load(open(os.path.join(world.gd.state_dir, "runtime.json")))
    assert rt["pid"] == d.pid and rt["state"] == "running", rt
    assert {x["env"] for x in rt["environments"]} == {"dev", "test"}, rt
    d.wait_status(60, pred=both_converged(lay))

    r = world.gd.run("status", "--json", config=cfg)
    assert r.rc == 0, r
    doc = r.json()
    got = {(env["env"], x["key"]): x for env in doc["environments"] for x in env["entries"]}
    for e in lay.entries:
        x = got.get((e.env, e.key))
        assert x is not None, f"{e.env}/{e.key} missing from status --json: {sorted(got)}"
        assert x["state"] == "active" and x["database"] == e.database, x
        assert x["username"] == e.username, x
    # The daemon's role per environment, from <state_dir>/runtime.json.
    rt = json.load(open(os.path.join(world.gd.state_dir, "runtime.json")))
    assert rt["pid"] == d.pid and rt["state"] == "running", rt
    assert {x["env"]: x["role"] for x in rt["environments"]} == {"dev": "leader",
                                                                   "test": "leader"}
    by_env = {env["env"]: env for env in doc["environments"]}
    for env in ("dev", "test"):
        daemon = by_env[env].get("daemon")
        assert daemon and daemon.get("role") == "leader", by_env[env]
    text = world.gd.run("status", config=cfg)
    assert text.rc == 0 and "leader" in text.out, text

    assert d.stop() == 0
    rt = json.load(open(os.path.join(world.gd.state_dir, "runtime.json")))
    assert rt["state"] == "stopped", rt
