# SPDX-License-Identifier: MIT
"""Transparent mode (strait only): the container's server sees the outside
client's own address and port, TCP and UDP, IPv4 and IPv6, in the netsetup
topology (tests_netsetup.Topo):

    cli 198.51.100.2 / 2001:db8:3::2 --- cli0 [host: the proxy] br0 ---
        ctr 203.0.113.2 / 2001:db8:1::2

The host's routing that hands the container's answers back to the proxy
(a mark for packets of transparent sockets, a rule and a local route for
marked packets) is installed by strait-netsetup up --transparent, with
either backend, in the test's namespace.
"""
import os
import socket
import subprocess
import sys
import time

from sandbox import Proc, free_port
from tests_netsetup import Topo, ruleset, sh, sysctls
from tests_tcp import check, start, test

PY = sys.executable
HELP = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "tphelp.py")
MARK, TABLE = "0x5354", "21332"
CTR4, CTR6 = "203.0.113.2", "2001:db8:1::2"
CLI4, CLI6 = "198.51.100.2", "2001:db8:3::2"
HOST4, HOST6 = "198.51.100.1", "2001:db8:3::1"
GW4, GW6 = "203.0.113.1", "2001:db8:1::1"
CAP_NET_RAW = 1 << 13


def _topo(ctx, routing=True, backend="nft"):
    """The topology, with the host's transparent routing installed by
    strait-netsetup up --transparent (IPv4 and IPv6) unless not wanted"""
    t = Topo(ctx)
    t.addr6("cli0", HOST6 + "/64", "cli", CLI6 + "/64")
    if routing:
        t.netsetup("up", "--backend", backend, "--bridge", "br0",
                   "--uplink", "eth0", "--ipv6", "--transparent")
    return t


def _serve(ctx, t, mode, host, port, role="ctr"):
    p = Proc(["ip", "netns", "exec", t.ns[role], PY, HELP, mode, host,
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


def _tcp_ipv4(ctx, backend):
    t = _topo(ctx, backend=backend)
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
def transparent_tcp_ipv4(ctx):
    """8 MiB both ways byte-exact through a transparent proxy: the server
    sees the outside client's address and port; half-close both orders
    (netsetup's nft backend)."""
    _tcp_ipv4(ctx, "nft")


@test(strait_only=True, netsetup=True)
def transparent_tcp_ipv4_iptables(ctx):
    """The same with netsetup's iptables backend (mangle mark rule)."""
    _tcp_ipv4(ctx, "iptables")


def _tcp_ipv6(ctx, backend):
    t = _topo(ctx, backend=backend)
    _serve(ctx, t, "tcp-serve", CTR6, 7000)
    p = _proxy(ctx, HOST6, 7000, cip=CTR6)
    seen, local = _seen(_client(t, "cli", "tcp", HOST6, p.hport, 8 << 20))
    check(seen == local, "server saw %s, the client is %s" % (seen, local))


@test(strait_only=True, netsetup=True)
def transparent_tcp_ipv6(ctx):
    """The same over IPv6: the server sees the client's IPv6 address."""
    _tcp_ipv6(ctx, "nft")


@test(strait_only=True, netsetup=True)
def transparent_tcp_ipv6_iptables(ctx):
    """IPv6 with the iptables backend (ip6tables mangle, IPv6 rule and
    local route)."""
    _tcp_ipv6(ctx, "iptables")


def _udp(ctx, backend):
    t = _topo(ctx, backend=backend)
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
def transparent_udp(ctx):
    """UDP, both families: several clients, each sees only its own replies
    and the server sees each one's own address and port."""
    _udp(ctx, "nft")


@test(strait_only=True, netsetup=True)
def transparent_udp_iptables(ctx):
    """UDP, both families, with the iptables backend."""
    _udp(ctx, "iptables")


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
    while ("is the routing in place? strait-netsetup up --transparent "
           "installs it") not in p.stderr():
        check(time.monotonic() < deadline, "no warning: %r" % p.stderr())
        time.sleep(0.1)


def _routes():
    """Every policy rule and every route outside the main and local
    tables, both families"""
    out = []
    for fam in ("-4", "-6"):
        out += sh("ip", fam, "rule").stdout.splitlines()
        out += [ln for ln in sh("ip", fam, "route", "show", "table",
                                "all").stdout.splitlines()
                if "table" in ln and "table local" not in ln and
                "table main" not in ln]
    return "\n".join(out)


def _has_routing(mark=MARK, table=TABLE, fams=("-4", "-6")):
    for fam in fams:
        rules = sh("ip", fam, "rule").stdout
        if "fwmark %s lookup %s proto 83" % (mark, table) not in rules:
            return False
        if "local default dev lo proto 83" not in sh(
                "ip", fam, "route", "show", "table", table,
                ok=False).stdout:
            return False
    return True


def _netsetup_routing(ctx, backend):
    t = _topo(ctx, routing=False)
    t.second_bridge()
    before = (_routes(), ruleset(), sysctls())
    up = ("--backend", backend, "--uplink", "eth0", "--ipv6",
          "--transparent")
    chk = t.netsetup("check", "--bridge", "br0", *up).stdout
    check("ip -4 rule add fwmark %s lookup %s proto 83" % (MARK, TABLE)
          in chk and "ip -6 route add local ::/0 dev lo table %s" % TABLE
          in chk, "check does not print the routing:\n%s" % chk)
    check(_routes() == before[0], "check changed the routing")
    t.netsetup("up", "--bridge", "br0", *up)
    check(_has_routing(), "no routing after up:\n%s" % _routes())
    mark_rule = ("socket transparent 1 meta mark set 0x00005354"
                 if backend == "nft" else
                 "-m socket --transparent -j MARK --set-xmark "
                 "0x5354/0xffffffff")
    check(mark_rule in ruleset() or mark_rule in sh(
        "iptables-save", "-t", "mangle").stdout, "no mark rule")
    if backend == "iptables":
        check(mark_rule in sh("ip6tables-save", "-t", "mangle").stdout,
              "no IPv6 mark rule")
    again = _routes()
    t.netsetup("up", "--bridge", "br0", *up)
    check(_routes() == again, "a second up changed the routing")
    st = t.netsetup("status", "--bridge", "br0", ok=False)
    check(st.returncode == 0 and "transparent fwmark 0x5354 table 21332"
          in st.stdout, "status: %s %s" % (st.stdout, st.stderr))
    # a second bridge shares the routing: it stays until the last down
    t.netsetup("up", "--bridge", "br1", *up, "--subnet", "2001:db8:9::/64")
    t.netsetup("down", "--bridge", "br0")
    check(_has_routing(), "down of one bridge took the shared routing")
    t.netsetup("down", "--bridge", "br1")
    check((_routes(), ruleset(), sysctls()) == before,
          "down left something behind:\n%s\n%s" % (_routes(), ruleset()))


@test(strait_only=True, netsetup=True)
def transparent_netsetup_nft(ctx):
    """strait-netsetup up --transparent (nft): check prints the routing,
    up installs the mark rule, IPv4 and IPv6 rules and local routes once
    (a second up changes nothing), status shows them, two bridges share
    them until the last is down, and down leaves no rule, route or mark
    behind."""
    _netsetup_routing(ctx, "nft")


@test(strait_only=True, netsetup=True)
def transparent_netsetup_iptables(ctx):
    """The same with the iptables backend (iptables and ip6tables mangle
    chains)."""
    _netsetup_routing(ctx, "iptables")


@test(strait_only=True, netsetup=True)
def transparent_netsetup_foreign(ctx):
    """A rule or route of someone else's on the mark or table: up refuses
    it with a clear error and changes nothing; another mark and table
    work; a mark without --transparent is bad usage."""
    t = _topo(ctx, routing=False)
    sh("ip", "rule", "add", "fwmark", MARK, "lookup", "100")
    before = (_routes(), ruleset(), sysctls())
    up = ("up", "--bridge", "br0", "--uplink", "eth0", "--transparent")
    r = t.netsetup(*up, ok=False)
    check(r.returncode == 1 and "not ours" in r.stderr and
          "--transparent-mark" in r.stderr and r.stderr.count("\n") == 1,
          "foreign mark: exit %d: %s" % (r.returncode, r.stderr))
    check((_routes(), ruleset(), sysctls()) == before and
          not os.listdir(t.state), "a refused up changed something")
    sh("ip", "rule", "del", "fwmark", MARK, "lookup", "100")
    sh("ip", "route", "add", "192.0.2.0/24", "dev", "lo", "table", TABLE)
    r = t.netsetup(*up, ok=False)
    check(r.returncode == 1 and "table %s" % TABLE in r.stderr,
          "foreign route: exit %d: %s" % (r.returncode, r.stderr))
    t.netsetup(*up, "--transparent-mark", "0x77",
               "--transparent-table", "177")
    check(_has_routing("0x77", "177", ("-4",)), "mark 0x77 table 177:\n%s"
          % _routes())
    t.netsetup("down", "--bridge", "br0")
    check(not _has_routing("0x77", "177", ("-4",)), "down left 0x77")
    r = t.netsetup("up", "--bridge", "br0", "--uplink", "eth0",
                   "--transparent-mark", "7", ok=False)
    check(r.returncode == 2 and "need --transparent" in r.stderr,
          "mark without --transparent: %d %s" % (r.returncode, r.stderr))
