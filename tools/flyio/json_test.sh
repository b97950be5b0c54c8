#!/usr/bin/env bash
# challenges_json_test: the checked-in challenges.json (what Go embeds) must be what
# challenges.bzl generates.
set -euo pipefail
generated=$1 checked_in=$2
if diff -u "$checked_in" "$generated"; then
  echo "tools/flyio/challenges.json matches tools/flyio/challenges.bzl"
  exit 0
fi
echo "tools/flyio/challenges.json is stale: run tools/bazel run //tools/flyio:update" >&2
exit 1
