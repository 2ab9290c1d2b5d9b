#!/usr/bin/env bash
# bench/run.sh [N...] — gprdsd at scale: cold pass, no-op pass and the raw-DDL floor.
#
# A harness that prints figures, not a timed test. For each N (default: 100 1000) and each
# Secrets Manager latency of BENCH_SM_LATENCY_MS (default 0) it
#   1. generates a checkout with N owner entries (bench/gen_repo.py),
#   2. times BENCH_RUNS (3) cold `gprdsd --once` and BENCH_FLOOR_RUNS (as many) runs of the
#      raw-DDL floor (the same roles, memberships, databases and grants as one psql script run
#      by the same non-superuser master), alternately (cold floor, floor cold, cold floor, ...),
#      each against a new copy of an empty PostgreSQL cluster (and, for gprdsd, a new moto),
#      and takes the medians,
#   3. after the first cold pass: times BENCH_NOOP_RUNS (5) no-op `gprdsd --once` and takes the
#      median, one re-verification pass (every entry's verify_interval elapsed: every login
#      checked), the login floor (as many logins by pgbench -C) and, with libfaketime, one
#      rotation pass,
# recording peak RSS and CPU (/usr/bin/time) and cross-checking gprdsd's own statement and
# Secrets Manager call counts against the server's statement log and moto's request log; then
# prints a table, what a cold pass costs per entry (statements by kind from the server log,
# Secrets Manager calls by action from the proxy's log, against the floor's), PASS/FAIL against
# the targets (docs/benchmarks.md) and one summary line per configuration:
#   N=100 sm_latency=40ms cold_median=..s floor_median=..s ratio=..x verify=..s login_floor=..s noop=..s
#   stmts/entry=.. api/entry=.. peak_rss=..MiB [<target>: PASS|FAIL; ...]
# Exit status: 0, or 1 when something was wrong with the run itself (counts disagree, entries
# failed, objects missing), 2 for a usage or setup error; a missed target alone does not
# change it.
#
# gprdsd reaches moto through bench/latency_proxy.py, which delays every HTTP request by
# BENCH_SM_LATENCY_MS (0: no delay, the proxy then only logs each request's X-Amz-Target) and,
# with BENCH_PG_LATENCY_MS, reaches PostgreSQL through the same proxy in TCP mode (every
# client -> server chunk delayed: that much round-trip time; gprdsd and the floor's psql alike).
# Everything runs on loopback in a temporary directory and is stopped and removed on exit.
# Needs: PostgreSQL 15 server binaries ($PG_BIN, pgbench among them), psql, a venv with
# moto[server] and boto3 ($BENCH_VENV; scripts/install-deps.sh makes one at .venv), python3,
# cc + libpq headers, /usr/bin/time (package `time`).
#
# The figures of docs/benchmarks.md ("Baseline before overlap"; the targets at N = 100 and 1000):
#   scripts/install-deps.sh                       # once: the venv at .venv
#   BENCH_VENV=$PWD/.venv BENCH_SM_LATENCY_MS="0 40" bench/run.sh 100 >bench.out 2>bench.err
#   BENCH_VENV=$PWD/.venv BENCH_SM_LATENCY_MS="0 40" bench/run.sh 1000 >bench.out 2>bench.err
#   grep -E '^N=' bench.out                        # the summary lines alone
# (at N = 1000 add BENCH_RUNS=1 for a quick look: 3 runs take 15-25 minutes on a busy machine),
# and the same on another branch's checkout (its own build-bench, or GPRDSD=path).
#
# Knobs (environment):
#   GPRDSD=path             the binary (default build-bench/daemon/gprdsd, rebuilt from this tree)
#   PG_BIN=dir              default /usr/lib/postgresql/15/bin
#   BENCH_VENV=dir          default /tmp/venv
#   BENCH_SM_LATENCY_MS=l   delay added to every Secrets Manager request, in ms; a list ("0 40")
#                           measures each in turn as its own configuration (default 0)
#   BENCH_PG_LATENCY_MS=l   round-trip time added between the clients (gprdsd, the floor's psql)
#                           and PostgreSQL, in ms (default 0: direct connections)
#   BENCH_RUNS=k            cold passes per configuration, median (default 3)
#   BENCH_FLOOR_RUNS=k      floor runs per configuration, median (default BENCH_RUNS)
#   BENCH_FRESH=1|0         1 (default): moto is restarted before every cold pass; 0: only
#                           reset. The cluster is always a new copy of the empty one.
#   BENCH_FSYNC=on|off      the cluster's fsync (default on; synchronous_commit stays on)
#   BENCH_WRITE_INTERVAL=d  gprdsd's aws.write_interval (default 0ms: moto has no write quota)
#   BENCH_NOOP_RUNS=k       no-op passes per configuration (default 5)
#   BENCH_READERS=k         also give the first k databases a reader entry (default 0). Not part
#                           of the targets: the floor has no reader grants, so the cold/floor
#                           ratio is then not comparable; it shows the no-op's per-database
#                           privilege checks.
#   BENCH_KEEP=1            keep the work directory (logs, repos, audit files, proxy log)
#   FAKETIME_LIB=path       libfaketime, for the rotation pass (skipped when missing)
# shellcheck disable=SC2154 # S_*, L_*, M_*: set by eval of bench/analyze.py's key=value output
# shellcheck disable=SC2034 # VENV: read by bench_prepare (common.sh)
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
RUNS=${BENCH_RUNS:-3}
FLOOR_RUNS=${BENCH_FLOOR_RUNS:-$RUNS}
FRESH=${BENCH_FRESH:-1}
SM_LAT_LIST=${BENCH_SM_LATENCY_MS:-0}
read -r -a SM_LATS <<<"${SM_LAT_LIST//,/ }"
PG_LAT=${BENCH_PG_LATENCY_MS:-0}
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
for v in "$RUNS" "$FLOOR_RUNS" "$NOOP_RUNS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS, BENCH_FLOOR_RUNS and BENCH_NOOP_RUNS must be positive integers"
done
for v in "${SM_LATS[@]}" "$PG_LAT"; do
	[[ $v =~ ^[0-9]+$ ]] || die "BENCH_SM_LATENCY_MS and BENCH_PG_LATENCY_MS are whole milliseconds: $v"
done
command -v psql >/dev/null || die "psql missing"
command -v curl >/dev/null || die "curl missing"

# ---------------------------------------------------------------------------------------
# Work directory and cleanup

WORK=$(mktemp -d /tmp/gprdsd-bench.XXXXXX)
chmod 755 "$WORK"
MOTO_PID=
SMP_PID=
PGP_PID=
PG_UP=0
cleanup() {
	set +e
	if [ "$PG_UP" = 1 ]; then
		asowner "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1
	fi
	for pid in "$MOTO_PID" "$SMP_PID" "$PGP_PID"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
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
SMP_PORT=$(free_port)
PGP_PORT=$(free_port)
MASTER_PW=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
PGLOG=$WORK/pg/postgres.log
MOTOLOG=$WORK/moto.log
SMPLOG=$WORK/sm-proxy.log
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-west-2
export AWS_REGION=eu-west-2 AWS_EC2_METADATA_DISABLED=true
export AWS_SHARED_CREDENTIALS_FILE=$WORK/no-aws-credentials AWS_CONFIG_FILE=$WORK/no-aws-config

# PostgreSQL and moto: pg_init, pg_fresh, pg_stop, marker, moto_start, moto_fresh.
. "$HERE/servers.sh"
moto_requests() { grep -c '"POST / HTTP' "$MOTOLOG" || true; }
moto_restart() {
	kill "$MOTO_PID" 2>/dev/null || true
	wait "$MOTO_PID" 2>/dev/null || true
	MOTO_PID=
	moto_start
}
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
# The delaying proxies (bench/latency_proxy.py). gprdsd always reaches moto through the HTTP
# one (at 0 ms it only logs each request's action); PostgreSQL through the TCP one only when
# BENCH_PG_LATENCY_MS is set.

wait_port() { # port what
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "$2 did not start"
}
sm_proxy_start() { # delay_ms
	python3 "$HERE/latency_proxy.py" http "$SMP_PORT" "$MOTO_PORT" --delay-ms "$1" \
		--log "$SMPLOG" 2>>"$WORK/sm-proxy.err" &
	SMP_PID=$!
	wait_port "$SMP_PORT" "the Secrets Manager proxy"
}
sm_proxy_stop() {
	kill "$SMP_PID" 2>/dev/null || true
	wait "$SMP_PID" 2>/dev/null || true
	SMP_PID=
}
proxy_lines() { if [ -e "$SMPLOG" ]; then wc -l <"$SMPLOG"; else echo 0; fi; }
if [ "$PG_LAT" -gt 0 ]; then
	PG_CONNECT_PORT=$PGP_PORT
else
	PG_CONNECT_PORT=$PG_PORT
fi

# ---------------------------------------------------------------------------------------
# One gprdsd --once, measured. Sets R_* variables.

now_ms() { date +%s%3N; }

run_gprdsd() { # dir tag [config]
	local d=$1 tag=$2 cfg=${3:-$1/gprdsd.yaml} t0 t1 m0 m1 p0 p1 rc=0
	m0=$(moto_requests)
	p0=$(proxy_lines)
	marker begin "$tag"
	t0=$(now_ms)
	R_LOAD=$(cut -d' ' -f1 /proc/loadavg)
	/usr/bin/time -f '%e %M %U %S' -o "$d/$tag.time" \
		env ${RUN_ENV:-} "$GPRDSD" --config "$cfg" --once >"$d/$tag.out" 2>"$d/$tag.err" || rc=$?
	t1=$(now_ms)
	marker end "$tag"
	sleep 0.2 # moto logs a request after answering it
	m1=$(moto_requests)
	p1=$(proxy_lines)
	R_RC=$rc
	R_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
	R_RSS=$(awk '{ printf "%.1f", $2 / 1024 }' "$d/$tag.time")
	R_CPU=$(awk '{ printf "%.2f", $3 + $4 }' "$d/$tag.time")
	R_MOTO=$((m1 - m0))
	python3 "$HERE/analyze.py" smactions "$SMPLOG" "$p0" "$p1" >"$d/$tag.sm.tsv"
	R_PROXY=$(awk -F'\t' '{ n += $2 } END { print n + 0 }' "$d/$tag.sm.tsv")
	unset S_parsed S_active S_failed S_errors S_applied S_statements S_sm_calls S_seconds S_pending
	eval "$(python3 "$HERE/analyze.py" summary "$d/$tag.out" | sed 's/^/S_/')"
	if [ "${S_parsed:-1}" = 0 ]; then
		say "bench: $tag: no summary line for $ENV_NAME (exit $rc); stdout/stderr follow"
		cat "$d/$tag.out" "$d/$tag.err" | tail -20 >&2
		return 1
	fi
	eval "$(python3 "$HERE/analyze.py" pglog "$PGLOG" "$tag" | sed 's/^/L_/')"
	[ "$S_sm_calls" = "$R_PROXY" ] ||
		problem "$tag: gprdsd counted $S_sm_calls Secrets Manager calls, the proxy forwarded $R_PROXY"
}

# ---------------------------------------------------------------------------------------
# Results. RES is keyed by configuration (N/latency label), phase and figure.

declare -A RES
CONFIGS=()
PROBLEMS=()
problem() { PROBLEMS+=("$*"); say "bench: PROBLEM: $*"; }
med() { python3 "$HERE/analyze.py" median "$@"; }

# One cold pass of a configuration: fresh cluster, fresh moto, gprdsd --once, checks.
cold_run() { # config n dir run
	local c=$1 n=$2 d=$3 i=$4 tag="cold-$5"
	rm -rf "$d/state" # gprdsd's own records: cold means nothing known on either side
	pg_fresh
	[ "$FRESH" = 1 ] && moto_restart
	moto_fresh
	say "bench: $c: cold pass ($i/$RUNS)"
	run_gprdsd "$d" "$tag" || { problem "$c cold pass $i: no summary line"; return 0; }
	RES[$c,cold,walls]+="$R_WALL " RES[$c,cold,selfs]+="$S_seconds " RES[$c,cold,rsss]+="$R_RSS "
	RES[$c,cold,cpus]+="$R_CPU " RES[$c,cold,loads]+="$R_LOAD "
	if [ "$i" = 1 ]; then
		RES[$c,cold,stmts]=$S_statements RES[$c,cold,srvstmts]=$L_statements
		RES[$c,cold,sm]=$S_sm_calls RES[$c,cold,moto]=$R_MOTO RES[$c,cold,rc]=$R_RC
		RES[$c,cold,conns]="$L_connections_master+$L_connections_app"
		RES[$c,cold,srvms]=$L_server_ms
	fi
	[ "$R_RC" = 0 ] || problem "$c cold pass $i exited $R_RC"
	[ "$S_active" = "$E" ] || problem "$c cold pass $i: $S_active active, expected $E"
	[ "$S_failed" = 0 ] && [ "$S_errors" = 0 ] ||
		problem "$c cold pass $i: $S_failed failed, $S_errors errors (see $tag.err)"
	[ "$S_statements" = "$L_statements" ] ||
		problem "$c cold pass $i: gprdsd counted $S_statements SQL statements, the server logged $L_statements"
	[ "$S_sm_calls" = "$R_MOTO" ] ||
		problem "$c cold pass $i: gprdsd counted $S_sm_calls Secrets Manager calls, moto logged $R_MOTO"
	[ "$S_statements" = "${RES[$c,cold,stmts]:-}" ] && [ "$S_sm_calls" = "${RES[$c,cold,sm]:-}" ] ||
		problem "$c cold pass $i: $S_statements statements and $S_sm_calls calls, run 1 had ${RES[$c,cold,stmts]:-?} and ${RES[$c,cold,sm]:-?}"
	local dbs roles secrets
	dbs=$("${SU_PSQL[@]}" -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'bench\_db\_%'")
	roles=$("${SU_PSQL[@]}" -c "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'bench\_user\_%' AND rolcanlogin")
	secrets=$(moto_secret_count)
	RES[$c,objects]="$dbs databases, $roles roles, $secrets secrets"
	[ "$dbs" = "$n" ] && [ "$roles" = "$n" ] && [ "$secrets" = "$n" ] ||
		problem "$c after cold pass $i: $dbs databases, $roles roles, $secrets secrets (expected $n each)"
	if [ "$i" = 1 ]; then
		python3 "$HERE/analyze.py" audit "$d/state/audit/$ENV_NAME/rds_provision_audit.csv" \
			>"$d/cold-audit.tsv" 2>/dev/null || : >"$d/cold-audit.tsv"
		python3 "$HERE/analyze.py" pgclasses "$PGLOG" "$tag" >"$d/cold-classes.tsv"
		cp "$d/$tag.sm.tsv" "$d/cold-sm.tsv"
		after_cold "$c" "$n" "$d" "$5"
	fi
}

# The no-op, re-verification and rotation passes on the state the first cold pass left.
after_cold() { # config n dir tag
	local c=$1 n=$2 d=$3 t=$4 i walls=() stmts=() sms=() srv=() motos=() rsss=() conns=() cpus=() loads=() selfs=()
	local audit_rows audit_rows2
	audit_rows=$(($(wc -l <"$d/state/audit/$ENV_NAME/rds_provision_audit.csv" 2>/dev/null || echo 1) - 1))

	# -- no-op passes -------------------------------------------------------------------
	say "bench: $c: $NOOP_RUNS no-op passes"
	for i in $(seq "$NOOP_RUNS"); do
		run_gprdsd "$d" "noop-$t-$i" || { problem "$c no-op pass $i: no summary line"; return 0; }
		walls+=("$R_WALL") selfs+=("$S_seconds") stmts+=("$S_statements") sms+=("$S_sm_calls") srv+=("$L_statements")
		motos+=("$R_MOTO") rsss+=("$R_RSS") conns+=("$L_connections_master+$L_connections_app")
		cpus+=("$R_CPU") loads+=("$R_LOAD")
		[ "$R_RC" = 0 ] || problem "$c no-op pass $i exited $R_RC"
		[ "$S_applied" = 0 ] || problem "$c no-op pass $i applied $S_applied changes"
		[ "$S_active" = "$E" ] || problem "$c no-op pass $i: $S_active active, expected $E"
		[ "$S_statements" = "$L_statements" ] ||
			problem "$c no-op pass $i: gprdsd counted $S_statements SQL statements, the server logged $L_statements"
		[ "$S_sm_calls" = "$R_MOTO" ] ||
			problem "$c no-op pass $i: gprdsd counted $S_sm_calls Secrets Manager calls, moto logged $R_MOTO"
	done
	audit_rows2=$(($(wc -l <"$d/state/audit/$ENV_NAME/rds_provision_audit.csv" 2>/dev/null || echo 1) - 1))
	[ "$audit_rows2" = "$audit_rows" ] ||
		problem "$c the no-op passes wrote $((audit_rows2 - audit_rows)) audit rows"
	RES[$c,noop,wall]=$(med "${walls[@]}") RES[$c,noop,self]=$(med "${selfs[@]}") RES[$c,noop,walls]="${walls[*]}"
	RES[$c,noop,stmts]=$(med "${stmts[@]}") RES[$c,noop,srvstmts]=$(med "${srv[@]}")
	RES[$c,noop,sm]=$(med "${sms[@]}") RES[$c,noop,moto]=$(med "${motos[@]}")
	RES[$c,noop,rss]=$(printf '%s\n' "${rsss[@]}" | sort -g | tail -1)
	RES[$c,noop,conns]=${conns[0]} RES[$c,noop,cpu]=$(med "${cpus[@]}") RES[$c,noop,load]=${loads[0]}
	RES[$c,noop,stmtset]=$(printf '%s\n' "${stmts[@]}" | sort -u | tr '\n' ' ')
	RES[$c,noop,smset]=$(printf '%s\n' "${sms[@]}" | sort -u | tr '\n' ' ')
	python3 "$HERE/analyze.py" pgclasses "$PGLOG" "noop-$t-1" >"$d/noop-classes.tsv"
	eval "$("$PY" "$HERE/analyze.py" smlist "$MOTO_PORT" "goldenpath/$ENV_NAME/" | sed 's/^/M_/')"
	RES[$c,smlist]="$M_pages ListSecrets pages ($M_secrets secrets under goldenpath/$ENV_NAME/) in $M_seconds s"

	# -- re-verification pass -------------------------------------------------------------
	# The same state one verify_interval later: every entry's credentials are due for the
	# login check, so the pass reads every secret's value and logs in once per entry.
	sed 's/verify_interval: 1h/verify_interval: 1s/' "$d/gprdsd.yaml" >"$d/gprdsd-verify.yaml"
	sleep 1.5
	say "bench: $c: re-verification pass (verify_interval elapsed for every entry)"
	if run_gprdsd "$d" "verify-$t" "$d/gprdsd-verify.yaml"; then
		RES[$c,verify,wall]=$R_WALL RES[$c,verify,self]=$S_seconds RES[$c,verify,cpu]=$R_CPU
		RES[$c,verify,stmts]=$S_statements RES[$c,verify,srvstmts]=$L_statements
		RES[$c,verify,sm]=$S_sm_calls RES[$c,verify,moto]=$R_MOTO RES[$c,verify,rss]=$R_RSS
		RES[$c,verify,load]=$R_LOAD RES[$c,verify,conns]="$L_connections_master+$L_connections_app"
		[ "$R_RC" = 0 ] || problem "$c re-verification pass exited $R_RC"
		[ "$S_applied" = 0 ] || problem "$c re-verification pass applied $S_applied changes"
		[ "$L_connections_app" = "$E" ] ||
			problem "$c re-verification pass: $L_connections_app application logins, expected $E"
		[ "$S_sm_calls" = "$R_MOTO" ] ||
			problem "$c re-verification pass: gprdsd counted $S_sm_calls Secrets Manager calls, moto logged $R_MOTO"
	else
		problem "$c re-verification pass: no summary line"
	fi

	login_floor "$c" "$n"

	# -- rotation pass (informative, no target) ----------------------------------------
	# The same state 31 days later (libfaketime): every password is due; rotation.max_per_pass
	# (default 10) of them rotate, four steps each. verify_interval is long here so that the
	# figure is the rotations', not the login checks' of the re-verification pass above.
	if [ -e "$FAKETIME_LIB" ]; then
		sed 's/verify_interval: 1h/verify_interval: 100d/' "$d/gprdsd.yaml" >"$d/gprdsd-rotate.yaml"
		say "bench: $c: rotation pass (31 days later: every password due, 10 rotate)"
		if RUN_ENV="LD_PRELOAD=$FAKETIME_LIB FAKETIME=+31d FAKETIME_DONT_FAKE_MONOTONIC=1" \
			run_gprdsd "$d" "rotate-$t" "$d/gprdsd-rotate.yaml"; then
			RES[$c,rotate,wall]=$R_WALL RES[$c,rotate,self]=$S_seconds RES[$c,rotate,cpu]=$R_CPU
			RES[$c,rotate,stmts]=$S_statements RES[$c,rotate,srvstmts]=$L_statements
			RES[$c,rotate,sm]=$S_sm_calls RES[$c,rotate,moto]=$R_MOTO RES[$c,rotate,rss]=$R_RSS
			RES[$c,rotate,load]=$R_LOAD
			[ "$R_RC" = 0 ] || problem "$c rotation pass exited $R_RC"
			local rotated=$((n < 10 ? n : 10))
			[ "$S_applied" = $((4 * rotated)) ] ||
				problem "$c rotation pass applied $S_applied changes, expected $((4 * rotated))"
		else
			problem "$c rotation pass: no summary line"
		fi
	fi
}

# The login floor: as many SCRAM logins as the re-verification pass makes, by PostgreSQL's
# own client (pgbench -C: a new connection per transaction; the transaction runs no
# statement), four at once as gprdsd's, as a role whose verifier has the same 4096 rounds:
# what N logins cost this host, client and server together, with nothing else around them.
login_floor() { # config n
	local c=$1 n=$2 pw verifier t0 t1 rc=0
	pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
	verifier=$(python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import gen_repo; print(gen_repo.scram_verifier(sys.argv[2]))' "$HERE" "$pw")
	"${SU_PSQL[@]}" -c "CREATE ROLE bench_login LOGIN PASSWORD '$verifier'" >/dev/null
	printf '\\set x 1\n' >"$WORK/login_floor.sql"
	say "bench: $c: login floor ($n logins by pgbench -C, 4 at once)"
	t0=$(date +%s%3N)
	PGPASSWORD=$pw "$PG_BIN/pgbench" -n -C -c 4 -j 4 -t $(((n + 3) / 4)) -f "$WORK/login_floor.sql" \
		-h 127.0.0.1 -p "$PG_PORT" -U bench_login postgres >"$WORK/login_floor.out" 2>&1 || rc=$?
	t1=$(date +%s%3N)
	"${SU_PSQL[@]}" -c "DROP ROLE bench_login" >/dev/null
	if [ "$rc" = 0 ]; then
		RES[$c,loginfloor,wall]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
	else
		problem "$c login floor: pgbench failed: $(tail -2 "$WORK/login_floor.out")"
	fi
}

# One run of the raw-DDL floor: fresh cluster, the psql script as the master.
floor_run() { # config n dir run
	local c=$1 n=$2 d=$3 i=$4 tag="floor-$5" t0 t1 rc=0
	say "bench: $c: raw-DDL floor ($i/$FLOOR_RUNS)"
	pg_fresh
	RES[$c,floor,loads]+="$(cut -d' ' -f1 /proc/loadavg) "
	marker begin "$tag"
	t0=$(now_ms)
	PGPASSWORD=$MASTER_PW psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_CONNECT_PORT" \
		-U "$MASTER" -d postgres -f "$d/floor.sql" >/dev/null 2>"$d/floor.err" || rc=$?
	t1=$(now_ms)
	marker end "$tag"
	[ "$rc" = 0 ] || problem "$c floor script failed: $(head -3 "$d/floor.err")"
	RES[$c,floor,walls]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }') "
	if [ "$i" = 1 ]; then
		eval "$(python3 "$HERE/analyze.py" pglog "$PGLOG" "$tag" | sed 's/^/L_/')"
		RES[$c,floor,srvstmts]=$L_statements RES[$c,floor,srvms]=$L_server_ms
		python3 "$HERE/analyze.py" pgclasses "$PGLOG" "$tag" >"$d/floor-classes.tsv"
	fi
}

# One configuration: N entries, one Secrets Manager latency; cold and floor alternately.
bench_config() { # n sm_latency_ms
	local n=$1 lat=$2 c d i ph order runs
	c=$(label "$n" "$lat")
	d=$WORK/n$n-sm$lat
	CONFIGS+=("$c")
	RES[$c,n]=$n RES[$c,lat]=$lat
	mkdir -p "$d"
	say "bench: $c: generating the checkout and the floor script"
	python3 "$HERE/gen_repo.py" repo "$d/repo" "$n" --env "$ENV_NAME" --readers "$READERS"
	E=$((n + (READERS < n ? READERS : n))) # entries: owners and readers
	python3 "$HERE/gen_repo.py" floor "$d/floor.sql" "$n" "$MASTER"
	cat >"$d/gprdsd.yaml" <<-EOF
		# gprdsd benchmark, N=$n, Secrets Manager latency ${lat}ms (bench/latency_proxy.py)
		repository: { path: repo }
		state_dir: state
		audit_dir: state/audit
		log_target: console
		log_level: info
		reconcile: { verify_interval: 1h }
		aws: { region: eu-west-2, endpoint: "http://127.0.0.1:$SMP_PORT", write_interval: $WRITE_INTERVAL }
		environments:
		  $ENV_NAME:
		    postgres: { host: 127.0.0.1, port: $PG_CONNECT_PORT, sslmode: disable }
	EOF
	"$GPRDSD" --config "$d/gprdsd.yaml" --check-config >/dev/null 2>"$d/check-config.err" ||
		die "$c: the generated config is refused: $(cat "$d/check-config.err")"
	sm_proxy_start "$lat"
	runs=$((RUNS > FLOOR_RUNS ? RUNS : FLOOR_RUNS))
	for i in $(seq "$runs"); do
		# cold floor, floor cold, ...: a drift in the host's load weighs on both alike
		if [ $((i % 2)) = 1 ]; then order="cold floor"; else order="floor cold"; fi
		for ph in $order; do
			if [ "$ph" = cold ] && [ "$i" -le "$RUNS" ]; then
				cold_run "$c" "$n" "$d" "$i" "$n-sm$lat-$i"
			elif [ "$ph" = floor ] && [ "$i" -le "$FLOOR_RUNS" ]; then
				floor_run "$c" "$n" "$d" "$i" "$n-sm$lat-$i"
			fi
		done
	done
	sm_proxy_stop
	# shellcheck disable=SC2086 # the lists are space-separated numbers
	if [ -n "${RES[$c,cold,walls]:-}" ]; then
		RES[$c,cold,wall]=$(med ${RES[$c,cold,walls]}) RES[$c,cold,self]=$(med ${RES[$c,cold,selfs]})
		RES[$c,cold,cpu]=$(med ${RES[$c,cold,cpus]})
		RES[$c,cold,rss]=$(printf '%s\n' ${RES[$c,cold,rsss]} | sort -g | tail -1)
		RES[$c,cold,load]=${RES[$c,cold,loads]%% *}
	fi
	# shellcheck disable=SC2086
	if [ -n "${RES[$c,floor,walls]:-}" ]; then
		RES[$c,floor,wall]=$(med ${RES[$c,floor,walls]}) RES[$c,floor,load]=${RES[$c,floor,loads]%% *}
	fi
	# The summary line now as well: a long run stopped later still leaves this one behind.
	if [ -n "${RES[$c,cold,wall]:-}" ]; then
		judge "$c" >/dev/null
		say "bench: $SUMLINE"
	fi
}

label() { # n sm_latency_ms
	if [ "$2" = 0 ]; then echo "$1"; else echo "$1+sm${2}ms"; fi
}

# The targets of one configuration: a verdict row each on stdout, and SUMLINE, the
# configuration's summary line with PASS/FAIL per target.
verdict() { # description figure limit ok
	printf '  %-46s %-30s %-14s %s\n' "$1" "$2" "$3" "$([ "$4" = 1 ] && echo PASS || echo FAIL)"
}
pf() { if [ "$1" = 1 ]; then echo PASS; else echo FAIL; fi; }
# The ratio of each cold pass to the floor run next to it (run i of each), and their median:
# when the host's disk or CPU drifts during a configuration, a pair is measured at nearly the
# same speed, while the medians of the two sides come from different moments.
paired() { # "cold walls" "floor walls"
	local ratios
	ratios=$(awk -v c="$1" -v f="$2" 'BEGIN {
		n = split(c, a, " "); m = split(f, b, " "); if (m < n) n = m
		for (i = 1; i <= n; i++) printf "%.2f ", a[i] / b[i]
	}')
	echo "${ratios// /x }(median $(med $ratios)x)"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? 1 : 0 }'; }
judge() { # config
	local c=$1 n lat line ratio lim ok smmax checks=()
	n=${RES[$c,n]} lat=${RES[$c,lat]}
	line="N=$n sm_latency=${lat}ms"
	[ "$PG_LAT" = 0 ] || line+=" pg_latency=${PG_LAT}ms"
	line+=" cold_median=${RES[$c,cold,wall]}s floor_median=${RES[$c,floor,wall]:-?}s"
	if [ -n "${RES[$c,floor,wall]:-}" ]; then
		ratio=$(awk -v a="${RES[$c,cold,wall]}" -v b="${RES[$c,floor,wall]}" 'BEGIN { printf "%.2f", a / b }')
		lim=$([ "$lat" = 0 ] && echo 1.10 || echo 1.25)
		ok=$(le "$ratio" "$lim")
		verdict "$c cold within ${lim}x the raw-DDL floor" "${RES[$c,cold,wall]} s / ${RES[$c,floor,wall]} s = ${ratio}x" "${lim}x" "$ok"
		line+=" ratio=${ratio}x"
		checks+=("cold<=${lim}x floor: $(pf "$ok")")
		echo "  $c cold / floor of the runs made next to each other: $(paired "${RES[$c,cold,walls]}" "${RES[$c,floor,walls]}") (informative)"
	fi
	line+=" verify=${RES[$c,verify,wall]:-?}s login_floor=${RES[$c,loginfloor,wall]:-?}s"
	line+=" noop=${RES[$c,noop,wall]:-?}s"
	line+=" stmts/entry=$(awk -v a="${RES[$c,cold,stmts]:-0}" -v n="$n" 'BEGIN { printf "%.2f", a / n }')"
	line+=" api/entry=$(awk -v a="${RES[$c,cold,sm]:-0}" -v n="$n" 'BEGIN { printf "%.2f", a / n }')"
	line+=" peak_rss=${RES[$c,cold,rss]}MiB"
	if [ -n "${RES[$c,verify,wall]:-}" ]; then
		ok=$(lt "${RES[$c,verify,wall]}" 2)
		verdict "$c verify wall < 2 s" "${RES[$c,verify,wall]} s" "2 s" "$ok"
		checks+=("verify<2s: $(pf "$ok")")
		[ -z "${RES[$c,loginfloor,wall]:-}" ] ||
			echo "  $c verify / login floor: ${RES[$c,verify,wall]} s / ${RES[$c,loginfloor,wall]} s = $(awk -v a="${RES[$c,verify,wall]}" -v b="${RES[$c,loginfloor,wall]}" 'BEGIN { printf "%.2f", a / b }')x (informative)"
	fi
	if [ -n "${RES[$c,noop,wall]:-}" ]; then
		smmax=$(awk -v n="$n" 'BEGIN { printf "%d", n / 100 + 5 }')
		ok=$(lt "${RES[$c,noop,wall]}" 1)
		verdict "$c no-op wall < 1 s (median)" "${RES[$c,noop,wall]} s" "1 s" "$ok"
		checks+=("noop<1s: $(pf "$ok")")
		ok=$(le "${RES[$c,noop,srvstmts]}" 20)
		verdict "$c no-op SQL statements <= 20" "${RES[$c,noop,stmts]} (server: ${RES[$c,noop,srvstmts]})" "20" "$ok"
		checks+=("noop stmts<=20: $(pf "$ok")")
		ok=$(le "${RES[$c,noop,moto]}" "$smmax")
		verdict "$c no-op SM calls <= N/100 + 5" "${RES[$c,noop,sm]} (moto: ${RES[$c,noop,moto]})" "$smmax" "$ok"
		checks+=("noop api<=$smmax: $(pf "$ok")")
	fi
	ok=$(lt "${RES[$c,cold,rss]}" 32)
	verdict "$c cold peak RSS < 32 MiB" "${RES[$c,cold,rss]} MiB" "32 MiB" "$ok"
	checks+=("rss<32MiB: $(pf "$ok")")
	SUMLINE="$line [$(printf '%s; ' "${checks[@]}" | sed 's/; $//')]"
}

# Client-side costs gprdsd pays per new entry, with the libpq calls it uses.
micro_costs() {
	local bin=$WORK/pq_cost conninfo
	# shellcheck disable=SC2046 # pkg-config's flags are meant to be split
	cc -O2 -o "$bin" "$HERE/pq_cost.c" $(pkg-config --cflags --libs libpq 2>/dev/null || echo "-I$("$PG_BIN/pg_config" --includedir) -lpq") ||
		{ problem "cannot compile bench/pq_cost.c"; return 0; }
	conninfo="host=127.0.0.1 port=$PG_PORT user=$MASTER password=$MASTER_PW dbname=postgres sslmode=disable"
	MICRO_VERIFIER=$("$bin" verifier "$conninfo" 500 | awk '{ print $4 }')
	MICRO_LOGIN=$("$bin" login "$conninfo" 300 | awk '{ print $4 }')
}

# ---------------------------------------------------------------------------------------
# Main

cd "$WORK"
say "bench: work directory $WORK; PostgreSQL on 127.0.0.1:$PG_PORT (fsync=$FSYNC), moto on 127.0.0.1:$MOTO_PORT behind 127.0.0.1:$SMP_PORT"
START=$(now_ms)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
pg_init
moto_start
if [ "$PG_LAT" -gt 0 ]; then
	python3 "$HERE/latency_proxy.py" tcp "$PGP_PORT" "$PG_PORT" --delay-ms "$PG_LAT" 2>>"$WORK/pg-proxy.err" &
	PGP_PID=$!
	wait_port "$PGP_PORT" "the PostgreSQL proxy"
fi
pg_fresh
micro_costs
for n in "$@"; do
	for lat in "${SM_LATS[@]}"; do bench_config "$n" "$lat"; done
done
pg_stop immediate
TOTAL=$(awk -v a="$START" -v b="$(now_ms)" 'BEGIN { printf "%.0f", (b - a) / 1000 }')
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------
# Report

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
echo
echo "gprdsd benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -r); $("$PG_BIN/postgres" --version)"
echo "load:    $LOAD_START at the start, $LOAD_END at the end (1, 5, 15 min; other work on the host)"
echo "setup:   PostgreSQL fsync=$FSYNC, synchronous_commit=on, log_statement=all, log_duration=on,"
echo "         log_connections=on; sslmode=disable; moto $("$PY" -c 'import moto; print(moto.__version__)') on loopback"
echo "         behind bench/latency_proxy.py (Secrets Manager latency per configuration);"
echo "         PostgreSQL round-trip latency ${PG_LAT}ms$([ "$PG_LAT" = 0 ] || echo ' (bench/latency_proxy.py tcp, gprdsd and the floor alike)');"
echo "         aws.write_interval=$WRITE_INTERVAL (default 25ms); reconcile.verify_interval=1h; $RUNS cold and"
echo "         $FLOOR_RUNS floor run(s) per configuration, alternately, median; $NOOP_RUNS no-op runs (median); moto restarted per cold run: $FRESH"
[ "$READERS" = 0 ] || echo "readers: the first $READERS databases of each N also have a reader entry (the floor does not)"
echo "gprdsd:  $("$GPRDSD" --version 2>/dev/null | head -1) ($GPRDSD; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- daemon lib 2>/dev/null || echo ' + changes'))"
echo
row() { # label phase wall self cpu stmts srvstmts sm moto rss load
	printf '%-14s %-6s %8s %8s %7s %8s %8s %7s %8s %9s %5s\n' "$@"
}
row config phase "wall s" "gprdsd s" "CPU s" "SQL(gpd)" "SQL(srv)" "SM(gpd)" "SM(moto)" "peak RSS" load
for c in "${CONFIGS[@]}"; do
	[ -n "${RES[$c,cold,wall]:-}" ] || continue
	for ph in cold noop rotate verify; do
		[ -n "${RES[$c,$ph,wall]:-}" ] || continue
		row "$c" "${ph/noop/no-op}" "${RES[$c,$ph,wall]}" "${RES[$c,$ph,self]}" "${RES[$c,$ph,cpu]}" \
			"${RES[$c,$ph,stmts]}" "${RES[$c,$ph,srvstmts]}" "${RES[$c,$ph,sm]}" "${RES[$c,$ph,moto]}" \
			"${RES[$c,$ph,rss]}MB" "${RES[$c,$ph,load]}"
	done
	[ -n "${RES[$c,floor,wall]:-}" ] &&
		row "$c" floor "${RES[$c,floor,wall]}" - - - "${RES[$c,floor,srvstmts]}" - - - "${RES[$c,floor,load]}"
done
echo "config: N, and +smXms when every Secrets Manager request was delayed by X ms."
echo "wall: measured around the process (cold, floor: median of the runs); gprdsd s: its own summary"
echo "line; CPU s: gprdsd's user+sys; SQL(gpd)/SM(gpd): gprdsd's counts; SQL(srv): statements in the"
echo "server log; SM(moto): requests in moto's log; peak RSS: the largest of the runs; load: 1-minute"
echo "load average when the (first) phase started (other work on the host)."
echo "verify: the state one verify_interval later (every entry due for its login check)."
echo "rotate: the state 31 days later under libfaketime (every password due, rotation.max_per_pass=10 rotate); no target."
echo
for c in "${CONFIGS[@]}"; do
	[ -n "${RES[$c,cold,wall]:-}" ] || continue
	n=${RES[$c,n]}
	echo "$c: after the cold pass: ${RES[$c,objects]}"
	echo "$c: cold walls: ${RES[$c,cold,walls]}s (loads ${RES[$c,cold,loads]}); floor walls: ${RES[$c,floor,walls]:-?}s (loads ${RES[$c,floor,loads]:-?}); peak RSS ${RES[$c,cold,rsss]}MiB"
	echo "$c: logins seen by the server (master+app): cold ${RES[$c,cold,conns]}, no-op ${RES[$c,noop,conns]:-?}, verify ${RES[$c,verify,conns]:-?}"
	echo "$c: no-op walls: ${RES[$c,noop,walls]:-?} s; statements seen: ${RES[$c,noop,stmtset]:-?}; SM calls seen: ${RES[$c,noop,smset]:-?}"
	echo "$c: the no-op's Secrets Manager listing, replayed against moto (no delay): ${RES[$c,smlist]:-?}"
	echo "$c: server-side execution time (log_duration; for gprdsd's extended-protocol statements it excludes the commit): cold ${RES[$c,cold,srvms]} ms, floor ${RES[$c,floor,srvms]:-?} ms"
	echo "$c: cold pass (run 1), gprdsd audit by action (rows, errors, total ms as gprdsd timed it):"
	sed 's/^/    /' "$WORK/n$n-sm${RES[$c,lat]}/cold-audit.tsv"
	echo "$c: no-op pass, server log by statement class:"
	sed 's/^/    /' "$WORK/n$n-sm${RES[$c,lat]}/noop-classes.tsv" 2>/dev/null || true
	echo "$c: cold pass (run 1) per entry, against the floor (run 1): count, count / N, mean ms each"
	echo "    (statements: server time from log_duration; Secrets Manager: from the request's arrival at"
	echo "    the proxy to the first byte of the answer, the added latency included):"
	dd=$WORK/n$n-sm${RES[$c,lat]}
	python3 "$HERE/analyze.py" perentry "$n" "$dd/cold-classes.tsv" "$dd/floor-classes.tsv" "$dd/cold-sm.tsv" |
		sed 's/^/    /'
done
echo "micro-costs (libpq, this machine): PQencryptPasswordConn scram-sha-256 ${MICRO_VERIFIER:-?} ms;" \
	"one SCRAM login (connect+finish) ${MICRO_LOGIN:-?} ms"
echo

echo "targets (defined at N=100 and 1000 for cold/floor, at N=1000 for the others; shown for every N;"
echo "cold/floor at most 1.10x without added latency, 1.25x with Secrets Manager latency (defined at 40 ms)):"
SUMMARY=()
for c in "${CONFIGS[@]}"; do
	[ -n "${RES[$c,cold,wall]:-}" ] || continue
	judge "$c"
	SUMMARY+=("$SUMLINE")
done
echo
if [ ${#PROBLEMS[@]} -gt 0 ]; then
	echo "problems seen (${#PROBLEMS[@]}):"
	printf '  - %s\n' "${PROBLEMS[@]}"
else
	echo "problems seen: none (counts cross-checked against the server log, moto's request log and the proxy's)"
fi
echo "harness time: ${TOTAL}s"
echo
echo "summary (load $LOAD_START -> $LOAD_END):"
printf '%s\n' "${SUMMARY[@]}"
[ ${#PROBLEMS[@]} -eq 0 ] || exit 1
exit 0
}
