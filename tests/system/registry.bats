#!/usr/bin/env bats
# docker:// against real registries (CNCF Distribution), checked against
# skopeo 1.9.3: what ferry pushes skopeo pulls and the other way round, the
# same manifest digests, identical inspect / list-tags output, delete,
# TLS, Basic and token auth, cross-repository mounts, blob reuse, and a
# registry dying in the middle of a push.

load helpers
load registry

setup_file() {
  export SAMPLES=$BATS_FILE_TMPDIR/samples
  mkdir -p "$SAMPLES"
  "$SAMPLE_SCRIPT" "$SAMPLES/oci" latest --extra-layers 2 >/dev/null
  "$SAMPLE_SCRIPT" "$SAMPLES/v2s2" --docker --extra-layers 1 >/dev/null
  "$SAMPLE_SCRIPT" "$SAMPLES/multi" latest --multiarch >/dev/null
  start_registry plain --delete --no-wait
  start_registry other --no-wait
  start_registry sec --tls --htpasswd alice:s3cr3t-pw --no-wait
  start_registry tok --token --token-user alice:alice-pw:pull,push --token-user bob:bob-pw:pull --anonymous-pull --no-wait
  wait_registries
  # A pull-through cache of "plain", used as a registries.conf mirror.
  start_registry mirror --proxy-to "$PLAIN_URL"
}

teardown_file() { stop_registries; }

# Number of log lines matching an extended regexp (0 when none).
count_log() {  # FILE REGEX
  grep -cE "$2" "$1" || true
}

@test "ferry pushes to a plain registry, skopeo pulls the same image" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/push/ferry:v1"
  s copy -q --src-tls-verify=false "docker://$PLAIN_ADDR/push/ferry:v1" "dir:$BATS_TEST_TMPDIR/pulled"
  s inspect --tls-verify=false "docker://$PLAIN_ADDR/push/ferry:v1" | inspect_common > "$BATS_TEST_TMPDIR/s.json"
  f inspect --tls-verify=false "docker://$PLAIN_ADDR/push/ferry:v1" | inspect_common > "$BATS_TEST_TMPDIR/f.json"
  diff -u "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/f.json"
  [ "$(jq -r '.Layers | length' "$BATS_TEST_TMPDIR/f.json")" = 3 ]
}

@test "skopeo pushes, ferry pulls: identical manifest and layers" {
  s copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/push/skopeo:v1"
  f copy -q --src-tls-verify=false "docker://$PLAIN_ADDR/push/skopeo:v1" "oci:$BATS_TEST_TMPDIR/by-ferry:x"
  s copy -q --src-tls-verify=false "docker://$PLAIN_ADDR/push/skopeo:v1" "oci:$BATS_TEST_TMPDIR/by-skopeo:x"
  cmp <(s inspect --raw "oci:$BATS_TEST_TMPDIR/by-ferry:x") <(s inspect --raw "oci:$BATS_TEST_TMPDIR/by-skopeo:x")
  # Raw bytes from the registry are exactly what skopeo sees.
  cmp <(f inspect --raw --tls-verify=false "docker://$PLAIN_ADDR/push/skopeo:v1") \
      <(s inspect --raw --tls-verify=false "docker://$PLAIN_ADDR/push/skopeo:v1")
  cmp <(f inspect --config --raw --tls-verify=false "docker://$PLAIN_ADDR/push/skopeo:v1") \
      <(s inspect --config --raw --tls-verify=false "docker://$PLAIN_ADDR/push/skopeo:v1")
}

@test "ferry and skopeo pushing the same images give the same manifest digests" {
  for src in "oci:$SAMPLES/oci:latest" "dir:$SAMPLES/v2s2"; do
    name=$(basename "${src#*:}" | tr -cd 'a-z0-9')
    f copy -q --dest-tls-verify=false "$src" "docker://$PLAIN_ADDR/same/$name:ferry"
    s copy -q --dest-tls-verify=false "$src" "docker://$PLAIN_ADDR/same/$name:skopeo"
    a=$(s inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/same/$name:ferry")
    b=$(s inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/same/$name:skopeo")
    [ -n "$a" ] && [ "$a" = "$b" ]
    c=$(f inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/same/$name:ferry")
    [ "$a" = "$c" ]
  done
  # A format conversion on push (OCI -> v2s2) too.
  f copy -q --format v2s2 --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/same/conv:ferry"
  s copy -q --format v2s2 --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/same/conv:skopeo"
  [ "$(s inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/same/conv:ferry")" = \
    "$(s inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/same/conv:skopeo")" ]
}

@test "multi-arch lists: --all pushes every instance by digest, then the list" {
  f copy -q --all --dest-tls-verify=false "oci:$SAMPLES/multi:latest" "docker://$PLAIN_ADDR/multi/ferry:v1"
  s copy -q --all --dest-tls-verify=false "oci:$SAMPLES/multi:latest" "docker://$PLAIN_ADDR/multi/skopeo:v1"
  cmp <(f inspect --raw --tls-verify=false "docker://$PLAIN_ADDR/multi/ferry:v1") \
      <(s inspect --raw --tls-verify=false "docker://$PLAIN_ADDR/multi/skopeo:v1")
  s copy -q --all --src-tls-verify=false "docker://$PLAIN_ADDR/multi/ferry:v1" "oci:$BATS_TEST_TMPDIR/multi:x"
  # The default picks one instance from the list.
  s inspect --tls-verify=false --override-arch arm64 "docker://$PLAIN_ADDR/multi/ferry:v1" | inspect_common >"$BATS_TEST_TMPDIR/s.json"
  f inspect --tls-verify=false --override-arch arm64 "docker://$PLAIN_ADDR/multi/ferry:v1" | inspect_common >"$BATS_TEST_TMPDIR/f.json"
  diff -u "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/f.json"
}

@test "inspect and list-tags list every tag, exactly as skopeo does" {
  for t in v1 v2 a-b c.d 1.0 latest; do
    s copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/tags/repo:$t"
  done
  s list-tags --tls-verify=false "docker://$PLAIN_ADDR/tags/repo" > "$BATS_TEST_TMPDIR/s.txt"
  f list-tags --tls-verify=false "docker://$PLAIN_ADDR/tags/repo" > "$BATS_TEST_TMPDIR/f.txt"
  diff -u "$BATS_TEST_TMPDIR/s.txt" "$BATS_TEST_TMPDIR/f.txt"
  [ "$(jq -r '.Tags | length' "$BATS_TEST_TMPDIR/f.txt")" = 6 ]
  s inspect --tls-verify=false "docker://$PLAIN_ADDR/tags/repo:v2" | inspect_common > "$BATS_TEST_TMPDIR/s.json"
  f inspect --tls-verify=false "docker://$PLAIN_ADDR/tags/repo:v2" | inspect_common > "$BATS_TEST_TMPDIR/f.json"
  diff -u "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/f.json"
  [ "$(jq -r '.RepoTags | length' "$BATS_TEST_TMPDIR/f.json")" = 6 ]
  f inspect --no-tags --tls-verify=false "docker://$PLAIN_ADDR/tags/repo:v2" | jq -e '.RepoTags == []'
}

@test "inspect lists the tags through the source's client: one ping, one token" {
  f copy -q --dest-tls-verify=false --dest-creds alice:alice-pw "oci:$SAMPLES/oci:latest" "docker://$TOK_ADDR/once/app:v1"
  f copy -q --src-tls-verify=false --dest-tls-verify=false --src-creds alice:alice-pw --dest-creds alice:alice-pw \
    "docker://$TOK_ADDR/once/app:v1" "docker://$TOK_ADDR/once/app:v2"
  start=$(wc -l < "$TOK_LOG") tokens=$(wc -l < "$TOK_TOKEN_LOG")
  f inspect --tls-verify=false --creds alice:alice-pw "docker://$TOK_ADDR/once/app:v1" > "$BATS_TEST_TMPDIR/f.json"
  jq -e '.RepoTags == ["v1", "v2"]' "$BATS_TEST_TMPDIR/f.json"
  # skopeo pings (and authenticates) a second time for the tags.
  requests() { tail -n "+$((start + 1))" "$TOK_LOG" | grep -oE '"(GET|HEAD) /v2/[^ ]*' | sed -E 's/sha256:[0-9a-f]{64}/D/'; }
  [ "$(requests | grep -c '"GET /v2/$')" = 1 ]
  [ "$(requests | grep -c '/tags/list')" = 1 ]
  [ "$(requests | grep -c '/manifests/v1')" = 1 ]
  [ "$(( $(wc -l < "$TOK_TOKEN_LOG") - tokens ))" = 1 ]
}

@test "list-tags errors" {
  run_f list-tags --tls-verify=false "docker://$PLAIN_ADDR/tags/repo:v1"
  expect_status 1
  expect_output_contains "No tag or digest allowed in reference"
  run_f list-tags --tls-verify=false "docker:$PLAIN_ADDR/tags/repo"
  expect_status 1
  expect_output_contains "docker: image reference docker:$PLAIN_ADDR/tags/repo does not start with docker://"
  run_f list-tags --tls-verify=false "docker://$PLAIN_ADDR/no/such/repo"
  expect_status 1
  expect_output_contains "Error listing repository tags: fetching tags list: name unknown"
}

@test "a missing image: inspect exits 2 with the registry's message" {
  run_f inspect --tls-verify=false "docker://$PLAIN_ADDR/push/ferry:nope"
  expect_status 2
  expect_output_contains "reading manifest nope in $PLAIN_ADDR/push/ferry: manifest unknown: manifest unknown"
  run_f inspect --tls-verify=false "docker://$PLAIN_ADDR/push/ferry@sha256:$(printf '0%.0s' {1..64})"
  expect_status 2
  run_f copy --src-tls-verify=false "docker://$PLAIN_ADDR/never/there:x" "oci:$BATS_TEST_TMPDIR/o:x"
  expect_status 2
  expect_output_contains "manifest unknown"
}

@test "delete by tag and by digest" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/del/me:t1"
  f delete --tls-verify=false "docker://$PLAIN_ADDR/del/me:t1"
  run_f inspect --tls-verify=false "docker://$PLAIN_ADDR/del/me:t1"
  expect_status 2
  run s inspect --tls-verify=false "docker://$PLAIN_ADDR/del/me:t1"
  [ "$status" -ne 0 ]

  f copy -q --dest-tls-verify=false "dir:$SAMPLES/v2s2" "docker://$PLAIN_ADDR/del/me:t2"
  d=$(s inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/del/me:t2")
  f delete --tls-verify=false "docker://$PLAIN_ADDR/del/me@$d"
  run_f inspect --tls-verify=false "docker://$PLAIN_ADDR/del/me:t2"
  expect_status 2

  run_f delete --tls-verify=false "docker://$PLAIN_ADDR/del/me:gone"
  expect_status 1
  expect_output_contains "Unable to delete $PLAIN_ADDR/del/me:gone. Image may not exist or is not stored with a v2 Schema in a v2 registry"
}

@test "delete on a registry without deletion enabled fails with the registry's error" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$OTHER_ADDR/nodel:x"
  run_f delete --tls-verify=false "docker://$OTHER_ADDR/nodel:x"
  expect_status 1
  expect_output_contains "deleting $OTHER_ADDR/nodel:x: unsupported"
  f inspect --tls-verify=false "docker://$OTHER_ADDR/nodel:x" >/dev/null
}

@test "TLS registry: --cert-dir trusts its CA, no flag fails, --tls-verify=false skips verification" {
  f copy -q --dest-cert-dir "$SEC_CERTS_DIR" --dest-creds "$SEC_CREDS" "oci:$SAMPLES/oci:latest" "docker://$SEC_ADDR/tls/img:v1"
  f inspect --cert-dir "$SEC_CERTS_DIR" --creds "$SEC_CREDS" "docker://$SEC_ADDR/tls/img:v1" >/dev/null
  f copy -q --src-cert-dir "$SEC_CERTS_DIR" --src-creds "$SEC_CREDS" "docker://$SEC_ADDR/tls/img:v1" "oci:$BATS_TEST_TMPDIR/o:x"
  run_f inspect --creds "$SEC_CREDS" "docker://$SEC_ADDR/tls/img:v1"
  expect_status 1
  expect_output_contains "pinging container registry $SEC_ADDR"
  f inspect --tls-verify=false --creds "$SEC_CREDS" "docker://$SEC_ADDR/tls/img:v1" >/dev/null
  s inspect --cert-dir "$SEC_CERTS_DIR" --creds "$SEC_CREDS" "docker://$SEC_ADDR/tls/img:v1" >/dev/null
}

@test "TLS registry: every request goes over HTTP/1.1" {
  # ferry runs transfers in parallel on connections of their own and never
  # multiplexes; libcurl 7.88's HTTP/2 took twice the CPU for the same layers.
  f copy -q --dest-cert-dir "$SEC_CERTS_DIR" --dest-creds "$SEC_CREDS" "oci:$SAMPLES/oci:latest" "docker://$SEC_ADDR/tls/h1:v1"
  f copy -q --src-cert-dir "$SEC_CERTS_DIR" --src-creds "$SEC_CREDS" "docker://$SEC_ADDR/tls/h1:v1" "oci:$BATS_TEST_TMPDIR/o:x"
  f inspect --cert-dir "$SEC_CERTS_DIR" --creds "$SEC_CREDS" "docker://$SEC_ADDR/tls/h1:v1" >/dev/null
  grep -F ' /v2/tls/h1/' "$SEC_LOG" >"$BATS_TEST_TMPDIR/access.log"
  grep -q '^.*"HEAD /v2/tls/h1/blobs/.* HTTP/1.1" ' "$BATS_TEST_TMPDIR/access.log"
  grep -q '^.*"GET /v2/tls/h1/blobs/.* HTTP/1.1" ' "$BATS_TEST_TMPDIR/access.log"
  grep -q '^.*"PUT /v2/tls/h1/manifests/v1 HTTP/1.1" ' "$BATS_TEST_TMPDIR/access.log"
  run grep -c ' HTTP/2' "$BATS_TEST_TMPDIR/access.log"
  [ "$output" = 0 ]
}

@test "plain HTTP needs --tls-verify=false" {
  run_f inspect "docker://$PLAIN_ADDR/push/ferry:v1"
  expect_status 1
  expect_output_contains "pinging container registry $PLAIN_ADDR"
}

@test "htpasswd: --creds and --dest-creds; wrong or missing credentials fail without leaking the password" {
  f copy -q --dest-cert-dir "$SEC_CERTS_DIR" --dest-creds alice:s3cr3t-pw "oci:$SAMPLES/oci:latest" "docker://$SEC_ADDR/auth/img:v1"
  f inspect --cert-dir "$SEC_CERTS_DIR" --username alice --password s3cr3t-pw "docker://$SEC_ADDR/auth/img:v1" >/dev/null
  run_f inspect --cert-dir "$SEC_CERTS_DIR" --creds alice:WRONG-pw-123 "docker://$SEC_ADDR/auth/img:v1"
  expect_status 1
  expect_output_contains "unauthorized"
  [[ "$output" != *WRONG-pw-123* ]]
  run_f --debug copy --dest-cert-dir "$SEC_CERTS_DIR" --dest-creds alice:WRONG-pw-123 "oci:$SAMPLES/oci:latest" "docker://$SEC_ADDR/auth/img:v2"
  expect_status 1
  [[ "$output" != *WRONG-pw-123* ]]
  [[ "$output" != *YWxpY2U6* ]]  # base64 of "alice:..."
  run_f inspect --cert-dir "$SEC_CERTS_DIR" --no-creds "docker://$SEC_ADDR/auth/img:v1"
  expect_status 1
  expect_output_contains "unauthorized"
}

@test "--authfile with an auth.json" {
  printf '{"auths":{"%s":{"auth":"%s"}}}' "$SEC_ADDR" "$(printf 'alice:s3cr3t-pw' | base64 -w0)" > "$BATS_TEST_TMPDIR/auth.json"
  f copy -q --authfile "$BATS_TEST_TMPDIR/auth.json" --dest-cert-dir "$SEC_CERTS_DIR" "oci:$SAMPLES/oci:latest" "docker://$SEC_ADDR/authfile/img:v1"
  f inspect --authfile "$BATS_TEST_TMPDIR/auth.json" --cert-dir "$SEC_CERTS_DIR" "docker://$SEC_ADDR/authfile/img:v1" >/dev/null
  REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json f list-tags --cert-dir "$SEC_CERTS_DIR" "docker://$SEC_ADDR/authfile/img" | jq -e '.Tags == ["v1"]'
}

@test "token auth: alice pushes, bob cannot push, anonymous pulls" {
  f copy -q --dest-tls-verify=false --dest-creds alice:alice-pw "oci:$SAMPLES/oci:latest" "docker://$TOK_ADDR/team/app:v1"
  grep -q '"user": *"alice"' "$TOK_TOKEN_LOG"
  grep -q 'repository:team/app:pull,push' "$TOK_TOKEN_LOG"
  run_f copy --dest-tls-verify=false --dest-creds bob:bob-pw "oci:$SAMPLES/oci:latest" "docker://$TOK_ADDR/team/app:v2"
  expect_status 1
  [[ "$output" != *bob-pw* ]]
  run_f inspect --tls-verify=false "docker://$TOK_ADDR/team/app:v2"
  expect_status 2
  f inspect --tls-verify=false --no-creds "docker://$TOK_ADDR/team/app:v1" >/dev/null
  f copy -q --src-tls-verify=false "docker://$TOK_ADDR/team/app:v1" "oci:$BATS_TEST_TMPDIR/anon:x"
  s inspect --tls-verify=false --creds bob:bob-pw "docker://$TOK_ADDR/team/app:v1" | inspect_common > "$BATS_TEST_TMPDIR/s.json"
  f inspect --tls-verify=false --creds bob:bob-pw "docker://$TOK_ADDR/team/app:v1" | inspect_common > "$BATS_TEST_TMPDIR/f.json"
  diff -u "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/f.json"
  run_f inspect --tls-verify=false --creds alice:nope-not-it "docker://$TOK_ADDR/team/app:v1"
  expect_status 1
  expect_output_contains "unable to retrieve auth token: invalid username/password"
  [[ "$output" != *nope-not-it* ]]
}

@test "an identity token from auth.json is exchanged with an OAuth2 refresh_token POST" {
  rt=$(curl -sf -u alice:alice-pw "$TOK_TOKEN_URL?service=ferry-test-registry&offline_token=true" | jq -r .refresh_token)
  [ -n "$rt" ] && [ "$rt" != null ]
  # As `docker login` stores it: the user name with an empty password, and the token.
  printf '{"auths":{"%s":{"auth":"%s","identitytoken":"%s"}}}' "$TOK_ADDR" "$(printf 'alice:' | base64 -w0)" "$rt" \
    > "$BATS_TEST_TMPDIR/auth.json"
  f copy -q --authfile "$BATS_TEST_TMPDIR/auth.json" --dest-tls-verify=false "oci:$SAMPLES/oci:latest" \
    "docker://$TOK_ADDR/idtok/img:v1"
  grep '"method": "POST"' "$TOK_TOKEN_LOG" | grep '"grant_type": "refresh_token"' | grep '"client_id": "containers/image"' |
    grep -q 'repository:idtok/img:pull,push'
  run_f --debug inspect --authfile "$BATS_TEST_TMPDIR/auth.json" --tls-verify=false "docker://$TOK_ADDR/idtok/img:v1"
  expect_status 0
  [[ "$output" != *"$rt"* ]]
}

@test "--registry-token is sent as the Bearer token" {
  run_f inspect --tls-verify=false --registry-token not-a-valid-jwt "docker://$TOK_ADDR/team/app:v1"
  expect_status 1
  expect_output_contains "unauthorized"
  [[ "$output" != *not-a-valid-jwt* ]]
}

@test "copy between two repositories of one registry mounts blobs instead of uploading them" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/mount/src:v1"
  before=$(count_log "$PLAIN_LOG" '"PUT /v2/mount/dst/blobs/uploads/')
  f copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$PLAIN_ADDR/mount/src:v1" "docker://$PLAIN_ADDR/mount/dst:v1"
  # Three layers and the config: all mounted.
  [ "$(count_log "$PLAIN_LOG" '"POST /v2/mount/dst/blobs/uploads/\?from=mount%2Fsrc&mount=sha256%3A[0-9a-f]{64} HTTP/1.1" 201')" -ge 4 ]
  [ "$(count_log "$PLAIN_LOG" '"PUT /v2/mount/dst/blobs/uploads/')" = "$before" ]
  s copy -q --src-tls-verify=false "docker://$PLAIN_ADDR/mount/dst:v1" "dir:$BATS_TEST_TMPDIR/check"
}

@test "with token auth the mount asks for pull on the source repository" {
  f copy -q --dest-tls-verify=false --dest-creds alice:alice-pw "oci:$SAMPLES/oci:latest" "docker://$TOK_ADDR/m/src:v1"
  f copy -q --src-tls-verify=false --dest-tls-verify=false --src-creds alice:alice-pw --dest-creds alice:alice-pw \
    "docker://$TOK_ADDR/m/src:v1" "docker://$TOK_ADDR/m/dst:v1"
  grep 'repository:m/dst:pull,push' "$TOK_TOKEN_LOG" | grep -q 'repository:m/src:pull'
  [ "$(count_log "$TOK_LOG" '"PUT /v2/m/dst/blobs/uploads/')" = 0 ]
  f inspect --tls-verify=false --no-creds "docker://$TOK_ADDR/m/dst:v1" >/dev/null
}

@test "blobs already in the repository are not uploaded again" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/reuse/img:v1"
  before=$(count_log "$PLAIN_LOG" '"PUT /v2/reuse/img/blobs/uploads/')
  [ "$before" -ge 4 ]
  run_f copy --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/reuse/img:v2"
  expect_status 0
  [ "$(count_log "$PLAIN_LOG" '"PUT /v2/reuse/img/blobs/uploads/')" = "$before" ]
  [ "$(f inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/reuse/img:v2")" = \
    "$(f inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/reuse/img:v1")" ]
}

@test "known blobs go up in one PUT each, converted ones PATCH then PUT; no upload session is left unused" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/mono/img:v1"
  n=$(jq '.layers | length + 1' <(f inspect --raw --tls-verify=false "docker://$PLAIN_ADDR/mono/img:v1"))
  [ "$(count_log "$PLAIN_LOG" '"PATCH /v2/mono/img/')" = 0 ]
  [ "$(count_log "$PLAIN_LOG" '"PUT /v2/mono/img/blobs/uploads/[^ ]*digest=sha256%3A[0-9a-f]{64} HTTP/1.1" 201')" = "$n" ]
  [ "$(count_log "$PLAIN_LOG" '"POST /v2/mono/img/blobs/uploads/ HTTP/1.1" 202')" = "$n" ]
  # Recompressed layers have no digest before they are written: streamed.
  # (The config, unchanged, is mounted from mono/img.)
  f copy -q --src-tls-verify=false --dest-tls-verify=false --dest-compress-format zstd \
    "docker://$PLAIN_ADDR/mono/img:v1" "docker://$PLAIN_ADDR/mono/zstd:v1"
  [ "$(count_log "$PLAIN_LOG" '"PATCH /v2/mono/zstd/blobs/uploads/')" = "$((n - 1))" ]
  [ "$(count_log "$PLAIN_LOG" '"PUT /v2/mono/zstd/blobs/uploads/')" = "$((n - 1))" ]
  [ "$(count_log "$PLAIN_LOG" '"POST /v2/mono/zstd/blobs/uploads/ HTTP/1.1" 202')" = "$((n - 1))" ]
  [ "$(count_log "$PLAIN_LOG" '"POST /v2/mono/zstd/blobs/uploads/\?from=mono%2Fimg&mount=')" = 1 ]
  s copy -q --src-tls-verify=false "docker://$PLAIN_ADDR/mono/zstd:v1" "oci:$BATS_TEST_TMPDIR/z:v1"
}

@test "--dest-force-compress-format: blobs the destination has in another format are recompressed, not reused" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/force/img:v1"
  src="docker://$PLAIN_ADDR/force/img:v1"
  types() { f inspect --raw --tls-verify=false "docker://$PLAIN_ADDR/force/img:$1" | jq -c '[.layers[].mediaType] | unique'; }
  gz='["application/vnd.oci.image.layer.v1.tar+gzip"]'
  zs='["application/vnd.oci.image.layer.v1.tar+zstd"]'
  # Without it, as skopeo 1.9.3: the registry already has the gzip layers
  # in this repository, so they are reused and nothing is converted.
  f copy -q --src-tls-verify=false --dest-tls-verify=false --dest-compress-format zstd "$src" "docker://$PLAIN_ADDR/force/img:plain"
  s copy -q --src-tls-verify=false --dest-tls-verify=false --dest-compress-format zstd "$src" "docker://$PLAIN_ADDR/force/img:skopeo"
  [ "$(types plain)" = "$gz" ]
  [ "$(types skopeo)" = "$gz" ]
  [ "$(f inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/force/img:plain")" = \
    "$(f inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/force/img:skopeo")" ]
  # Forced: every layer is converted; the config (and so the DiffIDs) stay.
  before=$(count_log "$PLAIN_LOG" '"PATCH /v2/force/img/')
  f copy -q --src-tls-verify=false --dest-tls-verify=false --dest-compress-format zstd --dest-force-compress-format \
    "$src" "docker://$PLAIN_ADDR/force/img:forced"
  [ "$(types forced)" = "$zs" ]
  layers=$(f inspect --raw --tls-verify=false "$src" | jq '.layers | length')
  [ "$(count_log "$PLAIN_LOG" '"PATCH /v2/force/img/')" = "$((before + layers))" ]
  [ "$(f inspect --raw --tls-verify=false "$src" | jq -r .config.digest)" = \
    "$(f inspect --raw --tls-verify=false "docker://$PLAIN_ADDR/force/img:forced" | jq -r .config.digest)" ]
  s copy -q --src-tls-verify=false "docker://$PLAIN_ADDR/force/img:forced" "oci:$BATS_TEST_TMPDIR/z:v1"
  # Again: the zstd blobs now there are in the forced format and are reused.
  before=$(count_log "$PLAIN_LOG" '"PATCH /v2/force/img/')
  f copy -q --src-tls-verify=false --dest-tls-verify=false --dest-compress-format zstd --dest-force-compress-format \
    "$src" "docker://$PLAIN_ADDR/force/img:again"
  [ "$(count_log "$PLAIN_LOG" '"PATCH /v2/force/img/')" = "$before" ]
  [ "$(types again)" = "$zs" ]
  # A format to force is required, with containers/image's message.
  run_f copy --dest-force-compress-format "$src" "dir:$BATS_TEST_TMPDIR/d"
  expect_status 1
  expect_output_contains "cannot use ForceCompressionFormat with undefined default compression format"
  [ ! -e "$BATS_TEST_TMPDIR/d" ]
}

@test "a corrupted config fails the copy naming it, read ahead or not, and tags nothing" {
  cp -r "$SAMPLES/oci" "$BATS_TEST_TMPDIR/bad"
  m=$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/bad/index.json" | cut -d: -f2)
  cfg=$(jq -r '.config.digest' "$BATS_TEST_TMPDIR/bad/blobs/sha256/$m" | cut -d: -f2)
  printf 'X' | dd of="$BATS_TEST_TMPDIR/bad/blobs/sha256/$cfg" bs=1 seek=10 conv=notrunc 2>/dev/null
  # Several workers: the config is read while the layers go; one worker:
  # it is read before any layer.
  for p in 6 1; do
    run_f copy --image-parallel-copies "$p" --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/bad:latest" \
      "docker://$PLAIN_ADDR/badcfg/p$p:v1"
    expect_status 1
    expect_output_contains "reading config blob sha256:$cfg"
    run_f inspect --tls-verify=false "docker://$PLAIN_ADDR/badcfg/p$p:v1"
    [ "$status" -ne 0 ]
  done
}

@test "registry to registry copy" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/r2r/img:v1"
  f copy -q --src-tls-verify=false --dest-cert-dir "$SEC_CERTS_DIR" --dest-creds "$SEC_CREDS" \
    "docker://$PLAIN_ADDR/r2r/img:v1" "docker://$SEC_ADDR/r2r/copied:v1"
  f copy -q --src-cert-dir "$SEC_CERTS_DIR" --src-creds "$SEC_CREDS" --dest-tls-verify=false \
    "docker://$SEC_ADDR/r2r/copied:v1" "docker://$OTHER_ADDR/r2r/back:v1"
  a=$(s inspect --tls-verify=false --format '{{.Digest}}' "docker://$PLAIN_ADDR/r2r/img:v1")
  b=$(s inspect --cert-dir "$SEC_CERTS_DIR" --creds "$SEC_CREDS" --format '{{.Digest}}' "docker://$SEC_ADDR/r2r/copied:v1")
  c=$(s inspect --tls-verify=false --format '{{.Digest}}' "docker://$OTHER_ADDR/r2r/back:v1")
  [ "$a" = "$b" ] && [ "$b" = "$c" ]
}

@test "registries.conf: location rewriting and insecure apply to reads" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/conf/real:v1"
  cat > "$BATS_TEST_TMPDIR/registries.conf" <<EOF
[[registry]]
prefix = "example.invalid/alias"
location = "$PLAIN_ADDR/conf/real"
insecure = true

[[registry]]
location = "$PLAIN_ADDR"
insecure = true
EOF
  conf=(--registries-conf "$BATS_TEST_TMPDIR/registries.conf")
  s "${conf[@]}" inspect --no-tags docker://example.invalid/alias:v1 | inspect_common > "$BATS_TEST_TMPDIR/s.json"
  f "${conf[@]}" inspect --no-tags docker://example.invalid/alias:v1 | inspect_common > "$BATS_TEST_TMPDIR/f.json"
  diff -u "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/f.json"
  # insecure = true: no --tls-verify=false needed, for reads and pushes.
  f "${conf[@]}" copy -q "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/conf/insecure:v1"
  f "${conf[@]}" list-tags "docker://$PLAIN_ADDR/conf/insecure" | jq -e '.Tags == ["v1"]'
}

@test "registries.conf: mirrors are tried in order, then the primary" {
  f copy -q --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/mirrored/img:v1"
  cat > "$BATS_TEST_TMPDIR/registries.conf" <<EOF
[[registry]]
location = "$PLAIN_ADDR"
insecure = true

[[registry.mirror]]
location = "127.0.0.1:9"
insecure = true

[[registry.mirror]]
location = "$MIRROR_ADDR"
insecure = true
EOF
  conf=(--registries-conf "$BATS_TEST_TMPDIR/registries.conf")
  f "${conf[@]}" copy -q "docker://$PLAIN_ADDR/mirrored/img:v1" "oci:$BATS_TEST_TMPDIR/o:x"
  grep -q '"GET /v2/mirrored/img/manifests/v1 HTTP/1.1" 200' "$MIRROR_LOG"
  grep -qE '"GET /v2/mirrored/img/blobs/sha256:[0-9a-f]{64} HTTP/1.1" 200' "$MIRROR_LOG"
  run_f "${conf[@]}" inspect "docker://$PLAIN_ADDR/mirrored/img:nope"
  expect_status 2
  expect_output_contains "(Mirrors also failed: [127.0.0.1:9/mirrored/img:nope: pinging container registry 127.0.0.1:9: "
  expect_output_contains "]): $PLAIN_ADDR/mirrored/img:nope: reading manifest nope in $PLAIN_ADDR/mirrored/img: manifest unknown: manifest unknown"
}

@test "registries.conf: a blocked registry is refused for reads, writes and tag lists" {
  cat > "$BATS_TEST_TMPDIR/registries.conf" <<EOF
[[registry]]
location = "$PLAIN_ADDR"
blocked = true
EOF
  conf=(--registries-conf "$BATS_TEST_TMPDIR/registries.conf")
  run_f "${conf[@]}" inspect --tls-verify=false "docker://$PLAIN_ADDR/push/ferry:v1"
  expect_status 1
  expect_output_contains "registry $PLAIN_ADDR is blocked in $BATS_TEST_TMPDIR/registries.conf"
  run_f "${conf[@]}" copy --dest-tls-verify=false "oci:$SAMPLES/oci:latest" "docker://$PLAIN_ADDR/blocked/x:v1"
  expect_status 1
  expect_output_contains "registry $PLAIN_ADDR is blocked"
  run_f "${conf[@]}" list-tags --tls-verify=false "docker://$PLAIN_ADDR/push/ferry"
  expect_status 1
  expect_output_contains "registry $PLAIN_ADDR is blocked"
}

@test "push without a tag: @@unknown-digest@@ stores the manifest by its digest" {
  f copy -q --dest-tls-verify=false --digestfile "$BATS_TEST_TMPDIR/d" "oci:$SAMPLES/oci:latest" \
    "docker://$PLAIN_ADDR/untagged/img@@unknown-digest@@"
  d=$(cat "$BATS_TEST_TMPDIR/d")
  s inspect --tls-verify=false --no-tags "docker://$PLAIN_ADDR/untagged/img@$d" >/dev/null
  f list-tags --tls-verify=false "docker://$PLAIN_ADDR/untagged/img" | jq -e '.Tags == []'
}

@test "a registry killed in the middle of a push leaves no tag behind" {
  big=$BATS_TEST_TMPDIR/big
  "$SAMPLE_SCRIPT" "$big" latest --extra-layers 1 --extra-size 50 >/dev/null
  # zstd at a high level re-encodes the 50 MB layer slowly, so the upload is
  # still streaming when the registry dies.
  "$FERRY" --insecure-policy copy -q --dest-tls-verify=false --dest-compress-format zstd --dest-compress-level 19 \
    "oci:$big:latest" "docker://$OTHER_ADDR/crash/img:v1" >"$BATS_TEST_TMPDIR/push.out" 2>&1 &
  push=$!
  # Wait until the registry holds part of an upload.
  for i in $(seq 1200); do
    n=$(find "$OTHER_DIR/storage" -path '*_uploads*' -name data -size +256k 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] && break
    sleep 0.05
  done
  [ "$n" -gt 0 ]
  read -r pid <"$OTHER_DIR/registry.pid"
  kill -KILL "$pid"
  st=0
  wait "$push" || st=$?
  cat "$BATS_TEST_TMPDIR/push.out"
  [ "$st" = 1 ]
  grep -q 'level=fatal msg=".*copying blob' "$BATS_TEST_TMPDIR/push.out"
  # Back on the same storage and port: the half-pushed image has no tag.
  restart_registry other
  run_f inspect --tls-verify=false "docker://$OTHER_ADDR/crash/img:v1"
  expect_status 2
  run s inspect --tls-verify=false "docker://$OTHER_ADDR/crash/img:v1"
  [ "$status" -ne 0 ]
}
