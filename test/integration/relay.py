"""A fault-injecting TCP relay for the freeze and crash tests: it sits between gprdsd and the
real PostgreSQL or moto, forwards bytes both ways, and counts the requests the client sends —
PostgreSQL query messages (simple 'Q' or extended 'P') or Secrets Manager HTTP requests (one
per X-Amz-Target header). At a chosen request it can

  freeze_at=K   stop forwarding from the K-th request on (K=0: from the first byte, before
                the handshake) while keeping every socket open: a frozen server or a dropped
                network path, as the client sees it;
  on_request    call fn(K) as the K-th request passes (forwarded first), e.g. to kill -9
                the client at that point of its pass.

It is a network fault, not a server: every answer comes from the real server."""

import select
import socket
import struct
import threading
import time


class Relay:
    def __init__(self, port, protocol="pg", freeze_at=None, on_request=None):
        self.target = ("127.0.0.1", port)
        self.protocol = protocol
        self.freeze_at = freeze_at
        self.on_request = on_request
        self.requests = 0
        self.frozen_at = None
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.socks = []
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def frozen(self):
        return self.frozen_at is not None

    def _freeze(self):
        if self.frozen_at is None:
            self.frozen_at = time.monotonic()

    def _accept(self):
        self.lsock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.socks.append(c)
            if self.freeze_at == 0:
                self._freeze()
                continue                       # keep it open, never answer
            threading.Thread(target=self._relay, args=(c,), daemon=True).start()

    def _count(self):
        """One more request; True when the relay freezes at it."""
        with self.lock:
            self.requests += 1
            k = self.requests
        if self.freeze_at is not None and k >= self.freeze_at:
            self._freeze()
            return True
        if self.on_request:
            self.on_request(k)
        return False

    def _pg_split(self, st, data):
        """Forwardable bytes of the client's stream up to the first frozen message."""
        st["buf"] += data
        out, buf = b"", st["buf"]
        while True:
            if not st["started"]:              # the startup packet has no type byte
                if len(buf) < 4 or len(buf) < struct.unpack("!I", buf[:4])[0]:
                    break
                n = struct.unpack("!I", buf[:4])[0]
                if n == 8 and buf[4:8] in (b"\x04\xd2\x16\x2f", b"\x04\xd2\x16\x30"):
                    pass                       # SSLRequest / GSSENCRequest: still startup
                else:
                    st["started"] = True
                out, buf = out + buf[:n], buf[n:]
                continue
            if len(buf) < 5:
                break
            n = struct.unpack("!I", buf[1:5])[0] + 1
            if len(buf) < n:
                break
            if buf[:1] in (b"Q", b"P") and self._count():
                st["frozen"] = True
                break
            out, buf = out + buf[:n], buf[n:]
        st["buf"] = buf
        return out

    def _http_split(self, st, data):
        for _ in range(data.lower().count(b"x-amz-target:")):
            if self._count():
                st["frozen"] = True
                return b""
        return data

    def _relay(self, c):
        try:
            s = socket.create_connection(self.target)
        except OSError:
            c.close()
            return
        self.socks.append(s)
        st = {"buf": b"", "started": False, "frozen": False}
        try:
            while not self.stop.is_set():
                r, _, _ = select.select([c, s], [], [], 0.2)
                for x in r:
                    data = x.recv(65536)
                    if not data:
                        return
                    if st["frozen"] or self.frozen:
                        continue
                    if x is s:
                        c.sendall(data)
                        continue
                    out = (self._pg_split if self.protocol == "pg" else self._http_split)(st, data)
                    if out:
                        s.sendall(out)
        except OSError:
            return
        finally:
            if not st["frozen"]:
                # The client went away: so does its server session (a frozen one stays, as a
                # partition leaves it, until the relay closes).
                for x in (c, s):
                    try:
                        x.close()
                    except OSError:
                        pass

    def close(self):
        self.stop.set()
        for x in self.socks + [self.lsock]:
            try:
                x.close()
            except OSError:
                pass
