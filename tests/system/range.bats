#!/usr/bin/env bats
# One large blob fetched over several connections in parallel Range
# requests (FERRY_RANGE_THRESHOLD / _CONNECTIONS / _CHUNK_SIZE lower the
# limits so that a 5 MiB layer qualifies): the copy is byte-identical to
# skopeo's, and the registry's access log shows the range requests. A
# registry that redirects blob reads to a storage host (Distribution's
# redirect middleware, as with S3) has the ranges sent there, without the
# registry's credentials.

load helpers
load registry

setup_file() {
  start_registry big --no-wait
  start_registry bigtls --tls --no-wait
  wait_registries
  "$SAMPLE_SCRIPT" "$BATS_FILE_TMPDIR/img" latest --extra-layers 1 --extra-size 5 >/dev/null
  push_sample big range/img:v1 --src "oci:$BATS_FILE_TMPDIR/img:latest"
  push_sample bigtls range/img:v1 --src "oci:$BATS_FILE_TMPDIR/img:latest"
  s copy -q --src-tls-verify=false "docker://$BIG_ADDR/range/img:v1" "dir:$BATS_FILE_TMPDIR/by-skopeo"
  # The largest layer: the one fetched in ranges.
  jq -r '.layers | max_by(.size) | "\(.digest) \(.size)"' "$BATS_FILE_TMPDIR/by-skopeo/manifest.json" \
    >"$BATS_FILE_TMPDIR/big-layer"
  start_redirecting_registry
}

teardown_file() {
  stop_registries
  if [ -f "$BATS_FILE_TMPDIR/storage.pid" ]; then
    kill "$(cat "$BATS_FILE_TMPDIR/storage.pid")" 2>/dev/null || true
  fi
}

# A registry "redir" with htpasswd auth whose blob GETs answer 307 to a
# plain static file server over its storage directory (honouring single
# Range requests, logging each request as a JSON line).
start_redirecting_registry() {
  local d=$BATS_FILE_TMPDIR/redir i
  start_registry redir --htpasswd alice:alice-pw
  setpriv --pdeathsig KILL -- /usr/bin/python3 -c '
import http.server, json, os, re, sys
root, port_file, log = sys.argv[1], sys.argv[2], sys.argv[3]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, with_body):
        path = self.path.split("?")[0]
        rng = self.headers.get("Range")
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": path, "range": rng,
                                "authorization": self.headers.get("Authorization") is not None}) + "\n")
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not full.startswith(root + "/") or not os.path.isfile(full):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(full, "rb").read()
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if m and int(m.group(1)) < len(data):
            first = int(m.group(1))
            last = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
            body = data[first:last + 1]
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, len(data)))
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if with_body:
            self.wfile.write(body)
    def do_GET(self):
        self.answer(True)
    def do_HEAD(self):
        self.answer(False)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
' "$(realpath "$d/storage")" "$BATS_FILE_TMPDIR/storage.port" "$BATS_FILE_TMPDIR/storage.log" \
    </dev/null >"$BATS_FILE_TMPDIR/storage.stderr" 2>&1 3>&- &
  echo $! >"$BATS_FILE_TMPDIR/storage.pid"
  for ((i = 0; i < 100; i++)); do
    [ -s "$BATS_FILE_TMPDIR/storage.port" ] && break
    sleep 0.1
  done
  [ -s "$BATS_FILE_TMPDIR/storage.port" ] || { cat "$BATS_FILE_TMPDIR/storage.stderr" >&2; return 1; }
  stop_registry redir
  printf 'middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: http://127.0.0.1:%s\n' \
    "$(cat "$BATS_FILE_TMPDIR/storage.port")" >>"$d/config.yml"
  restart_registry redir
  push_sample redir range/img:v1 --src "oci:$BATS_FILE_TMPDIR/img:latest"
}

setup() {
  read -r DIGEST SIZE <"$BATS_FILE_TMPDIR/big-layer"
  [ "$SIZE" -gt $((4 << 20)) ]
}

# Lines of a registry's access log for GETs of the big layer with STATUS.
count_blob_gets() {  # REGISTRY STATUS
  grep -cE "\"GET /v2/range/img/blobs/$DIGEST HTTP/[0-9.]+\" $2 " "$BATS_FILE_TMPDIR/$1/registry.log" || true
}

# Runs ferry copy of the image from registry NAME into dir:OUT with the
# environment given before it, and checks the result equals skopeo's copy.
copy_and_compare() {  # NAME OUT [VAR=VALUE...]
  local name=$1 out=$2; shift 2
  local flags
  flags=$(registry_tls_flags "$name" src)
  env "$@" "$FERRY" --insecure-policy copy -q $flags "docker://$(registry_addr "$name")/range/img:v1" "dir:$out"
  diff -r "$BATS_FILE_TMPDIR/by-skopeo" "$out"
  [ "$(sha256sum <"$out/${DIGEST#sha256:}" | cut -d' ' -f1)" = "${DIGEST#sha256:}" ]
}

@test "a blob above the threshold is fetched in parallel ranges, byte-identical to skopeo's copy" {
  before206=$(count_blob_gets big 206)
  before200=$(count_blob_gets big 200)
  copy_and_compare big "$BATS_TEST_TMPDIR/f" FERRY_RANGE_THRESHOLD=1048576
  # 4 connections, 1 MiB chunks (a quarter of the blob per connection, at least 1 MiB).
  chunks=$(((SIZE + (1 << 20) - 1) >> 20))
  [ "$(count_blob_gets big 206)" = "$((before206 + chunks))" ]
  [ "$(count_blob_gets big 200)" = "$before200" ]
}

@test "the chunk size and connection count follow the environment" {
  before=$(count_blob_gets big 206)
  copy_and_compare big "$BATS_TEST_TMPDIR/f" FERRY_RANGE_THRESHOLD=1048576 FERRY_RANGE_CHUNK_SIZE=262144 \
    FERRY_RANGE_CONNECTIONS=3
  [ "$(count_blob_gets big 206)" = "$((before + (SIZE + 262143) / 262144))" ]
  run env FERRY_RANGE_THRESHOLD=1048576 "$FERRY" --insecure-policy --debug copy -q --src-tls-verify=false \
    "docker://$BIG_ADDR/range/img:v1" "dir:$BATS_TEST_TMPDIR/g"
  [ "$status" -eq 0 ]
  expect_output_contains "Fetching blob $DIGEST ($SIZE bytes) in $(((SIZE + (1 << 20) - 1) >> 20)) ranges over 4 connections"
}

@test "below the threshold, or with one connection, the blob is one plain GET" {
  before206=$(count_blob_gets big 206)
  before200=$(count_blob_gets big 200)
  copy_and_compare big "$BATS_TEST_TMPDIR/default"
  copy_and_compare big "$BATS_TEST_TMPDIR/one" FERRY_RANGE_THRESHOLD=1048576 FERRY_RANGE_CONNECTIONS=1
  copy_and_compare big "$BATS_TEST_TMPDIR/small" FERRY_RANGE_THRESHOLD=$((SIZE + 1))
  [ "$(count_blob_gets big 206)" = "$before206" ]
  [ "$(count_blob_gets big 200)" = "$((before200 + 3))" ]
}

@test "parallel ranges over TLS" {
  before=$(count_blob_gets bigtls 206)
  copy_and_compare bigtls "$BATS_TEST_TMPDIR/f" FERRY_RANGE_THRESHOLD=1048576 FERRY_RANGE_CHUNK_SIZE=1048576
  [ "$(count_blob_gets bigtls 206)" = "$((before + (SIZE + (1 << 20) - 1) / (1 << 20)))" ]
}

@test "bad FERRY_RANGE_* values are reported and ignored" {
  run env FERRY_RANGE_THRESHOLD=1048576 FERRY_RANGE_CONNECTIONS=lots "$FERRY" --insecure-policy copy -q \
    --src-tls-verify=false "docker://$BIG_ADDR/range/img:v1" "dir:$BATS_TEST_TMPDIR/f"
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "$output" | grep -c 'level=warning')" = 1 ]
  expect_output_contains 'level=warning msg="ignoring FERRY_RANGE_CONNECTIONS=\"lots\": not a number between 1 and 16"'
  diff -r "$BATS_FILE_TMPDIR/by-skopeo" "$BATS_TEST_TMPDIR/f"
}

@test "a registry redirecting to a storage host: ranges go there, without credentials" {
  : >"$BATS_FILE_TMPDIR/storage.log"
  env FERRY_RANGE_THRESHOLD=1048576 "$FERRY" --insecure-policy copy -q --src-tls-verify=false \
    --src-creds alice:alice-pw "docker://$(registry_addr redir)/range/img:v1" "dir:$BATS_TEST_TMPDIR/f"
  diff -r "$BATS_FILE_TMPDIR/by-skopeo" "$BATS_TEST_TMPDIR/f"
  hex=${DIGEST#sha256:}
  data="/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
  chunks=$(((SIZE + (1 << 20) - 1) >> 20))
  # Every chunk once, as a range request of the storage host.
  jq -r --arg p "$data" 'select(.path == $p and .method == "GET") | .range' "$BATS_FILE_TMPDIR/storage.log" |
    sort -t- -k1.7n >"$BATS_TEST_TMPDIR/ranges"
  for ((i = 0; i < chunks; i++)); do
    last=$(((i + 1) * 1048576 - 1)); [ "$last" -lt "$SIZE" ] || last=$((SIZE - 1))
    echo "bytes=$((i * 1048576))-$last"
  done >"$BATS_TEST_TMPDIR/want"
  diff -u "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/ranges"
  # The registry was asked once (the redirect); the storage host never saw
  # an Authorization header.
  [ "$(count_blob_gets redir 307)" = 1 ]
  [ "$(jq -s 'map(select(.authorization)) | length' "$BATS_FILE_TMPDIR/storage.log")" = 0 ]
}
