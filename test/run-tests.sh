#!/usr/bin/env bash
# run-tests.sh — the whole test suite, as CI runs it (via .ci/run) and as a developer runs it.
#
#  1. installs what is missing (scripts/install-deps.sh: Debian packages when root, and a
#     Python venv at .venv with moto, boto3, psycopg2 and pytest);
#  2. builds with -Dwerror=true in build-ci (GPRDSD_BUILD_DIR overrides);
#  3. unit tests: `meson test --suite unit`; every cmocka case is counted (each program runs
#     with CMOCKA_MESSAGE_OUTPUT=xml into its own file); a program that crashes or fails
#     without reporting a failed case counts as one failure;
#  4. fuzz: test/fuzz/run.sh builds the libFuzzer harnesses with clang in build-fuzz and runs
#     each for GPRDSD_FUZZ_SECONDS (default 20); each harness counts as one test, failed when
#     it found a crash, a leak or a broken property (the input is kept in build-fuzz/fuzz);
#  5. integration tests: pytest on test/integration against a real throwaway PostgreSQL and
#     moto's Secrets Manager, both started by the fixtures (test/integration/conftest.py);
#     every junit testcase is counted, skipped ones as skipped.
#
# The last line of output is always `N passed, N failed[, N skipped]`. Exit status is 0 only
# when nothing failed and at least one test ran. Whatever the fixtures started is stopped on
# every exit path (they register their processes in $GPRDSD_TEST_RUNDIR).
#
# Environment: GPRDSD_BUILD_DIR (default build-ci), PYTEST_ADDOPTS (extra pytest options,
# e.g. `-k drift`), GPRDSD_TEST_KEEP=1 keeps the servers' logs and temp dirs,
# GPRDSD_VALGRIND=0 skips the daemon-under-valgrind test, GPRDSD_FUZZ=0 the fuzz stage,
# GPRDSD_ASAN=0 the unit tests under ASan/UBSan (build-asan).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
build=${GPRDSD_BUILD_DIR:-build-ci}
results=$root/$build/test-results
work=$(mktemp -d "${TMPDIR:-/tmp}/gprdsd-run.XXXXXX") || exit 1
chmod 755 "$work"
export GPRDSD_TEST_RUNDIR=$work/run
mkdir -p "$GPRDSD_TEST_RUNDIR"

as_pg_owner() {
	# PostgreSQL refuses to run as root: the fixtures run it as `postgres` when we are root.
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_started() {
	# Fixtures register `<name>.pgdata` (a data directory) and `<name>.pid` (a process group
	# leader) files and remove them when they stop cleanly; anything left here is stale.
	local f pid pgbin=/usr/lib/postgresql/15/bin
	for f in "$GPRDSD_TEST_RUNDIR"/*.pgdata; do
		[ -e "$f" ] || continue
		as_pg_owner "$pgbin/pg_ctl" -D "$(cat "$f")" -m immediate -w stop >/dev/null 2>&1
		rm -f "$f"
	done
	for f in "$GPRDSD_TEST_RUNDIR"/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		case $pid in '' | *[!0-9]*) ;; *) kill -TERM -- "-$pid" >/dev/null 2>&1 ;; esac
		rm -f "$f"
	done
	# Then their temp dirs (data directories, logs), unless asked to keep them.
	for f in "$GPRDSD_TEST_RUNDIR"/*.dir; do
		[ -e "$f" ] || continue
		case $(cat "$f") in
		/*/gprdsd-*) [ "${GPRDSD_TEST_KEEP:-0}" = 1 ] || rm -rf -- "$(cat "$f")" ;;
		esac
		rm -f "$f"
	done
}

cleanup() {
	stop_started
	if [ "${GPRDSD_TEST_KEEP:-0}" = 1 ]; then
		echo "kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

summary() {
	# summary PASSED FAILED SKIPPED — always the last line.
	if [ "$3" -gt 0 ]; then
		echo "$1 passed, $2 failed, $3 skipped"
	else
		echo "$1 passed, $2 failed"
	fi
}

# --- 1. dependencies ---------------------------------------------------------------------
# shellcheck source=../scripts/install-deps.sh
. "$root/scripts/install-deps.sh"
if ! gp_install_deps; then
	echo "run-tests: installing dependencies failed" >&2
	summary 0 1 0
	exit 1
fi
py=$root/.venv/bin/python

# --- 2. build ------------------------------------------------------------------------------
echo "=== build ($build, werror)"
if [ -d "$build" ] && [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" -Dwerror=true >/dev/null || meson setup --wipe "$build" -Dwerror=true
else
	rm -rf "$build"
	meson setup "$build" -Dwerror=true
fi
if ! ninja -C "$build"; then
	echo "run-tests: build failed; no tests were run" >&2
	summary 0 1 0
	exit 1
fi

# --- 3. unit tests -------------------------------------------------------------------------
echo "=== unit tests"
rm -rf "$results"
mkdir -p "$results/cmocka"
wrap=$work/cmocka-wrap.sh
cat >"$wrap" <<WRAP
#!/bin/sh
# One XML file per program and group: cmocka refuses to overwrite an existing file.
n=\$(basename "\$1")
CMOCKA_MESSAGE_OUTPUT=xml CMOCKA_XML_FILE="$results/cmocka/\$n-%g.xml" exec "\$@"
WRAP
chmod +x "$wrap"
rm -f "$build"/meson-logs/unit-testlog*
meson test -C "$build" --suite unit --print-errorlogs --wrapper "$wrap" --logbase unit-testlog
unit_rc=$?
# meson names the log after --logbase and the wrapper: unit-testlog-cmocka-wrap.sh.json
for f in "$build"/meson-logs/unit-testlog*.json; do
	[ -e "$f" ] && cp "$f" "$results/unit-testlog.json"
done

# --- 3b. unit tests under ASan/UBSan -------------------------------------------------------
# The same programs built with -fsanitize=address,undefined (build-asan): a leak, an
# out-of-bounds access or undefined behaviour fails the program. Each program counts as one
# test. GPRDSD_ASAN=0 skips the stage.
asan_rc=0
if [ "${GPRDSD_ASAN:-1}" = 0 ]; then
	echo "=== unit tests under ASan/UBSan (skipped: GPRDSD_ASAN=0)"
else
	echo "=== unit tests under ASan/UBSan (build-asan)"
	asan=$root/build-asan
	rm -f "$asan"/meson-logs/asan-testlog*
	if { [ -f "$asan/build.ninja" ] ||
	     meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
		>/dev/null; } && ninja -C "$asan"; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			meson test -C "$asan" --suite unit --print-errorlogs --logbase asan-testlog
		asan_rc=$?
	else
		asan_rc=1
	fi
	for f in "$asan"/meson-logs/asan-testlog*.json; do
		[ -e "$f" ] && cp "$f" "$results/asan-testlog.json"
	done
fi

# --- 4. fuzz -------------------------------------------------------------------------------
# A short run on every CI pass (about two minutes with two CPUs); the long one is
# `test/fuzz/run.sh 600`. The harnesses' corpus stays in build-fuzz between runs.
fuzz_rc=0
if [ "${GPRDSD_FUZZ:-1}" = 0 ]; then
	echo "=== fuzz (skipped: GPRDSD_FUZZ=0)"
else
	rm -f "$root/build-fuzz/fuzz/results.xml"
	timeout --signal=TERM --kill-after=10 300 \
		"$root/test/fuzz/run.sh" "${GPRDSD_FUZZ_SECONDS:-20}"
	fuzz_rc=$?
	if [ -f "$root/build-fuzz/fuzz/results.xml" ]; then
		cp "$root/build-fuzz/fuzz/results.xml" "$results/fuzz.xml"
	fi
fi

# --- 5. integration tests ------------------------------------------------------------------
echo "=== integration tests"
export GPRDSD_BIN=${GPRDSD_BIN:-$root/$build/daemon/gprdsd}
# The daemon under valgrind (about a minute): on by default, since install-deps installs it.
export GPRDSD_VALGRIND=${GPRDSD_VALGRIND:-1}
export GPRDSD_SRC=$root
# shellcheck disable=SC2086
timeout --signal=TERM --kill-after=30 1080 \
	"$py" -m pytest "$root/test/integration" -p no:cacheprovider -rfEs --tb=short \
	--junitxml="$results/integration.xml" -o junit_family=xunit2
integ_rc=$?
stop_started

# --- 6. count ------------------------------------------------------------------------------
counts=$("$py" - "$results" "$unit_rc" "$integ_rc" "${GPRDSD_FUZZ:-1}" "$fuzz_rc" \
	"${GPRDSD_ASAN:-1}" "$asan_rc" <<'PY'
import glob, json, os, sys
import xml.etree.ElementTree as ET

results, unit_rc, integ_rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fuzz_on, fuzz_rc = sys.argv[4] != "0", int(sys.argv[5])
asan_on, asan_rc = sys.argv[6] != "0", int(sys.argv[7])
out = sys.stderr

def cases(path):
    """(passed, failed, skipped, [failure names]) from a junit/cmocka XML file."""
    p = f = s = 0
    names = []
    for tc in ET.parse(path).getroot().iter("testcase"):
        tags = {c.tag for c in tc}
        name = (tc.get("classname", "") + "::" + tc.get("name", "")).lstrip(":")
        if tags & {"failure", "error"}:
            f += 1
            msg = ""
            for c in tc:
                if c.tag in ("failure", "error"):
                    msg = " | ".join(x.strip() for x in
                                     (c.get("message") or c.text or "").strip().splitlines())
            names.append(f"{name}: {msg}"[:300])
        elif "skipped" in tags:
            s += 1
        else:
            p += 1
    return p, f, s, names

# Unit: one meson test per cmocka program.
up = uf = us = 0
ufails = []
log = os.path.join(results, "unit-testlog.json")
tests = []
if os.path.exists(log):
    with open(log) as fh:
        tests = [json.loads(l) for l in fh if l.strip()]
for t in tests:
    xmls = []
    for c in t.get("command", []):
        xmls += glob.glob(os.path.join(results, "cmocka", os.path.basename(c) + "-*.xml"))
    res = t.get("result", "")
    p = f = s = 0
    names = []
    for x in sorted(set(xmls)):
        try:
            a, b, c, n = cases(x)
        except ET.ParseError:
            b, n, a, c = 1, [f"{t['name']}: unreadable cmocka XML {x}"], 0, 0
        p, f, s = p + a, f + b, s + c
        names += [f"{t['name']}: {m}" for m in n]
    if res in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS") and f == 0:
        f += 1  # crashed, leaked, timed out: the program failed as a whole
        names.append(f"{t['name']}: program {res} (exit {t.get('returncode')})")
    if not xmls and res == "OK":
        p += 1
    if not xmls and res == "SKIP":
        s += 1
    up, uf, us = up + p, uf + f, us + s
    ufails += names
if not tests:
    uf += 1
    ufails.append(f"meson test produced no results (exit {unit_rc})")

# Integration: junit testcases.
ip = if_ = is_ = 0
ifails = []
junit = os.path.join(results, "integration.xml")
if os.path.exists(junit):
    ip, if_, is_, ifails = cases(junit)
    if integ_rc not in (0, 1, 5) and if_ == 0:
        if_ += 1
        ifails.append(f"pytest exited {integ_rc}")
else:
    if_ += 1
    ifails.append(f"pytest produced no junit file (exit {integ_rc}, 124 = timed out)")

# Fuzz: one junit testcase per harness, written by test/fuzz/run.sh.
fp = ff = 0
ffails = []
if fuzz_on:
    fuzz = os.path.join(results, "fuzz.xml")
    if os.path.exists(fuzz):
        fp, ff, _, ffails = cases(fuzz)
    else:
        ff += 1
        ffails.append(f"test/fuzz/run.sh wrote no results (exit {fuzz_rc}, 124 = timed out)")

# Unit under ASan/UBSan: one case per program, from meson's log.
ap = af = 0
afails = []
if asan_on:
    alog = os.path.join(results, "asan-testlog.json")
    atests = []
    if os.path.exists(alog):
        with open(alog) as fh:
            atests = [json.loads(l) for l in fh if l.strip()]
    for t in atests:
        if t.get("result") == "OK":
            ap += 1
        elif t.get("result") != "SKIP":
            af += 1
            afails.append(f"{t['name']}: {t.get('result')} (exit {t.get('returncode')})")
    if not atests:
        af += 1
        afails.append(f"the ASan/UBSan build or its unit tests produced no results "
                      f"(exit {asan_rc})")

print(f"unit:        {up} passed, {uf} failed, {us} skipped", file=out)
if asan_on:
    print(f"unit (asan): {ap} passed, {af} failed", file=out)
if fuzz_on:
    print(f"fuzz:        {fp} passed, {ff} failed", file=out)
print(f"integration: {ip} passed, {if_} failed, {is_} skipped", file=out)
for n in ufails:
    print(f"FAILED unit {n}", file=out)
for n in afails:
    print(f"FAILED unit-asan {n}", file=out)
for n in ffails:
    print(f"FAILED fuzz {n}", file=out)
for n in ifails:
    print(f"FAILED integration {n}", file=out)
print(up + ap + fp + ip, uf + af + ff + if_, us + is_)
PY
) || counts="0 1 0"
read -r passed failed skipped <<<"$counts"
trap - EXIT
cleanup
summary "$passed" "$failed" "$skipped"
if [ "$failed" -gt 0 ] || [ $((passed + failed)) -eq 0 ]; then
	exit 1
fi
exit 0
