#!/usr/bin/env python3
"""A delaying proxy on loopback for bench/run.sh: what a remote endpoint's latency does to a pass.

    latency_proxy.py http LISTEN_PORT UPSTREAM_PORT [--delay-ms 40] [--log FILE]
    latency_proxy.py tcp  LISTEN_PORT UPSTREAM_PORT [--delay-ms 0]

Both listen on 127.0.0.1:LISTEN_PORT, open one upstream connection to 127.0.0.1:UPSTREAM_PORT
per client connection, and forward the bytes of both directions unchanged. Only the
client -> server direction is delayed; server -> client is passed on as it comes.

http: Secrets Manager (moto) behind it. The client -> server stream is read as HTTP/1.1
requests (request line and headers up to the blank line, then a body of Content-Length bytes
or chunked): each request's head is forwarded DELAY after its first byte arrived, its body
right after the head. So every request pays the delay once, including the second and later
requests of a kept-alive connection (gprdsd reuses one libcurl handle, so one connection
usually carries the whole pass). Connecting costs nothing extra: the TCP and TLS handshakes a
real endpoint would add on a new connection are not modelled (moto answers with
"Connection: close", so there every request comes on a new connection anyway). With --log,
two lines per request, flushed at once:

    <unix time> <connection#> <action> <body bytes> -         when its head has arrived
    <unix time> answer <connection#> <action> - <ms>          when its answer starts

where action is the X-Amz-Target without the "secretsmanager." prefix (or METHOD_PATH when
there is none) and ms runs from the request's first byte to the first byte of its answer,
the delay included. Lines other than "answer" lines count the requests.

tcp: PostgreSQL behind it. Each chunk read from the client is forwarded DELAY after it
arrived, in order. libpq and psql wait for the answer before sending the next message of a
query or of the login exchange, so this adds about DELAY to every round trip: a network
round-trip time between the client and the server (the one-way delay of a real network is
spread over both directions; here all of it is on the way in).

Standard library only; stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import signal
import sys
import time


class Delayed:
    """Client -> server bytes, each written at its due time, in order."""

    def __init__(self, writer):
        self.writer = writer
        self.queue = asyncio.Queue()
        self.last_due = 0.0

    def put(self, data, due):
        due = max(due, self.last_due)  # never overtake what is queued already
        self.last_due = due
        self.queue.put_nowait((due, data))

    def close(self):
        self.queue.put_nowait((self.last_due, None))

    async def run(self):
        try:
            while True:
                due, data = await self.queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()
                    return
                self.writer.write(data)
                await self.writer.drain()
        except (ConnectionError, OSError):
            return


class HttpParser:
    """Splits a client's byte stream into requests: head (delayed) and body (not)."""

    def __init__(self, conn, delay, log):
        self.conn, self.delay, self.log = conn, delay, log
        self.buf = b""
        self.state = "head"
        self.head_t = None  # arrival of the first byte of the current request
        self.left = 0  # body bytes (or chunk bytes with their CRLF) still to pass
        self.pending = []  # (action, arrival) of requests not answered yet

    def feed(self, data, now, out):
        if self.state == "head" and self.head_t is None and data:
            self.head_t = now
        self.buf += data
        while self.buf:
            if self.state == "head":
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head, self.buf = self.buf[:end + 4], self.buf[end + 4:]
                self.request(head, out)
                self.head_t = now if self.buf else None
            elif self.state in ("body", "chunk-data"):
                part, self.buf = self.buf[:self.left], self.buf[self.left:]
                self.left -= len(part)
                out.put(part, now)
                if self.left == 0:
                    self.state = "head" if self.state == "body" else "chunk-size"
                    if self.state == "head":
                        self.head_t = now if self.buf else None
            else:  # chunk-size or trailer: one line at a time
                end = self.buf.find(b"\r\n")
                if end < 0:
                    return
                line, self.buf = self.buf[:end + 2], self.buf[end + 2:]
                out.put(line, now)
                if self.state == "chunk-size":
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.state = "trailer"
                    else:
                        self.state, self.left = "chunk-data", size + 2
                elif line == b"\r\n":  # end of the trailer: the request is complete
                    self.state = "head"
                    self.head_t = now if self.buf else None

    def request(self, head, out):
        lines = head.decode("latin-1").split("\r\n")
        hdr = {}
        for h in lines[1:]:
            k, _, v = h.partition(":")
            if k:
                hdr[k.strip().lower()] = v.strip()
        target = hdr.get("x-amz-target", "")
        action = target.split(".", 1)[1] if "." in target else (
            target or "_".join(lines[0].split(" ")[:2]))
        length = int(hdr.get("content-length", "0") or 0)
        t = self.head_t if self.head_t is not None else time.monotonic()
        out.put(head, t + self.delay)
        self.pending.append((action, t))
        if self.log:
            self.log.write(f"{time.time():.3f} {self.conn} {action} {length} -\n")
            self.log.flush()
        if "chunked" in hdr.get("transfer-encoding", "").lower():
            self.state = "chunk-size"
        elif length > 0:
            self.state, self.left = "body", length
        else:
            self.state = "head"

    def answered(self, data):
        # The first bytes after a request are its answer ("100 Continue" is not the answer).
        if self.pending and not data.startswith(b"HTTP/1.1 100"):
            action, t = self.pending.pop(0)
            if self.log:
                self.log.write(f"{time.time():.3f} answer {self.conn} {action} - "
                               f"{(time.monotonic() - t) * 1000:.1f}\n")
                self.log.flush()


class Proxy:
    def __init__(self, mode, upstream, delay_ms, log):
        self.mode, self.upstream = mode, upstream
        self.delay = delay_ms / 1000.0
        self.log = log
        self.conns = 0

    async def client(self, creader, cwriter):
        self.conns += 1
        conn = self.conns
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            cwriter.close()
            return
        out = Delayed(uwriter)
        parser = HttpParser(conn, self.delay, self.log) if self.mode == "http" else None
        sender = asyncio.ensure_future(out.run())

        async def up():
            try:
                while True:
                    data = await creader.read(65536)
                    now = time.monotonic()
                    if not data:
                        break
                    if parser:
                        parser.feed(data, now, out)
                    else:
                        out.put(data, now + self.delay)
            except (ConnectionError, OSError):
                pass
            out.close()

        async def down():
            try:
                while True:
                    data = await ureader.read(65536)
                    if not data:
                        break
                    if parser:
                        parser.answered(data)
                    cwriter.write(data)
                    await cwriter.drain()
            except (ConnectionError, OSError):
                pass
            try:
                if cwriter.can_write_eof():
                    cwriter.write_eof()
            except (ConnectionError, OSError):
                pass

        try:
            await asyncio.gather(up(), down(), sender)
        finally:
            for w in (cwriter, uwriter):
                w.close()


async def serve(args):
    log = open(args.log, "a", buffering=1) if args.log else None
    proxy = Proxy(args.mode, args.upstream_port, args.delay_ms, log)
    server = await asyncio.start_server(proxy.client, "127.0.0.1", args.listen_port,
                                        reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("http", "tcp"))
    ap.add_argument("listen_port", type=int)
    ap.add_argument("upstream_port", type=int)
    ap.add_argument("--delay-ms", type=float, default=None)
    ap.add_argument("--log")
    args = ap.parse_args()
    if args.delay_ms is None:
        args.delay_ms = 40.0 if args.mode == "http" else 0.0
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
