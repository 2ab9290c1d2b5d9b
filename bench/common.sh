# shellcheck shell=bash
# bench/common.sh — sourced first by bench/run.sh and bench/scale.sh.
# bench_prepare N...: every N a positive integer; the release binary (re)built; the
# tools both harnesses need (/usr/bin/time, the PostgreSQL server, moto in VENV); PY, asowner
# and PG_OWNER (PostgreSQL refuses to run as root); free_port. Uses say/die and GPRDSD, ROOT,
# PG_BIN, VENV of the calling script.
bench_prepare() {
	for n in "$@"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer: $n"; done
	# The default binary is always brought up to date with the tree (a stale build-bench
	# would measure old code without a word); a GPRDSD given by path is taken as it is.
	if [ "$GPRDSD" = "$ROOT/build-bench/daemon/gprdsd" ]; then
		[ -d "$ROOT/build-bench" ] ||
			meson setup "$ROOT/build-bench" "$ROOT" -Dbuildtype=release >&2
		ninja -C "$ROOT/build-bench" >&2
	fi
	[ -x "$GPRDSD" ] || die "$GPRDSD: no such binary"
	if [ ! -x /usr/bin/time ]; then
		[ "$(id -u)" = 0 ] || die "/usr/bin/time missing: install the package 'time'"
		say "installing the package 'time'"
		apt-get install -y -q time >/dev/null
	fi
	[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries in $PG_BIN"
	[ -x "$VENV/bin/moto_server" ] ||
		die "no moto_server in $VENV (pip install 'moto[server]' boto3)"
	PY=$VENV/bin/python
	if [ "$(id -u)" = 0 ]; then
		asowner() { runuser -u postgres -- "$@"; }
		PG_OWNER=postgres
	else
		asowner() { "$@"; }
		PG_OWNER=$(id -un)
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
