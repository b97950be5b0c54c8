#!/usr/bin/env bash
# A stand-in for the workbench in maelstrom_test_test.sh: `test ...` stores one run
# whose results.json is $FAKE_RESULTS and exits $FAKE_EXIT, the way the workbench lays
# out store/<workload>/<time>/ and latest. Its arguments go to args.txt, one a line. With
# FAKE_STORE=maelstrom it stands in for the real Maelstrom instead: the run is results.edn
# (FAKE_RESULTS, EDN), history.edn (FAKE_HISTORY) and jepsen.log with the command line, as
# Maelstrom stores one.
set -euo pipefail
printf '%s\n' "$@" > args.txt
dir=store/fake/20260101T000000.000Z
mkdir -p "$dir"
if [ "${FAKE_STORE:-}" = maelstrom ]; then
  printf '%s\n' "$FAKE_RESULTS" > "$dir/results.edn"
  printf '%s\n' "$FAKE_HISTORY" > "$dir/history.edn"
  printf 'INFO\t[jepsen test runner] jepsen.core: Command line:\nlein run %s\n' "$*" > "$dir/jepsen.log"
else
  printf '%s\n' "$FAKE_RESULTS" > "$dir/results.json"
fi
ln -sfn 20260101T000000.000Z store/fake/latest
exit "$FAKE_EXIT"
