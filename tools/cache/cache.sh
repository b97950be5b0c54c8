#!/bin/bash
# A Bazel remote cache on this machine: Debian's nginx serving a directory over HTTP,
# with WebDAV PUT for uploads (Bazel's HTTP cache protocol is GET and PUT of
# /ac/<digest> and /cas/<digest>). Bazel uses it with --config=cache (.bazelrc).
#
# Only the cache's owner writes: a PUT must carry the write credential, a random token
# that start writes to $DIR/credential (mode 0600, readable by the owner alone) and
# tools/bazel hands to Bazel's credential helper (tools/cache/credential_helper.sh). A
# writable action cache is code execution in every build that reads it, so nobody
# else on the machine (or the network) may write. Reads are open unless
# GLOMERS_CACHE_READ=credential. Only /ac/<sha256> and /cas/<sha256> exist; uploads
# are staged outside the served tree; entries, request headers and connections per
# client address are bounded.
#
#   tools/cache/cache.sh start    start the cache (a no-op when it runs already)
#   tools/cache/cache.sh status   say whether it runs, where, and how much it holds
#   tools/cache/cache.sh stop     stop it (the stored entries stay)
#
# Settings (environment):
#   GLOMERS_CACHE_PORT    port (default 9470)
#   GLOMERS_CACHE_LISTEN  address to listen on (default 127.0.0.1: this machine only;
#                         see docs/build-cache.md before opening it to a network)
#   GLOMERS_CACHE_DIR     where entries, config, pid file and logs live (default
#                         /var/cache/glomers-bazel-cache as root, else
#                         ${XDG_CACHE_HOME:-~/.cache}/glomers-bazel-cache)
#   GLOMERS_CACHE_READ    open (default): anyone who reaches the port reads;
#                         credential: reads need the credential too
#   GLOMERS_CACHE_MAX_ENTRY   largest upload nginx takes (default 2g: the Go SDK's
#                         archive is the largest output, ~0.2 GB)
#   GLOMERS_CACHE_CONNS_PER_CLIENT  requests in progress per client address
#                         (default 64; Bazel's --remote_max_connections is 100 by
#                         default, which .bazelrc lowers to 32 for --config=cache)
#   NGINX                 the nginx binary (default: nginx from PATH)
#
# Exit codes: 0 done (status: running), 1 error (one line on stderr), 3 status: not
# running.
set -euo pipefail

PORT=${GLOMERS_CACHE_PORT:-9470}
LISTEN=${GLOMERS_CACHE_LISTEN:-127.0.0.1}
if [ "$EUID" = 0 ]; then
  DIR=${GLOMERS_CACHE_DIR:-/var/cache/glomers-bazel-cache}
else
  DIR=${GLOMERS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/glomers-bazel-cache}
fi
READ=${GLOMERS_CACHE_READ:-open}
MAX_ENTRY=${GLOMERS_CACHE_MAX_ENTRY:-2g}
CONNS=${GLOMERS_CACHE_CONNS_PER_CLIENT:-64}
DATA=$DIR/data             # the entries: ac/ and cas/, as Bazel names them (served)
RUN=$DIR/run               # nginx's config, pid file, logs and temp files (not served)
STAGE=$RUN/upload          # uploads in progress, renamed into DATA when complete
CREDENTIAL=$DIR/credential # the write credential, the owner's alone
PIDFILE=$RUN/nginx.pid

die() {
  echo "cache: $*" >&2
  exit 1
}

usage() {
  echo "usage: tools/cache/cache.sh start|status|stop" >&2
  exit 1
}

# The master process's pid when our nginx runs, else nothing.
running_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # A stale pid file may name an unrelated process that reused the pid.
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nginx ] || return 1
  echo "$pid"
}

# Whether anything accepts connections on the port.
port_taken() {
  local host=$LISTEN
  [ "$host" = 0.0.0.0 ] && host=127.0.0.1
  (exec 3<>"/dev/tcp/$host/$PORT") 2>/dev/null
}

find_nginx() {
  local bin=${NGINX:-}
  if [ -z "$bin" ]; then
    bin=$(command -v nginx) ||
      die "nginx not found in PATH; install Debian's nginx (apt-get install nginx) or set NGINX=/path/to/nginx"
  fi
  [ -x "$bin" ] || die "NGINX=$bin is not an executable"
  # PUT comes from nginx's own WebDAV module, which Debian builds in; other builds may lack it.
  "$bin" -V 2>&1 | grep -q -- --with-http_dav_module ||
    die "$bin lacks the WebDAV module (http_dav_module) that uploads need; use Debian's nginx"
  echo "$bin"
}

check_settings() {
  [[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] ||
    die "GLOMERS_CACHE_PORT=$PORT is not a port number"
  [[ $READ == open || $READ == credential ]] ||
    die "GLOMERS_CACHE_READ=$READ: want open or credential"
  [[ $MAX_ENTRY =~ ^[0-9]+[kmg]?$ ]] && [[ ${MAX_ENTRY%[kmg]} != 0 ]] ||
    die "GLOMERS_CACHE_MAX_ENTRY=$MAX_ENTRY is not a size (e.g. 2g, 512m)"
  [[ $CONNS =~ ^[0-9]+$ ]] && [ "$CONNS" -ge 1 ] ||
    die "GLOMERS_CACHE_CONNS_PER_CLIENT=$CONNS is not a positive number"
}

# The write credential: 32 random bytes as hex, made once, readable by the owner only.
ensure_credential() {
  if [ ! -s "$CREDENTIAL" ]; then
    (umask 077 && od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$CREDENTIAL.tmp" &&
      mv "$CREDENTIAL.tmp" "$CREDENTIAL") || die "cannot write $CREDENTIAL"
  fi
  chmod 600 "$CREDENTIAL"
  [[ $(cat "$CREDENTIAL") =~ ^[0-9a-f]{64}$ ]] ||
    die "$CREDENTIAL is not a credential this script made; delete it to make a new one"
}

write_config() {
  local user_line="" token read_rule
  token=$(cat "$CREDENTIAL")
  # Started as root, nginx runs its workers (which write the entries) as nobody: they
  # get the directories they write to. As any other user, they run as that user.
  # RUN stays the owner's (the config holds the credential); the workers may only pass
  # through it to their temp directories.
  chmod 711 "$RUN"
  if [ "$EUID" = 0 ]; then
    user_line="user nobody nogroup;"
    chown nobody:nogroup "$DATA" "$STAGE" "$RUN/tmp" || die "cannot hand $DATA to nobody"
    runuser -u nobody -- test -w "$DATA" -a -x "$DATA" 2>/dev/null ||
      die "nginx's workers (user nobody) cannot reach $DATA: let others search its parent directories (chmod o+x) or set GLOMERS_CACHE_DIR elsewhere"
  fi
  read_rule='"~^(GET|HEAD):" 0;'
  if [ "$READ" = credential ]; then
    read_rule='"~^(GET|HEAD):" 1;
        "GET:Bearer '$token'" 0;
        "HEAD:Bearer '$token'" 0;'
  fi
  # The config holds the credential: the owner's alone, like the credential file.
  (umask 077 && : >"$RUN/nginx.conf") || die "cannot write $RUN/nginx.conf"
  cat >"$RUN/nginx.conf" <<EOF
# Written by tools/cache/cache.sh on every start; edits are lost.
$user_line
worker_processes 1;
# Connections idle before their request header are bounded by time (below) and in
# number only here, for all clients together: room for many more than Bazel opens.
worker_rlimit_nofile 20000;
pid $PIDFILE;
error_log $RUN/error.log warn;
events { worker_connections 8192; }
http {
    access_log $RUN/access.log;
    # Every temp path nginx knows, so that nothing is written outside $DIR.
    client_body_temp_path $RUN/tmp/body;
    proxy_temp_path $RUN/tmp/proxy;
    fastcgi_temp_path $RUN/tmp/fastcgi;
    uwsgi_temp_path $RUN/tmp/uwsgi;
    scgi_temp_path $RUN/tmp/scgi;
    types { }
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 100000;
    # A client that opens connections and sends nothing (or trickles) is cut off.
    client_header_timeout 10s;
    client_body_timeout 30s;
    send_timeout 30s;
    keepalive_timeout 30s;
    reset_timedout_connection on;
    large_client_header_buffers 4 8k;
    # Requests in progress per client address (a request counts once its header is in).
    limit_conn_zone \$binary_remote_addr zone=per_client:1m;
    limit_conn per_client $CONNS;
    limit_conn_status 503;
    # Who may do what: 0 allowed, 1 refused. Exact strings win over regular expressions;
    # a key holds the 64-digit credential.
    map_hash_bucket_size 256;
    map "\$request_method:\$http_authorization" \$cache_refused {
        default 1;
        $read_rule
        "PUT:Bearer $token" 0;
    }
    server {
        listen $LISTEN:$PORT;
        root $DATA;
        # The largest output Bazel uploads is the Go SDK's archive (~0.2 GB).
        client_max_body_size $MAX_ENTRY;
        # Only Bazel's two stores of sha256-named entries exist: nothing else can be
        # read or written, temp files and hidden paths included.
        location ~ "^/(ac|cas)/[0-9a-f]{64}\$" {
            if (\$cache_refused) { return 403; }
            # GET and HEAD read an entry; PUT writes one. DELETE, MKCOL, COPY and
            # MOVE stay off: a client cannot remove or rename what others use.
            dav_methods PUT;
            # PUT /cas/<digest> creates cas/ on first use.
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            # Uploads are staged outside the served tree on the same file system and
            # renamed into place when complete: no reader sees half an entry, and no
            # request can reach an upload in progress.
            client_body_temp_path $STAGE;
        }
        location / { return 404; }
    }
}
EOF
}

start() {
  local nginx pid err
  nginx=$(find_nginx)
  if pid=$(running_pid); then
    echo "cache: already running (pid $pid) at http://$LISTEN:$PORT, entries in $DATA"
    return 0
  fi
  check_settings
  if port_taken; then
    die "port $PORT on $LISTEN is taken by another program; pick another with GLOMERS_CACHE_PORT=N (and the same port in --remote_cache)"
  fi
  mkdir -p "$DATA" "$STAGE" "$RUN/tmp" || die "cannot create $DIR"
  # Older versions staged uploads inside the served tree.
  rm -rf "$DATA/.upload"
  ensure_credential
  write_config
  if ! err=$("$nginx" -e "$RUN/error.log" -p "$RUN" -c "$RUN/nginx.conf" 2>&1); then
    # nginx's last word (e.g. a port taken between the check and now); it retries a
    # bind five times, saying so each time.
    die "nginx did not start: $(tail -n 1 <<<"$err") (see $RUN/error.log)"
  fi
  for _ in $(seq 50); do
    pid=$(running_pid) && port_taken && break
    sleep 0.1
  done
  pid=$(running_pid) || die "nginx did not start; see $RUN/error.log"
  echo "cache: running (pid $pid) at http://$LISTEN:$PORT, entries in $DATA"
}

status() {
  local pid size entries
  if ! pid=$(running_pid); then
    echo "cache: not running (entries in $DATA)"
    return 3
  fi
  # ac/ and cas/ appear with the first upload.
  size=$(du -sh "$DATA" 2>/dev/null | cut -f1) || size=?
  entries=$(find "$DATA" -type f 2>/dev/null | wc -l) || entries=?
  echo "cache: running (pid $pid) at http://$LISTEN:$PORT, $entries entries ($size) in $DATA"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    echo "cache: not running"
    return 0
  fi
  # QUIT: finish the requests in flight (an upload is never cut short), then exit.
  kill -QUIT "$pid" || die "cannot signal nginx (pid $pid)"
  for _ in $(seq 100); do
    [ -d "/proc/$pid" ] || { echo "cache: stopped"; return 0; }
    sleep 0.1
  done
  die "nginx (pid $pid) is still running 10 s after QUIT; kill it with: kill $pid"
}

[ $# = 1 ] || usage
case $1 in
  start) start ;;
  status) status ;;
  stop) stop ;;
  *) usage ;;
esac
