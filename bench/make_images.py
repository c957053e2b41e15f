#!/usr/bin/env python3
"""Builds the benchmark's test images offline, from this machine's own files.

    make_images.py OUTDIR

Writes into OUTDIR (atomically: a temporary sibling renamed at the end):
  big/    OCI layout, tag "latest": one linux/amd64 image of 10 gzip layers of
          uneven sizes (about 518 MB compressed), like a large application
          image (nginx, a JDK, ...)
  multi/  OCI layout, tag "latest": an OCI index of 3 smaller images
          (linux/amd64, linux/arm64/v8, linux/arm/v7), each with 4 layers of
          its own
  meta.json  what was built: digests, sizes, diff_ids, totals

Layers are real file trees (libraries, binaries, locales, documentation from
/usr), so they compress like real images do; pseudo-random bytes would not
compress at all and text alone would compress far too well. Each layer takes
files from /usr in a fixed order until its gzip stream reaches the target
size, so no file appears twice anywhere. Archives are reproducible on one
machine: sorted names, mtime 0, owner root, gzip without a name or time.
"""
import gzip
import hashlib
import json
import os
import shutil
import stat
import sys
import tarfile

MB = 1000 * 1000
# Compressed sizes: one dominant layer, a long tail, as real images have.
BIG_LAYERS_MB = [180, 120, 80, 50, 30, 20, 15, 10, 8, 5]
MULTI_LAYERS_MB = [30, 15, 8, 4]
MULTI_PLATFORMS = [("amd64", None), ("arm64", "v8"), ("arm", "v7")]
# Trees to draw files from, in order; the walk goes on into the next one when
# a tree is used up, and skips anything already taken.
ROOTS = [
    "/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/lib/llvm-14", "/usr/lib/jvm",
    "/usr/lib/gcc", "/usr/share/locale", "/usr/share/doc", "/usr/share/man",
    "/usr/lib/go-1.19", "/usr/lib/python3.11", "/usr/share", "/usr/lib", "/usr",
]

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def walk_files():
    """Yields absolute paths of regular files and symlinks under ROOTS, once each."""
    seen = set()
    for root in ROOTS:
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                if p in seen:
                    continue
                seen.add(p)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                    continue
                if stat.S_ISREG(st.st_mode) and not os.access(p, os.R_OK):
                    continue
                yield p, st


class CountingHashWriter:
    """A file-like sink that hashes and counts what goes through it."""

    def __init__(self, out):
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, b):
        self.sha.update(b)
        self.size += len(b)
        if self.out is not None:
            self.out.write(b)
        return len(b)

    def flush(self):
        if self.out is not None:
            self.out.flush()


class FilePool:
    """Hands out files in walk order; files too big for a small layer wait
    for a later, roomier one."""

    def __init__(self):
        self.it = walk_files()
        self.deferred = []

    def take(self, max_bytes):
        for i, (p, st) in enumerate(self.deferred):
            if st.st_size <= max_bytes:
                del self.deferred[i]
                return p, st
        for p, st in self.it:
            if stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
                self.deferred.append((p, st))
                continue
            return p, st
        return None


def tarinfo_for(arcname, st, link=None):
    ti = tarfile.TarInfo(arcname)
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mode = stat.S_IMODE(st.st_mode)
    if link is not None:
        ti.type = tarfile.SYMTYPE
        ti.linkname = link
    elif stat.S_ISDIR(st.st_mode):
        ti.type = tarfile.DIRTYPE
    else:
        ti.size = st.st_size
    return ti


def build_layer(pool, target, blobs_dir, tmp_path):
    """Writes one gzip layer of about `target` compressed bytes; returns
    (digest, size, diff_id, uncompressed size, file count)."""
    with open(tmp_path, "wb") as f:
        comp = CountingHashWriter(f)
        gz = gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=comp, mtime=0)
        raw = CountingHashWriter(gz)
        tar = tarfile.open(fileobj=raw, mode="w|", format=tarfile.PAX_FORMAT)
        entries = []
        dirs_done = set()
        # Stop a little early: the compressor still holds buffered data.
        while comp.size < target - 64 * 1024:
            # A file never compresses to more than its size, so this bounds
            # the overshoot to a few hundred KB.
            item = pool.take(max(256 * 1024, target - comp.size))
            if item is None:
                break
            entries.append(item)
            p, st = item
            arc = p.lstrip("/")
            parts = arc.split("/")[:-1]
            for k in range(1, len(parts) + 1):
                d = "/".join(parts[:k])
                if d not in dirs_done:
                    dirs_done.add(d)
                    tar.addfile(tarinfo_for(d, os.stat("/" + d)))
            if stat.S_ISLNK(st.st_mode):
                tar.addfile(tarinfo_for(arc, st, link=os.readlink(p)))
            else:
                try:
                    with open(p, "rb") as src:
                        ti = tarinfo_for(arc, os.fstat(src.fileno()))
                        tar.addfile(ti, src)
                except OSError:
                    continue
        tar.close()
        gz.close()
    digest = comp.sha.hexdigest()
    shutil.move(tmp_path, os.path.join(blobs_dir, digest))
    return ("sha256:" + digest, comp.size, "sha256:" + raw.sha.hexdigest(), raw.size, len(entries))


def put_json(blobs_dir, obj):
    b = json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()
    d = hashlib.sha256(b).hexdigest()
    with open(os.path.join(blobs_dir, d), "wb") as f:
        f.write(b)
    return "sha256:" + d, len(b)


def make_image(pool, blobs_dir, sizes_mb, arch, variant, name, log):
    layers = []
    for i, mb in enumerate(sizes_mb):
        d, s, diff, usize, n = build_layer(pool, mb * MB, blobs_dir, os.path.join(blobs_dir, ".tmp"))
        log(f"  {name} layer {i}: {s / MB:7.1f} MB gzip, {usize / MB:7.1f} MB tar, {n} files")
        layers.append({"digest": d, "size": s, "diff_id": diff, "uncompressed": usize})
    config = {
        "created": "2024-01-01T00:00:00Z",
        "architecture": arch,
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"], "Labels": {"org.opencontainers.image.title": name}},
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"bench layer {i}"}
                    for i in range(len(layers))],
    }
    if variant:
        config["variant"] = variant
    cd, cs = put_json(blobs_dir, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cd, "size": cs},
        "layers": [{"mediaType": MT_LAYER, "digest": l["digest"], "size": l["size"]} for l in layers],
    }
    md, ms = put_json(blobs_dir, manifest)
    return {"digest": md, "size": ms, "config": {"digest": cd, "size": cs}, "layers": layers,
            "platform": {"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}}


def write_layout(path, media_type, digest, size):
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": media_type, "digest": digest, "size": size,
            "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, f)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_images.py OUTDIR")
    out = os.path.abspath(sys.argv[1])
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    pool = FilePool()
    meta = {}

    big_dir = os.path.join(tmp, "big")
    big_blobs = os.path.join(big_dir, "blobs", "sha256")
    os.makedirs(big_blobs)
    log("building big image (10 layers)")
    big = make_image(pool, big_blobs, BIG_LAYERS_MB, "amd64", None, "ferry-bench-big", log)
    write_layout(big_dir, MT_MANIFEST, big["digest"], big["size"])
    meta["big"] = big

    multi_dir = os.path.join(tmp, "multi")
    multi_blobs = os.path.join(multi_dir, "blobs", "sha256")
    os.makedirs(multi_blobs)
    instances = []
    for arch, variant in MULTI_PLATFORMS:
        log(f"building multi-arch instance {arch}{'/' + variant if variant else ''}")
        instances.append(make_image(pool, multi_blobs, MULTI_LAYERS_MB, arch, variant,
                                    "ferry-bench-multi", log))
    index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
        {"mediaType": MT_MANIFEST, "digest": m["digest"], "size": m["size"], "platform": m["platform"]}
        for m in instances]}
    idx_d, idx_s = put_json(multi_blobs, index)
    write_layout(multi_dir, MT_INDEX, idx_d, idx_s)
    meta["multi"] = {"digest": idx_d, "size": idx_s, "instances": instances}

    for key, img in (("big", big),):
        meta[key]["total_gzip"] = sum(l["size"] for l in img["layers"])
        meta[key]["total_tar"] = sum(l["uncompressed"] for l in img["layers"])
    meta["multi"]["total_gzip"] = sum(l["size"] for m in instances for l in m["layers"])
    with open(os.path.join(tmp, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    log(f"big: {meta['big']['total_gzip'] / MB:.1f} MB gzip ({meta['big']['total_tar'] / MB:.1f} MB tar); "
        f"multi: {meta['multi']['total_gzip'] / MB:.1f} MB gzip in {len(instances)} instances")


if __name__ == "__main__":
    main()
