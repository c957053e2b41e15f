#!/usr/bin/env bash
# Builds a small, real, runnable container image offline, from Debian's
# busybox-static, as an OCI image layout. Used by the demo, the system tests
# and the benchmarks, so nothing is ever downloaded.
#
#   make-sample-image.sh OUT [TAG] [--multiarch] [--docker] [--extra-layers N] [--extra-size MIB]
#
# Writes an OCI layout at OUT (tagged TAG), or with --docker a `dir:` image
# (skopeo reads Docker media types only from dir:, not from OCI layouts).
# Prints the top-level manifest digest.
#
# --docker        Docker v2s2 manifest and config media types instead of OCI
# --multiarch     an index with linux/amd64 and linux/arm64 instances
# --extra-layers  N more layers of MIB MiB pseudo-random files each
set -euo pipefail

out=$1; shift
tag=latest
multi=0; docker=0; extra=0; extra_mib=1
if [ $# -gt 0 ] && [[ $1 != --* ]]; then tag=$1; shift; fi
while [ $# -gt 0 ]; do
  case $1 in
    --multiarch) multi=1 ;;
    --docker) docker=1 ;;
    --extra-layers) extra=$2; shift ;;
    --extra-size) extra_mib=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
  shift
done

busybox=/bin/busybox
[ -x "$busybox" ] || { echo "busybox-static is not installed (scripts/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
blobs=$work/blobs
mkdir -p "$blobs"

if [ $docker = 1 ]; then
  MT_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
  MT_CONFIG=application/vnd.docker.container.image.v1+json
  MT_LAYER=application/vnd.docker.image.rootfs.diff.tar.gzip
  MT_INDEX=application/vnd.docker.distribution.manifest.list.v2+json
else
  MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
  MT_CONFIG=application/vnd.oci.image.config.v1+json
  MT_LAYER=application/vnd.oci.image.layer.v1.tar+gzip
  MT_INDEX=application/vnd.oci.image.index.v1+json
fi

# put_blob FILE -> prints "digest size" after storing it under blobs/
put_blob() {
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  cp "$1" "$blobs/$hex"
  echo "sha256:$hex $size"
}

# Reproducible tar+gzip of a directory: fixed order, owners and times.
make_layer() {  # DIR OUT.tar.gz -> prints "digest size diffid"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf "$2.tar" .
  local diffid
  diffid=sha256:$(sha256sum "$2.tar" | cut -d' ' -f1)
  gzip -n -6 -c "$2.tar" > "$2"
  echo "$(put_blob "$2") $diffid"
}

# Base layer: busybox and its applet links.
root=$work/root
mkdir -p "$root/bin" "$root/etc" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for a in sh ls cat echo uname true false sleep env; do ln -s busybox "$root/bin/$a"; done
echo "ferry sample image" > "$root/etc/motd"
read -r L0_DIGEST L0_SIZE L0_DIFF < <(make_layer "$root" "$work/l0.tar.gz")
layers_json="{\"mediaType\":\"$MT_LAYER\",\"digest\":\"$L0_DIGEST\",\"size\":$L0_SIZE}"
diffids_json="\"$L0_DIFF\""
history_json='{"created":"2024-01-01T00:00:00Z","created_by":"ferry make-sample-image: busybox"}'

for i in $(seq 1 "$extra"); do
  d=$work/extra$i
  mkdir -p "$d/data"
  # Deterministic pseudo-random content (seeded by the layer number) so
  # layers compress like real binaries and differ from each other.
  head -c $((extra_mib * 1024 * 1024)) /dev/zero \
    | openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:"ferry$i" 2>/dev/null > "$d/data/blob$i.bin"
  read -r D S F < <(make_layer "$d" "$work/l$i.tar.gz")
  layers_json="$layers_json,{\"mediaType\":\"$MT_LAYER\",\"digest\":\"$D\",\"size\":$S}"
  diffids_json="$diffids_json,\"$F\""
  history_json="$history_json,{\"created\":\"2024-01-01T00:00:0${i: -1}Z\",\"created_by\":\"extra layer $i\"}"
done

# make_image ARCH -> prints "digest size" of the manifest
make_image() {
  local arch=$1 cfg man
  cfg=$work/config-$arch.json
  printf '{"created":"2024-01-01T00:00:00Z","architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"],"Labels":{"org.opencontainers.image.title":"ferry-sample"}},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
    "$arch" "$diffids_json" "$history_json" > "$cfg"
  read -r CD CS < <(put_blob "$cfg")
  man=$work/manifest-$arch.json
  printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":%s},"layers":[%s]}' \
    "$MT_MANIFEST" "$MT_CONFIG" "$CD" "$CS" "$layers_json" > "$man"
  put_blob "$man"
}

if [ $multi = 1 ]; then
  read -r AD AS < <(make_image amd64)
  read -r RD RS < <(make_image arm64)
  idx=$work/index.json
  printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"%s","digest":"%s","size":%s,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}' \
    "$MT_INDEX" "$MT_MANIFEST" "$AD" "$AS" "$MT_MANIFEST" "$RD" "$RS" > "$idx"
  read -r TD TS < <(put_blob "$idx")
  TMT=$MT_INDEX
else
  read -r TD TS < <(make_image amd64)
  TMT=$MT_MANIFEST
fi

mkdir -p "$out"
if [ $docker = 1 ]; then
  # dir: layout: blobs by hex, instance manifests as <hex>.manifest.json.
  for f in "$blobs"/*; do cp "$f" "$out/$(basename "$f")"; done
  cp "$blobs/${TD#sha256:}" "$out/manifest.json"
  rm "$out/${TD#sha256:}"
  if [ $multi = 1 ]; then
    for d in "$AD" "$RD"; do mv "$out/${d#sha256:}" "$out/${d#sha256:}.manifest.json"; done
  fi
  printf 'Directory Transport Version: 1.1\n' > "$out/version"
else
  mkdir -p "$out/blobs/sha256"
  cp "$blobs"/* "$out/blobs/sha256/"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$TMT" "$TD" "$TS" "$tag" > "$out/index.json"
fi
echo "$TD"
