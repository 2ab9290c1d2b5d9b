"""The shipped systemd files: units that systemd accepts, a sandbox that keeps its score, and a
journal catalog that explains every MESSAGE_ID the daemon can send.

Needs only systemd's own tools (Debian package `systemd`); no PostgreSQL, no moto, no running
systemd (everything is checked offline, against files). Skipped only when systemd-analyze is
missing.
"""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

SRC = Path(os.environ.get("GPRDSD_SRC") or Path(__file__).resolve().parents[2])
UNIT_DIR = SRC / "contrib" / "systemd"
LOG_H = SRC / "daemon" / "log.h"

UNITS = ["gprdsd.service", "gprdsd-once.service", "gprdsd-once.timer"]
SERVICES = ["gprdsd.service", "gprdsd-once.service"]
MAX_EXPOSURE = 2.0

# Executables the units name; verify insists that they exist and are executable.
UNIT_EXECUTABLES = ["usr/sbin/gprdsd", "bin/kill"]

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze not installed (Debian package: systemd)")


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, SYSTEMD_PAGER="", SYSTEMD_COLORS="0",
                                   SYSTEMD_LOG_COLOR="0"))


def host_unit_dir():
    """The directory holding systemd's own targets (sysinit.target and friends)."""
    candidates = [Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")]
    if shutil.which("pkg-config"):
        r = run("pkg-config", "--variable=systemdsystemunitdir", "systemd")
        if r.returncode == 0 and r.stdout.strip():
            candidates.insert(0, Path(r.stdout.strip()))
    for d in candidates:
        if (d / "sysinit.target").exists():
            return d
    pytest.skip("systemd's own unit files (sysinit.target) not found")


@pytest.fixture(scope="module")
def verify_root(tmp_path_factory):
    """A root directory in which `systemd-analyze verify --root=` can load the units unchanged.

    verify checks that every Exec*= command exists and is executable and that the units'
    dependencies (sysinit.target, network-online.target, ...) can be loaded. On a build host
    /usr/sbin/gprdsd is not installed, so the check runs against a root holding stub
    executables, systemd's targets, and the units exactly as shipped.
    """
    root = tmp_path_factory.mktemp("root")
    for rel in UNIT_EXECUTABLES:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("#!/bin/sh\nexit 0\n")
        p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    targets = root / "usr" / "lib" / "systemd" / "system"
    targets.mkdir(parents=True)
    for t in host_unit_dir().glob("*.target"):
        shutil.copy(t, targets / t.name)  # follows symlinks, which would dangle inside root
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    for u in UNITS:
        shutil.copy(UNIT_DIR / u, units / u)
    return root


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_unit_verifies(verify_root, unit):
    # --man=no: the man pages named in Documentation= are not written yet. verify reports
    # unknown keys and unparsable values as warnings with exit status 0, so any output fails.
    r = run(ANALYZE, "verify", "--man=no", f"--root={verify_root}", unit)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (r.stdout + r.stderr).strip() == "", r.stdout + r.stderr


@needs_analyze
@pytest.mark.parametrize("unit", SERVICES)
def test_unit_sandbox_exposure(unit):
    r = run(ANALYZE, "security", "--offline=true", "--no-pager", str(UNIT_DIR / unit))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    m = re.search(r"Overall exposure level for (\S+): (\d+(?:\.\d+)?)", out)
    assert m, out
    assert m.group(1) == unit
    exposure = float(m.group(2))
    assert exposure <= MAX_EXPOSURE, f"{unit}: exposure {exposure} > {MAX_EXPOSURE}\n{out}"


def message_ids():
    ids = re.findall(r'^#define\s+GPD_MID_\w+\s+"([^"]*)"', LOG_H.read_text(), re.M)
    assert ids, f"no GPD_MID_* in {LOG_H}"
    return ids


def catalog_entries():
    """{id: header and text} from gprdsd.catalog, in journalctl's catalog format."""
    text = (UNIT_DIR / "gprdsd.catalog").read_text()
    entries, ids = {}, []
    for block in re.split(r"^-- ", text, flags=re.M)[1:]:
        head, _, body = block.partition("\n")
        ids.append(head.strip())
        entries[head.strip()] = body
    assert len(ids) == len(set(ids)), f"duplicate catalog entries: {sorted(ids)}"
    return entries


def test_message_ids_are_valid_id128():
    ids = message_ids()
    assert len(ids) == len(set(ids)), f"duplicate MESSAGE_IDs in log.h: {ids}"
    for i in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", i), f"not a 128-bit id in lower-case hex: {i}"


def test_catalog_covers_every_message_id():
    ids, entries = set(message_ids()), catalog_entries()
    assert ids - entries.keys() == set(), "MESSAGE_IDs without a catalog entry"
    assert entries.keys() - ids == set(), "catalog entries for no MESSAGE_ID in log.h"
    for i, body in entries.items():
        header, _, text = body.partition("\n\n")
        fields = dict(line.split(": ", 1) for line in header.splitlines() if line)
        assert fields.get("Subject"), f"{i}: no Subject"
        assert fields.get("Defined-By") == "gprdsd", f"{i}: Defined-By is not gprdsd"
        assert fields.get("Support"), f"{i}: no Support"
        assert text.strip(), f"{i}: no explanation"


@pytest.mark.skipif(shutil.which("journalctl") is None, reason="journalctl not installed")
def test_catalog_compiles(tmp_path):
    # journalctl --update-catalog is what packaging runs on install; run it against a scratch
    # root and read back what it understood.
    catdir = tmp_path / "usr" / "lib" / "systemd" / "catalog"
    catdir.mkdir(parents=True)
    (tmp_path / "var" / "lib" / "systemd" / "catalog").mkdir(parents=True)
    shutil.copy(UNIT_DIR / "gprdsd.catalog", catdir / "gprdsd.catalog")
    r = run("journalctl", f"--root={tmp_path}", "--update-catalog")
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    r = run("journalctl", f"--root={tmp_path}", "--list-catalog")
    assert r.returncode == 0, r.stderr
    listed = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    assert sorted(listed) == sorted(message_ids())


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None,
                    reason="systemd-sysusers not installed")
def test_sysusers_creates_the_user(tmp_path):
    (tmp_path / "etc").mkdir()
    for f in ("passwd", "group"):
        (tmp_path / "etc" / f).touch()
    r = run("systemd-sysusers", f"--root={tmp_path}", str(UNIT_DIR / "gprdsd.sysusers"))
    assert r.returncode == 0, r.stderr
    user = [line for line in (tmp_path / "etc" / "passwd").read_text().splitlines()
            if line.startswith("gprdsd:")]
    assert len(user) == 1 and user[0].split(":")[5] == "/var/lib/gprdsd", user
