#!/usr/bin/env bash
# Regenerates cmake/ferry-link-order.txt: the functions ferry runs in its
# common jobs, which the release link (lld) lays out first and together so
# that a run pages in half the code it would otherwise (CMakeLists.txt,
# docs/architecture.md "Start-up and resident memory").
#
#   scripts/link-order.sh [FERRY]      (default build/ferry; not a sanitizer build)
#
# Runs the jobs below under valgrind's callgrind, against a plain-HTTP and an
# HTTPS registry started for the purpose, on small images built offline, and
# writes the functions they executed in the ferry binary, group by group,
# each group sorted (diffs stay readable). Functions renamed since only lose their
# place; rerun after large changes and compare `bench/run.sh --scenario r2r`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ferry=$(realpath "${1:-$root/build/ferry}")
out=$root/cmake/ferry-link-order.txt

if ! command -v valgrind >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi

work=$(mktemp -d /tmp/ferry-link-order.XXXXXX)
cleanup() {
  "$here/registry.sh" stop "$work/plain" || true
  "$here/registry.sh" stop "$work/tls" || true
  rm -rf "$work"
}
trap cleanup EXIT

"$here/make-sample-image.sh" "$work/img" latest --extra-layers 3 --extra-size 4 >/dev/null
"$here/make-sample-image.sh" "$work/multi" latest --multiarch >/dev/null
plain=$("$here/registry.sh" start "$work/plain")
tls=$("$here/registry.sh" start "$work/tls" --tls)
certs=$work/tls/certs.d

export HOME=$work/home XDG_RUNTIME_DIR=$work/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
# Jobs in groups, most common first. Each group's functions not already
# listed follow as one block: a plain registry-to-registry copy then touches
# one dense block of code, a TLS one two, and so on.
n=0
group=1
runs=()
run() {
  n=$((n + 1))
  runs+=("$group")
  valgrind -q --tool=callgrind --demangle=no --callgrind-out-file="$work/cg.$n" \
    "$ferry" "$@" >/dev/null
}
P=--insecure-policy
# 1: registry to registry, inspect (plain HTTP)
run $P copy --dest-tls-verify=false oci:"$work/img":latest docker://"$plain"/lo/img:1
run $P copy --src-tls-verify=false --dest-tls-verify=false docker://"$plain"/lo/img:1 docker://"$plain"/lo/copy:1
run inspect --tls-verify=false docker://"$plain"/lo/img:1
group=2  # OCI layouts both ways, multi-arch
run $P copy --src-tls-verify=false docker://"$plain"/lo/img:1 oci:"$work/pulled":1
run $P copy --dest-tls-verify=false oci:"$work/pulled":1 docker://"$plain"/lo/pushed:1
run $P copy --all --dest-tls-verify=false oci:"$work/multi":latest docker://"$plain"/lo/multi:1
group=3  # the same over HTTPS
run $P copy --dest-cert-dir "$certs" oci:"$work/img":latest docker://"$tls"/lo/img:1
run $P copy --src-cert-dir "$certs" --dest-cert-dir "$certs" docker://"$tls"/lo/img:1 docker://"$tls"/lo/copy:1
run inspect --cert-dir "$certs" docker://"$tls"/lo/img:1
group=4  # the rest
run $P copy --src-cert-dir "$certs" docker://"$tls"/lo/img:1 dir:"$work/dir"
run $P copy --src-tls-verify=false --dest-tls-verify=false --dest-compress-format zstd \
  docker://"$plain"/lo/img:1 docker://"$plain"/lo/zstd:1
run inspect --tls-verify=false --raw docker://"$plain"/lo/multi:1
run inspect --tls-verify=false --config docker://"$plain"/lo/img:1
run list-tags --tls-verify=false docker://"$plain"/lo/img
run delete --tls-verify=false docker://"$plain"/lo/copy:1

python3 - "$work" "$ferry" "${runs[@]}" >"$out.tmp" <<'EOF'
# callgrind names each object (ob=) and function (fn=) once, then refers
# to them by number; keep the functions executed inside the ferry binary.
import re, sys
work, binary, groups = sys.argv[1], sys.argv[2], [int(g) for g in sys.argv[3:]]
by_group = {}
for i, g in enumerate(groups, 1):
    names = by_group.setdefault(g, set())
    obs, fns, cur = {}, {}, None
    for line in open(f"{work}/cg.{i}"):
        m = re.match(r"^(c?ob|c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if not m:
            continue
        kind, num, name = m.groups()
        table = obs if kind.endswith("ob") else fns
        if name:
            table[num] = name
        if kind == "ob":
            cur = obs[num]
        elif kind == "fn" and cur == binary:
            names.add(fns[num])
seen = set()
for g in sorted(by_group):
    # callgrind's own labels ("0x..." for unnamed code, "(below main)") are not symbols.
    block = sorted(x for x in by_group[g] - seen if not x.startswith(("0x", "(")))
    seen |= set(block)
    print("\n".join(block))
EOF
mv "$out.tmp" "$out"
echo "link-order: $(wc -l <"$out") functions from $n runs in $group groups -> $out" >&2
