"""(l) `gprdsd validate` as a person and a CI job read it: one diagnostic per mistake, with a
"did you mean"; the summary last, counting what was printed; `--json` (format_version 1),
saying the same as the text form."""

import json
import os
import re

import pytest

from world import CATALOG, EXAMPLE_REPO, Repo

TEST_TFVARS = "envs/test/terraform.tfvars"
DIAG = re.compile(r"^(?P<file>[^:\s]+)(?::(?P<line>\d+):(?P<col>\d+))?: "
                  r"(?P<sev>error|warning|note): (?P<msg>.*)$")
GITHUB = re.compile(r"^::(?P<sev>error|warning|notice) (?:file=[^:]*)?::(?P<msg>.*)$")
SUMMARY = re.compile(r"^(\d+) errors?, (\d+) warnings?(?:, (\d+) notes?)?$")


# The example checkout's two prod request contracts have no tfvars entry: a warning each.
EXAMPLE_WARNINGS = 2


def example_copy(world, edit=None):
    """The example checkout, copied; edit(repo) changes it before validation."""
    repo = Repo(os.path.join(world.tmp, "example"))
    repo.copy_from(EXAMPLE_REPO)
    if edit:
        edit(repo)
    return repo


def replace_once(repo, rel, old, new):
    text = repo.read(rel).decode()
    assert old in text, f"{old!r} not in {rel}"
    repo.write(rel, text.replace(old, new, 1))
    text = text.replace(old, new, 1)
    line = text[:text.index(new)].count("\n") + 1
    col = text.index(new) - text.rfind("\n", 0, text.index(new))
    return line, col


def validate(world, repo, *args):
    return world.gd.run("validate", "--repo", repo.path, *args, config=False)


def counted(lines, summary):
    """(errors, warnings, notes) as printed, and as the summary says."""
    sev = {"error": 0, "warning": 0, "note": 0}
    for x in lines:
        sev[x] += 1
    m = SUMMARY.match(summary)
    assert m, f"the last line is not the summary: {summary!r}"
    said = tuple(int(g or 0) for g in m.groups())
    return (sev["error"], sev["warning"], sev["note"]), said


def text_diags(r):
    """The diagnostic lines of a text run (stdout), the summary being its last line."""
    lines = r.out.splitlines()
    assert lines, r
    diags = [DIAG.match(x) for x in lines[:-1]]
    assert all(diags), f"a line before the summary is not a diagnostic:{r}"
    return diags, lines[-1]


def misspelt(world, rel, old, new):
    """validate on the example checkout with old replaced by new in rel: (line, col) of new,
    the result, its diagnostics and its summary line."""
    repo = example_copy(world)
    pos = replace_once(repo, rel, old, new)
    r = validate(world, repo)
    assert r.rc == 1, r
    return (pos,) + (r,) + text_diags(r)


def test_misspelt_tfvars_attribute_is_one_error_with_hint(world):
    (line, col), r, diags, summary = misspelt(world, TEST_TFVARS, 'username      = "notify_user"',
                                              'usernme       = "notify_user"')
    errors = [d for d in diags if d["sev"] == "error"]
    assert len(errors) == 1, r
    assert errors[0]["file"] == TEST_TFVARS and int(errors[0]["line"]) == line, r
    assert int(errors[0]["col"]) == col, r
    assert errors[0]["msg"] == ('unknown attribute "usernme" in rds_config.application_databases'
                                '["notifications"] (did you mean "username"?)'), r
    assert "is missing" not in r.out, r
    # The editor entry on the same database is held because of it: a note, saying why.
    notes = [d for d in diags if d["sev"] == "note"]
    assert [d["msg"] for d in notes] == ['held: its owner entry "notifications" is invalid'], r
    assert summary == f"1 error, {EXAMPLE_WARNINGS} warnings, 1 note", r


def test_misspelt_catalog_key_is_one_error_with_hint(world):
    (line, _), r, diags, summary = misspelt(world, CATALOG, "      risk: high\n",
                                            "      rsk: high\n")
    assert [(d["sev"], d["file"], int(d["line"]), d["msg"]) for d in diags
            if d["sev"] != "warning"] == [
        ("error", CATALOG, line, 'unknown key "rsk" in metadata of database "orders_service" '
                                 '(did you mean "risk"?)')], r
    assert summary == f"1 error, {EXAMPLE_WARNINGS} warnings", r


def _several_problems(repo):
    """Errors, warnings, notes, and a catalog problem that the catalog's checks and the join
    both find (it must be printed and counted once)."""
    replace_once(repo, TEST_TFVARS, 'username      = "notify_user"', 'usernme       = "notify_user"')
    replace_once(repo, CATALOG, "      risk: low\n", "      risk: extreme\n")
    replace_once(repo, CATALOG, "      instance_class: db.t3.micro\n",
                 "      instance_class: db.t3.large\n")


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_summary_is_last_and_counts_what_was_printed(world, fmt):
    repo = example_copy(world, _several_problems)
    r = validate(world, repo, f"--format={fmt}")
    assert r.rc == 1, r
    lines = r.out.splitlines()
    if fmt == "text":
        diags, summary = text_diags(r)
        sevs = [d["sev"] for d in diags]
        shown = lines[:-1]
    else:
        shown = lines[:-1]
        diags = [GITHUB.match(x) for x in shown]
        assert all(diags), f"a line before the summary is not an annotation:{r}"
        sevs = [{"notice": "note"}.get(d["sev"], d["sev"]) for d in diags]
        summary = lines[-1]
    got, said = counted(sevs, summary)
    assert got == said, f"printed {got}, summary says {said}:{r}"
    assert got[0] >= 2 and got[1] >= 1 and got[2] >= 1, r
    assert len(shown) == len(set(shown)), f"a diagnostic was printed twice:{r}"


def _json_line(d):
    """The text form of a JSON diagnostic."""
    where = d["file"] + (f":{d['line']}:{d['column']}" if d["line"] else "")
    return f"{where}: {d['severity']}: {d['message']}"


def test_validate_json(world):
    repo = example_copy(world, _several_problems)
    text = validate(world, repo)
    r = validate(world, repo, "--json")
    assert r.rc == text.rc == 1, r
    doc = r.json()
    assert doc["format_version"] == 1, doc
    assert doc["ok"] is False
    for d in doc["diagnostics"]:
        assert set(d) == {"severity", "file", "line", "column", "env", "key", "message"}, d
    # The same diagnostics as the text form, in the same order, counted the same.
    assert [_json_line(d) for d in doc["diagnostics"]] == text.out.splitlines()[:-1], (r, text)
    sevs = [d["severity"] for d in doc["diagnostics"]]
    assert (doc["errors"], doc["warnings"], doc["notes"]) == \
        (sevs.count("error"), sevs.count("warning"), sevs.count("note")), doc
    typo = next(d for d in doc["diagnostics"] if "usernme" in d["message"])
    assert (typo["env"], typo["key"], typo["file"]) == ("test", "notifications", TEST_TFVARS)
    note = next(d for d in doc["diagnostics"] if d["severity"] == "note")
    assert (note["env"], note["key"]) == ("test", "notifications-dispatcher"), note
    risk = next(d for d in doc["diagnostics"] if "extreme" in d["message"])
    assert (risk["file"], risk["key"]) == (CATALOG, "search_index"), risk
    envs = {e["name"]: e for e in doc["environments"]}
    assert set(envs) == {"dev", "test", "prod"}, doc["environments"]
    assert envs["test"]["status"] == "ok" and envs["test"]["reason"] is None
    assert envs["test"]["entries"] == 4 and envs["test"]["held"]["invalid"] >= 2, envs
    assert envs["dev"]["held"]["invalid"] == 0, envs
    # --format=json is --json.
    same = validate(world, repo, "--format=json")
    assert same.rc == r.rc and same.json() == doc, same


def test_validate_json_clean_and_unknown(world):
    repo = example_copy(world)
    r = validate(world, repo, "--json")
    assert r.rc == 0, r
    doc = r.json()
    assert doc["format_version"] == 1 and doc["ok"] is True, doc
    assert doc["errors"] == 0 and doc["warnings"] == EXAMPLE_WARNINGS, doc
    assert all(d["severity"] == "warning" and "no tfvars entry" in d["message"]
               for d in doc["diagnostics"]), doc
    assert [(e["name"], e["status"]) for e in doc["environments"]] == [
        ("dev", "ok"), ("test", "ok"), ("prod", "ok")], doc
    # A tfvars file that does not parse: its environment is unknown, and says why.
    repo.write(TEST_TFVARS, "rds_config = {\n")
    r = validate(world, repo, "--json", "--env", "test")
    assert r.rc == 1, r
    doc = r.json()
    assert doc["ok"] is False and doc["errors"] >= 1, doc
    assert [(e["name"], e["status"]) for e in doc["environments"]] == [("test", "unknown")]
    assert "does not parse" in doc["environments"][0]["reason"], doc
    assert all(d["env"] == "test" for d in doc["diagnostics"]), doc


def test_validate_format_values(world):
    repo = example_copy(world)
    r = validate(world, repo, "--format=yaml")
    assert r.rc == 2 and "--format must be text, github or json" in r.err, r
    r = world.gd.run("--check-config", "--json")
    assert r.rc == 2 and "--json goes with plan, status or validate" in r.err, r
    # The last of --json and --format wins.
    r = validate(world, repo, "--json", "--format=text")
    assert r.rc == 0 and r.out.splitlines()[-1] == f"0 errors, {EXAMPLE_WARNINGS} warnings", r
    json.loads(validate(world, repo, "--format=github", "--json").out)
