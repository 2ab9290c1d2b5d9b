"""(f) Bad inputs: each is held or skipped with a positioned error, never crashes gprdsd,
never changes an environment whose desired state is unknown, and never stops the others."""

import os
import re

import pytest

from checks import assert_can_login, provision, snapshot
from world import (CATALOG, EXAMPLE_REPO, Entry, Repo, coupled_tfvars, standard_layout,
                   standalone_tfvars)


def assert_env_untouched(world, lay, env):
    roles, dbs, secrets = world.pg.roles(), world.pg.databases(), world.app_secret_names()
    for e in lay.env_entries(env):
        assert e.username not in roles, f"{env} was skipped but role {e.username} exists"
        assert e.database not in dbs, f"{env} was skipped but database {e.database} exists"
        assert e.secret_name not in secrets, f"{env} was skipped but {e.secret_name} exists"


def assert_env_converged(world, lay, env):
    for e in lay.env_entries(env):
        assert_can_login(world, e)


def assert_no_crash(r):
    assert r.rc >= 0, f"gprdsd was killed by signal {-r.rc}:{r}"
    assert "AddressSanitizer" not in r.err and "runtime error" not in r.err, r


def write_bad_dev(world, text):
    """Standard layout, except dev's tfvars is replaced by text (str or bytes)."""
    return replace_dev_tfvars(world, lambda p: world.repo.write(DEV_TFVARS, text),
                              commit="bad dev tfvars")


# --- invalid entries -------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("database_name", 'evil"; DROP DATABASE postgres; --'),
    ("username", "evil'; DROP ROLE rdsmaster; --"),
    ("database_name", "pg_catalog_copy"),
    ("username", "postgres"),
])
def test_invalid_entry_held_others_provisioned(world, field, value):
    lay = standard_layout(world.uid)
    evil = Entry("dev", f"evil-{world.uid}", f"evil_db_{world.uid}", f"evil_user_{world.uid}")
    setattr(evil, "database" if field == "database_name" else "username", value)
    lay.entries.append(evil)
    dbs_before = world.pg.databases()
    roles_before = world.pg.roles()
    world.repo.write_layout(lay)
    world.gd.write_config()
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, f"an invalid entry must make --once exit 1:{r}"
    assert evil.key in r.err or "terraform.tfvars:" in r.err, r
    assert evil.secret_name not in world.app_secret_names()
    new_dbs = world.pg.databases() - dbs_before
    new_roles = world.pg.roles() - roles_before
    assert new_dbs == {db for _, db in lay.databases() if not db.startswith(("evil", "pg_"))}
    assert new_roles == {e.username for e in lay.entries if e is not evil}
    assert {"postgres", "template1"} <= world.pg.databases()
    for e in lay.entries:
        if e is not evil:
            assert_can_login(world, e)
    st = world.gd.status_json("--env", "dev")
    entries = {x["key"]: x for env in st["environments"] for x in env["entries"]}
    assert evil.key in entries and entries[evil.key]["state"] != "active", entries.get(evil.key)
    assert entries[evil.key]["reason"], entries[evil.key]


# --- an environment whose inputs do not parse ------------------------------------------------

SYNTAX_ERROR = """\
# dev, with a missing '=' on line 5
application_databases = {
  inventory = {
    database_name = "inventory_x"
    username        "inventory_x_user"
  }
}
"""


def test_tfvars_syntax_error_skips_env(world):
    lay = write_bad_dev(world, SYNTAX_ERROR)
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    assert re.search(r"envs/dev-rds/terraform\.tfvars:5:\d+", r.err), \
        f"no file:line:col for the syntax error:{r}"
    assert "inventory_x_user" not in world.pg.roles()
    assert_env_untouched(world, lay, "dev")
    assert_env_converged(world, lay, "test")


def test_tfvars_syntax_error_never_reads_as_removal(world):
    lay, _, _ = provision(world)
    before = snapshot(world, lay)
    dev_audit = world.gd.audit_rows("dev")
    world.repo.write("envs/dev-rds/terraform.tfvars", SYNTAX_ERROR)
    world.repo.commit("break dev")
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    after = snapshot(world, lay)
    assert after["versions"] == before["versions"]
    assert after["roles"] == before["roles"]
    assert after["dbs"] == before["dbs"]
    for e in lay.entries:
        assert_can_login(world, e)
    new = world.gd.audit_rows("dev")[len(dev_audit):]
    assert all(x["status"] in ("error", "warning") for x in new), new
    st = world.gd.status_json("--env", "dev")
    for env in st["environments"]:
        for x in env["entries"]:
            assert x["state"] not in ("decommissioning", "decommissioned"), x


def test_nul_byte_in_catalog_skips_every_env(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    text = world.repo.read(CATALOG)
    world.repo.write(CATALOG, text.replace(b"databases:", b"databases:\x00", 1))
    world.repo.commit("NUL")
    world.gd.write_config()
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    assert "rds-catalog.yaml" in r.err, r
    for env in ("dev", "test"):
        assert_env_untouched(world, lay, env)


def test_catalog_that_does_not_parse_skips_every_env(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    world.repo.write(CATALOG, 'version: "1.0"\ndatabases:\n  inventory: [unclosed\n'
                              '  other: {a: b\n')
    world.repo.commit("broken catalog")
    world.gd.write_config()
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    assert re.search(r"rds-catalog\.yaml:\d+:\d+", r.err), r
    for env in ("dev", "test"):
        assert_env_untouched(world, lay, env)


def test_invalid_utf8_in_tfvars(world):
    u = world.uid
    text = (b'application_databases = {\n'
            b'  inv = {\n'
            b'    database_name = "inv_' + u.encode() + b'"\n'
            b'    username      = "inv_\xff\xfe_' + u.encode() + b'"\n'
            b'  }\n'
            b'}\n')
    lay = write_bad_dev(world, text)
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    assert re.search(r"terraform\.tfvars:4:\d+", r.err), f"no position for bad UTF-8:{r}"
    assert not any(x.startswith("inv_") and x.endswith(u) for x in world.pg.roles())
    assert f"inv_{u}" not in world.pg.databases()
    assert_env_converged(world, lay, "test")


def test_deeply_nested_tfvars(world):
    lay = write_bad_dev(world, "application_databases = " + "[" * 200_000 + "\n")
    r = world.gd.once(timeout=60)
    assert_no_crash(r)
    assert r.rc == 1, r
    assert "terraform.tfvars" in r.err, r
    assert len(r.err) < 100_000, "error output should be one clear message, not a flood"
    assert_env_untouched(world, lay, "dev")
    assert_env_converged(world, lay, "test")


def test_deeply_nested_catalog(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    world.repo.write(CATALOG, 'version: "1.0"\ndatabases: ' + "[" * 200_000 + "\n")
    world.repo.commit("deep catalog")
    world.gd.write_config()
    r = world.gd.once(timeout=60)
    assert_no_crash(r)
    assert r.rc == 1, r
    assert "rds-catalog.yaml" in r.err, r
    for env in ("dev", "test"):
        assert_env_untouched(world, lay, env)


def test_missing_tfvars_is_env_error(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    world.repo.remove("envs/test")
    world.repo.commit("no test tfvars")
    world.gd.write_config()
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    assert "test" in r.err and ("tfvars" in r.err or "envs/test" in r.err), r
    assert_env_untouched(world, lay, "test")
    assert_env_converged(world, lay, "dev")


# --- gprdsd validate ------------------------------------------------------------------------

def _bad_repo(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    world.repo.write("envs/dev-rds/terraform.tfvars", SYNTAX_ERROR)
    world.repo.commit("bad")
    return world.repo.path


def test_validate_text_reports_position(world):
    repo = _bad_repo(world)
    r = world.gd.run("validate", "--repo", repo, config=False)
    assert r.rc == 1, r
    out = r.out + r.err
    assert re.search(r"envs/dev-rds/terraform\.tfvars:5:\d+: error: ", out), r


def test_validate_github_format(world):
    repo = _bad_repo(world)
    r = world.gd.run("validate", "--repo", repo, "--format=github", config=False)
    assert r.rc == 1, r
    lines = [x for x in (r.out + r.err).splitlines() if x.startswith("::error ")]
    assert lines, f"no ::error lines:{r}"
    assert any(re.match(r"::error file=[^,]*envs/dev-rds/terraform\.tfvars,line=5,col=\d+::.+",
                        x) for x in lines), lines


def test_validate_invalid_entry_position(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    text = standalone_tfvars("dev", {
        "good": {"database_name": f"good_{world.uid}", "username": f"good_{world.uid}"},
        "bad": {"database_name": "Bad-Name!", "username": f"bad_{world.uid}"}})
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "Bad-Name!" in x)
    world.repo.write("envs/dev-rds/terraform.tfvars", text)
    world.repo.commit("bad name")
    r = world.gd.run("validate", "--repo", world.repo.path, config=False)
    assert r.rc == 1, r
    assert re.search(rf"terraform\.tfvars:{line}:\d+: error: ", r.out + r.err), r


def test_validate_example_repo_is_clean(world):
    r = world.gd.run("validate", "--repo", EXAMPLE_REPO, config=False)
    assert r.rc == 0, r
    assert not re.search(r":\d+:\d+: error: ", r.out + r.err), r
    r = world.gd.run("validate", "--repo", EXAMPLE_REPO, "--format=github", config=False)
    assert r.rc == 0, r
    assert "::error" not in r.out + r.err, r


def test_validate_needs_no_network(world):
    """validate reads files only: it works with no AWS or PostgreSQL configured at all."""
    repo = Repo(os.path.join(world.tmp, "copy"))
    repo.copy_from(EXAMPLE_REPO)
    r = world.gd.run("validate", "--repo", repo.path, config=False)
    assert r.rc == 0, r


def _test_rds_disabled(world):
    """Standard layout, except that test's rds_config is disabled (not committed)."""
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    entries = {e.key: {"database_name": e.database, "username": e.username,
                       "access_level": e.access} for e in lay.env_entries("test")}
    world.repo.write("envs/test/terraform.tfvars", coupled_tfvars("test", entries,
                                                                  enabled=False))
    return lay


def test_validate_repo_env_without_rds_has_no_databases(world):
    """validate --repo on a platform repository where only dev has RDS: test's tfvars has
    rds_config disabled, staging's has no rds_config at all, prod has no tfvars. They have
    no databases; that is said, and is not an error."""
    _test_rds_disabled(world)
    world.repo.write("envs/staging/terraform.tfvars",
                     'cluster_name = "goldenpath-staging"\n'
                     'eks_config = { node_count = 2 }\n')
    world.repo.commit("only dev has rds")
    r = world.gd.run("validate", "--repo", world.repo.path, config=False)
    assert_no_crash(r)
    assert r.rc == 0, r
    assert r.out.splitlines()[-1] == "0 errors, 0 warnings", r
    assert re.search(r"^test: no databases", r.err, re.M), r
    assert re.search(r"^staging: no databases", r.err, re.M), r
    assert "dev: no databases" not in r.err and "prod" not in r.out + r.err, r
    r = world.gd.run("validate", "--repo", world.repo.path, "--format=github", config=False)
    assert r.rc == 0, r
    assert "::error" not in r.out + r.err, r


def test_coupled_disabled_without_standalone_is_env_error(world):
    """auto mode: rds_config.enabled = false and no envs/test-rds → the inputs are missing,
    which is an error for that environment and changes nothing (DESIGN §1.1)."""
    lay = _test_rds_disabled(world)
    world.repo.commit("test: rds disabled")
    world.gd.write_config()
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    assert_env_untouched(world, lay, "test")
    assert_env_converged(world, lay, "dev")


# --- inputs come from the checkout, as regular files, and nowhere else ------------------------

DEV_TFVARS = "envs/dev-rds/terraform.tfvars"


def replace_dev_tfvars(world, make, commit=None):
    """Standard layout, except that dev's tfvars path is what make(path) puts there."""
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    path = os.path.join(world.repo.path, DEV_TFVARS)
    os.unlink(path)
    make(path)
    if commit:
        world.repo.commit(commit)
    world.gd.write_config()
    return lay


def assert_dev_refused(world, lay, r, why):
    assert_no_crash(r)
    assert r.rc == 1, r
    assert re.search(re.escape(DEV_TFVARS) + r": error: cannot read: " + why, r.err), r
    assert_env_untouched(world, lay, "dev")
    assert_env_converged(world, lay, "test")


def test_tfvars_fifo_is_refused_promptly(world):
    lay = replace_dev_tfvars(world, os.mkfifo)
    r = world.gd.once(timeout=60)
    assert_dev_refused(world, lay, r, "it is a FIFO, not a regular file")


def test_tfvars_symlink_to_fifo_is_refused_promptly(world):
    fifo = os.path.join(world.repo.path, "pipe")
    os.mkfifo(fifo)
    lay = replace_dev_tfvars(world, lambda p: os.symlink("../../pipe", p))
    r = world.gd.once(timeout=60)
    assert_dev_refused(world, lay, r, "it is a FIFO, not a regular file")


def dev_tfvars_text(world):
    lay = standard_layout(world.uid)
    return standalone_tfvars("dev", {e.key: {"database_name": e.database, "username": e.username,
                                             "access_level": e.access}
                                     for e in lay.env_entries("dev")})


@pytest.mark.parametrize("relative", [False, True])
def test_tfvars_symlink_out_of_checkout_is_refused(world, relative):
    outside = os.path.join(world.tmp, "outside.tfvars")
    with open(outside, "w") as f:
        f.write(dev_tfvars_text(world))
    target = os.path.relpath(outside, os.path.dirname(os.path.join(world.repo.path, DEV_TFVARS))) \
        if relative else outside
    lay = replace_dev_tfvars(world, lambda p: os.symlink(target, p))
    r = world.gd.once(timeout=60)
    assert_dev_refused(world, lay, r, "it leads outside the checkout")


def test_tfvars_symlink_inside_checkout_works(world):
    def link_to_shared(path):
        world.repo.write("shared/dev.tfvars", dev_tfvars_text(world))
        os.symlink("../../shared/dev.tfvars", path)

    lay = replace_dev_tfvars(world, link_to_shared)
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 0, r
    assert_env_converged(world, lay, "dev")
    assert_env_converged(world, lay, "test")


# --- secret names within Secrets Manager's rules --------------------------------------------

def test_overlong_secret_template_fails_check_config(world):
    cfg = world.gd.config()
    cfg["environments"]["dev"]["secret"] = {"name": "a" * 450 + "/{env}/{key}"}
    world.gd.write_config(cfg)
    r = world.gd.run("--check-config")
    assert r.rc == 2, r
    assert re.search(r"gprdsd\.yaml:\d+:\d+: error: environments\.dev\.secret\.name: expands, "
                     r"for an app key of 63 characters .* longer than 512 characters", r.err), r
    assert world.app_secret_names() == []


# --- structured log fields are escaped like messages ----------------------------------------

def test_rejected_name_is_escaped_in_log_fields(world):
    lay = standard_layout(world.uid)
    evil = Entry("dev", f"evil\u202e{world.uid}", f"evil_db_{world.uid}",
                 f"evil_user_{world.uid}")
    lay.entries.append(evil)
    world.repo.write_layout(lay)
    world.gd.write_config()
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    tails = re.findall(r' key=("(?:[^"\\]|\\.)*"|\S+)', r.err)
    assert any("\\\\xe2\\\\x80\\\\xae" in t for t in tails), r
    assert not any("\u202e" in t for t in tails), r
    assert "\u202e" not in r.err, r


def test_once_reports_a_catalog_problem_once(world):
    """--once reads the shared files once for every environment and says what is wrong with
    them once; an environment's pass does not say it again."""
    lay = standard_layout(world.uid)
    db = next(db for env, db in lay.databases() if env == "dev")
    lay.catalog[db]["metadata"]["risk"] = "extreme"
    world.repo.write_layout(lay)
    world.gd.write_config()
    r = world.gd.once()
    assert_no_crash(r)
    assert r.rc == 1, r
    said = [x for x in (r.out + r.err).splitlines() if 'risk "extreme" is not one of' in x
            and "held" not in x]
    assert len(said) == 1, r
