# Sourced by the shell test scripts (tools/toolchain/wrapper_test.sh,
# tools/cache/cache_test.sh): counters, PASS/FAIL/SKIP lines and `expect`,
# which checks a command's exit code and one-line error.

passed=0
failed=0
skipped=0
ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

# expect NAME WANT_EXIT WANT_STDERR_SUBSTRING COMMAND...: a one-line error.
expect() {
  local name=$1 want=$2 msg=$3 got err
  shift 3
  err=$("$@" 2>&1 >/dev/null)
  got=$?
  if [ "$got" != "$want" ]; then
    bad "$name" "exit $got, want $want; stderr: $err"
  elif [[ $err != *"$msg"* ]]; then
    bad "$name" "stderr lacks '$msg': $err"
  elif [ "$(wc -l <<<"$err")" != 1 ]; then
    bad "$name" "want a one-line error, got: $err"
  else
    ok "$name"
  fi
}
