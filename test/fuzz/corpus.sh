#!/usr/bin/env bash
# corpus.sh OUTDIR — writes one seed directory per fuzz harness under OUTDIR (replacing what
# was there), from the golden files (test/golden), the example repository (config/) and the
# hand-written seeds of the formats that have no golden files (test/fuzz/seeds/<harness>).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:?usage: corpus.sh OUTDIR}

seed() {
	# seed HARNESS FILE... — copies each existing file in, named after its path.
	local h=$1 f
	shift
	mkdir -p "$out/$h"
	for f in "$@"; do
		[ -f "$f" ] || continue
		cp "$f" "$out/$h/$(printf '%s' "${f#"$root"/}" | tr '/' '_')"
	done
}

rm -rf "$out"
mkdir -p "$out"
ex=$root/config/example-repo
seed hcl "$root"/test/golden/hcl/*.tfvars "$ex"/envs/*/terraform.tfvars
seed catalog "$root"/test/golden/catalog/*.yaml "$ex"/docs/20-contracts/resource-catalogs/*.yaml
seed enums "$ex"/schemas/metadata/*.yaml
seed contract "$root"/test/golden/contract/*/*.yaml "$root"/test/golden/schema/*.yaml \
	"$ex"/docs/20-contracts/rds-requests/*/*.yaml "$ex"/schemas/requests/*.yaml
seed config "$root"/config/*.yaml
for h in state requests secret sm_wire; do
	seed "$h" "$root"/test/fuzz/seeds/"$h"/*
done
# Every harness also gets the inputs of its neighbours in the same syntax: a catalog seed is a
# fine start for enums and config, a state file for the other JSON readers.
seed enums "$root"/test/golden/catalog/full.yaml
seed config "$ex"/schemas/metadata/enums.yaml
seed secret "$root"/test/fuzz/seeds/sm_wire/*.json
seed sm_wire "$root"/test/fuzz/seeds/secret/*.json
