#!/bin/bash
# A Bazel remote cache on this machine: Debian's nginx serving a directory over HTTP,
# with WebDAV PUT for uploads (Bazel's HTTP cache protocol is GET and PUT of
# /ac/<digest> and /cas/<digest>). Bazel uses it with --config=cache (.bazelrc).
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
DATA=$DIR/data # the entries: ac/ and cas/, as Bazel names them
RUN=$DIR/run   # nginx's config, pid file, logs and upload temp files
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

write_config() {
  local user_line=""
  # Started as root, nginx runs its workers (which write the entries) as nobody: they
  # get the directories they write to. As any other user, they run as that user.
  if [ "$EUID" = 0 ]; then
    user_line="user nobody nogroup;"
    chown nobody:nogroup "$DATA" "$DATA/.upload" "$RUN/tmp" || die "cannot hand $DATA to nobody"
    runuser -u nobody -- test -w "$DATA" -a -x "$DATA" 2>/dev/null ||
      die "nginx's workers (user nobody) cannot reach $DATA: let others search its parent directories (chmod o+x) or set GLOMERS_CACHE_DIR elsewhere"
  fi
  cat >"$RUN/nginx.conf" <<EOF
# Written by tools/cache/cache.sh on every start; edits are lost.
$user_line
worker_processes 1;
pid $PIDFILE;
error_log $RUN/error.log warn;
events { worker_connections 512; }
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
    server {
        listen $LISTEN:$PORT;
        root $DATA;
        # Bazel uploads whole outputs: a Go SDK archive is over 100 MB.
        client_max_body_size 0;
        location / {
            # GET and HEAD read an entry; PUT writes one. DELETE, MKCOL, COPY and
            # MOVE stay off: a client cannot remove or rename what others use.
            dav_methods PUT;
            # PUT /cas/<digest> creates cas/ on first use.
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            # Uploads land in a temp file on the same file system as the entries
            # and are renamed into place, so a reader never sees half an entry.
            client_body_temp_path $DATA/.upload;
        }
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
  [[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] ||
    die "GLOMERS_CACHE_PORT=$PORT is not a port number"
  if port_taken; then
    die "port $PORT on $LISTEN is taken by another program; pick another with GLOMERS_CACHE_PORT=N (and the same port in --remote_cache)"
  fi
  mkdir -p "$DATA/.upload" "$RUN/tmp" || die "cannot create $DIR"
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
  entries=$(find "$DATA" -path "$DATA/.upload" -prune -o -type f -print 2>/dev/null | wc -l) || entries=?
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
