"""Secret rotation (DESIGN §4.4) against real PostgreSQL and moto, checked independently:
due by risk (the real binary under a shifted clock, libfaketime), on demand (catalog
rotate_after; `gprdsd rotate` with and without a running daemon), crash states left after each
step of the protocol and finished by the next pass, and the alternating strategy. Passwords
never appear in the server log, gprdsd's output, the audit or the state."""

import datetime
import json
import os
import re
import secrets
import subprocess
import time

import psycopg2.extensions
import pytest
from psycopg2 import sql

from checks import provision, run_sql
from daemon_helpers import daemon_config, daemons, write_config  # noqa: F401
from world import FAKETIME_LIB, Entry, Layout, catalog_entry



def layout(world, strategy=None):
    """dev: a high-risk database (rotation.high 14d) and a medium-risk one (30d), each with an
    owner, plus a reader on the high-risk one."""
    u = world.uid
    hi = Entry("dev", f"ledger-{u}", f"ledger_{u}", f"ledger_{u}", "owner")
    rd = Entry("dev", f"ledger-ro-{u}", f"ledger_{u}", f"ledger_ro_{u}", "reader")
    med = Entry("dev", f"notes-{u}", f"notes_{u}", f"notes_{u}", "owner")
    lay = Layout(entries=[hi, rd, med], modes={"dev": "standalone"})
    cfg = {"rotation_strategy": strategy} if strategy else {}
    lay.catalog[hi.database] = catalog_entry("dev", hi.database, hi.username, key=hi.key,
                                             status="approved", risk="high")
    lay.catalog[hi.database]["configuration"].update(cfg)
    lay.catalog[med.database] = catalog_entry("dev", med.database, med.username, key=med.key,
                                              status="approved", risk="medium")
    return lay, hi, rd, med


def run_shifted(world, shift, *args):
    """The real gprdsd with its clock moved forward by `shift` (libfaketime)."""
    r = subprocess.run(world.gd.argv(*args), capture_output=True, timeout=120,
                       env=world.gd.environ(shift), cwd=world.gd.workdir,
                       stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def labels(world, name):
    """{stage: version id} of a secret."""
    out = {}
    for vid, stages in world.secret_versions(name):
        for s in stages:
            out[s] = vid
    return out


def rotation_rows(world, e, since):
    return [r for r in world.gd.audit_rows("dev")[since:]
            if r["action"] == "rotate_secret" and r["username"] == e.username]


def assert_no_password_leaked(world, outputs):
    pglog = world.pg.log_text()
    files = {p: open(p, "rb").read().decode("utf-8", "replace")
             for p in world.gd.files_written()}
    for pw in world.all_passwords():
        assert pw not in pglog, "a password from Secrets Manager is in the server log"
        for text in outputs:
            assert pw not in text, "a password is in gprdsd's output"
        for path, text in files.items():
            assert pw not in text, f"a password is in {path}"


@pytest.fixture
def shiftable(world):
    if not os.path.exists(FAKETIME_LIB):
        pytest.fail("libfaketime is missing: scripts/install-deps.sh installs it")
    return world


def test_high_risk_rotates_by_age_medium_does_not(shiftable):
    world = shiftable
    lay, hi, rd, med = layout(world)
    provision(world, lay, envs=("dev",))
    old_hi, old_med = world.secret(hi.secret_name), world.secret(med.secret_name)
    before = labels(world, hi.secret_name)
    conn = world.login(hi)  # an application connection open across the rotation
    n = len(world.gd.audit_rows("dev"))
    rc, out, err = run_shifted(world, "+15d", "--once")
    assert rc == 0, out + err
    after = labels(world, hi.secret_name)
    assert after["AWSCURRENT"] != before["AWSCURRENT"], after
    assert after["AWSPREVIOUS"] == before["AWSCURRENT"], after
    assert "AWSPENDING" not in after, after
    new_hi = world.secret(hi.secret_name)
    assert new_hi["password"] != old_hi["password"]
    assert new_hi["postgres-password"] == new_hi["password"]
    assert new_hi["username"] == hi.username
    assert world.can_login(hi.username, new_hi["password"], hi.database)
    assert not world.can_login(hi.username, old_hi["password"], hi.database)  # single
    assert run_sql(conn, "SELECT 1") == [(1,)], "an open connection survives"
    conn.close()
    # Medium risk (30 days) is not due after 15 days; the reader rotates with its database's
    # risk (high), on its own secret.
    assert world.secret(med.secret_name) == old_med
    assert world.can_login(rd.username, world.secret(rd.secret_name)["password"], rd.database)
    rows = rotation_rows(world, hi, n)
    assert len(rows) == 4 and all(r["status"] == "success" for r in rows), rows
    assert "age" in rows[0]["message"] and "risk high" in rows[0]["message"], rows[0]
    # The next pass (same shifted clock) has nothing to rotate, and status shows the age.
    rc, out2, _ = run_shifted(world, "+15d", "plan")
    assert rc == 0 and "rotate_" not in out2, out2
    st = world.gd.status_json()
    rec = next(x for e in st["environments"] for x in e["entries"] if x["key"] == hi.key)
    assert rec["rotation_due"] and rec["rotating_since"] is None, rec
    assert_no_password_leaked(world, [out, err, out2])


def test_rotate_after_rotates_once(world):
    lay, hi, _, _ = layout(world)
    provision(world, lay, envs=("dev",))
    first = labels(world, hi.secret_name)["AWSCURRENT"]
    time.sleep(1.1)
    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    lay.catalog[hi.database]["metadata"]["rotate_after"] = when.isoformat().replace(
        "+00:00", "Z")
    world.repo.write_layout(lay)
    time.sleep(1.1)
    plan = world.gd.plan().out
    assert f"rotate_stage {hi.secret_name}" in plan and "catalog rotate_after" in plan, plan
    assert world.gd.once().rc == 0
    second = labels(world, hi.secret_name)["AWSCURRENT"]
    assert second != first
    assert world.gd.once().rc == 0
    assert labels(world, hi.secret_name)["AWSCURRENT"] == second, "rotate_after rotates once"
    assert world.can_login(hi.username, world.secret(hi.secret_name)["password"], hi.database)


def test_gprdsd_rotate_without_daemon(world):
    lay, hi, _, med = layout(world)
    provision(world, lay, envs=("dev",))
    first = labels(world, hi.secret_name)["AWSCURRENT"]
    untouched = labels(world, med.secret_name)
    n = len(world.gd.audit_rows("dev"))
    r = world.gd.run("rotate", "--env", "dev", hi.key)
    assert r.rc == 0, r
    assert f"dev/{hi.key}: rotated" in r.out, r
    assert labels(world, hi.secret_name)["AWSCURRENT"] != first
    assert labels(world, med.secret_name) == untouched
    rows = rotation_rows(world, hi, n)
    assert rows and "gprdsd rotate by " in rows[0]["message"], rows
    # Unknown keys are refused without touching anything.
    r = world.gd.run("rotate", "--env", "dev", "no-such-key")
    assert r.rc == 2 and "no active entry" in r.err, r


def test_gprdsd_rotate_with_running_daemon(world, daemons):
    lay, hi, _, _ = layout(world)
    world.repo.write_layout(lay)
    cfg = write_config(world, daemon_config(world, interval="1h"))
    d = daemons(cfg).start()
    d.wait_ready()
    d.wait_status(60, pred=lambda s: "3 active" in s)
    first = labels(world, hi.secret_name)["AWSCURRENT"]
    t0 = time.monotonic()
    r = world.gd.run("rotate", "--env", "dev", hi.key, config=cfg)
    took = time.monotonic() - t0
    assert r.rc == 0, r
    assert "running daemon" in r.out and f"dev/{hi.key}: rotated" in r.out, r
    assert took < 60, f"the daemon took {took:.1f}s"
    assert labels(world, hi.secret_name)["AWSCURRENT"] != first
    assert world.can_login(hi.username, world.secret(hi.secret_name)["password"], hi.database)
    assert d.stop() == 0


def put_pending(world, e, password, username=None):
    s = world.secret(e.secret_name)
    s.update({"password": password, "postgres-password": password})
    if username:
        s["username"] = username
    world.sm.put_secret_value(SecretId=e.secret_name, SecretString=json.dumps(s),
                              VersionStages=["AWSPENDING"])
    return labels(world, e.secret_name)["AWSPENDING"]


def set_role_password(world, role, password):
    """As step 2 would: only a SCRAM verifier reaches the server (the log shows no password)."""
    conn = world.pg.connect()
    verifier = psycopg2.extensions.encrypt_password(password, role, conn, "scram-sha-256")
    conn.close()
    world.pg.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role),
                                                                sql.Literal(verifier)))


@pytest.mark.parametrize("left_after", ["step1", "step2", "step3", "promoted-not-cleared"])
def test_half_done_rotation_is_finished(world, left_after):
    """A rotation left half done (by gprdsd or a person) is finished before anything else,
    whatever step it stopped after; AWSCURRENT works at every point."""
    lay, hi, _, _ = layout(world)
    provision(world, lay, envs=("dev",))
    old = world.secret(hi.secret_name)["password"]
    pending_pw = secrets.token_hex(16)
    vid = put_pending(world, hi, pending_pw)
    if left_after != "step1":
        set_role_password(world, hi.username, pending_pw)  # steps 2 (and 3: it logs in)
    if left_after == "promoted-not-cleared":
        cur = labels(world, hi.secret_name)["AWSCURRENT"]
        world.sm.update_secret_version_stage(SecretId=hi.secret_name, VersionStage="AWSCURRENT",
                                             MoveToVersionId=vid, RemoveFromVersionId=cur)
    plan = world.gd.plan().out
    assert "rotate_promote" in plan, plan
    assert ("rotate_set_password" in plan) == (left_after == "step1"), plan
    assert world.gd.once().rc == 0
    lab = labels(world, hi.secret_name)
    assert lab["AWSCURRENT"] == vid and "AWSPENDING" not in lab, lab
    assert world.secret(hi.secret_name)["password"] == pending_pw
    assert world.can_login(hi.username, pending_pw, hi.database)
    assert not world.can_login(hi.username, old, hi.database)
    # Nothing left: the next pass is a no-op for the entry.
    assert "rotate_" not in world.gd.plan().out


def test_unfinishable_rotation_keeps_awscurrent(world):
    """A pending version without a usable password fails the entry with the reason and
    leaves AWSCURRENT working."""
    lay, hi, _, _ = layout(world)
    provision(world, lay, envs=("dev",))
    s = world.secret(hi.secret_name)
    world.sm.put_secret_value(SecretId=hi.secret_name, SecretString='{"note": "no password"}',
                              VersionStages=["AWSPENDING"])
    r = world.gd.once()
    assert r.rc == 1, r
    assert "AWSPENDING version has no usable password" in r.out + r.err, r
    assert world.can_login(hi.username, s["password"], hi.database)
    assert world.secret(hi.secret_name)["password"] == s["password"]


def test_alternating_two_rotations(shiftable):
    world = shiftable
    lay, hi, rd, _ = layout(world, strategy="alternating")
    provision(world, lay, envs=("dev",))
    alt = hi.username + "_alt"
    role = world.pg.role(alt)
    assert role is not None and role["login"], role
    first = world.secret(hi.secret_name)
    assert first["username"] == hi.username
    # First rotation: the second role gets the new password; the first keeps working.
    rc, out, err = run_shifted(world, "+15d", "--once")
    assert rc == 0, out + err
    second = world.secret(hi.secret_name)
    assert second["username"] == alt and second["password"] != first["password"]
    assert world.can_login(alt, second["password"], hi.database)
    assert world.can_login(hi.username, first["password"], hi.database), "previous works"
    # Objects made through the second role belong to the first; the reader sees them.
    c = world.pg.login(alt, second["password"], hi.database)
    run_sql(c, "CREATE TABLE made_by_alt (id int)")
    run_sql(c, "INSERT INTO made_by_alt VALUES (1)")
    c.close()
    owner = world.pg.query("SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_alt'",
                           dbname=hi.database)
    assert owner == [(hi.username,)], owner
    c = world.login(rd)
    assert run_sql(c, "SELECT count(*) FROM made_by_alt") == [(1,)]
    c.close()
    # Second rotation: back to the first role; the second role's credentials still work.
    rc, out2, err2 = run_shifted(world, "+30d", "--once")
    assert rc == 0, out2 + err2
    third = world.secret(hi.secret_name)
    assert third["username"] == hi.username and third["password"] not in (
        first["password"], second["password"])
    assert world.can_login(hi.username, third["password"], hi.database)
    assert world.can_login(alt, second["password"], hi.database), "previous works"
    assert not world.can_login(hi.username, first["password"], hi.database)
    assert_no_password_leaked(world, [out, err, out2, err2])


def start_shifted(world, shift, *args):
    return world.gd.start(*args, shift=shift)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def pending_password(world, e):
    try:
        v = world.sm.get_secret_value(SecretId=e.secret_name, VersionStage="AWSPENDING")
    except world.sm.exceptions.ResourceNotFoundException:
        return None
    return json.loads(v["SecretString"])["password"]


def assert_converged_after_crash(world, e, versions_before):
    rc, out, err = run_shifted(world, "+15d", "--once")
    assert rc == 0, out + err
    lab = labels(world, e.secret_name)
    assert "AWSPENDING" not in lab, lab
    # One new version: the retry repeated the first step's ClientRequestToken, or found its
    # version, and never made a second one.
    assert len(world.secret_versions(e.secret_name)) == versions_before + 1
    s = world.secret(e.secret_name)
    assert world.can_login(e.username, s["password"], e.database)
    rows = list(world.gd.audit_rows("dev"))  # the CSV still parses
    assert rows and all(len(r) == 10 for r in rows)


def test_kill_between_step1_and_step2(shiftable):
    """kill -9 while step 2 waits (a transaction holds the role's row): the next pass
    finishes from the AWSPENDING version it finds; AWSCURRENT worked until then."""
    world = shiftable
    lay, hi, _, _ = layout(world)
    provision(world, lay, envs=("dev",))
    old = world.secret(hi.secret_name)["password"]
    n = len(world.secret_versions(hi.secret_name))
    blocker = world.pg.connect()
    blocker.autocommit = False
    blocker.cursor().execute("SELECT 1 FROM pg_catalog.pg_authid WHERE rolname = %s FOR UPDATE",
                             (hi.username,))
    p = start_shifted(world, "+15d", "--once")

    def step2_waits():
        return world.pg.query("SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                              " 'gprdsd' AND wait_event_type = 'Lock'")[0][0] > 0
    try:
        wait_for(lambda: pending_password(world, hi) is not None, 60, "step 1")
        wait_for(step2_waits, 20, "step 2 to wait for the role's row")
        assert p.poll() is None, "the pass should be blocked in step 2"
        assert world.can_login(hi.username, old, hi.database), "AWSCURRENT still works"
        p.kill()
        p.wait(10)
    finally:
        blocker.rollback()
        blocker.close()
    # The killed client's ALTER ROLE may still complete on the server once the row is free
    # (the backend finds its client gone only afterwards): the next pass sees which.
    assert_converged_after_crash(world, hi, n)


def test_kill_between_step3_and_step4(shiftable):
    """kill -9 once the role has the pending password, while the promotion waits for the write
    pacing: the next pass sees the pending login work and only promotes."""
    world = shiftable
    lay, hi, _, _ = layout(world)
    provision(world, lay, envs=("dev",))
    n = len(world.secret_versions(hi.secret_name))
    world.gd.write_config(envs=("dev",), aws={"region": "eu-west-2",
                                               "endpoint": world.gd.moto_url,
                                               "write_interval": "30s"})
    p = start_shifted(world, "+15d", "--once")
    try:
        wait_for(lambda: pending_password(world, hi) is not None, 60, "step 1")
        pw = pending_password(world, hi)
        wait_for(lambda: world.can_login(hi.username, pw, hi.database), 20, "step 2")
        assert p.poll() is None, "the pass should wait for the write pacing of step 4"
        p.kill()
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
    assert "AWSPENDING" in labels(world, hi.secret_name)
    world.gd.write_config(envs=("dev",))
    plan = [ln for ln in run_shifted(world, "+15d", "plan")[1].splitlines()
            if hi.secret_name in ln or f" {hi.username} " in ln]
    assert any("rotate_promote" in ln for ln in plan), plan
    assert not any("rotate_set_password" in ln for ln in plan), plan
    assert_converged_after_crash(world, hi, n)
    assert world.secret(hi.secret_name)["password"] == pw


def test_failure_after_promotion_keeps_the_new_password(world):
    """A repair that fails after a finished rotation does not undo it: the promoted
    AWSCURRENT keeps logging in."""
    lay, hi, _, _ = layout(world)
    provision(world, lay, envs=("dev",))
    pending_pw = secrets.token_hex(16)
    put_pending(world, hi, pending_pw)
    # The database now belongs to a role the master may not act for: giving it back fails.
    intruder = world.n("intruder")
    world.pg.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(intruder)))
    world.pg.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
        sql.Identifier(hi.database), sql.Identifier(intruder)))
    world.pg.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
        sql.Identifier(hi.database), sql.Identifier(hi.username)))
    r = world.gd.once()
    assert r.rc == 1, r
    assert "rotate_undo" not in r.err, r
    lab = labels(world, hi.secret_name)
    assert "AWSPENDING" not in lab
    assert world.secret(hi.secret_name)["password"] == pending_pw
    assert world.can_login(hi.username, pending_pw, hi.database), "AWSCURRENT must work"


def test_alternating_repair_logs_in_as_the_current_role(shiftable):
    """After a rotation to the second role, a repair in a later pass (that does not read the
    secret) verifies as the role AWSCURRENT names, not the first one."""
    world = shiftable
    lay, hi, _, _ = layout(world, strategy="alternating")
    provision(world, lay, envs=("dev",))
    rc, out, err = run_shifted(world, "+15d", "--once")
    assert rc == 0, out + err
    assert world.secret(hi.secret_name)["username"] == hi.username + "_alt"
    world.pg.execute(sql.SQL("ALTER ROLE {} NOCREATEDB").format(sql.Identifier(hi.username)))
    rc, out, err = run_shifted(world, "+15d", "--once")
    assert rc == 0, out + err
    assert world.pg.role(hi.username)["createdb"]
