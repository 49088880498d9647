# SPDX-License-Identifier: MIT
"""The relay under a hostile or careless peer: urgent data, resets, a stop
with bytes in flight, a container that stops reading or never answers, the
fd limit. No client may stall the proxy or make a truncated stream look
complete to the other side."""
import fcntl
import os
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

from sandbox import free_port
from servers import HandlerServer, listen
from tests_tcp import check, connect, echo_until, start, test, with_echo


def _sink(ctx, hold=None, rcvbuf=None):
    """A container that reads everything and records how the stream ended
    ("eof" or "reset"); with @hold, it reads nothing until @hold is set;
    @rcvbuf: its sockets' receive buffer (small: it takes little unread)."""
    got = {"data": bytearray(), "end": None}
    done = threading.Event()

    def handler(c):
        if hold is not None:
            hold.wait(30)
        try:
            while True:
                b = c.recv(1 << 16)
                if not b:
                    got["end"] = "eof"
                    break
                got["data"] += b
        except ConnectionResetError:
            got["end"] = "reset"
        finally:
            done.set()
    port = free_port()
    srv = HandlerServer("127.0.0.1", port, handler, rcvbuf=rcvbuf)
    ctx.sb.on_exit(srv.close)
    if hold is not None:
        ctx.sb.on_exit(hold.set)
    return port, got, done


def _ends(c, secs):
    """How the stream on @c ends within @secs: "eof", "reset" or "open"."""
    c.settimeout(secs)
    try:
        while c.recv(1 << 16):
            pass
        return "eof"
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "open"


def _pattern(n, seed=0):
    return bytes((i * 7 + seed) % 251 for i in range(256)) * (n // 256)


@test(dp_fails="drops the urgent byte (Go reads without SO_OOBINLINE)")
def urgent_byte_no_spin(ctx):
    """Bulk data (the relay splices), one urgent byte, more data: the proxy
    does not spin (one urgent byte used to keep its level-triggered event
    firing forever: a remote CPU denial of service) and every byte arrives,
    the urgent one inline and in order."""
    port, got, done = _sink(ctx)
    p = start(ctx, cport=port)
    c = connect("127.0.0.1", p.hport)
    bulk, tail = _pattern(2 << 20), _pattern(64 << 10, 3)
    c.sendall(bulk)
    time.sleep(0.3)
    c.send(b"!", socket.MSG_OOB)
    c.sendall(tail)
    time.sleep(0.3)
    cpu0 = p.cpu_seconds()
    time.sleep(1.0)
    busy = p.cpu_seconds() - cpu0
    c.shutdown(socket.SHUT_WR)
    done.wait(10)
    c.close()
    check(busy < 0.3, "proxy spins after an urgent byte (%.2f s CPU in 1 s)"
          % busy)
    check(got["end"] == "eof", "stream ended by %s" % got["end"])
    want = bulk + b"!" + tail
    check(bytes(got["data"]) == want, "got %d bytes, want %d (%s)"
          % (len(got["data"]), len(want), "urgent byte missing"
             if bytes(got["data"]) == bulk + tail else "stream differs"))


@test(dp_fails="a client's reset reaches the container as a clean EOF")
def client_reset_reaches_container(ctx):
    """A client that resets mid-upload: the container sees a reset, never
    a clean end of stream after a truncated upload."""
    port, got, done = _sink(ctx)
    p = start(ctx, cport=port)
    c = connect("127.0.0.1", p.hport)
    c.sendall(_pattern(256 << 10))
    time.sleep(0.3)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    c.close()
    check(done.wait(10), "the container's stream did not end")
    check(got["end"] == "reset", "container saw %s after %d bytes"
          % (got["end"], len(got["data"])))
    check(p.alive(), "proxy exited: %s" % p.stderr())


@test(dp_fails="a container's reset reaches the client as a clean EOF")
def container_reset_reaches_client(ctx):
    """The container resets mid-response: the client sees a reset."""
    def handler(s):
        s.sendall(_pattern(256 << 10))
        time.sleep(0.3)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\1\0\0\0\0\0\0\0")
    port = free_port()
    srv = HandlerServer("127.0.0.1", port, handler)
    ctx.sb.on_exit(srv.close)
    p = start(ctx, cport=port)
    c = connect("127.0.0.1", p.hport)
    how = _ends(c, 10)
    c.close()
    check(how == "reset", "client saw %s" % how)


@test(dp_fails="closes open connections with a FIN on SIGTERM, the bytes "
      "it holds lost: the container sees a clean, truncated stream")
def sigterm_resets_open_pairs(ctx):
    """SIGTERM while a large upload is in flight and the container is not
    reading: the proxy exits 0 within a second and both peers see a reset,
    never a clean FIN after a truncated stream."""
    hold = threading.Event()
    port, got, done = _sink(ctx, hold=hold)
    p = start(ctx, cport=port)
    c = connect("127.0.0.1", p.hport)
    c.settimeout(0.5)
    data = _pattern(12 << 20)
    sent = 0
    try:
        while sent < len(data):
            sent += c.send(data[sent:sent + (1 << 16)])
    except socket.timeout:
        pass  # everything in between is full
    t0 = time.monotonic()
    p.signal(signal.SIGTERM)
    rc = p.wait(5)
    took = time.monotonic() - t0
    hold.set()
    check(done.wait(10), "the container's stream did not end")
    check(rc == 0, "exit %r: %s" % (rc, p.stderr()))
    check(took < 1.5, "took %.1f s to exit" % took)
    check(got["end"] == "reset", "container saw %s after %d of %d bytes"
          % (got["end"], len(got["data"]), sent))
    check(_ends(c, 5) == "reset", "client not reset")
    c.close()


def _outq(c):
    """Bytes @c has not had acknowledged yet (SIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(c, termios.TIOCOUTQ,
                                          b"\0\0\0\0"))[0]


def _close_wait(port):
    """Sockets of this namespace in CLOSE-WAIT on local port @port."""
    out = subprocess.run(["ss", "-Htn", "state", "close-wait", "sport",
                          "= :%d" % port], capture_output=True, text=True,
                         timeout=10).stdout
    return len(out.splitlines())


def _small_sndbuf(ctx):
    """TCP send buffers of at most 64 KiB in the test's namespace (not the
    root's: this thread was setns()ed into the sandbox, and /proc/sys/net
    resolves to the opener's namespace), so the proxy's socket towards the
    container takes little and the relay itself must hold the rest."""
    path = "/proc/sys/net/ipv4/tcp_wmem"
    here = os.stat("/proc/thread-self/ns/net").st_ino
    check(here == os.stat("/run/netns/" + ctx.sb.name).st_ino and
          here != os.fstat(ctx.sb.root).st_ino,
          "this thread is not in the test's namespace")
    with open(path, "w") as f:
        f.write("4096 16384 65536")


@test(strait_only=True)
def half_close_timeout_with_held_bytes(ctx):
    """The client uploads and closes; the container stops reading and never
    closes, so the proxy holds bytes it cannot deliver, its client socket
    in CLOSE-WAIT. The half-close timeout starts at the client's FIN
    whatever is still held, and resets the pair: with the FIN already read
    (the relay's pipe has room) and with the FIN still queued behind bytes
    the relay cannot take (its pipe full)."""
    _small_sndbuf(ctx)
    for size in (100 << 10, 140 << 10):
        hold = threading.Event()
        port, got, done = _sink(ctx, hold=hold, rcvbuf=4096)
        p = start(ctx, cport=port, extra=("-half-close-timeout", "500ms"))
        c = connect("127.0.0.1", p.hport)
        c.sendall(_pattern(size))
        deadline = time.monotonic() + 5
        while _outq(c) and time.monotonic() < deadline:
            time.sleep(0.05)
        check(_outq(c) == 0, "%d bytes: the proxy did not take them all: "
              "the FIN could not reach it" % size)
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.1)
        check(_close_wait(p.hport) == 1, "%d bytes: the proxy's client "
              "socket is not in CLOSE-WAIT" % size)
        how = _ends(c, 8)
        c.close()
        check(how == "reset", "%d bytes: client's pair still %s after 8 s"
              % (size, how))
        hold.set()
        check(done.wait(10) and got["end"] == "reset",
              "%d bytes: container saw %s" % (size, got["end"]))
        p.kill()


def _unanswering():
    """A container port whose SYNs go unanswered: a listener with a full
    accept queue drops them. Returns its port and what keeps it full."""
    port = free_port()
    ls = listen("127.0.0.1", port)
    ls.listen(0)
    first = socket.create_connection(("127.0.0.1", port), timeout=5)
    return port, (ls, first)


@test(strait_only=True)
def connect_timeout_resets_client(ctx):
    """A container that never answers the SYN: with -connect-timeout (or
    STRAIT_CONNECT_TIMEOUT) the client is reset after that long instead of
    waiting for the kernel's two minutes; the proxy says why."""
    port, keep = _unanswering()
    ctx.sb.on_exit(lambda: [k.close() for k in keep])
    for how in ("flag", "env"):
        if how == "flag":
            p = start(ctx, cport=port, extra=("-connect-timeout", "500ms"))
        else:
            p = start(ctx, cport=port,
                      env={"STRAIT_CONNECT_TIMEOUT": "500ms"})
        c = connect("127.0.0.1", p.hport)
        c.sendall(b"hello?")
        t0 = time.monotonic()
        end = _ends(c, 8)
        took = time.monotonic() - t0
        c.close()
        check(end == "reset", "%s: client's connection %s" % (how, end))
        check(took < 5, "%s: reset only after %.1f s" % (how, took))
        check("timed out" in p.stderr(), "%s: no log line: %r"
              % (how, p.stderr()))
        p.kill()


@test(dp_fails="exits on the first accept error, EMFILE included "
      "(contract, 6)",
      no_valgrind="valgrind reserves fds of its own under the process's "
      "limit, so which fd is the last one is not the proxy's to control")
def fd_limit_never_drops_an_accepted_client(ctx):
    """Connections held open one after another up to the fd limit: when
    accept() takes the last fd, the socket towards the container still
    comes (a spare fd is given up for it), so that client is served; the
    ones after it wait in the backlog. Before, that client was closed
    unserved, one per pause."""
    srv, cport = with_echo(ctx)
    # each client takes two fds: one of the two limits leaves accept()
    # the very last fd
    for nofile in (40, 41):
        _fill_fd_limit(ctx, cport, nofile)


def _fill_fd_limit(ctx, cport, nofile):
    p = start(ctx, cport=cport, nofile=nofile)
    held, waiting = [], None
    for i in range(nofile):
        c = connect("127.0.0.1", p.hport)
        c.settimeout(1.0)
        c.sendall(b"n%d" % i)
        try:
            got = c.recv(16)
        except socket.timeout:
            waiting = c  # in the backlog: accepting is paused
            break
        except ConnectionResetError:
            got = b"(reset)"
        check(got == b"n%d" % i, "nofile %d: client %d of a full proxy "
              "got %r" % (nofile, i, got))
        held.append(c)
    check(waiting is not None, "the fd limit was never reached")
    check(len(held) >= 10, "only %d clients before the limit" % len(held))
    for c in held:
        c.close()
    waiting.settimeout(10)
    want = b"n%d" % len(held)
    got = b""
    while len(got) < len(want):
        b = waiting.recv(16)
        check(b, "the waiting client was closed, got %r" % got)
        got += b
    check(got == want, "the waiting client got %r" % got)
    waiting.close()
    echo_until(ctx, "127.0.0.1", p.hport, b"after", 10, p)
    p.kill()


def _rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


@test(dp_fails="a Go process keeps its heap after a burst",
      no_valgrind="valgrind's own memory is in the proxy's RSS")
def memory_given_back_after_burst(ctx):
    """2000 connections held at once, then closed: within a few seconds
    the proxy gives back at least half of what they took (here over 90%;
    what stays is what libevent keeps per fd number, some 50 bytes each;
    under ASan its shadow and redzones keep more). Before, relays came
    from the heap among libevent's per-fd entries, and the whole peak
    stayed for the rest of the process's life."""
    import resource
    n = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE,
                       (max(soft, min(hard, 3 * n + 200)), hard))
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport)
    echo_until(ctx, "127.0.0.1", p.hport, b"warm", 10, p)
    time.sleep(2.5)  # the tick after that connection has run
    idle = _rss_kb(p.pid)
    conns = []
    try:
        for i in range(n):
            c = connect("127.0.0.1", p.hport, timeout=20)
            c.sendall(b"m")
            conns.append(c)
        for i, c in enumerate(conns):
            check(c.recv(1) == b"m", "connection %d: no echo" % i)
        held = _rss_kb(p.pid)
    finally:
        for c in conns:
            c.close()
    grew = held - idle
    check(grew > n // 2, "RSS grew by %d kB only for %d connections "
          "(idle %d kB)" % (grew, n, idle))
    deadline = time.monotonic() + 10
    while True:
        after = _rss_kb(p.pid)
        if after - idle <= grew // 2:
            break
        check(time.monotonic() < deadline,
              "RSS %d kB after the burst, %d kB held, %d kB idle: not "
              "given back" % (after, held, idle))
        time.sleep(0.2)
    echo_until(ctx, "127.0.0.1", p.hport, b"still serving", 10, p)
