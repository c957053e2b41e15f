#!/usr/bin/env bats
# What `copy` prints while it runs: live bars on a terminal (a pty from
# util-linux `script`), skopeo's plain lines when stdout is a pipe or a file,
# nothing with --quiet, and never anything on stderr.

load helpers

setup_file() {
  export SAMPLES=$BATS_FILE_TMPDIR/samples
  mkdir -p "$SAMPLES"
  "$SAMPLE_SCRIPT" "$SAMPLES/oci" latest --extra-layers 2 >/dev/null
}

setup() {
  command -v script >/dev/null || skip "util-linux script (a pty for the terminal tests) is not installed"
  unset FERRY_PROGRESS
  SRC="oci:$SAMPLES/oci:latest"
}

# The sample's manifest, and the 12-character digests skopeo's bars show.
sample_manifest() {
  local d
  d=$(jq -r '.manifests[0].digest' "$SAMPLES/oci/index.json")
  cat "$SAMPLES/oci/blobs/${d%%:*}/${d#*:}"
}
short_layers() { sample_manifest | jq -r '.layers[].digest' | cut -d: -f2 | cut -c1-12; }
short_config() { sample_manifest | jq -r '.config.digest' | cut -d: -f2 | cut -c1-12; }

# on_tty OUT ARGS...: runs ferry with stdout (and stderr) on a pty, writes
# what the terminal received to OUT with the pty's \r\n made \n.
on_tty() {
  local out=$1; shift
  local cmd
  cmd=$(printf '%q ' "$FERRY" --insecure-policy "$@")
  TERM=xterm script -qfec "$cmd" /dev/null | tr -d '\r' > "$out"
}

@test "on a terminal: a bar per blob, finished ones stay, then the manifest line" {
  out=$BATS_TEST_TMPDIR/tty.out
  on_tty "$out" copy "$SRC" "dir:$BATS_TEST_TMPDIR/d"
  [ "$(short_layers | wc -l)" = 3 ]
  for s in $(short_layers); do
    grep -Eq "Copying blob $s done   [0-9.]+(B|KiB|MiB)\$" "$out"
  done
  grep -Eq "Copying config $(short_config) done   [0-9.]+(B|KiB)\$" "$out"
  grep -Eq "Total done   [0-9.]+(KiB|MiB)" "$out"
  # Bars are drawn with clear-line sequences; no plain blob line is printed.
  grep -q $'\x1b\\[2K' "$out"
  [ "$(grep -c "Copying blob sha256:" "$out")" = 0 ]
  # The step lines come before the bars and after them, in skopeo's order.
  grep -n "Getting image source signatures" "$out" | grep -q "^1:"
  last=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$out" | grep -v '^$' | tail -n 1)
  [ "$last" = "Writing manifest to image destination" ]
  # And the image is complete.
  skopeo --insecure-policy inspect --raw "dir:$BATS_TEST_TMPDIR/d" >/dev/null
}

@test "on a terminal: blobs the destination has show 'skipped: already exists'" {
  f copy -q "$SRC" "oci:$BATS_TEST_TMPDIR/o:one"
  out=$BATS_TEST_TMPDIR/tty.out
  on_tty "$out" copy "$SRC" "oci:$BATS_TEST_TMPDIR/o:two"
  for s in $(short_layers); do
    grep -q "Copying blob $s skipped: already exists" "$out"
  done
  grep -q "Writing manifest to image destination" "$out"
}

# Layers start in parallel in both tools, so the order of "Copying blob"
# lines varies between runs; everything else is compared line for line.
# skopeo 1.9.3 prints "Storing signatures" even with none to store; ferry
# follows skopeo >= 1.22, which does not.
blob_lines() { grep '^Copying blob ' "$1" | sort; }
other_lines() { grep -v '^Copying blob ' "$1" | grep -vx 'Storing signatures'; }
same_plain_lines() {  # WANT GOT
  diff -u <(other_lines "$1") <(other_lines "$2")
  diff -u <(blob_lines "$1") <(blob_lines "$2")
}

@test "piped: skopeo's plain lines, byte for byte" {
  f copy "$SRC" "dir:$BATS_TEST_TMPDIR/f" > "$BATS_TEST_TMPDIR/ferry.out"
  s copy "$SRC" "dir:$BATS_TEST_TMPDIR/s" > "$BATS_TEST_TMPDIR/skopeo.out"
  same_plain_lines "$BATS_TEST_TMPDIR/skopeo.out" "$BATS_TEST_TMPDIR/ferry.out"
  [ "$(blob_lines "$BATS_TEST_TMPDIR/ferry.out" | wc -l)" = 3 ]
  # The blob lines sit together after the first step line, as in skopeo.
  sed -n '2,4p' "$BATS_TEST_TMPDIR/ferry.out" | grep -c '^Copying blob sha256:[0-9a-f]\{64\}$' | grep -qx 3
  [ "$(grep -c $'\x1b' "$BATS_TEST_TMPDIR/ferry.out")" = 0 ]
}

@test "on a terminal, FERRY_PROGRESS=plain and TERM=dumb give the plain lines" {
  f copy "$SRC" "dir:$BATS_TEST_TMPDIR/p" > "$BATS_TEST_TMPDIR/piped.out"
  FERRY_PROGRESS=plain on_tty "$BATS_TEST_TMPDIR/forced.out" copy "$SRC" "dir:$BATS_TEST_TMPDIR/q"
  same_plain_lines "$BATS_TEST_TMPDIR/piped.out" "$BATS_TEST_TMPDIR/forced.out"
  cmd=$(printf '%q ' "$FERRY" --insecure-policy copy "$SRC" "dir:$BATS_TEST_TMPDIR/r")
  TERM=dumb script -qfec "$cmd" /dev/null | tr -d '\r' > "$BATS_TEST_TMPDIR/dumb.out"
  same_plain_lines "$BATS_TEST_TMPDIR/piped.out" "$BATS_TEST_TMPDIR/dumb.out"
  [ "$(cat "$BATS_TEST_TMPDIR/forced.out" "$BATS_TEST_TMPDIR/dumb.out" | grep -c $'\x1b')" = 0 ]
}

@test "--quiet prints nothing on a terminal" {
  on_tty "$BATS_TEST_TMPDIR/quiet.out" copy --quiet "$SRC" "dir:$BATS_TEST_TMPDIR/d"
  [ ! -s "$BATS_TEST_TMPDIR/quiet.out" ]
  FERRY_PROGRESS=bars f copy -q "$SRC" "dir:$BATS_TEST_TMPDIR/e" > "$BATS_TEST_TMPDIR/quiet2.out"
  [ ! -s "$BATS_TEST_TMPDIR/quiet2.out" ]
}

@test "bars never go to stderr" {
  FERRY_PROGRESS=bars f copy "$SRC" "dir:$BATS_TEST_TMPDIR/d" \
    > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err"
  [ ! -s "$BATS_TEST_TMPDIR/err" ]
  grep -q "Copying config $(short_config) done" "$BATS_TEST_TMPDIR/out"
}

@test "a copy whose stdout is closed or full still succeeds, as skopeo's does" {
  FERRY_PROGRESS=bars f copy "$SRC" "dir:$BATS_TEST_TMPDIR/closed" >&-
  FERRY_PROGRESS=bars f copy "$SRC" "dir:$BATS_TEST_TMPDIR/full" > /dev/full
  # skopeo copies the results once more: every digest is verified.
  s copy -q "dir:$BATS_TEST_TMPDIR/closed" "dir:$BATS_TEST_TMPDIR/v1"
  s copy -q "dir:$BATS_TEST_TMPDIR/full" "dir:$BATS_TEST_TMPDIR/v2"
}
