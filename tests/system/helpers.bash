# Shared setup for ferry's system tests (bats). Each .bats file is one ctest
# test; ctest passes FERRY (the binary) and FERRY_SRC (the source tree).

FERRY=${FERRY:-$BATS_TEST_DIRNAME/../../build/ferry}
FERRY_SRC=${FERRY_SRC:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
SAMPLE_SCRIPT=$FERRY_SRC/scripts/make-sample-image.sh

# Each test gets its own blob-info cache: what one test's copies taught ferry
# must not turn another test's uploads into mounts, and tests run as root
# must not write the machine's /var/lib/containers/cache.
# It lives outside BATS_TEST_TMPDIR, which some tests check for leftovers.
export FERRY_BLOB_INFO_CACHE_DIR=${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/blob-info-cache-${BATS_TEST_NUMBER:-0}

# Sample images shared by all tests of a file, built once in setup_file:
# the ones named (oci, v2s2, multi-oci, multi-v2s2), or all four.
make_samples() {  # [NAME...]
  export SAMPLES=$BATS_FILE_TMPDIR/samples
  mkdir -p "$SAMPLES"
  local names=("$@") name
  [ $# -gt 0 ] || names=(oci v2s2 multi-oci multi-v2s2)
  for name in "${names[@]}"; do
    case $name in
      oci) "$SAMPLE_SCRIPT" "$SAMPLES/oci" latest --extra-layers 2 >/dev/null ;;
      v2s2) "$SAMPLE_SCRIPT" "$SAMPLES/v2s2" --docker --extra-layers 1 >/dev/null ;;
      multi-oci) "$SAMPLE_SCRIPT" "$SAMPLES/multi-oci" latest --multiarch >/dev/null ;;
      multi-v2s2) "$SAMPLE_SCRIPT" "$SAMPLES/multi-v2s2" --multiarch --docker >/dev/null ;;
      *) echo "make_samples: unknown sample $name" >&2; return 1 ;;
    esac
  done
}

# ferry and skopeo with the accept-anything policy; tests of the policy
# itself call the binaries directly.
f() { "$FERRY" --insecure-policy "$@"; }
s() { skopeo --insecure-policy "$@"; }

# run_f ARGS: run ferry capturing status and output (bats `run`).
run_f() { run "$FERRY" --insecure-policy "$@"; }

# Fails the test with a readable message unless status equals $1.
expect_status() {
  if [ "$status" -ne "$1" ]; then
    echo "expected exit $1, got $status; output:" >&2
    echo "$output" >&2
    return 1
  fi
}

# Fails unless $output contains $1.
expect_output_contains() {
  if [[ "$output" != *"$1"* ]]; then
    echo "expected output to contain: $1" >&2
    echo "actual output: $output" >&2
    return 1
  fi
}

# The inspect JSON fields skopeo 1.9.3 and ferry should agree on (1.9.3
# predates LayersData).
inspect_common() { jq -S 'del(.LayersData)'; }

# The manifest of an OCI layout's only image.
manifest_of() {  # LAYOUT
  local d
  d=$(jq -r '.manifests[0].digest' "$1/index.json")
  cat "$1/blobs/${d/://}"
}
