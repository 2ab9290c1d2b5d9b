#!/usr/bin/env bash
# bench/run.sh [N...] — gprdsd at scale: cold pass, no-op pass and the raw-DDL floor.
#
# A harness that prints figures, not a timed test. For each N (default: 100 1000) it
#   1. generates a checkout with N owner entries (bench/gen_repo.py),
#   2. times a cold `gprdsd --once` against a fresh PostgreSQL cluster and a fresh moto,
#   3. times BENCH_NOOP_RUNS (5) no-op `gprdsd --once` right after it and takes the median,
#   4. times one re-verification pass (every entry's verify_interval elapsed; no target),
#   5. times the raw-DDL floor (the same roles, memberships, databases and grants as one psql
#      script run by the same non-superuser master) against a fresh cluster again,
# recording peak RSS and CPU (/usr/bin/time) and cross-checking gprdsd's own statement and
# Secrets Manager call counts against the server's statement log and moto's request log; then
# prints a table and PASS/FAIL against the targets (docs/benchmarks.md). Exit status: 0, or 1
# when something was wrong with the run itself (counts disagree, entries failed, objects
# missing), 2 for a usage or setup error; a missed target alone does not change it.
#
# Everything runs on loopback in a temporary directory and is stopped and removed on exit.
# Needs: PostgreSQL 15 server binaries ($PG_BIN), psql, a venv with moto[server] and boto3
# ($BENCH_VENV), python3, cc + libpq headers, /usr/bin/time (package `time`).
#
# Knobs (environment):
#   GPRDSD=path             the binary (default build-bench/daemon/gprdsd; built if missing)
#   PG_BIN=dir              default /usr/lib/postgresql/15/bin
#   BENCH_VENV=dir          default /tmp/venv
#   BENCH_FSYNC=on|off      the cluster's fsync (default on; synchronous_commit stays on)
#   BENCH_WRITE_INTERVAL=d  gprdsd's aws.write_interval (default 0ms: moto has no write quota)
#   BENCH_NOOP_RUNS=k       no-op passes per N (default 5)
#   BENCH_FLOOR_RUNS=k      floor runs per N, median (default 1; each is as long as a cold pass)
#   BENCH_READERS=k         also give the first k databases a reader entry (default 0). Not part
#                           of the targets: the floor has no reader grants, so the cold/floor
#                           ratio is then not comparable; it shows the no-op's per-database
#                           privilege checks.
#   BENCH_KEEP=1            keep the work directory (logs, repos, audit files)
#   FAKETIME_LIB=path       libfaketime, for the rotation pass (skipped when missing)
{ # bash reads the whole block before running it: editing this file during a run is safe
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
GPRDSD=${GPRDSD:-$ROOT/build-bench/daemon/gprdsd}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
VENV=${BENCH_VENV:-/tmp/venv}
FSYNC=${BENCH_FSYNC:-on}
WRITE_INTERVAL=${BENCH_WRITE_INTERVAL:-0ms}
NOOP_RUNS=${BENCH_NOOP_RUNS:-5}
FLOOR_RUNS=${BENCH_FLOOR_RUNS:-1}
READERS=${BENCH_READERS:-0}
KEEP=${BENCH_KEEP:-0}
FAKETIME_LIB=${FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1}
MASTER=rdsmaster
ENV_NAME=dev
[ $# -gt 0 ] || set -- 100 1000

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 2; }

# ---------------------------------------------------------------------------------------
# Prerequisites

. "$HERE/common.sh"
bench_prepare "$@"
command -v psql >/dev/null || die "psql missing"
command -v curl >/dev/null || die "curl missing"

# ---------------------------------------------------------------------------------------
# Work directory and cleanup

WORK=$(mktemp -d /tmp/gprdsd-bench.XXXXXX)
chmod 755 "$WORK"
MOTO_PID=
PG_UP=0
cleanup() {
	set +e
	if [ "$PG_UP" = 1 ]; then
		asowner "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1
	fi
	if [ -n "$MOTO_PID" ]; then
		kill "$MOTO_PID" 2>/dev/null
		wait "$MOTO_PID" 2>/dev/null
	fi
	if [ "$KEEP" = 1 ]; then
		say "bench: kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PG_PORT=$(free_port)
MOTO_PORT=$(free_port)
MASTER_PW=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
PGLOG=$WORK/pg/postgres.log
MOTOLOG=$WORK/moto.log
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-west-2
export AWS_REGION=eu-west-2 AWS_EC2_METADATA_DISABLED=true
export AWS_SHARED_CREDENTIALS_FILE=$WORK/no-aws-credentials AWS_CONFIG_FILE=$WORK/no-aws-config

# PostgreSQL and moto: pg_init, pg_fresh, pg_stop, marker, moto_start, moto_fresh.
. "$HERE/servers.sh"
moto_requests() { grep -c '"POST / HTTP' "$MOTOLOG" || true; }
moto_secret_count() {
	"$PY" - "$MOTO_PORT" "$ENV_NAME" <<-'EOF'
		import sys, boto3
		port, env = sys.argv[1:]
		c = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{port}")
		n = 0
		for page in c.get_paginator("list_secrets").paginate(
		        Filters=[{"Key": "name", "Values": [f"goldenpath/{env}/bench-app-"]}]):
		    n += sum(1 for s in page["SecretList"] if s["Name"].startswith(f"goldenpath/{env}/bench-app-"))
		print(n)
	EOF
}

# ---------------------------------------------------------------------------------------
# One gprdsd --once, measured. Sets R_* variables.

now_ms() { date +%s%3N; }

run_gprdsd() { # dir tag [config]
	local d=$1 tag=$2 cfg=${3:-$1/gprdsd.yaml} t0 t1 m0 m1 rc=0
	m0=$(moto_requests)
	marker begin "$tag"
	t0=$(now_ms)
	R_LOAD=$(cut -d' ' -f1 /proc/loadavg)
	/usr/bin/time -f '%e %M %U %S' -o "$d/$tag.time" \
		env ${RUN_ENV:-} "$GPRDSD" --config "$cfg" --once >"$d/$tag.out" 2>"$d/$tag.err" || rc=$?
	t1=$(now_ms)
	marker end "$tag"
	sleep 0.2 # moto logs a request after answering it
	m1=$(moto_requests)
	R_RC=$rc
	R_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
	R_RSS=$(awk '{ printf "%.1f", $2 / 1024 }' "$d/$tag.time")
	R_CPU=$(awk '{ printf "%.2f", $3 + $4 }' "$d/$tag.time")
	R_MOTO=$((m1 - m0))
	unset S_parsed S_active S_failed S_errors S_applied S_statements S_sm_calls S_seconds S_pending
	eval "$(python3 "$HERE/analyze.py" summary "$d/$tag.out" | sed 's/^/S_/')"
	if [ "${S_parsed:-1}" = 0 ]; then
		say "bench: $tag: no summary line for $ENV_NAME (exit $rc); stdout/stderr follow"
		cat "$d/$tag.out" "$d/$tag.err" | tail -20 >&2
		return 1
	fi
	eval "$(python3 "$HERE/analyze.py" pglog "$PGLOG" "$tag" | sed 's/^/L_/')"
}

# ---------------------------------------------------------------------------------------
# Results

declare -A RES
PROBLEMS=()
problem() { PROBLEMS+=("$*"); say "bench: PROBLEM: $*"; }

bench_n() {
	local n=$1 d=$WORK/n$1 i walls=() stmts=() sms=() srv=() motos=() rsss=() conns=() cpus=() loads=() selfs=()
	mkdir -p "$d"
	say "bench: N=$n: generating the checkout and the floor script"
	python3 "$HERE/gen_repo.py" repo "$d/repo" "$n" --env "$ENV_NAME" --readers "$READERS"
	local e=$((n + (READERS < n ? READERS : n))) # entries: owners and readers
	python3 "$HERE/gen_repo.py" floor "$d/floor.sql" "$n" "$MASTER"
	cat >"$d/gprdsd.yaml" <<-EOF
		# gprdsd benchmark, N=$n
		repository: { path: repo }
		state_dir: state
		audit_dir: state/audit
		log_target: console
		log_level: info
		reconcile: { verify_interval: 1h }
		aws: { region: eu-west-2, endpoint: "http://127.0.0.1:$MOTO_PORT", write_interval: $WRITE_INTERVAL }
		environments:
		  $ENV_NAME:
		    postgres: { host: 127.0.0.1, port: $PG_PORT, sslmode: disable }
	EOF
	"$GPRDSD" --config "$d/gprdsd.yaml" --check-config >/dev/null 2>"$d/check-config.err" ||
		die "N=$n: the generated config is refused: $(cat "$d/check-config.err")"

	# -- cold pass --------------------------------------------------------------------
	pg_fresh
	moto_fresh
	say "bench: N=$n: cold pass"
	run_gprdsd "$d" "cold-$n" || { problem "N=$n cold pass: no summary line"; return 0; }
	RES[$n,cold,wall]=$R_WALL RES[$n,cold,self]=$S_seconds RES[$n,cold,rss]=$R_RSS
	RES[$n,cold,stmts]=$S_statements RES[$n,cold,srvstmts]=$L_statements
	RES[$n,cold,sm]=$S_sm_calls RES[$n,cold,moto]=$R_MOTO RES[$n,cold,rc]=$R_RC
	RES[$n,cold,conns]="$L_connections_master+$L_connections_app"
	RES[$n,cold,srvms]=$L_server_ms RES[$n,cold,cpu]=$R_CPU RES[$n,cold,load]=$R_LOAD
	[ "$R_RC" = 0 ] || problem "N=$n cold pass exited $R_RC"
	[ "$S_active" = "$e" ] || problem "N=$n cold pass: $S_active active, expected $e"
	[ "$S_failed" = 0 ] && [ "$S_errors" = 0 ] ||
		problem "N=$n cold pass: $S_failed failed, $S_errors errors (see cold-$n.err)"
	[ "$S_statements" = "$L_statements" ] ||
		problem "N=$n cold pass: gprdsd counted $S_statements SQL statements, the server logged $L_statements"
	[ "$S_sm_calls" = "$R_MOTO" ] ||
		problem "N=$n cold pass: gprdsd counted $S_sm_calls Secrets Manager calls, moto logged $R_MOTO"
	local dbs roles secrets
	dbs=$("${SU_PSQL[@]}" -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'bench\_db\_%'")
	roles=$("${SU_PSQL[@]}" -c "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'bench\_user\_%' AND rolcanlogin")
	secrets=$(moto_secret_count)
	RES[$n,objects]="$dbs databases, $roles roles, $secrets secrets"
	[ "$dbs" = "$n" ] && [ "$roles" = "$n" ] && [ "$secrets" = "$n" ] ||
		problem "N=$n after the cold pass: $dbs databases, $roles roles, $secrets secrets (expected $n each)"
	python3 "$HERE/analyze.py" audit "$d/state/audit/$ENV_NAME/rds_provision_audit.csv" \
		>"$d/cold-audit.tsv" 2>/dev/null || : >"$d/cold-audit.tsv"
	python3 "$HERE/analyze.py" pgclasses "$PGLOG" "cold-$n" >"$d/cold-classes.tsv"
	local audit_rows
	audit_rows=$(($(wc -l <"$d/state/audit/$ENV_NAME/rds_provision_audit.csv" 2>/dev/null || echo 1) - 1))

	# -- no-op passes -------------------------------------------------------------------
	say "bench: N=$n: $NOOP_RUNS no-op passes"
	for i in $(seq "$NOOP_RUNS"); do
		run_gprdsd "$d" "noop-$n-$i" || { problem "N=$n no-op pass $i: no summary line"; return 0; }
		walls+=("$R_WALL") selfs+=("$S_seconds") stmts+=("$S_statements") sms+=("$S_sm_calls") srv+=("$L_statements")
		motos+=("$R_MOTO") rsss+=("$R_RSS") conns+=("$L_connections_master+$L_connections_app")
		cpus+=("$R_CPU") loads+=("$R_LOAD")
		[ "$R_RC" = 0 ] || problem "N=$n no-op pass $i exited $R_RC"
		[ "$S_applied" = 0 ] || problem "N=$n no-op pass $i applied $S_applied changes"
		[ "$S_active" = "$e" ] || problem "N=$n no-op pass $i: $S_active active, expected $e"
		[ "$S_statements" = "$L_statements" ] ||
			problem "N=$n no-op pass $i: gprdsd counted $S_statements SQL statements, the server logged $L_statements"
		[ "$S_sm_calls" = "$R_MOTO" ] ||
			problem "N=$n no-op pass $i: gprdsd counted $S_sm_calls Secrets Manager calls, moto logged $R_MOTO"
	done
	local audit_rows2
	audit_rows2=$(($(wc -l <"$d/state/audit/$ENV_NAME/rds_provision_audit.csv" 2>/dev/null || echo 1) - 1))
	[ "$audit_rows2" = "$audit_rows" ] ||
		problem "N=$n the no-op passes wrote $((audit_rows2 - audit_rows)) audit rows"
	med() { python3 "$HERE/analyze.py" median "$@"; }
	RES[$n,noop,wall]=$(med "${walls[@]}") RES[$n,noop,self]=$(med "${selfs[@]}") RES[$n,noop,walls]="${walls[*]}"
	RES[$n,noop,stmts]=$(med "${stmts[@]}") RES[$n,noop,srvstmts]=$(med "${srv[@]}")
	RES[$n,noop,sm]=$(med "${sms[@]}") RES[$n,noop,moto]=$(med "${motos[@]}")
	RES[$n,noop,rss]=$(printf '%s\n' "${rsss[@]}" | sort -g | tail -1)
	RES[$n,noop,conns]=${conns[0]} RES[$n,noop,cpu]=$(med "${cpus[@]}") RES[$n,noop,load]=${loads[0]}
	RES[$n,noop,stmtset]=$(printf '%s\n' "${stmts[@]}" | sort -u | tr '\n' ' ')
	RES[$n,noop,smset]=$(printf '%s\n' "${sms[@]}" | sort -u | tr '\n' ' ')
	python3 "$HERE/analyze.py" pgclasses "$PGLOG" "noop-$n-1" >"$d/noop-classes.tsv"
	eval "$("$PY" "$HERE/analyze.py" smlist "$MOTO_PORT" "goldenpath/$ENV_NAME/" | sed 's/^/M_/')"
	RES[$n,smlist]="$M_pages ListSecrets pages ($M_secrets secrets under goldenpath/$ENV_NAME/) in $M_seconds s"

	# -- re-verification pass (informative, no target) ---------------------------------
	# The same state one verify_interval later: every entry's credentials are due for the
	# login check, so the pass reads every secret's value and logs in once per entry.
	sed 's/verify_interval: 1h/verify_interval: 1s/' "$d/gprdsd.yaml" >"$d/gprdsd-verify.yaml"
	sleep 1.5
	say "bench: N=$n: re-verification pass (verify_interval elapsed for every entry)"
	if run_gprdsd "$d" "verify-$n" "$d/gprdsd-verify.yaml"; then
		RES[$n,verify,wall]=$R_WALL RES[$n,verify,self]=$S_seconds RES[$n,verify,cpu]=$R_CPU
		RES[$n,verify,stmts]=$S_statements RES[$n,verify,srvstmts]=$L_statements
		RES[$n,verify,sm]=$S_sm_calls RES[$n,verify,moto]=$R_MOTO RES[$n,verify,rss]=$R_RSS
		RES[$n,verify,load]=$R_LOAD RES[$n,verify,conns]="$L_connections_master+$L_connections_app"
		[ "$R_RC" = 0 ] || problem "N=$n re-verification pass exited $R_RC"
		[ "$S_applied" = 0 ] || problem "N=$n re-verification pass applied $S_applied changes"
		[ "$L_connections_app" = "$e" ] ||
			problem "N=$n re-verification pass: $L_connections_app application logins, expected $e"
		[ "$S_sm_calls" = "$R_MOTO" ] ||
			problem "N=$n re-verification pass: gprdsd counted $S_sm_calls Secrets Manager calls, moto logged $R_MOTO"
	else
		problem "N=$n re-verification pass: no summary line"
	fi

	# -- rotation pass (informative, no target) ----------------------------------------
	# The same state 31 days later (libfaketime): every password is due; rotation.max_per_pass
	# (default 10) of them rotate, four steps each. verify_interval is long here so that the
	# figure is the rotations', not the login checks' of the re-verification pass above.
	if [ -e "$FAKETIME_LIB" ]; then
		sed 's/verify_interval: 1h/verify_interval: 100d/' "$d/gprdsd.yaml" >"$d/gprdsd-rotate.yaml"
		say "bench: N=$n: rotation pass (31 days later: every password due, 10 rotate)"
		if RUN_ENV="LD_PRELOAD=$FAKETIME_LIB FAKETIME=+31d FAKETIME_DONT_FAKE_MONOTONIC=1" \
			run_gprdsd "$d" "rotate-$n" "$d/gprdsd-rotate.yaml"; then
			RES[$n,rotate,wall]=$R_WALL RES[$n,rotate,self]=$S_seconds RES[$n,rotate,cpu]=$R_CPU
			RES[$n,rotate,stmts]=$S_statements RES[$n,rotate,srvstmts]=$L_statements
			RES[$n,rotate,sm]=$S_sm_calls RES[$n,rotate,moto]=$R_MOTO RES[$n,rotate,rss]=$R_RSS
			RES[$n,rotate,load]=$R_LOAD
			[ "$R_RC" = 0 ] || problem "N=$n rotation pass exited $R_RC"
			local rotated=$((n < 10 ? n : 10))
			[ "$S_applied" = $((4 * rotated)) ] ||
				problem "N=$n rotation pass applied $S_applied changes, expected $((4 * rotated))"
		else
			problem "N=$n rotation pass: no summary line"
		fi
	fi

	# -- raw-DDL floor ------------------------------------------------------------------
	local j t0 t1 rc fwalls=()
	RES[$n,floor,load]=$(cut -d' ' -f1 /proc/loadavg)
	for j in $(seq "$FLOOR_RUNS"); do
		say "bench: N=$n: raw-DDL floor ($j/$FLOOR_RUNS)"
		pg_fresh
		rc=0
		marker begin "floor-$n-$j"
		t0=$(now_ms)
		PGPASSWORD=$MASTER_PW psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
			-U "$MASTER" -d postgres -f "$d/floor.sql" >/dev/null 2>"$d/floor.err" || rc=$?
		t1=$(now_ms)
		marker end "floor-$n-$j"
		[ "$rc" = 0 ] || problem "N=$n floor script failed: $(head -3 "$d/floor.err")"
		fwalls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')")
	done
	RES[$n,floor,wall]=$(python3 "$HERE/analyze.py" median "${fwalls[@]}")
	RES[$n,floor,walls]="${fwalls[*]}"
	eval "$(python3 "$HERE/analyze.py" pglog "$PGLOG" "floor-$n-1" | sed 's/^/L_/')"
	RES[$n,floor,srvstmts]=$L_statements RES[$n,floor,srvms]=$L_server_ms
	python3 "$HERE/analyze.py" pgclasses "$PGLOG" "floor-$n-1" >"$d/floor-classes.tsv"
}

# Client-side costs gprdsd pays per new entry, with the libpq calls it uses.
micro_costs() {
	local bin=$WORK/pq_cost conninfo
	cc -O2 -o "$bin" "$HERE/pq_cost.c" $(pkg-config --cflags --libs libpq 2>/dev/null || echo "-I$("$PG_BIN/pg_config" --includedir) -lpq") ||
		{ problem "cannot compile bench/pq_cost.c"; return 0; }
	conninfo="host=127.0.0.1 port=$PG_PORT user=$MASTER password=$MASTER_PW dbname=postgres sslmode=disable"
	MICRO_VERIFIER=$("$bin" verifier "$conninfo" 500 | awk '{ print $4 }')
	MICRO_LOGIN=$("$bin" login "$conninfo" 300 | awk '{ print $4 }')
}

# ---------------------------------------------------------------------------------------
# Main

cd "$WORK"
say "bench: work directory $WORK; PostgreSQL on 127.0.0.1:$PG_PORT (fsync=$FSYNC), moto on 127.0.0.1:$MOTO_PORT"
START=$(now_ms)
pg_init
moto_start
pg_fresh
micro_costs
for n in "$@"; do bench_n "$n"; done
pg_stop immediate
TOTAL=$(awk -v a="$START" -v b="$(now_ms)" 'BEGIN { printf "%.0f", (b - a) / 1000 }')

# ---------------------------------------------------------------------------------------
# Report

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
echo
echo "gprdsd benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -r); $("$PG_BIN/postgres" --version)"
echo "setup:   PostgreSQL fsync=$FSYNC, synchronous_commit=on, log_statement=all, log_duration=on,"
echo "         log_connections=on; sslmode=disable; moto $("$PY" -c 'import moto; print(moto.__version__)') on loopback;"
echo "         aws.write_interval=$WRITE_INTERVAL (default 50ms); reconcile.verify_interval=1h; $NOOP_RUNS no-op runs (median), $FLOOR_RUNS floor run(s)"
[ "$READERS" = 0 ] || echo "readers: the first $READERS databases of each N also have a reader entry (the floor does not)"
echo "gprdsd:  $("$GPRDSD" --version 2>/dev/null | head -1) ($GPRDSD)"
echo
printf '%-6s %-6s %8s %8s %7s %8s %8s %7s %8s %9s %5s\n' N phase "wall s" "gprdsd s" "CPU s" "SQL(gpd)" "SQL(srv)" "SM(gpd)" "SM(moto)" "peak RSS" load
for n in "$@"; do
	[ -n "${RES[$n,cold,wall]:-}" ] || continue
	printf '%-6s %-6s %8s %8s %7s %8s %8s %7s %8s %7sMB %5s\n' "$n" cold "${RES[$n,cold,wall]}" \
		"${RES[$n,cold,self]}" "${RES[$n,cold,cpu]}" "${RES[$n,cold,stmts]}" "${RES[$n,cold,srvstmts]}" \
		"${RES[$n,cold,sm]}" "${RES[$n,cold,moto]}" "${RES[$n,cold,rss]}" "${RES[$n,cold,load]}"
	[ -n "${RES[$n,noop,wall]:-}" ] &&
		printf '%-6s %-6s %8s %8s %7s %8s %8s %7s %8s %7sMB %5s\n' "$n" no-op "${RES[$n,noop,wall]}" \
			"${RES[$n,noop,self]}" "${RES[$n,noop,cpu]}" "${RES[$n,noop,stmts]}" "${RES[$n,noop,srvstmts]}" \
			"${RES[$n,noop,sm]}" "${RES[$n,noop,moto]}" "${RES[$n,noop,rss]}" "${RES[$n,noop,load]}"
	[ -n "${RES[$n,rotate,wall]:-}" ] &&
		printf '%-6s %-6s %8s %8s %7s %8s %8s %7s %8s %7sMB %5s\n' "$n" rotate "${RES[$n,rotate,wall]}" \
			"${RES[$n,rotate,self]}" "${RES[$n,rotate,cpu]}" "${RES[$n,rotate,stmts]}" "${RES[$n,rotate,srvstmts]}" \
			"${RES[$n,rotate,sm]}" "${RES[$n,rotate,moto]}" "${RES[$n,rotate,rss]}" "${RES[$n,rotate,load]}"
	[ -n "${RES[$n,verify,wall]:-}" ] &&
		printf '%-6s %-6s %8s %8s %7s %8s %8s %7s %8s %7sMB %5s\n' "$n" verify "${RES[$n,verify,wall]}" \
			"${RES[$n,verify,self]}" "${RES[$n,verify,cpu]}" "${RES[$n,verify,stmts]}" "${RES[$n,verify,srvstmts]}" \
			"${RES[$n,verify,sm]}" "${RES[$n,verify,moto]}" "${RES[$n,verify,rss]}" "${RES[$n,verify,load]}"
	[ -n "${RES[$n,floor,wall]:-}" ] &&
		printf '%-6s %-6s %8s %8s %7s %8s %8s %7s %8s %9s %5s\n' "$n" floor "${RES[$n,floor,wall]}" \
			- - - "${RES[$n,floor,srvstmts]}" - - - "${RES[$n,floor,load]}"
done
echo "wall: measured around the process; gprdsd s: its own summary line; CPU s: gprdsd's user+sys;"
echo "SQL(gpd)/SM(gpd): gprdsd's counts; SQL(srv): statements in the server log; SM(moto): requests"
echo "in moto's log; load: 1-minute load average when the phase started (other work on the host)."
echo "verify: the state one verify_interval later (every entry due for its login check); no target."
echo "rotate: the state 31 days later under libfaketime (every password due, rotation.max_per_pass=10 rotate); no target."
echo
for n in "$@"; do
	[ -n "${RES[$n,cold,wall]:-}" ] || continue
	echo "N=$n: after the cold pass: ${RES[$n,objects]}"
	echo "N=$n: logins seen by the server (master+app): cold ${RES[$n,cold,conns]}, no-op ${RES[$n,noop,conns]:-?}, verify ${RES[$n,verify,conns]:-?}"
	echo "N=$n: no-op walls: ${RES[$n,noop,walls]:-?} s; statements seen: ${RES[$n,noop,stmtset]:-?}; SM calls seen: ${RES[$n,noop,smset]:-?}"
	echo "N=$n: the no-op's Secrets Manager listing, replayed against moto: ${RES[$n,smlist]:-?}"
	echo "N=$n: floor walls: ${RES[$n,floor,walls]:-?} s"
	echo "N=$n: server-side execution time (log_duration; for gprdsd's extended-protocol statements it excludes the commit): cold ${RES[$n,cold,srvms]} ms, floor ${RES[$n,floor,srvms]:-?} ms"
	echo "N=$n: cold pass, server log by statement class (count, server ms):"
	sed 's/^/    /' "$WORK/n$n/cold-classes.tsv"
	echo "N=$n: floor, server log by statement class (count, server ms):"
	sed 's/^/    /' "$WORK/n$n/floor-classes.tsv" 2>/dev/null || true
	echo "N=$n: cold pass, gprdsd audit by action (rows, errors, total ms as gprdsd timed it):"
	sed 's/^/    /' "$WORK/n$n/cold-audit.tsv"
	echo "N=$n: no-op pass, server log by statement class:"
	sed 's/^/    /' "$WORK/n$n/noop-classes.tsv" 2>/dev/null || true
done
echo "micro-costs (libpq, this machine): PQencryptPasswordConn scram-sha-256 ${MICRO_VERIFIER:-?} ms;" \
	"one SCRAM login (connect+finish) ${MICRO_LOGIN:-?} ms"
echo

verdict() { # description figure limit ok
	printf '  %-46s %-30s %-14s %s\n' "$1" "$2" "$3" "$([ "$4" = 1 ] && echo PASS || echo FAIL)"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? 1 : 0 }'; }
echo "targets (defined at N=1000; shown for every N):"
for n in "$@"; do
	[ -n "${RES[$n,noop,wall]:-}" ] || continue
	smmax=$(awk -v n="$n" 'BEGIN { printf "%d", n / 100 + 5 }')
	verdict "N=$n no-op wall < 1 s (median)" "${RES[$n,noop,wall]} s" "1 s" "$(lt "${RES[$n,noop,wall]}" 1)"
	verdict "N=$n no-op SQL statements <= 20" "${RES[$n,noop,stmts]} (server: ${RES[$n,noop,srvstmts]})" "20" "$(le "${RES[$n,noop,srvstmts]}" 20)"
	verdict "N=$n no-op SM calls <= N/100 + 5" "${RES[$n,noop,sm]} (moto: ${RES[$n,noop,moto]})" "$smmax" "$(le "${RES[$n,noop,moto]}" "$smmax")"
	if [ -n "${RES[$n,floor,wall]:-}" ]; then
		ratio=$(awk -v a="${RES[$n,cold,wall]}" -v b="${RES[$n,floor,wall]}" 'BEGIN { printf "%.2f", a / b }')
		verdict "N=$n cold within 2x the raw-DDL floor" "${RES[$n,cold,wall]} s / ${RES[$n,floor,wall]} s = ${ratio}x" "2.00x" "$(le "$ratio" 2)"
	fi
done
echo
if [ ${#PROBLEMS[@]} -gt 0 ]; then
	echo "problems seen (${#PROBLEMS[@]}):"
	printf '  - %s\n' "${PROBLEMS[@]}"
else
	echo "problems seen: none (counts cross-checked against the server log and moto's request log)"
fi
echo "harness time: ${TOTAL}s"
[ ${#PROBLEMS[@]} -eq 0 ] || exit 1
exit 0
}
