#!/bin/bash
# Tests of tools/cache/cache.sh: start, status, a PUT and GET the way Bazel uses the
# cache, stop; and the one-line errors when the port is taken, nginx is missing or
# lacks WebDAV. Uses its own directory and a free port; never touches a running cache.
# Usage: tools/cache/cache_test.sh  (the cases that run nginx are skipped without it)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
cache=$here/cache.sh
tmp=$(mktemp -d)
# nginx's workers run as nobody when this runs as root: they must reach the entries.
chmod 755 "$tmp"
export GLOMERS_CACHE_DIR=$tmp/cache
unset NGINX
cleanup() {
  "$cache" stop >/dev/null 2>&1
  [ -n "${squatter:-}" ] && kill "$squatter" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

source "$here/../shtest.sh"

# A port nothing listens on: ask the kernel for one.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http METHOD PATH [BODY]: prints the status code, then the body of the answer.
http() {
  python3 - "$GLOMERS_CACHE_PORT" "$@" <<'EOF'
import http.client, sys
port, method, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request(method, path, body=body)
r = c.getresponse()
print(r.status)
sys.stdout.write(r.read().decode(errors="replace"))
EOF
}

export GLOMERS_CACHE_PORT
GLOMERS_CACHE_PORT=$(free_port)

# Missing nginx: a PATH with every tool the script needs but nginx.
mkdir -p "$tmp/bin"
for t in bash cat mkdir seq sleep grep tr sed du find wc cut chown kill runuser test; do
  p=$(command -v "$t") && ln -s "$p" "$tmp/bin/$t"
done
expect "nginx missing" 1 "nginx not found in PATH" env PATH="$tmp/bin" "$cache" start
# An nginx without the WebDAV module cannot take uploads.
printf '#!/bin/sh\necho "nginx version: nginx/1.0 configure arguments: --with-http_ssl_module" >&2\n' >"$tmp/bin/nginx"
chmod +x "$tmp/bin/nginx"
expect "nginx without WebDAV" 1 "lacks the WebDAV module" env PATH="$tmp/bin" "$cache" start
expect "NGINX not executable" 1 "is not an executable" env NGINX="$tmp/none" "$cache" start
expect "usage" 1 "usage:" "$cache" restart

if ! command -v nginx >/dev/null; then
  skip "start/status/stop" "nginx is not installed (apt-get install nginx)"
  skip "port taken" "nginx is not installed"
else
  # status before start: not running, exit 3.
  out=$("$cache" status 2>&1)
  got=$?
  if [ "$got" = 3 ] && [[ $out == *"not running"* ]]; then ok "status when stopped"; else bad "status when stopped" "exit $got: $out"; fi

  out=$("$cache" start 2>&1)
  got=$?
  if [ "$got" = 0 ] && [[ $out == *"running"*"127.0.0.1:$GLOMERS_CACHE_PORT"* ]]; then ok "start"; else bad "start" "exit $got: $out"; fi
  out=$("$cache" start 2>&1)
  if [ $? = 0 ] && [[ $out == *"already running"* ]]; then ok "start twice"; else bad "start twice" "$out"; fi

  # Bazel's protocol: GET of a missing entry is 404, PUT stores, GET returns it.
  digest=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  r=$(http GET "/cas/$digest")
  if [ "$(head -1 <<<"$r")" = 404 ]; then ok "GET missing entry 404"; else bad "GET missing entry 404" "$r"; fi
  r=$(http PUT "/cas/$digest" "some output")
  if [[ $(head -1 <<<"$r") == 20[14] ]]; then ok "PUT entry"; else bad "PUT entry" "$r"; fi
  r=$(http GET "/cas/$digest")
  if [ "$r" = $'200\nsome output' ]; then ok "GET stored entry"; else bad "GET stored entry" "$r"; fi
  r=$(http DELETE "/cas/$digest")
  if [ "$(head -1 <<<"$r")" = 405 ]; then ok "DELETE refused"; else bad "DELETE refused" "$r"; fi

  out=$("$cache" status 2>&1)
  if [ $? = 0 ] && [[ $out == *"running"*"1 entries"* ]]; then ok "status when running"; else bad "status when running" "$out"; fi

  out=$("$cache" stop 2>&1)
  if [ $? = 0 ] && [[ $out == *"stopped"* ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$GLOMERS_CACHE_PORT") 2>/dev/null; then
    ok "stop"
  else
    bad "stop" "$out"
  fi
  # Entries outlive the server.
  "$cache" start >/dev/null 2>&1
  r=$(http GET "/cas/$digest")
  if [ "$r" = $'200\nsome output' ]; then ok "entries kept across restart"; else bad "entries kept across restart" "$r"; fi
  "$cache" stop >/dev/null 2>&1

  # Started as root, the workers (nobody) must be able to reach the entries.
  if [ "$EUID" = 0 ]; then
    mkdir -m 700 "$tmp/private"
    expect "entries out of the workers' reach" 1 "cannot reach" env GLOMERS_CACHE_DIR="$tmp/private/cache" "$cache" start
  else
    skip "entries out of the workers' reach" "needs root"
  fi

  # Port taken by another program.
  python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("up", flush=True); time.sleep(60)' \
    "$GLOMERS_CACHE_PORT" >"$tmp/squatter.out" &
  squatter=$!
  for _ in $(seq 50); do grep -q up "$tmp/squatter.out" 2>/dev/null && break; sleep 0.1; done
  expect "port taken" 1 "port $GLOMERS_CACHE_PORT on 127.0.0.1 is taken" "$cache" start
  kill "$squatter" 2>/dev/null
  wait "$squatter" 2>/dev/null
  squatter=
fi

echo "cache_test: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
