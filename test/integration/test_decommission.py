"""Break-glass decommissioning, orphans and the mass-change guard (DESIGN §4.5, §4.6), against
real PostgreSQL (the RDS-like master, not a superuser) and moto, checked independently."""

import json
import os
import signal
import subprocess

import pytest
from psycopg2 import sql

from checks import assert_can_login, provision, run_sql, snapshot
from daemon_helpers import daemon_config, daemons, wait_until, write_config  # noqa: F401
from servers import MASTER_USER
from world import Entry, Layout, catalog_entry


def q(x):
    return sql.Identifier(x)


def three_databases(world):
    """dev: db a (owner, editor, reader), db b (owner), db c (owner)."""
    u = world.uid
    a = [Entry("dev", f"a-own-{u}", f"a_{u}", f"a_own_{u}", "owner"),
         Entry("dev", f"a-ed-{u}", f"a_{u}", f"a_ed_{u}", "editor"),
         Entry("dev", f"a-ro-{u}", f"a_{u}", f"a_ro_{u}", "reader")]
    b = Entry("dev", f"b-own-{u}", f"b_{u}", f"b_own_{u}", "owner")
    c = Entry("dev", f"c-own-{u}", f"c_{u}", f"c_own_{u}", "owner")
    lay = Layout(entries=a + [b, c], modes={"dev": "standalone"})
    for e in (a[0], b, c):
        lay.catalog[e.database] = catalog_entry("dev", e.database, e.username, key=e.key,
                                                status="approved")
    return lay, a, b, c


def dev_config(world, **over):
    env = {"allow_delete": True}
    env.update(over)
    return {"envs": ("dev",), "environments": {"dev": world.gd.env_config("dev", **env)}}


def decommission(lay, db):
    lay.catalog[db]["metadata"]["status"] = "decommissioning"
    lay.catalog[db]["metadata"]["decommission_confirm"] = db


def scheduled_for_deletion(world, name):
    return "DeletedDate" in world.sm.describe_secret(SecretId=name)


def test_confirmed_decommission(world, tmp_path):
    lay, a, b, c = three_databases(world)
    dump_dir = str(tmp_path / "dumps")
    provision(world, lay, **dev_config(world, decommission={"dump_dir": dump_dir}))
    own, ed, ro = a
    # The editor owns a table in b; the reader holds a grant in c.
    world.pg.execute(sql.SQL("CREATE TABLE kept_in_b (id int)"), dbname=b.database)
    world.pg.execute(sql.SQL("ALTER TABLE kept_in_b OWNER TO {}").format(q(ed.username)),
                     dbname=b.database)
    world.pg.execute(sql.SQL("CREATE TABLE shared_in_c (id int)"), dbname=c.database)
    world.pg.execute(sql.SQL("ALTER TABLE shared_in_c OWNER TO {}").format(q(c.username)),
                     dbname=c.database)
    world.pg.execute(sql.SQL("GRANT SELECT ON shared_in_c TO {}").format(q(ro.username)),
                     dbname=c.database)
    c_conn = world.login(own)
    run_sql(c_conn, "CREATE TABLE data (v text)")
    run_sql(c_conn, "INSERT INTO data VALUES ('kept in the dump')")
    app = world.login(own)  # an application session open on the database
    before = snapshot(world, Layout(entries=[b, c], modes=lay.modes))
    decommission(lay, own.database)
    world.repo.write_layout(lay)
    plan = world.gd.plan().out
    assert f"- drop_database {own.database}" in plan, plan
    r = world.gd.once()
    assert r.rc == 0, r
    # The database and the three roles are gone; the table in b survives, owned by the master.
    assert own.database not in world.pg.databases()
    for e in a:
        assert world.pg.role(e.username) is None, e.username
        assert scheduled_for_deletion(world, e.secret_name), e.secret_name
    owner = world.pg.query("SELECT tableowner FROM pg_tables WHERE tablename = 'kept_in_b'",
                           dbname=b.database)
    assert owner == [(MASTER_USER,)], owner
    acl = world.pg.query("SELECT relacl::text FROM pg_class WHERE relname = 'shared_in_c'",
                         dbname=c.database)
    assert ro.username not in str(acl), acl
    # Nothing else was touched.
    after = snapshot(world, Layout(entries=[b, c], modes=lay.modes))
    assert after["roles"] == before["roles"] and after["versions"] == before["versions"]
    assert_can_login(world, b)
    assert_can_login(world, c)
    # The dump restores.
    dumps = os.listdir(os.path.join(dump_dir, "dev"))
    assert len([d for d in dumps if d.endswith(".dump")]) == 1, dumps
    dump = os.path.join(dump_dir, "dev", [d for d in dumps if d.endswith(".dump")][0])
    world.pg.execute(sql.SQL("CREATE DATABASE {}").format(q(f"restored_{world.uid}")))
    subprocess.run(["pg_restore", "--no-owner", "--no-acl", "-h", world.pg.dir, "-p", str(world.pg.port),
                    "-U", "postgres", "-d", f"restored_{world.uid}", dump], check=True,
                   capture_output=True)
    rows = world.pg.query("SELECT v FROM data", dbname=f"restored_{world.uid}")
    assert rows == [("kept in the dump",)], rows
    # A second pass changes nothing; status says decommissioned.
    r = world.gd.once()
    assert r.rc == 0, r
    plan = world.gd.plan("--json").json()
    assert plan["environments"][0]["changes"] == 0, plan
    st = {x["key"]: x for x in world.gd.status_json()["environments"][0]["entries"]}
    for e in a:
        assert st[e.key]["state"] == "decommissioned", st[e.key]
    rows = [x for x in world.gd.audit_rows("dev") if x["action"] == "decommission"]
    assert any(f"drop_database {own.database}" in x["message"] for x in rows), rows
    for conn in (app, c_conn):
        try:
            conn.close()
        except Exception:
            pass
    # The entry comes back within the recovery window: its secret is restored and adopted.
    lay.catalog[own.database]["metadata"]["status"] = "approved"
    del lay.catalog[own.database]["metadata"]["decommission_confirm"]
    world.repo.write_layout(lay)
    assert world.gd.once().rc in (0, 1)
    for e in a:
        assert not scheduled_for_deletion(world, e.secret_name), e.secret_name
    r = world.gd.once()
    assert r.rc == 0, r
    for e in a:
        assert_can_login(world, e)


@pytest.mark.parametrize("missing", ["allow_delete", "confirm", "status"])
def test_each_missing_key_changes_nothing(world, missing):
    lay, a, b, c = three_databases(world)
    provision(world, lay, **dev_config(world, allow_delete=(missing != "allow_delete")))
    before = snapshot(world, lay)
    decommission(lay, a[0].database)
    if missing == "confirm":
        lay.catalog[a[0].database]["metadata"]["decommission_confirm"] = "not_this_one"
    if missing == "status":
        lay.catalog[a[0].database]["metadata"]["status"] = "active"
    world.repo.write_layout(lay)
    r = world.gd.once()
    assert r.rc == 0, r
    after = snapshot(world, lay)
    assert after["roles"] == before["roles"] and after["dbs"] == before["dbs"]
    assert after["versions"] == before["versions"]
    for e in lay.entries:
        assert not scheduled_for_deletion(world, e.secret_name)
    if missing != "status":
        st = {x["key"]: x for x in world.gd.status_json()["environments"][0]["entries"]}
        word = "allow_delete" if missing == "allow_delete" else "decommission_confirm"
        assert word in (st[a[0].key]["reason"] or ""), st[a[0].key]


def test_unmanaged_role_stops_the_decommission(world):
    lay, a, b, c = three_databases(world)
    provision(world, lay, **dev_config(world))
    world.pg.execute(sql.SQL("COMMENT ON ROLE {} IS 'made by hand'").format(q(a[2].username)))
    before = snapshot(world, lay)
    decommission(lay, a[0].database)
    world.repo.write_layout(lay)
    r = world.gd.once()
    assert r.rc == 1, r
    assert "does not carry gprdsd's marker" in r.out + r.err, r
    after = snapshot(world, lay)
    assert after["roles"] == before["roles"] and after["dbs"] == before["dbs"]
    for e in a:
        assert not scheduled_for_deletion(world, e.secret_name)


def test_orphans_disable_and_return(world):
    lay, a, b, c = three_databases(world)
    provision(world, lay, **dev_config(world, orphans="disable"))
    ro = a[2]
    gone = Layout(entries=[e for e in lay.entries if e is not ro], modes=lay.modes,
                  catalog=lay.catalog)
    world.repo.write_layout(gone)
    r = world.gd.once()
    assert r.rc == 0, r
    assert f"orphaned role {ro.username}" in r.out + r.err, r
    role = world.pg.role(ro.username)
    assert role is not None and not role["login"], role
    assert not world.can_login(ro.username, world.secret(ro.secret_name)["password"],
                               ro.database)
    r2 = world.gd.once()
    assert f"orphaned role {ro.username}" not in r2.out + r2.err, "reported once, not again"
    world.repo.write_layout(lay)
    assert world.gd.once().rc == 0
    assert_can_login(world, ro)


def test_mass_change_guard(world):
    u = world.uid
    entries = [Entry("dev", f"m{i}-{u}", f"m{i}_{u}", f"m{i}_{u}", "owner") for i in range(12)]
    lay = Layout(entries=entries, modes={"dev": "standalone"})
    provision(world, lay, **dev_config(world))
    old = {e.key: world.secret(e.secret_name)["password"] for e in entries}
    for e in entries:  # what a wrong account or a bulk deletion looks like
        world.sm.delete_secret(SecretId=e.secret_name, ForceDeleteWithoutRecovery=True)
    plan = world.gd.plan().out
    assert "REFUSED: mass change refused" in plan, plan
    r = world.gd.once()
    assert r.rc == 1, r
    assert "mass change refused" in r.out + r.err and "12 active entries" in r.out + r.err, r
    for e in entries:
        assert e.secret_name not in world.secret_names()
        assert world.can_login(e.username, old[e.key], e.database), "old passwords work"
    r = world.gd.once("--confirm-mass-change")
    assert r.rc == 0, r
    for e in entries:
        assert_can_login(world, e)


def test_daemon_keeps_refusing_until_confirmed(world, daemons):
    u = world.uid
    entries = [Entry("dev", f"d{i}-{u}", f"d{i}_{u}", f"d{i}_{u}", "owner") for i in range(7)]
    lay = Layout(entries=entries, modes={"dev": "standalone"})
    world.repo.write_layout(lay)
    cfg = daemon_config(world, interval="2s")
    cfg["environments"]["dev"]["allow_delete"] = True
    path = write_config(world, cfg)
    d = daemons(path).start()
    d.wait_ready()
    i = d.wait_status(60, pred=lambda s: "7 active" in s)[0]
    # All seven go at once as far as the daemon can tell: a pass between two deletions would
    # see a few missing, recreate them (below the guard) and never be refused.
    os.kill(d.pid, signal.SIGSTOP)
    try:
        for e in entries:
            world.sm.delete_secret(SecretId=e.secret_name, ForceDeleteWithoutRecovery=True)
    finally:
        os.kill(d.pid, signal.SIGCONT)
    i = d.wait_status(30, start=i + 1, pred=lambda s: "mass change refused" in s)[0]
    d.wait_status(30, start=i + 1, pred=lambda s: "mass change refused" in s)  # and again
    assert not any(e.secret_name in world.secret_names() for e in entries)
    r = world.gd.run("--once", "--confirm-mass-change", config=path)
    assert "confirmation is recorded" in r.out, r
    wait_until(lambda: all(e.secret_name in world.secret_names() for e in entries), 30,
               what="the daemon to proceed once confirmed")
    for e in entries:
        wait_until(lambda: world.can_login(e.username, world.secret(e.secret_name)["password"],
                                           e.database), 30, what="the role to follow")
    assert d.stop() == 0


def test_kill_during_decommission_converges(world):
    """kill -9 while a step waits (a transaction holds the table the editor owns in another
    database, so REASSIGN OWNED waits): the next pass finishes what is left."""
    lay, a, b, c = three_databases(world)
    provision(world, lay, **dev_config(world))
    own, ed, ro = a
    world.pg.execute(sql.SQL("CREATE TABLE kept_in_b (id int)"), dbname=b.database)
    world.pg.execute(sql.SQL("ALTER TABLE kept_in_b OWNER TO {}").format(q(ed.username)),
                     dbname=b.database)
    decommission(lay, own.database)
    world.repo.write_layout(lay)
    blocker = world.pg.connect(dbname=b.database)
    blocker.autocommit = False
    blocker.cursor().execute("LOCK TABLE kept_in_b IN ACCESS EXCLUSIVE MODE")
    argv = [world.gd.bin, "--once", "--config", world.gd.config_path]
    p = subprocess.Popen(argv, env=world.gd.environ(), cwd=world.gd.workdir,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: world.pg.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gprdsd'"
            " AND wait_event_type = 'Lock'")[0][0] > 0, 30, what="drop_owned to wait")
        assert own.database not in world.pg.databases(), "the database went before"
        p.kill()
        p.wait(10)
    finally:
        blocker.rollback()
        blocker.close()
        if p.poll() is None:
            p.kill()
    r = world.gd.once()
    assert r.rc == 0, r
    for e in a:
        assert world.pg.role(e.username) is None, e.username
        assert scheduled_for_deletion(world, e.secret_name)
    owner = world.pg.query("SELECT tableowner FROM pg_tables WHERE tablename = 'kept_in_b'",
                           dbname=b.database)
    assert owner == [(MASTER_USER,)], owner
    st = {x["key"]: x for x in world.gd.status_json()["environments"][0]["entries"]}
    assert all(st[e.key]["state"] == "decommissioned" for e in a), st
