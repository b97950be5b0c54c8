#!/bin/bash
# Tests of tools/bazel and provision.sh. Most need no provisioned root and no network:
# the pass-through to BAZEL_REAL, the one-line errors of misuse, the Debian mirror
# found in apt sources, the pinned versions agreeing across files, the recovery from
# unfinished provisionings, --release waiting for running calls, --clean-roots never
# reaching a workspace, and the store a maelstrom_test keeps. The cases that run Bazel
# itself (private mounts, the unprivileged user, server reuse) use the provisioned root
# of the current versions when there is one, and say SKIP when there is none.
# Every case that mounts does so in a private mount namespace of its own, so that even
# a broken wrapper leaves nothing mounted on the host.
# Usage: tools/toolchain/wrapper_test.sh  (some cases need root and are skipped without)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
# The cache of the real root, if any, for the cases that run Bazel.
real_cache=${GLOMERS_TOOLCHAIN_DIR:-/var/cache/glomers-toolchain}
# An empty cache: nothing here is ever provisioned. A fake mmdebstrap stands in for the
# real one, so that a provisioning that gets that far stops there (and says so).
export GLOMERS_TOOLCHAIN_DIR=$tmp/cache
unset BAZEL_REAL MAELSTROM
mkdir -p "$tmp/bin"
printf '#!/bin/sh\ntouch "%s/mmdebstrap.ran"\nexit 1\n' "$tmp" >"$tmp/bin/mmdebstrap"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/go"
chmod +x "$tmp/bin/mmdebstrap" "$tmp/bin/go"
export PATH=$tmp/bin:$PATH
key=$(source "$here/common.sh" && echo "$TOOLCHAIN_KEY")

source "$here/../shtest.sh"

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

# A maelstrom_test keeps the runs of a Jepsen-shaped store (store/<workload>/<time>/ and
# relative links latest, current, <workload>/latest) without the links, and tells a
# stand-in launcher which workbench to hand the run to.
mkdir -p "$tmp/mt/rf/bazel_tools/tools/bash/runfiles" "$tmp/mt/tmp" "$tmp/mt/out"
echo 'rlocation() { echo "$RUNFILES_DIR/$1"; }' >"$tmp/mt/rf/bazel_tools/tools/bash/runfiles/runfiles.bash"
cat >"$tmp/mt/maelstrom" <<'EOF'
#!/bin/bash
run=store/echo/20261202T053000.000Z
mkdir -p "$run/node-logs"
echo '{:valid? true}' >"$run/results.edn"
echo n0 >"$run/node-logs/n0.log"
ln -s echo/20261202T053000.000Z store/latest
ln -s echo/20261202T053000.000Z store/current
ln -s 20261202T053000.000Z store/echo/latest
echo "$GLOMERS_WORKBENCH" >"$run/workbench"
EOF
chmod +x "$tmp/mt/maelstrom"
RUNFILES_DIR=$tmp/mt/rf TEST_TMPDIR=$tmp/mt/tmp TEST_UNDECLARED_OUTPUTS_DIR=$tmp/mt/out MAELSTROM=$tmp/mt/maelstrom \
  bash "$repo/tools/maelstrom_test.sh" 0 _main/tools/workbench/workbench _main/node _main/tools/resultcheck/resultcheck -- -w echo 2>"$tmp/mt/err"
got=$?
run=$tmp/mt/out/store/echo/20261202T053000.000Z
if [ "$got" != 0 ]; then
  bad "maelstrom_test keeps a Jepsen store" "exit $got: $(cat "$tmp/mt/err")"
elif [ ! -s "$run/results.edn" ] || [ ! -s "$run/node-logs/n0.log" ]; then
  bad "maelstrom_test keeps a Jepsen store" "run not copied: $(cd "$tmp/mt/out" && find . | tr '\n' ' ')"
elif [ -n "$(find "$tmp/mt/out" -type l)" ]; then
  bad "maelstrom_test keeps a Jepsen store" "links copied: $(find "$tmp/mt/out" -type l)"
elif [ "$(cat "$run/workbench")" != "$tmp/mt/rf/_main/tools/workbench/workbench" ]; then
  bad "maelstrom_test keeps a Jepsen store" "GLOMERS_WORKBENCH was '$(cat "$run/workbench")'"
else
  ok "maelstrom_test keeps a Jepsen store"
fi

if [ "$(id -u)" = 0 ]; then
  # Unfinished provisionings are recovered from, whatever they left: a <key> directory
  # without a stamp next to an earlier one moved aside, a .tmp of an older key, one with
  # a mount left inside by an older script. One whose key is being provisioned (lock
  # held) stays. Nothing reachable through a leftover mount is deleted.
  c=$tmp/c11
  mkdir -p "$c/$key/root" "$c/.tmp.$key.stray/root" "$c/.tmp.$key.4242/root/proc" \
    "$c/.tmp.0123456789abcdef.77/root" "$c/.tmp.fedcba9876543210.88/root" "$tmp/victim"
  echo keep >"$tmp/victim/keep"
  rm -f "$tmp/mmdebstrap.ran"
  flock -o "$c/fedcba9876543210.lock" sleep 30 &
  holder=$!
  sleep 0.3
  # Also a shared rbind of a stand-in for the host's /dev with its pts: unmounting the
  # leftover must not unmount the original's pts through propagation.
  mkdir -p "$tmp/hostdev" "$c/.tmp.$key.4242/root/dev"
  tmp=$tmp unshare --mount --propagation private /bin/bash -c '
    set -e
    mount --bind "$1" "$2"
    mount -t tmpfs tmpfs "$3" && mkdir "$3/pts" && mount -t tmpfs tmpfs "$3/pts"
    mount --make-rshared "$3"
    mount --rbind "$3" "$4"
    shift 4
    "$@" || true
    mountpoint -q "$tmp/hostdev/pts" && touch "$tmp/hostdev.kept"' _ \
    "$tmp/victim" "$c/.tmp.$key.4242/root/proc" "$tmp/hostdev" "$c/.tmp.$key.4242/root/dev" \
    env GLOMERS_TOOLCHAIN_DIR="$c" GLOMERS_DEBIAN_MIRROR=http://mirror.invalid/debian \
    "$repo/tools/toolchain/provision.sh" >/dev/null 2>"$tmp/c11.err"
  kill "$holder" 2>/dev/null
  left=$(cd "$c" && ls -A | grep -v '\.lock$\|\.log$' | tr '\n' ' ')
  if [ ! -e "$tmp/mmdebstrap.ran" ]; then
    bad "provisioning recovers from unfinished runs" "stopped before mmdebstrap: $(cat "$tmp/c11.err")"
  elif [ ! -e "$tmp/victim/keep" ]; then
    bad "provisioning recovers from unfinished runs" "deleted through a leftover mount"
  elif [ ! -e "$tmp/hostdev.kept" ]; then
    bad "provisioning recovers from unfinished runs" "unmounting a leftover shared /dev unmounted the original's pts"
  elif [ "$left" != ".tmp.fedcba9876543210.88 " ]; then
    bad "provisioning recovers from unfinished runs" "left: '$left'; want only the locked .tmp.fedcba9876543210.88"
  else
    ok "provisioning recovers from unfinished runs"
  fi

  # A fake provisioned root of the current key, for the cases that need only its files.
  c=$tmp/c9
  mkdir -p "$c/$key/root/etc"
  echo "glomers:x:10001:10001::/home/glomers:/bin/bash" >"$c/$key/root/etc/passwd"
  touch "$c/$key/provisioned"

  # --release waits for the calls that are running (they hold the key's lock shared).
  flock -o -s "$c/$key.lock" sleep 3 &
  holder=$!
  sleep 0.3
  start=$(date +%s%N)
  err=$(GLOMERS_TOOLCHAIN_DIR=$c timeout 20 "$repo/tools/bazel" --release 2>&1)
  got=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  wait "$holder"
  if [ "$got" = 0 ] && [ "$ms" -ge 2000 ] && [[ $err == *"waiting for running tools/bazel calls"* ]]; then
    ok "--release waits for running calls"
  else
    bad "--release waits for running calls" "exit $got after $ms ms: $err"
  fi

  # --clean-roots deletes the other roots, never what is mounted in them (an older
  # wrapper left the workspace bind-mounted inside), nor a root in use, nor the current.
  mkdir -p "$c/aaaaaaaaaaaaaaaa/root$tmp/ws" "$c/bbbbbbbbbbbbbbbb/root" "$c/.tmp.cccccccccccccccc.9/root" "$tmp/ws"
  touch "$c/aaaaaaaaaaaaaaaa/provisioned" "$c/bbbbbbbbbbbbbbbb/provisioned" "$c/aaaaaaaaaaaaaaaa.log"
  echo source >"$tmp/ws/MODULE.bazel"
  flock -o -s "$c/bbbbbbbbbbbbbbbb.lock" sleep 30 &
  holder=$!
  sleep 0.3
  err=$(unshare --mount --propagation private /bin/bash -c '
    mount --bind "$1" "$2" && shift 2 && exec "$@"' _ "$tmp/ws" "$c/aaaaaaaaaaaaaaaa/root$tmp/ws" \
    env GLOMERS_TOOLCHAIN_DIR="$c" timeout 60 "$repo/tools/bazel" --clean-roots 2>&1)
  got=$?
  kill "$holder" 2>/dev/null
  left=$(cd "$c" && ls -A | grep -v '\.lock$' | LC_ALL=C sort | tr '\n' ' ')
  want=$(printf '%s\n' "$key" bbbbbbbbbbbbbbbb | LC_ALL=C sort | tr '\n' ' ')
  if [ "$(cat "$tmp/ws/MODULE.bazel" 2>/dev/null)" != source ]; then
    bad "--clean-roots spares workspaces" "the workspace mounted in an old root was deleted ($err)"
  elif [ "$got" != 0 ] || [ "$left" != "$want" ]; then
    bad "--clean-roots spares workspaces" "exit $got, left '$left': $err"
  else
    ok "--clean-roots spares workspaces"
  fi
fi

# The cases that run Bazel in the real root of the current versions.
if [ "$(id -u)" != 0 ] || [ ! -e "$real_cache/$key/provisioned" ]; then
  echo "SKIP Bazel in the root: no provisioned root of key $key in $real_cache"
else
  export GLOMERS_TOOLCHAIN_DIR=$real_cache
  # Not below /tmp: Bazel's sandbox then gives actions an empty /tmp of their own, which
  # must not hide a launcher below /tmp (as $tmp/mdir is).
  ws=$(mktemp -d /var/tmp/glomers-probe.XXXXXX)
  mkdir -p "$tmp/mdir"
  cat >"$ws/MODULE.bazel" <<'EOF'
module(name = "probe")
bazel_dep(name = "rules_go", version = "0.59.0")
bazel_dep(name = "gazelle", version = "0.54.0")
bazel_dep(name = "rules_shell", version = "0.4.0")
EOF
  cat >"$ws/BUILD.bazel" <<'EOF'
load("@rules_shell//shell:sh_binary.bzl", "sh_binary")
load("@rules_shell//shell:sh_test.bzl", "sh_test")
genrule(
    name = "probe",
    outs = ["probe.txt"],
    cmd = "(id -u; ls /dev | tr '\\n' ' '; echo) > $@",
)
sh_test(
    name = "maelstrom_visible_test",
    srcs = ["maelstrom_visible_test.sh"],
    env_inherit = ["MAELSTROM"],
)
sh_binary(
    name = "show_bin",
    srcs = ["show_bin.sh"],
)
EOF
  # Stands in for the workbench under `bazel run`: says which --bin it got, runs it, and
  # tries to write next to it.
  cat >"$ws/show_bin.sh" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift ;;
    --bin=*) bin=${1#--bin=} ;;
  esac
  shift
done
cd "$BUILD_WORKING_DIRECTORY" || exit 1
echo "bin=$bin"
"$bin"
touch "$(dirname "$bin")/written" 2>/dev/null && echo writable || echo read-only
EOF
  mkdir -p "$tmp/ndir" "$ws/sub"
  printf '#!/bin/sh\necho node ran\n' >"$tmp/ndir/node"
  printf '#!/bin/sh\necho workspace node ran\n' >"$ws/sub/node"
  chmod +x "$ws/show_bin.sh" "$tmp/ndir/node" "$ws/sub/node"
  chmod 755 "$tmp/ndir"
  printf '#!/bin/sh\ntest -x "$MAELSTROM" && "$MAELSTROM"\n' >"$ws/maelstrom_visible_test.sh"
  printf '#!/bin/sh\necho launcher ran\n' >"$tmp/mdir/maelstrom"
  chmod +x "$ws/maelstrom_visible_test.sh" "$tmp/mdir/maelstrom"
  chmod 755 "$tmp" "$tmp/mdir"
  tb() { (cd "$ws" && nice -n 10 "$repo/tools/bazel" "$@"); }

  out=$(tb build //:probe 2>&1)
  got=$?
  if [ "$got" != 0 ]; then
    bad "Bazel runs in the root" "exit $got: $out"
  else
    ok "Bazel runs in the root"
    # 12: the actions run as the root's unprivileged user with a /dev of their own.
    probe=$(cat "$ws/bazel-bin/probe.txt" 2>&1)
    uid=$(head -n1 <<<"$probe")
    devs=$(sed -n 2p <<<"$probe")
    if [ "$uid" = 10001 ] && [ "$devs" = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " ]; then
      ok "actions run unprivileged with a minimal /dev (and bazel-bin resolves on the host)"
    else
      bad "actions run unprivileged with a minimal /dev (and bazel-bin resolves on the host)" "got: $probe"
    fi
    # What Bazel writes into the workspace belongs to the workspace's owner.
    if [ "$(stat -c %u "$ws/bazel-bin")" = "$(stat -c %u "$ws")" ]; then
      ok "bazel-* links belong to the workspace's owner"
    else
      bad "bazel-* links belong to the workspace's owner" "$(stat -c %u "$ws/bazel-bin"), workspace $(stat -c %u "$ws")"
    fi
    # 9: nothing of the call is left mounted on the host.
    mounted=$(awk -v r="$real_cache/$key" 'index($5, r) == 1' /proc/self/mountinfo)
    [ -z "$mounted" ] && ok "no mounts left on the host" || bad "no mounts left on the host" "$mounted"
    # The server outlives the call and the next call reuses it, quickly.
    pid1=$(tb info server_pid 2>/dev/null)
    start=$(date +%s%N)
    tb build //:probe >/dev/null 2>&1
    ms=$((($(date +%s%N) - start) / 1000000))
    pid2=$(tb info server_pid 2>/dev/null)
    if [ -n "$pid1" ] && [ "$pid1" = "$pid2" ] && [ "$ms" -lt 10000 ]; then
      ok "the next call reuses the server (warm no-op build: $ms ms)"
    else
      bad "the next call reuses the server" "server $pid1 then $pid2, warm build $ms ms"
    fi
    # Calls side by side.
    tb build //:probe >"$tmp/c1.out" 2>&1 &
    p1=$!
    tb build //:probe >"$tmp/c2.out" 2>&1 &
    p2=$!
    wait "$p1"
    s1=$?
    wait "$p2"
    s2=$?
    if [ "$s1" = 0 ] && [ "$s2" = 0 ]; then
      ok "concurrent calls"
    else
      bad "concurrent calls" "exits $s1 $s2: $(cat "$tmp/c1.out" "$tmp/c2.out")"
    fi
    # A MAELSTROM outside the workspace is mounted for the server that runs the test:
    # the one started without it is replaced.
    out=$(MAELSTROM=$tmp/mdir/maelstrom tb test --nocache_test_results //:maelstrom_visible_test 2>&1)
    got=$?
    pid3=$(MAELSTROM=$tmp/mdir/maelstrom tb info server_pid 2>/dev/null)
    if [ "$got" = 0 ] && [ -n "$pid3" ] && [ "$pid3" != "$pid2" ]; then
      ok "MAELSTROM's directory reaches the tests (server restarted with it)"
    else
      bad "MAELSTROM's directory reaches the tests" "exit $got, server $pid2 then $pid3: $out"
    fi
    # A node binary outside the workspace, named by --bin after "--" (as `tools/bazel run
    # //tools/workbench -- test --bin /tmp/mynode/mynode`): mounted read-only and the
    # argument rewritten; the server is not restarted for it.
    out=$(tb run //:show_bin -- test --bin "$tmp/ndir/node" 2>&1)
    got=$?
    if [ "$got" = 0 ] && grep -qx "bin=/opt/glomers-bin$tmp/ndir/node" <<<"$out" &&
      grep -qx "node ran" <<<"$out" && grep -qx read-only <<<"$out"; then
      ok "--bin outside the workspace is mounted read-only"
    else
      bad "--bin outside the workspace is mounted read-only" "exit $got: $out"
    fi
    out=$(tb run //:show_bin -- test --bin="$tmp/ndir/node" 2>&1)
    got=$?
    if [ "$got" = 0 ] && grep -qx "bin=/opt/glomers-bin$tmp/ndir/node" <<<"$out" && grep -qx "node ran" <<<"$out"; then
      ok "--bin=PATH outside the workspace is mounted too"
    else
      bad "--bin=PATH outside the workspace is mounted too" "exit $got: $out"
    fi
    # A relative --bin inside the workspace stays relative (the binary resolves it
    # against BUILD_WORKING_DIRECTORY, the directory of the call).
    out=$(cd "$ws/sub" && nice -n 10 "$repo/tools/bazel" run //:show_bin -- test --bin ./node 2>&1)
    got=$?
    if [ "$got" = 0 ] && grep -qx "bin=./node" <<<"$out" && grep -qx "workspace node ran" <<<"$out"; then
      ok "a relative --bin inside the workspace resolves in the caller's directory"
    else
      bad "a relative --bin inside the workspace resolves in the caller's directory" "exit $got: $out"
    fi
  fi
  tb shutdown >/dev/null 2>&1
  md5=$(printf %s "$ws" | md5sum | cut -c1-32)
  rm -rf "${real_cache:?}/$key/bazel/$md5" "$ws"
fi

echo "wrapper_test: $passed passed, $failed failed"
[ "$failed" = 0 ]
