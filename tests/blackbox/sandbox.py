# SPDX-License-Identifier: MIT
"""Test sandboxes: a network namespace per test, entered by this thread.

Every test runs inside a namespace it creates and always removes (also on
failure or interruption); the root namespace's links, rules and sysctls are
never touched. Processes are started here and stopped by PID.
"""
import ctypes
import errno
import fcntl
import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time

CLONE_NEWNET = 0x40000000
PREFIX = "strait-t"
_libc = ctypes.CDLL(None, use_errno=True)
_count = 0


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def _ip(*args):
    subprocess.run(["ip", *args], check=True, timeout=10,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def remove_stale():
    """Delete namespaces left by a killed earlier run (their PID is gone)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True,
                         text=True, timeout=10).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(PREFIX):
            continue
        pid = name[len(PREFIX):].split("-")[0]
        if pid.isdigit() and not os.path.exists("/proc/" + pid):
            subprocess.run(["ip", "netns", "del", name], timeout=10)


def _wait_routable(addrs, secs=5):
    """The kernel installs an IPv6 address's local route a moment after
    `ip addr add` returns (even with nodad): until then a connect there
    fails with ENETUNREACH. Wait until a route lookup finds each."""
    deadline = time.monotonic() + secs
    for a in addrs:
        while True:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            try:
                s.connect((a, 9))  # a route lookup; nothing is sent
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
            finally:
                s.close()


class Sandbox:
    """A fresh namespace with lo up and two IPv6 documentation addresses."""

    def __init__(self):
        global _count
        _count += 1
        self.name = "%s%d-%d" % (PREFIX, os.getpid(), _count)
        self.procs = []
        self.closers = []
        self.root = None

    def __enter__(self):
        self.root = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        _ip("netns", "add", self.name)
        try:
            fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
            try:
                _setns(fd)
            finally:
                os.close(fd)
            _ip("link", "set", "lo", "up")
            for a in ("2001:db8::1/128", "2001:db8::2/128"):
                _ip("-6", "addr", "add", a, "dev", "lo", "nodad")
            _wait_routable(("2001:db8::1", "2001:db8::2"))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def on_exit(self, fn):
        self.closers.append(fn)

    def spawn(self, proc):
        self.procs.append(proc)
        return proc

    def __exit__(self, *exc):
        for fn in reversed(self.closers):
            try:
                fn()
            except Exception:
                pass
        for p in self.procs:
            p.kill()
        if self.root is not None:
            _setns(self.root)
            os.close(self.root)
            self.root = None
        subprocess.run(["ip", "netns", "del", self.name], timeout=10,
                       stderr=subprocess.DEVNULL)
        return False


def _place_fds(mapping):
    """In the child: put fds at the numbers given ({target: source, or None
    to close it}). Copies go above every target first, so placing one can
    never overwrite a source still to be placed."""
    floor = max(mapping) + 1
    high = {t: fcntl.fcntl(src, fcntl.F_DUPFD_CLOEXEC, floor)
            if src is not None
            else None for t, src in mapping.items()}
    for target in sorted(mapping):
        if high[target] is None:
            try:
                os.close(target)
            except OSError:
                pass
        else:
            os.dup2(high[target], target)  # dup2 clears close-on-exec


def _whole(f):
    """Everything written so far to a file the child shares with us. Read
    with pread: the child's fd shares the file offset, so a seek here would
    move where the child writes next, and a buffered reader that caches the
    offset can miss what the child wrote after the seek (a "ready" line the
    test then waited 30 s for)."""
    fd = f.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")


class Proc:
    """strait-proxy (or docker-proxy) started with docker's fd layout."""

    def __init__(self, argv, fd3=True, fd4=None, nofile=None, env=None):
        self.rfd = None
        w = None
        mapping = {}
        if fd3:
            self.rfd, w = os.pipe()
            mapping[3] = w
        else:
            mapping[3] = None
        # fd4: one socket (dockerd's fd 4), or a list for fds 4, 5, ...
        for i, fd in enumerate(fd4 if isinstance(fd4, list) else
                               [fd4] if fd4 is not None else []):
            mapping[4 + i] = fd
        self.errfile = tempfile.TemporaryFile()
        self.outfile = tempfile.TemporaryFile()

        def pre():
            _place_fds(mapping)
            if nofile:
                import resource
                lim = nofile if isinstance(nofile, tuple) else (nofile,
                                                                 nofile)
                resource.setrlimit(resource.RLIMIT_NOFILE, lim)

        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.outfile, stderr=self.errfile,
                                  preexec_fn=pre, close_fds=False, env=env)
        self.pid = self.p.pid
        if w is not None:
            os.close(w)

    def ready(self, timeout=10):
        """What the proxy wrote on fd 3, read as dockerd does, then to EOF."""
        first = b""
        if select.select([self.rfd], [], [], timeout)[0]:
            first = os.read(self.rfd, 2)
        self.first_read = first
        rest = b""
        self.ready_eof = not first
        deadline = time.monotonic() + timeout
        while first and time.monotonic() < deadline:
            if not select.select([self.rfd], [], [], 1)[0]:
                continue
            chunk = os.read(self.rfd, 4096)
            if not chunk:
                self.ready_eof = True
                break
            rest += chunk
        os.close(self.rfd)
        self.rfd = None
        return first + rest

    def wait(self, timeout=10):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.p.poll() is None:
            os.kill(self.pid, sig)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)
        if self.rfd is not None:
            os.close(self.rfd)
            self.rfd = None

    def stderr(self):
        return _whole(self.errfile)

    def stdout(self):
        return _whole(self.outfile)

    def status(self):
        with open("/proc/%d/status" % self.pid) as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f
                        if ":\t" in line)

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port(family=socket.AF_INET, host="127.0.0.1",
              kind=socket.SOCK_STREAM):
    """A port nothing in this namespace is bound to."""
    s = socket.socket(family, kind)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port
