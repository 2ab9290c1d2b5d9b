"""The bash completion (contrib/bash-completion/gprdsd) against bash-completion's own helpers:
commands, options, and the environments of the config file given with --config."""

import os
import subprocess
from pathlib import Path

SRC = Path(os.environ.get("GPRDSD_SRC") or Path(__file__).resolve().parents[2])
SCRIPT = SRC / "contrib" / "bash-completion" / "gprdsd"
LIB = "/usr/share/bash-completion/bash_completion"


def complete(line):
    words = line.split(" ")
    prog = f"""
source {LIB}
source {SCRIPT}
COMP_WORDS=({" ".join(repr(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={line!r}
COMP_POINT=${{#COMP_LINE}}
_gprdsd
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    assert os.path.exists(LIB), f"{LIB} missing: scripts/install-deps.sh installs bash-completion"
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, cwd=SRC,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return sorted(x for x in r.stdout.split("\n") if x)


def test_commands_options_and_envs():
    assert complete("gprdsd ") == ["plan", "retry", "rotate", "status", "validate"]
    assert complete("gprdsd st") == ["status"]
    assert complete("gprdsd re") == ["retry"]
    assert complete("gprdsd retry --env dev ") == []  # retry's keys are free
    assert complete("gprdsd plan --det") == ["--detailed-exitcode"]
    assert complete("gprdsd --once --ver") == ["--verify", "--version"]
    assert complete("gprdsd plan ") == []          # one command per line
    assert complete("gprdsd --log-level w") == ["warning"]
    assert complete("gprdsd --once --color a") == ["always", "auto"]
    assert complete("gprdsd validate --format ") == ["github", "json", "text"]
    assert complete("gprdsd --config config/gprdsd.yaml --env ") == ["dev", "test"]
    assert complete("gprdsd --config config/gprdsd.yaml plan -e t") == ["test"]
