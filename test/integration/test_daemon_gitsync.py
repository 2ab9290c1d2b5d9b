"""repository.sync against a local bare remote: a push is fetched, fast-forwarded and applied;
a remote whose history was rewritten (force push), or a checkout with local commits when the
remote moved on, is refused with a clear error, the checkout is left exactly as it was (never
a merge commit, never a reset), and passes go on with the last good checkout."""

import os
import subprocess
import time

import pytest

from daemon_helpers import daemon_config, daemons, role_exists, wait_until, write_config  # noqa
from world import Entry, Layout, Repo, catalog_entry

INTERVAL = 1  # seconds: a push does not touch the checkout, so the tick must sync


def git(path, *args):
    return subprocess.run(["git", "-c", "user.name=gprdsd tests",
                           "-c", "user.email=tests@example.invalid", *args], cwd=path,
                          check=True, capture_output=True, text=True).stdout.strip()


def add_owner(world, lay, name):
    u = world.uid
    e = Entry("dev", f"{name}-{u}", f"{name}_{u}", f"{name}_own_{u}")
    lay.entries.append(e)
    lay.catalog[e.database] = catalog_entry("dev", e.database, e.username, key=e.key,
                                            status="approved")
    return e


class Remote:
    """A bare remote made from the checkout, and an upstream clone to push from."""

    def __init__(self, world):
        self.bare = os.path.join(world.tmp, "remote.git")
        git(world.tmp, "clone", "-q", "--bare", world.repo.path, self.bare)
        git(world.repo.path, "remote", "add", "origin", self.bare)
        git(world.repo.path, "fetch", "-q", "origin")
        git(world.repo.path, "branch", "-q", "-u", "origin/main")
        up = os.path.join(world.tmp, "upstream")
        git(world.tmp, "clone", "-q", self.bare, up)
        self.up = Repo(up)

    def push(self, *args):
        self.up.git("push", "-q", *args, "origin", "main")


def checkout_state(world):
    return {"head": world.repo.git("rev-parse", "HEAD"),
            "merges": world.repo.git("log", "--merges", "--oneline"),
            "status": world.repo.git("status", "--porcelain"),
            "reflog": world.repo.git("reflog", "--format=%gs")}


@pytest.fixture
def synced(world, daemons):
    lay = Layout(modes={"dev": "standalone"})
    first = add_owner(world, lay, "first")
    world.repo.write_layout(lay)
    remote = Remote(world)
    c = daemon_config(world, interval=f"{INTERVAL}s")
    c["repository"]["sync"] = {"enabled": True, "remote": "origin", "branch": "main",
                               "timeout": "10s"}
    d = daemons(write_config(world, c)).start()
    d.wait_ready()
    d.wait_status(30, pred=lambda s: "1 active" in s)
    assert role_exists(world.pg, first.username)
    return lay, remote, d


def push_entry(world, remote, lay, name, *push_args):
    e = add_owner(world, lay, name)
    remote.up.write_layout(lay)
    t0 = time.monotonic()
    remote.push(*push_args)
    return e, t0


def test_push_to_the_remote_is_fast_forwarded_and_applied(world, synced):
    lay, remote, d = synced
    e, t0 = push_entry(world, remote, lay, "pushed")
    wait_until(lambda: role_exists(world.pg, e.username), INTERVAL * 1.2 + 10, 0.02,
               what=f"role {e.username} from the pushed commit")
    took = time.monotonic() - t0
    print(f"\npush -> role visible in {took:.2f}s (interval {INTERVAL}s)")
    st = checkout_state(world)
    assert st["head"] == remote.up.git("rev-parse", "HEAD")
    assert st["merges"] == "" and st["status"] == "", st
    assert "fast-forward" in st["reflog"].lower() or "merge" in st["reflog"].lower(), st
    # At rest, one sync and one pass per tick: git's own writes in .git (FETCH_HEAD, the
    # remote-tracking ref) do not trigger further passes through the file watches. (The
    # fast-forward itself changed the checkout: one more pass follows it, then ticks.)
    for _ in range(2):
        d.wait_status(10, start=d.notify.count())
    n0 = d.notify.count()
    _, t_first, _ = d.wait_status(10, start=n0)
    for _ in range(3):
        i, t_last, _ = d.wait_status(10, start=d.notify.count())
    passes = sum(1 for _, s in d.notify.all("STATUS", n0) if "last pass" in s)
    print(f"at rest: {passes} passes in {t_last - t_first:.2f}s at a {INTERVAL}s interval")
    assert t_last - t_first >= 3 * INTERVAL * 0.8, (t_first, t_last)
    assert d.stop() == 0


def test_force_pushed_history_is_refused_and_the_checkout_kept(world, synced):
    lay, remote, d = synced
    good, _ = push_entry(world, remote, lay, "good")
    wait_until(lambda: role_exists(world.pg, good.username), 15, what="the good commit")
    wait_until(lambda: checkout_state(world)["head"] == remote.up.git("rev-parse", "HEAD"), 5,
               what="the checkout at the remote's head")
    before = checkout_state(world)

    # Rewrite the remote's history: drop the last commit, commit something else, force push.
    remote.up.git("reset", "-q", "--hard", "HEAD~1")
    lay.entries.remove(good)
    del lay.catalog[good.database]
    rewritten, _ = push_entry(world, remote, lay, "rewritten", "--force")
    off = len(d.log())
    text = d.wait_log("cannot be fast-forwarded", INTERVAL * 1.2 + 10, start=off)
    line = next(x for x in text.splitlines() if "cannot be fast-forwarded" in x)
    print(f"\n{line}")
    assert "Not possible to fast-forward" in line or "fatal" in line, line
    # Passes go on with the last good checkout, and STATUS= says what is wrong.
    n0 = d.notify.count()
    _, _, f = d.wait_status(15, start=n0, pred=lambda s: "2 active" in s)
    assert "repository sync failing (cannot fast-forward to origin/main)" in f["STATUS"], f
    # The same failure, again at every interval, is not repeated at error level.
    d.wait_status(INTERVAL * 3 + 10, start=d.notify.count())
    assert d.log()[off:].count("cannot be fast-forwarded") == 1, d.log()[off:]
    assert d.running()
    assert not role_exists(world.pg, rewritten.username)
    assert role_exists(world.pg, good.username)
    after = checkout_state(world)
    assert after["head"] == before["head"], (before, after)
    assert after["merges"] == "" and after["status"] == "", after
    assert after["reflog"] == before["reflog"], "the checkout's HEAD moved (reset or merge)"
    assert d.stop() == 0


def test_local_commit_in_the_checkout_is_never_merged(world, synced):
    lay, remote, d = synced
    # A commit made in the checkout itself is applied (it is the checkout's HEAD) ...
    local_lay = Layout(entries=list(lay.entries), modes=dict(lay.modes),
                       catalog=dict(lay.catalog))
    local = add_owner(world, local_lay, "local")
    world.repo.write_layout(local_lay)
    wait_until(lambda: role_exists(world.pg, local.username), 10, what="the local commit")
    before = checkout_state(world)
    # ... and when the remote moves on too, the histories diverge: nothing is merged.
    off = len(d.log())
    upstream, _ = push_entry(world, remote, lay, "upstream")
    d.wait_log("cannot be fast-forwarded", INTERVAL * 1.2 + 10, start=off)
    n0 = d.notify.count()
    d.wait_status(15, start=n0, pred=lambda s: "2 active" in s)
    after = checkout_state(world)
    assert after["head"] == before["head"], (before, after)
    assert after["merges"] == "" and after["status"] == "", after
    assert not role_exists(world.pg, upstream.username)
    assert d.stop() == 0


def test_hanging_remote_times_out_and_sigterm_kills_git(world, daemons):
    lay = Layout(modes={"dev": "standalone"})
    first = add_owner(world, lay, "first")
    world.repo.write_layout(lay)
    # A remote whose transport never answers: git's ext:: transport running `sleep`.
    git(world.repo.path, "config", "protocol.ext.allow", "always")
    git(world.repo.path, "remote", "add", "origin", "ext::sleep 60")
    c = daemon_config(world, interval="1h")
    c["repository"]["sync"] = {"enabled": True, "timeout": "1s"}
    cfg = write_config(world, c)
    d = daemons(cfg).start()
    d.wait_ready()
    text = d.wait_log("timed out", 15)
    print("\n" + next(x for x in text.splitlines() if "timed out" in x))
    _, _, f = d.wait_status(15, pred=lambda s: "1 active" in s)
    assert "repository sync failing (git fetch origin main timed out)" in f["STATUS"], f
    assert role_exists(world.pg, first.username)
    assert d.stop() == 0

    # SIGTERM while git hangs (long timeout): git is killed, the daemon exits at once.
    c["repository"]["sync"]["timeout"] = "60s"
    write_config(world, c)
    d = daemons(cfg, name="again").start()
    d.wait_ready()
    git_pid = wait_until(d.children, 10, what="git running")[0]
    transport = wait_until(lambda: children_of(git_pid), 10, what="git's transport (sleep)")
    t0 = time.monotonic()
    assert d.stop(10) == 0
    took = time.monotonic() - t0
    print(f"SIGTERM during a hanging git fetch: exit 0 in {took:.2f}s")
    assert took < 3
    # git's own children went with it (git runs in a process group the daemon kills).
    wait_until(lambda: not any(alive(p) for p in [git_pid] + transport), 5,
               what="git and its transport gone")


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
