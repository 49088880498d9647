# SPDX-License-Identifier: MIT
"""Small servers playing the container, run in threads of the test."""
import selectors
import socket
import threading


def listen(host, port, family=None, rcvbuf=None):
    fam = family or (socket.AF_INET6 if ":" in host else socket.AF_INET)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:  # accepted sockets inherit it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, port))
    s.listen(4096)
    return s


class EchoServer:
    """Echoes every byte; after the client's EOF, echoes the rest and shuts
    its own write side (so half-close travels back)."""

    def __init__(self, host, port):
        self.ls = listen(host, port)
        self.ls.setblocking(False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.ls, selectors.EVENT_READ, None)
        self.stop_r, self.stop_w = socket.socketpair()
        self.sel.register(self.stop_r, selectors.EVENT_READ, "stop")
        self.accepted = 0
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        pending = {}
        while True:
            for key, ev in self.sel.select():
                if key.data == "stop":
                    for c in list(pending):
                        c.close()
                    return
                if key.data is None:
                    self._accept(pending)
                else:
                    self._serve(key.fileobj, ev, pending)

    def _accept(self, pending):
        while True:
            try:
                c, _ = self.ls.accept()
            except BlockingIOError:
                return
            c.setblocking(False)
            self.accepted += 1
            pending[c] = [b"", False]
            self.sel.register(c, selectors.EVENT_READ, "conn")

    def _serve(self, c, ev, pending):
        st = pending[c]
        if ev & selectors.EVENT_READ and not st[1]:
            try:
                data = c.recv(65536)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data, st[0] = b"", b""
            if data == b"":
                st[1] = True
            elif data:
                st[0] += data
        if st[0]:
            try:
                n = c.send(st[0])
                st[0] = st[0][n:]
            except BlockingIOError:
                pass
            except OSError:
                st[0], st[1] = b"", True
        if st[1] and not st[0]:
            self.sel.unregister(c)
            try:
                c.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            c.close()
            del pending[c]
            return
        want = selectors.EVENT_WRITE if st[0] else 0
        if not st[1] and len(st[0]) < (1 << 20):
            want |= selectors.EVENT_READ
        self.sel.modify(c, want or selectors.EVENT_WRITE, "conn")

    def close(self):
        self.stop_w.send(b"x")
        self.t.join(10)
        self.ls.close()
        self.stop_r.close()
        self.stop_w.close()
        self.sel.close()


class HandlerServer:
    """Accepts connections and runs handler(sock) for each in a thread;
    exceptions are kept so the test can re-raise them."""

    def __init__(self, host, port, handler, rcvbuf=None):
        self.ls = listen(host, port, rcvbuf=rcvbuf)
        self.ls.settimeout(0.2)
        self.handler = handler
        self.errors = []
        self.done = 0
        self.running = True
        self.threads = []
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while self.running:
            try:
                c, _ = self.ls.accept()
            except (socket.timeout, OSError):
                continue
            t = threading.Thread(target=self._one, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    def _one(self, c):
        c.settimeout(20)
        try:
            self.handler(c)
            self.done += 1
        except Exception as e:  # handed to the test
            self.errors.append(e)
        finally:
            c.close()

    def join(self, timeout=20):
        for t in list(self.threads):
            t.join(timeout)
        if self.errors:
            raise self.errors[0]

    def close(self):
        self.running = False
        self.t.join(10)
        self.ls.close()


class UdpEcho:
    """Echoes datagrams (unless reply=False) and records each one's size and
    source, so tests can see flows and their ports."""

    def __init__(self, host, port, reply=True):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_DGRAM)
        self.s.bind((host, port))
        self.s.settimeout(0.2)
        self.reply = reply
        self.seen = []
        self.running = True
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while self.running:
            try:
                data, src = self.s.recvfrom(65536)
            except (socket.timeout, OSError):
                continue
            self.seen.append((data, src))
            if self.reply:
                try:
                    self.s.sendto(data, src)
                except OSError:
                    pass

    def close(self):
        self.running = False
        self.t.join(10)
        self.s.close()
