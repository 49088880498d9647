# SPDX-License-Identifier: MIT
"""strait-netsetup black-box tests in a topology of namespaces.

    ctr 203.0.113.2 --veth-- br0 203.0.113.1 [host] eth0 192.0.2.1 --veth--
        out 192.0.2.2 (no route back to 203.0.113.0/24: only masquerade works)
    cli 198.51.100.2 --veth-- cli0 198.51.100.1 [host] (a /25: the upper
        half is for a second bridge, br1, where a test needs one)

and IPv6 beside (documentation prefix 2001:db8::/32): ctr 2001:db8:1::2,
br0 2001:db8:1::1, eth0 2001:db8:2::1, out 2001:db8:2::2 (no route back to
2001:db8:1::/64 either).

netsetup runs in the host namespace (the test's sandbox). The outside
server answers each connection with the address it sees.
"""
import glob
import os
import sys
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time

from sandbox import Proc
from tests_tcp import check, test

# the interpreter running us, not a "python3" found on PATH (a pyenv shim
# here: a bash script and several processes per start)
PY = sys.executable
HERE = os.path.dirname(os.path.abspath(__file__))
HELP = os.path.join(HERE, "nshelp.py")


def sh(*argv, ns=None, ok=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(argv)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if ok and r.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (" ".join(cmd),
                                                  r.returncode, r.stderr))
    return r


def _where(pid):
    """What a stuck process is and where it waits, for the failure text"""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        with open("/proc/%d/wchan" % pid) as f:
            wchan = f.read()
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return "pid %d %s in %s: %s" % (pid, state, wchan, cmd.strip())
    except OSError as e:
        return "pid %d: %s" % (pid, e)


class Topo:
    def __init__(self, ctx):
        self.ctx = ctx
        sb = ctx.sb
        self.ns = {}
        for role in ("ctr", "out", "cli"):
            self.add_role(role)
        self.state = tempfile.mkdtemp(prefix="strait-state-")
        sb.on_exit(lambda: shutil.rmtree(self.state, ignore_errors=True))
        self.make_bridge()
        self.link("eth0", "192.0.2.1/24", "out", "192.0.2.2/24")
        self.addr6("eth0", "2001:db8:2::1/64", "out", "2001:db8:2::2/64")
        self.link("cli0", "198.51.100.1/25", "cli", "198.51.100.2/25")
        self.outside = self.serve("out", "192.0.2.2", 9000)

    def add_role(self, role):
        """A namespace for @role, removed with the sandbox"""
        name = "%s-%s" % (self.ctx.sb.name, role)
        sh("ip", "netns", "add", name)
        self.ctx.sb.on_exit(lambda n=name: subprocess.run(
            ["ip", "netns", "del", n], timeout=10))
        sh("ip", "link", "set", "lo", "up", ns=name)
        self.ns[role] = name

    def second_bridge(self):
        """br1 198.51.100.129/25 with container ctr2 198.51.100.130 (a
        second Docker network)"""
        self.add_role("ctr2")
        sh("ip", "link", "add", "br1", "type", "bridge")
        sh("ip", "addr", "add", "198.51.100.129/25", "dev", "br1")
        sh("ip", "link", "set", "br1", "up")
        self.link("vctr2", None, "ctr2", "198.51.100.130/25")
        sh("ip", "link", "set", "vctr2", "master", "br1")
        sh("ip", "route", "add", "default", "via", "198.51.100.129",
           ns=self.ns["ctr2"])

    def link(self, dev, addr, role, peer_addr):
        """A veth from the host (dev, addr; addr None: no address) to
        eth0 in the role's namespace (peer_addr)."""
        ns = self.ns[role]
        sh("ip", "link", "add", dev, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        if addr:
            sh("ip", "addr", "add", addr, "dev", dev)
        sh("ip", "link", "set", dev, "up")
        sh("ip", "addr", "add", peer_addr, "dev", "eth0", ns=ns)
        sh("ip", "link", "set", "eth0", "up", ns=ns)

    def addr6(self, dev, addr, role, peer_addr):
        """IPv6 on both ends of a link made by link() (no duplicate
        address detection: usable at once)"""
        sh("ip", "addr", "add", addr, "dev", dev, "nodad")
        sh("ip", "addr", "add", peer_addr, "dev", "eth0", "nodad",
           ns=self.ns[role])

    def make_bridge(self):
        sh("ip", "link", "add", "br0", "type", "bridge")
        sh("ip", "addr", "add", "203.0.113.1/24", "dev", "br0")
        sh("ip", "link", "set", "br0", "up")
        self.link("vctr", None, "ctr", "203.0.113.2/24")
        sh("ip", "link", "set", "vctr", "master", "br0")
        self.addr6("br0", "2001:db8:1::1/64", "ctr", "2001:db8:1::2/64")
        sh("ip", "route", "add", "default", "via", "203.0.113.1",
           ns=self.ns["ctr"])
        sh("ip", "-6", "route", "add", "default", "via", "2001:db8:1::1",
           ns=self.ns["ctr"])

    def serve(self, role, host, port):
        p = Proc(["ip", "netns", "exec", self.ns[role], PY, HELP,
                  "serve-peer", host, str(port)], fd3=False)
        self.ctx.sb.spawn(p)
        deadline = time.monotonic() + 30
        while "ready" not in p.stdout():
            check(p.alive() and time.monotonic() < deadline,
                  "helper server did not start (exit %s, %s): %s"
                  % (p.p.poll(), _where(p.pid), p.stderr()))
            time.sleep(0.05)
        return p

    def reach(self, role, host, port, secs=2):
        return sh(PY, HELP, "connect", host, str(port), str(secs),
                  ns=self.ns[role]).stdout.strip()

    def netsetup(self, *args, ok=True):
        env = dict(os.environ, STRAIT_STATE_DIR=self.state)
        r = subprocess.run([self.ctx.netsetup, *args], capture_output=True,
                           text=True, timeout=60, env=env)
        if ok:
            check(r.returncode == 0, "netsetup %s: exit %d: %s"
                  % (" ".join(args), r.returncode, r.stderr))
        return r


def sysctls():
    """Every per-interface IPv4/IPv6 switch of this namespace."""
    out = {}
    for pat in ("/proc/sys/net/ipv4/conf/*/forwarding",
                "/proc/sys/net/ipv4/conf/*/rp_filter",
                "/proc/sys/net/ipv4/conf/*/route_localnet",
                "/proc/sys/net/ipv6/conf/*/forwarding",
                "/proc/sys/net/ipv6/conf/*/force_forwarding",
                "/proc/sys/net/ipv4/ip_forward"):
        for f in glob.glob(pat):
            with open(f) as fh:
                out[f] = fh.read().strip()
    return out


def ruleset():
    """The rules and drop policies of this namespace, nft and iptables
    views (counters and empty built-in chains left out: iptables-nft keeps
    its tables once created, with no rule in them)."""
    keep = []
    for ln in sh("nft", "list", "ruleset").stdout.splitlines():
        ln = re.sub(r"counter packets \d+ bytes \d+", "counter",
                    ln.strip())
        if ln.startswith(("table ", "chain ")):
            keep.append(ln)
        elif ln and ln != "}" and ("policy drop" in ln or
                                   not ln.startswith("type ")):
            keep.append("  " + ln)
    # drop tables and chains with nothing kept under them
    out = []
    for i, ln in enumerate(keep):
        nxt = keep[i + 1] if i + 1 < len(keep) else ""
        if ln.startswith("chain ") and not nxt.startswith("  "):
            continue
        out.append(ln)
    out = [ln for i, ln in enumerate(out) if not (
        ln.startswith("table ") and
        not (out[i + 1:i + 2] or ["table"])[0].startswith(("chain", "  ")))]
    for ln in sh("iptables-save", ok=False).stdout.splitlines():
        if ln.startswith("-A ") or (ln.startswith(":") and
                                    (" DROP " in ln or " - " in ln)):
            out.append(re.sub(r"\[\d+:\d+\]", "[]", ln))
    return "\n".join(out)


def read(path):
    with open(path) as f:
        return f.read().strip()


UP = ("--bridge", "br0", "--uplink", "eth0",
      "--publish", "tcp:198.51.100.1:8080")


def _scenario(ctx, backend):
    t = Topo(ctx)
    before = sysctls()
    rules0 = ruleset()
    got = t.reach("ctr", "192.0.2.2", 9000)
    check(got.startswith("FAIL"), "before up the container reached the "
          "outside: %r" % got)
    t.netsetup("up", "--backend", backend, *UP)
    check(read("/proc/sys/net/ipv4/conf/all/forwarding") == "0",
          "all.forwarding was turned on")
    check(read("/proc/sys/net/ipv4/conf/br0/forwarding") == "1" and
          read("/proc/sys/net/ipv4/conf/eth0/forwarding") == "1" and
          read("/proc/sys/net/ipv4/conf/br0/rp_filter") == "1",
          "per-interface sysctls not set")
    check(read("/proc/sys/net/ipv4/conf/cli0/forwarding") == "0",
          "forwarding turned on for an interface not named")
    got = t.reach("ctr", "192.0.2.2", 9000, 5)
    check(got == "192.0.2.1", "the outside should see the host's uplink "
          "address (masquerade), saw %r" % got)
    # the outside cannot open connections into the bridge
    cserver = t.serve("ctr", "203.0.113.2", 7000)
    sh("ip", "route", "add", "203.0.113.0/24", "via", "192.0.2.1",
       ns=t.ns["out"])
    got = t.reach("out", "203.0.113.2", 7000)
    check(got.startswith("FAIL"), "the outside reached the container: %r"
          % got)
    cserver.kill()
    after1 = (sysctls(), ruleset())
    t.netsetup("up", "--backend", backend, *UP)
    check((sysctls(), ruleset()) == after1, "up twice changed something")
    t.netsetup("down", "--backend", backend, "--bridge", "br0", "--uplink",
               "eth0")
    check(sysctls() == before, "down did not restore the sysctls")
    check(ruleset() == rules0, "down left rules behind:\n%s" % ruleset())
    check(not os.listdir(t.state), "state file left behind")
    got = t.reach("ctr", "192.0.2.2", 9000)
    check(got.startswith("FAIL"), "after down the container still reaches "
          "the outside: %r" % got)


@test(netsetup=True)
def netsetup_nft_up_down(ctx):
    """nft: masquerade, forward rules, sysctls; idempotent; down restores."""
    _scenario(ctx, "nft")


@test(netsetup=True)
def netsetup_iptables_up_down(ctx):
    """iptables-restore backend: the same."""
    _scenario(ctx, "iptables")


@test(netsetup=True)
def netsetup_bridge_recreated(ctx):
    """A re-created bridge comes back with forwarding=0: up again puts it
    back, and down still restores the values found at the first up."""
    t = Topo(ctx)
    before = sysctls()
    t.netsetup("up", *UP)
    sh("ip", "link", "del", "br0")
    sh("ip", "link", "del", "vctr", ok=False)
    t.make_bridge()
    check(read("/proc/sys/net/ipv4/conf/br0/forwarding") == "0",
          "kernel kept forwarding on a new bridge?")
    t.netsetup("up", *UP)
    check(read("/proc/sys/net/ipv4/conf/br0/forwarding") == "1",
          "second up did not restore forwarding")
    got = t.reach("ctr", "192.0.2.2", 9000, 5)
    check(got == "192.0.2.1", "after re-creation: %r" % got)
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")
    check(sysctls() == before, "down after re-creation")


@test(netsetup=True)
def netsetup_exec_unprivileged_proxy(ctx):
    """exec binds the published port, drops everything, and runs
    strait-proxy on fd 4: the client is served by uid nobody, CapEff 0."""
    t = Topo(ctx)
    t.serve("ctr", "203.0.113.2", 80)
    t.netsetup("up", *UP)
    env = dict(os.environ, STRAIT_STATE_DIR=t.state)
    p = Proc([ctx.netsetup, "exec", "tcp:198.51.100.1:8080", "--",
              ctx.proxy_bin, "-proto", "tcp", "-host-ip", "198.51.100.1",
              "-host-port", "8080", "-container-ip", "203.0.113.2",
              "-container-port", "80", "-use-listen-fd"], env=env)
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    check(p.ready() == b"0\n", "proxy readiness: %s" % p.stderr())
    got = t.reach("cli", "198.51.100.1", 8080, 5)
    check(got == "203.0.113.1", "client through the proxy: %r" % got)
    st = p.status()
    nobody = pwd.getpwnam("nobody")
    check(st["Uid"].split() == [str(nobody.pw_uid)] * 4, "Uid %s"
          % st["Uid"])
    for k in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
        check(int(st[k], 16) == 0, "%s %s" % (k, st[k]))
    check(st["NoNewPrivs"] == "1", "NoNewPrivs")
    check(st["Name"] == "strait-proxy", "exec'd %s" % st["Name"])
    p.signal(15)
    check(p.wait(5) == 0, "proxy exit")
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")


@test(netsetup=True)
def netsetup_iptables_ipv6(ctx):
    """--backend iptables --ipv6: the same forward chain through ip6tables
    (the outside cannot route into the bridge over IPv6 either), an IPv6
    publish accepted on input, force_forwarding on the two interfaces only;
    down removes both families' chains and restores the sysctls."""
    t = Topo(ctx)
    if not os.path.exists("/proc/sys/net/ipv6/conf/br0/force_forwarding"):
        return  # netsetup_ipv6_force_forwarding covers the refusal
    before = sysctls()
    t.netsetup("up", "--backend", "iptables", "--ipv6", *UP, "--publish",
               "udp:[2001:db8::1]:53")
    fwd6 = sh("ip6tables", "-S", "STRAIT-FWD-br0").stdout
    for rule in ("-A STRAIT-FWD-br0 -o br0 -j DROP",
                 "-A STRAIT-FWD-br0 -i br0 -j DROP",
                 "-A STRAIT-FWD-br0 -i br0 -o eth0 -j ACCEPT"):
        check(rule in fwd6, "ip6tables STRAIT-FWD-br0 lacks %r:\n%s"
              % (rule, fwd6))
    in6 = sh("ip6tables", "-S", "STRAIT-IN-br0").stdout
    check("-d 2001:db8::1/128 -p udp" in in6 and "--dport 53" in in6,
          "ip6tables STRAIT-IN: %r" % in6)
    check("198.51.100.1" not in in6, "an IPv4 publish in ip6tables")
    check("-j STRAIT-FWD-br0" in sh("ip6tables", "-S", "FORWARD").stdout,
          "no jump from the IPv6 FORWARD chain")
    check("2001:db8::1" not in sh("iptables", "-S", "STRAIT-IN-br0").stdout,
          "an IPv6 publish in iptables")
    check(read("/proc/sys/net/ipv6/conf/br0/force_forwarding") == "1",
          "force_forwarding not set")
    check(read("/proc/sys/net/ipv6/conf/all/forwarding") == "0",
          "IPv6 all.forwarding turned on")
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")
    check("STRAIT" not in sh("ip6tables-save").stdout, "IPv6 chains left")
    check("STRAIT" not in sh("iptables-save").stdout, "IPv4 chains left")
    check(sysctls() == before, "down did not restore the sysctls")


@test(netsetup=True)
def netsetup_exec_port_range(ctx):
    """A published range: one input rule for it, and exec hands one socket
    per port (fds 4, 5, 6) to a single unprivileged strait-proxy."""
    t = Topo(ctx)
    for port in (80, 81, 82):
        t.serve("ctr", "203.0.113.2", port)
    t.netsetup("up", "--bridge", "br0", "--uplink", "eth0", "--publish",
               "tcp:198.51.100.1:8080-8082")
    rules = sh("nft", "list", "table", "ip", "strait-br0").stdout
    check("tcp dport 8080-8082 ct state established,new accept" in rules,
          "no input rule for the range:\n%s" % rules)
    env = dict(os.environ, STRAIT_STATE_DIR=t.state)
    p = Proc([ctx.netsetup, "exec", "tcp:198.51.100.1:8080-8082", "--",
              ctx.proxy_bin, "-proto", "tcp", "-host-port", "8080-8082",
              "-container-ip", "203.0.113.2", "-container-port", "80-82",
              "-use-listen-fd"], env=env)
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    check(p.ready() == b"0\n", "proxy readiness: %s" % p.stderr())
    for port in (8080, 8081, 8082):
        got = t.reach("cli", "198.51.100.1", port, 5)
        check(got == "203.0.113.1", "port %d through the proxy: %r"
              % (port, got))
    st = p.status()
    check(int(st["CapEff"], 16) == 0, "CapEff %s" % st["CapEff"])
    p.signal(15)
    check(p.wait(5) == 0, "proxy exit")
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")


@test(netsetup=True)
def netsetup_exec_large_range(ctx):
    """600 ports through exec with a soft fd limit of 1024 (the usual
    default): exec and the proxy raise it to the hard limit, so the range
    is served whole rather than failing with "too many open files"."""
    t = Topo(ctx)
    t.serve("ctr", "203.0.113.2", 80)
    p = Proc([ctx.netsetup, "exec", "udp:198.51.100.1:20000-20599", "--",
              ctx.proxy_bin, "-proto", "udp", "-host-port", "20000-20599",
              "-container-ip", "203.0.113.2", "-container-port",
              "20000-20599", "-use-listen-fd"], nofile=(1024, 4096),
             env=dict(os.environ, STRAIT_STATE_DIR=t.state))
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    got = p.ready(30)
    check(got == b"0\n", "readiness %r: %s" % (got, p.stderr()))
    fds = os.listdir("/proc/%d/fd" % p.pid)
    check(len(fds) >= 600, "the proxy holds %d fds" % len(fds))
    p.signal(15)
    check(p.wait(10) == 0, "proxy exit")


@test(netsetup=True)
def netsetup_ipv6_force_forwarding(ctx):
    """--ipv6: force_forwarding on the two interfaces only, never
    all.forwarding; an inet table; down restores."""
    t = Topo(ctx)
    if not os.path.exists("/proc/sys/net/ipv6/conf/br0/force_forwarding"):
        r = t.netsetup("up", "--ipv6", *UP, ok=False)
        check(r.returncode == 1 and "force_forwarding" in r.stderr,
              "without force_forwarding: %r" % r.stderr)
        return
    before = sysctls()
    t.netsetup("up", "--ipv6", *UP)
    check(read("/proc/sys/net/ipv6/conf/br0/force_forwarding") == "1" and
          read("/proc/sys/net/ipv6/conf/eth0/force_forwarding") == "1",
          "force_forwarding not set")
    check(read("/proc/sys/net/ipv6/conf/all/forwarding") == "0",
          "IPv6 all.forwarding turned on")
    check("table inet strait-br0" in sh("nft", "list", "ruleset").stdout,
          "no inet table")
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")
    check(sysctls() == before, "down did not restore")


def _ipv6_scenario(ctx, backend):
    t = Topo(ctx)
    if not os.path.exists("/proc/sys/net/ipv6/conf/br0/force_forwarding"):
        return  # netsetup_ipv6_force_forwarding covers the refusal
    before, rules0 = sysctls(), ruleset()
    t.serve("out", "2001:db8:2::2", 9000)
    got = t.reach("ctr", "2001:db8:2::2", 9000)
    check(got.startswith("FAIL"), "before up the container reached the "
          "outside over IPv6: %r" % got)
    # the subnet is read from br0 (its link-local fe80::/64 is skipped)
    t.netsetup("up", "--backend", backend, "--ipv6", *UP)
    r = t.netsetup("status", ok=False)
    check(r.returncode == 0 and "ipv6 masquerade" in r.stdout and
          "subnet 2001:db8:1::/64" in r.stdout,
          "status with --ipv6: exit %d:\n%s" % (r.returncode, r.stdout))
    got = t.reach("ctr", "2001:db8:2::2", 9000, 5)
    check(got == "2001:db8:2::1", "the outside should see the host's "
          "uplink IPv6 address (masquerade), saw %r" % got)
    check(t.reach("ctr", "192.0.2.2", 9000, 5) == "192.0.2.1",
          "IPv4 masquerade beside IPv6")
    # the outside cannot open connections into the bridge over IPv6
    cserver = t.serve("ctr", "2001:db8:1::2", 7000)
    sh("ip", "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:2::1",
       ns=t.ns["out"])
    got = t.reach("out", "2001:db8:1::2", 7000)
    check(got.startswith("FAIL"), "the outside reached the container over "
          "IPv6: %r" % got)
    cserver.kill()
    # routed: forwarded with the container's own address (and nothing on
    # stderr: listing ip6tables-nft's MASQUERADE made libnftables print
    # "XT target MASQUERADE not found" and leak)
    r = t.netsetup("up", "--backend", backend, "--ipv6-routed", *UP)
    check(r.stderr == "", "up --ipv6-routed said: %r" % r.stderr)
    got = t.reach("ctr", "2001:db8:2::2", 9000, 5)
    check(got == "2001:db8:1::2", "--ipv6-routed should not masquerade, "
          "the outside saw %r" % got)
    # up again without --ipv6: no IPv6 forwarding or rule of ours stays
    t.netsetup("up", "--backend", backend, *UP)
    check(read("/proc/sys/net/ipv6/conf/br0/force_forwarding") == "0" and
          read("/proc/sys/net/ipv6/conf/eth0/force_forwarding") == "0",
          "IPv6 forwarding left on by an up without --ipv6")
    if backend == "iptables":
        check("STRAIT" not in sh("ip6tables-save").stdout,
              "IPv6 chains left by an up without --ipv6")
    got = t.reach("ctr", "2001:db8:2::2", 9000)
    check(got.startswith("FAIL"), "without --ipv6 the container still "
          "reaches the outside over IPv6: %r" % got)
    t.netsetup("down", "--backend", backend, "--bridge", "br0", "--uplink",
               "eth0")
    check(sysctls() == before, "down did not restore the sysctls")
    check(ruleset() == rules0, "down left rules behind:\n%s" % ruleset())
    if backend == "iptables":
        check("STRAIT" not in sh("ip6tables-save").stdout,
              "IPv6 chains left")
    got = t.reach("ctr", "2001:db8:2::2", 9000)
    check(got.startswith("FAIL"), "after down the container still reaches "
          "the outside over IPv6: %r" % got)


@test(netsetup=True)
def netsetup_ipv6_masquerade_nft(ctx):
    """--ipv6: the container reaches the outside over IPv6 as the host's
    uplink address (its subnet read from the bridge), nothing gets into
    the bridge; --ipv6-routed forwards without masquerade; down undoes."""
    _ipv6_scenario(ctx, "nft")


@test(netsetup=True)
def netsetup_ipv6_masquerade_iptables(ctx):
    """The same through ip6tables' nat and filter tables."""
    _ipv6_scenario(ctx, "iptables")


@test(netsetup=True)
def netsetup_up_again_with_less(ctx):
    """An up that no longer names what an earlier one set (another
    uplink, no --ipv6) puts those sysctls back to their values from before
    the first up; down then restores everything either up touched."""
    t = Topo(ctx)
    if not os.path.exists("/proc/sys/net/ipv6/conf/br0/force_forwarding"):
        return
    before = sysctls()
    t.netsetup("up", "--ipv6", *UP)
    t.netsetup("up", "--bridge", "br0", "--uplink", "cli0")
    now = sysctls()
    for f in ("/proc/sys/net/ipv4/conf/eth0/forwarding",
              "/proc/sys/net/ipv6/conf/eth0/force_forwarding",
              "/proc/sys/net/ipv6/conf/br0/force_forwarding"):
        check(now[f] == before[f], "%s is %s after the second up, was %s"
              % (f, now[f], before[f]))
    check(now["/proc/sys/net/ipv4/conf/cli0/forwarding"] == "1",
          "the new uplink's forwarding")
    check("table inet strait-br0" not in sh("nft", "list", "ruleset").stdout,
          "the inet table stayed")
    t.netsetup("down", "--bridge", "br0", "--uplink", "cli0")
    check(sysctls() == before, "down did not restore every sysctl")
    check(not os.listdir(t.state), "state file left behind")


# run argv with the file $1 made read-only in a mount namespace of its own:
# writing that sysctl then fails with EROFS, the way a kernel may refuse one
RO_SH = ('mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && '
         'shift && exec "$@"')


def _netsetup_ro(t, path, *args):
    env = dict(os.environ, STRAIT_STATE_DIR=t.state)
    return subprocess.run(["unshare", "--mount", "--propagation", "private",
                           "sh", "-c", RO_SH, "sh", path, t.ctx.netsetup,
                           *args], capture_output=True, text=True,
                          timeout=60, env=env)


def _rolled_back(t, r, before, rules0, what):
    check(r.returncode == 1 and "rolled back" in r.stderr and
          r.stderr.count("\n") == 1,
          "%s: exit %d: %r" % (what, r.returncode, r.stderr))
    check(sysctls() == before, "%s: sysctls not as before the first up"
          % what)
    check(ruleset() == rules0, "%s: rules left:\n%s" % (what, ruleset()))
    check(not os.listdir(t.state), "%s: state file left" % what)
    check(r.stdout == "", "%s: printed as done: %r" % (what, r.stdout))


@test(netsetup=True)
def netsetup_failed_up_rolls_back(ctx):
    """A sysctl write that fails part-way through up (made read-only in a
    mount namespace), or a failing ip6tables-restore: exit 1 and nothing
    of ours is left; after a working up, a failed second one takes
    everything back as down would (forwarding on with our drop rules gone
    would let the outside into the bridge)."""
    t = Topo(ctx)
    before, rules0 = sysctls(), ruleset()
    # the third write of a first up: two are done and the rules are in
    r = _netsetup_ro(t, "/proc/sys/net/ipv4/conf/br0/rp_filter", "up", *UP)
    _rolled_back(t, r, before, rules0, "first up")
    if os.path.exists("/proc/sys/net/ipv6/conf/eth0/force_forwarding"):
        t.netsetup("up", *UP)
        r = _netsetup_ro(t, "/proc/sys/net/ipv6/conf/eth0/force_forwarding",
                         "up", "--ipv6", *UP)
        _rolled_back(t, r, before, rules0, "second up")
        got = t.reach("ctr", "192.0.2.2", 9000)
        check(got.startswith("FAIL"), "after the rollback the container "
              "still reaches the outside: %r" % got)
    # iptables: IPv4 chains go in, ip6tables-restore fails
    fake = tempfile.mkdtemp(prefix="strait-fakebin-")
    ctx.sb.on_exit(lambda: shutil.rmtree(fake, ignore_errors=True))
    with open(os.path.join(fake, "ip6tables-restore"), "w") as f:
        f.write("#!/bin/sh\necho 'ip6tables-restore: injected failure' "
                ">&2\nexit 1\n")
    os.chmod(os.path.join(fake, "ip6tables-restore"), 0o755)
    env = dict(os.environ, STRAIT_STATE_DIR=t.state,
               PATH=fake + ":" + os.environ["PATH"])
    r = subprocess.run([ctx.netsetup, "up", "--backend", "iptables", *UP,
                        "--publish", "tcp:[2001:db8:2::1]:8080"],
                       capture_output=True, text=True, timeout=60, env=env)
    _rolled_back(t, r, before, rules0, "ip6tables-restore failing")
    check("injected failure" in r.stderr, "the cause is not named: %r"
          % r.stderr)
    check("STRAIT" not in sh("iptables-save").stdout, "IPv4 chains left")


def _two_bridges(ctx, backend):
    t = Topo(ctx)
    t.second_bridge()
    before, rules0 = sysctls(), ruleset()
    t.netsetup("up", "--backend", backend, *UP)
    t.netsetup("up", "--backend", backend, "--bridge", "br1", "--uplink",
               "eth0")
    for role in ("ctr", "ctr2"):
        got = t.reach(role, "192.0.2.2", 9000, 5)
        check(got == "192.0.2.1", "%s with both bridges up: %r"
              % (role, got))
    # one network cannot reach into the other (Docker isolates them too)
    srv = t.serve("ctr2", "198.51.100.130", 7000)
    got = t.reach("ctr", "198.51.100.130", 7000)
    check(got.startswith("FAIL"), "br0 reached into br1: %r" % got)
    srv.kill()
    # br0 down: its rules and its own sysctls go, br1 keeps working and
    # keeps the uplink's forwarding it needs
    r = t.netsetup("down", "--backend", backend, "--bridge", "br0",
                   "--uplink", "eth0")
    check("1 kept" in r.stdout, "down of br0 said %r" % r.stdout)
    check(read("/proc/sys/net/ipv4/conf/eth0/forwarding") == "1",
          "the uplink's forwarding went with br0")
    check(read("/proc/sys/net/ipv4/conf/br0/forwarding") == "0",
          "br0's forwarding stayed on")
    got = t.reach("ctr2", "192.0.2.2", 9000, 5)
    check(got == "192.0.2.1", "br1 after br0's down: %r" % got)
    got = t.reach("ctr", "192.0.2.2", 9000)
    check(got.startswith("FAIL"), "br0 still out after its down: %r" % got)
    # the last one down puts back what was there before the first up
    t.netsetup("down", "--backend", backend, "--bridge", "br1", "--uplink",
               "eth0")
    check(sysctls() == before, "sysctls after both downs")
    check(ruleset() == rules0, "rules left:\n%s" % ruleset())
    check(not os.listdir(t.state), "state files left")


@test(netsetup=True)
def netsetup_two_bridges_nft(ctx):
    """Two bridges (two Docker networks) side by side, a table each: both
    containers out through masquerade, neither network into the other,
    one taken down while the other keeps working (and keeps the uplink's
    forwarding), the last one down restores what the first found."""
    _two_bridges(ctx, "nft")


@test(netsetup=True)
def netsetup_two_bridges_iptables(ctx):
    """The same with iptables chains per bridge."""
    _two_bridges(ctx, "iptables")


@test(netsetup=True)
def netsetup_ipv6_needs_a_subnet(ctx):
    """--ipv6 on a bridge with only a link-local IPv6 address: exit 2,
    nothing changed, and the message names both ways out."""
    t = Topo(ctx)
    sh("ip", "-6", "addr", "flush", "dev", "br0", "scope", "global")
    before, rules0 = sysctls(), ruleset()
    r = t.netsetup("up", "--ipv6", *UP, ok=False)
    check(r.returncode == 2 and "--subnet" in r.stderr and
          "--ipv6-routed" in r.stderr and r.stderr.count("\n") == 1,
          "exit %d: %r" % (r.returncode, r.stderr))
    check((sysctls(), ruleset()) == (before, rules0), "something changed")
    check(not os.listdir(t.state), "a state file was written")
    # given explicitly, it is used as given
    r = t.netsetup("check", "--ipv6", "--subnet", "2001:db8:1::/64", *UP)
    check("ip6 saddr 2001:db8:1::/64 oifname \"eth0\" masquerade"
          in r.stdout, "check with an IPv6 --subnet:\n%s" % r.stdout)


HOSTILE_NAMES = ['x";drop', "eth+", "-j", 'x"accept;#']


@test(netsetup=True)
def netsetup_hostile_input(ctx):
    """Every hostile input exits 2, changes no rule and no sysctl, and
    says why in one line."""
    t = Topo(ctx)
    for name in HOSTILE_NAMES:
        sh("ip", "link", "add", name, "type", "bridge")
    t.netsetup("up", *UP)  # refusals must not touch existing state either
    sys0, rules0 = sysctls(), ruleset()
    cases = [["--bridge", n, "--uplink", "eth0"] for n in HOSTILE_NAMES]
    cases += [
        ["--bridge", "../conf/all", "--uplink", "eth0"],
        ["--bridge", "br0", "--uplink", "all"],
        ["--bridge", "default", "--uplink", "eth0"],
        ["--bridge", "nosuch0", "--uplink", "eth0"],
        ["--bridge", "br0", "--uplink", "eth0", "--subnet", "0x7f.0.0.0/8"],
        ["--bridge", "br0", "--uplink", "eth0", "--subnet", "010.0.0.0/8"],
        ["--bridge", "br0", "--uplink", "eth0", "--subnet", "192.0.2/24"],
        ["--bridge", "br0", "--uplink", "eth0", "--subnet", "203.0.113.1/24"],
        ["--bridge", "br0", "--uplink", "eth0", "--subnet", "0.0.0.0/0"],
        ["--bridge", "br0", "--uplink", "eth0", "--publish",
         "tcp:198.51.100.1:0"],
        ["--bridge", "br0", "--uplink", "eth0", "--publish",
         "tcp:198.51.100.1:65536"],
        ["--bridge", "br0", "--uplink", "eth0", "--publish",
         "tcp:198.51.100.1:0x50"],
        ["--bridge", "br0", "--uplink", "eth0", "--publish",
         "icmp:198.51.100.1:80"],
        ["--bridge", "br0", "--uplink", "eth0", "--publish",
         'tcp:198.51.100.1";drop:80'],
        ["--bridge", "br0", "--uplink", "eth0", "--backend", "pf"],
        ["--bridge", "br0", "--uplink", "eth0", "--backend", "iptables",
         "--publish", "tcp:[2001:0db8::1]:80"],
        ["--bridge", "br0", "--uplink", "eth0", "--publish",
         "udp:198.51.100.1:90-80"],
        ["--bridge", "br0", "--uplink", "lo"],
        ["--bridge", "br0", "--uplink", "eth0", "--ipv6", "--ipv6-routed"],
        ["--bridge", "br0", "--uplink", "eth0", "--ipv6-routed", "--ipv6"],
    ]
    for args in cases:
        for cmd in ("up", "check"):
            r = t.netsetup(cmd, *args, ok=False)
            check(r.returncode == 2, "%s %s: exit %d (%s)"
                  % (cmd, args, r.returncode, r.stderr))
            check(r.stderr.startswith("strait-netsetup: ") and
                  len(r.stderr.strip().splitlines()) <= 2,
                  "%s: message %r" % (args, r.stderr))
    check(sysctls() == sys0, "a refused call changed a sysctl")
    check(ruleset() == rules0, "a refused call changed the rules")
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")


@test(netsetup=True)
def netsetup_check_changes_nothing(ctx):
    t = Topo(ctx)
    sys0, rules0 = sysctls(), ruleset()
    r = t.netsetup("check", *UP)
    check("sysctl net.ipv4.conf.br0.forwarding: 0 -> 1" in r.stdout and
          'ip saddr 203.0.113.0/24 oifname "eth0" masquerade' in r.stdout,
          "check output:\n%s" % r.stdout)
    check(sysctls() == sys0 and ruleset() == rules0, "check changed state")
    r = t.netsetup("check", "--backend", "iptables", *UP)
    check("-A STRAIT-POST-br0 -s 203.0.113.0/24 -o eth0 -j MASQUERADE"
          in r.stdout, "iptables check output:\n%s" % r.stdout)


@test(netsetup=True)
def netsetup_refuses_route_localnet(ctx):
    """route_localnet=1 on the bridge (CVE-2020-8558): refused, exit 1,
    nothing changed."""
    t = Topo(ctx)
    with open("/proc/sys/net/ipv4/conf/br0/route_localnet", "w") as f:
        f.write("1")
    sys0, rules0 = sysctls(), ruleset()
    r = t.netsetup("up", *UP, ok=False)
    check(r.returncode == 1 and "route_localnet" in r.stderr,
          "exit %d: %s" % (r.returncode, r.stderr))
    check(sysctls() == sys0 and ruleset() == rules0, "changed something")


@test(netsetup=True)
def netsetup_refuses_tampered_state(ctx):
    """The saved values are input too: a state file naming all.forwarding
    is refused (exit 1, nothing changed), never obeyed or overwritten."""
    t = Topo(ctx)
    t.netsetup("up", *UP)
    path = glob.glob(os.path.join(t.state, "netsetup-*-br0.state"))[0]
    with open(path) as f:
        good = f.read()
    with open(path, "a") as f:
        f.write("ipv4 all forwarding 1\n")
    sys0, rules0 = sysctls(), ruleset()
    r = t.netsetup("up", *UP, ok=False)
    check(r.returncode == 1 and "bad state file" in r.stderr,
          "exit %d: %s" % (r.returncode, r.stderr))
    check(sysctls() == sys0 and ruleset() == rules0, "changed something")
    with open(path) as f:
        check(f.read() == good + "ipv4 all forwarding 1\n",
              "state file overwritten")
    with open(path, "w") as f:
        f.write(good)
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")


def _run_all(procs, secs=60):
    """Wait for every Popen in @procs; their (returncode, stderr)"""
    out = []
    for p in procs:
        _, err = p.communicate(timeout=secs)
        out.append((p.returncode, err))
    return out


@test(netsetup=True)
def netsetup_parallel_bridges_race(ctx):
    """Two bridges set up and taken down at the same time, a hundred
    rounds: they share the uplink's forwarding, so each up and down must
    see the other's state whole (a lock on the state directory). While
    both are up the uplink forwards; when both are down every sysctl is
    as before the first round, and no state file or rule is left."""
    t = Topo(ctx)
    t.second_bridge()
    before, rules0 = sysctls(), ruleset()
    env = dict(os.environ, STRAIT_STATE_DIR=t.state)
    ups = [["up", *UP], ["up", "--bridge", "br1", "--uplink", "eth0"]]
    downs = [["down", "--bridge", "br0", "--uplink", "eth0"],
             ["down", "--bridge", "br1", "--uplink", "eth0"]]
    deadline = time.monotonic() + 90
    for rnd in range(100):
        check(time.monotonic() < deadline, "round %d: out of time" % rnd)
        for argvs, want in ((ups, "1"), (downs, None)):
            res = _run_all([subprocess.Popen(
                [ctx.netsetup, *a], stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True, env=env) for a in argvs])
            for a, (rc, err) in zip(argvs, res):
                check(rc == 0, "round %d: %s: exit %d: %s"
                      % (rnd, a[0], rc, err))
            fwd = read("/proc/sys/net/ipv4/conf/eth0/forwarding")
            if want:
                check(fwd == want, "round %d: both up, the uplink's "
                      "forwarding is %s" % (rnd, fwd))
            else:
                check(sysctls() == before, "round %d: both down, sysctls "
                      "not as before: eth0 forwarding %s" % (rnd, fwd))
    check(ruleset() == rules0, "rules left:\n%s" % ruleset())
    check(not os.listdir(t.state), "state files left: %s"
          % os.listdir(t.state))


def _state_file(t, bridge="br0"):
    return glob.glob(os.path.join(t.state, "netsetup-*-%s.state" % bridge))[0]


@test(netsetup=True)
def netsetup_state_parsed_strictly(ctx):
    """A state file is input: a line with trailing junk, or a line naming
    an interface the bridge was not set up with (cli0), makes down refuse
    the whole file (exit 1) and change nothing, rather than write cli0's
    forwarding; the intact file then takes everything down."""
    t = Topo(ctx)
    before = sysctls()
    t.netsetup("up", *UP)
    path = _state_file(t)
    good = read(path) + "\n"
    up_sys, up_rules = sysctls(), ruleset()
    bad = [
        re.sub(r"ipv4 eth0 forwarding (\d+)", r"ipv4 cli0 forwarding 1",
               good),
        good.replace("ipv4 br0 forwarding 0\n",
                     "ipv4 br0 forwarding 0 junk\n"),
        good + "junk\n",
        good + "ipv4 cli0 forwarding 1",
    ]
    for text in bad:
        check(text != good, "the state file's format changed: %r" % good)
        with open(path, "w") as f:
            f.write(text)
        r = t.netsetup("down", "--bridge", "br0", "--uplink", "eth0",
                       ok=False)
        check(r.returncode == 1 and "bad state file" in r.stderr,
              "down with %r: exit %d: %s" % (text, r.returncode, r.stderr))
        check(sysctls() == up_sys, "down with a bad state file wrote a "
              "sysctl: cli0 forwarding %s"
              % read("/proc/sys/net/ipv4/conf/cli0/forwarding"))
        check(ruleset() == up_rules, "down with a bad state file removed "
              "rules")
    with open(path, "w") as f:
        f.write(good)
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")
    check(sysctls() == before, "down did not restore")


@test(netsetup=True)
def netsetup_refuses_loopback(ctx):
    """lo (or a loopback renamed) as uplink or bridge: masquerade out of
    lo and lo's forwarding on are never wanted: exit 2, nothing changed."""
    t = Topo(ctx)
    sys0, rules0 = sysctls(), ruleset()
    for args in (("--bridge", "br0", "--uplink", "lo"),
                 ("--bridge", "lo", "--uplink", "eth0")):
        for cmd in ("up", "check"):
            r = t.netsetup(cmd, *args, ok=False)
            check(r.returncode == 2 and "lo" in r.stderr,
                  "%s %s: exit %d: %s" % (cmd, args, r.returncode, r.stderr))
    sh("ip", "link", "set", "lo", "name", "lo9")
    try:
        r = t.netsetup("up", "--bridge", "br0", "--uplink", "lo9", ok=False)
    finally:
        sh("ip", "link", "set", "lo9", "name", "lo")
    check(r.returncode == 2 and "loopback" in r.stderr,
          "up --uplink lo9 (a renamed lo): exit %d: %s"
          % (r.returncode, r.stderr))
    check(sysctls() == sys0 and ruleset() == rules0, "changed something")
    check(not os.listdir(t.state), "a state file was written")


@test(netsetup=True)
def netsetup_exec_range_matches_program(ctx):
    """exec binds the range it is given and hands it over: a program that
    serves a shorter range (-host-port), or binds itself (no
    -use-listen-fd), would leave ports bound and unserved, so exec
    refuses (exit 2, its message names the PROTO:HOSTIP:PORT given) and
    binds nothing."""
    t = Topo(ctx)
    spec = "tcp:198.51.100.1:8080-8082"
    base = [ctx.proxy_bin, "-proto", "tcp", "-container-ip", "203.0.113.2"]
    cases = [
        base + ["-host-port", "8080-8081", "-container-port", "80-81",
                "-use-listen-fd"],
        base + ["--host-port=8080-8083", "-container-port", "80-83",
                "-use-listen-fd"],
        base + ["-host-port", "8080-8082", "-container-port", "80-82"],
        [ctx.proxy_bin, "-proto", "udp", "-host-port", "8080-8082",
         "-container-ip", "203.0.113.2", "-container-port", "80-82",
         "-use-listen-fd"],
    ]
    env = dict(os.environ, STRAIT_STATE_DIR=t.state)
    for argv in cases:
        p = Proc([ctx.netsetup, "exec", spec, "--", *argv], env=env)
        ctx.sb.spawn(p)
        ctx.procs.append(p)
        rc = p.wait(10)
        check(rc == 2 and spec in p.stderr(), "exec %s -- %s: exit %s: %s"
              % (spec, " ".join(argv[1:]), rc, p.stderr()))
        p.kill()
        # nothing stays bound: every port of the range is free
        for port in (8080, 8081, 8082):
            s = socket.socket()
            try:
                s.bind(("198.51.100.1", port))
            finally:
                s.close()


@test(netsetup=True)
def netsetup_cli_like_the_tools(ctx):
    """GNU-style options: --opt=value as well as --opt value; -h/--help
    for each command (exit 0, its own usage); -v/--version; down needs
    only --bridge (the uplink comes from the state file, and an --uplink
    that is not the bridge's is a warning, not obeyed)."""
    t = Topo(ctx)
    for argv, want in ((["--help"], "Usage: strait-netsetup COMMAND"),
                       (["up", "--help"], "--no-input-rules"),
                       (["down", "-h"], "Usage: strait-netsetup down"),
                       (["status", "--help"], "--json"),
                       (["watch", "-h"], "--publish-file"),
                       (["exec", "--help"], "-use-listen-fd"),
                       (["help", "check"], "strait-netsetup check")):
        r = t.netsetup(*argv)
        check(want in r.stdout and not r.stderr, "%s: %r" % (argv, r.stdout))
    for argv in (["-v"], ["--version"]):
        r = t.netsetup(*argv)
        check(re.match(r"strait-netsetup version \d", r.stdout),
              "%s: %r" % (argv, r.stdout))
    r = t.netsetup("up", "--frob", ok=False)
    check(r.returncode == 2 and "strait-netsetup up --help" in r.stderr,
          "an unknown option: %r" % r.stderr)
    before = sysctls()
    t.netsetup("up", "--bridge=br0", "--uplink=eth0",
               "--publish=tcp:198.51.100.1:8080")
    check(read("/proc/sys/net/ipv4/conf/eth0/forwarding") == "1",
          "--uplink=eth0 not taken")
    r = t.netsetup("down", "--bridge", "br0", "--uplink", "cli0")
    check("--uplink cli0 ignored" in r.stderr and "uplink eth0" in r.stderr,
          "down with another --uplink: %r" % r.stderr)
    check(sysctls() == before, "down did not restore eth0 from the state")
    t.netsetup("up", *UP)
    t.netsetup("down", "--bridge=br0")
    check(sysctls() == before, "down --bridge=br0 alone did not restore")
    check(not os.listdir(t.state), "state file left")


@test(netsetup=True)
def netsetup_check_prints_only_changes(ctx):
    """check prints what up would apply: the sysctls it would change
    (none once up has run, and those an earlier up set that it would put
    back), and the rules; never a write that changes nothing."""
    t = Topo(ctx)
    r = t.netsetup("check", *UP)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("sysctl")]
    check(len(lines) == 3 and all(ln.endswith("0 -> 1") for ln in lines),
          "check before up:\n%s" % r.stdout)
    t.netsetup("up", *UP)
    r = t.netsetup("check", *UP)
    check("sysctl" not in r.stdout, "check after up lists writes that "
          "change nothing:\n%s" % r.stdout)
    check('ip saddr 203.0.113.0/24 oifname "eth0" masquerade' in r.stdout,
          "check after up lacks the rules:\n%s" % r.stdout)
    r = t.netsetup("check", "--bridge", "br0", "--uplink", "cli0")
    check("sysctl net.ipv4.conf.cli0.forwarding: 0 -> 1" in r.stdout and
          "sysctl net.ipv4.conf.eth0.forwarding: 1 -> 0 (put back"
          in r.stdout, "check with another uplink:\n%s" % r.stdout)
    t.netsetup("down", "--bridge", "br0")


def _as_nobody(t, *args, env=None):
    nobody = pwd.getpwnam("nobody")
    return subprocess.run([t.ctx.netsetup, *args], capture_output=True,
                          text=True, timeout=30, user=nobody.pw_uid,
                          group=nobody.pw_gid, extra_groups=[],
                          env=env or dict(os.environ,
                                          STRAIT_STATE_DIR=t.state))


@test(netsetup=True)
def netsetup_must_be_root(ctx):
    """Run as an ordinary user, every command that touches the firewall
    or binds says it must be run as root (exit 1), not the EPERM of
    whatever it tried first."""
    t = Topo(ctx)
    for cmd, args in (("up", UP), ("check", UP), ("down", UP[:2])):
        r = _as_nobody(t, cmd, *args)
        check(r.returncode == 1 and
              "%s must be run as root" % cmd in r.stderr,
              "%s as nobody: exit %d: %r" % (cmd, r.returncode, r.stderr))
    r = _as_nobody(t, "exec", "tcp:198.51.100.1:8080", "--",
                   ctx.proxy_bin, "-version")
    check(r.returncode == 1 and "exec must be run as root" in r.stderr,
          "exec as nobody: exit %d: %r" % (r.returncode, r.stderr))
    r = _as_nobody(t, "up", "--help")
    check(r.returncode == 0, "help needs no root")


@test(netsetup=True)
def netsetup_exec_errors(ctx):
    """exec looks PROGRAM up on PATH as root, before it drops to nobody:
    a program that is nowhere is "not found" (exit 2, nothing bound), not
    the "Permission denied" of a PATH entry nobody cannot search; one
    found on PATH runs; every error names the PROTO:HOSTIP:PORT given."""
    t = Topo(ctx)
    t.serve("ctr", "203.0.113.2", 80)
    shut = tempfile.mkdtemp(prefix="strait-noaccess-")
    ctx.sb.on_exit(lambda: shutil.rmtree(shut, ignore_errors=True))
    os.chmod(shut, 0o700)
    spec = "tcp:198.51.100.1:8080"
    env = dict(os.environ, STRAIT_STATE_DIR=t.state,
               PATH=shut + ":" + os.environ["PATH"])
    r = subprocess.run([ctx.netsetup, "exec", spec, "--",
                        "strait-no-such-proxy", "-use-listen-fd"],
                       capture_output=True, text=True, timeout=30, env=env)
    check(r.returncode == 2 and "not found on PATH" in r.stderr and
          spec in r.stderr, "a missing program: exit %d: %r"
          % (r.returncode, r.stderr))
    # found on PATH (and only there), it serves
    env["PATH"] = shut + ":" + os.path.dirname(ctx.proxy_bin)
    p = Proc([ctx.netsetup, "exec", spec, "--", "strait-proxy", "-proto",
              "tcp", "-host-ip", "198.51.100.1", "-host-port", "8080",
              "-container-ip", "203.0.113.2", "-container-port", "80",
              "-use-listen-fd"], env=env)
    ctx.sb.spawn(p)
    ctx.procs.append(p)
    check(p.ready() == b"0\n", "proxy found on PATH: %s" % p.stderr())
    got = t.reach("cli", "198.51.100.1", 8080, 5)
    check(got == "203.0.113.1", "through the proxy: %r" % got)
    # the port is taken now: the bind error names the spec
    r = subprocess.run([ctx.netsetup, "exec", spec, "--", ctx.proxy_bin,
                        "-use-listen-fd"], capture_output=True, text=True,
                       timeout=30, env=env)
    check(r.returncode == 1 and r.stderr.startswith(
        "strait-netsetup: exec %s: " % spec) and "in use" in r.stderr,
        "a taken port: exit %d: %r" % (r.returncode, r.stderr))
    p.signal(15)
    check(p.wait(5) == 0, "proxy exit")
    # a user name with a newline: exit 2, one line, the name escaped
    r = subprocess.run([ctx.netsetup, "exec", "--user", "no\nbody",
                        "tcp:198.51.100.1:8081", "--", ctx.proxy_bin],
                       capture_output=True, text=True, timeout=30, env=env)
    check(r.returncode == 2 and r.stderr == "strait-netsetup: exec "
          "tcp:198.51.100.1:8081: unknown user: no\\nbody\n",
          "a user name with a newline: exit %d: %r"
          % (r.returncode, r.stderr))


# the other netsetup test modules (until run.py imports them itself)
import tests_netsetup_fw  # noqa: E402,F401 (registers its tests)
import tests_netsetup_status  # noqa: E402,F401 (registers its tests)
import tests_netsetup_watch  # noqa: E402,F401 (registers its tests)
