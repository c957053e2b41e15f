#!/usr/bin/env bats
# Schema 1 sources converted to schema 2 / OCI: the new config is built from
# the layers' DiffIDs, which ferry computes while copying (a schema 1
# manifest carries none). Checked byte for byte against skopeo 1.9.3's own
# conversion of the same image.

load helpers
load registry

setup_file() {
  make_samples oci
  # skopeo writes the schema 1 image ferry reads.
  skopeo --insecure-policy copy -q --format v2s1 "oci:$SAMPLES/oci:latest" "dir:$SAMPLES/s1"
  start_registry reg
}

teardown_file() { stop_registries; }

# The config of a layout's only image (manifest_of: helpers.bash).
config_of() {  # LAYOUT
  local d
  d=$(manifest_of "$1" | jq -r .config.digest)
  cat "$1/blobs/${d/://}"
}

@test "the source really is schema 1" {
  [ "$(jq -r .schemaVersion "$SAMPLES/s1/manifest.json")" = 1 ]
}

@test "schema 1 -> OCI: DiffIDs computed, manifest and config byte-identical to skopeo's" {
  f copy -q "dir:$SAMPLES/s1" "oci:$BATS_TEST_TMPDIR/f:x"
  s copy -q "dir:$SAMPLES/s1" "oci:$BATS_TEST_TMPDIR/s:x"
  cmp <(manifest_of "$BATS_TEST_TMPDIR/f") <(manifest_of "$BATS_TEST_TMPDIR/s")
  cmp <(config_of "$BATS_TEST_TMPDIR/f") <(config_of "$BATS_TEST_TMPDIR/s")
  # The DiffIDs are the digests of the decompressed layers, none empty.
  mapfile -t ids < <(config_of "$BATS_TEST_TMPDIR/f" | jq -r '.rootfs.diff_ids[]')
  mapfile -t layers < <(manifest_of "$BATS_TEST_TMPDIR/f" | jq -r '.layers[].digest')
  [ "${#ids[@]}" = "${#layers[@]}" ] && [ "${#ids[@]}" -ge 3 ]
  for i in "${!layers[@]}"; do
    [ "sha256:$(gzip -dc "$BATS_TEST_TMPDIR/f/blobs/${layers[$i]/://}" | sha256sum | cut -d' ' -f1)" = "${ids[$i]}" ]
  done
  manifest_of "$BATS_TEST_TMPDIR/f" | jq -e 'all(.layers[]; .size > 0)' >/dev/null
}

@test "schema 1 -> a registry that refuses schema 1: ferry converts (skopeo 1.9.3 gives up), as skopeo --format v2s2 does" {
  # Distribution 2.8 answers a schema 1 manifest with 500 "manifest schema
  # v1 unsupported"; skopeo stops there.
  run skopeo --insecure-policy copy -q --dest-tls-verify=false "dir:$SAMPLES/s1" "docker://$REG_ADDR/s1/refused:v1"
  [ "$status" -ne 0 ]
  f copy -q --dest-tls-verify=false "dir:$SAMPLES/s1" "docker://$REG_ADDR/s1/ferry:v1"
  s copy -q --dest-tls-verify=false --format v2s2 "dir:$SAMPLES/s1" "docker://$REG_ADDR/s1/skopeo:v1"
  a=$(f inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/s1/ferry:v1")
  b=$(f inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/s1/skopeo:v1")
  [ "$a" = "$b" ]
  # Again into the same repository with a fresh cache: the blobs are
  # there, but the DiffIDs must still be computed, so they are read.
  FERRY_BLOB_INFO_CACHE_DIR=$BATS_TEST_TMPDIR/fresh-cache f copy -q --dest-tls-verify=false \
    "dir:$SAMPLES/s1" "docker://$REG_ADDR/s1/ferry:v2"
  [ "$(f inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/s1/ferry:v2")" = "$a" ]
}

@test "schema 1 -> OCI with zstd recompression: DiffIDs hashed between the two, as skopeo's" {
  f copy -q --dest-compress-format zstd "dir:$SAMPLES/s1" "oci:$BATS_TEST_TMPDIR/f:x"
  s copy -q --dest-compress-format zstd "dir:$SAMPLES/s1" "oci:$BATS_TEST_TMPDIR/s:x"
  cmp <(config_of "$BATS_TEST_TMPDIR/f" | jq -c .rootfs) <(config_of "$BATS_TEST_TMPDIR/s" | jq -c .rootfs)
  manifest_of "$BATS_TEST_TMPDIR/f" | jq -e 'all(.layers[]; .mediaType == "application/vnd.oci.image.layer.v1.tar+zstd")' >/dev/null
  s copy -q "oci:$BATS_TEST_TMPDIR/f:x" "oci:$BATS_TEST_TMPDIR/back:x"
}

@test "a schema 1 copy that keeps schema 1 computes nothing and keeps the manifest" {
  f copy -q "dir:$SAMPLES/s1" "dir:$BATS_TEST_TMPDIR/d"
  cmp "$SAMPLES/s1/manifest.json" "$BATS_TEST_TMPDIR/d/manifest.json"
}
