#!/usr/bin/env python3
"""The kernel's share of a registry-to-registry copy, for a minimal client.

    bench/kernel_floor.py SRC DST [LAYOUT]

Moves every layer of LAYOUT's image (default: the bench's big image) the way
ferry does on loopback, one layer at a time: a GET from SRC read with
recv_into a 128 KiB buffer, and a monolithic PUT to a fresh repository of
DST in 64 KiB sends. Only this process's system time around the receive and
send loops is counted: that is what the kernel charges any client for the
same bytes, before hashing or anything else (bench/README.md, session 9).
SRC must hold the image as bench/big (run.sh's registries do).
"""
import json
import os
import resource
import socket
import sys
import urllib.parse

here = os.path.dirname(os.path.abspath(__file__))


def connect(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as curl
    return s


def read_headers(s):
    buf = b""
    while b"\r\n\r\n" not in buf:  # byte by byte: nothing of the body is read here
        c = s.recv(1)
        if not c:
            raise SystemExit("connection closed before the end of the headers")
        buf += c
    lines = buf.decode("latin-1").split("\r\n")
    return lines[0], {k.lower(): v for k, v in (l.split(": ", 1) for l in lines[1:] if ": " in l)}


def system_time():
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    layout = sys.argv[3] if len(sys.argv) == 4 else os.path.join(here, ".cache/images/big")
    blobs = os.path.join(layout, "blobs/sha256")
    index = json.load(open(os.path.join(layout, "index.json")))
    manifest = json.load(open(os.path.join(blobs, index["manifests"][0]["digest"].split(":")[1])))
    layers = [(l["digest"], l["size"]) for l in manifest["layers"]]
    repo = "floor-" + os.urandom(4).hex()
    buf = memoryview(bytearray(128 << 10))
    down = up = 0.0
    for digest, size in layers:
        s = connect(src)
        s.sendall(f"GET /v2/bench/big/blobs/{digest} HTTP/1.1\r\nHost: {src}\r\n\r\n".encode())
        status, _ = read_headers(s)
        if " 200 " not in status:
            raise SystemExit(f"GET {digest}: {status}")
        got, t = 0, system_time()
        while got < size:
            n = s.recv_into(buf)
            if n == 0:
                raise SystemExit(f"GET {digest}: short body")
            got += n
        down += system_time() - t
        s.close()

        body = memoryview(open(os.path.join(blobs, digest.split(":")[1]), "rb").read())
        s = connect(dst)
        s.sendall(f"POST /v2/bench/{repo}/blobs/uploads/ HTTP/1.1\r\nHost: {dst}\r\nContent-Length: 0\r\n\r\n".encode())
        status, hdrs = read_headers(s)
        if " 202 " not in status:
            raise SystemExit(f"POST: {status}")
        loc = urllib.parse.urlsplit(hdrs["location"])
        target = f"{loc.path}?{loc.query}&digest={digest}" if loc.query else f"{loc.path}?digest={digest}"
        s.sendall(f"PUT {target} HTTP/1.1\r\nHost: {dst}\r\nContent-Type: application/octet-stream\r\n"
                  f"Content-Length: {size}\r\n\r\n".encode())
        t = system_time()
        for i in range(0, size, 65536):
            s.sendall(body[i:i + 65536])
        up += system_time() - t
        status, _ = read_headers(s)
        if " 201 " not in status:
            raise SystemExit(f"PUT {digest}: {status}")
        s.close()
    total = sum(size for _, size in layers)
    print(f"kernel time for {total / 1e6:.1f} MB each way: download {down:.3f} s, upload {up:.3f} s, "
          f"together {down + up:.3f} s")


if __name__ == "__main__":
    main()
