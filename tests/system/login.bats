#!/usr/bin/env bats
# login / logout against real registries (htpasswd over TLS and plain HTTP,
# token auth), checked against skopeo 1.9.3: the same messages, the same
# auth file bytes, each tool reading the other's file, the stored
# credentials used by copy / inspect, and the password never printed.

load helpers
load registry

setup_file() {
  start_registry sec --tls --htpasswd alice:s3cr3t-pw --no-wait
  start_registry plain --htpasswd bob:b0b-plain-pw --no-wait
  start_registry tok --token --token-user carol:c4rol-tok-pw:pull,push --no-wait
  wait_registries
  push_sample sec app/img:v1
  push_sample plain app/img:v1
  push_sample tok app/img:v1
}

teardown_file() { stop_registries; }

# Every test gets its own home and runtime dir: no auth file of the user's
# (or of another test) is read or written.
setup() {
  export HOME=$BATS_TEST_TMPDIR/home XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
  mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
  unset REGISTRY_AUTH_FILE DOCKER_CONFIG XDG_CONFIG_HOME
  A=$BATS_TEST_TMPDIR/a.json
  B=$BATS_TEST_TMPDIR/b.json
  SEC=(--cert-dir "$SEC_CERTS_DIR")
}

# The msg of a logrus fatal line, unquoted as far as the tests need.
fatal_msg() {  # TEXT
  local line
  line=$(grep 'level=fatal' <<<"$1" | tail -n 1)
  line=${line#*level=fatal msg=\"}
  line=${line%\"}
  printf '%s' "${line//\\\"/\"}"
}

# What c/image writes for one entry, tab-indented.
auth_json() {  # KEY USER:PASS
  printf '{\n\t"auths": {\n\t\t"%s": {\n\t\t\t"auth": "%s"\n\t\t}\n\t}\n}' "$1" "$(printf '%s' "$2" | base64 -w0)"
}

@test "login stores the credentials after the registry accepted them: the same file as skopeo's" {
  run "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR"
  expect_status 0
  [ "$output" = "Login Succeeded!" ]
  [ "$(stat -c %a "$A")" = 600 ]
  cmp "$A" <(auth_json "$SEC_ADDR" alice:s3cr3t-pw)
  skopeo login --authfile "$B" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR" >/dev/null
  cmp "$A" "$B"
  # A second registry is added beside the first, as skopeo adds it.
  "$FERRY" login --authfile "$A" --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR" >/dev/null
  skopeo login --authfile "$B" --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR" >/dev/null
  cmp "$A" "$B"
  jq -e --arg k "$PLAIN_ADDR" '.auths[$k].auth | @base64d == "bob:b0b-plain-pw"' "$A"
}

@test "token auth: login asks the token server with the credentials" {
  out=$("$FERRY" login --authfile "$A" --tls-verify=false -u carol -p c4rol-tok-pw "$TOK_ADDR")
  [ "$out" = "Login Succeeded!" ]
  grep '"user": *"carol"' "$TOK_TOKEN_LOG" >/dev/null
  skopeo login --authfile "$B" --tls-verify=false -u carol -p c4rol-tok-pw "$TOK_ADDR" >/dev/null
  cmp "$A" "$B"
}

@test "a wrong password fails with skopeo's message and leaves the auth file as it was" {
  "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR" >/dev/null
  cp "$A" "$BATS_TEST_TMPDIR/before.json"
  for addr_flags in "$SEC_ADDR ${SEC[*]}" "$PLAIN_ADDR --tls-verify=false" "$TOK_ADDR --tls-verify=false"; do
    read -r addr flags <<<"$addr_flags"
    # shellcheck disable=SC2086
    run "$FERRY" login --authfile "$A" $flags -u alice -p Wr0ng-pa55 "$addr"
    expect_status 1
    [ "$(fatal_msg "$output")" = "logging into \"$addr\": invalid username/password" ]
    [[ "$output" != *Wr0ng-pa55* ]]
    # shellcheck disable=SC2086
    run skopeo login --authfile "$B" $flags -u alice -p Wr0ng-pa55 "$addr"
    expect_status 1
    [ "$(fatal_msg "$output")" = "logging into \"$addr\": invalid username/password" ]
    cmp "$A" "$BATS_TEST_TMPDIR/before.json"
  done
  # Nothing is created either.
  run "$FERRY" login --authfile "$BATS_TEST_TMPDIR/new.json" "${SEC[@]}" -u alice -p Wr0ng-pa55 "$SEC_ADDR"
  expect_status 1
  [ ! -e "$BATS_TEST_TMPDIR/new.json" ]
}

@test "TLS: without the CA login fails to reach the registry; --tls-verify=false skips verification" {
  run "$FERRY" login --authfile "$A" -u alice -p s3cr3t-pw "$SEC_ADDR"
  expect_status 1
  [[ "$(fatal_msg "$output")" == "authenticating creds for \"$SEC_ADDR\": pinging container registry $SEC_ADDR: "* ]]
  [ ! -e "$A" ]
  out=$("$FERRY" login --authfile "$A" --tls-verify=false -u alice -p s3cr3t-pw "$SEC_ADDR")
  [ "$out" = "Login Succeeded!" ]
  # Plain HTTP is never tried while TLS is verified.
  run "$FERRY" login --authfile "$B" -u bob -p b0b-plain-pw "$PLAIN_ADDR"
  expect_status 1
  expect_output_contains "pinging container registry $PLAIN_ADDR"
}

@test "--password-stdin joins the lines of stdin and needs --username" {
  out=$(printf 's3cr3t\r\n-pw\n' | "$FERRY" login --authfile "$A" "${SEC[@]}" --password-stdin -u alice "$SEC_ADDR")
  [ "$out" = "Login Succeeded!" ]
  cmp "$A" <(auth_json "$SEC_ADDR" alice:s3cr3t-pw)
  run "$FERRY" login --authfile "$A" "${SEC[@]}" --password-stdin "$SEC_ADDR" <<<"s3cr3t-pw"
  expect_status 1
  [ "$(fatal_msg "$output")" = "must provide --username with --password-stdin" ]
  run "$FERRY" login --authfile "$A" "${SEC[@]}" --password-stdin -u alice -p x "$SEC_ADDR" <<<"s3cr3t-pw"
  expect_status 1
  [ "$(fatal_msg "$output")" = "can't specify both --password-stdin and --password" ]
}

@test "--get-login prints the stored user, or fails when there is none" {
  run "$FERRY" login --authfile "$A" --get-login "$SEC_ADDR"
  expect_status 1
  [ "$(fatal_msg "$output")" = "not logged into $SEC_ADDR" ]
  run skopeo login --authfile "$A" --get-login "$SEC_ADDR"
  [ "$(fatal_msg "$output")" = "not logged into $SEC_ADDR" ]
  "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR" >/dev/null
  [ "$("$FERRY" login --authfile "$A" --get-login "$SEC_ADDR")" = alice ]
  [ "$(skopeo login --authfile "$A" --get-login "$SEC_ADDR")" = alice ]
  # A repository key finds the registry's entry (most specific first).
  [ "$("$FERRY" login --authfile "$A" --get-login "$SEC_ADDR/app/img")" = alice ]
}

@test "-v names the file written" {
  out=$("$FERRY" login -v --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR")
  [ "$out" = "Used:  $A"$'\n'"Login Succeeded!" ]
  out2=$(skopeo login -v --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR")
  [ "$out" = "$out2" ]
}

@test "without -u/-p the stored credentials are checked first" {
  "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR" >/dev/null
  out=$("$FERRY" login --authfile "$A" "${SEC[@]}" "$SEC_ADDR" </dev/null)
  [ "$out" = "Authenticating with existing credentials for $SEC_ADDR"$'\n'"Existing credentials are valid. Already logged in to $SEC_ADDR" ]
  [ "$out" = "$(skopeo login --authfile "$A" "${SEC[@]}" "$SEC_ADDR" </dev/null)" ]
  # Stored credentials the registry refuses: a new password is needed, and
  # with no terminal to type it on, login fails at once instead of waiting.
  auth_json "$SEC_ADDR" alice:0ld-pw >"$A"
  run "$FERRY" login --authfile "$A" "${SEC[@]}" "$SEC_ADDR" </dev/null
  expect_status 1
  expect_output_contains "Authenticating with existing credentials for $SEC_ADDR"
  expect_output_contains "Existing credentials are invalid, please enter valid username and password"
  [ "$(fatal_msg "$output")" = "getting username and password: reading password: standard input is not a terminal; use --password-stdin or --password" ]
  [[ "$output" != *0ld-pw* ]]
}

@test "a missing user name is read from stdin as skopeo reads it; empty keeps the stored one" {
  out=$("$FERRY" login --authfile "$A" "${SEC[@]}" -p s3cr3t-pw "$SEC_ADDR" <<<"  alice ")
  [ "$out" = "Username: Login Succeeded!" ]
  [ "$out" = "$(skopeo login --authfile "$B" "${SEC[@]}" -p s3cr3t-pw "$SEC_ADDR" <<<"  alice ")" ]
  cmp "$A" "$B"
  out=$("$FERRY" login --authfile "$A" "${SEC[@]}" -p s3cr3t-pw "$SEC_ADDR" <<<"")
  [ "$out" = "Username (alice): Login Succeeded!" ]
  [ "$out" = "$(skopeo login --authfile "$B" "${SEC[@]}" -p s3cr3t-pw "$SEC_ADDR" <<<"")" ]
  cmp "$A" "$B"
  run "$FERRY" login --authfile "$A" "${SEC[@]}" -p s3cr3t-pw "$SEC_ADDR" </dev/null
  expect_status 1
  [ "$(fatal_msg "$output")" = "getting username and password: reading username: EOF" ]
  # No password at all and no terminal: no prompt is waited on.
  run "$FERRY" login --authfile "$B" "${SEC[@]}" -u alice "$SEC_ADDR" </dev/null
  expect_status 1
  expect_output_contains "standard input is not a terminal"
}

# tty_drive ANSWERS CMD...: runs CMD on a fresh terminal, answering each
# "Username: ", "Username (x): " and "Password: " prompt with the next line
# of the ANSWERS file; prints what the terminal showed. A password is typed
# only once the terminal's echo is off, as a person would see it.
tty_drive() {
  python3 - "$@" <<'EOF'
import os, subprocess, sys, termios
answers = open(sys.argv[1]).read().split("\n")
master, slave = os.openpty()
p = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
os.close(slave)
seen = pending = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO: the command and its terminal are gone
        break
    if not chunk:
        break
    seen += chunk
    pending += chunk
    for prompt in (b"Password: ", b"): ", b"Username: "):
        if pending.endswith(prompt):
            if prompt == b"Password: ":
                while termios.tcgetattr(master)[3] & termios.ECHO:
                    os.sched_yield()
            os.write(master, answers.pop(0).encode() + b"\r")
            pending = b""
            break
p.wait()
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(p.returncode)
EOF
}

@test "on a terminal: prompts for user name and password, the password without echo, as skopeo" {
  printf 'alice\ns3cr3t-pw\n' >"$BATS_TEST_TMPDIR/answers"
  run tty_drive "$BATS_TEST_TMPDIR/answers" "$FERRY" login --authfile "$A" "${SEC[@]}" "$SEC_ADDR"
  expect_status 0
  [ "$output" = $'Username: alice\r\nPassword: \r\nLogin Succeeded!\r' ]
  cmp "$A" <(auth_json "$SEC_ADDR" alice:s3cr3t-pw)
  ferry_out=$output
  run tty_drive "$BATS_TEST_TMPDIR/answers" skopeo login --authfile "$B" "${SEC[@]}" "$SEC_ADDR"
  expect_status 0
  [ "$output" = "$ferry_out" ]
  cmp "$A" "$B"
  # A stored user is offered; an empty answer keeps it. The stored
  # password is refused first, so both are asked for.
  auth_json "$SEC_ADDR" alice:0ld-pw >"$A"
  printf '\ns3cr3t-pw\n' >"$BATS_TEST_TMPDIR/answers"
  run tty_drive "$BATS_TEST_TMPDIR/answers" "$FERRY" login --authfile "$A" "${SEC[@]}" "$SEC_ADDR"
  expect_status 0
  [ "$output" = "Authenticating with existing credentials for $SEC_ADDR"$'\r\n'"Existing credentials are invalid, please enter valid username and password"$'\r\n'$'Username (alice): \r\nPassword: \r\nLogin Succeeded!\r' ]
  cmp "$A" <(auth_json "$SEC_ADDR" alice:s3cr3t-pw)
  # A wrong password typed at the prompt.
  printf 'Wr0ng-pa55\n' >"$BATS_TEST_TMPDIR/answers"
  run tty_drive "$BATS_TEST_TMPDIR/answers" "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice "$SEC_ADDR"
  expect_status 1
  expect_output_contains "logging into \"$SEC_ADDR\": invalid username/password"
  [[ "$output" != *Wr0ng-pa55* ]]
  cmp "$A" <(auth_json "$SEC_ADDR" alice:s3cr3t-pw)
}

@test "logout removes one entry, then is not logged in; --all empties auths and keeps the rest" {
  "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR" >/dev/null
  "$FERRY" login --authfile "$A" --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR" >/dev/null
  cp "$A" "$B"
  out=$("$FERRY" logout --authfile "$A" "$SEC_ADDR")
  [ "$out" = "Removed login credentials for $SEC_ADDR" ]
  [ "$(skopeo logout --authfile "$B" "$SEC_ADDR")" = "$out" ]
  cmp "$A" "$B"
  run "$FERRY" logout --authfile "$A" "$SEC_ADDR"
  expect_status 1
  [ "$(fatal_msg "$output")" = "not logged into $SEC_ADDR" ]
  run skopeo logout --authfile "$B" "$SEC_ADDR"
  [ "$(fatal_msg "$output")" = "not logged into $SEC_ADDR" ]

  out=$("$FERRY" logout --authfile "$A" --all)
  [ "$out" = "Removed login credentials for all registries" ]
  [ "$(skopeo logout --authfile "$B" --all)" = "$out" ]
  cmp "$A" "$B"
  cmp "$A" <(printf '{\n\t"auths": {}\n}')
  [ "$(stat -c %a "$A")" = 600 ]

  # Members other than auths survive, as with newer skopeo (1.9.3's
  # c/image dropped them).
  "$FERRY" login --authfile "$A" --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR" >/dev/null
  jq --tab '. + {"credsStore": "none-here", "proxies": {"default": {"httpProxy": "http://p:3128"}}}' "$A" >"$A.tmp"
  mv "$A.tmp" "$A"
  "$FERRY" logout --authfile "$A" --all >/dev/null
  cmp "$A" <(printf '{\n\t"auths": {},\n\t"credsStore": "none-here",\n\t"proxies": {\n\t\t"default": {\n\t\t\t"httpProxy": "http://p:3128"\n\t\t}\n\t}\n}')

  run "$FERRY" logout --authfile "$A" --all "$SEC_ADDR"
  expect_status 1
  [ "$(fatal_msg "$output")" = "--all takes no arguments" ]
  run "$FERRY" logout -a --authfile "$BATS_TEST_TMPDIR/missing.json"
  expect_status 1
  [ "$(fatal_msg "$output")" = "credential file is not accessible: faccessat $BATS_TEST_TMPDIR/missing.json: no such file or directory" ]
}

@test "logout: valid credentials only in Docker's config.json are pointed out, not removed" {
  mkdir -p "$HOME/.docker"
  auth_json "$PLAIN_ADDR" bob:b0b-plain-pw >"$HOME/.docker/config.json"
  out=$("$FERRY" logout --tls-verify=false "$PLAIN_ADDR")
  [ "$out" = "Not logged into $PLAIN_ADDR with current tool. Existing credentials were established via docker login. Please use docker logout instead." ]
  [ "$out" = "$(skopeo logout --tls-verify=false "$PLAIN_ADDR")" ]
  cmp "$HOME/.docker/config.json" <(auth_json "$PLAIN_ADDR" bob:b0b-plain-pw)
  # Stale ones are just "not logged into".
  auth_json "$PLAIN_ADDR" bob:0ld-pw >"$HOME/.docker/config.json"
  run "$FERRY" logout --tls-verify=false "$PLAIN_ADDR"
  expect_status 1
  [ "$(fatal_msg "$output")" = "not logged into $PLAIN_ADDR" ]
}

@test "the registry's CA is found in certs.d under \$HOME without --cert-dir" {
  mkdir -p "$HOME/.config/containers/certs.d/$SEC_ADDR"
  cp "$SEC_CERTS_DIR/ca.crt" "$HOME/.config/containers/certs.d/$SEC_ADDR/"
  out=$("$FERRY" login --authfile "$A" -u alice -p s3cr3t-pw "$SEC_ADDR")
  [ "$out" = "Login Succeeded!" ]
}

@test "namespaced keys: stored and removed as given, tags and digests refused" {
  "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR/app/img" >/dev/null
  skopeo login --authfile "$B" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR/app/img" >/dev/null
  cmp "$A" "$B"
  cmp "$A" <(auth_json "$SEC_ADDR/app/img" alice:s3cr3t-pw)
  f inspect --authfile "$A" "${SEC[@]}" "docker://$SEC_ADDR/app/img:v1" >/dev/null
  run "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR/app/img:v1"
  expect_status 1
  [ "$(fatal_msg "$output")" = "reference \"$SEC_ADDR/app/img:v1\" contains tag or digest" ]
  run "$FERRY" logout --authfile "$A" "$SEC_ADDR"
  expect_status 1
  [ "$(fatal_msg "$output")" = "not logged into $SEC_ADDR" ]
  [ "$("$FERRY" logout --authfile "$A" "$SEC_ADDR/app/img")" = "Removed login credentials for $SEC_ADDR/app/img" ]
  # A URL argument is reduced to host[:port].
  out=$("$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "https://$SEC_ADDR/v2/")
  [ "$out" = "Login Succeeded!" ]
  jq -e --arg k "$SEC_ADDR" '.auths | keys == [$k]' "$A"
}

@test "argument and flag errors" {
  run "$FERRY" login --authfile "$A"
  expect_status 1
  [ "$(fatal_msg "$output")" = "please provide a registry to log in to" ]
  run "$FERRY" login --authfile "$A" -u a -p b r1.example r2.example
  expect_status 1
  [ "$(fatal_msg "$output")" = "login accepts only one registry to log in to" ]
  touch "$A"
  run "$FERRY" logout --authfile "$A"
  expect_status 1
  [ "$(fatal_msg "$output")" = "please provide a registry to log out from" ]
  run "$FERRY" logout --authfile "$A" r1.example r2.example
  expect_status 1
  [ "$(fatal_msg "$output")" = "logout accepts only one registry to log out from" ]
  touch "$B"
  for cmd in login logout; do
    run "$FERRY" "$cmd" --authfile "$A" --compat-auth-file "$B" r1.example
    expect_status 1
    [ "$(fatal_msg "$output")" = "options for paths to the credential file and to the Docker-compatible credential file can not be set simultaneously" ]
  done
  printf '{"auths":{"%s":{"auth":"%s","identitytoken":"tok"}}}' "$SEC_ADDR" "$(printf 'alice:' | base64 -w0)" >"$A"
  run "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR"
  expect_status 1
  [ "$(fatal_msg "$output")" = "currently logged in, auth file contains an Identity token" ]
}

@test "the target file: default auth.json, \$REGISTRY_AUTH_FILE, \$DOCKER_CONFIG, --compat-auth-file" {
  # Default: $XDG_RUNTIME_DIR/containers/auth.json, created 0700 / 0600.
  out=$("$FERRY" login -v "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR")
  [ "$out" = "Used:  $XDG_RUNTIME_DIR/containers/auth.json"$'\n'"Login Succeeded!" ]
  [ "$(stat -c %a "$XDG_RUNTIME_DIR/containers")" = 700 ]
  [ "$(stat -c %a "$XDG_RUNTIME_DIR/containers/auth.json")" = 600 ]
  [ "$("$FERRY" login --get-login "$SEC_ADDR")" = alice ]
  [ "$(skopeo login --get-login "$SEC_ADDR")" = alice ]
  [ "$("$FERRY" logout "$SEC_ADDR")" = "Removed login credentials for $SEC_ADDR" ]

  export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/env/auth.json
  out=$("$FERRY" login -v "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR")
  [ "$out" = "Used:  $REGISTRY_AUTH_FILE"$'\n'"Login Succeeded!" ]
  [ "$("$FERRY" login --get-login "$SEC_ADDR")" = alice ]
  [ "$("$FERRY" logout "$SEC_ADDR")" = "Removed login credentials for $SEC_ADDR" ]
  unset REGISTRY_AUTH_FILE

  # $DOCKER_CONFIG: Docker's file, where a namespaced key cannot go.
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker
  out=$("$FERRY" login -v "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR")
  [ "$out" = "Used:  $DOCKER_CONFIG/config.json"$'\n'"Login Succeeded!" ]
  cmp "$DOCKER_CONFIG/config.json" <(auth_json "$SEC_ADDR" alice:s3cr3t-pw)
  run "$FERRY" login "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR/app/img"
  expect_status 1
  expect_output_contains "Credentials cannot be recorded in Docker-compatible format with namespaced key \\\"$SEC_ADDR/app/img\\\""
  [ "$("$FERRY" logout "$SEC_ADDR")" = "Removed login credentials for $SEC_ADDR" ]
  unset DOCKER_CONFIG

  out=$("$FERRY" login -v --compat-auth-file "$B" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR")
  [ "$out" = "Used:  $B"$'\n'"Login Succeeded!" ]
  [ "$("$FERRY" logout --compat-auth-file "$B" "$SEC_ADDR")" = "Removed login credentials for $SEC_ADDR" ]
  [ ! -e "$XDG_RUNTIME_DIR/containers/auth.json" ] || jq -e '.auths == {}' "$XDG_RUNTIME_DIR/containers/auth.json"
}

@test "copy, inspect and list-tags use the stored credentials; after logout they are refused" {
  "$FERRY" login "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR" >/dev/null
  "$FERRY" login --tls-verify=false -u carol -p c4rol-tok-pw "$TOK_ADDR" >/dev/null
  f inspect "${SEC[@]}" "docker://$SEC_ADDR/app/img:v1" | jq -e '.Name != null' >/dev/null
  f copy -q --src-cert-dir "$SEC_CERTS_DIR" --dest-tls-verify=false \
    "docker://$SEC_ADDR/app/img:v1" "docker://$TOK_ADDR/copied/img:v1"
  f list-tags --tls-verify=false "docker://$TOK_ADDR/copied/img" | jq -e '.Tags == ["v1"]'
  "$FERRY" logout "$SEC_ADDR" >/dev/null
  run_f inspect "${SEC[@]}" "docker://$SEC_ADDR/app/img:v1"
  expect_status 1
  expect_output_contains "authentication required"
}

@test "skopeo reads the file ferry wrote, ferry reads the file skopeo wrote" {
  "$FERRY" login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR" >/dev/null
  s inspect --authfile "$A" "${SEC[@]}" "docker://$SEC_ADDR/app/img:v1" | inspect_common >"$BATS_TEST_TMPDIR/s.json"
  skopeo login --authfile "$B" --tls-verify=false -u carol -p c4rol-tok-pw "$TOK_ADDR" >/dev/null
  f inspect --authfile "$B" --tls-verify=false "docker://$TOK_ADDR/app/img:v1" | inspect_common >"$BATS_TEST_TMPDIR/f.json"
  jq -e '.Digest | startswith("sha256:")' "$BATS_TEST_TMPDIR/s.json"
  [ "$(jq -r .Digest "$BATS_TEST_TMPDIR/f.json")" = "$(s inspect --authfile "$B" --tls-verify=false --format '{{.Digest}}' "docker://$TOK_ADDR/app/img:v1")" ]
  # And each logs out of the other's login.
  [ "$(skopeo logout --authfile "$A" "$SEC_ADDR")" = "Removed login credentials for $SEC_ADDR" ]
  [ "$("$FERRY" logout --authfile "$B" "$TOK_ADDR")" = "Removed login credentials for $TOK_ADDR" ]
}

@test "the password never appears in output, errors or --debug logs" {
  b64=$(printf 'alice:s3cr3t-pw' | base64 -w0)
  check() {
    [[ "$output" != *s3cr3t-pw* ]] && [[ "$output" != *Wr0ng-pa55* ]] && [[ "$output" != *c4rol-tok-pw* ]] &&
      [[ "$output" != *"$b64"* ]] && [[ "$output" != *YWxpY2U6* ]] && [[ "$output" != *Y2Fyb2w6* ]]
  }
  run "$FERRY" --debug login --authfile "$A" "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR"
  expect_status 0
  check
  run "$FERRY" --debug login --authfile "$A" "${SEC[@]}" -u alice -p Wr0ng-pa55 "$SEC_ADDR"
  expect_status 1
  check
  run "$FERRY" --debug login --authfile "$A" --tls-verify=false -u carol -p Wr0ng-pa55 "$TOK_ADDR"
  expect_status 1
  expect_output_contains "DEBU"
  check
  run "$FERRY" --debug login --authfile "$A" --tls-verify=false --password-stdin -u carol "$TOK_ADDR" <<<"c4rol-tok-pw"
  expect_status 0
  check
  run "$FERRY" --debug login --authfile "$A" "${SEC[@]}" "$SEC_ADDR" </dev/null
  expect_status 0
  check
  run "$FERRY" --debug login --authfile "$A" --get-login "$SEC_ADDR"
  expect_status 0
  check
  run "$FERRY" --debug logout --authfile "$A" "$SEC_ADDR"
  expect_status 0
  check
  run "$FERRY" --debug logout --authfile "$A" --all
  expect_status 0
  check
}

@test "help lists skopeo's flags" {
  # ferry has the newer --compat-auth-file on top of 1.9.3's flags, which
  # widens the flag column: compare with runs of spaces squeezed.
  squeeze() { grep -v -- '--compat-auth-file' | tr -s ' '; }
  run "$FERRY" login --help
  expect_status 0
  [ "$(squeeze <<<"$output")" = "$(skopeo login --help | sed 's/skopeo/ferry/g' | squeeze)" ]
  expect_output_contains "      --compat-auth-file string   path of a Docker-compatible config file to update instead"
  run "$FERRY" logout --help
  expect_status 0
  [ "$(squeeze <<<"$output")" = "$(skopeo logout --help | sed 's/skopeo/ferry/g' | squeeze)" ]
  expect_output_contains "      --compat-auth-file string   path of a Docker-compatible config file to update instead"
}

# A docker-credential-<name> program keeping its store in $HOME/helper-<name>/,
# one file per server; every call is logged with its stdin.
# Installs the script on stdin as docker-credential-NAME, first on PATH.
# (Fed by redirection, not a pipe, so the PATH change reaches the test.)
install_helper() {  # NAME <SCRIPT
  local bin=$BATS_TEST_TMPDIR/bin
  mkdir -p "$bin"
  cat >"$bin/docker-credential-$1"
  chmod +x "$bin/docker-credential-$1"
  export PATH=$bin:$PATH
}

fake_helper() {  # NAME
  install_helper "$1" <<HELPER
#!/bin/sh
store=\$HOME/helper-$1; mkdir -p "\$store"
input=\$(cat); echo "\$1 \$input" >>"\$store.log"
case \$1 in
  store) url=\$(printf '%s' "\$input" | jq -r .ServerURL); printf '%s' "\$input" >"\$store/\$url" ;;
  get) [ -f "\$store/\$input" ] || { echo 'credentials not found in native keychain'; exit 1; }; cat "\$store/\$input" ;;
  erase) [ -f "\$store/\$input" ] || { echo 'credentials not found in native keychain'; exit 1; }; rm "\$store/\$input" ;;
  list) printf '{'; sep=; for f in "\$store"/*; do [ -f "\$f" ] || continue; printf '%s"%s":"x"' "\$sep" "\$(basename "\$f")"; sep=,; done; printf '}' ;;
esac
HELPER
}

# The user's registries.conf (read by both tools, replacing the system's),
# naming the credential helpers, in order.
helpers_conf() {  # NAME...
  local list
  list=$(printf '"%s", ' "$@")
  mkdir -p "$HOME/.config/containers"
  printf 'credential-helpers = [%s]\n' "${list%, }" >"$HOME/.config/containers/registries.conf"
}

@test "registries.conf credential-helpers: login stores in the helper, as skopeo does; copy reads it back; logout erases it" {
  fake_helper vault
  helpers_conf vault containers-auth.json
  run "$FERRY" login -v --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR"
  expect_status 0
  [ "${lines[0]}" = "Used:  credential helper: vault" ]
  [ "$(jq -r .Username "$HOME/helper-vault/$PLAIN_ADDR")" = bob ]
  [ ! -e "$XDG_RUNTIME_DIR/containers/auth.json" ]
  # skopeo hands the helper the same request.
  mv "$HOME/helper-vault.log" "$BATS_TEST_TMPDIR/ferry.log"
  skopeo login --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR" >/dev/null
  cmp <(grep '^store ' "$BATS_TEST_TMPDIR/ferry.log") <(grep '^store ' "$HOME/helper-vault.log")
  # The stored credentials are what a copy uses.
  "$FERRY" --insecure-policy copy -q --src-tls-verify=false "docker://$PLAIN_ADDR/app/img:v1" "oci:$BATS_TEST_TMPDIR/o:v1"
  run "$FERRY" logout "$PLAIN_ADDR"
  expect_status 0
  [ "$output" = "Removed login credentials for $PLAIN_ADDR" ]
  [ ! -e "$HOME/helper-vault/$PLAIN_ADDR" ]
  run "$FERRY" logout "$PLAIN_ADDR"
  expect_status 1
  expect_output_contains "not logged into $PLAIN_ADDR"
}

# A helper that has nothing and refuses to store.
readonly_helper() {  # NAME
  install_helper "$1" < <(printf '#!/bin/sh\ncat >/dev/null\n[ "$1" = store ] && echo "read-only keychain" || echo "credentials not found in native keychain"\nexit 1\n')
}

@test "credential-helpers: a helper that fails to store hands over to the next; a named auth file bypasses them" {
  readonly_helper ro
  helpers_conf ro containers-auth.json
  run "$FERRY" login -v --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR"
  expect_status 0
  [ "${lines[0]}" = "Used:  $XDG_RUNTIME_DIR/containers/auth.json" ]
  jq -e --arg k "$PLAIN_ADDR" '.auths[$k].auth | @base64d == "bob:b0b-plain-pw"' "$XDG_RUNTIME_DIR/containers/auth.json"
  fake_helper vault
  helpers_conf vault
  "$FERRY" login --authfile "$A" --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR" >/dev/null
  # (Looking up existing credentials asks every helper, as c/image does;
  # storing goes to the named file only.)
  ! grep -q '^store ' "$HOME/helper-vault.log"
  jq -e --arg k "$PLAIN_ADDR" '.auths[$k]' "$A" >/dev/null
  # Every helper failing: all their errors, Go's multierror style, no secret.
  readonly_helper ro2
  helpers_conf ro ro2
  run "$FERRY" login --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR"
  expect_status 1
  expect_output_contains "2 errors occurred:"
  [ "$(grep -o 'error storing credentials - err: exit status 1, out: `read-only keychain`' <<<"$output" | wc -l)" = 2 ]
  [[ "$output" != *b0b-plain-pw* ]]
}

@test "credential-helpers: logout --all erases what each helper lists and empties the auth file" {
  fake_helper vault
  helpers_conf vault containers-auth.json
  "$FERRY" login --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR" >/dev/null
  "$FERRY" login "${SEC[@]}" -u alice -p s3cr3t-pw "$SEC_ADDR" >/dev/null
  [ "$(ls "$HOME/helper-vault" | wc -l)" = 2 ]
  # A helper that is not installed holds nothing to erase.
  helpers_conf vault containers-auth.json missing-helper
  run "$FERRY" logout --all
  expect_status 0
  [ "$output" = "Removed login credentials for all registries" ]
  [ "$(ls "$HOME/helper-vault" | wc -l)" = 0 ]
  # A namespaced key cannot go to a helper (it is keyed by registry).
  helpers_conf vault
  run "$FERRY" login --tls-verify=false -u bob -p b0b-plain-pw "$PLAIN_ADDR/app"
  expect_status 1
  expect_output_contains "namespaced key \\\"$PLAIN_ADDR/app\\\" is not supported for credential helper vault"
}
