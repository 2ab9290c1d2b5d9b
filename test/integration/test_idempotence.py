"""(b) A second pass over a converged world changes nothing."""

from checks import ddl_statements, provision, snapshot


def test_second_once_changes_nothing(world):
    lay, _, _ = provision(world)
    before = snapshot(world, lay)
    r = world.gd.once()
    assert r.rc == 0, r
    after = snapshot(world, lay)
    assert after["audit"] == before["audit"], "the second pass wrote audit rows"
    assert after["versions"] == before["versions"], "the second pass made secret versions"
    assert after["secrets"] == before["secrets"]
    assert after["roles"] == before["roles"]
    assert after["dbs"] == before["dbs"]


def test_second_pass_sends_no_ddl(world):
    provision(world)
    mark = len(world.pg.log_text())
    r = world.gd.once()
    assert r.rc == 0, r
    ddl = ddl_statements(world.pg.log_text()[mark:])
    assert not ddl, "a converged pass changed PostgreSQL:\n" + "\n".join(ddl[:20])


def test_plan_after_convergence_is_empty(world):
    provision(world)
    r = world.gd.plan("--detailed-exitcode")
    assert r.rc == 0, f"plan --detailed-exitcode should say nothing to do:{r}"
    doc = world.gd.plan("--json").json()
    for env in doc["environments"]:
        assert env["error"] is None, env
        assert env["changes"] == 0, env
        for entry in env["entries"]:
            assert entry["actions"] == [] or all(
                a["why"] == "check" for a in entry["actions"]), entry


def test_three_passes_stay_converged(world):
    lay, _, _ = provision(world)
    before = snapshot(world, lay)
    for _ in range(2):
        r = world.gd.once()
        assert r.rc == 0, r
    assert snapshot(world, lay) == before
