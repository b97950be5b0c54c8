#!/bin/bash
# The scaffold end to end, in a scratch copy of the repository (CI runs it: .ci/run):
# `go run ./tools/newchallenge` writes an echo challenge and a broadcast one; both build
# with go build; under the workbench echo's node is valid and broadcast's fails saying
# what is left to write; then the same through Bazel: the BUILD files are what gazelle
# generates, echo's Maelstrom test passes and broadcast's fails with that message.
#   tools/newchallenge/scaffold_test.sh            (SCAFFOLD_TEST_BAZEL=0: skip Bazel)
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd -P)
source "$repo/tools/shtest.sh"

# Not below /tmp: Bazel's sandbox gives actions an empty /tmp of their own.
scratch=$(mktemp -d /var/tmp/glomers-scaffold.XXXXXX)
chmod 755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
# The working tree as it is (committed or not), without Bazel's symlinks and runs.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$scratch" 2>/dev/null)
cd "$scratch" || exit 1

out=$(go run ./tools/newchallenge mine echo 2>&1)
[ $? = 0 ] && [ -f challenges/mine/main.go ] && ok "scaffold writes an echo challenge" || bad "scaffold writes an echo challenge" "$out"
out=$(go run ./tools/newchallenge gossip broadcast 3b 2>&1)
[ $? = 0 ] && grep -q -- '"--node-count",' challenges/gossip/BUILD.bazel &&
  ok "scaffold writes a broadcast challenge with 3b's command line" || bad "scaffold writes a broadcast challenge" "$out"
out=$(go run ./tools/newchallenge mine echo 2>&1)
[ $? != 0 ] && grep -q "exists already" <<<"$out" && ok "scaffold refuses an existing name" || bad "scaffold refuses an existing name" "$out"

mkdir -p bin
if out=$(go build -o bin/ ./challenges/mine ./challenges/gossip ./tools/workbench 2>&1); then
  ok "the scaffolded challenges build with go build"
  out=$(bin/workbench test -w echo --bin bin/mine --node-count 1 --time-limit 2 2>&1)
  [ $? = 0 ] && ok "echo's scaffold is valid under the workbench" || bad "echo's scaffold is valid under the workbench" "$out"
  out=$(bin/workbench test -w broadcast --bin bin/gossip --node-count 5 --rate 10 --time-limit 2 2>&1)
  if [ $? != 0 ] && grep -q "is not written yet (challenges/gossip/main.go)" <<<"$out"; then
    ok "broadcast's scaffold fails saying what is left to write"
  else
    bad "broadcast's scaffold fails saying what is left to write" "$out"
  fi
else
  bad "the scaffolded challenges build with go build" "$out"
fi

if [ "${SCAFFOLD_TEST_BAZEL:-1}" = 1 ]; then
  tb() { nice -n 10 tools/bazel "$@"; }
  out=$(tb run //:gazelle -- -mode=diff 2>&1)
  if [ $? = 0 ] && ! grep -q '^[-+][^-+]' <<<"$out"; then
    ok "the scaffold's BUILD files are what gazelle generates"
  else
    bad "the scaffold's BUILD files are what gazelle generates" "$out"
  fi
  out=$(tb test //challenges/mine:maelstrom_echo_test 2>&1)
  [ $? = 0 ] && ok "echo's Maelstrom test passes under Bazel" || bad "echo's Maelstrom test passes under Bazel" "$out"
  out=$(tb test //challenges/gossip:maelstrom_broadcast_test 2>&1)
  if [ $? != 0 ] && grep -q "is not written yet (challenges/gossip/main.go)" <<<"$out"; then
    ok "broadcast's Maelstrom test fails under Bazel with the message"
  else
    bad "broadcast's Maelstrom test fails under Bazel with the message" "$out"
  fi
  tb shutdown >/dev/null 2>&1
  out_root=$(dirname "$(tb --print-root)")/bazel
  rm -rf "${out_root:?}/$(printf %s "$scratch" | md5sum | cut -c1-32)"
fi

echo "scaffold_test: $passed passed, $failed failed"
[ "$failed" = 0 ]
