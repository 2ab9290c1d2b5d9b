"""scripts/demo.sh, the README's first command, with GPRDSD_DEMO_KEEP=1: it ends well, leaves
PostgreSQL and moto running with its data, and the commands it prints work against them; the
stop script it leaves stops both and removes the directory."""

import os
import re
import socket
import subprocess
from pathlib import Path

SRC = Path(os.environ.get("GPRDSD_SRC") or Path(__file__).resolve().parents[2])


def listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def sh(demo, cmd):
    return subprocess.run(["bash", "-c", f". {demo}/env.sh && {cmd}"], capture_output=True,
                          text=True, timeout=120)


def test_demo_keep_can_be_continued(gprdsd_bin):
    env = dict(os.environ, GPRDSD_DEMO_KEEP="1",
               GPRDSD_BUILD_DIR=str(Path(gprdsd_bin).resolve().parents[1]))
    r = subprocess.run(["bash", str(SRC / "scripts" / "demo.sh")], capture_output=True,
                       text=True, cwd=SRC, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    m = re.search(r"kept: PostgreSQL on 127\.0\.0\.1:(\d+) and moto on http://127\.0\.0\.1:(\d+)",
                  r.stdout)
    assert m, r.stdout[-2000:]
    pg_port, moto_port = int(m.group(1)), int(m.group(2))
    demo = re.search(r"^\. (\S+)/env\.sh", r.stdout, re.M).group(1)
    try:
        assert listening(pg_port) and listening(moto_port)
        # The commands it printed, as printed.
        st = sh(demo, "gprdsd status")
        assert st.returncode == 0, st.stdout + st.stderr
        assert re.search(r"^dev +payments_ledger +payments_ledger +ledger_user +active", st.stdout,
                         re.M), st.stdout
        plan = sh(demo, "gprdsd plan --detailed-exitcode")
        assert plan.returncode == 0, plan.stdout + plan.stderr
        rot = sh(demo, "gprdsd rotate --env dev payments_ledger")
        assert rot.returncode == 0 and "dev/payments_ledger: rotated" in rot.stdout, \
            rot.stdout + rot.stderr
        q = sh(demo, "psql -XAtc \"select rolname from pg_roles where rolname = 'ledger_user'\"")
        assert q.stdout.strip() == "ledger_user", q.stdout + q.stderr
    finally:
        stop = subprocess.run([f"{demo}/stop.sh"], capture_output=True, text=True, timeout=120)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert not os.path.exists(demo)
    assert not listening(pg_port) and not listening(moto_port)
