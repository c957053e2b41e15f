#!/usr/bin/env bats
# Copies between every pair of local formats, checked against skopeo 1.9.3:
# what ferry writes skopeo reads (and the other way round), with the same
# manifest digests where no conversion is involved, and identical inspect
# output.

load helpers

setup_file() { make_samples; }

# Reference strings for each local transport under a directory.
ref_for() {  # FORMAT DIR
  case $1 in
    oci) echo "oci:$2/oci:img" ;;
    dir) echo "dir:$2/dir" ;;
    docker-archive) echo "docker-archive:$2/img.tar:ferry/test:1" ;;
    oci-archive) echo "oci-archive:$2/img-oci.tar:img" ;;
  esac
}

FORMATS="oci dir docker-archive oci-archive"

@test "ferry writes every local format and skopeo reads it identically" {
  src="oci:$SAMPLES/oci:latest"
  for fmt in $FORMATS; do
    d=$BATS_TEST_TMPDIR/$fmt
    mkdir -p "$d"
    dst=$(ref_for "$fmt" "$d")
    f copy -q "$src" "$dst"
    s inspect --no-tags "$dst" | inspect_common > "$d/skopeo.json"
    f inspect --no-tags "$dst" | inspect_common > "$d/ferry.json"
    diff -u "$d/skopeo.json" "$d/ferry.json"
    s inspect --raw "$dst" > "$d/skopeo.raw"
    f inspect --raw "$dst" > "$d/ferry.raw"
    cmp "$d/skopeo.raw" "$d/ferry.raw"
  done
}

@test "every pair of local formats: ferry copy, skopeo verifies the result" {
  for from in $FORMATS; do
    a=$BATS_TEST_TMPDIR/src-$from
    mkdir -p "$a"
    srcref=$(ref_for "$from" "$a")
    s copy -q "oci:$SAMPLES/oci:latest" "$srcref"
    for to in $FORMATS; do
      b=$BATS_TEST_TMPDIR/$from-to-$to
      mkdir -p "$b"
      dstref=$(ref_for "$to" "$b")
      f copy -q "$srcref" "$dstref"
      # skopeo copies ferry's output once more: it verifies every digest.
      s copy -q "$dstref" "dir:$b/verify"
      s inspect --no-tags "$dstref" | jq -r '.Layers | length' > "$b/n"
      [ "$(cat "$b/n")" = 3 ]
    done
  done
}

@test "conversion v2s2 -> OCI gives the manifest digest skopeo gives" {
  s copy -q "dir:$SAMPLES/v2s2" "oci:$BATS_TEST_TMPDIR/by-skopeo:x"
  f copy -q "dir:$SAMPLES/v2s2" "oci:$BATS_TEST_TMPDIR/by-ferry:x"
  # index.json itself differs on purpose: ferry writes "mediaType" as skopeo >= 1.22 does.
  diff <(jq -c .manifests "$BATS_TEST_TMPDIR/by-skopeo/index.json") <(jq -c .manifests "$BATS_TEST_TMPDIR/by-ferry/index.json")
  want=$(s inspect --format '{{.Digest}}' "oci:$BATS_TEST_TMPDIR/by-skopeo:x")
  got=$(f inspect --format '{{.Digest}}' "oci:$BATS_TEST_TMPDIR/by-ferry:x")
  [ "$want" = "$got" ]
}

@test "conversion OCI -> v2s2 (--format v2s2) gives the manifest digest skopeo gives" {
  s copy -q --format v2s2 "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/by-skopeo"
  f copy -q --format v2s2 "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/by-ferry"
  cmp "$BATS_TEST_TMPDIR/by-skopeo/manifest.json" "$BATS_TEST_TMPDIR/by-ferry/manifest.json"
}

@test "skopeo writes, ferry reads: every local format" {
  for fmt in $FORMATS; do
    d=$BATS_TEST_TMPDIR/$fmt
    mkdir -p "$d"
    ref=$(ref_for "$fmt" "$d")
    s copy -q "dir:$SAMPLES/v2s2" "$ref"
    f copy -q "$ref" "dir:$d/back"
    s inspect --no-tags "$ref" | inspect_common > "$d/skopeo.json"
    f inspect --no-tags "$ref" | inspect_common > "$d/ferry.json"
    diff -u "$d/skopeo.json" "$d/ferry.json"
  done
}

@test "docker-archive written by ferry has skopeo's layout and tags" {
  f copy -q --additional-tag extra/name:2 "oci:$SAMPLES/oci:latest" "docker-archive:$BATS_TEST_TMPDIR/f.tar:ferry/test:1"
  s copy -q --additional-tag extra/name:2 "oci:$SAMPLES/oci:latest" "docker-archive:$BATS_TEST_TMPDIR/s.tar:ferry/test:1"
  tar tf "$BATS_TEST_TMPDIR/f.tar" | sort > "$BATS_TEST_TMPDIR/f.list"
  tar tf "$BATS_TEST_TMPDIR/s.tar" | sort > "$BATS_TEST_TMPDIR/s.list"
  diff -u "$BATS_TEST_TMPDIR/s.list" "$BATS_TEST_TMPDIR/f.list"
  tar xOf "$BATS_TEST_TMPDIR/f.tar" manifest.json | jq -c '.[0].RepoTags' > "$BATS_TEST_TMPDIR/tags"
  [ "$(cat "$BATS_TEST_TMPDIR/tags")" = '["docker.io/ferry/test:1","docker.io/extra/name:2"]' ]
}

@test "copy --all of a multi-arch index keeps it byte-identical between OCI layouts" {
  f copy -q --all "oci:$SAMPLES/multi-oci:latest" "oci:$BATS_TEST_TMPDIR/m:x"
  want=$(s inspect --raw "oci:$SAMPLES/multi-oci:latest" | sha256sum)
  got=$(s inspect --raw "oci:$BATS_TEST_TMPDIR/m:x" | sha256sum)
  [ "$want" = "$got" ]
  s copy -q --all "oci:$BATS_TEST_TMPDIR/m:x" "dir:$BATS_TEST_TMPDIR/verify"
}

@test "copy --all of a Docker list to OCI converts it as skopeo does" {
  s copy -q --all "dir:$SAMPLES/multi-v2s2" "oci:$BATS_TEST_TMPDIR/s:x"
  f copy -q --all "dir:$SAMPLES/multi-v2s2" "oci:$BATS_TEST_TMPDIR/f:x"
  diff <(jq -c .manifests "$BATS_TEST_TMPDIR/s/index.json") <(jq -c .manifests "$BATS_TEST_TMPDIR/f/index.json")
  cmp <(s inspect --raw "oci:$BATS_TEST_TMPDIR/s:x") <(f inspect --raw "oci:$BATS_TEST_TMPDIR/f:x")
}

@test "a list without --all copies the instance for the chosen platform" {
  f --override-arch arm64 copy -q "oci:$SAMPLES/multi-oci:latest" "oci:$BATS_TEST_TMPDIR/one:x"
  arch=$(s inspect --config "oci:$BATS_TEST_TMPDIR/one:x" | jq -r .architecture)
  [ "$arch" = arm64 ]
  run_f --override-arch s390x copy -q "oci:$SAMPLES/multi-oci:latest" "oci:$BATS_TEST_TMPDIR/none:x"
  expect_status 1
  expect_output_contains 'no image found in image index for architecture s390x'
}

@test "copy to docker-archive of a whole list is refused" {
  run_f copy --all "oci:$SAMPLES/multi-oci:latest" "docker-archive:$BATS_TEST_TMPDIR/x.tar:a/b:c"
  expect_status 1
  expect_output_contains 'does not support copying multiple images as a group'
  [ ! -e "$BATS_TEST_TMPDIR/x.tar" ]
}

@test "a corrupted layer fails the copy and leaves every destination untouched" {
  cp -r "$SAMPLES/oci" "$BATS_TEST_TMPDIR/bad"
  layer=$(jq -r '.layers[1].digest' "$BATS_TEST_TMPDIR/bad/blobs/sha256/$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/bad/index.json" | cut -d: -f2)" | cut -d: -f2)
  printf 'X' | dd of="$BATS_TEST_TMPDIR/bad/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc 2>/dev/null
  # An existing OCI layout keeps its index.json byte for byte. (It must not
  # hold the corrupted layer already: a blob the destination has is reused
  # without being read, as skopeo does.)
  f copy -q "oci:$SAMPLES/multi-oci:latest" "oci:$BATS_TEST_TMPDIR/dst:keep"
  cp "$BATS_TEST_TMPDIR/dst/index.json" "$BATS_TEST_TMPDIR/index.before"
  for dst in "oci:$BATS_TEST_TMPDIR/dst:new" "dir:$BATS_TEST_TMPDIR/d" \
             "docker-archive:$BATS_TEST_TMPDIR/a.tar:x/y:z" "oci-archive:$BATS_TEST_TMPDIR/o.tar:t"; do
    run_f copy -q "oci:$BATS_TEST_TMPDIR/bad:latest" "$dst"
    expect_status 1
    expect_output_contains "$layer"
  done
  cmp "$BATS_TEST_TMPDIR/index.before" "$BATS_TEST_TMPDIR/dst/index.json"
  [ ! -e "$BATS_TEST_TMPDIR/d" ]
  [ ! -e "$BATS_TEST_TMPDIR/a.tar" ]
  [ ! -e "$BATS_TEST_TMPDIR/o.tar" ]
  # No temporary files left beside the destinations.
  [ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep -v -e '^bad$' -e '^dst$' -e '^index.before$')" ]
}

@test "--digestfile writes the digest skopeo reports" {
  f copy -q --digestfile "$BATS_TEST_TMPDIR/d" "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/x"
  want=$(s manifest-digest "$BATS_TEST_TMPDIR/x/manifest.json")
  [ "$(cat "$BATS_TEST_TMPDIR/d")" = "$want" ]
}

@test "--preserve-digests refuses nothing and keeps the source format" {
  f copy -q --preserve-digests "dir:$SAMPLES/v2s2" "dir:$BATS_TEST_TMPDIR/x"
  cmp "$SAMPLES/v2s2/manifest.json" "$BATS_TEST_TMPDIR/x/manifest.json"
}

@test "copy prints skopeo's progress lines when not on a terminal" {
  run_f copy "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/x"
  expect_status 0
  [ "${lines[0]}" = "Getting image source signatures" ]
  expect_output_contains "Copying blob sha256:"
  expect_output_contains "Copying config sha256:"
  [ "${lines[-1]}" = "Writing manifest to image destination" ]
}
