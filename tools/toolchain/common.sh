# Shared by tools/bazel and tools/toolchain/provision.sh (sourced, not run).
# Works out where the provisioned root of the current versions lives, and the
# few mount and certificate chores both scripts need.

TOOLCHAIN_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# All provisioned roots live here, one directory per cache key; never in a work tree.
TOOLCHAIN_CACHE=${GLOMERS_TOOLCHAIN_DIR:-/var/cache/glomers-toolchain}

die() {
  echo "tools/bazel: $*" >&2
  exit 1
}

# The cache key: a digest of everything that decides what a root contains (the pinned
# versions, the provisioning script, the stub modules). Cheap: a few small files.
toolchain_key() {
  (
    cd "$TOOLCHAIN_SRC" &&
      { sha256sum versions.env provision.sh && find stubs -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } |
      sha256sum | cut -c1-16
  )
}

TOOLCHAIN_KEY=$(toolchain_key) || die "cannot read $TOOLCHAIN_SRC"
TOOLCHAIN_HOME=$TOOLCHAIN_CACHE/$TOOLCHAIN_KEY
TOOLCHAIN_ROOT=$TOOLCHAIN_HOME/root
# Written last, inside the temporary directory, before it is renamed into place.
TOOLCHAIN_STAMP=$TOOLCHAIN_HOME/provisioned

# Mount points at or below $1, deepest first (mountinfo escapes spaces as \040).
mounts_under() {
  awk -v d="$1" '{ p = $5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' \
    /proc/self/mountinfo | sort -r
}

# Unmounts everything at or below $1. Must run before deleting any directory that a
# chroot has used: a bind mount left inside would let `rm -rf` reach the host.
unmount_under() {
  local m pass
  # Several passes: a mount can hide another one below it until it is gone itself.
  for pass in 1 2 3; do
    # All private first: were one a shared peer of a host mount (an rbind of /dev that
    # was never made a slave), unmounting below it would unmount the host's own too.
    while IFS= read -r m; do
      mount --make-private "$m" 2>/dev/null || true
    done < <(mounts_under "$1")
    while IFS= read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(mounts_under "$1")
    [ -z "$(mounts_under "$1")" ] && return 0
  done
  return 1
}

# Removes the unfinished provisionings (.tmp.<key>.*) that no running provisioning owns:
# those of key $1, whose lock the caller holds, and those of any key whose lock is free.
# Mounts left inside by older versions of provision.sh (which mounted in the host's
# namespace) are undone first, so that rm never reaches through one.
remove_stale_tmp() {
  local own=$1 stale key
  for stale in "$TOOLCHAIN_CACHE"/.tmp.*; do
    [ -e "$stale" ] || continue
    key=${stale#"$TOOLCHAIN_CACHE/.tmp."}
    key=${key%%.*}
    if [ "$key" != "$own" ]; then
      # Held by a provisioning of that key that is still running: leave it alone.
      ( flock -n 7 || exit 1; remove_dir "$stale" ) 7>>"$TOOLCHAIN_CACHE/$key.lock" || continue
    else
      remove_dir "$stale"
    fi
  done
}

# rm -rf $1, after making sure that no mount in this namespace lies below it.
remove_dir() {
  echo "tools/bazel: removing $1" >&2
  unmount_under "$1" || die "cannot unmount everything under $1 (see: grep '$1' /proc/self/mountinfo)"
  rm -rf --one-file-system "$1" || die "cannot remove $1"
}

# Makes the root trust the host's locally added CA certificates (gazelle's go_deps
# fetches Go modules from inside the root, possibly through a TLS-inspecting proxy).
# Redone whenever the host's set changes, which costs one digest when it has not.
sync_ca_certs() {
  local root=$1 want have
  want=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum | cut -c1-64)
  have=$(cat "$root/usr/local/share/ca-certificates/.glomers-host-digest" 2>/dev/null || true)
  [ "$want" = "$have" ] && return 0
  rm -f "$root"/usr/local/share/ca-certificates/*.crt
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  chroot "$root" update-ca-certificates --fresh >/dev/null 2>&1 || return 1
  echo "$want" >"$root/usr/local/share/ca-certificates/.glomers-host-digest"
}

# The Debian mirror this machine already uses, for provision.sh: the first non-security
# "deb" source in its apt configuration, preferring one whose path ends in /debian
# (deb822 *.sources files first, then classic one-line sources.list files).
# Prints nothing when there is none.
debian_mirror() {
  local apt=${GLOMERS_APT_DIR:-/etc/apt}
  {
    awk '
      function flush() {
        if (uri != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && suites !~ /security/ && enabled !~ /^[ \t]*no/) print uri
        uri = types = suites = enabled = ""
      }
      FNR == 1 { flush() }
      /^[ \t]*$/ { flush(); next }
      /^URIs:/ { uri = $2 }
      /^Types:/ { types = substr($0, 7) }
      /^Suites:/ { suites = substr($0, 8) }
      /^Enabled:/ { enabled = substr($0, 9) }
      END { flush() }
    ' "$apt"/sources.list.d/*.sources 2>/dev/null || true
    awk '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) !~ /security/) print $i
      }
    ' "$apt"/sources.list "$apt"/sources.list.d/*.list 2>/dev/null || true
  } | { grep -E '^https?://' || true; } | awk '{ all[NR] = $0 } /\/debian\/?$/ && !pref { pref = $0 } END { print (pref != "" ? pref : all[1]) }'
}
