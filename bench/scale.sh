#!/usr/bin/env bash
# bench/scale.sh [N...] — gprdsd with many catalog entries: every step of a pass must stay
# O(n log n), and a stop request must be honoured within a second whatever the size.
#
# A harness that prints figures, not a timed test. For each N (default: 10000 100000) it
#   1. generates a checkout with N catalog entries and no tfvars entry (bench/gen_repo.py
#      --tfvars 0): every entry is held for lack of a tfvars entry,
#   2. times `gprdsd validate` on it,
#   3. times a `gprdsd --once` against a fresh PostgreSQL cluster and a fresh moto (wall time,
#      peak RSS and CPU from /usr/bin/time), and a second one that reads the state file of N
#      records the first one wrote,
#   4. starts another `gprdsd --once` on the same inputs with an empty state directory, sends it
#      SIGTERM after t seconds for each t of BENCH_TERM_AFTER (default "0.5 1.5 3": reading
#      the inputs, in the pass, near its end) and times from the signal to its exit; the same
#      with the daemon (no --once) started on an empty state directory;
# then a mixed case: MIXED_N (default 100000) catalog entries of which MIXED_T (default 1000)
# have a tfvars entry, timed cold (MIXED_T databases created) and as a no-op pass right after,
# and SIGTERM during the cold pass of the mixed case.
#
# Everything runs on loopback in a temporary directory, stopped and removed on exit. Needs
# what bench/run.sh needs (PG_BIN, BENCH_VENV with moto_server and boto3, /usr/bin/time).
# Knobs: GPRDSD, PG_BIN, BENCH_VENV, BENCH_TERM_AFTER, MIXED_N, MIXED_T (0: no mixed case),
# BENCH_KEEP=1.
{
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
GPRDSD=${GPRDSD:-$ROOT/build-bench/daemon/gprdsd}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
VENV=${BENCH_VENV:-/tmp/venv}
TERM_AFTER=${BENCH_TERM_AFTER:-0.5 1.5 3}
MIXED_N=${MIXED_N:-100000}
MIXED_T=${MIXED_T:-1000}
KEEP=${BENCH_KEEP:-0}
MASTER=rdsmaster
ENV_NAME=dev
[ $# -gt 0 ] || set -- 10000 100000

say() { printf '%s\n' "$*" >&2; }
die() { say "scale: $*"; exit 2; }

. "$HERE/common.sh"
bench_prepare "$@"
now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }

WORK=$(mktemp -d /tmp/gprdsd-scale.XXXXXX)
chmod 755 "$WORK"
MOTO_PID=
PG_UP=0
cleanup() {
	set +e
	[ "$PG_UP" = 1 ] && asowner "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1
	[ -n "$MOTO_PID" ] && { kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null; }
	if [ "$KEEP" = 1 ]; then say "scale: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PG_PORT=$(free_port)
MOTO_PORT=$(free_port)
MASTER_PW=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-west-2
export AWS_REGION=eu-west-2 AWS_EC2_METADATA_DISABLED=true
export AWS_SHARED_CREDENTIALS_FILE=$WORK/no-aws-credentials AWS_CONFIG_FILE=$WORK/no-aws-config
PGLOG=$WORK/pg/postgres.log
MOTOLOG=$WORK/moto.log
FSYNC=on
# PostgreSQL and moto: pg_init, pg_fresh, pg_stop, moto_start, moto_fresh.
. "$HERE/servers.sh"

checkout() { # dir n tfvars
	local d=$1
	mkdir -p "$d"
	python3 "$HERE/gen_repo.py" repo "$d/repo" "$2" --env "$ENV_NAME" --tfvars "$3"
	cat >"$d/gprdsd.yaml" <<-EOF
		repository: { path: repo }
		state_dir: state
		audit_dir: state/audit
		log_target: console
		log_level: notice
		reconcile: { verify_interval: 1h }
		aws: { region: eu-west-2, endpoint: "http://127.0.0.1:$MOTO_PORT", write_interval: 0ms }
		environments:
		  $ENV_NAME:
		    postgres: { host: 127.0.0.1, port: $PG_PORT, sslmode: disable }
	EOF
}

declare -A RES
timed() { # dir tag args... — sets RES[tag,wall|rss|cpu|rc]
	local d=$1 tag=$2 t0 t1 rc=0
	shift 2
	t0=$(now_ms)
	/usr/bin/time -f '%e %M %U %S' -o "$d/$tag.time" "$GPRDSD" "$@" >"$d/$tag.out" 2>"$d/$tag.err" || rc=$?
	t1=$(now_ms)
	RES[$tag,wall]=$(secs "$t0" "$t1")
	RES[$tag,rss]=$(tail -1 "$d/$tag.time" | awk '{ printf "%.1f", $2 / 1024 }')
	RES[$tag,cpu]=$(tail -1 "$d/$tag.time" | awk '{ printf "%.2f", $3 + $4 }')
	RES[$tag,rc]=$rc
	say "scale: $tag: ${RES[$tag,wall]} s, ${RES[$tag,rss]} MB, exit $rc"
}
term_test() { # dir tag mode — a cold run on the checkout (mode: --once, or "" for the
	# daemon), SIGTERM after each of TERM_AFTER seconds; sets RES[tag,term]
	local d=$1 tag=$2 mode=$3 after pid t0 t1 rc out=""
	for after in $TERM_AFTER; do
		rm -rf "$d/state"
		pg_fresh
		moto_fresh
		rc=0
		(cd "$d" && exec "$GPRDSD" --config gprdsd.yaml $mode >"$tag-$after.out" 2>"$tag-$after.err") &
		pid=$!
		sleep "$after"
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" || true
			out+=" ${after}s: exited before;"
			continue
		fi
		t0=$(now_ms)
		kill -TERM "$pid"
		wait "$pid" || rc=$?
		t1=$(now_ms)
		out+=" ${after}s: $(secs "$t0" "$t1") s (exit $rc);"
	done
	RES[$tag,term]=${out%;}
	say "scale: $tag: SIGTERM after N s -> exit after:${RES[$tag,term]}"
}

cd "$WORK"
say "scale: work directory $WORK; PostgreSQL on 127.0.0.1:$PG_PORT, moto on 127.0.0.1:$MOTO_PORT"
pg_init
moto_start
for n in "$@"; do
	d=$WORK/n$n
	say "scale: N=$n catalog entries, no tfvars entry"
	checkout "$d" "$n" 0
	timed "$d" "validate-$n" validate --repo "$d/repo"
	pg_fresh
	moto_fresh
	cd "$d"
	timed "$d" "once-$n" --config gprdsd.yaml --once
	timed "$d" "again-$n" --config gprdsd.yaml --once
	RES[$n,statefile]=$(stat -c %s "$d/state/$ENV_NAME.state.json" 2>/dev/null || echo 0)
	cd "$WORK"
	term_test "$d" "term-$n" --once
	term_test "$d" "daemon-$n" ""
done
if [ "$MIXED_T" -gt 0 ]; then
	d=$WORK/mixed
	say "scale: mixed: N=$MIXED_N catalog entries, $MIXED_T of them in tfvars"
	checkout "$d" "$MIXED_N" "$MIXED_T"
	timed "$d" validate-mixed validate --repo "$d/repo"
	pg_fresh
	moto_fresh
	cd "$d"
	timed "$d" once-mixed --config gprdsd.yaml --once
	timed "$d" noop-mixed --config gprdsd.yaml --once
	cd "$WORK"
	term_test "$d" term-mixed --once
fi
pg_stop

echo
echo "gprdsd scale — $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) CPUs, $("$GPRDSD" --version 2>/dev/null | head -1)"
printf '%-28s %10s %10s %8s %9s %5s\n' case "validate s" "--once s" "CPU s" "peak RSS" exit
row() { # label tag-suffix
	printf '%-28s %10s %10s %8s %7sMB %5s\n' "$1" "${RES[validate-$2,wall]:--}" "${RES[once-$2,wall]}" \
		"${RES[once-$2,cpu]}" "${RES[once-$2,rss]}" "${RES[once-$2,rc]}"
}
for n in "$@"; do
	row "N=$n, all held" "$n"
	printf '%-28s %10s %10s %8s %7sMB %5s\n' "  again (state: $((RES[$n,statefile] / 1048576)) MiB)" - \
		"${RES[again-$n,wall]}" "${RES[again-$n,cpu]}" "${RES[again-$n,rss]}" "${RES[again-$n,rc]}"
done
if [ "$MIXED_T" -gt 0 ]; then
	row "N=$MIXED_N, $MIXED_T in tfvars (cold)" mixed
	printf '%-28s %10s %10s %8s %7sMB %5s\n' "  the no-op pass after it" - "${RES[noop-mixed,wall]}" \
		"${RES[noop-mixed,cpu]}" "${RES[noop-mixed,rss]}" "${RES[noop-mixed,rc]}"
fi
echo "SIGTERM t s after the start of a cold run (empty state directory) -> seconds to exit:"
for n in "$@"; do
	echo "  --once, N=$n, all held:${RES[term-$n,term]}"
	echo "  daemon, N=$n, all held:${RES[daemon-$n,term]}"
done
[ "$MIXED_T" -eq 0 ] || echo "  --once, N=$MIXED_N, $MIXED_T in tfvars:${RES[term-mixed,term]}"
exit 0
}
