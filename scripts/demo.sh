#!/usr/bin/env bash
# demo.sh — gprdsd end to end on this machine, leaving nothing behind.
#
# Takes about 10 seconds once the dependencies are installed; the first run on a fresh machine
# installs the Debian packages and the Python virtualenv first (several minutes, most of it
# apt-get and pip downloads).
#
# Installs what is missing (scripts/install-deps.sh), builds, then starts:
#   - a throwaway PostgreSQL 15 cluster on a free loopback port (as user `postgres` when run
#     as root), with an RDS-like master role `rdsmaster` (LOGIN CREATEROLE CREATEDB, not a
#     superuser);
#   - moto's Secrets Manager on a free loopback port, holding the master secrets
#     goldenpath/dev/rds/master and goldenpath/test/rds/master;
#   - a git copy of config/example-repo (dev standalone, test coupled);
# and shows: validate, plan, `--once`, status, the databases and roles, the secrets (names and
# keys, never values), the audit CSV, a second `--once` that changes nothing and a plan that
# says so, then a request held by its approval route until the catalog records the approval.
# Everything it started is stopped on exit.
#
# GPRDSD_DEMO_KEEP=1 leaves PostgreSQL and moto running with the demo's data and prints how to
# go on: `. <dir>/env.sh` puts a `gprdsd` that uses the demo's config first on PATH and sets the
# emulator's credentials and PGHOST/PGPORT, after which `gprdsd status`, `plan`, `--once`,
# `rotate` and `psql` work against them; `<dir>/stop.sh` stops both and removes the directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=install-deps.sh
. "$root/scripts/install-deps.sh"
gp_install_deps

build=${GPRDSD_BUILD_DIR:-build-ci}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dwerror=true >/dev/null
fi
ninja -C "$build" >/dev/null
case $build in /*) gprdsd=$build/daemon/gprdsd ;; *) gprdsd=$root/$build/daemon/gprdsd ;; esac
py=$root/.venv/bin/python
pgbin=/usr/lib/postgresql/15/bin

demo=$(mktemp -d "${TMPDIR:-/tmp}/gprdsd-demo.XXXXXX")
chmod 755 "$demo"
pgdir=$demo/pg
moto_pid=

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

keep() {
	# Hands the running servers over to the operator: an environment file and a stop script.
	mkdir -p "$demo/bin"
	printf '#!/bin/sh\nexec %s --config %s "$@"\n' "$gprdsd" "$demo/gprdsd.yaml" >"$demo/bin/gprdsd"
	chmod 755 "$demo/bin/gprdsd"
	cat >"$demo/env.sh" <<EOF
# . this file to use the kept gprdsd demo (scripts/demo.sh with GPRDSD_DEMO_KEEP=1)
export PATH=$demo/bin:\$PATH
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-west-2
export AWS_EC2_METADATA_DISABLED=true NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export PGHOST=$pgdir PGPORT=$pg_port PGUSER=postgres
EOF
	cat >"$demo/stop.sh" <<EOF
#!/usr/bin/env bash
# Stops the kept demo's PostgreSQL and moto and removes $demo.
if [ "\$(id -u)" -eq 0 ]; then
	runuser -u postgres -- $pgbin/pg_ctl -D $pgdir/data -m fast -w stop >/dev/null
else
	$pgbin/pg_ctl -D $pgdir/data -m fast -w stop >/dev/null
fi
kill -TERM -- -$moto_pid 2>/dev/null
for _ in \$(seq 100); do kill -0 $moto_pid 2>/dev/null || break; sleep 0.1; done
rm -rf $demo
echo "stopped the gprdsd demo and removed $demo"
EOF
	chmod 755 "$demo/stop.sh"
	step "kept: PostgreSQL on 127.0.0.1:$pg_port and moto on $DEMO_MOTO are still running"
	cat <<EOF
. $demo/env.sh   # gprdsd with the demo's config on PATH, the emulator's credentials, PGHOST
gprdsd status                   # what each entry is doing
gprdsd plan                     # after editing and committing $demo/repo
gprdsd --once                   # one pass
gprdsd rotate --env dev payments_ledger  # a new credential now
psql -c '\\du'                   # the roles
$demo/stop.sh   # stops both and removes the directory
EOF
}

cleanup() {
	local rc=$?
	set +e
	if [ "${GPRDSD_DEMO_KEEP:-0}" = 1 ] && [ "$rc" -eq 0 ]; then
		keep
		return
	fi
	[ -f "$pgdir/data/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null 2>&1
	[ -n "$moto_pid" ] && kill -TERM -- "-$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
	if [ "${GPRDSD_DEMO_KEEP:-0}" = 1 ]; then
		echo "the demo failed; servers stopped, kept $demo for its logs"
	else
		rm -rf "$demo"
	fi
}
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=eu-west-2
export AWS_EC2_METADATA_DISABLED=true
pg_port=$(free_port)
moto_port=$(free_port)
export DEMO_PG_PORT=$pg_port DEMO_PG_SOCK=$pgdir DEMO_MOTO=http://127.0.0.1:$moto_port

step "PostgreSQL 15 on 127.0.0.1:$pg_port (throwaway cluster in $pgdir)"
mkdir -p "$pgdir"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgdir"
as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -E UTF8 --locale=C --auth-local=trust \
	--auth-host=scram-sha-256 >/dev/null
cat >>"$pgdir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pgdir'
password_encryption = 'scram-sha-256'
EOF
printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$pgdir/data/pg_hba.conf"
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w start >/dev/null
export DEMO_MASTER_PASSWORD
DEMO_MASTER_PASSWORD=$("$py" -c 'import secrets; print(secrets.token_urlsafe(24))')
"$py" - <<'PY'
import os, psycopg2, psycopg2.extensions
c = psycopg2.connect(host=os.environ["DEMO_PG_SOCK"], port=os.environ["DEMO_PG_PORT"],
                     user="postgres", dbname="postgres")
c.autocommit = True
v = psycopg2.extensions.encrypt_password(os.environ["DEMO_MASTER_PASSWORD"], "rdsmaster", c,
                                         "scram-sha-256")
c.cursor().execute("CREATE ROLE rdsmaster LOGIN CREATEROLE CREATEDB NOSUPERUSER PASSWORD %s",
                   (v,))
PY
echo "master role: rdsmaster (LOGIN CREATEROLE CREATEDB, not superuser), like RDS"

step "moto Secrets Manager on $DEMO_MOTO"
setsid "$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$demo/moto.log" 2>&1 &
moto_pid=$!
"$py" - <<'PY'
import json, os, time, urllib.request
import boto3
url = os.environ["DEMO_MOTO"]
for _ in range(300):
    try:
        urllib.request.urlopen(url + "/moto-api/data.json", timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
sm = boto3.client("secretsmanager", endpoint_url=url)
for env in ("dev", "test"):
    sm.create_secret(Name=f"goldenpath/{env}/rds/master", SecretString=json.dumps({
        "host": "127.0.0.1", "port": os.environ["DEMO_PG_PORT"], "username": "rdsmaster",
        "password": os.environ["DEMO_MASTER_PASSWORD"], "dbname": "postgres",
        "engine": "postgres"}))
    print(f"created goldenpath/{env}/rds/master")
PY

step "platform repository: a git copy of config/example-repo"
cp -r "$root/config/example-repo" "$demo/repo"
git -C "$demo/repo" init -q
git -C "$demo/repo" add -A
git -C "$demo/repo" -c user.name=demo -c user.email=demo@example.invalid -c commit.gpgsign=false \
	commit -q -m "platform repository (example)"
(cd "$demo/repo" && find . -path ./.git -prune -o -type f -print | sort)

cat >"$demo/gprdsd.yaml" <<EOF
# gprdsd demo config (generated by scripts/demo.sh)
repository:
  path: $demo/repo
state_dir: $demo/state
audit_dir: $demo/audit
log_target: console
aws:
  region: eu-west-2
  endpoint: $DEMO_MOTO
environments:
  dev:
    master_secret: goldenpath/dev/rds/master
    postgres: { host: 127.0.0.1, port: $pg_port, sslmode: disable }
  test:
    master_secret: goldenpath/test/rds/master
    postgres: { host: 127.0.0.1, port: $pg_port, sslmode: disable }
    allow_provision: true
EOF
step "demo config ($demo/gprdsd.yaml)"
cat "$demo/gprdsd.yaml"
cfg=(--config "$demo/gprdsd.yaml")

run() {
	# Shows the command, runs it, shows its exit status; a non-zero status does not stop the demo.
	show "gprdsd $*"
	set +e
	"$gprdsd" "$@"
	local rc=$?
	set -e
	echo "(exit $rc)"
	return 0
}

step "validate the repository (what CI on pull requests runs)"
run validate --repo "$demo/repo"

step "plan: what the first pass would do (changes nothing)"
run plan "${cfg[@]}"

step "one reconcile pass"
run --once "${cfg[@]}"

step "status"
run status "${cfg[@]}"

step "PostgreSQL: databases and roles"
show 'psql -c "\l"'
psql -h "$pgdir" -p "$pg_port" -U postgres -X -P pager=off -c '\l'
show 'psql -c "\du"'
psql -h "$pgdir" -p "$pg_port" -U postgres -X -P pager=off -c '\du'

step "Secrets Manager: names, keys and tags (values are not shown)"
"$py" - <<'PY'
import json, os
import boto3
sm = boto3.client("secretsmanager", endpoint_url=os.environ["DEMO_MOTO"])
for page in sm.get_paginator("list_secrets").paginate():
    for s in sorted(page["SecretList"], key=lambda s: s["Name"]):
        v = json.loads(sm.get_secret_value(SecretId=s["ARN"])["SecretString"])
        pw = v.get("password", "")
        tags = ",".join(f"{t['Key']}={t['Value']}" for t in s.get("Tags", []))
        print(f"{s['Name']}\n    keys: {', '.join(sorted(v))}\n"
              f"    password: {'present, %d characters' % len(pw) if pw else 'MISSING'}"
              f"; username={v.get('username')} dbname={v.get('dbname')} port={v.get('port')!r}"
              + (f"\n    tags: {tags}" if tags else ""))
PY

step "audit CSV"
for f in "$demo"/audit/*/rds_provision_audit.csv; do
	[ -e "$f" ] || continue
	echo "--- ${f#"$demo"/}"
	cat "$f"
done

step "a second pass changes nothing"
rows_before=$(cat "$demo"/audit/*/rds_provision_audit.csv 2>/dev/null | wc -l)
run --once "${cfg[@]}"
rows_after=$(cat "$demo"/audit/*/rds_provision_audit.csv 2>/dev/null | wc -l)
echo "audit lines before: $rows_before, after: $rows_after"

step "plan --detailed-exitcode: 0 means nothing to do"
run plan --detailed-exitcode "${cfg[@]}"

step "approval routing: request RDS-0002 (dev, risk high) waits for security-team"
show "gprdsd plan --env dev | grep -A1 fraud_signals"
"$gprdsd" plan "${cfg[@]}" --env dev | grep -A1 fraud_signals || true
show "gprdsd status --env dev | grep fraud_signals"
"$gprdsd" status "${cfg[@]}" --env dev | grep fraud_signals || true
echo "security-team approves: metadata.approved_by: [platform-team, security-team]"
sed -i 's/approved_by: \[platform-team\]/approved_by: [platform-team, security-team]/' \
	"$demo/repo/docs/20-contracts/resource-catalogs/rds-catalog.yaml"
git -C "$demo/repo" -c user.name=demo -c user.email=demo@example.invalid \
	-c commit.gpgsign=false commit -q -am "RDS-0002: security-team approves"
run --once "${cfg[@]}" --env dev
"$gprdsd" status "${cfg[@]}" --env dev | grep fraud_signals || true

[ "${GPRDSD_DEMO_KEEP:-0}" = 1 ] || step "done; stopping PostgreSQL and moto"
