#!/usr/bin/env bats
# Command-line behaviour shared with skopeo: version, help, usage errors,
# reference errors, manifest-digest, trust policy, exit codes.

load helpers

setup_file() { make_samples; }

@test "--version names ferry and its version" {
  run "$FERRY" --version
  expect_status 0
  [[ "$output" =~ ^ferry\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]]
}

@test "a skopeo symlink presents itself as skopeo" {
  ln -s "$FERRY" "$BATS_TEST_TMPDIR/skopeo"
  run "$BATS_TEST_TMPDIR/skopeo" --version
  expect_status 0
  [[ "$output" =~ ^skopeo\ version ]]
}

@test "no command and an unknown command fail like skopeo" {
  run "$FERRY"
  expect_status 1
  expect_output_contains "Missing command 'ferry COMMAND'"
  run "$FERRY" frobnicate
  expect_status 1
  expect_output_contains 'Unrecognized command `ferry frobnicate`'
}

@test "errors are logged logrus-style when stderr is not a terminal" {
  run "$FERRY" inspect foo
  expect_status 1
  [[ "$output" =~ ^time=\"[0-9T:-]+Z\"\ level=fatal\ msg=\"Error\ parsing\ image\ name\ \\\"foo\\\":\ Invalid\ image\ name\ \\\"foo\\\",\ expected\ colon-separated\ transport:reference\"$ ]]
}

@test "unknown flags and bad flag values are rejected" {
  run "$FERRY" copy --bogus a b
  expect_status 1
  expect_output_contains "unknown flag: --bogus"
  run "$FERRY" inspect --retry-times x oci:/x
  expect_status 1
  expect_output_contains 'invalid argument \"x\" for \"--retry-times\" flag'
}

@test "every command has --help" {
  for c in copy inspect delete list-tags manifest-digest sync login logout standalone-sign standalone-verify generate-sigstore-key; do
    run "$FERRY" "$c" --help
    expect_status 0
    expect_output_contains "Usage:"
  done
  run "$FERRY" --help
  expect_status 0
  expect_output_contains "Available Commands:"
  run "$FERRY" help copy
  expect_status 0
  expect_output_contains "SOURCE-IMAGE DESTINATION-IMAGE"
}

@test "wrong argument counts" {
  run "$FERRY" inspect a b
  expect_status 1
  expect_output_contains "Exactly one argument expected"
  run "$FERRY" copy a
  expect_status 1
  expect_output_contains "Exactly two arguments expected"
  run "$FERRY" manifest-digest
  expect_status 1
  expect_output_contains "Usage: ferry manifest-digest manifest"
}

@test "reference errors name the reference" {
  run "$FERRY" inspect bar:x
  expect_status 1
  expect_output_contains 'Invalid image name \"bar:x\", unknown transport \"bar\"'
  run "$FERRY" inspect "oci:$BATS_TEST_TMPDIR/nonexistent:x"
  expect_status 1
  expect_output_contains "nonexistent/index.json"
}

@test "a missing OCI tag exits 2, as skopeo >= 1.16" {
  run "$FERRY" inspect "oci:$SAMPLES/oci:nope"
  expect_status 2
  expect_output_contains 'no descriptor found for reference \"nope\"'
}

@test "manifest-digest matches skopeo, including a signed schema1 manifest" {
  for m in "$SAMPLES/v2s2/manifest.json" "$FERRY_SRC/tests/data/schema1/signed.json"; do
    [ -f "$m" ] || continue
    [ "$("$FERRY" manifest-digest "$m")" = "$(skopeo manifest-digest "$m")" ]
  done
}

@test "policy: a missing policy file is an error, --insecure-policy bypasses it" {
  run "$FERRY" --policy "$BATS_TEST_TMPDIR/none.json" copy "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/x"
  expect_status 1
  expect_output_contains "Error loading trust policy"
  [ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "policy: reject for a transport scope refuses the copy before anything is written" {
  cat > "$BATS_TEST_TMPDIR/p.json" <<JSON
{"default":[{"type":"insecureAcceptAnything"}],
 "transports":{"oci":{"$SAMPLES/oci":[{"type":"reject"}]}}}
JSON
  run "$FERRY" --policy "$BATS_TEST_TMPDIR/p.json" copy "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/x"
  expect_status 1
  expect_output_contains "Source image rejected"
  [ ! -e "$BATS_TEST_TMPDIR/x" ]
  # Another scope of the same transport is still accepted.
  run "$FERRY" --policy "$BATS_TEST_TMPDIR/p.json" copy -q "oci:$SAMPLES/multi-oci:latest" "dir:$BATS_TEST_TMPDIR/y"
  expect_status 0
}

@test "policy: signature requirements fail closed until verification lands" {
  cat > "$BATS_TEST_TMPDIR/p.json" <<JSON
{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/dev/null"}]}
JSON
  run "$FERRY" --policy "$BATS_TEST_TMPDIR/p.json" copy "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/x"
  expect_status 1
  expect_output_contains "not supported yet"
  [ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "policy: a malformed policy names the problem" {
  echo '{"default":[{"type":"insecureAcceptAnything"}],"bogus":1}' > "$BATS_TEST_TMPDIR/p.json"
  run "$FERRY" --policy "$BATS_TEST_TMPDIR/p.json" copy "oci:$SAMPLES/oci:latest" "dir:$BATS_TEST_TMPDIR/x"
  expect_status 1
  expect_output_contains 'Unknown key \"bogus\"'
}

@test "commands not implemented yet say so clearly" {
  run "$FERRY" sync --src docker --dest dir a b
  expect_status 1
  expect_output_contains "not supported yet"
  run "$FERRY" inspect docker-daemon:busybox:latest
  expect_status 1
  expect_output_contains "not supported by ferry yet"
}

@test "delete: unsupported transports are refused, oci entries are removed" {
  run "$FERRY" delete "dir:$SAMPLES/v2s2"
  expect_status 1
  expect_output_contains "Deleting images not implemented for dir: images"
  cp -r "$SAMPLES/oci" "$BATS_TEST_TMPDIR/o"
  f copy -q "oci:$SAMPLES/multi-oci:latest" "oci:$BATS_TEST_TMPDIR/o:second"
  "$FERRY" delete "oci:$BATS_TEST_TMPDIR/o:second"
  run "$FERRY" inspect "oci:$BATS_TEST_TMPDIR/o:second"
  expect_status 2
  skopeo inspect "oci:$BATS_TEST_TMPDIR/o:latest" >/dev/null
}

@test "list-tags of a docker-archive matches skopeo" {
  f copy -q --additional-tag other/name:2 "oci:$SAMPLES/oci:latest" "docker-archive:$BATS_TEST_TMPDIR/a.tar:ferry/x:1"
  diff <(skopeo list-tags "docker-archive:$BATS_TEST_TMPDIR/a.tar") <("$FERRY" list-tags "docker-archive:$BATS_TEST_TMPDIR/a.tar")
  run "$FERRY" list-tags "dir:$SAMPLES/v2s2"
  expect_status 1
  expect_output_contains "Unsupported transport 'dir' for tag listing. Only supported: docker, docker-archive"
}
