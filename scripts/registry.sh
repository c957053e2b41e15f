#!/usr/bin/env bash
# Starts and stops a plain local registry (Distribution, HTTP on a free
# 127.0.0.1 port, deletes enabled) for `make demo` and bench/.
#
#   registry.sh start DIR [--tls]   prints 127.0.0.1:PORT once /v2/ answers
#   registry.sh stop DIR    stops it (fine if it is not running)
#   registry.sh addr DIR    prints the address of the running registry
#
# --tls serves HTTPS with a certificate for 127.0.0.1 from a CA made for
# DIR; DIR/certs.d/ca.crt is that CA (a certs.d-style directory for
# --cert-dir).
#
# DIR holds everything: config.yml, storage/, registry.log, registry.pid,
# addr. `start` on a DIR whose registry is running just prints its address.
# The registry runs in its own session, so it outlives this script; always
# pair `start` with `stop` (e.g. in an EXIT trap).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REGISTRY_HARNESS_SRC=$here/../tests/system
# shellcheck source=tests/system/registry.bash
source "$REGISTRY_HARNESS_SRC/registry.bash"

usage() { echo "usage: $0 start DIR [--tls] | stop DIR | addr DIR" >&2; exit 2; }
tls=0
if [ $# -eq 3 ] && [ "$1" = start ] && [ "$3" = --tls ]; then tls=1; set -- "$1" "$2"; fi
[ $# -eq 2 ] || usage
cmd=$1
[ "$cmd" = start ] && mkdir -p "$2"
if [ ! -d "$2" ]; then
  [ "$cmd" = stop ] && exit 0
  echo "registry.sh: no registry in $2" >&2; exit 1
fi
dir=$(cd "$2" && pwd)

running() {
  [ -f "$dir/registry.pid" ] && _rh_alive "$(cat "$dir/registry.pid")" "$dir"
}

case $cmd in
  start)
    if running && [ -f "$dir/addr" ]; then cat "$dir/addr"; exit 0; fi
    rm -f "$dir/registry.pid" "$dir/addr"
    mkdir -p "$dir/storage"
    # Settings read by _rh_write_config/_rh_spawn (registry.bash).
    # shellcheck disable=SC2034
    RH_DETACH=1 RH_TLS=$tls RH_DELETE=1 RH_HTPASSWD_FILE="" RH_TOKEN_REALM="" RH_PROXY="" RH_PROXY_CREDS=""
    scheme=http ca=""
    if [ $tls = 1 ]; then
      # The harness keeps its CA under $BATS_FILE_TMPDIR; here that is DIR.
      RH_TLS_DIR=$dir/registry-harness
      mkdir -p "$RH_TLS_DIR"
      BATS_FILE_TMPDIR=$dir _rh_ensure_tls || exit 1
      mkdir -p "$dir/certs.d"
      cp "$RH_TLS_DIR/ca.crt" "$dir/certs.d/ca.crt"
      scheme=https ca=$dir/certs.d/ca.crt
    fi
    _rh_free_port || exit 1
    echo "$RH_FREE_PORT" >"$dir/port"
    _rh_write_config "$dir" "$RH_FREE_PORT"
    _rh_spawn_registry "$dir"
    _rh_wait_registry "$dir" $scheme "$ca" || exit 1
    echo "127.0.0.1:$(<"$dir/port")" >"$dir/addr"
    cat "$dir/addr"
    ;;
  stop)
    if [ -f "$dir/registry.pid" ]; then
      _rh_kill "$(cat "$dir/registry.pid")" "$dir" || { echo "registry.sh: registry in $dir would not stop" >&2; exit 1; }
    fi
    rm -f "$dir/registry.pid" "$dir/addr"
    ;;
  addr)
    if ! running || [ ! -f "$dir/addr" ]; then
      echo "registry.sh: no registry running in $dir" >&2; exit 1
    fi
    cat "$dir/addr"
    ;;
  *) usage ;;
esac
