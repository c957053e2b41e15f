#!/usr/bin/env python3
"""Checks a zstd:chunked layer blob the way a partial-pull client uses it.

    zstd_chunked_check.py BLOB [POSITION CHECKSUM]   verify, print a summary
    zstd_chunked_check.py --toc BLOB                 print the TOC entries
                                                     without output offsets

Verification: the footer frame (magic, lengths) matches the TOC frame and,
when given, the manifest annotations (position "off:len:ulen:1", checksum
sha256 of the compressed TOC); every regular file's frames [offset,
endOffset) decompress on their own to exactly `size` bytes hashing to
`digest`; every chunk's frames decompress to `chunkSize` bytes hashing to
`chunkDigest`, and a file's chunks cover it from 0 to its size in order.
Decompression is done by the zstd CLI, so this checker shares no code with
the writer. Exit 1 with a message on the first mismatch. bench/verify.py
imports verify() for its zstd:chunked scenario.

--toc prints one JSON entry per line with offset/endOffset removed: the
parts of the TOC that do not depend on the zstd encoder, so ferry's and
skopeo's TOCs for the same layer must print the same lines.
"""
import hashlib
import json
import struct
import subprocess
import sys


class CheckFailed(Exception):
    pass


def fail(msg):
    raise CheckFailed(msg)


def unzstd(data):
    p = subprocess.run(["zstd", "-q", "-dc"], input=data, capture_output=True)
    if p.returncode != 0:
        fail("zstd -d failed: " + p.stderr.decode(errors="replace").strip())
    return p.stdout


def read_toc(blob):
    if len(blob) < 48:
        fail("blob too short for a footer")
    foot = blob[-48:]
    magic, size = struct.unpack("<II", foot[:8])
    if magic != 0x184D2A50 or size != 40:
        fail("last frame is not a 40-byte skippable footer")
    off, clen, ulen, typ = struct.unpack("<QQQQ", foot[8:40])
    if foot[40:] != b"GnUlInUx":
        fail("footer magic is %r" % foot[40:])
    if typ != 1:
        fail("manifest type %d" % typ)
    head = blob[off - 8:off]
    if struct.unpack("<II", head) != (0x184D2A50, clen) or off + clen + 48 != len(blob):
        fail("TOC frame at %d does not match the footer" % off)
    compressed = blob[off:off + clen]
    raw = unzstd(compressed)
    if len(raw) != ulen:
        fail("TOC is %d bytes, footer says %d" % (len(raw), ulen))
    return json.loads(raw), off, clen, ulen, compressed


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify(path, position=None, checksum=None):
    """Returns the summary line; raises CheckFailed on the first mismatch."""
    blob = open(path, "rb").read()
    toc, off, clen, ulen, compressed = read_toc(blob)
    if position is not None and position != "%d:%d:%d:1" % (off, clen, ulen):
        fail("annotation position %s, footer says %d:%d:%d:1" % (position, off, clen, ulen))
    if checksum is not None and checksum != sha(compressed):
        fail("annotation checksum %s, TOC hashes to %s" % (checksum, sha(compressed)))
    if toc.get("version") != 1:
        fail("TOC version %r" % toc.get("version"))
    entries = toc["entries"]
    files = chunks = zeros = 0
    i = 0
    while i < len(entries):
        e = entries[i]
        group = [e]
        while i + len(group) < len(entries) and entries[i + len(group)]["type"] == "chunk":
            group.append(entries[i + len(group)])
        i += len(group)
        if e["type"] == "chunk":
            fail("chunk entry without a file before it: %s" % e["name"])
        if "digest" not in e:
            if e.get("size", 0) and e["type"] == "reg":
                fail("%s has size %d but no digest" % (e["name"], e["size"]))
            continue
        content = unzstd(blob[e["offset"]:e["endOffset"]])
        if len(content) != e.get("size", 0) or sha(content) != e["digest"]:
            fail("%s: frames [%d,%d) do not hold the file" % (e["name"], e["offset"], e["endOffset"]))
        files += 1
        if len(group) == 1:
            continue
        pos = 0
        for j, c in enumerate(group):
            if c["name"] != e["name"] or c.get("chunkOffset", 0) != pos:
                fail("%s: chunk %d starts at %d, expected %d" % (e["name"], j, c.get("chunkOffset", 0), pos))
            end = group[j + 1]["offset"] if j + 1 < len(group) else e["endOffset"]
            data = unzstd(blob[c["offset"]:end])
            if len(data) != c["chunkSize"] or sha(data) != c["chunkDigest"]:
                fail("%s: chunk %d at %d does not match its digest" % (e["name"], j, c["offset"]))
            if c.get("chunkType") == "zeros":
                if data.count(0) != len(data):
                    fail("%s: zeros chunk %d holds data" % (e["name"], j))
                zeros += 1
            pos += c["chunkSize"]
            chunks += 1
        if pos != e["size"]:
            fail("%s: chunks cover %d of %d bytes" % (e["name"], pos, e["size"]))
    return "ok: %d entries, %d files, %d chunks (%d zeros)" % (len(entries), files, chunks, zeros)


def main(argv):
    try:
        run(argv)
    except CheckFailed as e:
        print("zstd_chunked_check: %s" % e, file=sys.stderr)
        sys.exit(1)


def run(argv):
    if len(argv) == 3 and argv[1] == "--toc":
        toc = read_toc(open(argv[2], "rb").read())[0]
        for e in toc["entries"]:
            e.pop("offset", None)
            e.pop("endOffset", None)
            print(json.dumps(e, sort_keys=False))
        return
    if len(argv) == 2:
        print(verify(argv[1]))
    elif len(argv) == 4:
        print(verify(argv[1], argv[2], argv[3]))
    else:
        fail("usage: zstd_chunked_check.py BLOB [POSITION CHECKSUM] | --toc BLOB")


if __name__ == "__main__":
    main(sys.argv)
