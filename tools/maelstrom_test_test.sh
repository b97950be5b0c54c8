#!/usr/bin/env bash
# Tests of maelstrom_test.sh, the runner of every maelstrom_test: the verdict must match,
# and bounds (valid runs) and reasons (rejected runs) must hold in results.json.
#   maelstrom_test_test.sh RUNNER FAKE_WORKBENCH RESULTCHECK   (rlocation paths)
set -uo pipefail
runner_path=$1 fake=$2 resultcheck=$3
runner=${RUNFILES_DIR:-$0.runfiles}/$runner_path
[ -f "$runner" ] || runner=$(grep -sm1 "^$runner_path " "${RUNFILES_MANIFEST_FILE:-/dev/null}" | cut -f2- -d' ')
# The fake as a path, for MAELSTROM (which names a program, not a runfile) and for the
# arguments it is given (the runner resolves --bin NODE to this path).
fake_path=${RUNFILES_DIR:-$0.runfiles}/$fake
[ -f "$fake_path" ] || fake_path=$(grep -sm1 "^$fake " "${RUNFILES_MANIFEST_FILE:-/dev/null}" | cut -f2- -d' ')

failures=0
# check NAME WANT_STATUS WANT_TEXT RESULTS FAKE_EXIT WANT_EXIT [CHECK...]
check() {
  local name=$1 want_status=$2 want_text=$3 results=$4 fake_exit=$5 want_exit=$6
  shift 6
  local tmp
  tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/case.XXXXXX")
  local out
  out=$(cd "$tmp" && TEST_TMPDIR=$tmp TEST_UNDECLARED_OUTPUTS_DIR= FAKE_RESULTS=$results FAKE_EXIT=$fake_exit \
    MAELSTROM=${MAELSTROM_CASE:-} bash "$runner" "$want_exit" "$fake" "$fake" "$resultcheck" "$@" -- -w fake 2>&1)
  local got=$?
  local args
  args=$(tr '\n' ' ' 2>/dev/null <"$tmp/maelstrom/args.txt")
  if [ -n "${WANT_ARGS:-}" ] && [ "$args" != "$WANT_ARGS" ]; then
    out="$out
(the workbench got: $args; want: $WANT_ARGS)"
    got=wrong-args
  fi
  if [ "$got" != "$want_status" ] || [[ "$out" != *"$want_text"* ]]; then
    echo "FAIL $name: runner exit $got, want $want_status and output with \"$want_text\"; output:"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

valid='{"valid?": true, "net": {"servers": {"msgs-per-op": 2.86}}, "workload": {"stable-latencies": {"0.5": 240}}}'
invalid='{"valid?": false, "workload": {"valid?": false, "lost-count": 0, "anomaly-types": ["G1a"]}}'

check "valid run, bounds hold" 0 "PASS (valid, as expected)" "$valid" 0 0 \
  '--bound=net.servers.msgs-per-op <= 2.9 margin 5%' '--bound=workload.stable-latencies["0.5"] <= 250'
check "valid run, bound missed" 1 "but a bound above was missed" "$valid" 0 0 '--bound=net.servers.msgs-per-op <= 2.5'
check "valid run, bound on a missing key" 1 "not in the results" "$valid" 0 0 '--bound=workload.dissemination-latencies["0.5"] <= 250'
check "valid run, pending bound on a missing key" 0 "not measured yet" "$valid" 0 0 '--pending=workload.dissemination-latencies["0.5"] <= 250'
check "valid run without checks" 0 "PASS (valid, as expected)" "$valid" 0 0
check "invalid where valid was wanted" 1 "FAIL (got invalid, exit 1; want exit 0)" "$invalid" 1 0 '--bound=valid? == true'
check "rejected for the stated reason" 0 "PASS (invalid, as expected)" "$invalid" 1 1 '--reason=workload.anomaly-types contains "G1a"'
check "rejected for another reason" 1 "not for the reason stated above" "$invalid" 1 1 '--reason=workload.lost-count > 0'
check "accepted where a rejection was wanted" 1 "FAIL (got valid, exit 0; want exit 1)" "$valid" 0 1 '--reason=valid? == false'


# What holds under MAELSTROM (here the fake again, standing in for Maelstrom).
strict_only='{"valid?": true, "workload": {"valid?": true, "strict-not-judged": ["garbage-read"]}}'
WANT_ARGS="test --bin $fake_path --seed 2 -w fake " \
  check "workbench-only flags reach the workbench" 0 "PASS (valid, as expected)" "$valid" 0 0 '--workbench-arg=--seed' '--workbench-arg=2'
MAELSTROM_CASE=$fake_path WANT_ARGS="test --bin $fake_path -w fake " \
  check "workbench-only flags never reach Maelstrom" 0 "PASS (valid, as expected)" "$valid" 0 0 '--workbench-arg=--seed' '--workbench-arg=2'
MAELSTROM_CASE=$fake_path \
  check "a strict-only fixture expects Maelstrom's verdict" 0 "want exit 0: Maelstrom has no garbage-read check" "$strict_only" 0 1 \
  '--reason=workload.strict contains "garbage-read"' '--maelstrom-expect=0' '--maelstrom-why=Maelstrom has no garbage-read check'
strict_invalid='{"valid?": false, "maelstrom-valid?": true, "workload": {"valid?": false, "strict": ["garbage-read"]}}'
check "the same fixture is rejected by the workbench" 0 "PASS (invalid, as expected)" "$strict_invalid" 1 1 \
  '--reason=workload.strict contains "garbage-read"' '--maelstrom-expect=0' '--maelstrom-why=Maelstrom has no garbage-read check'
MAELSTROM_CASE=$fake_path \
  check "an outcome Maelstrom gives by chance is skipped, saying why" 0 "SKIPPED under MAELSTROM: timing" "$valid" 0 1 \
  '--reason=valid? == false' '--maelstrom-expect=skip' '--maelstrom-why=timing'

if [ "$failures" -gt 0 ]; then
  echo "$failures case(s) failed"
  exit 1
fi
echo "all cases passed"
