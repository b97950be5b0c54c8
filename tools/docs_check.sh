#!/bin/bash
# Keeps the README and docs/ honest: every relative link resolves to a file, and the
# commands they show still parse. CI runs it (.ci/run); it needs Go, not Bazel:
#   tools/docs_check.sh
# Commands checked, in ```sh blocks:
#   - the workbench's (bin/workbench, go run ./tools/workbench, tools/bazel run
#     //tools/workbench --): the command exists and `workbench help COMMAND` knows every
#     --flag shown;
#   - Bazel labels of `tools/bazel test|run //pkg:name`: the package has a BUILD file
#     that declares that name (":all" and "/..." only need the package).
# It checks the docs that are there: a file added under docs/ is checked too.
set -uo pipefail
cd "$(dirname "$0")/.."

# Written on other branches at the same time as the README that links them: a link to
# one of these is accepted while the file is missing (once merged, it is checked).
PENDING_DOCS=(docs/raft.md docs/maelstrom-suite.md docs/verdicts.md docs/anomalies.md
  docs/fidelity.md docs/architecture.md docs/reliability.md)

failed=0
bad() {
  echo "docs_check: $*" >&2
  failed=1
}

workbench=$(mktemp -d)/workbench
trap 'rm -rf "$(dirname "$workbench")"' EXIT
go build -o "$workbench" ./tools/workbench || { echo "docs_check: cannot build the workbench" >&2; exit 1; }

pending() {
  local p
  for p in "${PENDING_DOCS[@]}"; do [ "$1" = "$p" ] && return 0; done
  return 1
}

declare -A help_of
known_flag() {
  local cmd=$1 flag=$2
  if [ -z "${help_of[$cmd]+x}" ]; then
    help_of[$cmd]=$("$workbench" help "$cmd" 2>&1) || help_of[$cmd]=""
  fi
  grep -qE -- "(^|[ ,])$flag([ =,]|$)" <<<"${help_of[$cmd]}"
}

check_label() {
  local file=$1 label=$2 pkg name build
  pkg=${label#//}
  pkg=${pkg%%:*}
  pkg=${pkg%...}
  pkg=${pkg%/}
  # A challenge that an earlier line of the docs makes with the scaffold.
  [ -n "$pkg" ] && [ -n "${scaffolded[$pkg]+x}" ] && return
  name=${label##*:}
  [ "$name" = "$label" ] && name=${pkg##*/}
  build=$pkg/BUILD.bazel
  [ -z "$pkg" ] && build=BUILD.bazel
  if [ ! -f "$build" ]; then
    bad "$file: $label: no $build"
    return
  fi
  case $label in *:all | *...) return ;; esac
  grep -qE "name = \"$name\"" "$build" || bad "$file: $label: $build declares no target \"$name\""
}

check_command() {
  local file=$1 line=$2 rest sub w
  rest=
  case $line in
    bin/workbench\ *) rest=${line#bin/workbench } ;;
    go\ run\ ./tools/workbench\ *) rest=${line#go run ./tools/workbench } ;;
    tools/bazel\ run\ //tools/workbench\ --\ *) rest=${line#tools/bazel run //tools/workbench -- } ;;
  esac
  if [ -n "$rest" ]; then
    sub=${rest%% *}
    if ! "$workbench" help "$sub" >/dev/null 2>&1; then
      bad "$file: \`$line\`: the workbench has no command \"$sub\""
      return
    fi
    for w in $rest; do
      case $w in
        --) break ;;
        --*) known_flag "$sub" "${w%%=*}" || bad "$file: \`$line\`: \`workbench help $sub\` does not know ${w%%=*}" ;;
      esac
    done
  fi
  case $line in
    tools/bazel\ run\ //tools:new_challenge\ --\ *) w=${line#*-- } ;;
    go\ run\ ./tools/newchallenge\ *) w=${line#go run ./tools/newchallenge } ;;
    *) w= ;;
  esac
  [ -n "$w" ] && scaffolded[challenges/${w%% *}]=1
  for w in $line; do
    case $w in //*) check_label "$file" "$w" ;; esac
  done
}
declare -A scaffolded

files=(README.md docs/*.md)
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  dir=$(dirname "$f")
  # Links: [text](target), relative ones only, without their #anchor.
  while IFS= read -r target; do
    target=${target%%#*}
    [ -z "$target" ] && continue
    path=$(realpath -m --relative-to=. "$dir/$target")
    if [ ! -e "$path" ] && ! pending "$path"; then
      bad "$f: link to $target: no such file ($path)"
    fi
  done < <(grep -oE '\]\([^)]+\)' "$f" | sed -E 's/^\]\((.*)\)$/\1/' | grep -vE '^(https?:|mailto:|#)')
  # Commands: the lines of ```sh blocks (comments after # dropped).
  while IFS= read -r line; do
    check_command "$f" "$line"
  done < <(awk '/^```/ { if (sh) { sh = 0 } else if ($0 ~ /^```(sh|bash)$/) { sh = 1 }; next }
                 sh { sub(/[ \t]+#.*$/, ""); sub(/^[A-Z_]+=[^ ]+ /, ""); print }' "$f")
done

if [ "$failed" != 0 ]; then
  echo "docs_check: fix the README/docs above" >&2
  exit 1
fi
echo "docs_check: links and commands of ${#files[@]} files hold"
