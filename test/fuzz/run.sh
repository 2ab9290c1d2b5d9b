#!/usr/bin/env bash
# run.sh [SECONDS] — builds the libFuzzer harnesses (test/fuzz/meson.build) with clang in their
# own build directory and runs each for SECONDS (default 30) of wall time.
#
# Per harness it reports the executions, executions per second and corpus size, or the crash
# (a sanitizer report, a leak, a failed property, a timeout) with the input libFuzzer kept.
# Exit status 0 only when every harness ran without a finding.
#
# In the build directory (default build-fuzz):
#   fuzz/seeds/<h>     seeds made by corpus.sh from test/golden, config/ and test/fuzz/seeds
#   fuzz/corpus/<h>    what libFuzzer found interesting; kept between runs, so longer runs
#                      build on shorter ones
#   fuzz/crashes/<h>-* the inputs of findings (replay: build-fuzz/test/fuzz/fuzz-<h> FILE)
#   fuzz/logs/<h>.log  libFuzzer's output
#   fuzz/results.xml   one junit testcase per harness (test/run-tests.sh counts them)
#
# Environment: GPRDSD_FUZZ_BUILD_DIR (default build-fuzz), GPRDSD_FUZZ_JOBS (harnesses run at
# once; default the number of CPUs), GPRDSD_FUZZ_ONLY (e.g. "state secret": just those).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
secs=${1:-30}
case $secs in '' | *[!0-9]* | 0)
	echo "usage: test/fuzz/run.sh [SECONDS]" >&2
	exit 2
	;;
esac
build=$root/${GPRDSD_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${GPRDSD_FUZZ_JOBS:-$(nproc)}
work=$build/fuzz
all=(hcl catalog enums contract config state requests secret sm_wire)
read -r -a harnesses <<<"${GPRDSD_FUZZ_ONLY:-${all[*]}}"

dict_of() {
	case $1 in
	hcl) echo hcl.dict ;;
	catalog | enums | contract | config) echo yaml.dict ;;
	*) echo json.dict ;;
	esac
}

xml_escape() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# --- build ---------------------------------------------------------------------------------
echo "=== fuzz: build ($build, clang)"
if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" -Dfuzz=true -Dtests=false >/dev/null
else
	rm -rf "$build"
	CC=clang meson setup "$build" -Dfuzz=true -Dtests=false -Dbuildtype=debugoptimized >/dev/null
fi || { echo "run.sh: meson setup failed (is clang installed?)" >&2; exit 1; }
if ! ninja -C "$build" fuzz >"$build/fuzz-build.log" 2>&1; then
	cat "$build/fuzz-build.log" >&2
	echo "run.sh: building the harnesses failed" >&2
	exit 1
fi
mkdir -p "$work/corpus" "$work/crashes" "$work/logs"
bash "$root/test/fuzz/corpus.sh" "$work/seeds" || exit 1

# --- run -----------------------------------------------------------------------------------
run_one() {
	# run_one HARNESS — libFuzzer for $secs seconds; its exit status is the harness's.
	local h=$1
	mkdir -p "$work/corpus/$h" "$work/seeds/$h"
	# -timeout: an input that takes 10 s is a hang (the parsers are linear); leaks are findings
	# by default under AddressSanitizer.
	"$build/test/fuzz/fuzz-$h" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-dict="$root/test/fuzz/$(dict_of "$h")" -artifact_prefix="$work/crashes/$h-" \
		"$work/corpus/$h" "$work/seeds/$h" >"$work/logs/$h.log" 2>&1
}

echo "=== fuzz: ${#harnesses[@]} harnesses, ${secs}s each, $jobs at a time"
declare -A status
running=0
for h in "${harnesses[@]}"; do
	if [ ! -x "$build/test/fuzz/fuzz-$h" ]; then
		echo "run.sh: no harness named $h" >&2
		exit 2
	fi
	(run_one "$h"; echo $? >"$work/logs/$h.rc") &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

# --- report --------------------------------------------------------------------------------
stat() { sed -n "s/^stat::$1: *//p" "$work/logs/$2.log" | tail -1; }
failed=0
xml=$work/results.xml.tmp
printf '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="fuzz">\n' >"$xml"
for h in "${harnesses[@]}"; do
	rc=$(cat "$work/logs/$h.rc" 2>/dev/null || echo 1)
	execs=$(stat number_of_executed_units "$h")
	rate=$(stat average_exec_per_sec "$h")
	corpus=$(find "$work/corpus/$h" -type f | wc -l)
	printf '<testcase classname="fuzz" name="%s" time="%s">' "$h" "$secs" >>"$xml"
	if [ "$rc" -eq 0 ]; then
		printf 'fuzz-%-9s ok     %10s executions, %7s/s, corpus %s\n' "$h" "${execs:-?}" \
			"${rate:-?}" "$corpus"
	else
		failed=$((failed + 1))
		kept=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/logs/$h.log" | tail -1)
		what=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*property failed|.*runtime error)' \
			"$work/logs/$h.log" || echo "exit $rc")
		printf 'fuzz-%-9s FAILED after %s executions: %s\n' "$h" "${execs:-?}" "$what"
		printf '                input kept: %s\n' "${kept:-none (see the log)}"
		printf '                log: %s; replay: %s\n' "$work/logs/$h.log" \
			"$build/test/fuzz/fuzz-$h ${kept:-FILE}"
		printf '<failure message="%s"/>' "$(printf '%s (input %s)' "$what" "${kept:-none}" |
			xml_escape)" >>"$xml"
	fi
	printf '</testcase>\n' >>"$xml"
done
printf '</testsuite></testsuites>\n' >>"$xml"
mv "$xml" "$work/results.xml"
echo "fuzz: $((${#harnesses[@]} - failed)) harnesses clean, $failed with findings"
[ "$failed" -eq 0 ]
