#!/usr/bin/env bats
# The blob-info cache against a real registry (CNCF Distribution): what one
# copy learns (where each blob is, which compressed blob has which
# uncompressed content) lets a later copy mount blobs instead of uploading
# them and reuse a zstd recompression instead of repeating it. The registry's
# access log is the proof: no upload PUT of a blob, only POST ...?mount=.

bats_require_minimum_version 1.5.0

load helpers
load registry

setup_file() {
  make_samples oci
  start_registry reg
  start_registry other
}

teardown_file() { stop_registries; }

# fc CACHE_DIR ARGS...: ferry with its blob-info cache in CACHE_DIR.
fc() {
  local dir=$1; shift
  FERRY_BLOB_INFO_CACHE_DIR=$dir "$FERRY" --insecure-policy "$@"
}

# Number of registry log lines matching an extended regexp (0 when none).
count_log() {  # REGEX
  grep -cE "$1" "$REG_LOG" || true
}

# Blob uploads into REPO: the PUT that completes each one (it carries the
# body itself when the digest is known, else a PATCH came first).
uploads_to() {  # REPO
  count_log "\"PUT /v2/$1/blobs/uploads/"
}

# Successful cross-repository mounts into REPO from FROM (URL-encoded).
mounts_to() {  # REPO FROM
  count_log "\"POST /v2/$1/blobs/uploads/\?from=$2&mount=sha256%3A[0-9a-f]{64} HTTP/1.1\" 201"
}

manifest_digest_of() {  # REPO:TAG
  skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/$1"
}

@test "with the cache, a copy from a local layout to another repository mounts every blob" {
  local cache=$BATS_TEST_TMPDIR/cache fresh=$BATS_TEST_TMPDIR/fresh
  local src="oci:$SAMPLES/oci:latest"
  fc "$cache" copy -q --dest-tls-verify=false "$src" "docker://$REG_ADDR/c1/a:v1"
  [ -f "$cache/ferry-blob-info-cache-v1.sqlite" ]
  [ "$(uploads_to c1/a)" = 4 ]  # 3 layers + config

  # A fresh cache knows nothing: everything is uploaded again.
  fc "$fresh" copy -q --dest-tls-verify=false "$src" "docker://$REG_ADDR/c1/fresh:v1"
  [ "$(uploads_to c1/fresh)" = 4 ]
  [ "$(count_log '"POST /v2/c1/fresh/blobs/uploads/\?from=')" = 0 ]

  # The populated one sends every blob from c1/a instead.
  fc "$cache" copy -q --dest-tls-verify=false "$src" "docker://$REG_ADDR/c1/b:v1"
  [ "$(uploads_to c1/b)" = 0 ]
  [ "$(mounts_to c1/b 'c1%2Fa')" = 4 ]

  a=$(manifest_digest_of c1/a:v1)
  [ "$(manifest_digest_of c1/fresh:v1)" = "$a" ]
  [ "$(manifest_digest_of c1/b:v1)" = "$a" ]
  s copy -q --src-tls-verify=false "docker://$REG_ADDR/c1/b:v1" "dir:$BATS_TEST_TMPDIR/pulled"
}

@test "the cache remembers blobs seen in a source repository" {
  local cache=$BATS_TEST_TMPDIR/cache
  push_sample reg c2/src:v1 --src "oci:$SAMPLES/oci:latest"
  # Pulling from c2/src records where its blobs are ...
  fc "$cache" copy -q --src-tls-verify=false "docker://$REG_ADDR/c2/src:v1" "oci:$BATS_TEST_TMPDIR/layout:v1"
  # ... so a push of the same image from elsewhere mounts them from there.
  fc "$cache" copy -q --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/layout:v1" "docker://$REG_ADDR/c2/dst:v1"
  [ "$(uploads_to c2/dst)" = 0 ]
  [ "$(mounts_to c2/dst 'c2%2Fsrc')" = 4 ]
  [ "$(manifest_digest_of c2/dst:v1)" = "$(manifest_digest_of c2/src:v1)" ]
}

@test "a repeated zstd copy to another repository reuses the zstd blobs instead of recompressing" {
  local cache=$BATS_TEST_TMPDIR/cache
  local src="oci:$SAMPLES/oci:latest"
  fc "$cache" copy -q --dest-tls-verify=false --dest-compress-format zstd "$src" "docker://$REG_ADDR/c3/z1:v1"
  [ "$(uploads_to c3/z1)" = 4 ]
  skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/c3/z1:v1" > "$BATS_TEST_TMPDIR/z1.json"
  [ "$(jq -r '[.layers[].mediaType] | unique | join(",")' "$BATS_TEST_TMPDIR/z1.json")" = application/vnd.oci.image.layer.v1.tar+zstd ]

  fc "$cache" copy -q --dest-tls-verify=false --dest-compress-format zstd "$src" "docker://$REG_ADDR/c3/z2:v1"
  [ "$(uploads_to c3/z2)" = 0 ]
  [ "$(mounts_to c3/z2 'c3%2Fz1')" = 4 ]
  [ "$(manifest_digest_of c3/z2:v1)" = "$(manifest_digest_of c3/z1:v1)" ]
  s copy -q --src-tls-verify=false "docker://$REG_ADDR/c3/z2:v1" "oci:$BATS_TEST_TMPDIR/pulled:v1"
}

@test "the cached zstd variant is only used when a conversion was asked for" {
  local cache=$BATS_TEST_TMPDIR/cache
  local src="oci:$SAMPLES/oci:latest"
  fc "$cache" copy -q --dest-tls-verify=false --dest-compress-format zstd "$src" "docker://$REG_ADDR/c4/z:v1"
  fc "$cache" copy -q --dest-tls-verify=false "$src" "docker://$REG_ADDR/c4/gzip:v1"
  # Gzip layers as in the source: the zstd blobs were not substituted.
  skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/c4/gzip:v1" > "$BATS_TEST_TMPDIR/g.json"
  [ "$(jq -r '[.layers[].mediaType] | unique | join(",")' "$BATS_TEST_TMPDIR/g.json")" = application/vnd.oci.image.layer.v1.tar+gzip ]
  src_manifest=$(jq -r '.manifests[0].digest' "$SAMPLES/oci/index.json")
  diff <(jq -r '.layers[].digest' "$BATS_TEST_TMPDIR/g.json") \
    <(jq -r '.layers[].digest' "$SAMPLES/oci/blobs/sha256/${src_manifest#sha256:}")
}

@test "an oci: destination that already has the zstd variant skips the recompression" {
  local cache=$BATS_TEST_TMPDIR/cache layout=$BATS_TEST_TMPDIR/layout
  local src="oci:$SAMPLES/oci:latest"
  fc "$cache" copy -q --dest-compress-format zstd "$src" "oci:$layout:one"
  FERRY_BLOB_INFO_CACHE_DIR=$cache run "$FERRY" --insecure-policy --debug copy -q --dest-compress-format zstd "$src" "oci:$layout:two"
  expect_status 0
  [ "$(grep -c 'Reusing sha256:[0-9a-f]* (zstd) instead of converting sha256:' <<<"$output")" = 3 ]
  one=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="one") | .digest' "$layout/index.json")
  two=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="two") | .digest' "$layout/index.json")
  [ -n "$one" ]
  [ "$one" = "$two" ]
}

@test "an unusable cache directory falls back to memory, silently unless --debug" {
  : > "$BATS_TEST_TMPDIR/file"
  local cache=$BATS_TEST_TMPDIR/file/cache
  FERRY_BLOB_INFO_CACHE_DIR=$cache run --separate-stderr "$FERRY" --insecure-policy copy -q \
    "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/d1"
  expect_status 0
  [ -z "$stderr" ]
  FERRY_BLOB_INFO_CACHE_DIR=$cache run --separate-stderr "$FERRY" --insecure-policy --debug copy -q \
    "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/d2"
  expect_status 0
  [[ $stderr == *"Error creating a blob info cache at $cache/ferry-blob-info-cache-v1.sqlite, using a memory-only cache"* ]]
}

@test "a corrupt cache file is replaced and the copy succeeds" {
  local cache=$BATS_TEST_TMPDIR/cache
  mkdir -p "$cache"
  head -c 4096 /dev/urandom > "$cache/ferry-blob-info-cache-v1.sqlite"
  run --separate-stderr fc "$cache" copy -q "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/d"
  expect_status 0
  [ -z "$stderr" ]
  [ "$(head -c 15 "$cache/ferry-blob-info-cache-v1.sqlite")" = "SQLite format 3" ]
}

@test "skopeo's cache files beside ferry's are never touched" {
  local cache=$BATS_TEST_TMPDIR/cache
  mkdir -p "$cache"
  printf 'skopeo sqlite' > "$cache/blob-info-cache-v1.sqlite"
  printf 'skopeo bolt' > "$cache/blob-info-cache-v1.boltdb"
  fc "$cache" copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$REG_ADDR/c5/x:v1"
  [ "$(cat "$cache/blob-info-cache-v1.sqlite")" = "skopeo sqlite" ]
  [ "$(cat "$cache/blob-info-cache-v1.boltdb")" = "skopeo bolt" ]
  [ -f "$cache/ferry-blob-info-cache-v1.sqlite" ]
  run ls "$cache"
  [ "$(grep -cv '^ferry-blob-info-cache-v1\.sqlite' <<<"$output")" = 2 ]
}

# The first layer of a registry-to-registry copy is fetched, and an upload
# session opened, alongside the destination's HEAD when the cache knows the
# blob nowhere in the destination registry. If the destination has it after
# all, that costs exactly one blob GET at the source and one session at the
# destination; a cache that knows where the blobs are spares even that.
@test "registry to registry: the first layer's GET goes out alongside the HEAD, and costs one GET when the blob is there" {
  local cache=$BATS_TEST_TMPDIR/cache fresh=$BATS_TEST_TMPDIR/fresh
  skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$OTHER_ADDR/e/app:v1"
  blob_gets() { grep -cE '"GET /v2/e/app/blobs/sha256:[0-9a-f]{64} HTTP/1.1" 200' "$OTHER_LOG" || true; }
  sessions() { grep -cE '"POST /v2/e/app/blobs/uploads/ HTTP/1.1" 202' "$REG_LOG" || true; }
  local gets0 sessions0
  gets0=$(blob_gets) sessions0=$(sessions)
  fc "$cache" copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$OTHER_ADDR/e/app:v1" "docker://$REG_ADDR/e/app:v1"
  [ "$(( $(blob_gets) - gets0 ))" = 4 ]  # 3 layers and the config, each once
  [ "$(( $(sessions) - sessions0 ))" = 4 ]
  [ "$(uploads_to e/app)" = 4 ]
  [ "$(manifest_digest_of e/app:v1)" = "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$OTHER_ADDR/e/app:v1")" ]

  # A fresh cache: the destination has every blob, unknown to ferry.
  gets0=$(blob_gets) sessions0=$(sessions)
  fc "$fresh" copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$OTHER_ADDR/e/app:v1" "docker://$REG_ADDR/e/app:v2"
  [ "$(( $(blob_gets) - gets0 ))" = 2 ]  # the config, and the early GET of the first layer
  [ "$(( $(sessions) - sessions0 ))" = 1 ]  # opened ahead, left to the registry's purge
  [ "$(uploads_to e/app)" = 4 ]  # nothing uploaded again
  [ "$(manifest_digest_of e/app:v2)" = "$(manifest_digest_of e/app:v1)" ]

  # The first cache saw the blobs there: nothing early.
  gets0=$(blob_gets) sessions0=$(sessions)
  fc "$cache" copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$OTHER_ADDR/e/app:v1" "docker://$REG_ADDR/e/app:v3"
  [ "$(( $(blob_gets) - gets0 ))" = 1 ]
  [ "$(( $(sessions) - sessions0 ))" = 0 ]
}
