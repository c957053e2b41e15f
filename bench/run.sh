#!/usr/bin/env bash
# ferry vs skopeo benchmark (see bench/README.md). One command, offline:
#
#   bench/run.sh [--runs N] [--scenario NAME]... [--ferry PATH] [--skopeo PATH]
#                [--wan-rate MBIT] [--wan-delay-ms MS] [--priority NICE] [--keep]
#
# Scenarios: r2r r2r-tls wan pull push copy-all zstd inspect inspect-tls
# inspect-wan (default: all), and on request chunked (zstd:chunked; skopeo
# needs minutes per run). Runs ferry and
# skopeo alternately, N times each (default 5), each run against a fresh
# destination with a fresh HOME and an empty blob-info cache, checks every
# result, and prints median wall time, CPU time and peak RSS per tool.
# Everything after the builds (registries, relays, both clients) runs at
# nice level NICE (default -5), so other work on the machine disturbs the
# figures less. Needs root (network namespace, private mounts for skopeo's cache).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
ALL_SCENARIOS=(r2r r2r-tls wan pull push copy-all zstd inspect inspect-tls inspect-wan)
EXTRA_SCENARIOS=(chunked)

runs=5 inspect_calls=20 ferry="" skopeo="" keep=0 wan_rate=500 wan_delay=10 prio=-5
scenarios=()
usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=${2:?}; shift ;;
    --scenario) IFS=', ' read -r -a more <<<"${2:?}"; scenarios+=("${more[@]}"); shift ;;
    --ferry) ferry=${2:?}; shift ;;
    --skopeo) skopeo=${2:?}; shift ;;
    --wan-rate) wan_rate=${2:?}; shift ;;
    --wan-delay-ms) wan_delay=${2:?}; shift ;;
    --priority) prio=${2:?}; shift ;;
    --keep) keep=1 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
  esac
  shift
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=("${ALL_SCENARIOS[@]}")
for s in "${scenarios[@]}"; do
  [[ " ${ALL_SCENARIOS[*]} ${EXTRA_SCENARIOS[*]} " == *" $s "* ]] ||
    { echo "run.sh: unknown scenario $s (${ALL_SCENARIOS[*]} ${EXTRA_SCENARIOS[*]})" >&2; exit 2; }
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs needs a positive number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespace, private mounts)" >&2; exit 1; }

log() { printf '%s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------
need_pkgs=()
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v zstd >/dev/null || need_pkgs+=(zstd)
command -v tc >/dev/null && command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v curl >/dev/null || need_pkgs+=(curl)
command -v docker-registry >/dev/null || need_pkgs+=(docker-registry)
command -v unshare >/dev/null || need_pkgs+=(util-linux)
[ -n "$skopeo" ] || command -v skopeo >/dev/null || need_pkgs+=(skopeo)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
# Debian's own python: a pyenv shim in PATH costs about a second per call.
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
skopeo=${skopeo:-$(command -v skopeo)}
if [ -z "$ferry" ]; then
  log "building ferry (make build)"
  make -C "$repo" build >&2
  ferry=$repo/build/ferry
fi
ferry=$(cd "$(dirname "$ferry")" && pwd)/$(basename "$ferry")
[ -x "$ferry" ] || { echo "run.sh: $ferry is not executable" >&2; exit 1; }

# --- images (built once, kept in bench/.cache) -----------------------------
images=$here/.cache/images
stamp=$(sha256sum "$here/make_images.py" | cut -c1-16)
if [ ! -f "$images/meta.json" ] || [ "$(cat "$images/builder" 2>/dev/null)" != "$stamp" ]; then
  log "building test images into $images (once; a few minutes)"
  mkdir -p "$here/.cache"
  nice $PY "$here/make_images.py" "$images"
  echo "$stamp" >"$images/builder"
fi
meta=$images/meta.json
renice -n "$prio" -p $$ >/dev/null

# --- work area: tmpfs when it has room, so disk speed stays out of it -------
base=${BENCH_TMP:-/dev/shm}
if [ -z "${BENCH_TMP:-}" ] && [ "$(df -Pk /dev/shm | awk 'NR==2{print $4}')" -lt $((4 * 1024 * 1024)) ]; then
  base=${TMPDIR:-/tmp}
fi
W=$(mktemp -d "$base/ferry-bench.XXXXXX")
out=$here/out/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out" "$W/logs" "$W/tmp"
ns="" relay_pids=()

cleanup() {
  set +e
  for p in "${relay_pids[@]}"; do kill "$p" 2>/dev/null; done
  for d in "$W"/src "$W"/dst "$W"/srctls "$W"/dsttls; do "$repo/scripts/registry.sh" stop "$d" >/dev/null 2>&1; done
  if [ -n "$ns" ]; then
    ip link del "fbh$$" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  fi
  if [ $keep = 1 ]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- registries --------------------------------------------------------------
SRC=$("$repo/scripts/registry.sh" start "$W/src")
log "source registry $SRC (storage on $(df -P "$W" | awk 'NR==2{print $1}'))"
"$skopeo" --insecure-policy copy -q --dest-tls-verify=false \
  "oci:$images/big:latest" "docker://$SRC/bench/big:latest" >&2
"$skopeo" --insecure-policy copy -q --all --dest-tls-verify=false \
  "oci:$images/multi:latest" "docker://$SRC/bench/multi:latest" >&2
$PY "$here/verify.py" "$meta" big same registry "$SRC" bench/big latest >/dev/null ||
  { echo "run.sh: the source registry does not hold the big image as built" >&2; exit 1; }
$PY "$here/verify.py" "$meta" multi same registry "$SRC" bench/multi latest >/dev/null ||
  { echo "run.sh: the source registry does not hold the multi-arch image as built" >&2; exit 1; }

DST=""
fresh_dst() {  # a new, empty destination registry; its address in $W/dst.addr
  "$repo/scripts/registry.sh" stop "$W/dst" >/dev/null
  rm -rf "$W/dst"
  DST=$("$repo/scripts/registry.sh" start "$W/dst")
  echo "$DST" >"$W/dst.addr"
}

# --- HTTPS registries (r2r-tls), each with a CA of its own --------------------
SRC_TLS="" DST_TLS=""
setup_tls() {
  SRC_TLS=$("$repo/scripts/registry.sh" start "$W/srctls" --tls)
  log "HTTPS source registry $SRC_TLS"
  "$skopeo" --insecure-policy copy -q --dest-cert-dir "$W/srctls/certs.d" \
    "oci:$images/big:latest" "docker://$SRC_TLS/bench/big:latest" >&2
  VERIFY_CAFILE=$W/srctls/certs.d/ca.crt $PY "$here/verify.py" "$meta" big same registry "https://$SRC_TLS" \
    bench/big latest >/dev/null ||
    { echo "run.sh: the HTTPS source registry does not hold the big image as built" >&2; exit 1; }
}
fresh_dst_tls() {
  "$repo/scripts/registry.sh" stop "$W/dsttls" >/dev/null
  rm -rf "$W/dsttls"
  DST_TLS=$("$repo/scripts/registry.sh" start "$W/dsttls" --tls)
}

# --- emulated wide-area link -------------------------------------------------
# The clients run in a network namespace of their own, joined to the host by
# a veth pair; HTB caps each direction at the link rate, and relay.py, on the
# host end, adds the one-way delay in front of each registry.
WAN_SRC="" WAN_DST="" wan_measured=""
setup_wan() {
  ns=ferry-bench-$$
  local h=fbh$$ n=fbn$$ net
  net=10.$((200 + RANDOM % 50)).$((RANDOM % 250)).
  ip netns add "$ns"
  ip link add "$h" type veth peer name "$n" netns "$ns"
  ip addr add "${net}1/30" dev "$h"
  ip link set "$h" up
  ip -n "$ns" addr add "${net}2/30" dev "$n"
  ip -n "$ns" link set "$n" up
  ip -n "$ns" link set lo up
  # HTB's default burst at this rate is one MTU, which under-delivers by a
  # few percent; 64 KB lets it hold the configured rate.
  tc qdisc add dev "$h" root handle 1: htb default 10
  tc class add dev "$h" parent 1: classid 1:10 htb rate "${wan_rate}mbit" ceil "${wan_rate}mbit" quantum 60000 burst 64k cburst 64k
  tc -n "$ns" qdisc add dev "$n" root handle 1: htb default 10
  tc -n "$ns" class add dev "$n" parent 1: classid 1:10 htb rate "${wan_rate}mbit" ceil "${wan_rate}mbit" quantum 60000 burst 64k cburst 64k
  echo "$SRC" >"$W/src.addr"
  local which
  for which in src dst; do
    rm -f "$W/relay-$which.ready"
    setsid $PY "$here/relay.py" --listen "${net}1:0" --target-file "$W/$which.addr" \
      --delay-ms "$wan_delay" --ready "$W/relay-$which.ready" </dev/null >>"$W/logs/relay-$which.log" 2>&1 &
    relay_pids+=($!)
  done
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$W/relay-src.ready" ] && [ -s "$W/relay-dst.ready" ] && break
    sleep 0.1
  done
  WAN_SRC=$(cat "$W/relay-src.ready") WAN_DST=$(cat "$W/relay-dst.ready")
  local big_layer
  big_layer=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["big"]["layers"][0]["digest"])' "$meta")
  wan_measured=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{speed_download}' \
    "http://$WAN_SRC/v2/bench/big/blobs/$big_layer" | awk '{printf "%.0f", $1 * 8 / 1e6}')
  local rtt
  rtt=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{time_total}' "http://$WAN_SRC/v2/")
  log "wide-area link: namespace $ns, ${wan_rate} Mbit/s each way, ${wan_delay} ms each way;" \
    "curl through it: ${wan_measured} Mbit/s, GET /v2/ on a new connection ${rtt} s"
}

# --- one SHA-256 pass over the bytes copied (the CPU yardstick) -------------
layer_files=()
mapfile -t layer_files < <($PY -c 'import json,sys
for l in json.load(open(sys.argv[1]))["big"]["layers"]: print(l["digest"][7:])' "$meta")
layer_files=("${layer_files[@]/#/$images/big/blobs/sha256/}")
cat "${layer_files[@]}" >/dev/null  # into the page cache
cpu_of() {  # CMD... -> user+sys seconds
  /usr/bin/time -f '%U %S' -o "$W/sha.time" "$@" >/dev/null
  awk 'END{print $1 + $2}' "$W/sha.time"
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
sha_ossl=$(median3 "$(cpu_of openssl dgst -sha256 "${layer_files[@]}")" "$(cpu_of openssl dgst -sha256 "${layer_files[@]}")" "$(cpu_of openssl dgst -sha256 "${layer_files[@]}")")
sha_cu=$(median3 "$(cpu_of sha256sum "${layer_files[@]}")" "$(cpu_of sha256sum "${layer_files[@]}")" "$(cpu_of sha256sum "${layer_files[@]}")")
log "one SHA-256 pass over the big image's layers: ${sha_ossl} s CPU (openssl), ${sha_cu} s (sha256sum)"

# --- one measured run ----------------------------------------------------------
results=$out/results.tsv
: >"$results"

# server_ticks: CPU clock ticks used so far by the registries and relays,
# which share the machine with the client: on two cores their work bounds
# the wall time as much as the client's does.
server_ticks() {
  local f p t=0 a
  local -a pids=("${relay_pids[@]}")
  for f in "$W"/{src,dst,srctls,dsttls}/registry.pid; do
    [ -f "$f" ] && pids+=("$(<"$f")")
  done
  for p in "${pids[@]}"; do
    # Fields 14 and 15 (utime, stime), counted after the "(comm)" field.
    if read -r a <"/proc/$p/stat" 2>/dev/null; then
      a=${a##*) }
      read -r -a a <<<"$a"
      t=$((t + a[11] + a[12]))
    fi
  done
  echo "$t"
}
HZ=$(getconf CLK_TCK)

# measure SCENARIO TOOL RUN
measure() {
  local scen=$1 tool=$2 run=$3 bin src="" dst="" vdst netns_prefix=() cmd=()
  local -a flags=(--insecure-policy copy)
  [ "$tool" = ferry ] && bin=$ferry || bin=$skopeo
  case $scen in
    r2r|zstd|chunked|copy-all|push) fresh_dst ;;
  esac
  local img=big rname=bench/big
  case $scen in
    r2r)
      flags+=(--src-tls-verify=false --dest-tls-verify=false)
      src=docker://$SRC/$rname:latest dst=docker://$DST/$rname:latest
      vdst=(same registry "$DST" "$rname" latest) ;;
    r2r-tls)
      fresh_dst_tls
      flags+=(--src-cert-dir "$W/srctls/certs.d" --dest-cert-dir "$W/dsttls/certs.d")
      src=docker://$SRC_TLS/$rname:latest dst=docker://$DST_TLS/$rname:latest
      vdst=(same registry "https://$DST_TLS" "$rname" latest) ;;
    wan)
      fresh_dst
      netns_prefix=(ip netns exec "$ns")
      flags+=(--src-tls-verify=false --dest-tls-verify=false)
      src=docker://$WAN_SRC/$rname:latest dst=docker://$WAN_DST/$rname:latest
      vdst=(same registry "$DST" "$rname" latest) ;;
    pull)
      rm -rf "$W/layout"
      flags+=(--src-tls-verify=false)
      src=docker://$SRC/$rname:latest dst=oci:$W/layout:latest
      vdst=(same oci "$W/layout" latest) ;;
    push)
      flags+=(--dest-tls-verify=false)
      src=oci:$images/big:latest dst=docker://$DST/$rname:latest
      vdst=(same registry "$DST" "$rname" latest) ;;
    copy-all)
      img=multi rname=bench/multi
      flags+=(--all --src-tls-verify=false --dest-tls-verify=false)
      src=docker://$SRC/$rname:latest dst=docker://$DST/$rname:latest
      vdst=(same registry "$DST" "$rname" latest) ;;
    zstd)
      flags+=(--dest-compress-format zstd --src-tls-verify=false --dest-tls-verify=false)
      src=docker://$SRC/$rname:latest dst=docker://$DST/$rname:latest
      vdst=(zstd registry "$DST" "$rname" latest) ;;
    chunked)
      flags+=(--dest-compress-format zstd:chunked --src-tls-verify=false --dest-tls-verify=false)
      src=docker://$SRC/$rname:latest dst=docker://$DST/$rname:latest
      vdst=(chunked registry "$DST" "$rname" latest) ;;
    inspect|inspect-wan|inspect-tls)
      # What a CI step pays per call (start-up, ping, manifest, config,
      # tags): one run is $inspect_calls calls in a row; each must print
      # the image's digest.
      local isrc=$SRC tlsflag=--tls-verify=false
      if [ "$scen" = inspect-wan ]; then
        isrc=$WAN_SRC
        netns_prefix=(ip netns exec "$ns")
      elif [ "$scen" = inspect-tls ]; then
        isrc=$SRC_TLS tlsflag=--cert-dir=$W/srctls/certs.d
      fi
      cmd=(sh -c 'i=0; while [ $i -lt "$2" ]; do "$0" --insecure-policy inspect "$3" \
        --format "{{.Digest}}" "$1" || exit 1; i=$((i + 1)); done' \
        "$bin" "docker://$isrc/$rname:latest" "$inspect_calls" "$tlsflag") ;;
  esac
  [ ${#cmd[@]} -gt 0 ] || cmd=("$bin" "${flags[@]}" "$src" "$dst")
  # A fresh HOME and XDG dirs, and (as root, where containers/image keeps it
  # in /var/lib/containers/cache whatever HOME is) an empty tmpfs over the
  # blob-info cache directory, private to this run's mount namespace.
  local home=$W/home
  rm -rf "$home"; mkdir -p "$home/.config" "$home/.local/share" "$home/.cache" "$home/run"
  chmod 700 "$home/run"
  local logf=$W/logs/$scen-$tool-$run.log rc=0 ticks0 srv
  rm -f "$W/run.time"
  ticks0=$(server_ticks)
  # FERRY_RANGE_* (parallel range tuning) pass through, to compare settings.
  local pass=() v
  for v in FERRY_RANGE_THRESHOLD FERRY_RANGE_CONNECTIONS FERRY_RANGE_CHUNK_SIZE; do
    [ -n "${!v:-}" ] && pass+=("$v=${!v}")
  done
  env -i "${pass[@]}" PATH="$PATH" HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$home/run" TMPDIR="$W/tmp" \
    "${netns_prefix[@]}" unshare -m -- sh -c 'mount -t tmpfs -o size=64m bench-cache /var/lib/containers/cache && exec "$@"' sh \
    /usr/bin/time -f '%e %U %S %M' -o "$W/run.time" "${cmd[@]}" >"$logf" 2>&1 || rc=$?
  srv=$(awk -v a="$ticks0" -v b="$(server_ticks)" -v hz="$HZ" 'BEGIN{printf "%.2f", (b - a) / hz}')
  local wall user sys rss status detail
  read -r wall user sys rss < <(tail -n1 "$W/run.time" 2>/dev/null || echo "0 0 0 0")
  if [ $rc != 0 ]; then
    status=FAIL detail="exit status $rc: $(grep -v '^$' "$logf" | tail -n1 | cut -c1-200)"
  elif [[ $scen = inspect* ]]; then
    local want n_ok
    want=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["big"]["digest"])' "$meta")
    n_ok=$(grep -cx "$want" "$logf" || true)
    if [ "$n_ok" = "$inspect_calls" ] && [ "$(wc -l <"$logf")" = "$inspect_calls" ]; then
      status=ok detail="$inspect_calls calls printed $want"
    else
      status=FAIL detail="$n_ok of $inspect_calls calls printed $want"
    fi
  elif detail=$(VERIFY_CAFILE=$W/dsttls/certs.d/ca.crt TMPDIR=$W/tmp $PY "$here/verify.py" "$meta" "$img" "${vdst[@]}"); then
    status=ok detail=${detail#ok: }
  else
    status=FAIL
  fi
  [ "$status" = ok ] || cp "$logf" "$out/"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$tool" "$run" "$wall" "$user" "$sys" "$rss" "$status" "$detail" "$srv" >>"$results"
  local shown=$status
  [ "$status" = ok ] || shown="$status: $detail"
  log "$(awk -v s="$scen" -v t="$tool" -v r="$run" -v w="$wall" -v u="$user" -v y="$sys" -v m="$rss" -v st="$shown" \
    -v v="$srv" 'BEGIN{printf "%-8s %-6s #%d %7.2f s wall %7.2f s CPU %7.1f MiB %7.2f s server CPU  %s", s, t, r, w, u + y, m / 1024, v, st}')"
}

mkdir -p /var/lib/containers/cache
for scen in "${scenarios[@]}"; do
  [[ $scen = wan || $scen = inspect-wan ]] && [ -z "$ns" ] && setup_wan
  [[ $scen = r2r-tls || $scen = inspect-tls ]] && [ -z "$SRC_TLS" ] && setup_tls
  for ((r = 1; r <= runs; r++)); do
    # Alternate who goes first, so drift in machine load hits both alike.
    if ((r % 2)); then order=(ferry skopeo); else order=(skopeo ferry); fi
    for tool in "${order[@]}"; do measure "$scen" "$tool" "$r"; done
  done
done

# --- report ------------------------------------------------------------------------
{
  echo "ferry benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $runs runs per tool"
  echo "ferry: $ferry ($(cd "$repo" && git describe --always --dirty 2>/dev/null || echo unknown)); $("$skopeo" --version)"
  echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "work area: $W ($(df -P "$W" | awk 'NR==2{print $1}'))"
  echo
  $PY "$here/report.py" "$results" "$meta" sha256_openssl="$sha_ossl" sha256_coreutils="$sha_cu" \
    wan_rate_mbit="$wan_rate" ${wan_measured:+wan_measured_mbit=$wan_measured}
} | tee "$out/report.txt"
log "raw results and failing runs' logs: $out"
