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

# A small HTTP client, in a file any uid can run: cacheclient.py PORT METHOD PATH [BODY],
# with CACHE_AUTH (a credential) sent as a bearer token when set. Prints the status
# code, then the body of the answer.
cat >"$tmp/cacheclient.py" <<'PY'
import http.client, os, sys
port, method, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
headers = {}
if os.environ.get("CACHE_AUTH"):
    headers["Authorization"] = "Bearer " + os.environ["CACHE_AUTH"]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request(method, path, body=body, headers=headers)
r = c.getresponse()
print(r.status)
sys.stdout.write(r.read().decode(errors="replace"))
PY
# A Python any uid can run (not a shim below /root).
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
# A second local user: no account needed, just another uid and gid.
OTHER=(setpriv --reuid=4242 --regid=4242 --clear-groups)

# http METHOD PATH [BODY]: as this user, without a credential unless CACHE_AUTH is set.
http() { "$py" "$tmp/cacheclient.py" "$GLOMERS_CACHE_PORT" "$@"; }
# other_http METHOD PATH [BODY]: the same as the second uid.
other_http() { "${OTHER[@]}" "$py" "$tmp/cacheclient.py" "$GLOMERS_CACHE_PORT" "$@"; }
# status_is NAME WANT OUTPUT: the first line of an http answer is the status WANT.
status_is() {
  if [[ $(head -1 <<<"$3") == $2 ]]; then ok "$1"; else bad "$1" "want $2, got: $(head -c 200 <<<"$3")"; fi
}

export GLOMERS_CACHE_PORT
GLOMERS_CACHE_PORT=$(free_port)

# Missing nginx: a PATH with every tool the script needs but nginx.
mkdir -p "$tmp/bin"
for t in bash cat mkdir seq sleep grep tr sed du find wc cut chown chmod kill runuser test od mv rm; do
  p=$(command -v "$t") && ln -s "$p" "$tmp/bin/$t"
done
expect "nginx missing" 1 "nginx not found in PATH" env PATH="$tmp/bin" "$cache" start
# An nginx without the WebDAV module cannot take uploads.
printf '#!/bin/sh\necho "nginx version: nginx/1.0 configure arguments: --with-http_ssl_module" >&2\n' >"$tmp/bin/nginx"
chmod +x "$tmp/bin/nginx"
expect "nginx without WebDAV" 1 "lacks the WebDAV module" env PATH="$tmp/bin" "$cache" start
expect "NGINX not executable" 1 "is not an executable" env NGINX="$tmp/none" "$cache" start
expect "usage" 1 "usage:" "$cache" restart
expect "bad read setting" 1 "GLOMERS_CACHE_READ=everyone" env GLOMERS_CACHE_READ=everyone "$cache" start
expect "bad entry size" 1 "GLOMERS_CACHE_MAX_ENTRY=lots" env GLOMERS_CACHE_MAX_ENTRY=lots "$cache" start
expect "bad connection limit" 1 "GLOMERS_CACHE_CONNS_PER_CLIENT=0" env GLOMERS_CACHE_CONNS_PER_CLIENT=0 "$cache" start

# The credential helper Bazel runs: the header when it has a credential, none without.
helper=$here/credential_helper.sh
printf '%064d' 7 >"$tmp/cred"
out=$(GLOMERS_CACHE_CREDENTIAL_INSIDE=$tmp/cred "$helper" get <<<'{"uri":"http://127.0.0.1:1/ac/x"}')
if [ "$out" = '{"headers":{"Authorization":["Bearer '"$(cat "$tmp/cred")"'"]}}' ]; then ok "helper gives the credential"; else bad "helper gives the credential" "$out"; fi
out=$(GLOMERS_CACHE_CREDENTIAL_INSIDE=$tmp/none "$helper" get <<<'{}')
if [ "$out" = '{}' ]; then ok "helper without a credential"; else bad "helper without a credential" "$out"; fi
echo junk >"$tmp/cred"
expect "helper with a bad credential" 1 "does not hold a cache credential" env GLOMERS_CACHE_CREDENTIAL_INSIDE="$tmp/cred" "$helper" get
expect "helper usage" 2 "usage:" "$helper" store

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

  # The write credential: made by start, the owner's alone.
  cred=$GLOMERS_CACHE_DIR/credential
  if [ "$(stat -c %a "$cred" 2>/dev/null)" = 600 ] && [[ $(cat "$cred") =~ ^[0-9a-f]{64}$ ]]; then ok "credential made, mode 600"; else bad "credential made, mode 600" "$(ls -l "$cred" 2>&1)"; fi
  token=$(cat "$cred")
  if "${OTHER[@]}" cat "$cred" >/dev/null 2>&1; then bad "another uid cannot read the credential" "it can"; else ok "another uid cannot read the credential"; fi
  if "${OTHER[@]}" cat "$GLOMERS_CACHE_DIR/run/nginx.conf" >/dev/null 2>&1; then bad "another uid cannot read the config" "it can"; else ok "another uid cannot read the config"; fi

  # Bazel's protocol: GET of a missing entry is 404, PUT stores, GET returns it.
  digest=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  status_is "GET missing entry 404" 404 "$(http GET "/cas/$digest")"
  status_is "PUT without the credential refused" 403 "$(http PUT "/cas/$digest" "forged")"
  status_is "PUT with a wrong credential refused" 403 "$(CACHE_AUTH=$(printf '%064d' 1) http PUT "/cas/$digest" "forged")"
  status_is "refused PUT stores nothing" 404 "$(http GET "/cas/$digest")"
  status_is "PUT entry with the credential" "20[14]" "$(CACHE_AUTH=$token http PUT "/cas/$digest" "some output")"
  r=$(other_http GET "/cas/$digest")
  if [ "$r" = $'200\nsome output' ]; then ok "GET stored entry (another uid)"; else bad "GET stored entry (another uid)" "$r"; fi
  r=$(http DELETE "/cas/$digest")
  if [[ $(head -1 <<<"$r") == 40[35] ]]; then ok "DELETE refused"; else bad "DELETE refused" "$r"; fi

  # Another uid cannot replace an action result, nor write anywhere else.
  ac=/ac/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
  CACHE_AUTH=$token http PUT "$ac" "owner's result" >/dev/null
  status_is "another uid cannot overwrite an action result" 403 "$(other_http PUT "$ac" "evil")"
  r=$(other_http GET "$ac")
  if [ "$r" = $'200\nowner\'s result' ]; then ok "action result unchanged"; else bad "action result unchanged" "$r"; fi
  status_is "PUT outside ac/ and cas/ refused" 404 "$(CACHE_AUTH=$token http PUT /x "x")"
  status_is "PUT below an entry path refused" 404 "$(CACHE_AUTH=$token http PUT "/ac/sub/dir/x" "x")"
  status_is "PUT of a name that is not a digest refused" 404 "$(CACHE_AUTH=$token http PUT "/cas/0123" "x")"
  status_is "staging directory not served" 404 "$(http GET /.upload/0000000001)"
  status_is "run directory not served" "40[04]" "$(http GET /../run/nginx.conf)"

  # An upload in progress is staged outside the served tree and invisible until complete.
  slow=/cas/1111111111111111111111111111111111111111111111111111111111111111
  "$py" - "$GLOMERS_CACHE_PORT" "$slow" "$token" >"$tmp/slow.out" 2>&1 <<'PY' &
import socket, sys, time
port, path, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
# Larger than nginx's in-memory body buffer, so that it goes to a temp file.
s.sendall(("PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 65536\r\n\r\n" % (path, token)).encode() + b"h" * 32768)
print("sent half", flush=True)
time.sleep(1.5)
s.sendall(b"d" * 32768)
print(s.recv(100).decode().split("\r\n")[0], flush=True)
PY
  slowpid=$!
  for _ in $(seq 50); do grep -q "sent half" "$tmp/slow.out" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
  status_is "upload in progress is not readable" 404 "$(http GET "$slow")"
  if [ ! -e "$GLOMERS_CACHE_DIR/data$slow" ] &&
    [ -n "$(find "$GLOMERS_CACHE_DIR/run/upload" -type f 2>/dev/null)" ]; then
    ok "upload staged outside the served tree"
  else
    bad "upload staged outside the served tree" "data: $(find "$GLOMERS_CACHE_DIR/data" -type f | tr '\n' ' '); staging: $(find "$GLOMERS_CACHE_DIR/run/upload" -type f | tr '\n' ' ')"
  fi
  wait "$slowpid"
  r=$(http GET "$slow" | md5sum)
  if [ "$r" = "$( (echo 200; head -c 32768 /dev/zero | tr '\0' h; head -c 32768 /dev/zero | tr '\0' d) | md5sum)" ]; then ok "upload readable once complete"; else bad "upload readable once complete" "$r"; fi

  out=$("$cache" status 2>&1)
  if [ $? = 0 ] && [[ $out == *"running"*"3 entries"* ]]; then ok "status when running"; else bad "status when running" "$out"; fi

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
  if [ "$(cat "$cred")" = "$token" ]; then ok "credential kept across restart"; else bad "credential kept across restart" "changed"; fi

  # Connections that send half a request header and stop (3000 from another uid, six
  # times what an older config allowed in all) do not lock out a client that sends a
  # whole request. (nginx reuses connections that sent nothing at all by itself.)
  "${OTHER[@]}" "$py" - "$GLOMERS_CACHE_PORT" >"$tmp/idle.out" 2>&1 <<'PY' &
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (3500, 3500))
socks = []
try:
    for _ in range(3000):
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
        c.sendall(b"GET /cas/0 HTTP/1.1\r\nHost: x\r\n")
        socks.append(c)
finally:
    print("open", len(socks), flush=True)
time.sleep(4)
PY
  idlepid=$!
  for _ in $(seq 200); do grep -q "open" "$tmp/idle.out" 2>/dev/null && break; sleep 0.1; done
  r=$(http GET "/cas/$digest" 2>&1)
  if grep -q "open 3000" "$tmp/idle.out" && [ "$r" = $'200\nsome output' ]; then
    ok "3000 half-open connections of another uid lock nobody out"
  else
    bad "3000 half-open connections of another uid lock nobody out" "$(head -c 300 "$tmp/idle.out") / $(head -c 200 <<<"$r")"
  fi
  kill "$idlepid" 2>/dev/null
  wait "$idlepid" 2>/dev/null
  "$cache" stop >/dev/null 2>&1

  # Bounded entries and requests per client address; reads behind the credential.
  GLOMERS_CACHE_MAX_ENTRY=1k GLOMERS_CACHE_CONNS_PER_CLIENT=2 GLOMERS_CACHE_READ=credential "$cache" start >/dev/null 2>&1
  big=$(head -c 2048 /dev/zero | tr '\0' x)
  status_is "entry over GLOMERS_CACHE_MAX_ENTRY refused" 413 "$(CACHE_AUTH=$token http PUT /cas/2222222222222222222222222222222222222222222222222222222222222222 "$big")"
  status_is "read without the credential refused (READ=credential)" 403 "$(http GET "/cas/$digest")"
  r=$(CACHE_AUTH=$token http GET "/cas/$digest")
  if [ "$r" = $'200\nsome output' ]; then ok "read with the credential (READ=credential)"; else bad "read with the credential (READ=credential)" "$r"; fi
  # Two uploads in progress take this address's two requests; a third is turned away.
  "$py" - "$GLOMERS_CACHE_PORT" "$token" >"$tmp/hold.out" 2>&1 <<'PY' &
import socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
held = []
for i in range(2):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("PUT /cas/%064d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 10\r\n\r\nx" % (i, token)).encode())
    held.append(s)
print("holding", flush=True)
time.sleep(3)
PY
  holdpid=$!
  for _ in $(seq 50); do grep -q holding "$tmp/hold.out" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
  status_is "requests over the per-client limit refused" 503 "$(CACHE_AUTH=$token http GET "/cas/$digest")"
  kill "$holdpid" 2>/dev/null
  wait "$holdpid" 2>/dev/null
  sleep 0.3
  status_is "served again once the client's requests end" 200 "$(CACHE_AUTH=$token http GET "/cas/$digest")"
  "$cache" stop >/dev/null 2>&1

  # Bazel through tools/bazel: the wrapper hands the owner's credential to the build's
  # credential helper, and the cache takes Bazel's uploads. A new nonce makes the probe
  # a new action (so it runs and uploads) whatever was built before.
  if [ "${GLOMERS_CACHE_TEST_BAZEL:-1}" = 0 ]; then
    skip "Bazel uploads with the credential" "GLOMERS_CACHE_TEST_BAZEL=0"
  elif [ "$EUID" != 0 ] || ! "$here/../bazel" --print-root >/dev/null 2>&1; then
    skip "Bazel uploads with the credential" "needs root and a provisioned toolchain (tools/bazel --provision)"
  else
    "$cache" start >/dev/null 2>&1
    before=$(find "$GLOMERS_CACHE_DIR/data/ac" -type f | wc -l)
    logged=$(wc -l <"$GLOMERS_CACHE_DIR/run/access.log")
    if out=$(cd "$here/../.." && GLOMERS_CACHE_CREDENTIAL=$cred tools/bazel build --config=cache \
      --remote_cache="http://127.0.0.1:$GLOMERS_CACHE_PORT" --define=GLOMERS_CACHE_PROBE="$RANDOM$RANDOM$$" \
      //tools/cache:cache_probe 2>&1); then
      after=$(find "$GLOMERS_CACHE_DIR/data/ac" -type f | wc -l)
      refused=$(tail -n +$((logged + 1)) "$GLOMERS_CACHE_DIR/run/access.log" | grep -c '" 403 ')
      if [ "$after" -gt "$before" ] && [ "$refused" = 0 ]; then
        ok "Bazel uploads with the credential ($((after - before)) action results)"
      else
        bad "Bazel uploads with the credential" "action results $before -> $after; $refused uploads refused"
      fi
    else
      bad "Bazel uploads with the credential" "$(tail -3 <<<"$out")"
    fi
    "$cache" stop >/dev/null 2>&1
  fi

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
