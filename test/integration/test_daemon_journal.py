"""A real systemd-journald (private mount namespace, see daemon_helpers.Journald) receives the
daemon's native entries: `journalctl GPRDSD_DATABASE=<db>` returns that database's history,
every entry with a MESSAGE_ID and the GPRDSD_* fields, and `journalctl -x` explains them with
the text of contrib/systemd/gprdsd.catalog."""

import json
import os
import shutil
import subprocess

from daemon_helpers import (daemon_config, daemons, journald, role_exists,  # noqa: F401
                            wait_until, write_config)
from world import SRC, Entry, Layout, catalog_entry

MID_ACTION_APPLIED = "3a1f6c0e52d74b0c9a4e8f1d2b7c6a03"
MID_TRANSITION = "3a1f6c0e52d74b0c9a4e8f1d2b7c6a05"
MID_LEADER_GAINED = "3a1f6c0e52d74b0c9a4e8f1d2b7c6a09"
CATALOG = os.path.join(SRC, "contrib", "systemd", "gprdsd.catalog")


def entries(j, *matches):
    r = j.journalctl("-o", "json", *matches)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def commit_as_fast_forward(repo, lay):
    """Commits lay in a staging clone, then fast-forwards the watched checkout to it: files
    and HEAD change within milliseconds, as with a pull. (Writing the files in place and then
    running `git add` and `git commit` leaves a window longer than the daemon's debounce on a
    busy machine, in which a pass reads the new files at the old commit.)"""
    watched = repo.path
    stage = watched + ".stage"
    subprocess.run(["git", "clone", "-q", watched, stage], check=True)
    try:
        repo.path = stage
        sha = repo.write_layout(lay)
    finally:
        repo.path = watched
    repo.git("pull", "-q", "--ff-only", stage, "HEAD")
    assert repo.git("rev-parse", "HEAD") == sha
    shutil.rmtree(stage)
    return sha


def test_journald_receives_structured_entries(world, daemons, journald):
    u = world.uid
    lay = Layout(modes={"dev": "standalone"})
    first = Entry("dev", f"first-{u}", f"first_{u}", f"first_own_{u}")
    lay.entries.append(first)
    lay.catalog[first.database] = catalog_entry("dev", first.database, first.username,
                                                key=first.key, status="approved")
    commit = world.repo.write_layout(lay)
    cfg = write_config(world, daemon_config(world, interval="1h"))
    d = daemons(cfg, args=["--log-target=journal"], prefix=journald.prefix()).start()
    d.wait_ready()
    d.wait_status(30, pred=lambda s: "1 active" in s)

    # A second database arrives with a commit: its whole history is in the journal.
    second = Entry("dev", f"second-{u}", f"second_{u}", f"second_own_{u}")
    lay.entries.append(second)
    lay.catalog[second.database] = catalog_entry("dev", second.database, second.username,
                                                 key=second.key, status="approved")
    n0 = d.notify.count()
    commit2 = commit_as_fast_forward(world.repo, lay)
    d.wait_status(30, start=n0, pred=lambda s: "2 active" in s)
    assert role_exists(world.pg, second.username)
    assert d.stop() == 0
    # Nothing went to stderr: every event went to journald.
    assert "create_role" not in d.log(), d.log()[-2000:]

    hist = wait_until(lambda: [x for x in entries(journald, f"GPRDSD_DATABASE={second.database}")
                               if x.get("MESSAGE_ID") == MID_TRANSITION
                               and x.get("GPRDSD_STATE_TO") == "active"] and
                      entries(journald, f"GPRDSD_DATABASE={second.database}"), 10,
                      what=f"journal entries for {second.database}")
    print(f"\njournalctl GPRDSD_DATABASE={second.database}: {len(hist)} entries")
    for x in hist:
        print(f"  {x.get('MESSAGE_ID')} {x.get('GPRDSD_ACTION', '-'):<16} {x['MESSAGE']}")
        assert x.get("MESSAGE_ID"), f"entry without MESSAGE_ID: {x}"
        assert x["SYSLOG_IDENTIFIER"] == "gprdsd", x
        assert x["_PID"] == str(d.pid), x
        assert x["GPRDSD_ENV"] == "dev" and x["GPRDSD_KEY"] == second.key, x
        assert x["MESSAGE"].startswith(f"dev/{second.key}: "), x
        assert x["GPRDSD_COMMIT"] == commit2, x
        assert x.get("GPRDSD_RUN"), x
    actions = {x.get("GPRDSD_ACTION") for x in hist if x["MESSAGE_ID"] == MID_ACTION_APPLIED}
    assert {"create_secret", "create_role", "create_database"} <= actions, actions
    moves = [(x["GPRDSD_STATE_FROM"], x["GPRDSD_STATE_TO"]) for x in hist
             if x["MESSAGE_ID"] == MID_TRANSITION]
    assert moves[-1] == ("provisioning", "active"), moves
    # Another database's entries are not in this history; its own are, at its commit.
    assert all(x["GPRDSD_DATABASE"] == second.database for x in hist)
    first_hist = entries(journald, f"GPRDSD_DATABASE={first.database}")
    assert first_hist and all(x["GPRDSD_COMMIT"] == commit for x in first_hist)
    assert entries(journald, f"MESSAGE_ID={MID_LEADER_GAINED}", "GPRDSD_ENV=dev")

    # journalctl -x: the explanation from contrib/systemd/gprdsd.catalog, fields filled in.
    r = journald.journalctl_with_catalog([CATALOG], "-x", f"GPRDSD_DATABASE={second.database}",
                                         "GPRDSD_ACTION=create_role")
    assert r.returncode == 0, r.stderr
    print(r.stdout)
    assert f"Subject: gprdsd applied create_role to {second.database} in dev" in r.stdout, \
        r.stdout
    assert "Defined-By: gprdsd" in r.stdout, r.stdout


def test_entry_messages_name_the_environment(world):
    """Issue 12: a message about an entry starts with `<env>/<key>: `, so that text filters
    of a per-database recipe keep dev and prod entries of the same name apart. The same key
    in two environments gives two names."""
    u = world.uid
    lay = Layout(modes={"dev": "standalone", "test": "coupled"})
    for env in ("dev", "test"):
        e = Entry(env, f"ledger-{u}", f"ledger_{env}_{u}", f"ledger_{env}_own_{u}")
        lay.entries.append(e)
        lay.catalog.setdefault(e.database, catalog_entry(env, e.database, e.username,
                                                         key=e.key, status="approved"))
    world.repo.write_layout(lay)
    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 0, r
    for env in ("dev", "test"):
        name = f"{env}/ledger-{u}"
        assert f"{name}: provisioning -> active" in r.err, r.err[-3000:]
        assert f"{name}: create_role ledger_{env}_own_{u} (new)" in r.err, r.err[-3000:]
    lines = [ln for ln in r.err.splitlines() if f"ledger-{u}" in ln and "->" in ln]
    assert lines and all(f"dev/ledger-{u}: " in ln or f"test/ledger-{u}: " in ln
                         for ln in lines), lines
