# SPDX-License-Identifier: MIT
"""The running proxy's isolation (strait only), proven on the process:
no uid 0 (root without -user becomes STRAIT_USER or nobody, unless that
uid is not mapped), not dumpable, no capability, no_new_privs, a seccomp
filter that kills on a file open, an exec or a foreign socket, and
Landlock refusing a TCP connect to anything but the container's ports.

The probes run inside the proxy: once it is ready (the sandbox in force,
"0\\n" written) and waiting in its event loop, inject.c stops it with
ptrace and makes it run the forbidden system call itself, then puts it
back. That reaches the build as shipped, a static binary (a preloaded
library would not).

Builds with the sandbox left out (SANDBOX=0: the ASan/UBSan and valgrind
runs) say so on their start-up line; there these tests check that they
do and that no filter is in force, and run no probe."""
import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile

from sandbox import Proc, free_port
from servers import listen
from tests_tcp import check, echo, start, test, with_echo
from tests_udp import client, roundtrip, udp_echo

BUILT_OUT = "sandbox built out"
CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")

_inject = {}


def _inject_bin():
    """inject.c (beside this file), built once per run."""
    if "bin" not in _inject:
        d = tempfile.mkdtemp(prefix="strait-inject-")
        atexit.register(shutil.rmtree, d, True)
        out = os.path.join(d, "inject")
        cc = shutil.which("cc") or shutil.which("gcc")
        check(cc is not None, "no C compiler for the injector")
        r = subprocess.run([cc, "-std=c11", "-O1", "-Wall", "-Wextra",
                            "-Werror", "-o", out,
                            os.path.join(os.path.dirname(
                                os.path.abspath(__file__)), "inject.c")],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "inject.c: %s" % r.stderr)
        _inject["bin"] = out
    return _inject["bin"]


def _built_out(p):
    return BUILT_OUT in p.stderr()


def _check_layers(p, uid, gid, root=True):
    """/proc/PID/status after "0\\n": the ids, no capability, no_new_privs,
    the filter (or, where it is built out, its absence, said at start).
    Started without privilege (@root false), the bounding set cannot be
    cleared (that needs CAP_SETPCAP): no_new_privs covers it."""
    st = p.status()
    check(st["Uid"].split() == [str(uid)] * 4, "Uid %s" % st["Uid"])
    check(st["Gid"].split() == [str(gid)] * 4, "Gid %s" % st["Gid"])
    caps = {k: int(st[k], 16) for k in CAPS if root or k != "CapBnd"}
    check(all(v == 0 for v in caps.values()), "capabilities: %s" % caps)
    check(st["NoNewPrivs"] == "1", "NoNewPrivs %s" % st["NoNewPrivs"])
    if _built_out(p):
        check(st["Seccomp"] == "0", "built out, yet Seccomp %s"
              % st["Seccomp"])
    else:
        check(st["Seccomp"] == "2", "Seccomp %s (want 2: a filter)"
              % st["Seccomp"])
    if uid != 0:
        # a process that is not dumpable has its /proc files owned by root
        check(os.stat("/proc/%d/status" % p.pid).st_uid == 0,
              "/proc/%d owned by uid %d: still dumpable"
              % (p.pid, os.stat("/proc/%d/status" % p.pid).st_uid))
    return st


@test(strait_only=True)
def sandbox_root_becomes_nobody(ctx):
    """Started as root without -user, as dockerd starts it: nobody, no
    groups, no capability, not dumpable, a seccomp filter; it still serves
    TCP, and SIGINT (dockerd's stop) still ends it with 0."""
    nobody = pwd.getpwnam("nobody")
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport)
    st = _check_layers(p, nobody.pw_uid, nobody.pw_gid)
    check(st["Groups"].strip() == "", "Groups %r" % st["Groups"])
    echo(ctx, "127.0.0.1", p.hport, b"sandboxed" * 10000)
    p.signal(signal.SIGINT)
    check(p.wait(10) == 0, "exit after SIGINT: %r" % p.p.returncode)


@test(strait_only=True)
def sandbox_udp(ctx):
    """A UDP proxy gets the same layers, and still serves datagrams."""
    nobody = pwd.getpwnam("nobody")
    srv, cport = udp_echo(ctx)
    p = start(ctx, cport=cport, proto="udp")
    _check_layers(p, nobody.pw_uid, nobody.pw_gid)
    c = client()
    for i in range(3):
        roundtrip(c, ("127.0.0.1", p.hport), b"datagram %d" % i)
    c.close()
    p.signal(signal.SIGTERM)
    check(p.wait(10) == 0, "exit after SIGTERM: %r" % p.p.returncode)


@test(strait_only=True)
def sandbox_strait_user(ctx):
    """STRAIT_USER names whom root becomes; -user, where given, wins."""
    daemon = pwd.getpwnam("daemon")
    nobody = pwd.getpwnam("nobody")
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport, env={"STRAIT_USER": "daemon"})
    _check_layers(p, daemon.pw_uid, daemon.pw_gid)
    echo(ctx, "127.0.0.1", p.hport, b"as daemon")
    p = start(ctx, cport=cport, extra=("-user", "nobody"),
              env={"STRAIT_USER": "daemon"})
    _check_layers(p, nobody.pw_uid, nobody.pw_gid)
    echo(ctx, "127.0.0.1", p.hport, b"as nobody")


@test(strait_only=True)
def sandbox_strait_user_unknown(ctx):
    """An unknown STRAIT_USER is a usage error (exit 2) that names the
    variable, on stderr and on fd 3, and no port stays bound."""
    srv, cport = with_echo(ctx)
    p = start(ctx, cport=cport, expect_ready=False,
              env={"STRAIT_USER": "no-such-user-strait"})
    got = p.ready()
    check(p.wait(10) == 2, "exit %r" % p.p.returncode)
    want = "STRAIT_USER=no-such-user-strait"
    check(want in p.stderr(), "stderr: %r" % p.stderr())
    check(got.startswith(b"1\n") and want.encode() in got, "fd 3: %r" % got)
    s = socket.socket()
    s.bind(("127.0.0.1", p.hport))  # free again
    s.close()


def _start_as(ctx, prefix, cport, env=None):
    """The proxy under a wrapper (unshare, setpriv), with fd 3."""
    hport = free_port()
    p = Proc(prefix + ctx.argv("-proto", "tcp", "-host-ip", "127.0.0.1",
                               "-host-port", str(hport), "-container-ip",
                               "127.0.0.1", "-container-port", str(cport)),
             env=env)
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    p.hport = hport
    got = p.ready()
    check(got == b"0\n", "readiness %r: %s" % (got, p.stderr()))
    return p


@test(strait_only=True)
def sandbox_unmapped_uid_kept(ctx):
    """Root in a user namespace that maps uid 0 only (a rootless dockerd
    without subordinate ids): nobody cannot be had, so the uid is kept and
    the log says why; the rest of the sandbox holds all the same."""
    srv, cport = with_echo(ctx)
    p = _start_as(ctx, ["unshare", "--user", "--map-root-user"], cport)
    check("not mapped in this user namespace: keeping uid 0"
          in p.stderr(), "stderr: %r" % p.stderr())
    _check_layers(p, 0, 0)
    echo(ctx, "127.0.0.1", p.hport, b"rootless")


@test(strait_only=True)
def sandbox_not_dumpable_same_uid(ctx):
    """Started as nobody already (as netsetup exec runs it; an exec leaves
    it dumpable): another process of uid nobody cannot read its memory or
    environment."""
    nobody = pwd.getpwnam("nobody")
    as_nobody = ["setpriv", "--reuid", str(nobody.pw_uid), "--regid",
                 str(nobody.pw_gid), "--clear-groups"]
    srv, cport = with_echo(ctx)
    p = _start_as(ctx, as_nobody, cport)
    _check_layers(p, nobody.pw_uid, nobody.pw_gid, root=False)
    r = subprocess.run(as_nobody + ["head", "-c", "1",
                                    "/proc/%d/environ" % p.pid],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode != 0 and "denied" in r.stderr,
          "uid nobody read the proxy's environment: rc %d %r"
          % (r.returncode, r.stderr))
    echo(ctx, "127.0.0.1", p.hport, b"still serving")


def _probe(ctx, what, cport, proto="tcp", port=0):
    """A proxy, ready, made to try @what (inject.c); the proxy and the
    injector's line. None if this build has no sandbox (see the module's
    docstring)."""
    p = start(ctx, cport=cport, proto=proto)
    if _built_out(p):
        _check_layers(p, *pwd.getpwnam("nobody")[2:4])
        return None
    r = subprocess.run([_inject_bin(), str(p.pid), what, str(port)],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "inject %s: exit %d: %s"
          % (what, r.returncode, r.stderr.strip()))
    return p, r.stdout.strip()


def _killed_by_filter(ctx, what):
    srv, cport = with_echo(ctx)
    got = _probe(ctx, what, cport)
    if got is None:
        return
    p, said = got
    check(said == "%s: killed by signal %d" % (what, signal.SIGSYS),
          "inject %s: %r, want killed by SIGSYS" % (what, said))
    rc = p.wait(10)
    check(rc == -signal.SIGSYS, "probe %s: exit %r, want SIGSYS (stderr: "
          "%r)" % (what, rc, p.stderr()))


@test(strait_only=True)
def sandbox_file_open_kills(ctx):
    """open("/etc/hostname") from inside the running proxy: the seccomp
    filter kills it (SIGSYS) before Landlock (which would say EACCES) is
    even asked."""
    _killed_by_filter(ctx, "open")


@test(strait_only=True)
def sandbox_exec_kills(ctx):
    """execve() from inside the running proxy: killed (SIGSYS)."""
    _killed_by_filter(ctx, "exec")


@test(strait_only=True)
def sandbox_unix_socket_kills(ctx):
    """A unix socket from inside the running proxy: killed (SIGSYS); only
    IPv4 and IPv6 TCP and UDP sockets can be made."""
    _killed_by_filter(ctx, "unix")


@test(strait_only=True)
def sandbox_socket_options_kill(ctx):
    """A socket option the proxy never sets (SO_MARK, which CAP_NET_RAW
    would allow a transparent proxy): killed (SIGSYS), so the capability
    serves IP_TRANSPARENT only."""
    _killed_by_filter(ctx, "somark")


@test(strait_only=True)
def sandbox_landlock_tcp(ctx):
    """From inside the running proxy, a TCP connect to a listening port
    that is not the container's is refused by Landlock (EACCES, not
    ECONNREFUSED), and the container's port still works; a UDP proxy
    cannot connect over TCP at all."""
    other = listen("127.0.0.1", free_port())
    ctx.sb.on_exit(other.close)
    port = other.getsockname()[1]
    srv, cport = with_echo(ctx)
    got = _probe(ctx, "connect", cport, port=port)
    if got is None:
        return
    p, said = got
    check(said == "connect: Permission denied", "inject: %r" % said)
    echo(ctx, "127.0.0.1", p.hport, b"after the probe")
    usrv, ucport = udp_echo(ctx)
    p, said = _probe(ctx, "connect", ucport, proto="udp", port=cport)
    check(said == "connect: Permission denied", "udp proxy, inject: %r"
          % said)
    c = client()
    roundtrip(c, ("127.0.0.1", p.hport), b"udp after the probe")
    c.close()
