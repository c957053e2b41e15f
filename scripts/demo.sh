#!/usr/bin/env bash
# ferry's main job on a sample image built offline: copy it between every
# local format and inspect it, showing what a user sees.
set -euo pipefail
FERRY=${1:-build/ferry}
FERRY=$(realpath "$FERRY")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ferry-demo.XXXXXX)
cleanup() {
  "$here/registry.sh" stop "$work/registry" || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "== building a sample image (busybox-static, offline) in $work/sample"
"$here/make-sample-image.sh" "$work/sample" demo --extra-layers 2 >/dev/null

export FERRY_DEMO=1
step "$FERRY" --version
step "$FERRY" --insecure-policy copy oci:"$work/sample":demo dir:"$work/dir"
step "$FERRY" --insecure-policy copy dir:"$work/dir" docker-archive:"$work/sample.tar":ferry/demo:1.0
step "$FERRY" --insecure-policy copy docker-archive:"$work/sample.tar" oci-archive:"$work/sample-oci.tar":demo
step "$FERRY" --insecure-policy copy oci-archive:"$work/sample-oci.tar":demo oci:"$work/back":demo
step "$FERRY" --insecure-policy copy --format v2s2 oci:"$work/back":demo dir:"$work/v2s2"
step "$FERRY" inspect docker-archive:"$work/sample.tar"
step "$FERRY" inspect --format '{{.Architecture}}/{{.Os}} {{len .Layers}} layers, created {{.Created}}' oci:"$work/back":demo
step "$FERRY" inspect --config oci:"$work/back":demo
step "$FERRY" list-tags docker-archive:"$work/sample.tar"

echo
echo "== a local Distribution registry on loopback"
reg=$("$here/registry.sh" start "$work/registry")
echo "registry listening on $reg"
step "$FERRY" --insecure-policy copy --dest-tls-verify=false oci:"$work/sample":demo docker://"$reg"/ferry/demo:1.0
step "$FERRY" --insecure-policy copy --src-tls-verify=false --dest-tls-verify=false docker://"$reg"/ferry/demo:1.0 docker://"$reg"/ferry/demo:stable
step "$FERRY" inspect --tls-verify=false docker://"$reg"/ferry/demo:1.0
step "$FERRY" list-tags --tls-verify=false docker://"$reg"/ferry/demo
step "$FERRY" --insecure-policy copy --src-tls-verify=false docker://"$reg"/ferry/demo:stable oci:"$work/pulled":demo

if command -v skopeo >/dev/null; then
  echo
  echo "== skopeo reads what ferry wrote"
  step skopeo inspect --format '{{.Digest}}' oci:"$work/back":demo
  step "$FERRY" inspect --format '{{.Digest}}' oci:"$work/back":demo
  step skopeo inspect --tls-verify=false --format '{{.Digest}} {{.RepoTags}}' docker://"$reg"/ferry/demo:1.0
  step "$FERRY" inspect --tls-verify=false --format '{{.Digest}} {{.RepoTags}}' docker://"$reg"/ferry/demo:1.0
fi
echo
echo "demo: all steps succeeded"
