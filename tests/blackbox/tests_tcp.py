# SPDX-License-Identifier: MIT
"""TCP black-box tests: what dockerd and a user see of the proxy."""
import hashlib
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import sandbox
from sandbox import Proc, free_port
from servers import EchoServer, HandlerServer

TESTS = []


class T:
    def __init__(self, fn, dp_fails, dp_flaky, strait_only, netsetup,
                 no_valgrind):
        self.fn = fn
        self.name = fn.__name__
        self.dp_fails = dp_fails
        self.dp_flaky = dp_flaky
        self.strait_only = strait_only
        self.netsetup = netsetup
        self.no_valgrind = no_valgrind


def test(dp_fails=None, dp_flaky=None, strait_only=False, netsetup=False,
         no_valgrind=None):
    """Register a test. dp_fails: why docker-proxy is known to fail it;
    dp_flaky: why docker-proxy fails it only sometimes (a race of its own;
    strait must always pass); strait_only: uses options only strait has;
    netsetup: tests strait-netsetup (needs its binary); no_valgrind: why
    it cannot run under valgrind (skipped there, said so)."""
    def reg(fn):
        TESTS.append(T(fn, dp_fails, dp_flaky, strait_only, netsetup,
                       no_valgrind))
        return fn
    return reg


# docker-proxy 20.10 writes "0\n" and only then starts the goroutine that
# calls signal.Notify: a SIGINT or SIGTERM that comes first ends it by the
# signal (exit -2 / -15) instead of exit 0
DP_SIGNAL_RACE = ("20.10 registers its SIGINT/SIGTERM handler in a goroutine "
                  "started after readiness: a signal soon after start kills "
                  "it instead of exit 0")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---- helpers ---------------------------------------------------------------

def start(ctx, host="127.0.0.1", hport=None, cip="127.0.0.1", cport=None,
          extra=(), proto="tcp", fd3=True, fd4=None, nofile=None,
          expect_ready=True, use_listen_fd=False, env=None):
    hport = hport or free_port(host=host if ":" not in host else "::1",
                               family=socket.AF_INET6 if ":" in host
                               else socket.AF_INET,
                               kind=socket.SOCK_DGRAM if proto == "udp"
                               else socket.SOCK_STREAM)
    args = ["-proto", proto, "-host-ip", host, "-host-port", str(hport),
            "-container-ip", cip, "-container-port", str(cport or 1)]
    if use_listen_fd:
        args.append("-use-listen-fd")
    if env is not None:
        env = dict(os.environ, **env)
    p = Proc(ctx.argv(*args, *extra), fd3=fd3, fd4=fd4, nofile=nofile,
             env=env)
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    p.hport = hport
    if expect_ready and fd3:
        got = p.ready()
        check(p.first_read == b"0\n",
              "readiness: want b'0\\n', got %r (stderr: %s)"
              % (got, p.stderr().strip()))
    return p


def connect(host, port, timeout=10):
    return socket.create_connection((host, port), timeout=timeout)


def recv_all(s, limit=1 << 30):
    out = bytearray()
    while len(out) < limit:
        b = s.recv(65536)
        if not b:
            break
        out += b
    return bytes(out)


def echo(ctx, host, port, msg=b"ping"):
    c = connect(host, port)
    try:
        c.sendall(msg)
        c.shutdown(socket.SHUT_WR)
        got = recv_all(c)
    finally:
        c.close()
    check(got == msg, "echo through the proxy: sent %r, got %r" % (msg, got))


def echo_until(ctx, host, port, msg, secs, proc=None):
    """echo(), retried until it works or @secs pass (a proxy that is still
    starting, or paused at its fd limit); fails early if @proc exits."""
    deadline = time.monotonic() + secs
    while True:
        try:
            return echo(ctx, host, port, msg)
        except (AssertionError, OSError):
            if proc is not None:
                check(proc.alive(), "proxy exited: %s" % proc.stderr())
            check(time.monotonic() < deadline, "not served within %d s"
                  % secs)
            time.sleep(0.05)


def with_echo(ctx, host="127.0.0.1"):
    port = free_port(host=host if ":" not in host else "::1",
                     family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    srv = EchoServer(host, port)
    ctx.sb.on_exit(srv.close)
    return srv, port


# ---- transfers -----------------------------------------------------------

def _duplex_8mib(ctx, extra=()):
    size = 8 << 20
    seed_c, seed_s = os.urandom(1 << 16), os.urandom(1 << 16)
    data_c = (seed_c * (size // len(seed_c)))
    data_s = (seed_s * (size // len(seed_s)))
    result = {}

    def handler(c):
        t = threading.Thread(target=lambda: (c.sendall(data_s),
                                             c.shutdown(socket.SHUT_WR)))
        t.start()
        result["server_got"] = hashlib.sha256(recv_all(c)).hexdigest()
        t.join(60)

    cport = free_port()
    srv = HandlerServer("127.0.0.1", cport, handler)
    ctx.sb.on_exit(srv.close)
    p = start(ctx, cport=cport, extra=extra)
    c = connect("127.0.0.1", p.hport, timeout=60)
    t = threading.Thread(target=lambda: (c.sendall(data_c),
                                         c.shutdown(socket.SHUT_WR)))
    t.start()
    got = hashlib.sha256(recv_all(c)).hexdigest()
    t.join(60)
    c.close()
    srv.join()
    check(got == hashlib.sha256(data_s).hexdigest(),
          "container->client bytes differ")
    check(result.get("server_got") == hashlib.sha256(data_c).hexdigest(),
          "client->container bytes differ")


@test()
def tcp_full_duplex_8mib(ctx):
    """8 MiB each way at once, byte-exact (splice path)."""
    _duplex_8mib(ctx)


@test(strait_only=True)
def tcp_full_duplex_8mib_no_splice(ctx):
    """The same through the copy path."""
    _duplex_8mib(ctx, extra=("-no-splice",))


@test()
def tcp_half_close_client_first(ctx):
    """Client sends and shuts its write side; the reply still arrives."""
    def handler(c):
        got = recv_all(c)
        check(got == b"request", "server got %r" % got)
        c.sendall(b"reply after your EOF")
    cport = free_port()
    srv = HandlerServer("127.0.0.1", cport, handler)
    ctx.sb.on_exit(srv.close)
    p = start(ctx, cport=cport)
    c = connect("127.0.0.1", p.hport)
    c.sendall(b"request")
    c.shutdown(socket.SHUT_WR)
    got = recv_all(c)
    c.close()
    srv.join()
    check(got == b"reply after your EOF", "client got %r" % got)


@test()
def tcp_half_close_server_first(ctx):
    """Container sends and shuts first; the client can still send."""
    def handler(c):
        c.sendall(b"banner")
        c.shutdown(socket.SHUT_WR)
        got = recv_all(c)
        check(got == b"client speaks after EOF", "server got %r" % got)
    cport = free_port()
    srv = HandlerServer("127.0.0.1", cport, handler)
    ctx.sb.on_exit(srv.close)
    p = start(ctx, cport=cport)
    c = connect("127.0.0.1", p.hport)
    check(recv_all(c) == b"banner", "banner then EOF expected")
    c.sendall(b"client speaks after EOF")
    c.shutdown(socket.SHUT_WR)
    srv.join()
    check(recv_all(c) == b"", "nothing more after the server's EOF")
    c.close()


@test()
def tcp_container_down_then_up(ctx):
    """No container listening: the client is closed, the proxy lives on
    and serves the container once it is up."""
    cport = free_port()
    p = start(ctx, cport=cport)
    try:
        # the reset may beat connect()'s own completion check
        with connect("127.0.0.1", p.hport, timeout=5) as c:
            got = c.recv(16)
    except ConnectionResetError:
        got = b""
    check(got == b"", "expected EOF or reset, got %r" % got)
    check(p.alive(), "proxy exited after a refused connect")
    srv, _ = None, None
    srv = EchoServer("127.0.0.1", cport)
    ctx.sb.on_exit(srv.close)
    echo(ctx, "127.0.0.1", p.hport, b"now it is up")


@test()
def tcp_1000_concurrent(ctx):
    """1000 connections open at once, each gets its own bytes back."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)),
                                                hard))
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport)
    conns = []
    try:
        for i in range(1000):
            conns.append(connect("127.0.0.1", p.hport, timeout=20))
        for i, c in enumerate(conns):
            c.sendall(b"conn %04d\n" % i)
        for i, c in enumerate(conns):
            want = b"conn %04d\n" % i
            got = b""
            while len(got) < len(want):
                b = c.recv(64)
                check(b, "connection %d closed early" % i)
                got += b
            check(got == want, "connection %d got %r" % (i, got))
    finally:
        for c in conns:
            c.close()
    check(srv.accepted == 1000, "container saw %d connections"
          % srv.accepted)


@test()
def tcp_ipv6(ctx):
    """IPv6 host address to an IPv6 container."""
    srv, cport = with_echo(ctx, "2001:db8::2")
    p = start(ctx, host="2001:db8::1", cip="2001:db8::2", cport=cport)
    echo(ctx, "2001:db8::1", p.hport, b"over IPv6")


@test()
def tcp_ipv6_to_ipv4(ctx):
    """dockerd's "::" proxy forwards to the container's IPv4 address."""
    srv, cport = with_echo(ctx)
    p = start(ctx, host="::1", cip="127.0.0.1", cport=cport)
    echo(ctx, "::1", p.hport, b"v6 in, v4 out")


@test()
def tcp_ipv6_only(ctx):
    """Bound to "::", the proxy leaves "0.0.0.0" of the same port free for
    dockerd's second proxy (IPV6_V6ONLY)."""
    srv, cport = with_echo(ctx)
    port = free_port()
    p = start(ctx, host="::", hport=port, cip="127.0.0.1", cport=cport)
    q = start(ctx, host="0.0.0.0", hport=port, cip="127.0.0.1", cport=cport)
    echo(ctx, "::1", port, b"via ::")
    echo(ctx, "127.0.0.1", port, b"via 0.0.0.0")
    check(p.alive() and q.alive(), "both proxies serve")


# ---- readiness and start-up errors --------------------------------------

@test()
def ready_success_bytes(ctx):
    """"0\\n" in one read, then fd 3 is closed, and the port already works."""
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport, expect_ready=False)
    got = p.ready()
    check(p.first_read == b"0\n", "first read %r" % p.first_read)
    check(got == b"0\n", "then EOF expected, got %r" % got)
    echo(ctx, "127.0.0.1", p.hport)


def _start_on_taken_port(ctx):
    """Start the proxy on a port something else holds; return it, what it
    wrote on fd 3, and the message Go would give."""
    port = free_port()
    taken = socket.socket()
    taken.bind(("127.0.0.1", port))
    taken.listen()
    ctx.sb.on_exit(taken.close)
    p = start(ctx, hport=port, cport=80, expect_ready=False)
    got = p.ready()
    p.wait()
    return p, got, "listen tcp4 127.0.0.1:%d: bind: address already in use" \
        % port


@test()
def ready_bind_in_use(ctx):
    """A taken port: "1\\n" and Go's message on fd 3, exit 1."""
    p, got, msg = _start_on_taken_port(ctx)
    check(got == ("1\n" + msg).encode(), "fd 3 got %r" % got)
    check(p.p.returncode == 1, "exit code %r" % p.p.returncode)


@test(strait_only=True)
def ready_error_on_stderr(ctx):
    """The same one line goes to stderr for people running it by hand."""
    p, got, msg = _start_on_taken_port(ctx)
    check(p.stderr() == "strait-proxy: error: %s\n" % msg,
          "stderr: %r" % p.stderr())


@test(dp_fails="Go's flag errors exit 2 without writing to fd 3, so "
      "dockerd waits for the pipe to close and shows no reason")
def ready_bad_argument(ctx):
    """Bad addresses and ports are reported on fd 3 too, then exit 2."""
    for args in (["-host-port", "http"], ["-host-ip", "1.2.3"],
                 ["-container-port", "70000"]):
        base = {"-proto": "tcp", "-host-ip": "127.0.0.1", "-host-port": "80",
                "-container-ip": "127.0.0.1", "-container-port": "80"}
        base[args[0]] = args[1]
        argv = [x for kv in base.items() for x in kv]
        p = Proc(ctx.argv(*argv))
        ctx.sb.spawn(p)
        ctx.procs.append(p)
        got = p.ready()
        check(got.startswith(b"1\n") and len(got) > 2,
              "%s: fd 3 got %r" % (args, got))
        check(b"\n" not in got[2:], "one line: %r" % got)
        check(p.wait() == 2, "%s: exit %r" % (args, p.p.returncode))


@test()
def ready_sctp_refused(ctx):
    """This kernel has no SCTP: a clear error on fd 3, non-zero exit."""
    p = start(ctx, proto="sctp", cport=80, expect_ready=False)
    got = p.ready()
    check(got.startswith(b"1\n") and len(got) > 2, "fd 3 got %r" % got)
    check(p.wait() not in (0, None), "exit %r" % p.p.returncode)


@test(dp_fails="the 20.10 binary takes its own listener on fd 3 for the "
      "signal pipe and closes it, so it stops at once (contract, 2)")
def standalone_without_fd3(ctx):
    """Started by hand, with no fd 3 at all, it just serves."""
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport, fd3=False)
    echo_until(ctx, "127.0.0.1", p.hport, b"by hand", 10, p)


@test(dp_fails="20.10 predates -use-listen-fd (Docker 28+)")
def fd4_adoption(ctx):
    """-use-listen-fd serves the socket on fd 4 and binds nothing itself."""
    srv, cport = with_echo(ctx)
    port = free_port()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    p = start(ctx, hport=port, cport=cport, fd4=ls.fileno(),
              use_listen_fd=True)
    ino = os.fstat(ls.fileno()).st_ino
    ls.close()
    check(p.ready_eof, "fd 3 not closed after readiness")
    check(os.stat("/proc/%d/fd/4" % p.pid).st_ino == ino,
          "fd 4 is not the socket we passed")
    echo(ctx, "127.0.0.1", port, b"through fd 4")


class _ProcNoStderr(Proc):
    """The proxy started as dockerd 28 starts it (fd 3 the readiness pipe,
    fd 4 the bound socket) but with fd 2 closed, as a careless supervisor
    might leave it."""

    def __init__(self, argv, fd4):
        self.rfd, w = os.pipe()
        self.errfile = tempfile.TemporaryFile()
        self.outfile = tempfile.TemporaryFile()

        def pre():
            sandbox._place_fds({2: None, 3: w, 4: fd4})

        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.outfile,
                                  stderr=subprocess.DEVNULL,
                                  preexec_fn=pre, close_fds=False)
        self.pid = self.p.pid
        os.close(w)


@test(strait_only=True, no_valgrind="valgrind writes its own report on fd 2")
def stderr_closed_logs_go_nowhere(ctx):
    """Started with fd 2 closed and logging every connection (debug, to
    stderr): the proxy puts /dev/null there before it opens anything, so
    no log line lands in a socket or file it opens later. Before, the
    counters' memfd took fd 2: the first log lines overwrote the counters
    and the proxy died (SIGSEGV) at its first client; a listener or a
    connection could take it as well. Every client gets exactly its bytes
    back, and -stats counts them."""
    srv, cport = with_echo(ctx)
    port = free_port()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    p = _ProcNoStderr(ctx.argv(
        "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", str(port),
        "-container-ip", "127.0.0.1", "-container-port", str(cport),
        "-use-listen-fd", "-log", "stderr", "-log-level", "debug"),
        ls.fileno())
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    ls.close()
    p.ready()
    check(p.first_read == b"0\n", "readiness: %r (exit status %r)"
          % (p.first_read, p.wait(1)))
    check(os.readlink("/proc/%d/fd/2" % p.pid) == "/dev/null",
          "fd 2 is %s" % os.readlink("/proc/%d/fd/2" % p.pid))
    for i in range(20):
        msg = b"client %d " % i * 40
        c = connect("127.0.0.1", port)
        try:
            c.sendall(msg)
            c.shutdown(socket.SHUT_WR)
            got = recv_all(c)
        finally:
            c.close()
        check(got == msg, "client %d got %r (proxy alive: %s)"
              % (i, got[:300], p.alive()))
    check(p.alive(), "proxy exited: %r" % p.p.poll())
    r = subprocess.run([ctx.proxy, "-stats"], capture_output=True,
                       text=True, timeout=30)
    lines = r.stdout.splitlines()
    mine = [i for i, ln in enumerate(lines)
            if ln.startswith("%d tcp 127.0.0.1:%d " % (p.pid, port))]
    check(len(mine) == 1 and mine[0] + 1 < len(lines) and
          re.search(r"\baccepted=20\b", lines[mine[0] + 1]),
          "-stats: %s" % r.stdout)


@test(dp_fails="20.10 predates -use-listen-fd (Docker 28+)")
def fd4_wrong_socket(ctx):
    """A UDP socket on fd 4 for -proto tcp is refused on fd 3."""
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind(("127.0.0.1", 0))
    p = start(ctx, cport=80, fd4=us.fileno(), use_listen_fd=True,
              expect_ready=False)
    us.close()
    got = p.ready()
    check(got.startswith(b"1\n") and b"fd 4" in got, "fd 3 got %r" % got)
    check(p.wait() not in (0, None), "exit %r" % p.p.returncode)


# ---- process life ----------------------------------------------------------

# ---- half-closed connections ----------------------------------------------

def _half_closed(ctx, **kw):
    """A container that answers the client's request and its FIN, then
    never closes its own side. Returns the client socket, its request sent
    and closed, and an event that lets the container go."""
    let_go = threading.Event()
    ctx.sb.on_exit(let_go.set)

    def handler(c):
        recv_all(c)
        c.sendall(b"answer")
        let_go.wait(30)
    port = free_port()
    srv = HandlerServer("127.0.0.1", port, handler)
    ctx.sb.on_exit(srv.close)
    p = start(ctx, cport=port, **kw)
    c = connect("127.0.0.1", p.hport, timeout=5)
    c.sendall(b"request")
    c.shutdown(socket.SHUT_WR)
    return p, c


def _read_to_end(c):
    got = b""
    try:
        while True:
            b = c.recv(100)
            if not b:
                return got, "eof"
            got += b
    except ConnectionResetError:
        return got, "reset"


@test(strait_only=True)
def half_close_timeout_env(ctx):
    """STRAIT_HALF_CLOSE_TIMEOUT (dockerd passes its environment): the pair
    a container keeps half-open is reset once idle that long, so no
    CLOSE_WAIT piles up; the client got every byte before the reset."""
    p, c = _half_closed(ctx, env={"STRAIT_HALF_CLOSE_TIMEOUT": "300ms"})
    try:
        got, how = _read_to_end(c)
    except socket.timeout:
        raise AssertionError("still open after 5 s")
    finally:
        c.close()
    check(got == b"answer" and how == "reset", "got %r, then %s"
          % (got, how))
    check(p.alive(), "proxy exited: %s" % p.stderr())
    check("half-closed connections idle for 300ms are reset" in
          p.stderr(), "start-up line: %r" % p.stderr())


@test()
def half_close_kept_by_default(ctx):
    """Without a timeout a half-closed pair stays open as long as the
    container keeps its side (docker-proxy's behaviour, kept by default)."""
    p, c = _half_closed(ctx)
    c.settimeout(1.5)
    got = b""
    try:
        while len(got) < 6:
            b = c.recv(100)
            check(b, "closed early after %r" % got)
            got += b
        c.recv(100)
        raise AssertionError("closed, want still open")
    except socket.timeout:
        pass
    finally:
        c.close()
    check(got == b"answer", "got %r" % got)


# ---- port ranges: one process for many ports (strait only) ---------------

# Each test has a namespace of its own: these ports are free there
RANGE_HOST, RANGE_CTR, RANGE_N = 16000, 15000, 5


def _range_arg(base, n=RANGE_N):
    return "%d-%d" % (base, base + n - 1)


def _port_servers(ctx, n=RANGE_N):
    """TCP servers on RANGE_CTR.. that each answer with their own port."""
    for i in range(n):
        srv = HandlerServer("127.0.0.1", RANGE_CTR + i,
                            lambda c, port=RANGE_CTR + i:
                            c.sendall(b"port %d" % port))
        ctx.sb.on_exit(srv.close)


def _check_range(ctx, p, n=RANGE_N):
    for i in reversed(range(n)):
        c = connect("127.0.0.1", RANGE_HOST + i)
        got = recv_all(c)
        c.close()
        check(got == b"port %d" % (RANGE_CTR + i),
              "host port %d reached %r" % (RANGE_HOST + i, got))
    check(p.alive(), "proxy exited: %s" % p.stderr())


@test(strait_only=True)
def tcp_port_range(ctx):
    """-host-port 16000-16004 -container-port 15000-15004: each host port
    reaches its own container port, all in one process."""
    _port_servers(ctx)
    p = start(ctx, hport=_range_arg(RANGE_HOST), cport=_range_arg(RANGE_CTR))
    _check_range(ctx, p)
    check("127.0.0.1:16000-16004 -> 127.0.0.1:15000-15004" in p.stderr(),
          "start-up line: %r" % p.stderr())


@test(strait_only=True)
def port_range_all_or_nothing(ctx):
    """One port of the range taken: Go's message for that port on fd 3,
    exit 1, and no port of the range left bound."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", RANGE_HOST + 2))
    taken.listen()
    ctx.sb.on_exit(taken.close)
    p = start(ctx, hport=_range_arg(RANGE_HOST), cport=_range_arg(RANGE_CTR),
              expect_ready=False)
    got = p.ready()
    check(got == b"1\nlisten tcp4 127.0.0.1:%d: bind: address already in "
          b"use" % (RANGE_HOST + 2), "fd 3 got %r" % got)
    check(p.wait() == 1, "exit code %r" % p.p.returncode)
    for i in (0, 1, 3, 4):
        s = socket.socket()
        s.bind(("127.0.0.1", RANGE_HOST + i))  # raises if still bound
        s.close()


@test(strait_only=True)
def port_range_fd_adoption(ctx):
    """-use-listen-fd with a range: one bound socket per port from fd 4 on,
    in port order; out of order is refused and names the fd."""
    _port_servers(ctx)
    socks = []
    for i in range(RANGE_N):
        ls = socket.socket()
        ls.bind(("127.0.0.1", RANGE_HOST + i))
        ls.listen(16)
        socks.append(ls)
    bad = start(ctx, hport=_range_arg(RANGE_HOST),
                cport=_range_arg(RANGE_CTR), use_listen_fd=True,
                fd4=[s.fileno() for s in reversed(socks)],
                expect_ready=False)
    got = bad.ready()
    check(got == b"1\nfd 4: not a socket bound to port %d" % RANGE_HOST,
          "out of order: fd 3 got %r" % got)
    check(bad.wait() == 1, "out of order: exit %r" % bad.p.returncode)
    p = start(ctx, hport=_range_arg(RANGE_HOST), cport=_range_arg(RANGE_CTR),
              use_listen_fd=True, fd4=[s.fileno() for s in socks])
    for s in socks:
        s.close()
    _check_range(ctx, p)


def _stop_with_open(ctx, sig):
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport)
    conns = [connect("127.0.0.1", p.hport) for _ in range(5)]
    for c in conns:
        c.sendall(b"open")
        check(c.recv(4) == b"open", "echo before the signal")
    p.signal(sig)
    rc = p.wait(5)
    for c in conns:
        c.close()
    check(rc == 0, "exit after %s with connections open: %r"
          % (signal.Signals(sig).name, rc))


@test(dp_flaky=DP_SIGNAL_RACE)
def sigint_exits_0_with_connections(ctx):
    """dockerd stops a proxy with SIGINT and waits forever."""
    _stop_with_open(ctx, signal.SIGINT)


@test(dp_flaky=DP_SIGNAL_RACE)
def signal_right_after_ready(ctx):
    """SIGINT or SIGTERM the moment "0\n" is read (dockerd may stop a proxy
    it has just started): exit 0 every time, 10 starts each."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        for i in range(10):
            p = start(ctx, cport=80)
            p.signal(sig)
            rc = p.wait(5)
            check(rc == 0, "%s right after readiness, start %d: exit %r"
                  % (signal.Signals(sig).name, i + 1, rc))


@test(dp_flaky=DP_SIGNAL_RACE)
def sigterm_exits_0_with_connections(ctx):
    """dockerd's death sends SIGTERM (PR_SET_PDEATHSIG)."""
    _stop_with_open(ctx, signal.SIGTERM)


@test(dp_fails="Go's default action for SIGHUP ends the process")
def sighup_does_not_kill(ctx):
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport)
    p.signal(signal.SIGHUP)
    echo(ctx, "127.0.0.1", p.hport, b"after HUP")
    check(p.alive(), "SIGHUP killed it")


@test(dp_fails="exits on the first accept error, EMFILE included, and the "
      "port stays dead (contract, 6)")
def emfile_pauses_then_serves(ctx):
    """With 64 fds, a flood past the limit pauses accepting (no exit, no
    spinning); once connections close, new ones are served."""
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport, nofile=64)
    flood = []
    for i in range(80):
        c = connect("127.0.0.1", p.hport)
        c.sendall(b"x")
        flood.append(c)
    time.sleep(0.5)  # let it hit the limit
    cpu0 = p.cpu_seconds()
    time.sleep(1.0)
    busy = p.cpu_seconds() - cpu0
    check(p.alive(), "proxy died at the fd limit: %s" % p.stderr())
    check(busy < 0.5, "proxy spins at the fd limit (%.2f s CPU in 1 s)"
          % busy)
    for c in flood:
        c.close()
    echo_until(ctx, "127.0.0.1", p.hport, b"after the flood", 20, p)
    if not ctx.docker:
        n = p.stderr().count("accept:")
        check(1 <= n <= 2, "want the pause logged once, got %d lines" % n)


@test()
def raises_nofile_to_hard_limit(ctx):
    """Like Go, the soft RLIMIT_NOFILE goes up to the hard limit."""
    import resource
    srv, cport = with_echo(ctx)
    hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
    # the child starts with soft 64 and hard `hard`, set in the child only
    p = Proc(ctx.argv("-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port",
                      str(free_port()), "-container-ip", "127.0.0.1",
                      "-container-port", str(cport)), nofile=(64, hard))
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    check(p.ready() == b"0\n", "readiness")
    with open("/proc/%d/limits" % p.pid) as f:
        line = [ln for ln in f if ln.startswith("Max open files")][0]
    soft_now, hard_now = line.split()[3:5]
    if "valgrind" in ctx.proxy:
        # valgrind keeps fds at the top of the range for itself and shows
        # the program a lower soft limit: only "raised" can be seen
        check(int(soft_now) > 64, "limits now: %s" % line)
        return
    check(soft_now == hard_now == str(hard), "limits now: %s" % line)


def _caps(st):
    return {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff",
                                         "CapBnd", "CapAmb")}


@test(dp_fails="runs as root with every capability (contract, 9)")
def caps_dropped_after_ready(ctx):
    """After "0\\n": no capability in any set, no_new_privs on."""
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport)
    st = p.status()
    caps = _caps(st)
    check(all(v == 0 for v in caps.values()), "capabilities left: %s" % caps)
    check(st.get("NoNewPrivs") == "1", "NoNewPrivs %s" % st.get("NoNewPrivs"))
    echo(ctx, "127.0.0.1", p.hport, b"still serving")


@test(strait_only=True)
def user_switch(ctx):
    """-user nobody: uid/gid nobody, no supplementary groups, no caps."""
    import pwd
    nobody = pwd.getpwnam("nobody")
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport, extra=("-user", "nobody"))
    st = p.status()
    check(st["Uid"].split() == [str(nobody.pw_uid)] * 4, "Uid %s" % st["Uid"])
    check(st["Gid"].split() == [str(nobody.pw_gid)] * 4, "Gid %s" % st["Gid"])
    check(st["Groups"].strip() == "", "Groups %r" % st["Groups"])
    check(all(v == 0 for v in _caps(st).values()), "caps left")
    echo(ctx, "127.0.0.1", p.hport, b"as nobody")


@test(dp_fails="20.10 dials the container with net.DialTCP, which sets no "
      "keepalive on that socket (Docker 28's proxy does)")
def keepalive_on_both_sockets(ctx):
    """Go's keepalive (15 s) on the client and container sockets: the
    client's from the start (inherited from the listener), the
    container's from the server's next tick, within a second (the kernel
    counts the 15 s from the last byte received either way, so the probes
    come when they would have)."""
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport)
    c = connect("127.0.0.1", p.hport)
    c.sendall(b"k")
    check(c.recv(1) == b"k", "echo")
    deadline = time.monotonic() + 5
    while True:
        out = subprocess.run(["ss", "-tnoHp", "state", "established"],
                             capture_output=True, text=True,
                             timeout=10).stdout
        mine = [ln for ln in out.splitlines() if "pid=%d," % p.pid in ln]
        check(len(mine) == 2, "want 2 proxy sockets, ss shows:\n%s" % out)
        bad = [ln for ln in mine
               if not re.search(r"timer:\(keepalive,1[0-5]", ln)]
        if not bad:
            break
        check(time.monotonic() < deadline,
              "no 15 s keepalive: %s" % "\n".join(bad))
        time.sleep(0.1)
    c.close()


@test(dp_fails="20.10 has no -v flag (Docker 28+ has)")
def version_flag(ctx):
    """-v prints one line and exits 0."""
    r = subprocess.run([ctx.proxy, "-v"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(len(r.stdout.splitlines()) == 1 and "version" in r.stdout,
          "stdout %r" % r.stdout)


@test()
def unknown_flag_exit_2(ctx):
    r = subprocess.run([ctx.proxy, "-no-such-flag"], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 2, "exit %d" % r.returncode)
    check("flag provided but not defined: -no-such-flag" in r.stderr,
          "stderr %r" % r.stderr)
