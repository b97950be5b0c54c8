#!/usr/bin/env bash
# floors.sh draws the workbench's import floors from the code, for
# docs/architecture.md: a package's floor is one above the highest floor
# among the module's packages it imports (none: floor 0), so every arrow
# points down. It also checks the layout rules the floors rest on, and
# the size of the repository's production Go files and functions.
#
#   tools/floors.sh            the floors, one line each, lowest first
#   tools/floors.sh --edges    also every import arrow inside the module
#   tools/floors.sh --check    exit 1 if a rule is broken (see below)
#
# Run from the repository root (it runs `go list`).
set -euo pipefail

mode=${1:-}
module=$(go list -m)
pkgs=${PKGS:-./tools/workbench/...}

# "pkg dep dep ..." for every non-test package, keeping only the module's
# own imports, paths relative to tools/workbench (or the module).
graph=$(go list -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' $pkgs |
	awk -v m="$module/" '{ out = $1; for (i = 2; i <= NF; i++) if (index($i, m) == 1) out = out " " $i; print out }' |
	sed "s#$module/tools/workbench/##g; s#$module/tools/workbench\b#workbench#g; s#$module/##g")

floors() {
	awk '
	{ name[NR] = $1; deps[$1] = ""; for (i = 2; i <= NF; i++) deps[$1] = deps[$1] " " $i; known[$1] = 1 }
	function floor(p,   n, i, d, f, best) {
		if (p in memo) return memo[p]
		best = 0
		n = split(deps[p], d, " ")
		for (i = 1; i <= n; i++) if (d[i] in known) { f = floor(d[i]) + 1; if (f > best) best = f }
		memo[p] = best
		return best
	}
	END {
		top = 0
		for (i = 1; i <= NR; i++) { f = floor(name[i]); at[f] = at[f] " " name[i]; if (f > top) top = f }
		for (f = 0; f <= top; f++) printf "floor %2d:%s\n", f, at[f]
	}'
}

case "$mode" in
"" | --edges)
	echo "$graph" | floors
	if [[ $mode == --edges ]]; then
		echo
		echo "$graph" | awk '{ for (i = 2; i <= NF; i++) print $1 " -> " $i }'
	fi
	;;
--check)
	fail=0
	# 1. Only the store names a run file.
	names='"(history\.json|history\.txt|history\.edn|net-journal\.json|results\.json|results\.edn|test\.json|jepsen\.log|node-logs|index\.html|messages\.svg|linearizability\.html)"'
	if hits=$(grep -rnE "$names" --include='*.go' tools | grep -v '_test\.go:' | grep -v '^tools/workbench/store/'); then
		echo "run files named outside tools/workbench/store:"
		echo "$hits"
		fail=1
	fi
	# 2. The transport and the store do not sit above the workloads.
	for low in client network store; do
		if echo "$graph" | awk -v p="$low" '$1 == p' | grep -qE ' workload(/| |$)'; then
			echo "$low imports a workload package"
			fail=1
		fi
	done
	# 3. maelstromstore has no production imports (its code is tests).
	if echo "$graph" | awk '$1 == "maelstromstore" && NF > 1' | grep -q .; then
		echo "maelstromstore imports production code"
		fail=1
	fi
	# 4. No production Go file over 600 lines, no function over 80: past
	#    that a unit holds more than one concern (tools/shapecheck).
	if ! sizes=$(go run ./tools/shapecheck lib challenges tools); then
		echo "over the size limits (go run ./tools/shapecheck lib challenges tools):"
		echo "$sizes"
		fail=1
	fi
	exit $fail
	;;
*)
	echo "usage: tools/floors.sh [--edges|--check]" >&2
	exit 2
	;;
esac
