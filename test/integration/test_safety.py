"""Safety properties beyond the happy path (DESIGN §4.5, §6, §7): nothing is ever dropped
implicitly, the audit file survives a torn row, and two passes at once do not fight."""

import csv
import io
import subprocess

from checks import assert_can_login, provision, snapshot
from world import standard_layout


def test_removed_entry_is_orphaned_not_dropped(world):
    lay, _, _ = provision(world)
    gone = lay.by_access("dev", f"inventory_{world.uid}", "reader")
    owner_gone = lay.by_access("dev", f"orders_{world.uid}", "owner")
    kept = standard_layout(world.uid)
    kept.entries = [e for e in kept.entries if e.username not in (gone.username,)
                    and e.database != owner_gone.database]
    kept.catalog.pop(owner_gone.database)
    world.repo.write_layout(kept)
    r = world.gd.once()
    assert r.rc == 0, r
    assert "orphan" in (r.out + r.err).lower(), f"orphans should be reported:{r}"
    for e in lay.entries:  # everything, including what left the inputs, is still there
        assert_can_login(world, e)
        assert e.secret_name in world.app_secret_names()
    assert owner_gone.database in world.pg.databases()


def test_decommissioning_without_break_glass_drops_nothing(world):
    lay, _, _ = provision(world)
    before = snapshot(world, lay)
    db = f"orders_{world.uid}"
    lay.catalog[db]["metadata"]["status"] = "decommissioning"  # no allow_delete, no confirm
    world.repo.write_layout(lay)
    r = world.gd.once()
    assert r.rc in (0, 1), r
    after = snapshot(world, lay)
    assert after["roles"] == before["roles"]
    assert after["dbs"] == before["dbs"]
    assert after["versions"] == before["versions"]
    for e in lay.entries:
        assert_can_login(world, e)
        assert "DeletedDate" not in world.sm.describe_secret(SecretId=e.secret_name)


def test_torn_audit_row_is_repaired(world):
    lay, _, _ = provision(world, reconcile={"verify_interval": "0s"})
    path = world.gd.audit_path("dev")
    with open(path, "ab") as f:
        f.write(b'2026-01-01T00:00:00Z,dev,abcdef123456,run,"inventory_x,inv_')  # a crash
    e = lay.by_access("dev", f"inventory_{world.uid}", "editor")
    world.pg.execute(f'ALTER ROLE "{e.username}" CREATEROLE')
    r = world.gd.once()
    assert r.rc == 0, r
    with open(path, newline="") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert all(len(x) == 10 for x in rows), [x for x in rows if len(x) != 10]
    assert any(x[5] == e.username for x in rows[-5:]), "the repair row was not appended"


def test_two_passes_at_once_do_not_fight(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    world.gd.write_config()
    argv = [world.gd.bin, "--once", "--config", world.gd.config_path]
    procs = [subprocess.Popen(argv, env=world.gd.environ(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, cwd=world.gd.workdir) for _ in range(2)]
    results = [(p.wait(120), p.stderr.read().decode("utf-8", "replace")) for p in procs]
    for rc, err in results:
        assert rc == 0, f"concurrent pass exited {rc}:\n{err[-3000:]}"
    for e in lay.entries:
        assert len(world.secret_versions(e.secret_name)) == 1, \
            f"{e.secret_name} was written by both passes"
        assert_can_login(world, e)
    r = world.gd.plan("--detailed-exitcode")
    assert r.rc == 0, r


def test_secrets_under_a_former_name_template_are_orphans(world):
    """A new secret.name re-keys every entry; the secrets under the old names are neither
    forgotten nor deleted: plan and the pass report each as an orphan, for as long as it is
    there."""
    lay, _, _ = provision(world)
    old = sorted(e.secret_name for e in lay.env_entries("dev"))
    cfg = world.gd.config()
    cfg["environments"]["dev"]["secret"] = {"name": "apps/{env}/{key}"}
    world.gd.write_config(cfg)
    r = world.gd.plan()
    for name in old:
        assert f"secret {name}" in r.out, f"plan does not report {name} as an orphan:{r}"
    r = world.gd.once("--confirm-mass-change")
    assert r.rc == 0, r
    for name in old:
        assert f"secret {name}" in r.err + r.out, f"the pass does not report {name}:{r}"
        assert name in world.app_secret_names()          # kept, never deleted unasked
    # Still reported by the passes after (the state file remembers the former prefix).
    r = world.gd.plan()
    assert all(f"secret {name}" in r.out for name in old), r
