# shellcheck shell=bash
# bench/servers.sh — sourced by bench/run.sh and bench/scale.sh: a throwaway PostgreSQL
# cluster (pristine copy per phase) and a moto server on loopback. The caller sets WORK, PG_BIN,
# PG_PORT, PG_OWNER, asowner, FSYNC, PGLOG, MASTER, MASTER_PW, HERE, VENV, PY, MOTO_PORT,
# MOTOLOG, ENV_NAME, PG_UP, MOTO_PID and die, and stops both on exit.
# ---------------------------------------------------------------------------------------
# PostgreSQL: one pristine data directory (initdb + the RDS-like master), copied afresh
# before every measured phase, so each phase starts from the same empty cluster.

SU_PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$WORK/pg/sock" -p "$PG_PORT" -U postgres -d postgres)

pg_start() {
	asowner "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$PGLOG" -w -t 120 start >/dev/null
	PG_UP=1
}
pg_stop() { # mode: fast (keeps the data) or immediate (the data is thrown away next)
	if [ "$PG_UP" = 1 ]; then
		asowner "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m "${1:-fast}" -w -t 300 stop >/dev/null
		PG_UP=0
	fi
}
pg_fresh() {
	pg_stop immediate
	asowner rm -rf "$WORK/pg/data"
	asowner cp -a "$WORK/pg/pristine" "$WORK/pg/data"
	pg_start
	"${SU_PSQL[@]}" -c CHECKPOINT
	sync # let the previous phase's writes settle before the next one is timed
}
marker() { "${SU_PSQL[@]}" -c "SELECT 'gprdsd-bench:$1:$2'" >/dev/null; }

pg_init() {
	mkdir -p "$WORK/pg"
	chown "$PG_OWNER" "$WORK/pg"
	asowner mkdir -p "$WORK/pg/sock"
	asowner "$PG_BIN/initdb" -D "$WORK/pg/pristine" -U postgres -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null
	asowner tee -a "$WORK/pg/pristine/postgresql.conf" >/dev/null <<-EOF
		# gprdsd benchmark
		listen_addresses = '127.0.0.1'
		port = $PG_PORT
		unix_socket_directories = '$WORK/pg/sock'
		password_encryption = 'scram-sha-256'
		fsync = $FSYNC
		max_connections = 100
		logging_collector = off
		log_line_prefix = '%m [%p] %q%u@%d '
		log_statement = 'all'
		log_duration = on
		log_connections = on
	EOF
	printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' |
		asowner tee "$WORK/pg/pristine/pg_hba.conf" >/dev/null
	asowner cp -a "$WORK/pg/pristine" "$WORK/pg/data"
	pg_start
	local verifier
	verifier=$(python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import gen_repo; print(gen_repo.scram_verifier(sys.argv[2]))' "$HERE" "$MASTER_PW")
	"${SU_PSQL[@]}" -c "CREATE ROLE $MASTER LOGIN CREATEROLE CREATEDB NOSUPERUSER NOREPLICATION NOBYPASSRLS PASSWORD '$verifier'"
	pg_stop
	asowner rm -rf "$WORK/pg/pristine"
	asowner cp -a "$WORK/pg/data" "$WORK/pg/pristine"
	asowner rm -f "$WORK/pg/pristine/postmaster.pid"
}

# ---------------------------------------------------------------------------------------
# moto (Secrets Manager)

moto_start() {
	"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$MOTOLOG" 2>&1 &
	MOTO_PID=$!
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "moto did not start: $(tail -5 "$MOTOLOG")"
}
moto_fresh() {
	curl -sf -X POST "http://127.0.0.1:$MOTO_PORT/moto-api/reset" >/dev/null
	"$PY" - "$MOTO_PORT" "$ENV_NAME" "$PG_PORT" "$MASTER" "$MASTER_PW" <<-'EOF'
		import json, sys, boto3
		port, env, pgport, user, pw = sys.argv[1:]
		c = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{port}")
		c.create_secret(Name=f"goldenpath/{env}/rds/master", SecretString=json.dumps(dict(
		    host="127.0.0.1", port=pgport, username=user, password=pw, dbname="postgres")))
	EOF
}

