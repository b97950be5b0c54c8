#!/usr/bin/env bash
# A stand-in for the workbench in maelstrom_test_test.sh: `test ...` stores one run
# whose results.json is $FAKE_RESULTS and exits $FAKE_EXIT, the way the workbench lays
# out store/<workload>/<time>/ and latest. Its arguments go to args.txt, one a line.
set -euo pipefail
printf '%s\n' "$@" > args.txt
dir=store/fake/20260101T000000.000Z
mkdir -p "$dir"
printf '%s\n' "$FAKE_RESULTS" > "$dir/results.json"
ln -sfn 20260101T000000.000Z store/fake/latest
exit "$FAKE_EXIT"
