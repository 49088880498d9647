# SPDX-License-Identifier: MIT
"""Operating a proxy (issue 11): logs that reach the operator (syslog under
dockerd, the journal, stderr), counters (SIGUSR1, the exit summary,
`-stats` for every proxy on the host), systemd (socket activation from
fd 3, Type=notify).

The syslog tests run the proxy in a private mount namespace whose /dev is
a directory of the test's, holding a datagram socket named "log": the
host's /dev (and its /dev/log, if any) is never touched. stderr is
/dev/null, opened before, as dockerd leaves it."""
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from sandbox import Proc, _place_fds, free_port
from tests_tcp import check, connect, recv_all, start, test, with_echo
from tests_udp import client, roundtrip, udp_echo

CLONE_NEWNS = 0x00020000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)

DP_NO_LOG = ("writes only to stderr, which dockerd points at /dev/null: "
             "nothing reaches the operator")
DP_USR1 = "SIGUSR1 kills it (Go's default action)"
# <PRI>strait-proxy[PID]: level: text
SYSLOG_RE = re.compile(r"^<(\d+)>([^\[]+)\[(\d+)\]: (\w+): (.*)$")
LEVELS = {3: "error", 4: "warn", 6: "info", 7: "debug"}


# ---- helpers ----------------------------------------------------------------

class DevLog:
    """A directory to be the proxy's /dev, with a datagram socket "log"
    that a thread reads as a syslog daemon would (at once: a reader that
    lags makes the proxy drop lines, by design)."""

    def __init__(self, ctx, socket_too=True):
        self.dir = tempfile.mkdtemp(prefix="strait-dev-")
        self.s = None
        self.lines = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.t = None
        # as the real ones: the proxy, as nobody, may send there again
        os.chmod(self.dir, 0o755)
        if socket_too:
            self.start()
        ctx.sb.on_exit(self.close)

    def start(self):
        """A new socket at the path (the daemon starts, or restarts)."""
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(os.path.join(self.dir, "log"))
        os.chmod(os.path.join(self.dir, "log"), 0o666)
        self.s.settimeout(0.1)
        self.stop.clear()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def restart(self):
        """The daemon restarts, as rsyslog does: a new /dev/log."""
        self.stop.set()
        self.t.join(10)
        self.s.close()
        os.unlink(os.path.join(self.dir, "log"))
        self.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                d = self.s.recv(65536).decode(errors="replace")
            except (socket.timeout, OSError):
                continue
            with self.lock:
                self.lines.append(d)

    def close(self):
        self.stop.set()
        if self.t:
            self.t.join(10)
        if self.s:
            self.s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def read(self, secs=0.3):
        """Every line so far, once none came for @secs."""
        n = -1
        while True:
            with self.lock:
                if len(self.lines) == n:
                    return list(self.lines)
                n = len(self.lines)
            time.sleep(secs)

    def wait_for(self, pattern, secs=10):
        """The first line matching @pattern (a regex), waiting for it."""
        deadline = time.monotonic() + secs
        while True:
            with self.lock:
                lines = list(self.lines)
            for ln in lines:
                if re.search(pattern, ln):
                    return ln
            check(time.monotonic() < deadline, "no log line like %r in "
                  "%d s; got:\n%s" % (pattern, secs, "\n".join(lines[-20:])))
            time.sleep(0.05)


def _private_dev(devdir):
    """In the child, before exec: a mount namespace of its own (nothing
    propagates back) whose /dev is @devdir."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    if _libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
    if _libc.mount(devdir.encode(), b"/dev", None, MS_BIND, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --bind DIR /dev")


def san_env():
    """Sanitizer reports into files, since stderr may be /dev/null: run.py
    looks for them in stderr(). Return: (environment, directory, removed
    with the object)."""
    tmp = tempfile.TemporaryDirectory(prefix="strait-san-")
    d = tmp.name
    env = {}
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        old = os.environ.get(var, "")
        env[var] = (old + ":" if old else "") + "log_path=" + \
            os.path.join(d, var.split("_")[0].lower())
    return env, tmp


class OpsProc(Proc):
    """A proxy as dockerd starts it: stderr /dev/null (opened here, before
    any mount), fd 3 a pipe read by ready() (fd3=False: closed, as systemd
    starts it); with @dev, its /dev is that directory."""

    def __init__(self, argv, dev=None, env=None, fd3=True, stderr=None):
        self.rfd = None
        own = None
        if fd3:
            self.rfd, own = os.pipe()
        mapping = {3: own}
        self.errfile = tempfile.TemporaryFile()
        self.outfile = tempfile.TemporaryFile()
        senv, self.santmp = san_env()
        env = dict(senv, **(env or {}))

        def pre():
            if dev is not None:
                _private_dev(dev.dir)
            _place_fds(mapping)

        self.p = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.outfile,
            stderr=subprocess.DEVNULL if stderr is None else stderr,
            preexec_fn=pre, close_fds=False, env=dict(os.environ, **env))
        self.pid = self.p.pid
        self.stderr_file = stderr
        if own is not None:
            os.close(own)

    def output(self):
        """The tail of what it wrote to the stderr file it was given (a
        wrapper's or the proxy's own errors), for a failure message."""
        f = self.stderr_file
        if f is None or f == subprocess.DEVNULL:
            return ""
        f.seek(0)
        return f.read()[-1000:].decode(errors="replace")

    def stderr(self):
        """Sanitizer reports, if any (stderr itself is not ours)."""
        out = ""
        for name in sorted(os.listdir(self.santmp.name)):
            with open(os.path.join(self.santmp.name, name)) as f:
                out += f.read()
        return out


def _spawn(ctx, args, **kw):
    p = OpsProc(ctx.argv(*args), **kw)
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    return p


def _args(hport, cport, proto="tcp", host="127.0.0.1"):
    return ["-proto", proto, "-host-ip", host, "-host-port", str(hport),
            "-container-ip", "127.0.0.1", "-container-port", str(cport)]


def _syslog(line):
    """(severity, program, pid, level word, text) of a syslog datagram."""
    m = SYSLOG_RE.match(line)
    check(m, "not a syslog line: %r" % line)
    pri = int(m.group(1))
    check(pri >> 3 == 3, "facility %d, want LOG_DAEMON: %r" % (pri >> 3,
                                                               line))
    sev = pri & 7
    check(LEVELS.get(sev) == m.group(4), "severity %d, level word %r: %r"
          % (sev, m.group(4), line))
    return sev, m.group(2), int(m.group(3)), m.group(4), m.group(5)


def _counters(text):
    """{name: value} of "name=value" words."""
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", text)}


def _ready(p):
    got = p.ready()
    check(p.first_read == b"0\n", "readiness: %r" % got)


def _exchange(port, payload):
    """One connection, echoed. Return: the client's port."""
    c = connect("127.0.0.1", port)
    local = c.getsockname()[1]
    c.sendall(payload)
    c.shutdown(socket.SHUT_WR)
    got = recv_all(c)
    c.close()
    check(got == payload, "echo: sent %r, got %r" % (payload, got))
    return local


def _until(cond, secs, what):
    deadline = time.monotonic() + secs
    while not cond():
        check(time.monotonic() < deadline, "not within %d s: %s"
              % (secs, what))
        time.sleep(0.05)


# ---- 1: logs that reach the operator ----------------------------------------

@test(dp_fails=DP_NO_LOG)
def log_syslog_under_dockerd(ctx):
    """stderr on /dev/null, as dockerd starts the proxy: every line goes to
    /dev/log, with its priority (LOG_DAEMON) and level; the start line
    names the mapping; a connection's close line (debug, from
    STRAIT_LOG_LEVEL) names the connection, its client, how it ended,
    after how long, and the bytes each way. SIGUSR1 logs counters that
    match what was sent and the proxy lives on; SIGTERM ends it with a
    summary line."""
    srv, cport = with_echo(ctx)
    dev = DevLog(ctx)
    hport = free_port()
    p = _spawn(ctx, _args(hport, cport), dev=dev,
               env={"STRAIT_LOG_LEVEL": "debug"})
    _ready(p)
    start_line = dev.wait_for(r"serving")
    sev, prog, pid, _, text = _syslog(start_line)
    check((sev, prog, pid) == (6, "strait-proxy", p.pid),
          "start line: %r" % start_line)
    mapping = "tcp 127.0.0.1:%d -> 127.0.0.1:%d" % (hport, cport)
    check(text.startswith(mapping + ": serving"), "start line: %r" % text)

    client_port = _exchange(hport, b"hello, container")
    closed = dev.wait_for(r"closed \(FIN both ways\)")
    sev, _, _, _, text = _syslog(closed)
    m = re.match(re.escape(mapping) + r": conn (\d+): from 127\.0\.0\.1:"
                 r"(\d+): closed \(FIN both ways\) after [0-9.]+m?s: "
                 r"16 bytes to the container, 16 back", text)
    check(sev == 7 and m, "close line: %r" % closed)
    check(int(m.group(2)) == client_port, "client port %s, want %d: %r"
          % (m.group(2), client_port, closed))
    dev.wait_for(r"conn %s: accepted from 127\.0\.0\.1:%d$"
                 % (m.group(1), client_port))

    for payload in (b"x" * 1000, b"y" * 3):
        _exchange(hport, payload)
    p.signal(signal.SIGUSR1)
    line = dev.wait_for(r": counters: ")
    got = _counters(line)
    want = {"accepted": 3, "active": 0, "closed": 3, "refused": 0,
            "reset": 0, "bytes_to_container": 1019,
            "bytes_to_client": 1019}
    check(all(got.get(k) == v for k, v in want.items()),
          "SIGUSR1 counters %r, want %r" % (got, want))
    check(_syslog(line)[0] == 6, "counters not at info: %r" % line)
    time.sleep(0.2)
    check(p.alive(), "SIGUSR1 killed the proxy")
    _exchange(hport, b"still serving")

    p.signal(signal.SIGTERM)
    check(p.wait() == 0, "exit status %r" % p.p.returncode)
    line = dev.wait_for(r"counters at exit: ")
    check(_counters(line).get("accepted") == 4, "exit summary: %r" % line)
    check(line.index(mapping) > 0, "exit summary without mapping: %r" % line)


@test(dp_fails=DP_NO_LOG)
def log_syslog_ends_not_clean(ctx):
    """At the default level, connections that do not end cleanly are
    logged with their id: a container that refuses (warn), a client that
    resets (info); a clean end is not (debug)."""
    srv, cport = with_echo(ctx)
    dead = free_port()
    dev = DevLog(ctx)
    hport, hdead = free_port(), free_port()
    p = _spawn(ctx, _args(hport, cport), dev=dev)
    q = _spawn(ctx, _args(hdead, dead), dev=dev)
    _ready(p)
    _ready(q)
    _exchange(hport, b"clean")
    c = connect("127.0.0.1", hport)
    c.sendall(b"then a reset")
    time.sleep(0.2)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    line = dev.wait_for(r"conn \d+: from 127\.0\.0\.1:\d+: reset ")
    sev, _, pid, _, text = _syslog(line)
    check(sev == 6 and pid == p.pid and re.search(
        r": conn 1: from .*: reset \(Connection reset by peer\) after "
        r"[0-9.]+m?s: 12 bytes to the container, 12 back", text),
        "reset line: %r" % line)
    try:
        # the reset may come before connect() has returned
        r = connect("127.0.0.1", hdead)
        r.settimeout(5)
        r.recv(1)
        r.close()
    except OSError:
        pass
    line = dev.wait_for(r"Connection refused")
    sev, _, pid, _, text = _syslog(line)
    check(sev == 4 and pid == q.pid and re.match(
        r"tcp 127\.0\.0\.1:%d -> 127\.0\.0\.1:%d: conn 0: from "
        r"127\.0\.0\.1:\d+: connect 127\.0\.0\.1:%d: Connection refused$"
        % (hdead, dead, dead), text), "refused line: %r" % line)
    lines = dev.read()
    check(not any("FIN both ways" in ln for ln in lines),
          "a clean end logged at info: %s" % "\n".join(lines))


@test(dp_fails=DP_NO_LOG)
def log_syslog_daemon_restarts(ctx):
    """A syslog daemon that restarts makes a new /dev/log (rsyslog does):
    the proxy, sandboxed, can make no new socket, and keeps logging there
    through the one it has; lines lost meanwhile are counted."""
    srv, cport = with_echo(ctx)
    dev = DevLog(ctx)
    hport = free_port()
    p = _spawn(ctx, _args(hport, cport), dev=dev)
    _ready(p)
    dev.wait_for(r"serving")
    for i in range(2):
        dev.restart()
        p.signal(signal.SIGUSR1)
        line = dev.wait_for(r": counters: accepted=%d " % i)
        check(_syslog(line)[2] == p.pid, "from %r" % line)
        _exchange(hport, b"between restarts")
    check(p.alive(), "exited")


@test(strait_only=True)
def log_journal_prefixes(ctx):
    """stderr that is the journal (its dev:ino is JOURNAL_STREAM's) gets
    sd-daemon priority prefixes; an inherited JOURNAL_STREAM that is not
    our stderr (dockerd's own) changes nothing."""
    srv, cport = with_echo(ctx)
    for match in (True, False):
        err = tempfile.TemporaryFile()
        st = os.fstat(err.fileno())
        js = "%d:%d" % (st.st_dev, st.st_ino + (0 if match else 1))
        hport = free_port()
        p = _spawn(ctx, _args(hport, cport), stderr=err,
                   env={"JOURNAL_STREAM": js})
        _ready(p)
        p.signal(signal.SIGTERM)
        check(p.wait() == 0, "exit %r" % p.p.returncode)
        out = os.pread(err.fileno(), 1 << 16, 0).decode()
        first = out.splitlines()[0] if out else ""
        want = ("<6>info: " if match else "strait-proxy: info: ") + \
            "tcp 127.0.0.1:%d -> 127.0.0.1:%d: serving" % (hport, cport)
        check(first == want, "JOURNAL_STREAM %s: first line %r, want %r"
              % ("ours" if match else "not ours", first, want))
        each = r"<[3467]>\w+: " if match else r"strait-proxy: \w+: "
        # (valgrind's own lines, under valgrind-proxy.sh, are not ours)
        check(all(re.match(each, ln) for ln in out.splitlines()
                  if not re.match(r"==\d+==", ln)),
              "a line without its prefix: %r" % out)
        err.close()


@test(strait_only=True)
def log_destination_forced(ctx):
    """STRAIT_LOG=stderr keeps lines on stderr (here /dev/null) even with
    a /dev/log; -log syslog sends them there even with stderr a file; and
    syslog asked for where there is no /dev/log is an error on fd 3."""
    srv, cport = with_echo(ctx)
    dev = DevLog(ctx)
    hport = free_port()
    p = _spawn(ctx, _args(hport, cport), dev=dev, env={"STRAIT_LOG": "stderr"})
    _ready(p)
    _exchange(hport, b"quiet")
    p.signal(signal.SIGTERM)
    check(p.wait() == 0, "exit %r" % p.p.returncode)
    lines = dev.read()
    check(lines == [], "lines at /dev/log: %r" % lines)

    err = tempfile.TemporaryFile()
    hport = free_port()
    p = _spawn(ctx, _args(hport, cport) + ["-log", "syslog"], dev=dev,
               stderr=err)
    _ready(p)
    dev.wait_for(r"tcp 127\.0\.0\.1:%d -> .*: serving" % hport)
    check(os.fstat(err.fileno()).st_size == 0, "stderr: %r"
          % os.pread(err.fileno(), 4096, 0))

    empty = DevLog(ctx, socket_too=False)
    p = _spawn(ctx, _args(free_port(), cport) + ["-log=syslog"], dev=empty)
    got = p.ready()
    check(got == b"1\nsyslog: /dev/log: No such file or directory",
          "fd 3 got %r" % got)
    check(p.wait() == 1, "exit %r" % p.p.returncode)


# ---- 2: counters ------------------------------------------------------------

@test(dp_fails=DP_USR1)
def sigusr1_udp_counters(ctx):
    """UDP: SIGUSR1 logs datagrams and bytes each way and the flows, as
    sent; the proxy lives on."""
    srv, cport = udp_echo(ctx)
    err = tempfile.NamedTemporaryFile()
    hport = free_port(kind=socket.SOCK_DGRAM)
    p = _spawn(ctx, _args(hport, cport, proto="udp"), stderr=err)
    _ready(p)
    clients = [client() for _ in range(3)]
    for c in clients:
        for size in (10, 100):
            roundtrip(c, ("127.0.0.1", hport), b"d" * size)
    p.signal(signal.SIGUSR1)

    def logged():
        return ": counters: " in open(err.name).read()
    _until(lambda: logged() or not p.alive(), 10, "counters logged")
    check(p.alive(), "SIGUSR1 killed the proxy")
    line = [ln for ln in open(err.name).read().splitlines()
            if ": counters: " in ln][0]
    got = _counters(line)
    want = {"dgrams_to_container": 6, "dgrams_to_client": 6,
            "bytes_to_container": 330, "bytes_to_client": 330,
            "flows_active": 3, "flows_created": 3, "flows_evicted": 0,
            "dgrams_dropped": 0}
    check(all(got.get(k) == v for k, v in want.items()),
          "counters %r, want %r" % (got, want))
    check("accepted" not in got, "TCP counters on a UDP proxy: %r" % line)
    roundtrip(clients[0], ("127.0.0.1", hport), b"after")
    for c in clients:
        c.close()


def _stats(ctx, *extra):
    r = subprocess.run([ctx.proxy, "-stats", *extra], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0, "-stats: exit %d: %s" % (r.returncode,
                                                     r.stderr))
    return r.stdout


@test(strait_only=True)
def stats_lists_running_proxies(ctx):
    """`strait-proxy -stats` (as root) lists every running proxy with its
    counters, here a TCP and a UDP one started as dockerd starts them
    (root, then nobody, not dumpable, sandboxed); -json says the same. A
    bulk transfer is counted as spliced; spliced and copied bytes add up
    to the bytes each way."""
    srv, cport = with_echo(ctx)
    usrv, ucport = udp_echo(ctx)
    t = start(ctx, cport=cport)
    u = start(ctx, cport=ucport, proto="udp")
    for i in range(2):
        _exchange(t.hport, b"z" * (10 + i))
    bulk = os.urandom(1 << 20)
    _exchange(t.hport, bulk)
    c = client()
    roundtrip(c, ("127.0.0.1", u.hport), b"q" * 7)
    c.close()
    for p in (t, u):
        check(p.status().get("Uid", "").split()[0] != "0" or ctx.docker,
              "still root")
    text = _stats(ctx)
    for p, proto, cp in ((t, "tcp", cport), (u, "udp", ucport)):
        head = "%d %s 127.0.0.1:%d -> 127.0.0.1:%d, up " % (
            p.pid, proto, p.hport, cp)
        lines = text.splitlines()
        idx = [i for i, ln in enumerate(lines) if ln.startswith(head)]
        check(len(idx) == 1, "%s proxy not listed once: %s" % (proto, text))
        got = _counters(lines[idx[0] + 1])
        want = ({"accepted": 3, "active": 0, "closed": 3,
                 "bytes_to_container": 21 + len(bulk),
                 "bytes_to_client": 21 + len(bulk)} if proto == "tcp" else
                {"dgrams_to_container": 1, "dgrams_to_client": 1,
                 "bytes_to_container": 7, "flows_active": 1})
        check(all(got.get(k) == v for k, v in want.items()),
              "%s counters %r, want %r" % (proto, got, want))
        if proto == "tcp":
            check(got["bytes_spliced"] > 0 and
                  got["bytes_spliced"] + got["bytes_copied"] ==
                  got["bytes_to_container"] + got["bytes_to_client"],
                  "splice and copy: %r" % got)
    doc = json.loads(_stats(ctx, "-json"))
    mine = {x["pid"]: x for x in doc["proxies"] if x["pid"] in (t.pid,
                                                                 u.pid)}
    check(set(mine) == {t.pid, u.pid}, "-json: %r" % doc)
    check(mine[t.pid]["total"]["accepted"] == 3 and
          mine[t.pid]["ports"][0]["host_port"] == t.hport and
          mine[u.pid]["total"]["dgrams_to_client"] == 1 and
          mine[u.pid]["proto"] == "udp", "-json: %r" % mine)


# ---- 3: systemd -------------------------------------------------------------

def _activate(ctx, args, env=None, datagram=False, wrap=None):
    """strait-proxy under systemd-socket-activate (Debian's systemd): it
    binds, and execs the proxy with the socket on fd 3 at the first
    client. @wrap: the command to exec instead of the proxy and @args."""
    tool = shutil.which("systemd-socket-activate")
    check(tool, "systemd-socket-activate not installed (apt-get install "
          "systemd)")
    hport = free_port(kind=socket.SOCK_DGRAM if datagram else
                      socket.SOCK_STREAM)
    argv = [tool, "-l", "127.0.0.1:%d" % hport]
    if datagram:
        argv.append("--datagram")
    # it passes on only the variables named with -E: the test's, the
    # sanitizers', and what a wrapper (valgrind-proxy.sh) needs
    for k in list(env or {}) + ["ASAN_OPTIONS", "UBSAN_OPTIONS"] + [
            v for v in ("PATH", "STRAIT_PROXY", "VALGRIND_OPTS")
            if v in os.environ]:
        argv += ["-E", k]
    p = OpsProc(argv + (wrap or [ctx.proxy, *args]), fd3=False,
                stderr=tempfile.TemporaryFile(), env=env)
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    p.hport = hport
    return p


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


@test(strait_only=True)
def socket_activation_tcp(ctx):
    """systemd-socket-activate -l ADDR:PORT strait-proxy -container-ip ...
    -container-port ...: the socket on fd 3 is served (host address, port
    and protocol taken from it), fd 3 is not taken for a readiness pipe,
    and NOTIFY_SOCKET gets READY=1 with the mapping."""
    srv, cport = with_echo(ctx)
    d = tempfile.mkdtemp(prefix="strait-notify-")
    ctx.sb.on_exit(lambda: shutil.rmtree(d, ignore_errors=True))
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(os.path.join(d, "notify"))
    ctx.sb.on_exit(ns.close)
    p = _activate(ctx, ["-container-ip", "127.0.0.1", "-container-port",
                        str(cport)],
                  env={"NOTIFY_SOCKET": os.path.join(d, "notify")})
    _until(lambda: os.path.exists("/proc/%d" % p.pid), 5, "started")
    _until(lambda: _listening(p.hport) or not p.alive(), 10, "listening")
    # the first client makes systemd-socket-activate exec the proxy
    deadline = time.monotonic() + 10
    while True:
        try:
            _exchange(p.hport, b"activated")
            break
        except (OSError, AssertionError):
            check(p.alive() and time.monotonic() < deadline,
                  "not served: %r" % p.output())
            time.sleep(0.1)
    _exchange(p.hport, b"again")
    ns.settimeout(10)
    msg = ns.recv(4096).decode()
    check(msg == "READY=1\nSTATUS=serving tcp 127.0.0.1:%d -> "
          "127.0.0.1:%d" % (p.hport, cport), "notify: %r" % msg)
    p.signal(signal.SIGTERM)
    check(p.wait() == 0, "exit %r" % p.p.returncode)
    check(ns.recv(4096).decode().startswith("STOPPING=1\n"), "no STOPPING")


@test(strait_only=True)
def socket_activation_udp(ctx):
    """The same for a datagram socket: -proto comes from the socket."""
    srv, cport = udp_echo(ctx)
    p = _activate(ctx, ["-container-ip", "127.0.0.1", "-container-port",
                        str(cport)], datagram=True)
    c = client(timeout=0.5)
    deadline = time.monotonic() + 10
    while True:
        try:
            roundtrip(c, ("127.0.0.1", p.hport), b"first datagram")
            break
        except OSError:
            check(p.alive() and time.monotonic() < deadline,
                  "not served: %r" % p.output())
    # the replies to the first datagram's retries, if any, come first
    c.settimeout(5)
    c.sendto(b"x" * 1400, ("127.0.0.1", p.hport))
    while True:
        data = c.recv(70000)
        if data != b"first datagram":
            break
    check(data == b"x" * 1400, "reply of %d bytes, want 1400" % len(data))
    c.close()
    check(p.alive(), "exited")


@test(strait_only=True)
def socket_activation_mismatch(ctx):
    """With LISTEN_FDS, -host-port that names another port, or -proto
    another protocol, is refused (exit 1, or 2 for a count that differs),
    never served."""
    srv, cport = with_echo(ctx)
    for extra, code in ((["-host-port", "1"], 1),
                        (["-proto", "udp"], 1),
                        (["-host-port", "1-2"], 2)):
        p = _activate(ctx, ["-container-ip", "127.0.0.1",
                            "-container-port",
                            str(cport) if code != 2 else "%d-%d" % (
                                cport, cport + 1)] + extra)
        _until(lambda: _listening(p.hport) or not p.alive(), 10,
               "listening")
        try:
            socket.create_connection(("127.0.0.1", p.hport), 2).close()
        except OSError:
            pass
        check(p.wait(10) == code, "%s: exit %r" % (extra, p.p.returncode))


def _notify_socket(ctx, abstract):
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = "@strait-test-%d-%d" % (os.getpid(), time.monotonic_ns())
        ns.bind("\0" + name[1:])
    else:
        d = tempfile.mkdtemp(prefix="strait-notify-")
        ctx.sb.on_exit(lambda: shutil.rmtree(d, ignore_errors=True))
        name = os.path.join(d, "notify")
        ns.bind(name)
    ctx.sb.on_exit(ns.close)
    ns.settimeout(10)
    return ns, name


@test(strait_only=True)
def notify_ready_and_stopping(ctx):
    """Type=notify: started by systemd (no fd 3), READY=1 with the mapping
    once serving, STOPPING=1 on the way out; to a path and to an abstract
    name (which the sandbox allows only because the socket was connected
    before it)."""
    srv, cport = with_echo(ctx)
    for abstract in (False, True):
        ns, name = _notify_socket(ctx, abstract)
        hport = free_port()
        p = _spawn(ctx, _args(hport, cport), fd3=False,
                   stderr=tempfile.TemporaryFile(),
                   env={"NOTIFY_SOCKET": name})
        msg = ns.recv(4096).decode()
        check(msg == "READY=1\nSTATUS=serving tcp 127.0.0.1:%d -> "
              "127.0.0.1:%d" % (hport, cport), "%s: %r" % (name, msg))
        _exchange(hport, b"ready means serving")
        p.signal(signal.SIGTERM)
        check(p.wait() == 0, "exit %r" % p.p.returncode)
        msg = ns.recv(4096).decode()
        check(msg.startswith("STOPPING=1\nSTATUS=stopping tcp "), "%s: %r"
              % (name, msg))


@test(strait_only=True)
def notify_never_under_dockerd(ctx):
    """dockerd's NOTIFY_SOCKET reaches every proxy it starts: a proxy with
    a readiness pipe on fd 3 never writes there (READY=1 or STOPPING=1
    would speak for dockerd), nor one whose SYSTEMD_EXEC_PID is another
    process's."""
    srv, cport = with_echo(ctx)
    ns, name = _notify_socket(ctx, False)
    p = _spawn(ctx, _args(free_port(), cport), env={"NOTIFY_SOCKET": name})
    _ready(p)
    hq = free_port()
    q = _spawn(ctx, _args(hq, cport), fd3=False,
               stderr=tempfile.TemporaryFile(),
               env={"NOTIFY_SOCKET": name, "SYSTEMD_EXEC_PID": "1"})
    _until(lambda: _listening(hq) or not q.alive(), 10, "listening")
    # serving: the privilege drop and sandbox, then READY=1, are done
    time.sleep(0.3)
    for x in (p, q):
        x.signal(signal.SIGTERM)
        check(x.wait() == 0, "exit %r" % x.p.returncode)
    ns.settimeout(0.5)
    try:
        got = ns.recv(4096)
    except socket.timeout:
        got = None
    check(got is None, "a proxy of dockerd's notified: %r" % got)


# ---- the units shipped -------------------------------------------------------

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))


def _unit_copies(ctx):
    """The units of systemd/, copied with the programs under test in place
    of those make install puts in /usr/local, a stand-in docker.service,
    and the man pages where `man` finds them (for Documentation=). Return:
    the directory."""
    d = tempfile.mkdtemp(prefix="strait-units-")
    ctx.sb.on_exit(lambda: shutil.rmtree(d, ignore_errors=True))
    bins = {"/usr/local/bin/strait-proxy": ctx.proxy,
            "/usr/local/sbin/strait-netsetup": ctx.netsetup or "/bin/true"}
    for name in os.listdir(os.path.join(TOP, "systemd")):
        with open(os.path.join(TOP, "systemd", name)) as f:
            text = f.read()
        for b, path in bins.items():
            text = text.replace(b, path)
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    with open(os.path.join(d, "docker.service"), "w") as f:
        f.write("[Unit]\nDescription=stand-in\n[Service]\nType=notify\n"
                "ExecStart=/bin/true\n")
    for sec, page in (("1", "strait-proxy.1"), ("8", "strait-netsetup.8")):
        os.makedirs(os.path.join(d, "man", "man" + sec), exist_ok=True)
        shutil.copy(os.path.join(TOP, "man", page),
                    os.path.join(d, "man", "man" + sec))
    return d


@test(strait_only=True)
def systemd_units_verify(ctx):
    """`systemd-analyze verify` says nothing about the units, instantiated
    as documented (an IPv4 and an escaped IPv6 address, a bridge)."""
    tool = shutil.which("systemd-analyze")
    check(tool, "systemd-analyze not installed (apt-get install systemd)")
    d = _unit_copies(ctx)
    v6 = subprocess.run(["systemd-escape", "--template",
                         "strait-proxy@.socket", "[2001:db8::10]:8080"],
                        capture_output=True, text=True,
                        check=True).stdout.strip()
    # FILE:NAME: the instance name has colons of its own
    args = ["strait-proxy@.socket:strait-proxy@192.0.2.10:8080.socket",
            "strait-proxy@.service:strait-proxy@192.0.2.10:8080.service",
            "strait-proxy@.socket:" + v6,
            "strait-proxy@.service:" + v6.replace(".socket", ".service"),
            "strait-proxy-udp@.socket:strait-proxy-udp@[::1]:53.socket"
            .replace("[::1]", "\\x5b::1\\x5d"),
            "strait-proxy-udp@.service:strait-proxy-udp@192.0.2.10:53"
            ".service",
            "strait-netsetup@.service:strait-netsetup@docker0.service",
            "strait-netsetup-watch.service", "docker.service"]
    r = subprocess.run([tool, "verify", *args], cwd=d, capture_output=True,
                       text=True, timeout=60,
                       env=dict(os.environ, MANPATH=os.path.join(d, "man")))
    check(r.returncode == 0 and not r.stdout and not r.stderr,
          "systemd-analyze verify: exit %d: %s%s"
          % (r.returncode, r.stdout, r.stderr))


def _exec_start(unit, env):
    """The unit's ExecStart=, expanded as systemd does: ${VAR} one word,
    $VAR split at spaces."""
    with open(unit) as f:
        line = [ln for ln in f if ln.startswith("ExecStart=")][0]
    argv = []
    for tok in line[len("ExecStart="):].split():
        m = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", tok)
        if m and m.group(1):
            argv.append(env.get(m.group(1), ""))
        elif m:
            argv += env.get(m.group(2), "").split()
        else:
            argv.append(tok)
    return argv


def _conf(path):
    env = {}
    with open(path) as f:
        for ln in f:
            ln = ln.strip()
            if ln and not ln.startswith("#"):
                k, v = ln.split("=", 1)
                env[k] = v
    return env


@test(strait_only=True)
def systemd_unit_unprivileged(ctx):
    """strait-proxy@.service's own command line, with the example
    configuration (its container address pointed at the test's), run as
    systemd would with that unit: the socket bound by the manager and
    passed on fd 3, the process as another user with no capability and
    no_new_privs (DynamicUser=, CapabilityBoundingSet=), NOTIFY_SOCKET.
    It says READY=1, serves, and `-stats` (as root) lists it."""
    setpriv = shutil.which("setpriv")
    check(setpriv, "setpriv not installed (util-linux)")
    srv, cport = with_echo(ctx)
    d = _unit_copies(ctx)
    env = _conf(os.path.join(TOP, "etc", "strait", "proxy.conf.example"))
    env.update(CONTAINER_IP="127.0.0.1", CONTAINER_PORT=str(cport),
               PROXY_OPTIONS="-log-level warn")
    argv = _exec_start(os.path.join(d, "strait-proxy@.service"), env)
    check(argv[0] == ctx.proxy, "ExecStart: %r" % argv)
    ns, name = _notify_socket(ctx, False)
    os.chmod(os.path.dirname(name), 0o755)
    os.chmod(name, 0o777)
    env["NOTIFY_SOCKET"] = name
    p = _activate(ctx, [], env=env, wrap=[
        setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
        *argv])
    deadline = time.monotonic() + 10
    while True:
        try:
            _exchange(p.hport, b"no privilege at all")
            break
        except (OSError, AssertionError):
            check(p.alive() and time.monotonic() < deadline,
                  "not served: %r" % p.output())
            time.sleep(0.1)
    msg = ns.recv(4096).decode()
    check(msg.startswith("READY=1\n"), "notify: %r" % msg)
    st = p.status()
    check(st["Uid"].split()[0] == "65534" and st["CapEff"] == "0" * 16 and
          st["CapBnd"] == "0" * 16 and st["NoNewPrivs"] == "1",
          "privileges: %r" % st)
    lines = _stats(ctx).splitlines()
    check(any(ln.startswith("%d tcp 127.0.0.1:%d -> 127.0.0.1:%d"
                            % (p.pid, p.hport, cport)) for ln in lines),
          "-stats does not list it: %s" % "\n".join(lines))
