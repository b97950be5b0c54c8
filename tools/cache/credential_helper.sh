#!/bin/bash
# Bazel's credential helper for the build cache (--config=cache in .bazelrc): answers
# `get` with the cache's write credential as an Authorization header, or with no header
# when this call has none (then Bazel reads the cache and its uploads are refused).
#
# tools/bazel copies the credential into the call's private mount namespace, readable
# by the build user only, from GLOMERS_CACHE_CREDENTIAL (default: the local cache's
# /var/cache/glomers-bazel-cache/credential when the caller may read it). Protocol:
# Bazel runs `credential_helper.sh get` with {"uri": "..."} on stdin and reads
# {"headers": {"Name": ["value"]}} from stdout.
set -euo pipefail

credential=${GLOMERS_CACHE_CREDENTIAL_INSIDE:-/opt/glomers-cache/credential}

[ "${1:-}" = get ] || { echo "credential_helper.sh: usage: credential_helper.sh get" >&2; exit 2; }
cat >/dev/null # the request: the same answer for every URI this helper is scoped to
if [ -r "$credential" ]; then
  token=$(cat "$credential")
  if [[ ! $token =~ ^[0-9a-f]{64}$ ]]; then
    echo "credential_helper.sh: $credential does not hold a cache credential" >&2
    exit 1
  fi
  printf '{"headers":{"Authorization":["Bearer %s"]}}\n' "$token"
else
  echo '{}'
fi
