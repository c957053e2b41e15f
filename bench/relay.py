#!/usr/bin/env python3
"""A TCP relay that adds one-way latency, for the emulated wide-area link.

    relay.py --listen HOST:PORT --target-file FILE --delay-ms MS [--ready FILE]

Forwards every connection to the HOST:PORT written in FILE (read again for
each new connection, so the registry behind it can be restarted on another
port between runs) and delays all data by MS milliseconds in each
direction: a request/response exchange costs 2*MS more, as over a real link
with that round-trip time. The first bytes of a connection wait one more
round trip, standing in for the TCP handshake, which the relay answers
locally. Bandwidth is capped elsewhere (tc HTB on the veth pair).

Each direction is two threads: one receives into a queue, stamping each
chunk with the time it is due, the other sends chunks once they are due.
Buffers are bounded (MAX_BUFFER bytes per direction, far above the link's
bandwidth-delay product, so they are not what limits throughput). The
first version used asyncio streams, which copy each chunk several times and
could not keep up with 500 Mbit/s on a busy two-core machine; splice()
through a pipe cannot hold a bandwidth-delay product either (the kernel
keeps the pipe locked while it waits on the socket, and pipes stay small).

Not modelled: TCP slow start and loss recovery over the long path, since the
relay terminates TCP on both sides.
"""
import argparse
import collections
import socket
import threading
import time

CHUNK = 256 * 1024
MAX_BUFFER = 8 << 20


class Direction:
    """src socket -> dst socket, each byte held back `delay` seconds."""

    def __init__(self, src, dst, delay, first_extra, on_done):
        self.src, self.dst, self.delay = src, dst, delay
        self.first_extra = first_extra
        self.on_done = on_done
        self.pending = collections.deque()  # (due, bytes); None marks EOF
        self.buffered = 0
        self.cv = threading.Condition()

    def start(self):
        threading.Thread(target=self._receive, daemon=True).start()
        threading.Thread(target=self._send, daemon=True).start()

    def _receive(self):
        extra = self.first_extra
        try:
            while True:
                with self.cv:
                    while self.buffered >= MAX_BUFFER:
                        self.cv.wait()
                data = self.src.recv(CHUNK)
                if not data:
                    break
                with self.cv:
                    self.pending.append((time.monotonic() + self.delay + extra, data))
                    self.buffered += len(data)
                    self.cv.notify_all()
                extra = 0.0
        except OSError:
            pass
        with self.cv:
            self.pending.append(None)
            self.cv.notify_all()

    def _send(self):
        failed = False
        try:
            while True:
                with self.cv:
                    while not self.pending:
                        self.cv.wait()
                    item = self.pending.popleft()
                if item is None:
                    break
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self.dst.sendall(data)
                with self.cv:
                    self.buffered -= len(data)
                    self.cv.notify_all()
            self.dst.shutdown(socket.SHUT_WR)
        except OSError:
            failed = True
            with self.cv:  # a receiver waiting for room must not wait forever
                self.buffered = 0
                self.cv.notify_all()
        self.on_done(failed)


def serve(conn, target_file, delay):
    try:
        with open(target_file) as f:
            host, port = f.read().strip().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
    except OSError:
        conn.close()
        return
    for s in (conn, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lock = threading.Lock()
    left = [2]

    def done(failed):
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if failed or last:
            # Unblocks the other direction's splice() if it still waits.
            for s in (conn, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if last:
            conn.close()
            upstream.close()

    Direction(conn, upstream, delay, 2 * delay, done).start()
    Direction(upstream, conn, delay, 0.0, done).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--target-file", required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--ready")
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    lsock = socket.create_server((host, int(port)), backlog=128)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("%s:%d\n" % lsock.getsockname()[:2])
    delay = a.delay_ms / 1000.0
    while True:
        conn, _ = lsock.accept()
        serve(conn, a.target_file, delay)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
