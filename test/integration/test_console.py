"""What `--once` and `plan` show a person: on a terminal (a pseudo terminal here, TERM=xterm,
120 columns) one short line per change, in colour, a header per pass with the commit and run
id, the summary, and a progress line on a long pass; with NO_COLOR no escape sequence at
all; through a pipe the grep-able `<level> <message> key=value` lines, without colour,
progress or the per-pass commit and run id on each line (they are in the header; every field
is on every line at --log-level debug)."""

import re

from world import owners_layout, standard_layout

COLUMNS = 120
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HEADER = r"\d\d:\d\d:\d\d {env}: commit [0-9a-f]{{7}}, run [0-9a-f]{{12}}, {n} entr(y|ies)"


def run_on_terminal(world, *args, timeout=180, **env):
    """gprdsd on a pseudo terminal COLUMNS wide: (exit code, everything written, as text)."""
    r = world.gd.on_pty(*args, cols=COLUMNS, env=env, timeout=timeout)
    return r.rc, r.out


def screen(out):
    """The lines left on the screen: ANSI colours out, each line as the last \\r left it."""
    return [ANSI.sub("", ln).split("\r")[-1] for ln in out.split("\n") if ln.strip("\r ")]


def test_once_on_a_terminal_is_one_short_coloured_line_per_change(world):
    lay = standard_layout(world.uid)
    sha = world.repo.write_layout(lay)
    world.gd.write_config()
    rc, out = run_on_terminal(world, "--once")
    print(out)
    assert rc == 0, out
    lines = screen(out)
    u = world.uid
    # one header per environment, then the summary
    for env in ("dev", "test"):
        n = len(lay.env_entries(env))
        assert sum(bool(re.fullmatch(HEADER.format(env=env, n=n), ln)) for ln in lines) == 1, \
            lines
        assert any(re.match(rf"{env}: {n} active, 0 pending, 0 failed; \d+ changes, 0 errors; ",
                            ln) for ln in lines), lines
    assert any(re.fullmatch(rf"\d\d:\d\d:\d\d dev: commit {sha[:7]}, run [0-9a-f]{{12}}, "
                            r"5 entries", ln) for ln in lines), lines
    # one line per change: every audit row of the run (actions and transitions) is one line
    entry_lines = [ln for ln in lines if re.match(r"(dev|test)/\S+  ", ln)]
    rows = world.gd.audit_rows("dev") + world.gd.audit_rows("test")
    assert len(entry_lines) == len(rows), (entry_lines, rows)
    assert f"dev/inventory-{u}  created role inv_owner_{u}" in lines, lines
    assert f"dev/inventory-{u}  pending -> approved" in lines, lines
    assert f"test/search-ro-{u}  granted reader privileges on search_{u} to srch_reader_{u}" \
        in lines, lines
    # short: no line over the terminal's width, no hash or run id after the header
    assert all(len(ln) <= COLUMNS for ln in lines), max(lines, key=len)
    assert sha not in out
    run_id = re.search(r"run ([0-9a-f]{12})", out).group(1)
    assert sum(run_id in ln for ln in lines) == 2, lines  # the two headers
    assert "commit=" not in out and "run=" not in out and "env=" not in out
    # changes in green
    assert f"\x1b[32mcreated role inv_owner_{u}\x1b[0m" in out, out


def test_no_color_means_no_escape_sequence(world):
    world.repo.write_layout(standard_layout(world.uid))
    world.gd.write_config()
    rc, out = run_on_terminal(world, "plan", NO_COLOR="1")
    assert rc == 0, out
    assert "\x1b" not in out, out
    lines = screen(out)
    assert any(re.fullmatch(HEADER.format(env="dev", n=5), ln) for ln in lines), lines
    assert any(ln.startswith("env dev: 5 entries") for ln in lines), lines
    rc, out = run_on_terminal(world, "--once", NO_COLOR="1")
    assert rc == 0, out
    assert "\x1b" not in out, out
    assert f"dev/inventory-{world.uid}  created role inv_owner_{world.uid}" in screen(out)
    # TERM=dumb: no colour either, and the same lines
    rc, out = run_on_terminal(world, "--once", TERM="dumb")
    assert rc == 0 and "\x1b" not in out, out
    assert any(ln.startswith("dev: 5 active") for ln in screen(out)), out


def test_plan_on_a_terminal_has_a_header_and_colour(world):
    world.repo.write_layout(standard_layout(world.uid))
    world.gd.write_config()
    rc, out = run_on_terminal(world, "plan")
    assert rc == 0, out
    assert "\x1b[1m" in out, out  # the header, bold
    lines = screen(out)
    assert any(re.fullmatch(HEADER.format(env="test", n=3), ln) for ln in lines), lines
    assert any(ln.startswith("env test: 3 entries") for ln in lines), lines
    # --color=never: the same lines, no colour
    rc, out = run_on_terminal(world, "plan", "--color=never")
    assert rc == 0 and "\x1b" not in out, out


def test_piped_output_is_plain_and_grep_able(world):
    lay = standard_layout(world.uid)
    sha = world.repo.write_layout(lay)
    world.gd.write_config()
    r = world.gd.once("--env", "dev")
    assert r.rc == 0, r
    u = world.uid
    assert "\x1b" not in r.out + r.err and "\r" not in r.out + r.err, r
    assert re.search(rf"^info dev: commit {sha}, run [0-9a-f]{{12}}, 5 entries$", r.err, re.M), r
    # each event one line, with its fields but not the pass's commit and run id
    line = next(ln for ln in r.err.splitlines() if f"create_role inv_owner_{u} " in ln)
    assert line.startswith(f"info dev/inventory-{u}: create_role inv_owner_{u} (new): "), line
    assert f" env=dev database=inventory_{u} key=inventory-{u} action=create_role" in line, line
    assert "commit=" not in r.err and "run=" not in r.err, r
    assert re.search(r"^dev: 5 active", r.out, re.M), r

    # at debug level every field is on every line again
    r = world.gd.once("--env", "test", "--log-level", "debug")
    assert r.rc == 0, r
    line = next(ln for ln in r.err.splitlines() if "create_role srch_owner_" in ln)
    assert re.search(rf" key=search-{u} action=create_role commit={sha} run=[0-9a-f]{{12}}$",
                     line), line

    # --color=always through a pipe: people's lines in colour, still no progress line
    r = world.gd.once("--color=always")
    assert r.rc == 0, r
    assert "\x1b[1m" in r.err and "\r" not in r.err, r
    assert re.search(HEADER.format(env="dev", n=5), ANSI.sub("", r.err)), r


def test_long_pass_shows_progress_on_a_terminal(world):
    u = world.uid
    # Long enough that entries still finish after the pass's first second, overlapped as
    # they are (30 sometimes all finished within it).
    n = 60
    world.repo.write_layout(owners_layout(u, n, prefix="bulk"))
    world.gd.write_config(envs=["dev"])
    rc, out = run_on_terminal(world, "--once")
    assert rc == 0, out
    steps = [int(m) for m in re.findall(rf"\rdev: entry (\d+) of {n}", out)]
    assert steps, f"no progress line in:\n{out[-3000:]}"
    assert steps == sorted(steps) and steps[-1] <= n, steps
    # not in the pass's first second, then at most ten new figures a second (a line logged
    # in between puts the same figure back under itself)
    seconds = float(re.search(r"; ([\d.]+)s, \d+ SQL", out).group(1))
    assert seconds > 1, f"the pass took {seconds}s: too short to show progress"
    assert len(set(steps)) <= 10 * seconds + 1, (seconds, steps)
    assert steps[0] > 1, steps
    # cleared: no line left on the screen keeps it
    lines = screen(out)
    assert not any("entry" in ln and " of " in ln for ln in lines), lines
    assert lines[-1].startswith(f"dev: {n} active"), lines[-3:]
    # every change line starts on a clean line: the progress line is wiped before it
    for m in re.finditer(rf"dev/bulk\d+-{u}  ", out):
        before = out[max(0, m.start() - 1):m.start()]
        assert before in ("", "\n", "\r"), out[max(0, m.start() - 80):m.end()]
