#!/usr/bin/env python3
"""Checks a benchmark run's result at its destination, independently of
both tools (plain HTTP to the registry, plain files in a layout).

    verify.py META IMAGE MODE registry ADDR REPO TAG
    verify.py META IMAGE MODE oci DIR TAG

META is make_images.py's meta.json, IMAGE "big" or "multi", MODE:
  same  the destination holds the source image unchanged: the tag names the
        source's manifest (or index) digest, and every manifest, config and
        layer is there with its digest and size (each blob is read whole and
        hashed, not just looked up)
  zstd  the tag names a manifest with the source's config and one zstd layer
        per source layer; each layer's bytes match its descriptor's digest and
        size, start with the zstd magic, and decompress to the tar whose
        sha256 is the config's diff_id
  chunked  as zstd, and each layer carries the zstd:chunked annotations and
        its footer, TOC and every file's and chunk's frames check out
        (tests/system/zstd_chunked_check.py, decompressing with the zstd CLI)

Prints one line, "ok: ..." or "FAIL: ...", and exits 0 or 1.
"""
import hashlib
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "system"))
import zstd_chunked_check  # noqa: E402  (the same checker the system tests use)

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])
MT_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
CHUNKED_POSITION = "io.containers.zstd-chunked.manifest-position"
CHUNKED_CHECKSUM = "io.containers.zstd-chunked.manifest-checksum"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BUF = 1 << 20


class Fail(Exception):
    pass


class Registry:
    def __init__(self, addr, repo):
        self.addr, self.repo = addr, repo

    def _get(self, path, headers, method="GET"):
        # ADDR, or https://ADDR with the CA in $VERIFY_CAFILE.
        url = (self.addr if "://" in self.addr else "http://" + self.addr) + path
        for _ in range(5):
            u = urllib.parse.urlsplit(url)
            if u.scheme == "https":
                ctx = ssl.create_default_context(cafile=os.environ.get("VERIFY_CAFILE"))
                conn = http.client.HTTPSConnection(u.netloc, timeout=120, context=ctx)
            else:
                conn = http.client.HTTPConnection(u.netloc, timeout=120)
            conn.request(method, u.path + ("?" + u.query if u.query else ""), headers=headers)
            resp = conn.getresponse()
            if resp.status in (301, 302, 307, 308):
                url = urllib.parse.urljoin(url, resp.getheader("Location"))
                resp.read()
                conn.close()
                continue
            return conn, resp
        raise Fail("too many redirects for %s" % path)

    def manifest(self, ref):
        conn, resp = self._get("/v2/%s/manifests/%s" % (self.repo, ref), {"Accept": ACCEPT})
        body = resp.read()
        conn.close()
        if resp.status != 200:
            raise Fail("manifest %s:%s: HTTP %d" % (self.repo, ref, resp.status))
        return body

    def blob(self, digest, sink):
        """Streams the blob into sink(chunk); returns the byte count."""
        conn, resp = self._get("/v2/%s/blobs/%s" % (self.repo, digest), {})
        if resp.status != 200:
            conn.close()
            raise Fail("blob %s: HTTP %d" % (digest, resp.status))
        n = 0
        while True:
            b = resp.read(BUF)
            if not b:
                break
            n += len(b)
            sink(b)
        conn.close()
        return n


class Layout:
    def __init__(self, path, _repo=None):
        self.path = path

    def _blob_path(self, digest):
        algo, hexd = digest.split(":", 1)
        return os.path.join(self.path, "blobs", algo, hexd)

    def manifest(self, ref):
        if ref.startswith("sha256:"):
            with open(self._blob_path(ref), "rb") as f:
                return f.read()
        with open(os.path.join(self.path, "index.json")) as f:
            idx = json.load(f)
        found = [m for m in idx.get("manifests", [])
                 if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref]
        if len(found) != 1:
            raise Fail("index.json has %d entries named %r" % (len(found), ref))
        body = self.manifest(found[0]["digest"])
        if len(body) != found[0]["size"]:
            raise Fail("index.json size of %s is %d, blob is %d bytes" % (ref, found[0]["size"], len(body)))
        return body

    def blob(self, digest, sink):
        n = 0
        try:
            with open(self._blob_path(digest), "rb") as f:
                while True:
                    b = f.read(BUF)
                    if not b:
                        break
                    n += len(b)
                    sink(b)
        except FileNotFoundError:
            raise Fail("blob %s missing" % digest)
        return n


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def check_blob(store, digest, size, what):
    h = hashlib.sha256()
    n = store.blob(digest, h.update)
    if n != size:
        raise Fail("%s %s: %d bytes, expected %d" % (what, digest, n, size))
    if "sha256:" + h.hexdigest() != digest:
        raise Fail("%s %s: content hashes to sha256:%s" % (what, digest, h.hexdigest()))
    return n


def check_same_image(store, ref, img):
    """The manifest named ref must be img's, with all its blobs; returns bytes checked."""
    body = store.manifest(ref)
    if sha(body) != img["digest"] or len(body) != img["size"]:
        raise Fail("manifest %s is %s (%d bytes), expected %s (%d bytes)"
                   % (ref, sha(body), len(body), img["digest"], img["size"]))
    n = check_blob(store, img["config"]["digest"], img["config"]["size"], "config")
    for l in img["layers"]:
        n += check_blob(store, l["digest"], l["size"], "layer")
    return n


def check_zstd_layer(store, desc, diff_id, chunked=False):
    """Fetches a zstd layer to a temporary file while hashing it, then
    decompresses it and hashes the tar. chunked: also every file and chunk
    where its TOC says (tests/system/zstd_chunked_check.py)."""
    h = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=os.environ.get("TMPDIR")) as tmp:
        def sink(b):
            h.update(b)
            tmp.write(b)
        n = store.blob(desc["digest"], sink)
        if n != desc["size"]:
            raise Fail("layer %s: %d bytes, descriptor says %d" % (desc["digest"], n, desc["size"]))
        if "sha256:" + h.hexdigest() != desc["digest"]:
            raise Fail("layer %s: content hashes to sha256:%s" % (desc["digest"], h.hexdigest()))
        tmp.flush()
        if os.pread(tmp.fileno(), 4, 0) != ZSTD_MAGIC:
            raise Fail("layer %s is not zstd" % desc["digest"])
        # zstd reads the descriptor itself, from its OS-level offset.
        os.lseek(tmp.fileno(), 0, os.SEEK_SET)
        p = subprocess.Popen(["zstd", "-dcq"], stdin=tmp.fileno(), stdout=subprocess.PIPE)
        th = hashlib.sha256()
        while True:
            b = p.stdout.read(BUF)
            if not b:
                break
            th.update(b)
        if p.wait() != 0:
            raise Fail("layer %s: zstd -d failed" % desc["digest"])
        if chunked:
            ann = desc.get("annotations", {})
            try:
                zstd_chunked_check.verify(tmp.name, ann.get(CHUNKED_POSITION), ann.get(CHUNKED_CHECKSUM))
            except zstd_chunked_check.CheckFailed as e:
                raise Fail("layer %s: %s" % (desc["digest"], e))
    if "sha256:" + th.hexdigest() != diff_id:
        raise Fail("layer %s decompresses to sha256:%s, config's diff_id is %s"
                   % (desc["digest"], th.hexdigest(), diff_id))
    return n


def check_zstd_image(store, ref, img, chunked=False):
    body = store.manifest(ref)
    m = json.loads(body)
    if m.get("config", {}).get("digest") != img["config"]["digest"]:
        raise Fail("config is %s, expected the source's %s" % (m.get("config", {}).get("digest"), img["config"]["digest"]))
    n = check_blob(store, img["config"]["digest"], img["config"]["size"], "config")
    layers = m.get("layers", [])
    if len(layers) != len(img["layers"]):
        raise Fail("%d layers, source has %d" % (len(layers), len(img["layers"])))
    for desc, src in zip(layers, img["layers"]):
        if desc.get("mediaType") != MT_ZSTD:
            raise Fail("layer %s has media type %s" % (desc.get("digest"), desc.get("mediaType")))
        if chunked and CHUNKED_POSITION not in desc.get("annotations", {}):
            raise Fail("layer %s has no zstd:chunked annotations" % desc["digest"])
        n += check_zstd_layer(store, desc, src["diff_id"], chunked)
    return n, sum(l["size"] for l in layers)


def main():
    a = sys.argv[1:]
    if len(a) < 6:
        sys.exit(__doc__)
    with open(a[0]) as f:
        meta = json.load(f)[a[1]]
    mode, kind = a[2], a[3]
    if kind == "registry":
        store, ref = Registry(a[4], a[5]), a[6]
    elif kind == "oci":
        store, ref = Layout(a[4]), a[5]
    else:
        sys.exit("unknown destination kind %s" % kind)
    try:
        if mode == "same" and "instances" in meta:
            body = store.manifest(ref)
            if sha(body) != meta["digest"]:
                raise Fail("index is %s, expected %s" % (sha(body), meta["digest"]))
            n = sum(check_same_image(store, inst["digest"], inst) for inst in meta["instances"])
            print("ok: index and %d instances, %d blob bytes hashed" % (len(meta["instances"]), n))
        elif mode == "same":
            n = check_same_image(store, ref, meta)
            print("ok: manifest %s, %d blob bytes hashed" % (meta["digest"][:19], n))
        elif mode in ("zstd", "chunked"):
            n, zsize = check_zstd_image(store, ref, meta, chunked=mode == "chunked")
            print("ok: %d %s layers (%d bytes) match the diff_ids%s" % (
                len(meta["layers"]), "zstd:chunked" if mode == "chunked" else "zstd", zsize,
                ", every file and chunk where the TOC says" if mode == "chunked" else ""))
        else:
            sys.exit("unknown mode %s" % mode)
    except (Fail, OSError, ValueError, KeyError, http.client.HTTPException) as e:
        print("FAIL: %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main()
