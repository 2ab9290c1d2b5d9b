"""The daemon under valgrind for a short life: start, a pass, a commit, a reload (good and
broken config), a git sync, SIGTERM. No invalid access, no leak (definite or indirect), exit 0.

Slow (about half a minute): runs only with GPRDSD_VALGRIND=1 and valgrind installed."""

import os
import re
import shutil
import signal

import pytest

from daemon_helpers import daemon_config, daemons, write_config  # noqa: F401
from world import standard_layout

pytestmark = pytest.mark.skipif(
    os.environ.get("GPRDSD_VALGRIND") != "1" or not shutil.which("valgrind"),
    reason="set GPRDSD_VALGRIND=1 (and install valgrind) to run the daemon under valgrind")


def test_daemon_under_valgrind(world, daemons):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    # A bare remote so that the sync path (uv_spawn, pipes, timers) runs too.
    bare = os.path.join(world.tmp, "remote.git")
    world.repo.git("clone", "-q", "--bare", world.repo.path, bare)
    world.repo.git("remote", "add", "origin", bare)
    c = daemon_config(world, interval="1h", envs=("dev", "test"),
                      metrics_file=os.path.join(world.gd.workdir, "gprdsd.prom"))
    c["repository"]["sync"] = {"enabled": True, "timeout": "30s"}
    cfg = write_config(world, c)
    vlog = os.path.join(world.gd.workdir, "valgrind.log")
    d = daemons(cfg, prefix=["valgrind", "--quiet", "--leak-check=full",
                             "--show-leak-kinds=definite,indirect",
                             "--errors-for-leak-kinds=definite,indirect",
                             "--error-exitcode=99", "--child-silent-after-fork=yes",
                             "--trace-children=no", f"--log-file={vlog}"])
    d.start()
    d.wait_ready(120)
    n = len(lay.entries)
    d.wait_status(180, pred=lambda s: s.count("active") == 2 and "0 failed" in s)

    n0 = d.notify.count()
    world.repo.write("README.md", "touched\n")
    world.repo.commit("touch")
    d.wait_status(120, start=n0)

    with open(cfg, "a") as f:
        f.write("no_such_key: 1\n")
    n0 = d.notify.count()
    d.signal(signal.SIGHUP)
    d.notify.wait_key("READY", 60, start=n0, value="1")
    write_config(world, c)
    n0 = d.notify.count()
    d.signal(signal.SIGHUP)
    d.notify.wait_key("READY", 60, start=n0, value="1")
    d.wait_status(120, start=n0)

    rc = d.stop(120)
    report = open(vlog).read()
    print(f"\nvalgrind exit {rc}; {n} entries; report:\n{report or '(empty: no errors)'}")
    assert rc == 0, report
    assert not re.search(r"(definitely|indirectly) lost: [1-9]", report), report
    assert "Invalid" not in report, report
