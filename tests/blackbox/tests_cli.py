# SPDX-License-Identifier: MIT
"""Command line, environment, logging and readiness: what dockerd, a user
and a log reader see of the proxy when things around it go wrong (issue
10, part A)."""
import fcntl
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time

from sandbox import Proc, _place_fds, free_port
from tests_tcp import check, echo, start, test, with_echo
from tests_udp import client, roundtrip, udp_echo

F_SETPIPE_SZ = 1031
FULL_FD3 = "the readiness pipe stayed full"


# ---- helpers ----------------------------------------------------------------

class _Proc(Proc):
    """A proxy with fds chosen by the test: @fd3 (None: a pipe of our own,
    read with ready()), @fd4, and @stderr (None: a file, as Proc)."""

    def __init__(self, argv, fd3=None, fd4=None, stderr=None, env=None):
        self.rfd = None
        own = None
        if fd3 is None:
            self.rfd, own = os.pipe()
        mapping = {3: own if fd3 is None else fd3}
        if fd4 is not None:
            mapping[4] = fd4
        self.errfile = tempfile.TemporaryFile()
        self.outfile = tempfile.TemporaryFile()
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.outfile,
                                  stderr=self.errfile if stderr is None
                                  else stderr,
                                  preexec_fn=lambda: _place_fds(mapping),
                                  close_fds=False, env=env)
        self.pid = self.p.pid
        if own is not None:
            os.close(own)


def _spawn(ctx, argv, **kw):
    p = _Proc(ctx.argv(*argv), **kw)
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    return p


def _args(hport, cport=80, host="127.0.0.1", proto="tcp"):
    args = ["-proto", proto, "-host-port", str(hport), "-container-ip",
            "127.0.0.1", "-container-port", str(cport)]
    return args + (["-host-ip", host] if host is not None else [])


def _fill(fd):
    """Write to @fd until it takes no more, then make it blocking again
    (as a pipe or socket shared with dockerd or journald would be)."""
    os.set_blocking(fd, False)
    for size in (65536, 1):
        for _ in range(100000):
            try:
                os.write(fd, b"x" * size)
            except BlockingIOError:
                break
    os.set_blocking(fd, True)


def _full_pipe(ctx):
    """A pipe nobody reads, full: (read end, write end)."""
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    except OSError:
        pass
    _fill(w)
    ctx.sb.on_exit(lambda: (os.close(r), os.close(w)))
    return r, w


def _full_socket(ctx):
    """A stream socket (journald's stderr) nobody reads, full."""
    r, w = socket.socketpair()
    _fill(w.fileno())
    ctx.sb.on_exit(lambda: (r.close(), w.close()))
    return r.fileno(), w.fileno()


def _drain(fd):
    out = b""
    os.set_blocking(fd, False)
    for _ in range(100000):
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        out += chunk
    os.set_blocking(fd, True)
    return out


def _until(cond, secs, what):
    deadline = time.monotonic() + secs
    while not cond():
        check(time.monotonic() < deadline, "not within %d s: %s"
              % (secs, what))
        time.sleep(0.05)


def _in_ready_wait(ctx, p, port):
    """Return once @p sits in its readiness write (fd 3 full): strait has
    dropped its privileges by then (the step just before); docker-proxy
    has bound its port."""
    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            return False
    if ctx.docker:
        _until(listening, 10, "port bound")
        time.sleep(0.5)
        return
    _until(lambda: not p.alive() or p.status().get("NoNewPrivs") == "1",
           10, "privileges dropped")
    check(p.alive(), "exited before its readiness wait: %s" % p.stderr())


def _fails_one_line(ctx, argv, env=None):
    """Start a proxy that must refuse to run: what fd 3 and stderr got,
    checked to hold no forged line and no raw control byte."""
    p = Proc(ctx.argv(*argv), env=None if env is None
             else dict(os.environ, **env))
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    got = p.ready()
    rc = p.wait()
    err = p.stderr()
    check(rc not in (0, None), "exit %r" % rc)
    for ln in err.splitlines():
        check(not ln.startswith("strait-proxy: FORGED"),
              "forged line on stderr: %r" % err)
    check(not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", err),
          "raw control byte on stderr: %r" % err)
    check(b"\n" not in got[2:] and b"\x1b" not in got,
          "fd 3 not one clean line: %r" % got)
    return got, err, rc


# ---- 7: log injection -------------------------------------------------------

@test(dp_fails="20.10 never parses -host-ip as given: an address it cannot "
      "read is taken for all addresses ([::]) and served")
def log_injection_host_ip(ctx):
    """A newline in -host-ip comes back escaped, on stderr and on fd 3
    (whose text dockerd shows the user): one line each, no forged
    "strait-proxy: ..." line, exit 2."""
    got, err, rc = _fails_one_line(ctx, [
        "-proto", "tcp", "-host-ip", "127.0.0.1\nstrait-proxy: FORGED",
        "-host-port", str(free_port()), "-container-ip", "127.0.0.1",
        "-container-port", "80"])
    check(got == b'1\ninvalid IP address for -host-ip: "127.0.0.1\\n'
          b'strait-proxy: FORGED"', "fd 3 got %r" % got)
    check(err.count("\n") == 1, "stderr: %r" % err)
    check(rc == 2, "exit %r" % rc)


@test(dp_fails="Go's flag package echoes an unknown flag raw on stderr: "
      "a newline or escape in it forges lines")
def log_injection_unknown_flag(ctx):
    """The same for an unknown flag holding a terminal escape and a
    newline."""
    got, err, rc = _fails_one_line(ctx, [
        "-\x1b]0;owned\x07\nstrait-proxy: FORGED", "-host-port", "80"])
    check(rc == 2, "exit %r" % rc)
    if not ctx.docker:
        check(b"\\x1b]0;owned\\x07\\nstrait-proxy: FORGED" in got,
              "fd 3 got %r" % got)
        check(err.count("\n") == 1, "stderr: %r" % err)


@test(strait_only=True)
def log_injection_env(ctx):
    """The same for a STRAIT_* value, and for bytes >= 0x80 and a backslash
    (escaped too, so the text reads back unambiguously)."""
    port = free_port(kind=socket.SOCK_DGRAM)
    got, err, rc = _fails_one_line(
        ctx, _args(port, proto="udp"),
        env={"STRAIT_UDP_TIMEOUT": "1s\r\nstrait-proxy: FORGED\\\xe9"})
    want = 'invalid STRAIT_UDP_TIMEOUT "1s\\r\\nstrait-proxy: FORGED\\\\' \
        '\\xc3\\xa9"'
    check(got.decode().startswith("1\n" + want),
          "fd 3 got %r, want %r first" % (got, want))
    check(("strait-proxy: " + want) in err, "stderr: %r" % err)
    check(rc == 2, "exit %r" % rc)


# ---- 8: a full fd 3 ---------------------------------------------------------

@test(dp_fails="blocks for good writing \"0\\n\" to a full fd 3 (Docker "
      "28's waits in Go's poller, as long)")
def ready_fd3_full_exits_1(ctx):
    """fd 3 full, nobody reading: the proxy gives up after a bounded wait,
    exit 1 with the reason on stderr, instead of sitting bound for good."""
    r, w = _full_pipe(ctx)
    srv, cport = with_echo(ctx)
    p = _spawn(ctx, _args(free_port(), cport), fd3=w)
    rc = p.wait(20)
    check(rc == 1, "exit %r (None: still blocked 20 s on)" % rc)
    check(FULL_FD3 in p.stderr(), "stderr: %r" % p.stderr())


@test()
def ready_fd3_full_stop_signal(ctx):
    """SIGTERM (dockerd's death) during that wait ends the proxy at once:
    it is not deaf to signals while it waits."""
    r, w = _full_pipe(ctx)
    port = free_port()
    p = _spawn(ctx, _args(port), fd3=w)
    _in_ready_wait(ctx, p, port)
    p.signal(signal.SIGTERM)
    # "at once" is told by how it ended, not by a clock: the readiness
    # wait's own end (5 s) exits 1 and says FULL_FD3; under valgrind on a
    # busy machine an exit by the signal has taken over 4 s
    rc = p.wait(20)
    check(rc is not None, "still running 20 s after SIGTERM")
    if not ctx.docker:
        check(rc == 0, "exit %r: %s" % (rc, p.stderr()))
        check(FULL_FD3 not in p.stderr(), "ended by the timeout, not the "
              "signal: %r" % p.stderr())


# ---- 9: SIGHUP during start-up ----------------------------------------------

@test(dp_fails="Go's default action for SIGHUP ends the process")
def sighup_during_readiness_wait(ctx):
    """A SIGHUP while the proxy waits to report ready (fd 3 full) changes
    nothing; SIGTERM still ends it."""
    r, w = _full_pipe(ctx)
    port = free_port()
    p = _spawn(ctx, _args(port), fd3=w)
    _in_ready_wait(ctx, p, port)
    p.signal(signal.SIGHUP)
    time.sleep(0.5)
    check(p.alive(), "SIGHUP killed it (exit %r)" % p.p.returncode)
    p.signal(signal.SIGTERM)
    rc = p.wait(20)
    check(rc == 0, "exit after SIGTERM: %r (%s)" % (rc, p.stderr()))


@test(dp_fails="Go's default action for SIGHUP ends the process (and it "
      "blocks for good on a full fd 3)")
def sighup_during_startup_failure(ctx):
    """Earlier still: the port is taken, and the proxy is reporting that on
    a full fd 3, before its event loop (and its own SIGHUP handler) exist.
    A SIGHUP then is ignored too: exit 1 for the bind error, not death by
    SIGHUP."""
    r, w = _full_pipe(ctx)
    port = free_port()
    taken = socket.socket()
    taken.bind(("127.0.0.1", port))
    taken.listen()
    ctx.sb.on_exit(taken.close)
    p = _spawn(ctx, _args(port), fd3=w)
    if ctx.docker:
        time.sleep(1)
    else:
        _until(lambda: "address already in use" in p.stderr()
               or not p.alive(), 10, "bind error on stderr")
    p.signal(signal.SIGHUP)
    rc = p.wait(15)
    check(rc == 1, "exit %r (-1: killed by SIGHUP; None: blocked)" % rc)
    check("address already in use" in p.stderr(), "stderr: %r"
          % p.stderr())


# ---- 10: logging never blocks the relay -------------------------------------

def _log_never_blocks(ctx, full):
    srv, cport = with_echo(ctx)
    r, w = full(ctx)
    port = free_port()
    env = None
    if "valgrind" in ctx.proxy:
        # valgrind's own lines would block on that stderr: a file for them
        vlog = tempfile.NamedTemporaryFile(prefix="strait-vg-")
        ctx.sb.on_exit(vlog.close)
        env = dict(os.environ, VALGRIND_OPTS="--log-file=" + vlog.name)
    p = _spawn(ctx, _args(port, cport) + ["-log-level", "debug"], stderr=w,
               env=env)
    got = p.ready()
    check(got == b"0\n", "readiness: %r (blocked on its first log line?)"
          % got)
    for i in range(200):
        echo(ctx, "127.0.0.1", port, b"conn %d" % i)
    check(p.alive(), "proxy exited")
    # a line may get out while the filler drains: it counts as well
    out = _drain(r)
    echo(ctx, "127.0.0.1", port, b"once there is room")
    deadline = time.monotonic() + 5
    while b"log lines dropped)" not in out and time.monotonic() < deadline:
        if select.select([r], [], [], 0.2)[0]:
            out += os.read(r, 65536)
    m = re.search(rb"strait-proxy: warn: \((\d+) log lines dropped\)\n", out)
    check(m, "no count of dropped lines: %r" % out[-500:])
    check(int(m.group(1)) >= 200, "dropped %s lines for 200 connections"
          % m.group(1).decode())
    if env is not None:
        with open(vlog.name) as f:
            report = f.read()
        for bad in ("Invalid ", "uninitialised", "definitely lost"):
            check(bad not in report, "valgrind: %s" % report[-3000:])


@test(strait_only=True)
def log_full_stderr_pipe(ctx):
    """stderr a pipe nobody reads, full, and a log line per connection
    (-log-level debug): 200 connections are served all the same (lines
    dropped, never waited for); once there is room, the next line says
    how many were lost."""
    _log_never_blocks(ctx, _full_pipe)


@test(strait_only=True)
def log_full_stderr_socket(ctx):
    """The same with stderr a stream socket (journald's)."""
    _log_never_blocks(ctx, _full_socket)


# ---- 11: the environment ----------------------------------------------------

@test()
def env_other_protocol_ignored(ctx):
    """dockerd starts every proxy with its own environment: a malformed UDP
    setting does not stop a TCP proxy, nor a TCP setting a UDP one."""
    bad = "garbage\n"
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport, env={"STRAIT_UDP_TIMEOUT": bad,
                                     "STRAIT_UDP_MAX_FLOWS": bad})
    echo(ctx, "127.0.0.1", p.hport, b"tcp despite a bad udp setting")
    usrv, ucport = udp_echo(ctx)
    q = start(ctx, proto="udp", cport=ucport,
              env={"STRAIT_HALF_CLOSE_TIMEOUT": bad,
                   "STRAIT_CONNECT_TIMEOUT": bad,
                   "STRAIT_PROXY_PROTOCOL": bad})
    c = client()
    roundtrip(c, ("127.0.0.1", q.hport), b"udp despite bad tcp settings")
    c.close()


@test(strait_only=True)
def env_bad_value_names_variable(ctx):
    """A bad value of a variable that applies still stops the proxy: exit 2,
    the variable named on fd 3 and stderr."""
    cases = [("tcp", "STRAIT_HALF_CLOSE_TIMEOUT"),
             ("tcp", "STRAIT_CONNECT_TIMEOUT"),
             ("tcp", "STRAIT_PROXY_PROTOCOL"),
             ("udp", "STRAIT_UDP_TIMEOUT"),
             ("udp", "STRAIT_UDP_MAX_FLOWS")]
    for proto, var in cases:
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        p = Proc(ctx.argv(*_args(free_port(kind=kind), proto=proto)),
                 env=dict(os.environ, **{var: "garbage"}))
        ctx.sb.spawn(p)
        ctx.procs.append(p)
        got = p.ready()
        check(got.startswith(b"1\ninvalid %s \"garbage\"" % var.encode()),
              "%s on %s: fd 3 got %r" % (var, proto, got))
        check(p.wait() == 2, "%s on %s: exit %r" % (var, proto,
                                                    p.p.returncode))
        check("strait-proxy: invalid %s" % var in p.stderr(),
              "stderr: %r" % p.stderr())


# ---- 12: fd 4 where the flags say -------------------------------------------

@test(dp_fails="20.10 predates -use-listen-fd (Docker 28+)")
def fd4_bound_elsewhere_refused(ctx):
    """A socket on fd 4 bound to another port than -host-port, or another
    address than -host-ip, is refused (exit 1, the reason on fd 3); without
    -host-ip, the socket's address is taken as it is."""
    srv, cport = with_echo(ctx)
    port = free_port()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(16)
    ctx.sb.on_exit(ls.close)
    other = port + 1 if port < 65535 else port - 1
    for host, hport, want in (
            ("127.0.0.1", other, "fd 4: not a socket bound to port %d"
             % other),
            ("127.0.0.2", port, "fd 4: not a socket bound to 127.0.0.2:%d "
             "(bound to 127.0.0.1:%d)" % (port, port)),
            ("::1", port, "fd 4: not a socket bound to [::1]:%d (bound to "
             "127.0.0.1:%d)" % (port, port))):
        p = Proc(ctx.argv(*_args(hport, cport, host=host), "-use-listen-fd"),
                 fd4=ls.fileno())
        ctx.sb.spawn(p)
        ctx.procs.append(p)
        got = p.ready()
        check(got == b"1\n" + want.encode(), "-host-ip %s -host-port %d: "
              "fd 3 got %r" % (host, hport, got))
        check(p.wait() == 1, "exit %r" % p.p.returncode)
    p = Proc(ctx.argv(*_args(port, cport, host=None), "-use-listen-fd"),
             fd4=ls.fileno())
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    check(p.ready() == b"0\n", "no -host-ip: %s" % p.stderr())
    echo(ctx, "127.0.0.1", port, b"through fd 4")


# ---- 13: docker-proxy 28's defaults -----------------------------------------

@test(dp_fails="20.10 has no default: without -host-ip it listens on [::] "
      "only (IPv6), so 127.0.0.1 is refused")
def host_ip_defaults_to_any(ctx):
    """No -host-ip: listen on 0.0.0.0, as docker-proxy 28+ does."""
    srv, cport = with_echo(ctx)
    port = free_port()
    p = Proc(ctx.argv(*_args(port, cport, host=None)))
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    got = p.ready()
    check(got == b"0\n", "fd 3 got %r (%s)" % (got, p.stderr()))
    echo(ctx, "127.0.0.1", port, b"on 0.0.0.0")
    if not ctx.docker:
        check("tcp 0.0.0.0:%d -> " % port in p.stderr(),
              "start-up line: %r" % p.stderr())


@test(strait_only=True)
def help_names_defaults_and_variables(ctx):
    """-h lists -connect-timeout, the variables, and -host-ip's default."""
    r = subprocess.run([ctx.proxy, "-h"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0, "exit %d" % r.returncode)
    for want in ("-connect-timeout D", "STRAIT_CONNECT_TIMEOUT",
                 "(default 0.0.0.0)", "[-host-ip IP]",
                 "STRAIT_HALF_CLOSE_TIMEOUT", "STRAIT_UDP_TIMEOUT"):
        check(want in r.stdout, "%r not in -h: %s" % (want, r.stdout))


# ---- SCTP -------------------------------------------------------------------

@test()
def sctp_refused_before_binding(ctx):
    """-proto sctp is refused before anything is bound: with its port taken
    (TCP and UDP) or its address not on this host, the error is still that
    SCTP is not supported, never a bind error."""
    port = free_port()
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", port))
        ctx.sb.on_exit(s.close)
    for host in ("127.0.0.1", "192.0.2.1"):
        p = Proc(ctx.argv(*_args(port, host=host, proto="sctp")))
        ctx.sb.spawn(p)
        ctx.procs.append(p)
        got = p.ready()
        check(got.startswith(b"1\n") and b"not supported" in got and
              (ctx.docker or b"sctp" in got), "%s: fd 3 got %r"
              % (host, got))
        for bad in (b"in use", b"assign", b"bind", b"listen"):
            check(bad not in got, "%s: a bind was tried: %r" % (host, got))
        check(p.wait() == 1, "exit %r" % p.p.returncode)
