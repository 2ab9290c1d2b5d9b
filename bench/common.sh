# bench/common.sh — sourced first by bench/run.sh and bench/scale.sh.
# bench_prepare N...: every N a positive integer; the release binary built when missing.
# Uses say/die and GPRDSD, ROOT of the calling script.
bench_prepare() {
	for n in "$@"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer: $n"; done
	if [ ! -x "$GPRDSD" ]; then
		say "$GPRDSD missing: building it (release)"
		[ -d "$ROOT/build-bench" ] ||
			meson setup "$ROOT/build-bench" "$ROOT" -Dbuildtype=release >&2
		ninja -C "$ROOT/build-bench" >&2
	fi
}
