#!/usr/bin/env bash
# install-deps.sh — installs what building and testing gprdsd needs, and nothing else:
# Debian packages (only when root and only when something is missing) and a Python venv at
# <repo>/.venv with test/integration/requirements.txt.
#
# Source it and call gp_install_deps, or run it directly. Safe to call repeatedly: it
# checks before it installs. When not root and a package is missing it says which and fails.

GP_APT_PACKAGES=(
	meson ninja-build pkg-config gcc
	libpq-dev libcurl4-openssl-dev libssl-dev libyaml-dev libuv1-dev libsystemd-dev
	libcjson-dev libcmocka-dev
	postgresql postgresql-client
	python3-venv git openssl systemd valgrind libfaketime
	bash-completion # the completion's test
	clang libclang-rt-14-dev # test/fuzz: clang 14 and its libFuzzer runtime
)

gp_repo_root() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	printf '%s\n' "$here"
}

gp_missing_packages() {
	local p status
	for p in "${GP_APT_PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || printf '%s\n' "$p"
	done
}

gp_install_apt() {
	local missing
	missing=$(gp_missing_packages)
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing Debian packages (run as root or install them):" $missing >&2
		return 1
	fi
	echo "install-deps: installing:" $missing >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >&2
	# The postgresql package starts a default cluster on 5432; the tests start their own
	# throwaway clusters and never use it. Leave it alone.
}

gp_install_venv() {
	local root=$1 venv=$1/.venv req=$1/test/integration/requirements.txt stamp
	stamp=$venv/.requirements.sha256
	if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] &&
		[ "$(sha256sum "$req" | cut -d' ' -f1)" = "$(cat "$stamp")" ]; then
		return 0
	fi
	echo "install-deps: creating $venv" >&2
	python3 -m venv "$venv" >&2
	"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
	sha256sum "$req" | cut -d' ' -f1 >"$stamp"
}

gp_install_deps() {
	local root
	root=$(gp_repo_root)
	gp_install_apt || return 1
	gp_install_venv "$root" || return 1
}

# Executed rather than sourced: do the work.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	gp_install_deps
fi
