#!/usr/bin/env python3
"""Writes a `dir:` image whose layers exercise every kind of tar entry.

    make_tar_image.py OUT_DIR [--not-tar]

Two gzip layers built with Python's tarfile, so every header field is
chosen here rather than taken from the machine: a PAX layer (long names,
fractional mtimes, atime/ctime, uid/gid, xattrs as SCHILY.xattr records, a
character device, a fifo, hard and symbolic links, an empty file, a file of
several rolling-checksum chunks with runs of zeros of 5000 and 1023 bytes)
and a GNU layer (GNU long names and long link targets). The config carries
the right diff_ids. With --not-tar the only layer is gzip of bytes that are
not a tar archive. Deterministic: the same bytes on every machine.
"""
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile


def blob(out, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def add(tf, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = kw.pop("mtime", 1700000000)
    ti.mode = kw.pop("mode", 0o644)
    for k, v in kw.items():
        setattr(ti, k, v)
    tf.addfile(ti, io.BytesIO(data) if data else None)


def pax_layer():
    rng = random.Random(1)
    chunky = bytearray(rng.randbytes(400_000))
    chunky[100_000:105_000] = bytes(5000)  # a hole: a "zeros" chunk
    chunky[200_000:201_023] = bytes(1023)  # one byte short of a hole: data
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        add(tf, "./", type=tarfile.DIRTYPE, mode=0o755)
        add(tf, "./usr/", type=tarfile.DIRTYPE, mode=0o755)
        add(tf, "./usr/bin/", type=tarfile.DIRTYPE, mode=0o755)
        add(tf, "./usr/bin/chunky", bytes(chunky), mode=0o755, uid=1000, gid=1000, uname="u", gname="g")
        add(tf, "./usr/bin/chunky-link", type=tarfile.LNKTYPE, linkname="./usr/bin/chunky")
        add(tf, "./usr/bin/sym", type=tarfile.SYMTYPE, linkname="chunky", mode=0o777)
        add(tf, "./usr/empty", b"")
        add(tf, "./usr/small.txt", b"hello <zstd:chunked> & goodbye\n")
        add(tf, "./usr/zeros-at-end", b"x" * 10 + bytes(3000))
        add(tf, "./usr/zeros-at-start", bytes(2048) + b"tail")
        add(tf, "./usr/" + "long-directory-name-" * 6 + "/file", b"deep\n")
        add(tf, "./usr/times", b"t", mtime=1700000000.25,
            pax_headers={"atime": "1700000001.5", "ctime": "1700000002"})
        add(tf, "./usr/xattrs", b"x",
            pax_headers={"SCHILY.xattr.user.comment": "caf\u00e9", "SCHILY.xattr.security.x": "1"})
        add(tf, "./dev/", type=tarfile.DIRTYPE, mode=0o755)
        add(tf, "./dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
        add(tf, "./dev/pipe", type=tarfile.FIFOTYPE, mode=0o600)
    return buf.getvalue()


def gnu_layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        add(tf, "opt/", type=tarfile.DIRTYPE, mode=0o755)
        long_name = "opt/" + "gnu-long-name-" * 10 + ".txt"
        add(tf, long_name, b"gnu\n")
        add(tf, "opt/link-to-long", type=tarfile.SYMTYPE, linkname="/" + long_name)
    return buf.getvalue()


def main():
    out = sys.argv[1]
    os.makedirs(out)
    if len(sys.argv) > 2 and sys.argv[2] == "--not-tar":
        tars = [random.Random(2).randbytes(50_000)]
    else:
        tars = [pax_layer(), gnu_layer()]
    layers = []
    for t in tars:
        gz = gzip.compress(t, compresslevel=6, mtime=0)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": blob(out, gz), "size": len(gz)})
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/usr/bin/chunky"]},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]},
    }, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": blob(out, config), "size": len(config)},
        "layers": layers,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, separators=(",", ":"))
    with open(os.path.join(out, "version"), "w") as f:
        f.write("Directory Transport Version: 1.1\n")


main()
