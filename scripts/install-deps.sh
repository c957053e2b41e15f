#!/usr/bin/env bash
# Installs every Debian package ferry needs to build, test, fuzz and benchmark.
# Idempotent and quiet when everything is present, so `make demo` / `make test`
# can call it on every run; CI runs it on a fresh Debian 12 machine.
set -euo pipefail

PKGS=(
  # build
  cmake ninja-build g++ pkg-config ccache lld-16
  # libraries (see docs/architecture.md for why each one)
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libarchive-dev
  libisal-dev zlib1g-dev libzstd-dev libfmt-dev libyaml-cpp-dev
  libtomlplusplus-dev libsqlite3-dev libgpgme-dev libsodium-dev libbrotli-dev
  # tests: unit, system, fuzz, and the real peers they talk to
  libgtest-dev bats jq clang libclang-rt-14-dev
  docker-registry skopeo apache2-utils busybox-static openssl curl iproute2 python3 zstd
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's docker-registry package starts a system registry on :5000; the
# tests start their own on free loopback ports, so stop it if it came up.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q docker-registry 2>/dev/null; then
  $SUDO systemctl stop docker-registry || true
fi
