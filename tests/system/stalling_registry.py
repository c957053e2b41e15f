#!/usr/bin/env python3
"""A read-only registry over an OCI layout whose chosen blob never finishes.

    stalling_registry.py LAYOUT PORT_FILE STALL_DIGEST [STALLED_FILE]

Answers /v2/, manifests by the layout's ref.name tags or by digest, and
blobs, as Distribution does for pulls. STALL_DIGEST is answered with its
full Content-Length but only half its bytes, then nothing until the client
hangs up: a copy from here is reliably in the middle of a transfer, with
other blobs already written, when a test stops it. The port is written to
PORT_FILE once listening; STALLED_FILE, if given, gets a line each time
the stalled blob has sent its half.
"""
import http.server
import json
import os
import sys
import time

layout, port_file, stall = sys.argv[1], sys.argv[2], sys.argv[3]
stalled_file = sys.argv[4] if len(sys.argv) > 4 else None


def blob_path(digest):
    alg, _, hexpart = digest.partition(":")
    if alg != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        return None
    path = os.path.join(layout, "blobs", alg, hexpart)
    return path if os.path.isfile(path) else None


def tagged():
    index = json.load(open(os.path.join(layout, "index.json")))
    return {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m for m in index["manifests"]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body=b"", media_type="application/json", head=False, stall_after=None):
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        if head:
            return
        if stall_after is None:
            self.wfile.write(body)
            return
        self.wfile.write(body[:stall_after])
        self.wfile.flush()
        if stalled_file:
            with open(stalled_file, "a") as f:
                f.write(self.path + "\n")
        # Until the client goes away (the read then sees EOF).
        self.connection.settimeout(1)
        while True:
            try:
                if not self.connection.recv(1):
                    return
            except TimeoutError:
                time.sleep(0.1)
            except OSError:
                return

    def answer(self, head):
        parts = self.path.split("?")[0].split("/")
        if self.path == "/v2/":
            return self.reply(200, b"{}", head=head)
        if len(parts) >= 5 and parts[-2] == "manifests":
            ref = parts[-1]
            entry = tagged().get(ref) if ":" not in ref else {"digest": ref, "mediaType": None}
            path = entry and blob_path(entry["digest"])
            if not path:
                return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', head=head)
            data = open(path, "rb").read()
            media_type = entry.get("mediaType") or json.loads(data).get("mediaType")
            return self.reply(200, data, media_type, head=head)
        if len(parts) >= 5 and parts[-2] == "blobs":
            path = blob_path(parts[-1])
            if not path:
                return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}', head=head)
            data = open(path, "rb").read()
            return self.reply(200, data, "application/octet-stream", head=head,
                              stall_after=len(data) // 2 if parts[-1] == stall else None)
        self.reply(404, head=head)

    def do_GET(self):
        self.answer(False)

    def do_HEAD(self):
        self.answer(True)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
