"""(l) Exit codes and config errors."""

import os
import re

import pytest

from world import CATALOG, standard_layout, to_yaml


def _config_with_unknown_key(world):
    good = world.gd.config()
    good.pop("reconcile", None)
    text = "# line 1\n" + to_yaml({k: v for k, v in good.items() if k != "environments"})
    lines = text.splitlines()
    lines.insert(1, "reconcile:")
    lines.insert(2, "  intervall: 60s")  # line 3, col 3
    text = "\n".join(lines) + "\n" + to_yaml({"environments": good["environments"]})
    return world.gd.write_config(text)


def test_unknown_config_key_is_exit_2_with_position(world):
    path = _config_with_unknown_key(world)
    r = world.gd.once()
    assert r.rc == 2, r
    assert re.search(re.escape(path) + r":3:3\b", r.err) or \
        re.search(r"gprdsd\.yaml:3:3\b", r.err), f"expected {path}:3:3 in stderr:{r}"
    assert "intervall" in r.err, r
    assert world.app_secret_names() == []


def test_check_config(world):
    world.gd.write_config()
    r = world.gd.run("--check-config")
    assert r.rc == 0, r
    _config_with_unknown_key(world)
    r = world.gd.run("--check-config")
    assert r.rc == 2, r
    assert "gprdsd.yaml:3:" in r.err, r


def test_check_config_repository_must_be_git_checkout(world):
    missing = os.path.join(world.tmp, "no-such-checkout")
    world.gd.write_config(repository={"path": missing})
    r = world.gd.run("--check-config")
    assert r.rc == 2, r
    assert f"repository.path {missing}:" in r.err, r
    plain = os.path.join(world.tmp, "not-a-checkout")
    os.makedirs(plain)
    world.gd.write_config(repository={"path": plain})
    r = world.gd.run("--check-config")
    assert r.rc == 2, r
    assert f"repository.path {plain} is not a git checkout" in r.err, r
    world.gd.write_config()
    assert world.gd.run("--check-config").rc == 0


def test_catalog_not_found_names_full_path(world):
    world.repo.write_layout(standard_layout(world.uid))
    world.repo.remove(CATALOG)
    world.repo.commit("no catalog")
    r = world.gd.run("validate", "--repo", world.repo.path, config=False)
    assert r.rc == 1, r
    full = os.path.join(os.path.realpath(world.repo.path), CATALOG)
    assert f"catalog not found at {full}" in r.out + r.err, r


def test_plan_and_status_with_bad_config_exit_2(world):
    _config_with_unknown_key(world)
    assert world.gd.plan().rc == 2
    assert world.gd.status().rc == 2


def test_missing_config_file(world):
    r = world.gd.run("--once", "--config", world.tmp + "/nope.yaml", config=False)
    assert r.rc == 2, r
    assert "nope.yaml" in r.err, r


def test_unknown_option_is_usage_error(world):
    r = world.gd.run("--no-such-option", config=False)
    assert r.rc == 2, r


def test_unknown_env_is_usage_error(world):
    world.gd.write_config()
    r = world.gd.once("--env", "nowhere")
    assert r.rc == 2, r


@pytest.mark.parametrize("option,value,allowed", [
    ("--log-level", "verbose", "debug, info, notice, warning or error"),
    ("--log-target", "file", "auto, journal or console"),
    ("--color", "bright", "auto, always or never"),
])
def test_bad_log_option_names_it_and_allowed_values(world, option, value, allowed):
    world.gd.write_config()
    r = world.gd.run("--check-config", option, value)
    assert r.rc == 2, r
    assert f'{option} "{value}": must be {allowed}' in r.err, r


def test_unknown_command_hints_once(world):
    r = world.gd.run("version", config=False)
    assert r.rc == 2, r
    assert 'unknown command "version"' in r.err, r
    assert r.err.count("--help") == 1, r


def test_version_and_help(world):
    r = world.gd.run("--version", config=False)
    assert r.rc == 0 and re.search(r"\d+\.\d+\.\d+", r.out + r.err), r
    r = world.gd.run("--help", config=False)
    assert r.rc == 0, r
    for word in ("--once", "plan", "validate", "status", "--config"):
        assert word in r.out + r.err, f"--help does not mention {word}:{r}"


@pytest.mark.parametrize("args", [
    ("plan", "--no-such-option", "--detailed-exitcode"),
    ("plan", "--detailed-exitcode", "--no-such-option"),
    ("plan", "--detailed-exitcode", "--config", "{tmp}/nope.yaml"),
    ("plan", "--detailed-exitcode", "--env", "nowhere"),
    ("plan", "--detailed-exitcode", "--format", "nope"),
    ("plan", "--detailed-exitcode", "stray"),
    ("status", "--detailed-exitcode"),
])
def test_detailed_exitcode_errors_are_exit_1(world, args):
    """With --detailed-exitcode, 2 says only "changes pending": every error is 1."""
    world.gd.write_config()
    args = [a.format(tmp=world.tmp) for a in args]
    if "--config" not in args:
        args += ["--config", world.gd.config_path]
    r = world.gd.run(*args, config=False)
    assert r.rc == 1, r
    assert r.err, r


def test_without_detailed_exitcode_errors_stay_exit_2(world):
    world.gd.write_config()
    assert world.gd.plan("--no-such-option").rc == 2
    assert world.gd.plan("--env", "nowhere").rc == 2
    assert world.gd.run("plan", "--config", world.tmp + "/nope.yaml", config=False).rc == 2


@pytest.mark.parametrize("command", [("plan",), ("validate",), ("status",), ("plan", "--json")])
def test_global_options_before_or_after_the_command(world, command):
    """As git's and terraform's: `gprdsd --config X plan` is `gprdsd plan --config X`."""
    world.repo.write_layout(standard_layout(world.uid))
    cfg = world.gd.write_config()
    after = world.gd.run(*command, "--config", cfg, config=False)
    before = world.gd.run("--config", cfg, *command, config=False)
    equals = world.gd.run("--config=" + cfg, "--env", "dev", *command, config=False)
    assert after.rc == 0, after
    assert before.rc == after.rc and before.out == after.out, (before, after)
    assert equals.rc == 0 and "unexpected argument" not in equals.err, equals


def test_once_with_config_before_it(world):
    world.repo.write_layout(standard_layout(world.uid))
    cfg = world.gd.write_config()
    r = world.gd.run("--config=" + cfg, "--once", config=False)
    assert r.rc == 0, r
    r = world.gd.run("-c", cfg, "--once", config=False)
    assert r.rc == 0, r


def test_command_word_and_option_conflict_or_stray_word(world):
    cfg = world.gd.write_config()
    for args in (("--once", "plan"), ("plan", "extra"), ("bogus",), ("--config", cfg, "bogus")):
        r = world.gd.run(*args, config=False)
        assert r.rc == 2, r


def test_missing_config_names_the_example_beside_it(world):
    """A first start after `meson install`: gprdsd.yaml.example sits where gprdsd.yaml is
    looked for; the error says what to do, and nothing was written."""
    d = os.path.join(world.tmp, "etc-gprdsd")
    os.makedirs(d)
    with open(os.path.join(d, "gprdsd.yaml.example"), "w") as f:
        f.write("# example\n")
    r = world.gd.run("--check-config", "--config", os.path.join(d, "gprdsd.yaml"),
                     config=False)
    assert r.rc == 2, r
    assert f"cp {d}/gprdsd.yaml.example {d}/gprdsd.yaml" in r.err, r
    assert sorted(os.listdir(d)) == ["gprdsd.yaml.example"]


def test_verify_goes_with_once_or_plan(world):
    cfg = world.gd.write_config()
    for command in (("status",), ("validate",), ("--check-config",), ()):
        r = world.gd.run(*command, "--verify", "--config", cfg, config=False)
        assert r.rc == 2 and "--verify goes with --once or plan" in r.err, r
