#!/bin/bash
# Tests of tools/bazel and provision.sh that need no provisioned root and no network:
# the pass-through to BAZEL_REAL, the one-line errors of misuse, the Debian mirror
# found in apt sources, and that the pinned versions agree across files.
# Usage: tools/toolchain/wrapper_test.sh  (some cases need root and are skipped without)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
# An empty cache: nothing here is ever provisioned.
export GLOMERS_TOOLCHAIN_DIR=$tmp/cache
unset BAZEL_REAL

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

# expect NAME WANT_EXIT WANT_STDERR_SUBSTRING COMMAND...
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

# BAZEL_REAL: the launcher's Bazel gets the arguments unchanged and its exit code counts.
cat >"$tmp/fake-bazel" <<'EOF'
#!/bin/bash
printf '<%s>' "$@"
exit 7
EOF
chmod +x "$tmp/fake-bazel"
out=$(BAZEL_REAL=$tmp/fake-bazel "$repo/tools/bazel" test '//a b' --x="y z")
got=$?
if [ "$got" = 7 ] && [ "$out" = '<test><//a b><--x=y z>' ]; then
  ok "BAZEL_REAL pass-through"
else
  bad "BAZEL_REAL pass-through" "exit $got, output $out"
fi

expect "--print-root before provisioning" 1 "not provisioned yet" "$repo/tools/bazel" --print-root

if [ "$(id -u)" = 0 ]; then
  nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  expect "not root" 1 "tools/bazel: provisioning needs root (apt-get, mmdebstrap, chroot); run as root or set BAZEL_REAL to a working bazel" \
    "${nobody[@]}" "$repo/tools/bazel" build //...
  mkdir "$tmp/apt-empty"
  expect "no Debian mirror" 1 "tools/bazel: no Debian mirror found" \
    env GLOMERS_APT_DIR="$tmp/apt-empty" "$repo/tools/toolchain/provision.sh"
  expect "no go command" 1 "tools/bazel: provisioning needs the go command" \
    env GO="$tmp/no-such-go" "$repo/tools/toolchain/provision.sh"
  [ -e "$GLOMERS_TOOLCHAIN_DIR" ] && bad "failed runs leave no cache" "$(ls -A "$GLOMERS_TOOLCHAIN_DIR")"
  [ -e "$GLOMERS_TOOLCHAIN_DIR" ] || ok "failed runs leave no cache"
else
  expect "not root" 1 "tools/bazel: provisioning needs root" "$repo/tools/bazel" build //...
fi

# The mirror comes from the machine's apt sources, deb822 or classic, never security.
mirror_of() { (GLOMERS_APT_DIR=$1 && source "$here/common.sh" && debian_mirror); }
mkdir -p "$tmp/apt822/sources.list.d" "$tmp/aptlist"
cat >"$tmp/apt822/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://security.mirror.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.mirror.invalid/debian
Suites: bookworm

Types: deb
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
EOF
cat >"$tmp/aptlist/sources.list" <<'EOF'
# a comment
deb [arch=amd64 signed-by=/k.gpg] http://security.mirror.invalid/debian-security bookworm-security main
deb [arch=amd64] http://mirror.invalid/debian/ bookworm main
EOF
got=$(mirror_of "$tmp/apt822")
[ "$got" = http://mirror.invalid/debian ] && ok "mirror from *.sources" || bad "mirror from *.sources" "got '$got'"
got=$(mirror_of "$tmp/aptlist")
[ "$got" = http://mirror.invalid/debian/ ] && ok "mirror from sources.list" || bad "mirror from sources.list" "got '$got'"
got=$(mirror_of "$tmp/apt-none")
[ -z "$got" ] && ok "no mirror in empty apt dir" || bad "no mirror in empty apt dir" "got '$got'"

# One set of versions: what the offline toolchain provides is what MODULE.bazel asks for.
(
  source "$here/versions.env"
  mod=$repo/MODULE.bazel
  problems=()
  [ "$(cat "$repo/.bazelversion")" = "$BAZEL_VERSION" ] || problems+=(".bazelversion")
  grep -q "name = \"rules_go\", version = \"${RULES_GO_VERSION#v}\"" "$mod" || problems+=(rules_go)
  grep -q "name = \"gazelle\", version = \"${GAZELLE_VERSION#v}\"" "$mod" || problems+=(gazelle)
  grep -q "name = \"rules_shell\", version = \"$RULES_SHELL_VERSION\"" "$mod" || problems+=(rules_shell)
  grep -q "go_sdk.download(version = \"$GO_SDK_VERSION\")" "$mod" || problems+=(go_sdk)
  [[ $GO_SDK_MODULE == *"-go$GO_SDK_VERSION."* ]] || problems+=(GO_SDK_MODULE)
  [ ${#problems[@]} = 0 ] || { echo "${problems[*]}"; exit 1; }
) >"$tmp/versions.out"
[ $? = 0 ] && ok "versions agree" || bad "versions agree" "differ: $(cat "$tmp/versions.out")"

echo "wrapper_test: $passed passed, $failed failed"
[ "$failed" = 0 ]
