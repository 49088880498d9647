# SPDX-License-Identifier: MIT
"""Transparent mode (strait only): the container's server sees the outside
client's own address and port, TCP and UDP, IPv4 and IPv6, in the netsetup
topology (tests_netsetup.Topo):

    cli 198.51.100.2 / 2001:db8:3::2 --- cli0 [host: the proxy] br0 ---
        ctr 203.0.113.2 / 2001:db8:1::2

The host's routing that hands the container's answers back to the proxy
(a mark for packets of transparent sockets, a rule and a local route for
marked packets) is installed by strait-netsetup up --transparent where
that exists, else here by hand, the same rules, in the test's namespace.
"""
import os
import socket
import subprocess
import sys
import time

from sandbox import Proc, free_port
from tests_netsetup import Topo, sh
from tests_tcp import check, start, test

PY = sys.executable
HELP = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "tphelp.py")
MARK, TABLE = "0x2a", "142"
CTR4, CTR6 = "203.0.113.2", "2001:db8:1::2"
CLI4, CLI6 = "198.51.100.2", "2001:db8:3::2"
HOST4, HOST6 = "198.51.100.1", "2001:db8:3::1"
GW4, GW6 = "203.0.113.1", "2001:db8:1::1"
CAP_NET_RAW = 1 << 13


def _routing():
    """The host's transparent routing, by hand (both families)."""
    for fam in ("-4", "-6"):
        sh("ip", fam, "rule", "add", "fwmark", MARK, "lookup", TABLE)
        sh("ip", fam, "route", "add", "local",
           "0.0.0.0/0" if fam == "-4" else "::/0", "dev", "lo", "table",
           TABLE)
    rules = ("table inet strait-tp-test {\n"
             " chain prerouting {\n"
             "  type filter hook prerouting priority mangle;\n"
             "  socket transparent 1 meta mark set %s\n"
             " }\n}\n" % MARK)
    r = subprocess.run(["nft", "-f", "-"], input=rules, text=True,
                       capture_output=True, timeout=10)
    check(r.returncode == 0, "nft: %s" % r.stderr)


def _topo(ctx, routing=True):
    t = Topo(ctx)
    t.addr6("cli0", HOST6 + "/64", "cli", CLI6 + "/64")
    if routing:
        _routing()
    return t


def _serve(ctx, t, mode, host, port):
    p = Proc(["ip", "netns", "exec", t.ns["ctr"], PY, HELP, mode, host,
              str(port)], fd3=False)
    ctx.sb.spawn(p)
    deadline = time.monotonic() + 20
    while "ready" not in p.stdout():
        check(p.alive() and time.monotonic() < deadline,
              "container server did not start: %s" % p.stderr())
        time.sleep(0.05)
    return p


def _client(t, role, *args):
    r = sh(PY, HELP, *map(str, args), ns=t.ns[role])
    out = r.stdout.strip()
    check(out and "FAIL" not in out, "%s %s: %s %s" % (role, args, out,
                                                        r.stderr))
    return out


def _proxy(ctx, host, cport, cip=CTR4, proto="tcp", extra=("-transparent",),
           env=None):
    hport = free_port(host=host, family=socket.AF_INET6 if ":" in host
                      else socket.AF_INET, kind=socket.SOCK_DGRAM
                      if proto == "udp" else socket.SOCK_STREAM)
    return start(ctx, host=host, hport=hport, cip=cip, cport=cport,
                 proto=proto, extra=extra, env=env)


def _seen(out):
    """(ip, port) the server saw, and our own (ip, port), from tcp mode"""
    lines = dict(l.split(" ", 1) for l in out.splitlines())
    sip, sport = lines["ok"].split()
    lip, lport = lines["local"].split()
    return (sip, int(sport)), (lip, int(lport))


@test(strait_only=True, netsetup=True)
def transparent_tcp_ipv4(ctx):
    """8 MiB both ways byte-exact through a transparent proxy: the server
    sees the outside client's address and port; half-close both orders."""
    t = _topo(ctx)
    _serve(ctx, t, "tcp-serve", CTR4, 7000)
    _serve(ctx, t, "tcp-first", CTR4, 7001)
    p = _proxy(ctx, HOST4, 7000)
    seen, local = _seen(_client(t, "cli", "tcp", HOST4, p.hport, 8 << 20))
    check(seen == local, "server saw %s, the client is %s" % (seen, local))
    p2 = _proxy(ctx, HOST4, 7001)
    out = _client(t, "cli", "tcp-srvfirst", HOST4, p2.hport)
    check(out.split()[1] == CLI4, "server-first: server saw %s" % out)
    check(p.alive() and p2.alive(), "proxy exited")


@test(strait_only=True, netsetup=True)
def transparent_tcp_ipv6(ctx):
    """The same over IPv6: the server sees the client's IPv6 address."""
    t = _topo(ctx)
    _serve(ctx, t, "tcp-serve", CTR6, 7000)
    p = _proxy(ctx, HOST6, 7000, cip=CTR6)
    seen, local = _seen(_client(t, "cli", "tcp", HOST6, p.hport, 1 << 20))
    check(seen == local, "server saw %s, the client is %s" % (seen, local))


@test(strait_only=True, netsetup=True)
def transparent_udp(ctx):
    """UDP, both families: several clients, each sees only its own replies
    and the server sees each one's own address and port."""
    t = _topo(ctx)
    for host, ctr in ((HOST4, CTR4), (HOST6, CTR6)):
        _serve(ctx, t, "udp-serve", ctr, 7002)
        p = _proxy(ctx, host, 7002, cip=ctr, proto="udp")
        out = _client(t, "cli", "udp", host, p.hport, 4)
        cli = CLI6 if ":" in host else CLI4
        for line in out.splitlines():
            check(line.split()[1] == cli, "%s: server saw %s" % (host,
                                                                  line))
        check(len(out.splitlines()) == 4, "replies: %s" % out)


@test(strait_only=True, netsetup=True)
def transparent_fallbacks(ctx):
    """Where the client's address cannot work, the plain connect serves
    the client (the server sees the host's address): a loopback client, a
    client on the container's own network, an IPv6 client of an IPv4
    container."""
    t = _topo(ctx)
    _serve(ctx, t, "tcp-serve", CTR4, 7000)
    lo = _proxy(ctx, "127.0.0.1", 7000)
    out = subprocess.run([PY, HELP, "tcp", "127.0.0.1", str(lo.hport),
                          "1000"], capture_output=True, text=True,
                         timeout=30).stdout
    check(out.startswith("ok %s " % GW4), "loopback client: %s" % out)
    br = _proxy(ctx, GW4, 7000)
    out = _client(t, "ctr", "tcp", GW4, br.hport, 1000)
    check(out.startswith("ok %s " % GW4), "bridge client: %s" % out)
    v6 = _proxy(ctx, HOST6, 7000, cip=CTR4)
    out = _client(t, "cli", "tcp", HOST6, v6.hport, 1000)
    check(out.startswith("ok %s " % GW4), "IPv6 client: %s" % out)


@test(strait_only=True, netsetup=True)
def transparent_env_ports_and_caps(ctx):
    """STRAIT_TRANSPARENT=PORTS (dockerd's environment) applies to the
    listed host ports only; a transparent proxy keeps CAP_NET_RAW and
    nothing else, a plain one nothing at all."""
    t = _topo(ctx)
    _serve(ctx, t, "tcp-serve", CTR4, 7000)
    on_port = free_port(host=HOST4)
    env = {"STRAIT_TRANSPARENT": "%d" % on_port}
    on = start(ctx, host=HOST4, hport=on_port, cip=CTR4, cport=7000,
               env=env)
    off = _proxy(ctx, HOST4, 7000, extra=(), env=env)
    seen, local = _seen(_client(t, "cli", "tcp", HOST4, on.hport, 1000))
    check(seen == local, "listed port: server saw %s" % (seen,))
    out = _client(t, "cli", "tcp", HOST4, off.hport, 1000)
    check(out.startswith("ok %s " % GW4), "other port: %s" % out)
    for p, want in ((on, CAP_NET_RAW), (off, 0)):
        st = p.status()
        for k in ("CapEff", "CapPrm", "CapBnd"):
            check(int(st[k], 16) == want, "%s %s = %s, want %x"
                  % ("transparent" if want else "plain", k, st[k], want))


@test(strait_only=True, netsetup=True)
def transparent_without_routing_warns(ctx):
    """Transparent mode on a host without the routing: the connect from
    the client's address cannot complete; the client is reset at the
    connect timeout and the proxy says what is missing."""
    t = _topo(ctx, routing=False)
    _serve(ctx, t, "tcp-serve", CTR4, 7000)
    p = _proxy(ctx, HOST4, 7000,
               extra=("-transparent", "-connect-timeout", "1s"))
    r = sh(PY, HELP, "tcp", HOST4, str(p.hport), "10", ns=t.ns["cli"])
    check("FAIL" in r.stdout, "served without the routing: %s" % r.stdout)
    deadline = time.monotonic() + 5
    while "is the routing in place?" not in p.stderr():
        check(time.monotonic() < deadline, "no warning: %r" % p.stderr())
        time.sleep(0.1)
