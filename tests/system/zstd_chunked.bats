#!/usr/bin/env bats
# --dest-compress-format zstd:chunked: per-file zstd frames and a table of
# contents (TOC) that podman and CRI-O use for partial pulls. Each layer is
# checked on its own by zstd_chunked_check.py (footer, annotations, every
# file's and chunk's frames decompressed and hashed with the zstd CLI), and
# the TOC is compared with skopeo 1.9.3's for the same layer: everything but
# the output offsets (which depend on the zstd encoder) must be identical.

load helpers
load registry

CHECK=${FERRY_SRC:-.}/tests/system/zstd_chunked_check.py

setup_file() {
  export SAMPLES=$BATS_FILE_TMPDIR/samples
  mkdir -p "$SAMPLES"
  python3 "$FERRY_SRC/tests/system/make_tar_image.py" "$SAMPLES/tars"
  python3 "$FERRY_SRC/tests/system/make_tar_image.py" "$SAMPLES/not-tar" --not-tar
  start_registry reg
}

teardown_file() { stop_registries; }

# Verifies every layer of LAYOUT against its annotations; prints one line
# per layer.
check_layers() {  # LAYOUT
  local m n i d pos sum
  m=$(manifest_of "$1")
  n=$(jq '.layers | length' <<<"$m")
  for ((i = 0; i < n; i++)); do
    d=$(jq -r ".layers[$i].digest" <<<"$m")
    pos=$(jq -r ".layers[$i].annotations[\"io.containers.zstd-chunked.manifest-position\"]" <<<"$m")
    sum=$(jq -r ".layers[$i].annotations[\"io.containers.zstd-chunked.manifest-checksum\"]" <<<"$m")
    [ "$(jq -r ".layers[$i].mediaType" <<<"$m")" = application/vnd.oci.image.layer.v1.tar+zstd ]
    python3 "$CHECK" "$1/blobs/${d/://}" "$pos" "$sum"
  done
}

toc_of_layer() {  # LAYOUT INDEX
  local d
  d=$(manifest_of "$1" | jq -r ".layers[$2].digest")
  python3 "$CHECK" --toc "$1/blobs/${d/://}"
}

@test "zstd:chunked: every file and chunk where the TOC says, TOC identical to skopeo's" {
  f copy -q --dest-compress-format zstd:chunked "dir:$SAMPLES/tars" "oci:$BATS_TEST_TMPDIR/f:x"
  s copy -q --dest-compress-format zstd:chunked "dir:$SAMPLES/tars" "oci:$BATS_TEST_TMPDIR/s:x"
  run check_layers "$BATS_TEST_TMPDIR/f"
  [ "$status" -eq 0 ]
  # 28 entries in the PAX layer: 7 files, a file of 11 chunks (one of
  # zeros), files starting and ending with zeros.
  [ "${lines[0]}" = "ok: 28 entries, 7 files, 15 chunks (3 zeros)" ]
  [ "${lines[1]}" = "ok: 3 entries, 1 files, 0 chunks (0 zeros)" ]
  for i in 0 1; do
    diff <(toc_of_layer "$BATS_TEST_TMPDIR/f" $i) <(toc_of_layer "$BATS_TEST_TMPDIR/s" $i)
  done
  # What the TOC holds for PAX times, xattrs and devices, spelled out.
  toc_of_layer "$BATS_TEST_TMPDIR/f" 0 | grep -qF '"name": "./usr/times", "mode": 420, "size": 1, "modtime": "2023-11-14T22:13:20.25Z", "accesstime": "2023-11-14T22:13:21.5Z", "changetime": "2023-11-14T22:13:22Z"'
  toc_of_layer "$BATS_TEST_TMPDIR/f" 0 | grep -qF '"xattrs": {"security.x": "MQ==", "user.comment": "Y2Fmw6k="}'
  toc_of_layer "$BATS_TEST_TMPDIR/f" 0 | grep -qF '"devMajor": 1, "devMinor": 3'
}

# Python's tarfile pads each archive to 10 KiB after the end-of-archive
# blocks; skopeo 1.9.3's zstd:chunked drops that padding, so its layers no
# longer decompress to the DiffIDs. ferry's must.
@test "zstd:chunked keeps the DiffIDs: config untouched, layers decompress to them" {
  f copy -q --dest-compress-format zstd:chunked "dir:$SAMPLES/tars" "oci:$BATS_TEST_TMPDIR/f:x"
  m=$(manifest_of "$BATS_TEST_TMPDIR/f")
  [ "$(jq -r .config.digest <<<"$m")" = "$(jq -r .config.digest "$SAMPLES/tars/manifest.json")" ]
  c=$(jq -r .config.digest <<<"$m")
  mapfile -t ids < <(jq -r '.rootfs.diff_ids[]' "$BATS_TEST_TMPDIR/f/blobs/${c/://}")
  mapfile -t layers < <(jq -r '.layers[].digest' <<<"$m")
  [ "${#layers[@]}" = 2 ]
  for i in 0 1; do
    [ "sha256:$(zstd -q -dc "$BATS_TEST_TMPDIR/f/blobs/${layers[$i]/://}" | sha256sum | cut -d' ' -f1)" = "${ids[$i]}" ]
  done
}

@test "skopeo reads ferry's zstd:chunked image back to the original layers" {
  f copy -q --dest-compress-format zstd:chunked "dir:$SAMPLES/tars" "oci:$BATS_TEST_TMPDIR/f:x"
  s copy -q --dest-compress --dest-compress-format gzip "oci:$BATS_TEST_TMPDIR/f:x" "dir:$BATS_TEST_TMPDIR/back"
  mapfile -t ids < <(jq -r '.rootfs.diff_ids[]' "$SAMPLES/tars/$(jq -r '.config.digest[7:]' "$SAMPLES/tars/manifest.json")")
  mapfile -t layers < <(jq -r '.layers[].digest[7:]' "$BATS_TEST_TMPDIR/back/manifest.json")
  for i in 0 1; do
    [ "sha256:$(gzip -dc "$BATS_TEST_TMPDIR/back/${layers[$i]}" | sha256sum | cut -d' ' -f1)" = "${ids[$i]}" ]
  done
}

@test "zstd:chunked through a registry: annotations in the pushed manifest, blobs verified after pulling" {
  f copy -q --dest-tls-verify=false --dest-compress-format zstd:chunked "dir:$SAMPLES/tars" "docker://$REG_ADDR/chunked/img:v1"
  raw=$(f inspect --tls-verify=false --raw "docker://$REG_ADDR/chunked/img:v1")
  jq -e '.layers | length == 2 and all(.[]; .annotations["io.containers.zstd-chunked.manifest-checksum"] | startswith("sha256:"))' <<<"$raw" >/dev/null
  # Pulled unchanged (zstd stays zstd, the annotations stay with it).
  f copy -q --src-tls-verify=false "docker://$REG_ADDR/chunked/img:v1" "oci:$BATS_TEST_TMPDIR/pulled:x"
  [ "$(manifest_of "$BATS_TEST_TMPDIR/pulled")" = "$raw" ]
  check_layers "$BATS_TEST_TMPDIR/pulled"
  # The output is deterministic: with --dest-precompute-digests and a fresh
  # cache the registry is found to have both layers, nothing is uploaded.
  first=$(log_lines)
  FERRY_BLOB_INFO_CACHE_DIR=$BATS_TEST_TMPDIR/cache f copy -q --dest-tls-verify=false --dest-precompute-digests \
    --dest-compress-format zstd:chunked "dir:$SAMPLES/tars" "docker://$REG_ADDR/chunked/img:v2"
  [ "$(log_since "$first" 'POST /v2/chunked/img/blobs/uploads/')" = 0 ]
  [ "$(f inspect --tls-verify=false --raw "docker://$REG_ADDR/chunked/img:v2")" = "$raw" ]
}

@test "an already chunked layer is kept as it is for zstd:chunked and zstd (skopeo 1.9.3 re-chunks it)" {
  f copy -q --dest-compress-format zstd:chunked "dir:$SAMPLES/tars" "oci:$BATS_TEST_TMPDIR/a:x"
  f copy -q --dest-compress-format zstd:chunked "oci:$BATS_TEST_TMPDIR/a:x" "dir:$BATS_TEST_TMPDIR/b"
  f copy -q --dest-compress --dest-compress-format zstd "oci:$BATS_TEST_TMPDIR/a:x" "dir:$BATS_TEST_TMPDIR/c"
  want=$(manifest_of "$BATS_TEST_TMPDIR/a" | jq -c .layers)
  [ "$(jq -c .layers "$BATS_TEST_TMPDIR/b/manifest.json")" = "$want" ]
  [ "$(jq -c .layers "$BATS_TEST_TMPDIR/c/manifest.json")" = "$want" ]
}

@test "a chunked layer converted to gzip loses the TOC annotations that no longer describe it" {
  f copy -q --dest-compress-format zstd:chunked "dir:$SAMPLES/tars" "oci:$BATS_TEST_TMPDIR/a:x"
  f copy -q --dest-compress --dest-compress-format gzip "oci:$BATS_TEST_TMPDIR/a:x" "dir:$BATS_TEST_TMPDIR/g"
  jq -e 'all(.layers[]; .mediaType == "application/vnd.oci.image.layer.v1.tar+gzip" and (has("annotations") | not))' \
    "$BATS_TEST_TMPDIR/g/manifest.json" >/dev/null
}

@test "zstd:chunked of a layer that is not a tar: a clear error and no image" {
  run_f copy --dest-compress-format zstd:chunked "dir:$SAMPLES/not-tar" "oci:$BATS_TEST_TMPDIR/n:x"
  [ "$status" -eq 1 ]
  expect_output_contains "invalid tar header (checksum mismatch) in tar stream at byte 512"
  [ ! -e "$BATS_TEST_TMPDIR/n/index.json" ] || [ "$(jq '.manifests | length' "$BATS_TEST_TMPDIR/n/index.json")" = 0 ]
  run_f copy --dest-tls-verify=false --dest-compress-format zstd:chunked "dir:$SAMPLES/not-tar" "docker://$REG_ADDR/chunked/bad:v1"
  [ "$status" -eq 1 ]
  run_f inspect --tls-verify=false --raw "docker://$REG_ADDR/chunked/bad:v1"
  [ "$status" -ne 0 ]
}
