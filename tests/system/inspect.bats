#!/usr/bin/env bats
# inspect: JSON, --raw, --config, --config --raw and Go templates, compared
# with skopeo 1.9.3 wherever both produce the same thing.

load helpers

setup_file() { make_samples; }

@test "inspect JSON is byte-identical to skopeo's apart from LayersData" {
  for ref in "oci:$SAMPLES/oci:latest" "dir:$SAMPLES/v2s2" "oci:$SAMPLES/multi-oci:latest"; do
    diff <(skopeo inspect "$ref" | jq -S 'del(.LayersData)') <("$FERRY" inspect "$ref" | jq -S 'del(.LayersData)')
    # Byte layout (4-space indent, key order) too, once LayersData is cut out.
    diff <(skopeo inspect "$ref") <("$FERRY" inspect "$ref" | python3 -c '
import sys, json, collections
d = json.loads(sys.stdin.read(), object_pairs_hook=collections.OrderedDict)
d.pop("LayersData", None)
sys.stdout.write(json.dumps(d, indent=4, ensure_ascii=False) + "\n")')
  done
}

@test "LayersData lists media type, digest and size of every layer" {
  out=$("$FERRY" inspect "oci:$SAMPLES/oci:latest")
  [ "$(jq '.LayersData | length' <<<"$out")" = 3 ]
  [ "$(jq -r '.LayersData[0].MIMEType' <<<"$out")" = "application/vnd.oci.image.layer.v1.tar+gzip" ]
  [ "$(jq -r '.LayersData[0].Digest' <<<"$out")" = "$(jq -r '.Layers[0]' <<<"$out")" ]
  [ "$(jq -r '.LayersData[0].Annotations' <<<"$out")" = null ]
}

@test "--raw is the stored manifest byte for byte, without a newline" {
  for ref in "oci:$SAMPLES/oci:latest" "dir:$SAMPLES/v2s2" "oci:$SAMPLES/multi-oci:latest"; do
    cmp <(skopeo inspect --raw "$ref") <("$FERRY" inspect --raw "$ref")
  done
}

@test "--config and --config --raw match skopeo" {
  for ref in "oci:$SAMPLES/oci:latest" "dir:$SAMPLES/v2s2" "oci:$SAMPLES/multi-oci:latest"; do
    cmp <(skopeo inspect --config "$ref") <("$FERRY" inspect --config "$ref")
    cmp <(skopeo inspect --config --raw "$ref") <("$FERRY" inspect --config --raw "$ref")
  done
}

@test "--format templates render as Go's text/template" {
  ref="oci:$SAMPLES/oci:latest"
  for t in '{{.Digest}}' '{{.Architecture}}/{{.Os}}' '{{len .Layers}}' '{{range .Layers}}{{.}} {{end}}' \
           '{{index .Labels "org.opencontainers.image.title"}}' '{{if .Labels}}labelled{{else}}bare{{end}}' \
           '{{.Created}}' '{{.Env}}' '{{.Labels}}' '{{.RepoTags}}'; do
    [ "$(skopeo inspect --format "$t" "$ref")" = "$("$FERRY" inspect --format "$t" "$ref")" ]
  done
  [ "$("$FERRY" inspect --format '{{join .Env ","}}' "$ref")" = "PATH=/bin" ]
  [ "$("$FERRY" inspect --format '{{json .Labels}}' "$ref")" = '{"org.opencontainers.image.title":"ferry-sample"}' ]
  [ "$("$FERRY" inspect --format '{{upper .Os}}' "$ref")" = "LINUX" ]
}

@test "--format json prints the default JSON; --raw with --format is refused" {
  diff <("$FERRY" inspect "oci:$SAMPLES/oci:latest") <("$FERRY" inspect --format json "oci:$SAMPLES/oci:latest")
  run "$FERRY" inspect --raw --format '{{.Digest}}' "oci:$SAMPLES/oci:latest"
  expect_status 1
  expect_output_contains "raw output does not support format option"
}

@test "a broken template is reported with its position" {
  run "$FERRY" inspect --format '{{.Digest' "oci:$SAMPLES/oci:latest"
  expect_status 1
  expect_output_contains "template"
  run "$FERRY" inspect --format '{{nosuchfunc .Digest}}' "oci:$SAMPLES/oci:latest"
  expect_status 1
  expect_output_contains 'function \"nosuchfunc\" not defined'
}

@test "inspect of a docker-archive shows the generated manifest skopeo shows" {
  s copy -q "oci:$SAMPLES/oci:latest" "docker-archive:$BATS_TEST_TMPDIR/a.tar:ferry/x:1"
  diff <(skopeo inspect "docker-archive:$BATS_TEST_TMPDIR/a.tar" | jq -S 'del(.LayersData)') \
       <("$FERRY" inspect "docker-archive:$BATS_TEST_TMPDIR/a.tar" | jq -S 'del(.LayersData)')
  cmp <(skopeo inspect --raw "docker-archive:$BATS_TEST_TMPDIR/a.tar") <("$FERRY" inspect --raw "docker-archive:$BATS_TEST_TMPDIR/a.tar")
}
