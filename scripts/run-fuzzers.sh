#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, with a
# corpus directory per target under BUILD_DIR/fuzz-corpus (kept between runs
# so coverage accumulates). Exits non-zero if any target finds a crash.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
status=0
for bin in "$build"/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus=$build/fuzz-corpus/$name
  mkdir -p "$corpus"
  echo "== $name ($seconds s)"
  if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/$name-" "$corpus" 2>"$build/$name.log"; then
    echo "FAILED: $name (see $build/$name.log)"
    tail -30 "$build/$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/$name.log" | tail -2
  fi
done
exit $status
