# Real-registry harness for ferry's system tests (bats helper library).
#
# Starts CNCF Distribution (Debian's docker-registry) and, for token auth,
# tests/system/token_issuer.py, on free 127.0.0.1 ports. Call the start
# functions from setup_file and stop_registries from teardown_file:
#
#   load registry
#   setup_file() {
#     start_registry reg --delete --no-wait
#     start_registry sec --tls --htpasswd alice:secret --no-wait
#     start_registry tok --token --token-user alice:secret:pull,push --anonymous-pull --no-wait
#     wait_registries           # the three start in parallel
#   }
#   teardown_file() { stop_registries; }
#
# start_registry NAME [options] exports, with NAME upper-cased and every
# non-alphanumeric character turned into '_' (with --no-wait, final only
# after wait_registries: a registry or issuer that lost its port to another
# process in the meantime is restarted on a new one; so start a --proxy-to
# upstream without --no-wait):
#   NAME_ADDR        127.0.0.1:PORT
#   NAME_URL         http://127.0.0.1:PORT or https://...
#   NAME_DIR         state directory ($BATS_FILE_TMPDIR/NAME): config.yml,
#                    storage/, registry.log
#   NAME_LOG         the registry's log (warnings plus the access log)
#   NAME_CREDS       first user:pass given (--htpasswd / --token-user), if any
#   NAME_CA          --tls: the CA certificate (ca.crt path)
#   NAME_CERTS_DIR   --tls: a certs.d-style directory holding ca.crt
#   NAME_TOKEN_URL   --token: the issuer's realm (http://127.0.0.1:PORT/token)
#   NAME_TOKEN_LOG   --token: the issuer's request log (JSON lines)
#
# Options:
#   --tls                      serve HTTPS with a cert for 127.0.0.1/localhost
#                              signed by a per-file CA
#   --htpasswd USER:PASS       Basic auth (repeatable); Distribution 2.8
#                              accepts it over plain HTTP too
#   --token                    token auth via a fresh token_issuer.py
#   --token-user NAME:PASS:ACTIONS[:REPO_GLOB]   issuer user (repeatable;
#                              ACTIONS: pull,push,delete,catalog or *)
#   --anonymous-pull           issuer grants pull to anonymous requests
#   --delete                   storage.delete.enabled
#   --proxy-to URL             pull-through cache of URL (read-only mirror;
#                              trusts this file's CA for an https:// URL).
#                              Distribution reads the upstream's challenge at
#                              startup: start the upstream first, without
#                              --no-wait
#   --proxy-creds USER:PASS    credentials the mirror uses upstream; 2.8 only
#                              sends them to a token (bearer) upstream, not
#                              to an htpasswd one
#   --no-wait                  return once spawned; wait_registries waits
#
# Other helpers:
#   wait_registries            wait for every --no-wait start (fails with logs)
#   stop_registries            for teardown_file: TERM then KILL all of them
#   stop_registry NAME / restart_registry NAME   take one registry down and
#                              bring it back (same port, config and storage)
#   registry_processes_left    prints survivors; succeeds if there are any
#   registry_log NAME          the registry's log, then its issuer's
#   registry_addr NAME         127.0.0.1:PORT (exports made inside a test die
#                              with it; later tests can ask this instead)
#   registry_tls_flags NAME [src|dest]   --[dest-]cert-dir DIR or
#                              --[dest-]tls-verify=false, for skopeo/ferry
#   push_sample NAME REPO:TAG [--creds U:P|--no-creds] [--src REF] [-- FLAGS]
#                              push with skopeo (sample image by default)
#   sample_image_ref           oci:PATH:latest of the sample image (built once)
#   free_port                  a free 127.0.0.1 port
#
# Every process started is recorded in $BATS_FILE_TMPDIR/registry-harness/pids
# and killed by stop_registries. They also get PR_SET_PDEATHSIG (setpriv), so
# they die with the shell that started them even if bats itself is killed:
# start registries from setup_file, not from inside a test (or from a
# command substitution), or they die when that process ends. Nothing
# listens on a non-loopback address.

if [ -z "${REGISTRY_HARNESS_SRC:-}" ]; then
  case ${BASH_SOURCE[0]} in
    /*/*) REGISTRY_HARNESS_SRC=${BASH_SOURCE[0]%/*} ;;
    *) REGISTRY_HARNESS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) ;;
  esac
fi
FERRY_SRC=${FERRY_SRC:-$(cd "$REGISTRY_HARNESS_SRC/../.." && pwd)}
REGISTRY_START_TIMEOUT=${REGISTRY_START_TIMEOUT:-20}
# Debian's own python3 when present: a pyenv shim first in PATH costs ~1 s
# per call, which adds up over the ports and issuers of a test file.
if [ -z "${RH_PYTHON:-}" ]; then
  if [ -x /usr/bin/python3 ]; then RH_PYTHON=/usr/bin/python3; else RH_PYTHON=python3; fi
fi

# free_port: a TCP port on 127.0.0.1 the kernel just handed out. Another
# process could take it before the registry binds it; the wait retries then.
# Inside bats, ports come from a per-file pool filled 8 at a time, since
# starting python is the slowest part of starting a registry.
free_port() {
  _rh_free_port && echo "$RH_FREE_PORT"
}

_rh_free_port() {  # sets RH_FREE_PORT (no subshell on a pool hit)
  local pool="" ports n=1
  local -a left=()
  if [ -n "${BATS_FILE_TMPDIR:-}" ]; then
    _rh_home; mkdir -p "$RH_H"; pool=$RH_H/port-pool; n=8
    [ -s "$pool" ] && mapfile -t left <"$pool"
  fi
  if [ ${#left[@]} -eq 0 ] || [ -z "${left[0]}" ]; then
    # Bind them all at once so they differ, then let them go.
    ports=$("$RH_PYTHON" -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in socks))' "$n") || return 1
    mapfile -t left <<<"$ports"
  fi
  RH_FREE_PORT=${left[0]}
  if [ -n "$pool" ]; then
    if [ ${#left[@]} -gt 1 ]; then printf '%s\n' "${left[@]:1}" >"$pool"; else : >"$pool"; fi
  fi
  [ -n "$RH_FREE_PORT" ]
}

# Helpers return results in globals (RH_H, RS_*, RH_FREE_PORT) rather
# than on stdout: on a loaded machine every $(...) fork costs tens of ms,
# and a spawn inside a command substitution would run in a subshell whose
# exit fires the child's parent-death signal.

# _rh_home: RH_H = this file's shared harness directory (CA, pids, sample).
_rh_home() {
  RH_H=${BATS_FILE_TMPDIR:?registry.bash needs BATS_FILE_TMPDIR (call from bats)}/registry-harness
}

# _rh_load_state NAME|DIR: RS_var, RS_scheme, RS_tls, RS_creds, RS_ca, RS_addr
# from the state start_registry recorded.
_rh_load_state() {
  local f=$1/harness.state k v
  [[ $1 == */* ]] || f=${BATS_FILE_TMPDIR:?}/$1/harness.state
  [ -f "$f" ] || { echo "registry '$1' was not started by start_registry" >&2; return 1; }
  RS_var="" RS_scheme="" RS_tls="" RS_creds="" RS_ca="" RS_addr=""
  while IFS='=' read -r k v; do
    case $k in
      var|scheme|tls|creds|ca|addr) printf -v "RS_$k" '%s' "$v" ;;
    esac
  done <"$f"
}

# _rh_probe URL CAFILE ID: succeeds if URL answers 200 or 401 with the
# X-Ferry-Registry-Id header ID. The header proves the answer comes from
# the registry just started, not from whoever else holds the port it was
# about to bind (which it will then fail to do).
_rh_probe() {
  local out
  if command -v curl >/dev/null 2>&1; then
    out=$(curl -s -o /dev/null -D - -m 2 ${2:+--cacert "$2"} "$1") || return 1
  else
    out=$("$RH_PYTHON" - "$1" "${2:-}" <<'EOF'
import ssl, sys, urllib.request, urllib.error
ctx = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[2] else None
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=2, context=ctx)
except urllib.error.HTTPError as e:
    r = e
except Exception:
    sys.exit(1)
print("HTTP/1.1 %d" % r.status)
for k, v in r.headers.items():
    print("%s: %s" % (k, v))
EOF
    ) || return 1
  fi
  out=${out,,}
  [[ $out =~ ^http/[0-9.]+\ (200|401) ]] && [[ $out == *"x-ferry-registry-id: ${3,,}"* ]]
}

# _rh_spawn DIR PIDFILE LOG KIND CMD... : start CMD in the background,
# detached from bats' output fds (bats waits for anything holding fd 3), with
# a clean environment (Distribution reads REGISTRY_* overrides from it), and
# record its pid. CMD's arguments must mention DIR/: that is how _rh_alive
# tells our process from an unrelated one that reused its pid.
#
# Its life is tied to the bats-exec-file process (the "owner"), which
# outlives every test of the file: when that is the caller (setup_file),
# by PR_SET_PDEATHSIG; when the caller is a test (its process ends with the
# test), by a watchdog that polls the owner. With RH_DETACH=1 it gets its
# own session instead, so it outlives the calling script.
_rh_spawn() {
  local dir=$1 pidfile=$2 log=$3 kind=$4; shift 4
  local -a envv=(env -i PATH="$PATH" HOME="${HOME:-/tmp}")
  [ -n "${RH_SSL_CERT_FILE:-}" ] && envv+=(SSL_CERT_FILE="$RH_SSL_CERT_FILE")
  local owner=""
  if [ "${RH_DETACH:-0}" != 1 ] && [ -n "${BATS_FILE_TMPDIR:-}" ]; then
    # setup_file/teardown_file run in bats-exec-file itself; a test runs
    # in a child of it.
    if [ -z "${BATS_TEST_NAME:-}" ]; then owner=$$; else owner=$PPID; fi
  fi
  if [ "${RH_DETACH:-0}" = 1 ]; then
    # Not a process-group leader (no job control here), so setsid execs
    # in place rather than forking and $! stays the server's pid.
    setsid "${envv[@]}" "$@" </dev/null >>"$log" 2>&1 3>&- &
  elif [ -z "$owner" ] || [ "$BASHPID" = "$owner" ]; then
    setpriv --pdeathsig KILL -- "${envv[@]}" "$@" </dev/null >>"$log" 2>&1 3>&- &
  else
    "${envv[@]}" "$@" </dev/null >>"$log" 2>&1 3>&- &
  fi
  local pid=$!
  disown "$pid" 2>/dev/null || true
  echo "$pid" >"$pidfile"
  [ -n "$owner" ] || return 0
  _rh_home
  echo "$pid $dir $kind" >>"$RH_H/pids"
  if [ "$BASHPID" != "$owner" ]; then
    # Waits without a sleep child (read -t on a pipe nobody writes), so
    # TERM from stop_registries leaves nothing behind.
    bash -c 'exec {fd}<> <(:)
      while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do read -r -t 1 -u "$fd"; done
      kill -0 "$1" 2>/dev/null || kill -TERM "$2" 2>/dev/null' \
      ferry-registry-watchdog "$owner" "$pid" "$dir/" </dev/null >/dev/null 2>&1 3>&- &
    echo "$! $dir watchdog" >>"$RH_H/pids"
    disown "$!" 2>/dev/null || true
  fi
}

# _rh_alive PID DIR: PID is running and is ours (its command line names
# DIR/; a zombie's is empty). No subprocesses: this runs in polling loops.
_rh_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local -a argv=()
  mapfile -d '' argv 2>/dev/null <"/proc/$1/cmdline" || return 1
  [[ " ${argv[*]} " == *"$2/"* ]]
}

# _rh_kill PID DIR: TERM, wait up to 5 s, then KILL; only if _rh_alive.
# Returns 1 if it survives.
_rh_kill() {
  local pid=$1 dir=$2 i
  _rh_alive "$pid" "$dir" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    _rh_alive "$pid" "$dir" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
  ! _rh_alive "$pid" "$dir"
}

_rh_openssl() {  # ERRFILE ARGS...: openssl, its stderr shown on failure
  local err=$1; shift
  openssl "$@" 2>"$err" || { echo "openssl $1 failed:" >&2; cat "$err" >&2; return 1; }
}

# _rh_ensure_tls: per bats file, an EC P-256 CA (1 day) and one server
# certificate for 127.0.0.1 and localhost that every --tls registry shares
# (they all live on those names).
_rh_ensure_tls() {
  _rh_home
  local h=$RH_H serial
  [ -f "$h/server.crt" ] && return 0
  printf -v serial '%08x' "$SRANDOM" "$SRANDOM"
  cat >"$h/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = ferry test CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
  cat >"$h/server.ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
EOF
  _rh_openssl "$h/openssl.err" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$h/ca.key" -out "$h/ca.crt" -days 1 -config "$h/ca.cnf" &&
  _rh_openssl "$h/openssl.err" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$h/server.key" -out "$h/server.csr" -subj "/CN=127.0.0.1" &&
  _rh_openssl "$h/openssl.err" x509 -req -in "$h/server.csr" -CA "$h/ca.crt" -CAkey "$h/ca.key" \
    -set_serial "0x$serial" -days 1 -extfile "$h/server.ext" \
    -out "$h/server.crt.tmp" &&
  mv "$h/server.crt.tmp" "$h/server.crt"
}

# _rh_ensure_token_key: the issuers' signing key and self-signed cert (the
# registries' rootcertbundle), one per bats file.
_rh_ensure_token_key() {
  _rh_home
  local h=$RH_H
  [ -f "$h/token.crt" ] && return 0
  cat >"$h/token.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3
[dn]
CN = ferry-test-issuer
[v3]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
EOF
  _rh_openssl "$h/openssl.err" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$h/token.key" -out "$h/token.crt.tmp" -days 1 -config "$h/token.cnf" &&
  mv "$h/token.crt.tmp" "$h/token.crt"
}

# _rh_start_issuer DIR ARGS...: start token_issuer.py on a free port (in
# DIR/issuer.assigned). It writes DIR/issuer.port once listening, which
# _rh_wait_issuer waits for. ARGS are kept for restarts.
_rh_start_issuer() {
  local d=$1; shift
  if [ $# -gt 0 ]; then printf '%s\0' "$@" >"$d/issuer.args"; else : >"$d/issuer.args"; fi
  _rh_spawn_issuer "$d"
}

_rh_spawn_issuer() {  # DIR
  local d=$1
  local -a args=()
  mapfile -d '' args <"$d/issuer.args"
  _rh_home
  _rh_free_port || return 1
  echo "$RH_FREE_PORT" >"$d/issuer.assigned"
  rm -f "$d/issuer.port"
  _rh_spawn "$d" "$d/issuer.pid" "$d/issuer.stderr" token-issuer \
    "$RH_PYTHON" "$REGISTRY_HARNESS_SRC/token_issuer.py" --key "$RH_H/token.key" \
    --cert "$RH_H/token.crt" --log "$d/token.log" --port "$RH_FREE_PORT" \
    --port-file "$d/issuer.port" "${args[@]}"
}

# _rh_wait_issuer DIR: wait until the issuer listens. If its port was
# taken meanwhile, start it on another and restart the registry (already
# running with the old realm) with the realm edited in its config.
_rh_wait_issuer() {
  local d=$1 attempt i pid old new c
  for attempt in 1 2 3; do
    read -r pid <"$d/issuer.pid"
    for ((i = 0; i < REGISTRY_START_TIMEOUT * 10; i++)); do
      [ -s "$d/issuer.port" ] && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null || ! grep -qi "address already in use" "$d/issuer.stderr" || [ $attempt = 3 ]; then
      break
    fi
    read -r old <"$d/issuer.assigned"
    _rh_spawn_issuer "$d" || return 1
    read -r new <"$d/issuer.assigned"
    c=$(<"$d/config.yml")
    printf '%s\n' "${c/realm: http:\/\/127.0.0.1:$old\//realm: http://127.0.0.1:$new/}" >"$d/config.yml"
    read -r pid <"$d/registry.pid"
    _rh_kill "$pid" "$d" || return 1
    _rh_spawn "$d" "$d/registry.pid" "$d/registry.log" docker-registry \
      docker-registry serve "$d/config.yml"
  done
  echo "token issuer for $d did not start; its stderr:" >&2
  cat "$d/issuer.stderr" >&2
  _rh_kill "$pid" "$d"
  return 1
}

# _rh_write_config DIR PORT: config.yml from the RH_* settings.
_rh_write_config() {
  local d=$1 port=$2 secret id delete=false c
  printf -v secret '%08x' "$SRANDOM" "$SRANDOM" "$SRANDOM" "$SRANDOM"
  printf -v id '%08x' "$SRANDOM" "$SRANDOM"
  echo "$id" >"$d/id"
  [ "$RH_DELETE" = 1 ] && delete=true
  c="version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: $d/storage
  delete:
    enabled: $delete
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: $secret
  headers:
    X-Content-Type-Options: [nosniff]
    X-Ferry-Registry-Id: [$id]
"
  if [ "$RH_TLS" = 1 ]; then
    c+="  tls:
    certificate: $RH_TLS_DIR/server.crt
    key: $RH_TLS_DIR/server.key
"
  fi
  if [ -n "$RH_HTPASSWD_FILE" ]; then
    c+="auth:
  htpasswd:
    realm: ferry-test-registry
    path: $RH_HTPASSWD_FILE
"
  elif [ -n "$RH_TOKEN_REALM" ]; then
    c+="auth:
  token:
    realm: $RH_TOKEN_REALM
    service: ferry-test-registry
    issuer: ferry-test-issuer
    rootcertbundle: $RH_TOKEN_CERT
"
  fi
  if [ -n "$RH_PROXY" ]; then
    c+="proxy:
  remoteurl: $RH_PROXY
"
    if [ -n "$RH_PROXY_CREDS" ]; then
      c+="  username: ${RH_PROXY_CREDS%%:*}
  password: ${RH_PROXY_CREDS#*:}
"
    fi
  fi
  c+="health:
  storagedriver:
    enabled: false
"
  printf '%s' "$c" >"$d/config.yml"
}

# _rh_spawn_registry DIR: start docker-registry with DIR/config.yml.
_rh_spawn_registry() {
  _rh_spawn "$1" "$1/registry.pid" "$1/registry.log" docker-registry \
    docker-registry serve "$1/config.yml"
}

# _rh_wait_registry DIR SCHEME CAFILE: wait for /v2/ to answer. If the
# registry lost its port to another process meanwhile, start it again on
# another (up to 3 times), editing only the port in its config. On success
# DIR/port holds the port.
_rh_wait_registry() {
  local d=$1 scheme=$2 ca=$3 attempt i pid port id c
  for attempt in 1 2 3; do
    read -r pid <"$d/registry.pid"; read -r port <"$d/port"; read -r id <"$d/id"
    for ((i = 0; i < REGISTRY_START_TIMEOUT * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      _rh_probe "$scheme://127.0.0.1:$port/v2/" "$ca" "$id" && return 0
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null || ! grep -q "address already in use" "$d/registry.log" || [ $attempt = 3 ]; then
      break
    fi
    _rh_free_port || return 1
    c=$(<"$d/config.yml")
    printf '%s\n' "${c/addr: 127.0.0.1:$port$'\n'/addr: 127.0.0.1:$RH_FREE_PORT$'\n'}" >"$d/config.yml"
    echo "$RH_FREE_PORT" >"$d/port"
    _rh_spawn_registry "$d"
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "docker-registry in $d did not answer on $scheme://127.0.0.1:$port/v2/ within ${REGISTRY_START_TIMEOUT}s; its log:" >&2
  else
    echo "docker-registry in $d exited during startup; its log:" >&2
  fi
  cat "$d/registry.log" >&2
  echo "--- $d/config.yml:" >&2
  cat "$d/config.yml" >&2
  _rh_kill "$pid" "$d" || true
  return 1
}

# _rh_publish DIR: export NAME_ADDR etc. for the registry in DIR (again
# after a restart on another port) and record the address in its state.
_rh_publish() {
  local d=$1 port iport
  _rh_load_state "$d" || return 1
  read -r port <"$d/port"
  export "${RS_var}_ADDR=127.0.0.1:$port" "${RS_var}_URL=$RS_scheme://127.0.0.1:$port" \
    "${RS_var}_DIR=$d" "${RS_var}_LOG=$d/registry.log" "${RS_var}_CREDS=$RS_creds"
  if [ -f "$d/issuer.assigned" ]; then
    read -r iport <"$d/issuer.assigned"
    export "${RS_var}_TOKEN_URL=http://127.0.0.1:$iport/token" "${RS_var}_TOKEN_LOG=$d/token.log"
  fi
  printf 'var=%s\nscheme=%s\ntls=%s\ncreds=%s\nca=%s\naddr=127.0.0.1:%s\n' \
    "$RS_var" "$RS_scheme" "$RS_tls" "$RS_creds" "$RS_ca" "$port" >"$d/harness.state"
}

start_registry() {
  local name=${1:?start_registry NAME [options]}; shift
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || { echo "start_registry: bad name '$name'" >&2; return 1; }
  local RH_TLS=0 RH_DELETE=0 RH_HTPASSWD_FILE="" RH_TOKEN_REALM="" RH_TOKEN_CERT=""
  local RH_PROXY="" RH_PROXY_CREDS="" RH_SSL_CERT_FILE="" RH_TLS_DIR=""
  local token=0 anon=0 creds="" wait=1 u
  local -a htusers=() tokusers=()
  while [ $# -gt 0 ]; do
    case $1 in
      --tls) RH_TLS=1 ;;
      --delete) RH_DELETE=1 ;;
      --htpasswd) htusers+=("${2:?--htpasswd USER:PASS}"); shift ;;
      --token) token=1 ;;
      --token-user) tokusers+=("${2:?--token-user NAME:PASS:ACTIONS[:GLOB]}"); shift ;;
      --anonymous-pull) anon=1 ;;
      --proxy-to) RH_PROXY=${2:?--proxy-to URL}; shift ;;
      --proxy-creds) RH_PROXY_CREDS=${2:?--proxy-creds USER:PASS}; shift ;;
      --no-wait) wait=0 ;;
      *) echo "start_registry: unknown option $1" >&2; return 1 ;;
    esac
    shift
  done
  if [ ${#htusers[@]} -gt 0 ] && [ $token = 1 ]; then
    echo "start_registry: --htpasswd and --token are exclusive" >&2; return 1
  fi
  if [ $token = 0 ] && { [ ${#tokusers[@]} -gt 0 ] || [ $anon = 1 ]; }; then
    echo "start_registry: --token-user/--anonymous-pull need --token" >&2; return 1
  fi

  local h d var scheme=http
  _rh_home; h=$RH_H; d=$BATS_FILE_TMPDIR/$name
  var=${name^^}; var=${var//[^A-Z0-9]/_}
  [ -e "$d/registry.pid" ] && { echo "start_registry: $name already started" >&2; return 1; }
  mkdir -p "$h" "$d/storage"

  if [ $RH_TLS = 1 ]; then
    _rh_ensure_tls || return 1
    RH_TLS_DIR=$h
    mkdir -p "$d/certs.d"
    cp "$h/ca.crt" "$d/certs.d/ca.crt"
    scheme=https
    export "${var}_CA=$h/ca.crt" "${var}_CERTS_DIR=$d/certs.d"
  fi
  # A mirror of one of our TLS registries has to trust the per-file CA.
  [ -f "$h/ca.crt" ] && [[ $RH_PROXY == https://* ]] && RH_SSL_CERT_FILE=$h/ca.crt

  if [ ${#htusers[@]} -gt 0 ]; then
    RH_HTPASSWD_FILE=$d/htpasswd
    : >"$RH_HTPASSWD_FILE"
    for u in "${htusers[@]}"; do
      htpasswd -B -b "$RH_HTPASSWD_FILE" "${u%%:*}" "${u#*:}" 2>/dev/null ||
        { echo "start_registry: htpasswd failed for ${u%%:*}" >&2; return 1; }
    done
    creds=${htusers[0]}
  fi

  if [ $token = 1 ]; then
    _rh_ensure_token_key || return 1
    RH_TOKEN_CERT=$h/token.crt
    local -a iargs=()
    for u in "${tokusers[@]}"; do iargs+=(--user "$u"); done
    [ $anon = 1 ] && iargs+=(--anonymous-pull)
    _rh_start_issuer "$d" "${iargs[@]}" || return 1
    read -r u <"$d/issuer.assigned"
    RH_TOKEN_REALM=http://127.0.0.1:$u/token
    if [ ${#tokusers[@]} -gt 0 ]; then
      u=${tokusers[0]}
      u=${u#*:}
      creds=${tokusers[0]%%:*}:${u%%:*}
    fi
  fi

  printf 'var=%s\nscheme=%s\ntls=%s\ncreds=%s\nca=%s\n' \
    "$var" "$scheme" "$RH_TLS" "$creds" "${RH_TLS_DIR:+$h/ca.crt}" >"$d/harness.state"
  _rh_free_port || return 1
  echo "$RH_FREE_PORT" >"$d/port"
  _rh_write_config "$d" "$RH_FREE_PORT"
  _rh_spawn_registry "$d"
  _rh_publish "$d"
  echo "$d" >>"$h/pending"
  [ $wait = 0 ] || wait_registries
}

# wait_registries: wait until every registry started with --no-wait answers
# (they come up in parallel); fails with the first failing one's log.
wait_registries() {
  local h d rc=0
  local -a dirs=()
  _rh_home; h=$RH_H
  [ -f "$h/pending" ] || return 0
  mapfile -t dirs <"$h/pending"
  for d in "${dirs[@]}"; do
    _rh_load_state "$d" || { rc=1; break; }
    if [ -f "$d/issuer.pid" ] && ! _rh_wait_issuer "$d"; then rc=1; break; fi
    if ! _rh_wait_registry "$d" "$RS_scheme" "$RS_ca"; then rc=1; break; fi
    # Ports may have changed on a restart.
    _rh_publish "$d"
  done
  rm -f "$h/pending"
  return $rc
}


# registry_log NAME: the registry's log, then the token issuer's if any.
registry_log() {
  local d=$BATS_FILE_TMPDIR/${1:?registry_log NAME}
  echo "=== registry $1 ($d/registry.log)"
  cat "$d/registry.log" 2>/dev/null || true
  if [ -f "$d/token.log" ]; then
    echo "=== token issuer for $1 ($d/token.log)"
    cat "$d/token.log"
  fi
}

# registry_addr NAME: 127.0.0.1:PORT of NAME (for a registry started in
# another test, whose exports that test's process took with it).
registry_addr() {
  _rh_load_state "${1:?registry_addr NAME}" && echo "$RS_addr"
}

# registry_tls_flags NAME [src|dest]: skopeo/ferry flags to reach NAME,
# e.g. `--dest-cert-dir DIR` for --tls registries, `--dest-tls-verify=false`
# for plain HTTP ones.
registry_tls_flags() {
  local name=${1:?registry_tls_flags NAME [src|dest]} p=${2:+$2-}
  _rh_load_state "$name" || return 1
  if [ "$RS_tls" = 1 ]; then
    echo "--${p}cert-dir $BATS_FILE_TMPDIR/$name/certs.d"
  else
    echo "--${p}tls-verify=false"
  fi
}

# sample_image_ref: builds (once per file) the sample image push_sample
# pushes, an OCI layout, and prints its reference (oci:PATH:latest).
sample_image_ref() {
  local h sample
  _rh_home; h=$RH_H; sample=$h/sample
  if [ ! -f "$sample/index.json" ]; then
    mkdir -p "$h"
    rm -rf "$sample.tmp"
    "$FERRY_SRC/scripts/make-sample-image.sh" "$sample.tmp" latest >/dev/null || return 1
    mv "$sample.tmp" "$sample"
  fi
  echo "oci:$sample:latest"
}

# push_sample NAME REPO:TAG [--creds USER:PASS | --no-creds] [--src REF]
#             [-- MORE SKOPEO COPY FLAGS]
# Pushes an image to registry NAME with skopeo: by default the sample image
# (sample_image_ref), with the registry's first configured user's
# credentials, and the TLS flags NAME needs. Fails like skopeo does.
push_sample() {
  local name=${1:?push_sample NAME REPO:TAG} ref=${2:?push_sample NAME REPO:TAG}; shift 2
  local creds src="" addr
  local -a tls
  _rh_load_state "$name" || return 1
  creds=$RS_creds addr=$RS_addr
  if [ "$RS_tls" = 1 ]; then
    tls=(--dest-cert-dir "$BATS_FILE_TMPDIR/$name/certs.d")
  else
    tls=(--dest-tls-verify=false)
  fi
  while [ $# -gt 0 ]; do
    case $1 in
      --creds) creds=${2:?--creds USER:PASS}; shift ;;
      --no-creds) creds="" ;;
      --src) src=${2:?--src REF}; shift ;;
      --) shift; break ;;
      *) echo "push_sample: unknown option $1" >&2; return 1 ;;
    esac
    shift
  done
  if [ -z "$src" ]; then
    src=$(sample_image_ref) || return 1
  fi
  skopeo --insecure-policy copy -q "${tls[@]}" \
    ${creds:+--dest-creds "$creds"} "$@" "$src" "docker://$addr/$ref"
}

# stop_registry NAME: stop just NAME's docker-registry (its token issuer and
# storage stay), e.g. to test how a client copes with a registry going away.
stop_registry() {
  local d=$BATS_FILE_TMPDIR/${1:?stop_registry NAME} pid
  [ -f "$d/registry.pid" ] || { echo "stop_registry: $1 was not started" >&2; return 1; }
  read -r pid <"$d/registry.pid"
  _rh_kill "$pid" "$d"
}

# restart_registry NAME: start a stopped NAME again with the same config,
# port and storage, and wait for it.
restart_registry() {
  local d=$BATS_FILE_TMPDIR/${1:?restart_registry NAME} pid
  [ -f "$d/registry.pid" ] || { echo "restart_registry: $1 was not started" >&2; return 1; }
  read -r pid <"$d/registry.pid"
  if _rh_alive "$pid" "$d"; then echo "restart_registry: $1 is running" >&2; return 1; fi
  _rh_load_state "$d" || return 1
  _rh_spawn_registry "$d"
  _rh_wait_registry "$d" "$RS_scheme" "$RS_ca" && _rh_publish "$d"
}

# stop_registries: kill everything start_registry started in this file
# (TERM to all at once, then KILL stragglers). Fails if any would not die.
stop_registries() {
  local h rc=0 pid dir kind line
  local -a lines=()
  _rh_home; h=$RH_H
  [ -f "$h/pids" ] || return 0
  mapfile -t lines <"$h/pids"
  for line in "${lines[@]}"; do
    read -r pid dir kind <<<"$line"
    if _rh_alive "$pid" "$dir"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for line in "${lines[@]}"; do
    read -r pid dir kind <<<"$line"
    if ! _rh_kill "$pid" "$dir"; then
      echo "stop_registries: $kind in $dir (pid $pid) survived SIGKILL" >&2
      rc=1
    fi
  done
  if [ $rc = 0 ]; then mv "$h/pids" "$h/pids.stopped"; fi
  return $rc
}

# registry_processes_left: prints (and succeeds if there are) processes
# still running from this file's registries, found by their state paths.
registry_processes_left() {
  pgrep -a -f "$BATS_FILE_TMPDIR/" | grep -E 'docker-registry|token_issuer|registry-watchdog' || return 1
}

# Counting requests in the access log of the registry named "reg" (REG_LOG):
# take log_lines before a command, then log_since counts the lines appended
# since then that match an extended regexp.
log_lines() { wc -l < "$REG_LOG"; }
log_since() {  # FIRST_LINE REGEX
  tail -n "+$1" "$REG_LOG" | grep -cE "$2" || true
}
