#!/usr/bin/env bash
# Runner of maelstrom_test (tools/maelstrom_test.bzl); Bazel runs it as
#   maelstrom_test.sh WANT_EXIT WORKBENCH NODE RESULTCHECK [CHECK...] -- [MAELSTROM TEST FLAGS...]
# with WORKBENCH, NODE and RESULTCHECK as runfiles paths and each CHECK a resultcheck flag
# (--bound=EXPR, --pending=EXPR, --reason=EXPR). It runs `WORKBENCH test --bin NODE FLAGS...`
# (or `$MAELSTROM test ...` when MAELSTROM is set) in a scratch directory (under `bazel run`,
# the user's working directory), keeps store/ among the test's outputs, and passes iff the
# exit code is WANT_EXIT (0 valid, 1 invalid; the workbench uses 2 for unknown and 254 for
# bad arguments) and RESULTCHECK finds every CHECK holding in the run's results.json.
# Three more CHECK flags say what holds under MAELSTROM (a real Maelstrom, or the stand-in):
#   --workbench-arg=FLAG     passed to the workbench only (--seed, --bounds, ...), never to
#                            Maelstrom, which refuses options it does not know;
#   --maelstrom-expect=E     under MAELSTROM, want exit E instead (0: a fixture only the
#                            workbench's strict checks reject; --reason checks are then
#                            dropped), or "skip" (an outcome Maelstrom gives only by chance);
#   --maelstrom-why=TEXT     why, printed whenever --maelstrom-expect applies.

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
workbench=$(rlocation "$2")
[ -n "$workbench" ] || { echo "maelstrom_test: no runfile $2" >&2; exit 1; }
runner=${MAELSTROM:-$workbench}
# For a stand-in launcher (tools/toolchain/testdata/maelstrom-standin): what to hand the
# run to. A real Maelstrom ignores it.
export GLOMERS_WORKBENCH=$workbench
resultcheck=$(rlocation "$4")
[ -n "$resultcheck" ] || { echo "maelstrom_test: no runfile $4" >&2; exit 1; }
shift 4
checks=() workbench_args=() maelstrom_expect="" maelstrom_why=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case $1 in
    --workbench-arg=*) workbench_args+=("${1#--workbench-arg=}") ;;
    --maelstrom-expect=*) maelstrom_expect=${1#--maelstrom-expect=} ;;
    --maelstrom-why=*) maelstrom_why=${1#--maelstrom-why=} ;;
    *) checks+=("$1") ;;
  esac
  shift
done
[ "${1:-}" = "--" ] || { echo "maelstrom_test: want -- after the checks" >&2; exit 2; }
shift

if [ -n "${MAELSTROM:-}" ]; then
  # Maelstrom gets Maelstrom's options only, and is held to what it can say.
  workbench_args=()
  case $maelstrom_expect in
    "") ;;
    skip)
      echo "maelstrom_test: SKIPPED under MAELSTROM: $maelstrom_why" >&2
      [ -z "${XML_OUTPUT_FILE:-}" ] || printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
        '<testsuites><testsuite name="maelstrom_test" tests="1" failures="0" errors="0" skipped="1"><testcase name="maelstrom_test" status="notrun"><skipped/></testcase></testsuite></testsuites>' >"$XML_OUTPUT_FILE"
      exit 0
      ;;
    *)
      echo "maelstrom_test: under MAELSTROM, want exit $maelstrom_expect: $maelstrom_why" >&2
      if [ "$maelstrom_expect" != "$want" ] && [ "$maelstrom_expect" = 0 ]; then
        # The reasons say why the workbench rejects the run; Maelstrom accepts it.
        kept=()
        for c in ${checks[@]+"${checks[@]}"}; do
          [[ $c == --reason=* ]] || kept+=("$c")
        done
        checks=(${kept[@]+"${kept[@]}"})
      fi
      want=$maelstrom_expect
      ;;
  esac
fi

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

echo "maelstrom_test: $runner test --bin $node ${workbench_args[*]+${workbench_args[*]} }$*" >&2
set +e
# What the run cost, nodes included, for the cpu figures in the BUILD files.
TIMEFORMAT='maelstrom_test: %R s wall, %U s user + %S s system CPU'
started=$SECONDS
# Results written after this file are this run's (under `bazel run`, store/
# may hold earlier runs too).
started_marker=$(mktemp)
time "$runner" test --bin "$node" ${workbench_args[@]+"${workbench_args[@]}"} "$@"
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

# Bounds and reasons: judged on every results.json the run left (one per --test-count).
checked=ok
if [ ${#checks[@]} -gt 0 ]; then
  results=()
  if [ -d store ]; then
    while IFS= read -r f; do results+=("$f"); done < <(find store -name results.json -not -path '*/latest/*' -newer "$started_marker" | sort)
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
  xml_report "got $verdict, exit $got; want exit $want"
  exit 1
fi
if [ "$checked" != ok ]; then
  if [ "$want" = 0 ]; then
    why="$verdict, as expected, but a bound above was missed"
  else
    why="$verdict, as expected, but not for the reason stated above"
  fi
  echo "maelstrom_test: FAIL ($why)" >&2
  xml_report "$why"
  exit 1
fi
echo "maelstrom_test: PASS ($verdict, as expected)" >&2
xml_report ""
exit 0
