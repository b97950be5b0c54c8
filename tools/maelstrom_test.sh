#!/usr/bin/env bash
# Runner of maelstrom_test (tools/maelstrom_test.bzl); Bazel runs it as
#   maelstrom_test.sh WANT_EXIT WORKBENCH NODE [MAELSTROM TEST FLAGS...]
# with WORKBENCH and NODE as runfiles paths. It runs `WORKBENCH test --bin NODE FLAGS...`
# (or `$MAELSTROM test ...` when MAELSTROM is set) in a scratch directory, keeps store/
# among the test's outputs, and passes iff the exit code is WANT_EXIT
# (0 valid, 1 invalid; the workbench uses 2 for unknown and 254 for bad arguments).

# --- begin runfiles.bash initialization v3 ---
set -uo pipefail; set +e; f=bazel_tools/tools/bash/runfiles/runfiles.bash
source "${RUNFILES_DIR:-/dev/null}/$f" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "${RUNFILES_MANIFEST_FILE:-/dev/null}" | cut -f2- -d' ')" 2>/dev/null || \
  source "$0.runfiles/$f" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "$0.runfiles_manifest" | cut -f2- -d' ')" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "$0.exe.runfiles_manifest" | cut -f2- -d' ')" 2>/dev/null || \
  { echo>&2 "ERROR: cannot find $f"; exit 1; }; f=; set -e
# --- end runfiles.bash initialization v3 ---

if [ $# -lt 3 ]; then
  echo "usage: $0 WANT_EXIT WORKBENCH NODE [MAELSTROM TEST FLAGS...]" >&2
  exit 2
fi
want=$1
node=$(rlocation "$3")
[ -n "$node" ] || { echo "maelstrom_test: no runfile $3" >&2; exit 1; }
workbench=$(rlocation "$2")
[ -n "$workbench" ] || { echo "maelstrom_test: no runfile $2" >&2; exit 1; }
runner=${MAELSTROM:-$workbench}
# For a stand-in launcher (tools/toolchain/testdata/maelstrom-standin): what to hand the
# run to. A real Maelstrom ignores it.
export GLOMERS_WORKBENCH=$workbench
shift 3

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
  # Both Maelstrom (Jepsen) and the workbench write store/<workload>/<time>/ plus the
  # relative symlinks store/latest, store/current and store/<workload>/latest to it. The
  # run directories are copied; the links, which would only name them a second time
  # (and which Bazel's zip of the outputs would follow), are left out.
  cp -a store "$TEST_UNDECLARED_OUTPUTS_DIR/"
  find "$TEST_UNDECLARED_OUTPUTS_DIR/store" -type l -delete
fi

case $got in
  0) verdict=valid ;;
  1) verdict=invalid ;;
  2) verdict=unknown ;;
  254) verdict="bad arguments" ;;
  *) verdict="exit $got" ;;
esac
if [ "$got" = "$want" ]; then
  echo "maelstrom_test: PASS ($verdict, as expected)" >&2
  exit 0
fi
echo "maelstrom_test: FAIL (got $verdict, exit $got; want exit $want)" >&2
exit 1
