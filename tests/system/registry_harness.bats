#!/usr/bin/env bats
# Tests of the registry harness itself (registry.bash, token_issuer.py,
# scripts/registry.sh), with skopeo 1.9.3 as the client: if these pass, a
# failing ferry docker-transport test is ferry's fault, not the harness's.

load helpers
load registry

setup_file() {
  # reg first (the mirror needs its final URL), then the other seven in
  # parallel; wait_registries checks each answers.
  start_registry reg --delete
  start_registry reg2 --no-wait
  start_registry sec --tls --no-wait
  start_registry ht --tls --htpasswd alice:secret --htpasswd carol:pw2 --no-wait
  start_registry htplain --htpasswd alice:secret --no-wait
  start_registry tok --delete --token --anonymous-pull \
    --token-user 'alice:secret:pull,push,delete' --token-user bob:pw:pull --no-wait
  start_registry priv --token --token-user 'alice:secret:pull,push' --no-wait
  start_registry mirror --proxy-to "$REG_URL" --no-wait
  wait_registries
  local ref
  ref=$(sample_image_ref)
  ref=${ref#oci:}
  export SAMPLE_DIGEST
  SAMPLE_DIGEST=$(jq -r '.manifests[0].digest' "${ref%:latest}/index.json")
}

teardown_file() {
  local rc=0
  stop_registries || rc=1
  "$FERRY_SRC/scripts/registry.sh" stop "$BATS_FILE_TMPDIR/script-reg" >/dev/null 2>&1 || true
  if registry_processes_left; then
    echo "registry harness left processes behind" >&2
    rc=1
  fi
  return $rc
}

# sk ARGS: skopeo, status and output captured (bats `run`).
sk() { run skopeo --insecure-policy "$@"; }

# refute CMD...: fails if CMD succeeds (a bare `! cmd` never fails a bats test).
refute() { ! "$@"; }

# digest_of ARGS: the Digest skopeo inspect reports.
digest_of() { skopeo --insecure-policy inspect "$@" | jq -r .Digest; }

# On failure, show what the registries said.
teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    for r in reg reg2 sec ht htplain tok priv mirror; do registry_log "$r" | tail -8 >&3; done
  fi
}

@test "plain registry: push, inspect, list-tags, pull, delete" {
  [[ $REG_ADDR =~ ^127\.0\.0\.1:[0-9]+$ ]]
  [ "$REG_URL" = "http://$REG_ADDR" ]
  push_sample reg harness/plain:v1
  push_sample reg harness/plain:v2
  [ "$(digest_of --tls-verify=false "docker://$REG_ADDR/harness/plain:v1")" = "$SAMPLE_DIGEST" ]

  sk list-tags --tls-verify=false "docker://$REG_ADDR/harness/plain"
  expect_status 0
  [ "$(jq -c '.Tags | sort' <<<"$output")" = '["v1","v2"]' ]

  sk copy -q --src-tls-verify=false "docker://$REG_ADDR/harness/plain:v1" "oci:$BATS_TEST_TMPDIR/pulled:x"
  expect_status 0
  [ "$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/pulled/index.json")" = "$SAMPLE_DIGEST" ]

  sk delete --tls-verify=false "docker://$REG_ADDR/harness/plain:v1"
  expect_status 0
  sk inspect --tls-verify=false "docker://$REG_ADDR/harness/plain:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "manifest unknown"
}

@test "a registry started without --delete refuses deletes" {
  push_sample reg2 harness/nodelete:v1
  sk delete --tls-verify=false "docker://$REG2_ADDR/harness/nodelete:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "405"
  [ "$(digest_of --tls-verify=false "docker://$REG2_ADDR/harness/nodelete:v1")" = "$SAMPLE_DIGEST" ]
}

@test "TLS registry: trusted with --cert-dir, rejected without it" {
  [ "$SEC_URL" = "https://$SEC_ADDR" ]
  [ -f "$SEC_CA" ] && [ -f "$SEC_CERTS_DIR/ca.crt" ]
  cmp "$SEC_CA" "$SEC_CERTS_DIR/ca.crt"
  push_sample sec harness/tls:v1
  [ "$(digest_of --cert-dir "$SEC_CERTS_DIR" "docker://$SEC_ADDR/harness/tls:v1")" = "$SAMPLE_DIGEST" ]
  # The certificate also names localhost.
  [ "$(digest_of --cert-dir "$SEC_CERTS_DIR" "docker://localhost:${SEC_ADDR#*:}/harness/tls:v1")" = "$SAMPLE_DIGEST" ]

  sk inspect "docker://$SEC_ADDR/harness/tls:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "x509: certificate signed by unknown authority"

  # The server certificate: EC P-256 leaf for 127.0.0.1/localhost, 1 day, by our CA.
  local cert
  cert=$(sed -n 's/^ *certificate: //p' "$SEC_DIR/config.yml")
  openssl verify -CAfile "$SEC_CA" "$cert"
  run openssl x509 -in "$cert" -noout -text
  expect_output_contains "IP Address:127.0.0.1"
  expect_output_contains "DNS:localhost"
  expect_output_contains "prime256v1"
}

@test "htpasswd over TLS: good credentials work, bad or missing ones get 401" {
  [ "$HT_CREDS" = alice:secret ]
  push_sample ht harness/basic:v1
  [ "$(digest_of --cert-dir "$HT_CERTS_DIR" --creds alice:secret "docker://$HT_ADDR/harness/basic:v1")" = "$SAMPLE_DIGEST" ]
  [ "$(digest_of --cert-dir "$HT_CERTS_DIR" --creds carol:pw2 "docker://$HT_ADDR/harness/basic:v1")" = "$SAMPLE_DIGEST" ]
  grep -q '^alice:[$]2y[$]' "$HT_DIR/htpasswd"

  sk inspect --cert-dir "$HT_CERTS_DIR" --creds alice:wrong "docker://$HT_ADDR/harness/basic:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "unauthorized"
  sk inspect --cert-dir "$HT_CERTS_DIR" "docker://$HT_ADDR/harness/basic:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "unauthorized"
  grep -q '"GET /v2/harness/basic/manifests/v1 HTTP/1.1" 401' "$HT_LOG"
}

@test "htpasswd over plain HTTP: Distribution 2.8 accepts it" {
  push_sample htplain harness/basic:v1
  [ "$(digest_of --tls-verify=false --creds alice:secret "docker://$HTPLAIN_ADDR/harness/basic:v1")" = "$SAMPLE_DIGEST" ]
  sk inspect --tls-verify=false --creds alice:wrong "docker://$HTPLAIN_ADDR/harness/basic:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "unauthorized"
}

@test "token registry: alice pushes and pulls; the issuer saw her scopes" {
  [ "$TOK_CREDS" = alice:secret ]
  [[ $TOK_TOKEN_URL =~ ^http://127\.0\.0\.1:[0-9]+/token$ ]]
  push_sample tok harness/alice:v1
  [ "$(digest_of --tls-verify=false --creds alice:secret "docker://$TOK_ADDR/harness/alice:v1")" = "$SAMPLE_DIGEST" ]
  # Pushing asked for pull+push as alice over Basic auth and got both.
  run jq -c 'select(.user == "alice" and .auth == "basic" and .status == 200
                    and .query.service == ["ferry-test-registry"]
                    and .query.scope == ["repository:harness/alice:pull,push"])
             | .granted' "$TOK_TOKEN_LOG"
  expect_output_contains '[{"actions":["pull","push"],"name":"harness/alice","type":"repository"}]'
  # The pull asked for pull only.
  [ "$(jq -c 'select(.user == "alice" and .scopes == ["repository:harness/alice:pull"])' "$TOK_TOKEN_LOG" | wc -l)" -ge 1 ]
  # Deletes need the delete action, which alice has.
  sk delete --tls-verify=false --creds alice:secret "docker://$TOK_ADDR/harness/alice:v1"
  expect_status 0
  jq -e -s 'map(select(.user == "alice" and (.scopes | index("repository:harness/alice:delete"))
                       and (.granted | map(.actions) | add | index("delete")))) | length > 0' "$TOK_TOKEN_LOG"
  # Secrets never reach the log.
  refute grep -q secret "$TOK_TOKEN_LOG"
}

@test "token registry: bob may pull but not push" {
  push_sample tok harness/bob:v1
  [ "$(digest_of --tls-verify=false --creds bob:pw "docker://$TOK_ADDR/harness/bob:v1")" = "$SAMPLE_DIGEST" ]
  run push_sample tok harness/bob:v2 --creds bob:pw
  [ "$status" -ne 0 ]
  expect_output_contains "denied"
  # bob asked for pull,push and was granted pull only.
  run jq -c 'select(.user == "bob" and .scopes == ["repository:harness/bob:pull,push"]) | .granted[0].actions' "$TOK_TOKEN_LOG"
  expect_output_contains '["pull"]'
}

@test "token registry: anonymous pull only where the issuer allows it" {
  push_sample tok harness/anon:v1
  [ "$(digest_of --tls-verify=false "docker://$TOK_ADDR/harness/anon:v1")" = "$SAMPLE_DIGEST" ]
  jq -e -s 'map(select(.auth == "none" and .user == null and .scopes == ["repository:harness/anon:pull"]
                       and .granted[0].actions == ["pull"])) | length > 0' "$TOK_TOKEN_LOG"
  run push_sample tok harness/anon:v2 --no-creds
  [ "$status" -ne 0 ]
  expect_output_contains "denied"

  push_sample priv harness/anon:v1
  [ "$(digest_of --tls-verify=false --creds alice:secret "docker://$PRIV_ADDR/harness/anon:v1")" = "$SAMPLE_DIGEST" ]
  sk inspect --tls-verify=false "docker://$PRIV_ADDR/harness/anon:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "denied"
  jq -e -s 'map(select(.auth == "none" and .granted[0].actions == [])) | length > 0' "$PRIV_TOKEN_LOG"
}

@test "token registry: a wrong password is refused by the issuer" {
  sk inspect --tls-verify=false --creds alice:nope "docker://$TOK_ADDR/harness/alice:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "invalid username/password"
  jq -e -s 'map(select(.user == "alice" and .status == 401)) | length > 0' "$TOK_TOKEN_LOG"
  refute grep -q nope "$TOK_TOKEN_LOG"
}

@test "token issuer: JWT shape, libtrust kid, signature, offline and OAuth2 grants" {
  local crt=$BATS_FILE_TMPDIR/registry-harness/token.crt
  # libtrust key ID computed independently: base32(SHA-256(SPKI)[:30]) in groups of 4.
  local kid
  kid=$(openssl x509 -in "$crt" -pubkey -noout | openssl pkey -pubin -outform DER \
        | openssl dgst -sha256 -binary | head -c 30 | base32 -w0 | tr -d = | sed -E 's/(.{4})/\1:/g; s/:$//')
  [[ $kid =~ ^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$ ]]
  openssl x509 -in "$crt" -pubkey -noout >"$BATS_TEST_TMPDIR/pub.pem"

  run "$RH_PYTHON" - "$TOK_TOKEN_URL" "$kid" "$BATS_TEST_TMPDIR" "$crt" <<'EOF'
import base64, json, subprocess, sys, time, urllib.error, urllib.parse, urllib.request
url, kid, tmp, crt = sys.argv[1:]

def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b

def check_jwt(tok, sub, access):
    h, c, sig = tok.split(".")
    header, claims = json.loads(unb64(h)), json.loads(unb64(c))
    assert header["alg"] == "ES256" and header["typ"] == "JWT", header
    assert header["kid"] == kid, (header["kid"], kid)
    pem = open(crt).read()
    body = "".join(pem.split("-----")[2].split())
    assert header["x5c"] == [body], "x5c is not the signing certificate"
    assert claims["iss"] == "ferry-test-issuer" and claims["aud"] == "ferry-test-registry", claims
    assert claims["sub"] == sub, claims
    now = time.time()
    assert claims["nbf"] <= now <= claims["exp"] and claims["exp"] - claims["iat"] == 300, claims
    assert claims["access"] == access, claims["access"]
    raw = unb64(sig)
    assert len(raw) == 64
    inner = der_int(raw[:32]) + der_int(raw[32:])
    open(tmp + "/sig.der", "wb").write(b"\x30" + bytes([len(inner)]) + inner)
    open(tmp + "/signed", "w").write(h + "." + c)
    subprocess.run(["openssl", "dgst", "-sha256", "-verify", tmp + "/pub.pem",
                    "-signature", tmp + "/sig.der", tmp + "/signed"], check=True,
                   capture_output=True)

def get(query, user=None):
    req = urllib.request.Request(url + "?" + urllib.parse.urlencode(query, doseq=True))
    if user:
        req.add_header("Authorization", "Basic " + base64.b64encode(user.encode()).decode())
    return json.load(urllib.request.urlopen(req, timeout=5))

def post(form):
    data = urllib.parse.urlencode(form).encode()
    return json.load(urllib.request.urlopen(url, data=data, timeout=5))

def status_of(fn, *a):
    try:
        fn(*a)
        return 200
    except urllib.error.HTTPError as e:
        return e.code

# GET: Basic auth, two scopes, offline token; grants limited by policy.
r = get({"service": "ferry-test-registry", "account": "bob", "offline_token": "true",
         "scope": ["repository:x/y:pull,push", "registry:catalog:*"]}, "bob:pw")
assert r["token"] == r["access_token"] and r["expires_in"] == 300 and r["issued_at"].endswith("Z"), r
assert r["refresh_token"], r
check_jwt(r["token"], "bob", [{"type": "repository", "name": "x/y", "actions": ["pull"]},
                               {"type": "registry", "name": "catalog", "actions": []}])
# Anonymous: no refresh token even when asked.
r = get({"service": "ferry-test-registry", "scope": "repository:x/y:pull", "offline_token": "true"})
assert "refresh_token" not in r
check_jwt(r["token"], "", [{"type": "repository", "name": "x/y", "actions": ["pull"]}])
assert status_of(get, {"scope": "repository:x/y:pull"}, "bob:bad") == 401

# POST password grant with access_type=offline, then the refresh grant.
r = post({"grant_type": "password", "username": "alice", "password": "secret",
          "service": "ferry-test-registry", "client_id": "ferry", "access_type": "offline",
          "scope": "repository:x/y:pull,push"})
check_jwt(r["access_token"], "alice", [{"type": "repository", "name": "x/y", "actions": ["pull", "push"]}])
rt = r["refresh_token"]
r = post({"grant_type": "refresh_token", "refresh_token": rt, "service": "ferry-test-registry",
          "client_id": "ferry", "scope": "repository:x/y:pull"})
check_jwt(r["access_token"], "alice", [{"type": "repository", "name": "x/y", "actions": ["pull"]}])
assert r["refresh_token"] == rt
assert status_of(post, {"grant_type": "refresh_token", "refresh_token": "forged"}) == 401
assert status_of(post, {"grant_type": "password", "username": "alice", "password": "x"}) == 401
assert status_of(post, {"grant_type": "client_credentials"}) == 400
open(tmp + "/refresh", "w").write(rt)
print("issuer ok")
EOF
  expect_status 0
  expect_output_contains "issuer ok"
  # The log redacts passwords and refresh tokens.
  refute grep -qF "$(cat "$BATS_TEST_TMPDIR/refresh")" "$TOK_TOKEN_LOG"
  refute grep -q secret "$TOK_TOKEN_LOG"
  jq -e -s 'map(select(.method == "POST" and .form.password == "<redacted>")) | length > 0' "$TOK_TOKEN_LOG"
}

@test "cross-registry copy between two plain registries keeps the digest" {
  push_sample reg harness/cross:v1
  sk copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$REG_ADDR/harness/cross:v1" "docker://$REG2_ADDR/harness/copied:v1"
  expect_status 0
  [ "$(digest_of --tls-verify=false "docker://$REG2_ADDR/harness/copied:v1")" = "$SAMPLE_DIGEST" ]
  # registry_tls_flags gives the same flags for the same result.
  [ "$(registry_tls_flags reg src)" = "--src-tls-verify=false" ]
  [ "$(registry_tls_flags sec dest)" = "--dest-cert-dir $SEC_CERTS_DIR" ]
  [ "$(registry_tls_flags sec)" = "--cert-dir $SEC_CERTS_DIR" ]
  # Plain to TLS, with the helper's flags.
  # shellcheck disable=SC2046
  sk copy -q $(registry_tls_flags reg src) $(registry_tls_flags sec dest) \
    "docker://$REG_ADDR/harness/cross:v1" "docker://$SEC_ADDR/harness/copied:v1"
  expect_status 0
  [ "$(digest_of --cert-dir "$SEC_CERTS_DIR" "docker://$SEC_ADDR/harness/copied:v1")" = "$SAMPLE_DIGEST" ]
}

@test "pull-through mirror serves upstream content and refuses pushes" {
  push_sample reg harness/mirrored:v1
  [ "$(digest_of --tls-verify=false "docker://$MIRROR_ADDR/harness/mirrored:v1")" = "$SAMPLE_DIGEST" ]
  sk copy -q --src-tls-verify=false "docker://$MIRROR_ADDR/harness/mirrored:v1" "oci:$BATS_TEST_TMPDIR/m:x"
  expect_status 0
  [ -d "$MIRROR_DIR/storage/docker/registry/v2/repositories/harness/mirrored" ]
  grep -q "proxy:" "$MIRROR_DIR/config.yml"
  run push_sample mirror harness/pushed:v1
  [ "$status" -ne 0 ]
  expect_output_contains "unsupported"
}

@test "every process is tracked, alive, and listens on loopback only" {
  local pids=$BATS_FILE_TMPDIR/registry-harness/pids name d pid listeners="" addrs n=0
  command -v ss >/dev/null && listeners=$(ss -Hltnp)
  local -a servers
  for name in reg reg2 sec ht htplain tok priv mirror; do
    d=$BATS_FILE_TMPDIR/$name
    servers=("$(<"$d/registry.pid")")
    [ -f "$d/issuer.pid" ] && servers+=("$(<"$d/issuer.pid")")
    for pid in "${servers[@]}"; do
      grep -q "^$pid $d " "$pids"
      _rh_alive "$pid" "$d"
      n=$((n + 1))
      if [ -n "$listeners" ]; then
        addrs=$(grep "pid=$pid," <<<"$listeners" | awk '{print $4}' || true)
        [ -n "$addrs" ]
        refute grep -v '^127\.0\.0\.1:' <<<"$addrs"
      fi
    done
  done
  # 8 registries + 2 token issuers.
  [ $n -eq 10 ]
}

@test "start_registry reports bad options and a registry that cannot start" {
  run start_registry bad1 --htpasswd a:b --token
  [ "$status" -ne 0 ]
  expect_output_contains "exclusive"
  run start_registry bad2 --anonymous-pull
  [ "$status" -ne 0 ]
  expect_output_contains "need --token"
  run start_registry bad3 --bogus
  [ "$status" -ne 0 ]
  expect_output_contains "unknown option --bogus"
  run start_registry reg
  [ "$status" -ne 0 ]
  expect_output_contains "already started"
  # Distribution panics on an unparsable upstream URL: start_registry must
  # fail at once (not after the timeout) and show the registry's log.
  SECONDS=0
  run start_registry bad4 --proxy-to 'http://[broken'
  [ "$status" -ne 0 ]
  expect_output_contains "exited during startup"
  expect_output_contains "missing ']' in host"
  [ $SECONDS -lt 10 ]
}

@test "stop_registry and restart_registry take a registry down and back" {
  push_sample reg2 harness/restart:v1
  local addr=$REG2_ADDR
  stop_registry reg2
  sk inspect --tls-verify=false "docker://$REG2_ADDR/harness/restart:v1"
  [ "$status" -ne 0 ]
  expect_output_contains "connection refused"
  # Not `run`: that subshell would be the new registry's parent.
  restart_registry reg2
  run restart_registry reg2
  [ "$status" -ne 0 ]
  expect_output_contains "is running"
  [ "$REG2_ADDR" = "$addr" ]
  # Same storage: the image is still there.
  [ "$(digest_of --tls-verify=false "docker://$REG2_ADDR/harness/restart:v1")" = "$SAMPLE_DIGEST" ]
}

@test "a registry or issuer whose port was taken meanwhile restarts on another" {
  # Hand start_registry ports that reg already listens on: the first goes
  # to the token issuer, the second to the registry.
  printf '%s\n' "${REG_ADDR#*:}" "${REG_ADDR#*:}" >"$BATS_FILE_TMPDIR/registry-harness/port-pool"
  start_registry collide --token --token-user 'alice:secret:pull,push'
  grep -qi "address already in use" "$BATS_FILE_TMPDIR/collide/issuer.stderr"
  grep -q "address already in use" "$COLLIDE_LOG"
  [ "$COLLIDE_ADDR" != "$REG_ADDR" ]
  [ "$COLLIDE_TOKEN_URL" != "http://$REG_ADDR/token" ]
  [[ $COLLIDE_ADDR =~ ^127\.0\.0\.1:[0-9]+$ ]]
  grep -qF "realm: $COLLIDE_TOKEN_URL" "$BATS_FILE_TMPDIR/collide/config.yml"
  push_sample collide harness/collide:v1
  [ "$(digest_of --tls-verify=false --creds alice:secret "docker://$COLLIDE_ADDR/harness/collide:v1")" = "$SAMPLE_DIGEST" ]
}

@test "registries started inside a test outlive it, each with a watchdog" {
  # reg2 and collide were (re)started by the two tests above.
  [ "$(digest_of --tls-verify=false "docker://$REG2_ADDR/harness/restart:v1")" = "$SAMPLE_DIGEST" ]
  # collide's exports died with its test; registry_addr reads its state.
  [ -z "${COLLIDE_ADDR:-}" ]
  [ "$(digest_of --tls-verify=false --creds alice:secret "docker://$(registry_addr collide)/harness/collide:v1")" = "$SAMPLE_DIGEST" ]
  local d pid
  for d in "$REG2_DIR" "$BATS_FILE_TMPDIR/collide"; do
    pid=$(awk -v d="$d" '$2 == d && $3 == "watchdog" { p = $1 } END { print p }' \
      "$BATS_FILE_TMPDIR/registry-harness/pids")
    [ -n "$pid" ]
    _rh_alive "$pid" "$d"
  done
}

@test "scripts/registry.sh starts, reuses and stops a detached registry" {
  local dir=$BATS_FILE_TMPDIR/script-reg addr pid
  addr=$("$FERRY_SRC/scripts/registry.sh" start "$dir")
  [[ $addr =~ ^127\.0\.0\.1:[0-9]+$ ]]
  [ "$("$FERRY_SRC/scripts/registry.sh" start "$dir")" = "$addr" ]
  [ "$("$FERRY_SRC/scripts/registry.sh" addr "$dir")" = "$addr" ]
  pid=$(cat "$dir/registry.pid")
  _rh_alive "$pid" "$dir"
  grep -q "enabled: true" "$dir/config.yml"
  sk copy -q --dest-tls-verify=false "$(sample_image_ref)" "docker://$addr/harness/script:v1"
  expect_status 0
  sk delete --tls-verify=false "docker://$addr/harness/script:v1"
  expect_status 0
  "$FERRY_SRC/scripts/registry.sh" stop "$dir"
  refute _rh_alive "$pid" "$dir"
  "$FERRY_SRC/scripts/registry.sh" stop "$dir"
  run "$FERRY_SRC/scripts/registry.sh" addr "$dir"
  [ "$status" -ne 0 ]
}
