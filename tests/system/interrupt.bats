#!/usr/bin/env bats
# A copy stopped in the middle (Ctrl-C, a CI runner's SIGTERM, a closed
# terminal's SIGHUP, --command-timeout) unwinds in order: nothing is tagged,
# the destination's staging files are removed, no retry is attempted, and the
# process ends by the signal, silently, as skopeo does. The source is a
# registry whose largest layer stops after half its bytes
# (stalling_registry.py), so every copy is caught mid-transfer, with other
# blobs already written.

load helpers

setup_file() {
  make_samples oci v2s2
  local layout=$SAMPLES/oci manifest
  manifest=$(jq -r '.manifests[0].digest' "$layout/index.json")
  export STALL_DIGEST
  STALL_DIGEST=$(jq -r '.layers | max_by(.size) | .digest' "$layout/blobs/sha256/${manifest#sha256:}")
  export STALLED=$BATS_FILE_TMPDIR/stalled
  setpriv --pdeathsig KILL -- /usr/bin/python3 "$FERRY_SRC/tests/system/stalling_registry.py" \
    "$layout" "$BATS_FILE_TMPDIR/port" "$STALL_DIGEST" "$STALLED" \
    </dev/null >"$BATS_FILE_TMPDIR/server.log" 2>&1 3>&- &
  echo $! >"$BATS_FILE_TMPDIR/server.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$BATS_FILE_TMPDIR/port" ] && break
    sleep 0.1
  done
  [ -s "$BATS_FILE_TMPDIR/port" ] || { cat "$BATS_FILE_TMPDIR/server.log" >&2; return 1; }
  export SRC="docker://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/port")/sample/app:latest"
}

teardown_file() {
  kill "$(cat "$BATS_FILE_TMPDIR/server.pid")" 2>/dev/null || true
}

# stop_copy SIGNAL DEST [FLAG...]: starts `ferry copy SRC DEST`, waits until
# the stalled layer has sent its half, sends SIGNAL, and waits for the end
# (a 30 s guard against a copy that ignores it). Sets $status to the exit
# status and $stderr_file to its stderr. SIGINT's default action is put
# back first: bats runs background jobs with SIGINT ignored, as any
# non-interactive shell does.
stop_copy() {
  local sig=$1 dest=$2 i pid; shift 2
  : >"$STALLED"
  stderr_file=$BATS_TEST_TMPDIR/stderr
  env --default-signal=INT "$FERRY" --insecure-policy copy --src-tls-verify=false --retry-times 3 "$@" \
    "$SRC" "$dest" >"$BATS_TEST_TMPDIR/stdout" 2>"$stderr_file" &
  pid=$!
  for ((i = 0; i < 300; i++)); do
    [ -s "$STALLED" ] && break
    sleep 0.1
  done
  [ -s "$STALLED" ] || { kill -KILL "$pid"; echo "the copy never reached the stalled layer" >&2; return 1; }
  kill "-$sig" "$pid"
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    echo "ferry still running 30 s after SIG$sig" >&2
    return 1
  fi
  status=0
  wait "$pid" || status=$?
}

# Nothing in DIR but what LISTED names (one name per argument).
only_entries() {  # DIR [NAME...]
  local dir=$1; shift
  [ "$(ls -A "$dir" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')" ]
}

@test "SIGTERM during a copy to dir: the staging directory is removed, the process ends by the signal" {
  local d=$BATS_TEST_TMPDIR/out
  mkdir -p "$d"
  stop_copy TERM "dir:$d/img"
  [ "$status" = 143 ]
  ! grep -q 'level=fatal' "$stderr_file"
  ! grep -q 'retrying' "$stderr_file"
  only_entries "$d"  # no img, no .img.ferry-* staging directory
}

@test "SIGINT during a copy to an OCI layout: nothing tagged, no temporary blobs left" {
  local d=$BATS_TEST_TMPDIR/out
  mkdir -p "$d"
  # A layout that already holds an image (sharing all but the stalled
  # layer) keeps it, untouched.
  "$FERRY" --insecure-policy copy -q "dir:$SAMPLES/v2s2" "oci:$d/lay:old"
  cp "$d/lay/index.json" "$BATS_TEST_TMPDIR/index.before"
  stop_copy INT "oci:$d/lay:new"
  [ "$status" = 130 ]
  ! grep -q 'level=fatal' "$stderr_file"
  cmp "$BATS_TEST_TMPDIR/index.before" "$d/lay/index.json"
  only_entries "$d/lay" blobs index.json oci-layout
  only_entries "$d/lay/blobs" sha256
  # Every file left is a whole blob under its own digest.
  local f
  for f in "$d/lay/blobs/sha256/"*; do
    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f")" ]
  done
  # And the layout still takes the image once the source is whole.
  "$FERRY" --insecure-policy copy -q "oci:$SAMPLES/oci:latest" "oci:$d/lay:new"
  skopeo --insecure-policy inspect "oci:$d/lay:new" >/dev/null
}

@test "SIGHUP during a copy to archives: no partial tarball is left" {
  local d=$BATS_TEST_TMPDIR/out
  mkdir -p "$d"
  stop_copy HUP "docker-archive:$d/img.tar:app/x:1"
  [ "$status" = 129 ]
  only_entries "$d"
  stop_copy HUP "oci-archive:$d/img-oci.tar:x"
  [ "$status" = 129 ]
  only_entries "$d"
}

@test "--command-timeout stops the copy in order and says so" {
  local d=$BATS_TEST_TMPDIR/out
  mkdir -p "$d"
  status=0
  "$FERRY" --insecure-policy --command-timeout 3s copy -q --src-tls-verify=false --retry-times 3 \
    "$SRC" "dir:$d/img" 2>"$BATS_TEST_TMPDIR/stderr" || status=$?
  [ "$status" = 1 ]
  [ -s "$STALLED" ]  # it was stopped mid-transfer
  grep -q 'level=fatal msg="context deadline exceeded"' "$BATS_TEST_TMPDIR/stderr"
  [ "$(grep -c 'level=fatal' "$BATS_TEST_TMPDIR/stderr")" = 1 ]
  ! grep -q 'retrying' "$BATS_TEST_TMPDIR/stderr"
  only_entries "$d"
}
