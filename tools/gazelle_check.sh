#!/bin/bash
# Checks that every BUILD file is what gazelle would generate from the Go imports, as
# STYLE.md asks; CI runs it, and it is quick to run by hand before a commit:
#   tools/gazelle_check.sh
# It runs `tools/bazel run //:gazelle -- -mode=diff`, which changes nothing and prints
# the diff gazelle would apply. Any diff fails the check (whatever gazelle's exit code,
# which has varied across versions); so does a failure to run gazelle at all.
set -uo pipefail
cd "$(dirname "$0")/.."

diff=$(mktemp)
errs=$(mktemp)
trap 'rm -f "$diff" "$errs"' EXIT

tools/bazel run //:gazelle -- -mode=diff >"$diff" 2>"$errs"
status=$?

if [ -s "$diff" ]; then
  cat "$diff"
  echo "gazelle_check: the BUILD files above differ from what gazelle generates;" \
    "run tools/bazel run //:gazelle and commit the result" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  cat "$errs" >&2
  echo "gazelle_check: could not run gazelle (exit $status)" >&2
  exit 1
fi
echo "gazelle_check: BUILD files match gazelle"
