#!/usr/bin/env bash
# bench/daemon_idle.sh [N] — the daemon at rest with N entries (default 1000).
#
# A harness that prints figures, not a timed test:
#   1. a fresh PostgreSQL 15 cluster and moto (the integration tests' servers.py), a checkout
#      with N owner entries (bench/gen_repo.py), the daemon at reconcile.interval 60s (10%
#      jitter, as shipped), awaited through NOTIFY_SOCKET;
#   2. the cold pass (all N provisioned);
#   3. idle: CPU (utime+stime of the process, all threads, from /proc) over IDLE_SECONDS
#      (default 600) of no-op passes, extrapolated to an hour; RSS now and its peak;
#   4. the credential check: one pass that logs in as every entry (what
#      reconcile.verify_interval costs once per interval; the daemon runs with the shipped
#      default, VERIFY_HOURS must match it: 12), forced by a reload with verify_interval 1s and
#      measured on its own, then added to the hourly CPU as 1/VERIFY_HOURS of it;
#   5. commit-to-applied latency: LATENCY_CHANGES (20) commits, each adding one entry, timed
#      from the commit to the role being visible in PostgreSQL (psycopg2 polling); median.
# Then PASS/FAIL against the targets: RSS < 16 MiB, CPU < 2 s/hour, latency < 2 s.
#
# Knobs: GPRDSD (binary, default build-dmn/daemon/gprdsd), BENCH_VENV (default /tmp/venv),
# IDLE_SECONDS, LATENCY_CHANGES, VERIFY_HOURS (12), BENCH_KEEP=1 (keep the work directory).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export GPRDSD=${GPRDSD:-$ROOT/build-dmn/daemon/gprdsd}
VENV=${BENCH_VENV:-/tmp/venv}
export BENCH_N=${1:-1000}
export IDLE_SECONDS=${IDLE_SECONDS:-600}
export LATENCY_CHANGES=${LATENCY_CHANGES:-20}
export VERIFY_HOURS=${VERIFY_HOURS:-12}
export GPRDSD_SRC=$ROOT
[ -x "$GPRDSD" ] || { echo "bench: $GPRDSD missing (ninja -C build-dmn)" >&2; exit 2; }
[ -x "$VENV/bin/python" ] || { echo "bench: no venv at $VENV" >&2; exit 2; }

exec "$VENV/bin/python" - "$HERE" "$ROOT/test/integration" <<'PY'
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path[:0] = [sys.argv[1], sys.argv[2]]
import gen_repo  # noqa: E402
from daemon_helpers import Daemon, role_exists, wait_until  # noqa: E402
from servers import AWS_ENV, MASTER_USER, MotoServer, start_cluster  # noqa: E402
from world import Gprdsd, Repo, to_yaml  # noqa: E402

import boto3  # noqa: E402

N = int(os.environ["BENCH_N"])
IDLE = float(os.environ["IDLE_SECONDS"])
CHANGES = int(os.environ["LATENCY_CHANGES"])
VERIFY_HOURS = float(os.environ["VERIFY_HOURS"])
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def mem_kib(pid):
    """VmRSS (= RssAnon + RssFile: shared libraries count in full), VmHWM, and Pss (shared
    pages divided among the processes that map them) in KiB."""
    out = {}
    for path, keys in ((f"/proc/{pid}/status", ("VmRSS", "VmHWM", "RssAnon", "RssFile")),
                       (f"/proc/{pid}/smaps_rollup", ("Pss",))):
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    out[k] = int(v.split()[0])
    return out


work = tempfile.mkdtemp(prefix="gprdsd-idle-", dir="/tmp")
os.chmod(work, 0o755)
pg = moto = d = None
try:
    pg = start_cluster("idle")
    moto = MotoServer()
    moto.start()
    sm = boto3.client("secretsmanager", endpoint_url=moto.url,
                      region_name=AWS_ENV["AWS_DEFAULT_REGION"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    sm.create_secret(Name="goldenpath/dev/rds/master", SecretString=json.dumps({
        "host": "127.0.0.1", "port": str(pg.port), "username": MASTER_USER,
        "password": pg.master_password, "dbname": "postgres", "engine": "postgres"}))
    repo = Repo(os.path.join(work, "repo"))
    gen_repo.gen_repo(repo.path, N)
    repo.commit(f"{N} entries")
    gd = Gprdsd(os.environ["GPRDSD"], os.path.join(work, "run"), repo, pg, moto.url)
    os.makedirs(gd.workdir, exist_ok=True)

    def config(verify=None):  # None: the shipped default verify_interval
        c = gd.config(envs=("dev",))
        c["reconcile"] = {"interval": "60s", "jitter": "10%"}
        if verify:
            c["reconcile"]["verify_interval"] = verify
        c["aws"]["write_interval"] = "0ms"  # moto has no write quota
        c["metrics_file"] = os.path.join(gd.workdir, "gprdsd.prom")
        c["environments"]["dev"]["postgres"]["statement_timeout"] = "60s"
        with open(gd.config_path, "w") as f:
            f.write(to_yaml(c))

    config()
    d = Daemon(gd, gd.config_path, name="gprdsd").start()
    d.wait_ready(60)
    t0 = time.monotonic()
    i, t1, f = d.wait_status(3600, pred=lambda s: f"{N} active" in s)
    cold = t1 - t0
    cpu_cold = cpu_seconds(d.pid)
    say(f"cold pass: {N} entries in {cold:.1f}s ({cpu_cold:.2f}s CPU); {f['STATUS']}")

    # Idle: no-op passes on the 60s interval.
    n0 = d.notify.count()
    c0, m0, w0 = cpu_seconds(d.pid), mem_kib(d.pid), time.monotonic()
    say(f"idle for {IDLE:.0f}s ...")
    time.sleep(IDLE)  # the measurement window itself, not a readiness wait
    c1, m1, w1 = cpu_seconds(d.pid), mem_kib(d.pid), time.monotonic()
    passes = sum(1 for _, s in d.notify.all("STATUS", n0) if "last pass" in s)
    idle_rate = (c1 - c0) / (w1 - w0) * 3600
    per_pass = (c1 - c0) / passes if passes else float("nan")

    # The hourly credential check, measured alone.
    config(verify="1s")
    n0 = d.notify.count()
    cv0, tv0 = cpu_seconds(d.pid), time.monotonic()
    d.signal(signal.SIGHUP)
    i, tv1, _ = d.wait_status(1800, start=n0)
    verify_cpu, verify_wall = cpu_seconds(d.pid) - cv0, tv1 - tv0
    config()
    n0 = d.notify.count()
    d.signal(signal.SIGHUP)
    d.wait_status(600, start=n0)
    verify_rate = verify_cpu / VERIFY_HOURS
    hourly = idle_rate + verify_rate
    say(f"idle: {passes} passes in {w1 - w0:.0f}s, {c1 - c0:.2f}s CPU ({per_pass:.3f}s/pass) "
        f"-> {idle_rate:.2f}s/hour; login check of {N} entries: {verify_cpu:.2f}s CPU "
        f"({verify_wall:.1f}s wall)")

    # Commit-to-applied latency.
    lat = []
    for k in range(CHANGES):
        key, db, user = f"lat-{k:03d}", f"lat_db_{k:03d}", f"lat_user_{k:03d}"
        tf = os.path.join(repo.path, "envs/dev-rds/terraform.tfvars")
        text = open(tf).read().rstrip()
        assert text.endswith("}")
        text = (text[:-1] + f'  "{key}" = {{\n    database_name = "{db}"\n'
                f'    username      = "{user}"\n    access_level  = "owner"\n  }}\n}}\n')
        cat = os.path.join(repo.path, "docs/20-contracts/resource-catalogs/rds-catalog.yaml")
        with open(cat, "a") as fh:
            fh.write(f"  {db}:\n    metadata:\n      id: DATABASE_{db.upper()}\n"
                     f"      owner: app-team\n      requested_by: bench\n      domain: catalog\n"
                     f"      risk: medium\n      environment: dev\n      status: approved\n"
                     f'      created_date: "2026-01-15"\n    configuration:\n'
                     f"      username: {user}\n      size_tier: small\n"
                     f"      instance_class: db.t3.micro\n"
                     f"      secret_path: goldenpath/dev/{key}/postgres\n")
        with open(tf, "w") as fh:
            fh.write(text)
        repo.commit(f"add {key}")
        tc = time.monotonic()
        wait_until(lambda: role_exists(pg, user), 120, 0.01, what=f"role {user}")
        lat.append(time.monotonic() - tc)
        # Let that change's passes finish before the next one (each change stands alone).
        n0 = d.notify.count()
        d.wait_status(120, pred=lambda s: f"{N + k + 1} active" in s)
    m2 = mem_kib(d.pid)
    assert d.stop(120) == 0

    med = statistics.median(lat)
    rss = max(m1["VmRSS"], m0["VmRSS"]) / 1024
    rows = [
        ("entries", f"{N}"),
        ("cold pass", f"{cold:.1f} s wall, {cpu_cold:.2f} s CPU"),
        ("idle no-op pass", f"{per_pass:.3f} s CPU each ({passes} in {w1 - w0:.0f} s)"),
        ("idle RSS", f"{rss:.1f} MiB = {m1['RssAnon'] / 1024:.1f} anon + "
                     f"{m1['RssFile'] / 1024:.1f} file (shared libraries); PSS "
                     f"{m1['Pss'] / 1024:.1f} MiB; peak {m2['VmHWM'] / 1024:.1f} MiB "
                     f"(cold pass)"),
        ("idle CPU", f"{idle_rate:.2f} s/hour from no-op passes"),
        ("login check", f"{verify_cpu:.2f} s CPU, {verify_wall:.1f} s wall, every "
                        f"{VERIFY_HOURS:g} h: {verify_rate:.2f} s/hour"),
        ("CPU per hour", f"{hourly:.2f} s/hour (idle + 1/{VERIFY_HOURS:g} login check)"),
        ("commit->applied", f"median {med:.3f} s, min {min(lat):.3f}, max {max(lat):.3f} "
                            f"({len(lat)} changes)"),
    ]
    print()
    for k, v in rows:
        print(f"{k:<20} {v}")
    print()
    ok = True
    for name, val, target, unit in (("RSS", rss, 16, "MiB"), ("CPU/hour", hourly, 2, "s"),
                                    ("latency", med, 2, "s")):
        res = "PASS" if val < target else "FAIL"
        ok &= res == "PASS"
        print(f"{res} {name} {val:.2f} {unit} (target < {target} {unit})")
    sys.exit(0 if ok else 1)
finally:
    if d:
        d.close()
    if moto:
        moto.stop()
    if pg:
        pg.destroy()
    if os.environ.get("BENCH_KEEP") != "1":
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"kept {work}")
PY
