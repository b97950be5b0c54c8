#!/usr/bin/env bash
# tools/bazel run //tools/flyio:update: writes challenges.json from challenges.bzl into
# the workspace.
set -euo pipefail
generated=$1
if [ -z "${BUILD_WORKSPACE_DIRECTORY:-}" ]; then
  echo "update: run me with bazel run //tools/flyio:update" >&2
  exit 2
fi
dest=$BUILD_WORKSPACE_DIRECTORY/tools/flyio/challenges.json
cp "$generated" "$dest"
chmod 644 "$dest"
echo "wrote $dest"
