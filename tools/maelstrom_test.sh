#!/usr/bin/env bash
# Runner of maelstrom_test (tools/maelstrom_test.bzl); Bazel runs it as
#   maelstrom_test.sh WANT_EXIT WORKBENCH NODE [MAELSTROM TEST FLAGS...]
# with WORKBENCH and NODE as runfiles paths. It runs `WORKBENCH test --bin NODE FLAGS...`
# (or `$MAELSTROM test ...` when MAELSTROM is set) in a scratch directory (under `bazel run`,
# the user's working directory), keeps store/ among the test's outputs, and passes iff the
# exit code is WANT_EXIT (0 valid, 1 invalid; the workbench uses 2 for unknown and 254 for
# bad arguments).

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
if [ -n "${MAELSTROM:-}" ]; then
  runner=$MAELSTROM
else
  runner=$(rlocation "$2")
  [ -n "$runner" ] || { echo "maelstrom_test: no runfile $2" >&2; exit 1; }
fi
shift 3

# The runner writes store/ into its working directory: under `bazel run`
# (which sets BUILD_WORKING_DIRECTORY) the user's, so the run can be looked
# at afterwards (workbench serve, analyze, compare); under `bazel test` a
# scratch directory whose store/ is kept among the test's outputs.
if [ -n "${BUILD_WORKING_DIRECTORY:-}" ]; then
  work=$BUILD_WORKING_DIRECTORY
else
  work=${TEST_TMPDIR:-$(mktemp -d)}/maelstrom
  mkdir -p "$work"
fi
cd "$work"

echo "maelstrom_test: $runner test --bin $node $*" >&2
set +e
# What the run cost, nodes included, for the cpu figures in the BUILD files.
TIMEFORMAT='maelstrom_test: %R s wall, %U s user + %S s system CPU'
started=$SECONDS
time "$runner" test --bin "$node" "$@"
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
# The test's own test.xml. Without one Bazel generates it in a second process that
# must wait for a whole core of its own, which a machine busy with fractional-cpu
# tests rarely has free: that wait once cost a 10 s test 70 s.
xml_report() {
  [ -n "${XML_OUTPUT_FILE:-}" ] || return 0
  local name=${TEST_TARGET:-maelstrom_test} failure="" failures=0
  if [ -n "$1" ]; then
    failure="<failure message=\"$1\"></failure>"
    failures=1
  fi
  cat >"$XML_OUTPUT_FILE" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="$name" tests="1" failures="$failures" errors="0">
    <testcase name="$name" status="run" time="$((SECONDS - started))">$failure</testcase>
  </testsuite>
</testsuites>
EOF
}

if [ "$got" = "$want" ]; then
  echo "maelstrom_test: PASS ($verdict, as expected)" >&2
  xml_report ""
  exit 0
fi
echo "maelstrom_test: FAIL (got $verdict, exit $got; want exit $want)" >&2
xml_report "got $verdict, exit $got; want exit $want"
exit 1
