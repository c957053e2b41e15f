#!/usr/bin/env bats
# --retry-times / --retry-delay (§5.9 of the reference): a command that
# meets a registry which is down logs skopeo's warning, waits and runs again,
# and succeeds once the registry is back; an error a retry cannot fix (a
# missing image, refused credentials, a local file) fails at the first
# attempt.

load helpers
load registry

setup_file() {
  start_registry flaky --delete --no-wait
  start_registry auth --htpasswd alice:alice-pw --no-wait
  wait_registries
  push_sample flaky retry/img:v1
  push_sample flaky retry/del:v1
}

teardown_file() { stop_registries; }

# Every test starts with "flaky" up, whatever the one before did to it.
setup() {
  restart_registry flaky >/dev/null 2>&1 || true
}

# The messages of the log lines in FILE at LEVEL, time stamps dropped.
log_messages() {  # FILE LEVEL
  sed -n "s/^time=\"[^\"]*\" level=$2 msg=//p" "$1"
}

# Starts ferry ARGS in the background (stdout to $T/out, stderr to $T/err),
# waits for its first retry warning, restarts the stopped registry "flaky"
# and waits for ferry; sets status.
run_ferry_across_restart() {
  T=$BATS_TEST_TMPDIR
  "$FERRY" --insecure-policy "$@" >"$T/out" 2>"$T/err" &
  local pid=$! i
  for ((i = 0; i < 600; i++)); do
    grep -q 'level=warning msg="Failed, retrying in' "$T/err" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  restart_registry flaky || { kill "$pid"; wait "$pid"; return 1; }
  status=0
  wait "$pid" || status=$?
  cat "$T/err" >&2
}

# What ferry and skopeo 1.9.3 print when every attempt fails: the same
# warning per retry, then the same fatal error.
compare_with_skopeo_while_down() {  # ARGS...
  T=$BATS_TEST_TMPDIR
  run "$FERRY" --insecure-policy "$@"
  [ "$status" -eq 1 ]
  printf '%s\n' "$output" | sed 's/^time="[^"]*" //' >"$T/ferry.txt"
  run skopeo --insecure-policy "$@"
  [ "$status" -eq 1 ]
  printf '%s\n' "$output" | sed 's/^time="[^"]*" //' >"$T/skopeo.txt"
  diff -u "$T/skopeo.txt" "$T/ferry.txt"
}

@test "with the registry down, ferry retries and fails exactly as skopeo does" {
  addr=$(registry_addr flaky)
  stop_registry flaky
  compare_with_skopeo_while_down list-tags --retry-times 1 --tls-verify=false "docker://$addr/retry/img"
  [ "$(grep -c 'level=warning' "$BATS_TEST_TMPDIR/ferry.txt")" = 1 ]
  grep -qF "level=warning msg=\"Failed, retrying in 1s ... (1/1). Error: Error listing repository tags: pinging container registry $addr: Get \\\"http://$addr/v2/\\\": dial tcp $addr: connect: connection refused\"" \
    "$BATS_TEST_TMPDIR/ferry.txt"
  compare_with_skopeo_while_down delete --retry-times 1 --tls-verify=false "docker://$addr/retry/del:v1"
  compare_with_skopeo_while_down copy --retry-times 2 --src-tls-verify=false "docker://$addr/retry/img:v1" \
    "dir:$BATS_TEST_TMPDIR/never"
  [ "$(grep -c 'level=warning' "$BATS_TEST_TMPDIR/ferry.txt")" = 2 ]
  grep -qF 'msg="Failed, retrying in 2s ... (2/2). Error: initializing source' "$BATS_TEST_TMPDIR/ferry.txt"
}

@test "list-tags succeeds once the registry is back" {
  addr=$(registry_addr flaky)
  stop_registry flaky
  run_ferry_across_restart list-tags --retry-times 30 --retry-delay 1s --tls-verify=false "docker://$addr/retry/img"
  [ "$status" -eq 0 ]
  jq -e '.Tags == ["v1"]' "$T/out"
  log_messages "$T/err" warning | head -1 >"$T/first"
  echo "\"Failed, retrying in 1s ... (1/30). Error: Error listing repository tags: pinging container registry $addr: Get \\\"http://$addr/v2/\\\": dial tcp $addr: connect: connection refused\"" >"$T/want"
  diff -u "$T/want" "$T/first"
  [ -z "$(log_messages "$T/err" fatal)" ]
}

@test "inspect succeeds once the registry is back" {
  addr=$(registry_addr flaky)
  stop_registry flaky
  run_ferry_across_restart inspect --retry-times 30 --retry-delay 1s --tls-verify=false "docker://$addr/retry/img:v1"
  [ "$status" -eq 0 ]
  diff -u <(s inspect --tls-verify=false "docker://$addr/retry/img:v1" | inspect_common) <(inspect_common <"$T/out")
  first=$(log_messages "$T/err" warning | head -1)
  [[ $first == '"Failed, retrying in 1s ... (1/30). Error: '*"dial tcp $addr: connect: connection refused\"" ]]
}

@test "copy succeeds once the registry is back, with the image intact" {
  addr=$(registry_addr flaky)
  stop_registry flaky
  run_ferry_across_restart copy -q --retry-times 30 --retry-delay 1s --src-tls-verify=false \
    "docker://$addr/retry/img:v1" "oci:$BATS_TEST_TMPDIR/copied:v1"
  [ "$status" -eq 0 ]
  [[ $(log_messages "$T/err" warning | head -1) == '"Failed, retrying in 1s ... (1/30). Error: initializing source docker://'* ]]
  s copy -q --src-tls-verify=false "docker://$addr/retry/img:v1" "oci:$BATS_TEST_TMPDIR/by-skopeo:v1"
  cmp <(s inspect --raw "oci:$BATS_TEST_TMPDIR/copied:v1") <(s inspect --raw "oci:$BATS_TEST_TMPDIR/by-skopeo:v1")
}

@test "delete succeeds once the registry is back" {
  addr=$(registry_addr flaky)
  stop_registry flaky
  run_ferry_across_restart delete --retry-times 30 --retry-delay 1s --tls-verify=false "docker://$addr/retry/del:v1"
  [ "$status" -eq 0 ]
  [[ $(log_messages "$T/err" warning | head -1) == "\"Failed, retrying in 1s ... (1/30). Error: pinging container registry $addr: "* ]]
  run s inspect --tls-verify=false "docker://$addr/retry/del:v1"
  [ "$status" -ne 0 ]
  [[ $output == *"manifest unknown"* ]]
}

@test "a missing image is not retried: one request, exit 2" {
  addr=$(registry_addr flaky)
  log=$BATS_FILE_TMPDIR/flaky/registry.log
  before=$(grep -c '"GET /v2/retry/img/manifests/nope HTTP/1.1" 404' "$log" || true)
  run_f inspect --retry-times 3 --tls-verify=false "docker://$addr/retry/img:nope"
  expect_status 2
  [[ $output != *"retrying"* ]]
  expect_output_contains "reading manifest nope in $addr/retry/img: manifest unknown"
  after=$(grep -c '"GET /v2/retry/img/manifests/nope HTTP/1.1" 404' "$log")
  [ "$((after - before))" = 1 ]
  # copy and an unknown repository (NAME_UNKNOWN) alike.
  run_f copy --retry-times 3 --src-tls-verify=false "docker://$addr/retry/img:nope" "oci:$BATS_TEST_TMPDIR/o:x"
  expect_status 2
  [[ $output != *"retrying"* ]]
  run_f list-tags --retry-times 3 --tls-verify=false "docker://$addr/no/such/repo"
  expect_status 1
  [[ $output != *"retrying"* ]]
  expect_output_contains "Error listing repository tags: fetching tags list: name unknown"
}

@test "refused credentials and local errors are not retried" {
  addr=$(registry_addr auth)
  run_f inspect --retry-times 3 --tls-verify=false --creds alice:wrong "docker://$addr/any/img:v1"
  expect_status 1
  [[ $output != *"retrying"* ]]
  expect_output_contains "unauthorized"
  run_f copy --retry-times 3 "dir:$BATS_TEST_TMPDIR/does-not-exist" "oci:$BATS_TEST_TMPDIR/o:x"
  expect_status 1
  [[ $output != *"retrying"* ]]
  run_f copy --retry-times 3 --src-tls-verify=false "docker://$addr/Bad_Name:v1" "oci:$BATS_TEST_TMPDIR/o:x"
  expect_status 1
  [[ $output != *"retrying"* ]]
}

@test "--retry-delay sets a fixed delay; without it the delay doubles" {
  addr=$(registry_addr flaky)
  stop_registry flaky
  run_f list-tags --retry-times 2 --retry-delay 1500ms --tls-verify=false "docker://$addr/retry/img"
  expect_status 1
  [ "$(printf '%s\n' "$output" | grep -c 'level=warning')" = 2 ]
  expect_output_contains 'msg="Failed, retrying in 1.5s ... (1/2). Error: Error listing repository tags: pinging'
  expect_output_contains 'msg="Failed, retrying in 1.5s ... (2/2). Error: Error listing repository tags: pinging'
  run_f list-tags --retry-times 2 --tls-verify=false "docker://$addr/retry/img"
  expect_status 1
  expect_output_contains 'msg="Failed, retrying in 1s ... (1/2).'
  expect_output_contains 'msg="Failed, retrying in 2s ... (2/2).'
  # No --retry-times: one attempt, no warning.
  run_f list-tags --tls-verify=false "docker://$addr/retry/img"
  expect_status 1
  [[ $output != *"retrying"* ]]
}
