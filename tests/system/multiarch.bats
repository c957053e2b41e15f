#!/usr/bin/env bats
# copy --all of multi-arch lists against a real registry: the instances'
# layers through one shared pool (a blob several instances share copied
# once), skopeo's exact lines with --image-parallel-copies 1, conversion of
# every instance (the list rewritten), a failing instance leaving no tag,
# and --dest-precompute-digests skipping converted layers the registry has.

load helpers
load registry

OCI_INDEX=application/vnd.oci.image.index.v1+json

setup_file() {
  export SAMPLES=$BATS_FILE_TMPDIR/samples
  mkdir -p "$SAMPLES"
  "$SAMPLE_SCRIPT" "$SAMPLES/multi" latest --multiarch >/dev/null
  "$SAMPLE_SCRIPT" "$SAMPLES/oci" latest --extra-layers 2 >/dev/null
  make_shared_index "$SAMPLES/shared"
  start_registry reg
}

teardown_file() { stop_registries; }

# make_shared_index OUT: an OCI layout whose index has two instances, A with
# layers L0 L1 L2 and B with L0 L1 (the sample script's layers are
# reproducible, so two samples share them).
make_shared_index() {
  local out=$1 parts=$BATS_FILE_TMPDIR/parts idx hex
  "$SAMPLE_SCRIPT" "$parts/a" latest --extra-layers 2 >/dev/null
  "$SAMPLE_SCRIPT" "$parts/b" latest --extra-layers 1 >/dev/null
  mkdir -p "$out/blobs/sha256"
  cp "$parts"/a/blobs/sha256/* "$out/blobs/sha256/"
  cp -n "$parts"/b/blobs/sha256/* "$out/blobs/sha256/"
  idx=$(jq -cn --arg mt "$OCI_INDEX" \
    --argjson a "$(jq -c '.manifests[0] | {mediaType, digest, size}' "$parts/a/index.json")" \
    --argjson b "$(jq -c '.manifests[0] | {mediaType, digest, size}' "$parts/b/index.json")" \
    '{schemaVersion: 2, mediaType: $mt, manifests: [
       $a + {platform: {architecture: "amd64", os: "linux"}},
       $b + {platform: {architecture: "arm64", os: "linux"}}]}')
  printf '%s' "$idx" > "$out/idx.tmp"
  hex=$(sha256sum "$out/idx.tmp" | cut -d' ' -f1)
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
    "$OCI_INDEX" "$hex" "$(stat -c %s "$out/idx.tmp")" > "$out/index.json"
  mv "$out/idx.tmp" "$out/blobs/sha256/$hex"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
}

# Blobs of an OCI layout, by digest.
blob() {  # LAYOUT DIGEST
  cat "$1/blobs/sha256/${2#sha256:}"
}
top_index() { blob "$1" "$(jq -r '.manifests[0].digest' "$1/index.json")"; }
instance_digests() { top_index "$1" | jq -r '.manifests[].digest'; }

# skopeo 1.9.3's plain lines in the wording ferry follows (newer skopeo's):
# the list summary line changed, and "Storing signatures" is printed only
# when there are signatures.
skopeo_lines_as_today() {
  sed -E 's/^Copying ([0-9]+) of ([0-9]+) images in list$/Copying \1 images generated from \2 images in list/' |
    grep -vxE 'Storing (list )?signatures'
}


@test "--all registry to registry: the index byte-identical to the source's and to skopeo's, readable by skopeo" {
  s copy -q --all --dest-tls-verify=false "oci:$SAMPLES/multi:latest" "docker://$REG_ADDR/src/multi:v1"
  src="docker://$REG_ADDR/src/multi:v1"
  s copy -q --all --src-tls-verify=false --dest-tls-verify=false "$src" "docker://$REG_ADDR/all/skopeo:v1"
  f copy -q --all --src-tls-verify=false --dest-tls-verify=false "$src" "docker://$REG_ADDR/all/ferry:v1"
  want=$(s inspect --raw --tls-verify=false "$src" | sha256sum)
  [ "$(s inspect --raw --tls-verify=false "docker://$REG_ADDR/all/ferry:v1" | sha256sum)" = "$want" ]
  [ "$(s inspect --raw --tls-verify=false "docker://$REG_ADDR/all/skopeo:v1" | sha256sum)" = "$want" ]
  [ "$(top_index "$SAMPLES/multi" | sha256sum)" = "$want" ]
  # Every instance, config and layer is there: skopeo copies it all back out.
  s copy -q --all --src-tls-verify=false "docker://$REG_ADDR/all/ferry:v1" "oci:$BATS_TEST_TMPDIR/back:x"
  for d in $(instance_digests "$SAMPLES/multi"); do
    cmp <(blob "$SAMPLES/multi" "$d") <(blob "$BATS_TEST_TMPDIR/back" "$d")
    cfg=$(blob "$SAMPLES/multi" "$d" | jq -r .config.digest)
    cmp <(blob "$SAMPLES/multi" "$cfg") <(blob "$BATS_TEST_TMPDIR/back" "$cfg")
  done
}

@test "--all with --image-parallel-copies 1 prints skopeo's lines in skopeo's order" {
  s copy -q --all --dest-tls-verify=false "oci:$SAMPLES/multi:latest" "docker://$REG_ADDR/lines/src:v1"
  src="docker://$REG_ADDR/lines/src:v1"
  s copy --all --src-tls-verify=false --dest-tls-verify=false "$src" "docker://$REG_ADDR/lines/skopeo:v1" \
    | skopeo_lines_as_today > "$BATS_TEST_TMPDIR/skopeo.out"
  f copy --all --image-parallel-copies 1 --src-tls-verify=false --dest-tls-verify=false "$src" \
    "docker://$REG_ADDR/lines/ferry:v1" > "$BATS_TEST_TMPDIR/ferry.out"
  diff -u "$BATS_TEST_TMPDIR/skopeo.out" "$BATS_TEST_TMPDIR/ferry.out"
  # What is compared: each instance's own blob, config and manifest lines.
  [ "$(grep -c '^Copying image sha256:' "$BATS_TEST_TMPDIR/ferry.out")" = 2 ]
  [ "$(grep -c '^Copying blob sha256:' "$BATS_TEST_TMPDIR/ferry.out")" = 2 ]
  [ "$(grep -c '^Copying config sha256:' "$BATS_TEST_TMPDIR/ferry.out")" = 2 ]
}

@test "--all in parallel: every 'Copying image' line first, the shared blob once, then configs and manifests in list order" {
  mapfile -t inst < <(instance_digests "$SAMPLES/multi")
  i1=${inst[0]} i2=${inst[1]}
  layer=$(blob "$SAMPLES/multi" "$i1" | jq -r '.layers[0].digest')
  [ "$(blob "$SAMPLES/multi" "$i2" | jq -r '.layers[0].digest')" = "$layer" ]
  c1=$(blob "$SAMPLES/multi" "$i1" | jq -r .config.digest)
  c2=$(blob "$SAMPLES/multi" "$i2" | jq -r .config.digest)
  f copy --all --dest-tls-verify=false "oci:$SAMPLES/multi:latest" "docker://$REG_ADDR/par/multi:v1" > "$BATS_TEST_TMPDIR/out"
  cat > "$BATS_TEST_TMPDIR/want" <<EOF
Getting image list signatures
Copying 2 images generated from 2 images in list
Copying image $i1 (1/2)
Copying image $i2 (2/2)
Getting image source signatures
Getting image source signatures
Copying blob $layer
Copying config $c1
Writing manifest to image destination
Copying config $c2
Writing manifest to image destination
Writing manifest list to image destination
EOF
  diff -u "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
  cmp <(top_index "$SAMPLES/multi") <(s inspect --raw --tls-verify=false "docker://$REG_ADDR/par/multi:v1")
}

@test "instances sharing layers: each shared blob is uploaded once, the result is the source" {
  first=$(log_lines)
  f copy --all --dest-tls-verify=false "oci:$SAMPLES/shared:latest" "docker://$REG_ADDR/shared/img:v1" > "$BATS_TEST_TMPDIR/out"
  mapfile -t inst < <(instance_digests "$SAMPLES/shared")
  a=${inst[0]} b=${inst[1]}
  [ "$(blob "$SAMPLES/shared" "$a" | jq '.layers | length')" = 3 ]
  # B's two layers are A's first two.
  [ "$(blob "$SAMPLES/shared" "$b" | jq -c '[.layers[].digest]')" = \
    "$(blob "$SAMPLES/shared" "$a" | jq -c '[.layers[0:2][].digest]')" ]
  for l in $(blob "$SAMPLES/shared" "$a" | jq -r '.layers[].digest'); do
    [ "$(grep -cx "Copying blob $l" "$BATS_TEST_TMPDIR/out")" = 1 ]
  done
  [ "$(grep -c '^Copying blob ' "$BATS_TEST_TMPDIR/out")" = 3 ]
  # 3 layers and 2 configs: five uploads, not seven.
  [ "$(log_since "$first" '"POST /v2/shared/img/blobs/uploads/ HTTP/1.1" 202')" = 5 ]
  cmp <(top_index "$SAMPLES/shared") <(s inspect --raw --tls-verify=false "docker://$REG_ADDR/shared/img:v1")
  s copy -q --all --src-tls-verify=false "docker://$REG_ADDR/shared/img:v1" "oci:$BATS_TEST_TMPDIR/back:x"
  for d in $a $b; do cmp <(blob "$SAMPLES/shared" "$d") <(blob "$BATS_TEST_TMPDIR/back" "$d"); done

  # One instance after the other (skopeo's way), B finds the shared
  # layers already there, and says so with a line of its own.
  f copy --all --image-parallel-copies 1 --dest-tls-verify=false "oci:$SAMPLES/shared:latest" \
    "docker://$REG_ADDR/shared/seq:v1" > "$BATS_TEST_TMPDIR/seq.out"
  l0=$(blob "$SAMPLES/shared" "$a" | jq -r '.layers[0].digest')
  [ "$(grep -cx "Copying blob $l0" "$BATS_TEST_TMPDIR/seq.out")" = 2 ]
}

@test "--all --dest-compress-format zstd: every instance converted, the index rewritten, diff_ids unchanged" {
  f copy --all --dest-compress-format zstd --dest-tls-verify=false "oci:$SAMPLES/multi:latest" \
    "docker://$REG_ADDR/zstd/img:v1" > "$BATS_TEST_TMPDIR/out"
  dst="docker://$REG_ADDR/zstd/img:v1"
  s inspect --raw --tls-verify=false "$dst" > "$BATS_TEST_TMPDIR/index.json"
  [ "$(sha256sum < "$BATS_TEST_TMPDIR/index.json")" != "$(top_index "$SAMPLES/multi" | sha256sum)" ]
  [ "$(jq -r .mediaType "$BATS_TEST_TMPDIR/index.json")" = "$OCI_INDEX" ]
  [ "$(jq -c '[.manifests[].platform]' "$BATS_TEST_TMPDIR/index.json")" = \
    "$(top_index "$SAMPLES/multi" | jq -c '[.manifests[].platform]')" ]
  # The layer both instances share was converted once.
  layer=$(blob "$SAMPLES/multi" "$(instance_digests "$SAMPLES/multi" | head -1)" | jq -r '.layers[0].digest')
  [ "$(grep -cx "Copying blob $layer" "$BATS_TEST_TMPDIR/out")" = 1 ]

  s copy -q --all --src-tls-verify=false "$dst" "oci:$BATS_TEST_TMPDIR/back:x"
  src_instances=($(instance_digests "$SAMPLES/multi"))
  i=0
  for d in $(jq -r '.manifests[].digest' "$BATS_TEST_TMPDIR/index.json"); do
    m=$(blob "$BATS_TEST_TMPDIR/back" "$d")
    [ "$(jq -r '[.layers[].mediaType] | unique | join(",")' <<<"$m")" = application/vnd.oci.image.layer.v1.tar+zstd ]
    cfg=$(jq -r .config.digest <<<"$m")
    want_ids=$(blob "$SAMPLES/multi" "$(blob "$SAMPLES/multi" "${src_instances[$i]}" | jq -r .config.digest)" | jq -c .rootfs.diff_ids)
    [ "$(blob "$BATS_TEST_TMPDIR/back" "$cfg" | jq -c .rootfs.diff_ids)" = "$want_ids" ]
    # Each zstd layer decompresses to the content its diff_id names.
    n=0
    for l in $(jq -r '.layers[].digest' <<<"$m"); do
      got=sha256:$(blob "$BATS_TEST_TMPDIR/back" "$l" | zstd -dc | sha256sum | cut -d' ' -f1)
      [ "$got" = "$(jq -r ".[$n]" <<<"$want_ids")" ]
      n=$((n + 1))
    done
    i=$((i + 1))
  done
  [ "$i" = 2 ]
}

@test "a corrupted layer in one instance fails the copy naming instance and blob, and tags nothing" {
  cp -r "$SAMPLES/shared" "$BATS_TEST_TMPDIR/bad"
  a=$(instance_digests "$SAMPLES/shared" | head -1)
  l2=$(blob "$SAMPLES/shared" "$a" | jq -r '.layers[2].digest')
  printf 'X' | dd of="$BATS_TEST_TMPDIR/bad/blobs/sha256/${l2#sha256:}" bs=1 seek=5000 conv=notrunc status=none
  for par in 6 1; do
    run_f copy --all --image-parallel-copies "$par" --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/bad:latest" \
      "docker://$REG_ADDR/fail/p$par:v1"
    expect_status 1
    # Whoever notices first, ferry's verifier or the registry's, the
    # error names the instance and the blob.
    expect_output_contains "copying image 1/2 from manifest list: copying blob $l2: "
    run_f inspect --tls-verify=false "docker://$REG_ADDR/fail/p$par:v1"
    expect_status 2
  done
  # skopeo names the instance the same way. (Into a layout: to a registry it
  # would mount the layer from a repository its own blob cache remembers,
  # never reading the corrupted copy.)
  run s copy --all "oci:$BATS_TEST_TMPDIR/bad:latest" "oci:$BATS_TEST_TMPDIR/by-skopeo:x"
  [ "$status" -ne 0 ]
  expect_output_contains "copying image 1/2 from manifest list: "
  expect_output_contains "Digest did not match, expected $l2, got sha256:"
}

@test "an unreadable instance manifest fails before any layer is copied" {
  cp -r "$SAMPLES/shared" "$BATS_TEST_TMPDIR/bad"
  b=$(instance_digests "$SAMPLES/shared" | tail -1)
  rm "$BATS_TEST_TMPDIR/bad/blobs/sha256/${b#sha256:}"
  first=$(log_lines)
  run_f copy --all --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/bad:latest" "docker://$REG_ADDR/fail/manifest:v1"
  expect_status 1
  expect_output_contains "copying image 2/2 from manifest list: "
  [ "$(log_since "$first" '/v2/fail/manifest/blobs/')" = 0 ]
  run_f inspect --tls-verify=false "docker://$REG_ADDR/fail/manifest:v1"
  expect_status 2
}

@test "--dest-precompute-digests: a converted layer the registry already has is not uploaded again" {
  src="oci:$SAMPLES/oci:latest"
  dst="docker://$REG_ADDR/pre/img"
  layers=$(blob "$SAMPLES/oci" "$(jq -r '.manifests[0].digest' "$SAMPLES/oci/index.json")" | jq -r '.layers[].digest')
  f copy -q --dest-compress-format zstd --dest-tls-verify=false "$src" "$dst:a"

  # A fresh blob-info cache knows nothing of the zstd forms: without the
  # flag their digests are unknown until uploaded, so they are uploaded.
  first=$(log_lines)
  FERRY_BLOB_INFO_CACHE_DIR=$BATS_TEST_TMPDIR/cache-b \
    f copy -q --dest-compress-format zstd --dest-tls-verify=false "$src" "$dst:b"
  [ "$(log_since "$first" '"POST /v2/pre/img/blobs/uploads/ HTTP/1.1" 202')" = 3 ]

  mkdir "$BATS_TEST_TMPDIR/tmp"
  first=$(log_lines)
  FERRY_BLOB_INFO_CACHE_DIR=$BATS_TEST_TMPDIR/cache-c FERRY_PROGRESS=bars \
    f --tmpdir "$BATS_TEST_TMPDIR/tmp" copy --dest-precompute-digests --dest-compress-format zstd \
    --dest-tls-verify=false "$src" "$dst:c" > "$BATS_TEST_TMPDIR/bars.out"
  [ "$(log_since "$first" 'POST /v2/pre/img/blobs/uploads/')" = 0 ]
  for l in $layers; do
    grep -q "Copying blob $(echo "${l#sha256:}" | cut -c1-12) skipped: already exists" "$BATS_TEST_TMPDIR/bars.out"
  done
  [ "$(s inspect --raw --tls-verify=false "$dst:c" | sha256sum)" = "$(s inspect --raw --tls-verify=false "$dst:a" | sha256sum)" ]
  # The temporary copies are gone.
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/tmp")" ]

  # A new repository: the flag computes the digests, finds nothing, uploads
  # from the temporary files; plain lines as usual.
  FERRY_BLOB_INFO_CACHE_DIR=$BATS_TEST_TMPDIR/cache-d \
    f --tmpdir "$BATS_TEST_TMPDIR/tmp" copy --dest-precompute-digests --dest-compress-format zstd \
    --dest-tls-verify=false "$src" "docker://$REG_ADDR/pre/other:v1" > "$BATS_TEST_TMPDIR/plain.out"
  for l in $layers; do [ "$(grep -cx "Copying blob $l" "$BATS_TEST_TMPDIR/plain.out")" = 1 ]; done
  [ "$(s inspect --raw --tls-verify=false "docker://$REG_ADDR/pre/other:v1" | sha256sum)" = \
    "$(s inspect --raw --tls-verify=false "$dst:a" | sha256sum)" ]
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/tmp")" ]

  # Other destinations accept the flag and ignore it.
  f copy -q --dest-precompute-digests --dest-compress-format zstd "$src" "oci:$BATS_TEST_TMPDIR/o:x"
}
