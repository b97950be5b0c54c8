#!/usr/bin/env bash
# Runner of maelstrom_test (tools/maelstrom_test.bzl); Bazel runs it as
#   maelstrom_test.sh WANT_EXIT WORKBENCH NODE RESULTCHECK [CHECK...] -- [MAELSTROM TEST FLAGS...]
# with WORKBENCH, NODE and RESULTCHECK as runfiles paths and each CHECK a resultcheck flag
# (--bound=EXPR, --pending=EXPR, --reason=EXPR). It runs `WORKBENCH test --bin NODE FLAGS...`
# (or `$MAELSTROM test ...` when MAELSTROM is set) in a scratch directory, keeps store/
# among the test's outputs, and passes iff the exit code is WANT_EXIT
# (0 valid, 1 invalid; the workbench uses 2 for unknown and 254 for bad arguments) and
# RESULTCHECK finds every CHECK holding in the run's results.json.

# --- begin runfiles.bash initialization v3 ---
set -uo pipefail; set +e; f=bazel_tools/tools/bash/runfiles/runfiles.bash
source "${RUNFILES_DIR:-/dev/null}/$f" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "${RUNFILES_MANIFEST_FILE:-/dev/null}" | cut -f2- -d' ')" 2>/dev/null || \
  source "$0.runfiles/$f" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "$0.runfiles_manifest" | cut -f2- -d' ')" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "$0.exe.runfiles_manifest" | cut -f2- -d' ')" 2>/dev/null || \
  { echo>&2 "ERROR: cannot find $f"; exit 1; }; f=; set -e
# --- end runfiles.bash initialization v3 ---

if [ $# -lt 5 ]; then
  echo "usage: $0 WANT_EXIT WORKBENCH NODE RESULTCHECK [CHECK...] -- [MAELSTROM TEST FLAGS...]" >&2
  exit 2
fi
want=$1
node=$(rlocation "$3")
[ -n "$node" ] || { echo "maelstrom_test: no runfile $3" >&2; exit 1; }
if [ -n "${MAELSTROM:-}" ]; then
  runner=$MAELSTROM
else
  runner=$(rlocation "$2")
  [ -n "$runner" ] || { echo "maelstrom_test: no runfile $2" >&2; exit 1; }
fi
resultcheck=$(rlocation "$4")
[ -n "$resultcheck" ] || { echo "maelstrom_test: no runfile $4" >&2; exit 1; }
shift 4
checks=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  checks+=("$1")
  shift
done
[ "${1:-}" = "--" ] || { echo "maelstrom_test: want -- after the checks" >&2; exit 2; }
shift

# The runner writes store/ into its working directory.
work=${TEST_TMPDIR:-$(mktemp -d)}/maelstrom
mkdir -p "$work"
cd "$work"

echo "maelstrom_test: $runner test --bin $node $*" >&2
set +e
"$runner" test --bin "$node" "$@"
got=$?
set -e

if [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ] && [ -d store ]; then
  cp -a store "$TEST_UNDECLARED_OUTPUTS_DIR/"
  # Maelstrom's store/latest links point at runs that are copied already.
  find "$TEST_UNDECLARED_OUTPUTS_DIR/store" -type l -delete
fi

case $got in
  0) verdict=valid ;;
  1) verdict=invalid ;;
  2) verdict=unknown ;;
  254) verdict="bad arguments" ;;
  *) verdict="exit $got" ;;
esac
# Bounds and reasons: judged on every results.json the run left (one per --test-count).
checked=ok
if [ ${#checks[@]} -gt 0 ]; then
  results=()
  if [ -d store ]; then
    while IFS= read -r f; do results+=("$f"); done < <(find store -name results.json -not -path '*/latest/*' | sort)
  fi
  if [ ${#results[@]} -eq 0 ]; then
    if [ -n "${MAELSTROM:-}" ]; then
      echo "maelstrom_test: bounds not checked: the run left no results.json (Maelstrom writes results.edn only)" >&2
    else
      echo "maelstrom_test: the run left no results.json to check the bounds against" >&2
      checked=failed
    fi
  else
    echo "maelstrom_test: checking the results:" >&2
    "$resultcheck" "${checks[@]}" "${results[@]}" >&2 || checked=failed
  fi
fi

if [ "$got" != "$want" ]; then
  echo "maelstrom_test: FAIL (got $verdict, exit $got; want exit $want)" >&2
  exit 1
fi
if [ "$checked" != ok ]; then
  if [ "$want" = 0 ]; then
    echo "maelstrom_test: FAIL ($verdict, as expected, but a bound above was missed)" >&2
  else
    echo "maelstrom_test: FAIL ($verdict, as expected, but not for the reason stated above)" >&2
  fi
  exit 1
fi
echo "maelstrom_test: PASS ($verdict, as expected)" >&2
exit 0
