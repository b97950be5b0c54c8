#!/bin/bash
# Provisions the offline Bazel toolchain, once per set of pinned versions:
#   an isolated Debian root with Debian's Bazel, plus rules_go, gazelle and the Go SDK
#   fetched through the Go module proxy, plus the stub modules of tools/toolchain/stubs,
#   plus a system bazelrc that points Bazel at all of them instead of a registry.
#
# Usage: tools/toolchain/provision.sh        (tools/bazel runs it when needed)
#   Prints the root's path on stdout when done. Idempotent: a no-op when the root of the
#   current versions exists. Needs root. Reaches only the machine's Debian mirror (taken
#   from its apt sources) and the go command's default module proxy.
#
# Environment:
#   GLOMERS_TOOLCHAIN_DIR   cache directory (default /var/cache/glomers-toolchain)
#   GLOMERS_DEBIAN_MIRROR   Debian mirror URL (default: from the apt sources)
#   GLOMERS_APT_DIR         apt configuration to read the mirror from (default /etc/apt)
#   GO                      the go command (default: go on PATH, else /usr/local/go/bin/go)
#
# Atomicity: everything is built in $GLOMERS_TOOLCHAIN_DIR/.tmp.<key>.<pid> and renamed to
# $GLOMERS_TOOLCHAIN_DIR/<key> only when complete, with the stamp already inside. A run that
# is interrupted, even by SIGKILL, leaves only a .tmp directory (and no mounts), which the
# next run deletes, whatever key it was for, once no run holds that key's lock.
# A lock serializes concurrent runs; the later one finds the root done and returns.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=versions.env
source "$TOOLCHAIN_SRC/versions.env"

log() { echo "tools/bazel: $*" >&2; }

[ "$(id -u)" = 0 ] ||
  die "provisioning needs root (apt-get, mmdebstrap, chroot); run as root or set BAZEL_REAL to a working bazel"

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || command -v "$GO" >/dev/null ||
  die "provisioning needs the go command (it fetches rules_go, gazelle and the Go SDK from the Go module proxy); install Go or set GO"

# Debian packages of the root (mmdebstrap installs no recommends).
# python3: nodes written in Python (the challenge notes' other language) run under
# `tools/bazel run //tools/workbench` as they do outside.
ROOT_PACKAGES=(bazel-bootstrap bazel-rules-shell ca-certificates file zip mount
  default-jre-headless git gnuplot-nox graphviz python3)
BAZEL_USER=glomers
BAZEL_UID=10001

MIRROR=${GLOMERS_DEBIAN_MIRROR:-$(debian_mirror)}
[ -n "$MIRROR" ] ||
  die "no Debian mirror found in ${GLOMERS_APT_DIR:-/etc/apt}/sources.list{,.d/*.sources,.d/*.list}; set GLOMERS_DEBIAN_MIRROR"

mkdir -p "$TOOLCHAIN_CACHE"
exec 9>"$TOOLCHAIN_CACHE/$TOOLCHAIN_KEY.lock"
if ! flock -n 9; then
  log "waiting for another provisioning of $TOOLCHAIN_HOME to finish"
  flock 9
fi
if [ -e "$TOOLCHAIN_STAMP" ]; then
  echo "$TOOLCHAIN_ROOT"
  exit 0
fi

# Anything left by an interrupted run goes. Provisioning runs in a private mount
# namespace (below), so an interrupted run leaves no mounts; older scripts' leftovers may
# still hold some, which are undone first. Only directories whose key nobody is
# provisioning are touched (their lock is free); ours is held already. A <key> directory
# without a stamp cannot come from this script; it is treated the same way.
if [ -e "$TOOLCHAIN_HOME" ]; then
  mv -T "$TOOLCHAIN_HOME" "$TOOLCHAIN_CACHE/.tmp.$TOOLCHAIN_KEY.stray.$$" ||
    die "cannot move the unfinished $TOOLCHAIN_HOME aside"
fi
remove_stale_tmp "$TOOLCHAIN_KEY"

started=$SECONDS
TMP=$TOOLCHAIN_CACHE/.tmp.$TOOLCHAIN_KEY.$$
LOG=$TOOLCHAIN_CACHE/$TOOLCHAIN_KEY.log
fetch_pid=
cleanup() {
  [ -z "$fetch_pid" ] || kill "$fetch_pid" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$TMP"
: >"$LOG"
log "provisioning the Bazel $BAZEL_VERSION toolchain into $TOOLCHAIN_HOME (2-4 minutes, 1.6 GB; log: $LOG)"

# 2. Bazel modules and the Go SDK from the Go module proxy --------------------------
# Fetched into $STAGE/opt (moved into the root's /opt at the end) while mmdebstrap runs:
# the two do not depend on each other, and the download and the SDK's repacking would
# otherwise add half a minute after mmdebstrap.
STAGE=$TMP/stage
MODULES=/opt/bazel-modules
GO_DIST=/opt/go-dist
# The build user's home (BAZEL_USER below), where its Go caches live.
GO_HOME=/home/glomers
# tools/gazelle/extension.bzl looks for gazelle's binary here.
GAZELLE_PREBUILT=/opt/glomers-gazelle/gazelle
# (The here-document's end marker stays in column 1.)
fetch_modules() {
  # A private module cache and an empty working directory: nothing of the host's Go setup
  # (go.work, a module, the toolchain switch) takes part.
  mkdir -p "$TMP/gomod" "$TMP/gowd"
  go_download() {
    local json dir
    json=$(cd "$TMP/gowd" && GOMODCACHE="$TMP/gomod" GOFLAGS=-modcacherw GOWORK=off GOTOOLCHAIN=local \
      GO111MODULE=on "$GO" mod download -json "$1" 2>>"$LOG") || true
    dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
    [ -n "$dir" ] || die "go mod download $1 failed: $(sed -n 's/^[[:space:]]*"Error": //p' <<<"$json")"
    echo "$dir"
  }
  # Module zips carry no file modes: scripts (files starting with #!) get their x bit back.
  restore_exec_bits() {
    chmod -R u+w,a+rX "$1"
    find "$1" -type f -exec sh -c 'for f; do [ "$(head -c2 "$f")" = "#!" ] && chmod +x "$f"; done; true' _ {} +
  }

  M=$STAGE$MODULES
  mkdir -p "$M"
  rules_go=$(go_download "github.com/bazelbuild/rules_go@$RULES_GO_VERSION")
  cp -r "$rules_go" "$M/rules_go"
  gazelle=$(go_download "github.com/bazelbuild/bazel-gazelle@$GAZELLE_VERSION")
  cp -r "$gazelle" "$M/gazelle"
  have=$(awk '$1 == "github.com/bazel-contrib/bazel-gazelle/v2" { print $2; exit }' "$gazelle/go.mod")
  [ "$have" = "$GAZELLE_V2_VERSION" ] ||
    die "gazelle $GAZELLE_VERSION requires bazel-gazelle/v2 ${have:-(none)}, but versions.env pins $GAZELLE_V2_VERSION"
  # gazelle's v2/ is a nested Go module, so its module zip lacks it: graft it back in.
  chmod u+w "$M/gazelle"
  gazelle_v2=$(go_download "github.com/bazel-contrib/bazel-gazelle/v2@$GAZELLE_V2_VERSION")
  cp -r "$gazelle_v2" "$M/gazelle/v2"
  [ -e "$M/gazelle/v2/go.sum" ] || : >"$M/gazelle/v2/go.sum"
  restore_exec_bits "$M/rules_go"
  restore_exec_bits "$M/gazelle"

  # The Go SDK is served to rules_go's own go_sdk.download() as the version list and
  # archive it would otherwise fetch from the Go website: a reproducible tar.gz of the SDK
  # module with go/ as its top directory (the patch below points rules_go at these files).
  sdk=$(go_download "$GO_SDK_MODULE")
  mkdir -p "$TMP/sdk"
  cp -r "$sdk" "$TMP/sdk/go"
  chmod -R u+w,a+rX "$TMP/sdk/go"
  chmod +x "$TMP"/sdk/go/bin/* "$TMP"/sdk/go/pkg/tool/*/*
  have=$(GOROOT="$TMP/sdk/go" GOTOOLCHAIN=local "$TMP/sdk/go/bin/go" env GOVERSION)
  [ "$have" = "go$GO_SDK_VERSION" ] || die "the SDK module $GO_SDK_MODULE reports $have, not go$GO_SDK_VERSION"
  mkdir -p "$STAGE$GO_DIST"
  sdk_archive=go$GO_SDK_VERSION.linux-amd64.tar.gz
  tar -C "$TMP/sdk" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - go |
    gzip -n >"$STAGE$GO_DIST/$sdk_archive"
  sdk_sha=$(sha256sum "$STAGE$GO_DIST/$sdk_archive" | cut -c1-64)
  cat >"$STAGE$GO_DIST/versions.json" <<EOF
  [
   {
    "version": "go$GO_SDK_VERSION",
    "stable": true,
    "files": [
     {
      "filename": "$sdk_archive",
      "os": "linux",
      "arch": "amd64",
      "version": "go$GO_SDK_VERSION",
      "sha256": "$sdk_sha",
      "size": $(stat -c %s "$STAGE$GO_DIST/$sdk_archive"),
      "kind": "archive"
     }
    ]
   }
  ]
EOF

  # The build user's Go caches, warmed with what gazelle's go_deps builds with `go build`
  # in a repository rule (its repository tools) the first time a workspace needs a Go
  # module's repository: .bazelrc points gazelle at these caches
  # (GO_REPOSITORY_USE_HOST_CACHE), so even the first clone of a new root reuses them
  # instead of compiling the standard library and gazelle (minutes on a 2-core machine).
  # Same sources, flags and SDK as the repository rule; a cache miss only costs time.
  (cd "$M/gazelle" && GOROOT="$TMP/sdk/go" GOTOOLCHAIN=local GOROOT_FINAL=GOROOT CGO_ENABLED=0 \
    GOPATH="$STAGE$GO_HOME/go" GOMODCACHE="$STAGE$GO_HOME/go/pkg/mod" GOCACHE="$STAGE$GO_HOME/.cache/go-build" \
    GOFLAGS=-modcacherw "$TMP/sdk/go/bin/go" build -o "$TMP/gazelle-tools/" -trimpath -buildvcs=false \
    -ldflags "-w -s -X github.com/bazel-contrib/bazel-gazelle/v2/cmd/gazelle/update.BazelModuleVersion=${GAZELLE_VERSION#v} -X github.com/bazel-contrib/bazel-gazelle/v2/cmd/gazelle/update.IsBazelModule=True" \
    github.com/bazel-contrib/bazel-gazelle/v2/cmd/gazelle \
    github.com/bazelbuild/bazel-gazelle/cmd/fetch_repo \
    github.com/bazelbuild/bazel-gazelle/cmd/generate_repo_config) >>"$LOG" 2>&1 ||
    die "building gazelle's repository tools (to warm the Go caches) failed; see $LOG"
  # The gazelle binary just built is //:gazelle's (tools/gazelle/extension.bzl).
  mkdir -p "$STAGE$(dirname "$GAZELLE_PREBUILT")"
  cp "$TMP/gazelle-tools/gazelle" "$STAGE$GAZELLE_PREBUILT"

  # Stub modules for dependencies with no offline source.
  cp -r "$TOOLCHAIN_SRC"/stubs/* "$M/"

  # rules_go's go_sdk.download fetches the SDK version list and the SDK archive from the Go
  # website by URL. In this offline copy of rules_go those URLs (matched by path, whatever
  # the host) become the files made above; rules_go still checks the archive's digest.
  # (Bazel 7's URL rewriter cannot rewrite to file:// URLs, hence a patch.)
  sed -i -E \
    -e 's#"https://[^"]*/dl/\?mode=json[^"]*"#"file://'"$GO_DIST"'/versions.json"#' \
    -e 's#"https://[^"]*/go/\{\}"#"file://'"$GO_DIST"'/{}"#' \
    "$M/rules_go/go/private/sdk.bzl" "$M/rules_go/go/private/extensions.bzl"
  have=$(cat "$M/rules_go/go/private/sdk.bzl" "$M/rules_go/go/private/extensions.bzl" | grep -c "file://$GO_DIST/" || true)
  [ "$have" = 4 ] || die "rules_go $RULES_GO_VERSION: expected 4 SDK URLs to point at $GO_DIST, patched $have"
}

log "fetching rules_go $RULES_GO_VERSION, gazelle $GAZELLE_VERSION and Go $GO_SDK_VERSION (alongside mmdebstrap)"
fetch_modules &
fetch_pid=$!

# 1. The Debian root with Bazel ------------------------------------------------------
if ! command -v mmdebstrap >/dev/null; then
  log "installing mmdebstrap"
  { apt-get update -q && apt-get install -y -q --no-install-recommends mmdebstrap; } >>"$LOG" 2>&1 ||
    die "apt-get install mmdebstrap failed; see $LOG"
fi
ROOT=$TMP/root
# Check-Valid-Until=false: the mirror may serve a frozen snapshot whose sid Release
# file has expired. (Leaving out /usr/share/man breaks the JDK's postinst.) Bazel's test
# runner needs zip and file to pack a test's undeclared outputs; tools/bazel needs mount
# (an id-mapped bind of the workspace, which the host's util-linux may be too old for).
# What a real Maelstrom runs besides its own jar: java (>= 11), git (Jepsen logs the
# commit at test start), gnuplot (the latency and rate plots) and graphviz's dot.
# mmdebstrap's own mounts (/proc, /dev, ...) go into a private mount namespace that dies
# with it, so even a SIGKILL leaves no mount behind. force-unsafe-io: dpkg skips its
# fsyncs (an interrupted run's root is thrown away anyway).
unshare --mount --propagation private mmdebstrap --mode=root --variant=apt \
  --aptopt='Acquire::Check-Valid-Until "false"' --dpkgopt=force-unsafe-io \
  --include="$(IFS=,; echo "${ROOT_PACKAGES[*]}")" \
  "$DEBIAN_SUITE" "$ROOT" "deb $MIRROR $DEBIAN_SUITE main" >>"$LOG" 2>&1 ||
  die "mmdebstrap failed to build a Debian $DEBIAN_SUITE root from $MIRROR; see $LOG"

# The pins hold as long as the mirror serves these versions; anything else stops here.
debian_version() { chroot "$ROOT" dpkg-query -W -f='${Version}' "$1"; }
have=$(debian_version bazel-bootstrap)
case $have in
  "$BAZEL_VERSION"[+~-]*) ;;
  *) die "Debian $DEBIAN_SUITE has bazel-bootstrap $have, but versions.env pins Bazel $BAZEL_VERSION" ;;
esac
# (The package's MODULE.bazel says version 0.0.0, as upstream's source tree does.)
have=$(debian_version bazel-rules-shell)
case $have in
  "$RULES_SHELL_VERSION"[+~-]*) ;;
  *) die "Debian $DEBIAN_SUITE has bazel-rules-shell $have, but versions.env pins rules_shell $RULES_SHELL_VERSION" ;;
esac
RULES_SHELL_DIR=/usr/share/bazel/rules/shell
# (The JVM needs /proc, mounted for it in a namespace of its own.)
have=$(unshare --mount --propagation private /bin/sh -c 'mount -t proc proc "$1/proc" && chroot "$1" java -version' _ "$ROOT" 2>&1) ||
  die "java -version failed inside the root: $have"
have=$(sed -n 's/.*version "\([0-9]*\).*/\1/p' <<<"$have" | head -n1)
[ "${have:-0}" -ge 11 ] || die "the root's java is version ${have:-unknown}; Maelstrom needs 11 or later"

# Bazel, its actions and the tests run as this unprivileged user (tools/bazel). Written
# straight into the root's passwd and group: useradd is not in a minimal root.
echo "$BAZEL_USER:x:$BAZEL_UID:$BAZEL_UID:Bazel in tools/bazel:/home/$BAZEL_USER:/bin/bash" >>"$ROOT/etc/passwd"
echo "$BAZEL_USER:x:$BAZEL_UID:" >>"$ROOT/etc/group"
install -d -m 755 -o "$BAZEL_UID" -g "$BAZEL_UID" "$ROOT/home/$BAZEL_USER"
# A workspace below /root is mounted at its own path: the user must be able to pass /root.
chmod 755 "$ROOT/root"
sync_ca_certs "$ROOT" || die "update-ca-certificates failed inside the root"

# Debian's system bazelrc turns on --sandbox_debug, which keeps every action's sandbox
# on disk and prints pages of sandbox logs per action; it comes after our
# /etc/bazel.bazelrc, so it is taken out here.
sed -i '/^build --sandbox_debug$/d' "$ROOT/etc/bazel/bazelrc"
! grep -q sandbox_debug "$ROOT/etc/bazel/bazelrc" || die "could not turn off --sandbox_debug in $ROOT/etc/bazel/bazelrc"
debian_seconds=$((SECONDS - started))

# (fetch_modules said what failed, if anything did.)
wait "$fetch_pid" || exit 1
fetch_pid=
mkdir -p "$ROOT/opt"
mv "$STAGE$MODULES" "$ROOT$MODULES"
mv "$STAGE$GO_DIST" "$ROOT$GO_DIST"
mv "$STAGE$(dirname "$GAZELLE_PREBUILT")" "$ROOT$(dirname "$GAZELLE_PREBUILT")"
# The warmed Go caches become the build user's own.
[ "$GO_HOME" = "/home/$BAZEL_USER" ] || die "GO_HOME $GO_HOME is not the home of $BAZEL_USER"
mv "$STAGE$GO_HOME/go" "$STAGE$GO_HOME/.cache" "$ROOT$GO_HOME/"
chown -R "$BAZEL_UID:$BAZEL_UID" "$ROOT$GO_HOME"

# 3. Bazel's configuration inside the root ------------------------------------------

# /etc/bazel.bazelrc is try-imported by Debian's /etc/bazel/bazelrc, which already
# overrides the modules Debian packages (platforms, rules_cc/java/proto/python/license,
# bazel_skylib, bazel_features).
cat >"$ROOT/etc/bazel.bazelrc" <<EOF
# Written by tools/toolchain/provision.sh: the offline setup. The workspace's own
# MODULE.bazel and .bazelrc stay exactly what an online user builds with.
# Bzlmod only: Bazel 7's WORKSPACE suffix would try to download rules_cc and others.
common --noenable_workspace
# No registry is reachable: every module comes from an override.
common --registry=file:///nonexistent-bazel-registry
common --override_module=rules_go=$MODULES/rules_go
common --override_module=gazelle=$MODULES/gazelle
common --override_module=rules_shell=$RULES_SHELL_DIR
common --override_module=protobuf=$MODULES/protobuf
common --override_module=package_metadata=$MODULES/package_metadata
common --override_module=buildozer=$MODULES/buildozer
common --override_module=zlib=$MODULES/zlib
common --override_module=apple_support=$MODULES/apple_support
# The lock file would record offline module versions and SDK digests into the work tree.
common --lockfile_mode=off
EOF

cat >"$TMP/provisioned" <<EOF
key=$TOOLCHAIN_KEY
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mirror=$MIRROR
seconds=$((SECONDS - started))
debian_seconds=$debian_seconds
EOF
sed -n 's/^\([A-Z_]*=.*\)/\1/p' "$TOOLCHAIN_SRC/versions.env" >>"$TMP/provisioned"
rm -rf "$TMP/gomod" "$TMP/gowd" "$TMP/sdk" "$TMP/gazelle-tools" "$STAGE"
mv -T "$TMP" "$TOOLCHAIN_HOME"
trap - EXIT
log "provisioned $TOOLCHAIN_HOME in $((SECONDS - started)) s ($(du -sh "$TOOLCHAIN_HOME" | cut -f1))"
echo "$TOOLCHAIN_ROOT"
