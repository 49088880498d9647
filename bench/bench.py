#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: strait side by side with its peers, on this machine, now.

    bench.py [--quick | --smoke] [--reps N] [--secs S] [--hold N]
             [--out DIR] [--build DIR] [--nosandbox DIR] [--only TEXT]
             [--subjects A,B]
    bench.py --replot RESULTS.csv

Two networks, in namespaces made here and removed on exit (even on
failure):

    veth:  client 198.51.100.2 (.3) --veth-- 198.51.100.1 [host]
               203.0.113.1 --veth-- container 203.0.113.2 (echod, iperf3)
    lo:    one namespace; client, subject and servers all on 127.0.0.1

Placements (PLACEMENTS) say which network and which CPUs; the memory
figures (idle, many ports, a burst of held connections) are taken last,
on veth.

Every subject listens on the front address (198.51.100.1, or 127.0.0.1)
at the container's port + 1000 and forwards to the container: direct (no
proxy: the client talks to the container, routed by the host), kernel DNAT
(what --userland-proxy=false gives), docker-proxy, socat, HAProxy (one
thread; and with splice), systemd-socket-proxyd, strait-proxy (and with
-no-splice, built without its sandbox, and with -transparent). Figures are
medians of the repetitions with min-max, and every ratio compares figures
of the same run: the machine is shared and noisy, ratios hold better than
absolutes. report.py writes the tables, charts.py the pictures.
"""
import argparse
import datetime
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import charts
import report

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PID = os.getpid()
NS = {r: "strait-b%d-%s" % (PID, r) for r in ("cli", "host", "ctr", "lo")}
# container ports: tcp echo, udp echo, udp sink, iperf3
P_TCP, P_UDP, P_SINK, P_IPERF = 5000, 5001, 5002, 5201
OFFSET = 1000  # host ports = container ports + OFFSET
DOCKER_PROXY = "/usr/sbin/docker-proxy"
PROXYD = "/lib/systemd/systemd-socket-proxyd"
# every process the bench starts may hold as many fds as the hard limit
# allows (raising it needs CAP_SYS_RESOURCE, which this VM does not give:
# 20000 here; dockerd's own unit gives its proxies more)
NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
# transparent mode's host routing (as tests/blackbox/tests_transparent.py)
TP_MARK, TP_TABLE = "0x2a", "142"
# the client's address; transparent mode's clients come from a second
# one: its proxy leaves TIME_WAIT sockets bound to its clients' addresses
# and ports in the host namespace, and the host's early demux would hand
# those sockets the forwarded packets of any later connection on the same
# address and port (direct, kernel DNAT)
CLIENT, CLIENT_TP = "198.51.100.2", "198.51.100.3"


class Net:
    """Where the roles live: namespace per role, front and back address."""

    def __init__(self, name, roles, front, back):
        self.name, self.roles, self.front, self.back = name, roles, front, \
            back


NETS = {
    "veth": Net("veth", {"cli": "cli", "host": "host", "ctr": "ctr"},
                "198.51.100.1", "203.0.113.2"),
    "lo": Net("lo", {"cli": "lo", "host": "lo", "ctr": "lo"},
              "127.0.0.1", "127.0.0.1"),
}
NET = NETS["veth"]

# Placements: which network, and which CPUs (taskset) per role.
# "shared": the scheduler places everything, as on a busy host; client,
# subject and server fight over the two vCPUs. "pinned": the subject has
# CPU 1 to itself, the load generator and the container's servers share
# CPU 0: what the subject can carry when it is not the one starved.
# "1cpu": all three on CPU 1: latency is then the cost of the path itself,
# with no wake-up of an idle vCPU in it (on this VM that alone takes about
# 90 us, more than any subject adds). "lo": shared CPUs, one namespace,
# everything on 127.0.0.1: a host-local client of a published port.
# "apart": the container's server alone on CPU 1, client and subject on
# CPU 0: UDP loss when the receiving server is not the one starved (on two
# vCPUs, shared, three busy processes leave the server short of CPU for
# whole milliseconds, and it is the one that drops).
PLACEMENTS = {
    "shared": ("veth", {}),
    "pinned": ("veth", {"proxy": "1", "load": "0", "server": "0"}),
    "1cpu": ("veth", {"proxy": "1", "load": "1", "server": "1"}),
    "lo": ("lo", {}),
    "apart": ("veth", {"proxy": "0", "load": "0", "server": "1"}),
}
PLACE = {}


def on_cpu(role):
    cpu = PLACE.get(role)
    return ["taskset", "-c", cpu] if cpu else []


def nsexec(role):
    return ["ip", "netns", "exec", NS[NET.roles[role]]]


def raise_nofile():
    """preexec_fn: the fd limit every process started here gets"""
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def sh(*argv, ns=None, ok=True, timeout=120, role=None, **kw):
    """Run @argv in role @ns's namespace of the current network."""
    cmd = (nsexec(ns) if ns else []) + on_cpu(role) + list(argv)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       preexec_fn=raise_nofile, **kw)
    if ok and r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def nft(rules, ns):
    sh("nft", "-f", "-", ns=ns, input="\n".join(rules) + "\n")


class Topo:
    def __init__(self):
        self.procs = []
        self.echo = {}  # net name -> tcp echod process
        self.live = set()  # subjects with processes

    def up(self):
        for n in NS.values():
            sh("ip", "netns", "add", n)
            sh("ip", "-n", n, "link", "set", "lo", "up")
        h, c, k = NS["host"], NS["cli"], NS["ctr"]
        sh("ip", "-n", h, "link", "add", "cli0", "type", "veth", "peer",
           "name", "eth0", "netns", c)
        sh("ip", "-n", h, "link", "add", "ctr0", "type", "veth", "peer",
           "name", "eth0", "netns", k)
        for ns, dev, addr in ((h, "cli0", "198.51.100.1/24"),
                              (h, "ctr0", "203.0.113.1/24"),
                              (c, "eth0", CLIENT + "/24"),
                              (c, "eth0", CLIENT_TP + "/24"),
                              (k, "eth0", "203.0.113.2/24")):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev,
               *(["secondary"] if addr.startswith(CLIENT_TP) else []))
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", c, "route", "add", "default", "via", "198.51.100.1")
        sh("ip", "-n", k, "route", "add", "default", "via", "203.0.113.1")
        sh("ip", "netns", "exec", h, "sysctl", "-qw",
           "net.ipv4.conf.cli0.forwarding=1",
           "net.ipv4.conf.ctr0.forwarding=1")
        # the connection-rate tests open tens of thousands of connections:
        # let TIME_WAIT ports be reused rather than run out, and keep the
        # ports the bench listens on out of the ephemeral range (on
        # loopback a client's TIME_WAIT socket on port 6000 would keep a
        # proxy from binding it) (these are the bench's own namespaces)
        for n in (c, h, NS["lo"]):
            sh("ip", "netns", "exec", n, "sysctl", "-qw",
               "net.ipv4.ip_local_port_range=1024 65000",
               "net.ipv4.ip_local_reserved_ports=5000-9999",
               "net.ipv4.tcp_tw_reuse=1")
        for name, net in NETS.items():
            use(net)
            self.echo[name] = self.server(["echod", "tcp", net.back,
                                           str(P_TCP)])
            self.server(["echod", "udp", net.back, str(P_UDP)])
        use(NETS["veth"])

    def spawn(self, role, argv, cpu="server", **kw):
        p = subprocess.Popen(nsexec(role) + on_cpu(cpu) + argv,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True,
                             preexec_fn=raise_nofile, **kw)
        self.procs.append(p)
        return p

    def server(self, argv):
        argv = [os.path.join(BUILD, argv[0])] + argv[1:]
        p = self.spawn("ctr", argv)
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("server did not start: %s" % argv)
        return p

    def down(self):
        for s in list(self.live):
            s.stop()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)
        for n in NS.values():
            subprocess.run(["ip", "netns", "del", n], timeout=10,
                           stderr=subprocess.DEVNULL)


def use(net):
    global NET
    NET = net


# ---- subjects --------------------------------------------------------------

class Subject:
    """Something between client and container, started per placement."""
    name = "?"
    udp = True    # forwards UDP
    cpu = True    # its own processes do the work (CPU can be counted)
    nets = ("veth", "lo")
    conn_fds = 2  # fds a held TCP connection costs it
    src = None    # the load generator's source address, if not the route's

    def __init__(self, topo):
        self.topo = topo
        self.procs = []

    def addr(self, port):
        return NET.front, port + OFFSET

    def start(self, ports, udp_ports):
        pass

    def stop(self):
        """SIGTERM (SIGINT may be ignored: a shell's background job starts
        with it ignored, and its children inherit that) to every process
        at once; SIGKILL to those still there 5 s later"""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.procs = []
        self.topo.live.discard(self)

    def pids(self, proto=None):
        """PIDs of the proxy processes themselves (ip netns exec execs
        them); with @proto, of those serving that protocol only, where a
        subject runs a process per protocol."""
        return [p.pid for p in self.procs if p.poll() is None and
                (proto is None or getattr(p, "proto", proto) == proto)]

    def popen(self, argv, **kw):
        p = subprocess.Popen(nsexec("host") + on_cpu("proxy") + argv,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        self.topo.live.add(self)  # stopped by Topo.down if not before
        return p


class Direct(Subject):
    name = "direct"
    cpu = False

    def addr(self, port):
        return NET.back, port


class Dnat(Subject):
    """nft dnat: in prerouting on veth; on loopback the packets are the
    host's own, so in output (no route_localnet needed: the destination
    stays 127.0.0.1)"""
    name = "kernel-dnat"
    cpu = False

    def start(self, ports, udp_ports):
        hook = "output" if NET.name == "lo" else "prerouting"
        rules = ["table ip bench {",
                 " chain nat { type nat hook %s priority -100;" % hook]
        for proto, plist in (("tcp", ports), ("udp", udp_ports)):
            for p in plist:
                rules.append("  ip daddr %s %s dport %d dnat to %s:%d"
                             % (NET.front, proto, p + OFFSET, NET.back, p))
        nft(rules + [" }", "}"], "host")

    def stop(self):
        sh("nft", "delete", "table", "ip", "bench", ns="host", ok=False)


class ProxyPerPort(Subject):
    """docker-proxy / strait-proxy: one process per port and protocol,
    started with docker's argv and a readiness pipe on fd 3."""
    binary = None
    extra = ()

    def one(self, proto, port, n=1):
        r, w = os.pipe()
        hp, cp = str(port + OFFSET), str(port)
        if n > 1:  # a range, in one process (strait only)
            hp += "-%d" % (port + OFFSET + n - 1)
            cp += "-%d" % (port + n - 1)
        argv = [self.binary, "-proto", proto, "-host-ip", NET.front,
                "-host-port", hp, "-container-ip", NET.back,
                "-container-port", cp, *self.extra]

        def child():
            raise_nofile()
            os.dup2(w, 3)  # w is not inheritable; the copy on fd 3 is
        p = self.popen(argv, close_fds=False, preexec_fn=child)
        os.close(w)
        got = b""
        while not got.startswith(b"0\n"):  # or "1\n" and why, then EOF
            b = os.read(r, 512)
            if not b:
                break
            got += b
        os.close(r)
        if not got.startswith(b"0\n"):
            raise RuntimeError("%s did not start: %r" % (self.name, got))
        p.proto = proto

    def start(self, ports, udp_ports):
        for p in ports:
            self.one("tcp", p)
        for p in udp_ports:
            self.one("udp", p)


class DockerProxy(ProxyPerPort):
    name = "docker-proxy"
    binary = DOCKER_PROXY
    conn_fds = 6  # Go's splice holds a pipe per direction while it copies


class Strait(ProxyPerPort):
    name = "strait"

    @property
    def binary(self):
        return os.path.join(BUILD, "strait-proxy")


class Floor(Strait):
    """Memory only: bench/floor.c, a C program that does nothing but say
    ready, linked as strait-proxy is: floor-static where the build's
    proxy is a static PIE (the default), floor in a LINK=dynamic build"""
    name = "c-floor"

    @property
    def binary(self):
        static = os.path.join(BUILD, "floor-static")
        return static if os.path.exists(static) else \
            os.path.join(BUILD, "floor")


class StraitRange(Strait):
    """Memory only: all the ports in one process, -host-port FIRST-LAST"""
    name = "strait-range"

    def start(self, ports, udp_ports):
        self.one("tcp", ports[0], len(ports))


class StraitCopy(Strait):
    name = "strait-no-splice"
    extra = ("-no-splice",)
    udp = False


class StraitNoSandbox(Strait):
    """strait-proxy built with make SANDBOX=0 (no Landlock, no seccomp
    filter): what the sandbox costs, measured in the same run"""
    name = "strait-no-sandbox"

    @property
    def binary(self):
        return os.path.join(NOSANDBOX, "strait-proxy")


class StraitTransparent(Strait):
    """-transparent: the container sees the client's own address. The
    host's routing for it (a mark for packets of transparent sockets, a
    rule and a local route for marked packets) is set by hand in the host
    namespace while this subject runs, and removed with it: the socket
    lookup of the mark rule must not tax the other subjects."""
    name = "strait-transparent"
    extra = ("-transparent",)
    udp = False
    nets = ("veth",)
    src = CLIENT_TP

    def start(self, ports, udp_ports):
        sh("ip", "rule", "add", "fwmark", TP_MARK, "lookup", TP_TABLE,
           ns="host")
        sh("ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table",
           TP_TABLE, ns="host")
        nft(["table ip bench_tp {",
             " chain pre { type filter hook prerouting priority mangle;",
             "  socket transparent 1 meta mark set %s" % TP_MARK, " }", "}"],
            "host")
        Strait.start(self, ports, udp_ports)
        if P_TCP in ports:
            self.check_peer()

    def check_peer(self):
        """One connection held open: the container must see the client's
        address, or every figure here would be plain strait's."""
        host, port = self.addr(P_TCP)
        with Hold(self.topo, host, port, 1, 10, self.src) as h:
            if h.held != 1:
                raise RuntimeError("transparent: no connection")
            seen = sh("ss", "-Htn", "state", "established", "( sport = :%d )"
                      % P_TCP, ns="ctr").stdout
        if CLIENT_TP not in seen:
            raise RuntimeError("transparent: the container saw %r" % seen)

    def stop(self):
        Strait.stop(self)
        sh("nft", "delete", "table", "ip", "bench_tp", ns="host", ok=False)
        sh("ip", "rule", "del", "fwmark", TP_MARK, "lookup", TP_TABLE,
           ns="host", ok=False)
        sh("ip", "route", "flush", "table", TP_TABLE, ns="host", ok=False)


class Socat(Subject):
    name = "socat"
    udp = False
    cpu = False  # work is done in forked children

    def start(self, ports, udp_ports):
        for p in ports:
            self.popen(["socat", "TCP-LISTEN:%d,bind=%s,reuseaddr,fork" % (
                p + OFFSET, NET.front), "TCP:%s:%d" % (NET.back, p)])
        wait_listen(ports)


class Haproxy(Subject):
    name = "haproxy"
    udp = False
    splice = False
    maxconn = 4000

    def start(self, ports, udp_ports):
        cfg = ["global", "  nbthread 1", "  maxconn %d" % self.maxconn,
               "defaults", "  mode tcp", "  timeout connect 5s",
               "  timeout client 60s", "  timeout server 60s"]
        if self.splice:
            cfg.append("  option splice-auto")
        for p in ports:
            cfg += ["listen p%d" % p, "  bind %s:%d" % (NET.front,
                                                        p + OFFSET),
                    "  server c %s:%d" % (NET.back, p)]
        self.cfgfile = tempfile.NamedTemporaryFile("w", suffix=".cfg",
                                                   delete=False)
        self.cfgfile.write("\n".join(cfg) + "\n")
        self.cfgfile.close()
        self.popen(["haproxy", "-db", "-f", self.cfgfile.name],
                   preexec_fn=raise_nofile)
        wait_listen(ports)

    def stop(self):
        Subject.stop(self)
        if getattr(self, "cfgfile", None):
            os.unlink(self.cfgfile.name)
            self.cfgfile = None


class HaproxySplice(Haproxy):
    name = "haproxy-splice"
    splice = True


class SocketProxyd(Subject):
    """systemd-socket-proxyd (splice, one process), socket-activated per
    port: systemd-socket-activate binds, waits for the first connection
    and execs the proxy in its place; a first connection is made here so
    that every figure, memory included, is socket-proxyd's own."""
    name = "socket-proxyd"
    udp = False
    conn_fds = 6  # a pipe per direction, for the connection's life

    def start(self, ports, udp_ports):
        for p in ports:
            self.popen(["systemd-socket-activate", "-l", "%s:%d" % (
                NET.front, p + OFFSET), PROXYD, "--connections-max=20000",
                "%s:%d" % (NET.back, p)], preexec_fn=raise_nofile)
        wait_listen(ports)
        first = 0
        for i in range(1, len(ports) + 1):  # by runs of consecutive ports
            if i == len(ports) or ports[i] != ports[i - 1] + 1:
                sh(os.path.join(BUILD, "loadgen"), "tcp-touch", NET.front,
                   str(ports[first] + OFFSET), "5", str(i - first),
                   ns="cli")
                first = i
        deadline = time.monotonic() + 10
        while not all(exe(pid) == os.path.realpath(PROXYD)
                      for pid in self.pids()):
            if time.monotonic() > deadline:
                raise RuntimeError("socket-proxyd was not started")
            time.sleep(0.02)


def exe(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def wait_listen(ports):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = sh("ss", "-Htln", ns="host").stdout
        if all(":%d " % (p + OFFSET) in out for p in ports):
            return
        time.sleep(0.05)
    raise RuntimeError("listeners did not come up")


SUBJECTS = [Direct, Dnat, DockerProxy, Socat, Haproxy, HaproxySplice,
            SocketProxyd, Strait, StraitCopy, StraitNoSandbox,
            StraitTransparent]


# ---- measurements --------------------------------------------------------

def cpu_of(pids):
    total = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def lg_env(src):
    return dict(os.environ, LOADGEN_SRC=src) if src else None


def loadgen(*args, timeout=120, src=None):
    r = sh(os.path.join(BUILD, "loadgen"), *map(str, args), ns="cli",
           timeout=timeout, role="load", env=lg_env(src))
    return [float(x) for x in r.stdout.split()]


class Hold:
    """loadgen tcp-hold: @n connections held open until the block ends"""

    def __init__(self, topo, host, port, n, secs, src=None):
        self.p = topo.spawn("cli", [os.path.join(BUILD, "loadgen"),
                                    "tcp-hold", host, str(port), str(secs),
                                    str(n)], cpu="load",
                            stdin=subprocess.PIPE, env=lg_env(src))
        self.secs = secs

    def __enter__(self):
        line = self.p.stdout.readline().split()
        if len(line) != 4 or line[0] != "held":
            self.close()
            raise RuntimeError("loadgen tcp-hold: %r" % line)
        self.held, self.fails = int(line[1]), int(line[3])
        return self

    def close(self):
        self.p.stdin.close()
        try:
            self.p.wait(self.secs + 10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)

    def __exit__(self, *exc):
        self.close()


def iperf_server(topo):
    """A fresh one-test iperf3 server: a test that went wrong can never
    leave the next one facing a busy server."""
    p = topo.spawn("ctr", ["iperf3", "-s", "-1", "-B", NET.back, "-p",
                           str(P_IPERF)])
    deadline = time.monotonic() + 10
    while ":%d " % P_IPERF not in sh("ss", "-Htln", ns="ctr").stdout:
        if time.monotonic() > deadline:
            raise RuntimeError("iperf3 server did not start")
        time.sleep(0.05)
    return p


def iperf3(s, secs, *args):
    """One iperf3 client run against a fresh server; its JSON "end" """
    host, port = s.addr(P_IPERF)
    server = iperf_server(s.topo)
    # iperf3 takes whole seconds (0 would mean "forever")
    t = max(1, int(secs + 0.5))
    try:
        r = sh("iperf3", "-c", host, "-p", str(port), "-t", str(t), *args,
               "-J", ns="cli", timeout=t + 30, ok=False, role="load")
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)
    d = json.loads(r.stdout)
    if "error" in d:
        raise RuntimeError("iperf3: %s" % d["error"])
    return d["end"]


def m_tcp_bulk(s, secs, streams):
    c0 = cpu_of(s.pids("tcp"))
    d = iperf3(s, secs, "-P", str(streams))["sum_received"]
    cpu = cpu_of(s.pids("tcp")) - c0
    gb = d["bytes"] / 1e9
    out = {"gbit_s": d["bits_per_second"] / 1e9}
    if s.cpu and streams == 1:
        out["cpu_s_per_gb"] = cpu / gb if gb else 0
    return out


def m_tcp_rr(s, secs):
    host, port = s.addr(P_TCP)
    n, p50, p99 = loadgen("tcp-rr", host, port, secs, src=s.src)
    return {"rr_p50_us": p50, "rr_p99_us": p99}


def m_tcp_cr(s, secs, conc):
    """Connection rate; the CPU each connection costs the proxy (its own
    processes) and the whole path (load generator + proxy + echo server:
    on veth and loopback the kernel's packet work runs in the sending
    process's context, so kernel DNAT's cost shows there too)"""
    host, port = s.addr(P_TCP)
    server = [s.topo.echo[NET.name].pid]
    p0, s0 = cpu_of(s.pids("tcp")), cpu_of(server)
    n, rate, p50, p99, fails, lg_cpu = loadgen("tcp-cr", host, port, secs,
                                               conc, src=s.src)
    proxy, srv = cpu_of(s.pids("tcp")) - p0, cpu_of(server) - s0
    out = {"conn_s": rate, "conn_p50_us": p50, "conn_p99_us": p99}
    if n and s.cpu:
        out["cpu_us_per_conn"] = proxy * 1e6 / n
    if n and (s.cpu or not s.pids()):
        out["path_cpu_us_per_conn"] = (lg_cpu + proxy + srv) * 1e6 / n
    if conc > 1 and s.pids("tcp"):
        out["peak_rss_kb"] = sum(status_kb(pid, "VmHWM") for pid in
                                 s.pids("tcp"))
    return out


def m_udp_blast(s, secs, mbps):
    host, port = s.addr(P_SINK)
    sink = s.topo.server(["echod", "sink", NET.back, str(P_SINK)])
    try:
        sent = loadgen("udp-blast", host, port, secs, mbps, 1400)[0]
        time.sleep(0.3)
    finally:
        sink.send_signal(signal.SIGTERM)
        got = float(sink.stdout.readline() or 0)
        sink.wait(10)
    return {"offered_mbit_s": sent * 1400 * 8 / secs / 1e6,
            "delivered_mbit_s": got * 1400 * 8 / secs / 1e6,
            "loss_pct": 100.0 * (1 - got / sent) if sent else 0}


def m_udp_iperf(s, secs):
    """iperf3's own UDP test at 1 Gbit/s: it paces by a 1 ms timer, so the
    datagrams come in bursts of about 90 (what a real sender does more
    than loadgen's smooth pacing); loss as counted by the iperf3 server"""
    c0 = cpu_of(s.pids("udp"))
    end = iperf3(s, secs, "-u", "-b", "1G", "-l", "1400")
    proxy = cpu_of(s.pids("udp")) - c0
    e, cpu = end["sum"], end.get("cpu_utilization_percent", {})
    got = e["packets"] - e["lost_packets"]
    out = {"delivered_mbit_s": got * 1400 * 8 / e["seconds"] / 1e6,
           "loss_pct": e["lost_percent"]}
    # where the two vCPUs went (% of one): iperf3's own figures for its
    # client and server, ours for the proxy (over the whole run, a little
    # longer than iperf3's seconds: an upper bound)
    if "host_total" in cpu and "remote_total" in cpu:
        out["client_cpu_pct"] = cpu["host_total"]
        out["server_cpu_pct"] = cpu["remote_total"]
        out["proxy_cpu_pct"] = proxy * 100 / e["seconds"]
        out["path_cpu_pct"] = sum(out[k] for k in (
            "client_cpu_pct", "server_cpu_pct", "proxy_cpu_pct"))
    return out


def m_udp_rr(s, secs):
    host, port = s.addr(P_UDP)
    n, p50, p99, lost = loadgen("udp-rr", host, port, secs)
    return {"udp_rr_p50_us": p50, "udp_rr_p99_us": p99}


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rollup_kb(pid, *keys):
    """Sum of @keys in /proc/PID/smaps_rollup"""
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.split(":")[0] in keys:
                total += int(line.split()[1])
    return total


def rss(pids):
    return sum(status_kb(p, "VmRSS") for p in pids)


def m_memory(cls, topo, nprocs):
    s = cls(topo)
    ports = [7000 + i for i in range(nprocs)]
    try:
        s.start(ports, [])
        time.sleep(SETTLE)
        pids = s.pids()
        return {"rss_kb": rss(pids),
                "pss_kb": sum(rollup_kb(p, "Pss") for p in pids),
                "uss_kb": sum(rollup_kb(p, "Private_Clean", "Private_Dirty")
                              for p in pids)}
    finally:
        s.stop()


def fds(pids):
    total = 0
    for p in pids:
        try:
            total += len(os.listdir("/proc/%d/fd" % p))
        except OSError:
            pass
    return total


def m_burst(cls, topo, n, secs=60):
    """RSS idle, while @n connections are held through the proxy, and 2 s
    after they all closed: is the memory of a burst given back?"""
    s = cls(topo)
    if isinstance(s, Haproxy):
        s.maxconn = n + 1000  # HAProxy refuses past maxconn
    try:
        s.start([P_TCP], [])
        time.sleep(SETTLE)
        pids = s.pids("tcp")
        out = {"rss_idle_kb": rss(pids)}
        fd0 = fds(pids)
        host, port = s.addr(P_TCP)
        with Hold(topo, host, port, n, secs) as h:
            time.sleep(SETTLE)
            out["rss_held_kb"] = rss(pids)
            out["held"] = h.held
            if h.held:
                out["fds_per_conn"] = (fds(pids) - fd0) / h.held
        time.sleep(AFTER)
        out["rss_after_kb"] = rss(pids)
        if h.held:
            out["kb_per_conn"] = (out["rss_held_kb"] - out["rss_idle_kb"]) \
                / h.held
        return out
    finally:
        s.stop()


# ---- driver ----------------------------------------------------------------

CEIL = ("direct", "kernel-dnat")
FEW = CEIL + ("docker-proxy", "haproxy", "strait")
UDP = CEIL + ("docker-proxy", "strait")
TCP = FEW + ("socket-proxyd",)
# the sandbox's cost, where a syscall more or less per packet could show
NOSB = ("strait-no-sandbox",)
TP = ("strait-transparent",)


def scenarios(secs):
    """(name, placement, function(subject) -> dict, subject names)"""
    def bulk(n):
        return lambda s: m_tcp_bulk(s, secs, n)

    def cr(n):
        return lambda s: m_tcp_cr(s, secs, n)

    def blast(mbps):
        return lambda s: m_udp_blast(s, secs, mbps)

    def rr(s):
        return m_tcp_rr(s, secs)

    def urr(s):
        return m_udp_rr(s, secs)

    def ip(s):
        return m_udp_iperf(s, secs)
    return [
        ("tcp_bulk_1", "shared", bulk(1), TCP + NOSB + (
            "socat", "haproxy-splice", "strait-no-splice")),
        ("tcp_bulk_4", "shared", bulk(4), TCP + ("haproxy-splice",)),
        ("tcp_rr", "shared", rr, TCP + NOSB + TP),
        ("tcp_cr_1", "shared", cr(1), TCP + NOSB + TP),
        ("tcp_cr_32", "shared", cr(32), TCP + NOSB + TP + ("socat",)),
        ("udp_1g", "shared", blast(1000), UDP),
        ("udp_max", "shared", blast(0), UDP),
        ("udp_1g_iperf3", "shared", ip, UDP + NOSB),
        ("udp_rr", "shared", urr, UDP + NOSB),
        ("tcp_bulk_1.pinned", "pinned", bulk(1), FEW),
        ("tcp_cr_32.pinned", "pinned", cr(32), FEW),
        ("udp_1g.pinned", "pinned", blast(1000), UDP),
        ("udp_max.pinned", "pinned", blast(0), UDP),
        ("tcp_rr.1cpu", "1cpu", rr, FEW + TP),
        ("udp_rr.1cpu", "1cpu", urr, UDP),
        ("tcp_cr_1.lo", "lo", cr(1), TCP + NOSB),
        ("tcp_cr_32.lo", "lo", cr(32), TCP),
        ("tcp_rr.lo", "lo", rr, TCP),
        ("udp_1g_iperf3.lo", "lo", ip, UDP + NOSB),
        ("udp_1g_iperf3.apart", "apart", ip, UDP),
    ]


def place(topo, name):
    """Subjects started from here on run in the network and on the CPUs
    placement @name says; the long-running servers move there now."""
    net, cpus = PLACEMENTS[name]
    use(NETS[net])
    PLACE.clear()
    PLACE.update(cpus)
    allowed = {int(PLACE["server"])} if "server" in PLACE else \
        set(range(os.cpu_count()))
    for p in topo.procs:
        if p.poll() is None:
            os.sched_setaffinity(p.pid, allowed)


# --smoke (make test): every kind of measurement once, in seconds; the
# subjects besides direct and strait in one scenario only
SMOKE = ("tcp_bulk_1", "tcp_rr", "tcp_cr_1", "tcp_cr_32", "udp_1g",
         "udp_1g_iperf3", "udp_rr", "tcp_rr.1cpu", "tcp_cr_1.lo")


def wanted(scen, cls):
    if not SMOKE_RUN:
        return True
    if cls.name in ("direct", "strait", "strait-range"):
        return scen in SMOKE or scen.startswith("mem_")
    return scen in ("tcp_cr_1", "mem_idle_1")


def run_all(subjects, reps, secs, topo, log):
    results = {}  # (scenario, subject, metric) -> [values]
    for rep in range(reps):
        for where in PLACEMENTS:
            todo = [x for x in scenarios(secs)
                    if x[1] == where and ONLY in x[0]]
            if not todo:
                continue
            place(topo, where)
            for cls in subjects:
                mine = [x for x in todo if cls.name in x[3]
                        and wanted(x[0], cls)]
                if mine and NET.name in cls.nets:
                    run_subject(cls, mine, topo, rep, results, log)
    return results


def run_subject(cls, todo, topo, rep, results, log):
    s = cls(topo)
    try:
        s.start([P_TCP, P_IPERF], [P_UDP, P_SINK, P_IPERF] if cls.udp
                else [])
    except Exception as e:  # recorded, the run goes on
        log("  %s: FAILED to start: %s" % (cls.name, e))
        s.stop()
        return
    try:
        for name, where, fn, names in todo:
            t0 = time.monotonic()
            try:
                vals = fn(s)
            except Exception as e:  # recorded, the run goes on
                log("  %s %s: FAILED %s" % (cls.name, name, e))
                continue
            for k, v in vals.items():
                results.setdefault((name, cls.name, k), []).append(v)
            log("  rep %d %-18s %-17s %s (%.1fs)" % (
                rep + 1, cls.name, name, " ".join(
                    "%s=%.4g" % kv for kv in vals.items()),
                time.monotonic() - t0))
    finally:
        s.stop()


def run_memory(topo, reps, n_many, n_hold, subjects, log):
    """Idle memory of one port and of @n_many ports, and the burst of
    @n_hold connections; veth network, shared CPUs."""
    results = {}
    place(topo, "shared")
    names = {c.name for c in subjects}
    idle = [c for c in (DockerProxy, Haproxy, Socat, SocketProxyd, Strait,
                        StraitNoSandbox, StraitRange, Floor)
            if c.name in names or c in (Floor, StraitRange)
            and Strait in subjects]
    burst = [c for c in BURST if c in subjects]

    def keep(label, cls, vals):
        for k, v in vals.items():
            results.setdefault((label, cls.name, k), []).append(v)
        log("  rep %d %-18s %-17s %s" % (rep + 1, cls.name, label, " ".join(
            "%s=%.4g" % kv for kv in vals.items())))
    for rep in range(reps):
        for cls in idle:
            for label, n in (("mem_idle_1", 1),
                             ("mem_%d_ports" % n_many, n_many)):
                if cls is StraitRange and n == 1 or not wanted(label, cls) \
                        or ONLY not in label:
                    continue  # the same as strait
                try:
                    keep(label, cls, m_memory(cls, topo, n))
                except Exception as e:
                    log("  %s %s: FAILED %s" % (cls.name, label, e))
        for cls in burst:
            if not wanted("mem_burst", cls) or ONLY not in "mem_burst":
                continue
            try:
                keep("mem_burst", cls, m_burst(cls, topo, n_hold))
            except Exception as e:
                log("  %s mem_burst: FAILED %s" % (cls.name, e))
    return results


BURST = (DockerProxy, Haproxy, SocketProxyd, Strait)


def hold_count(want, subjects):
    """The burst's size: @want, or fewer where a subject would run out of
    fds: the same count for every subject, so that their figures compare"""
    fit = [(NOFILE - 256) // c.conn_fds for c in BURST if c in subjects]
    return min([want] + fit)


def versions():
    def first(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True,
                               timeout=10)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not installed"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": os.uname().release,
        "strait-proxy": first([os.path.join(BUILD, "strait-proxy"), "-v"]),
        "docker-proxy": first(["dpkg-query", "-W", "-f",
                               "${Version}", "docker.io"]),
        "socat": first(["socat", "-V"]) if shutil.which("socat") else "-",
        "haproxy": first(["haproxy", "-v"]),
        "systemd": first(["systemd-socket-activate", "--version"]),
        "iperf3": first(["iperf3", "-v"]),
    }


def available(a):
    """The subjects this machine has, less those not asked for"""
    missing = {
        DockerProxy: not os.path.exists(DOCKER_PROXY),
        Socat: not shutil.which("socat"),
        Haproxy: not shutil.which("haproxy"),
        HaproxySplice: not shutil.which("haproxy"),
        SocketProxyd: not (os.path.exists(PROXYD) and
                           shutil.which("systemd-socket-activate")),
        StraitNoSandbox: not os.path.exists(os.path.join(NOSANDBOX,
                                                         "strait-proxy")),
    }
    subjects = [c for c in SUBJECTS if not missing.get(c)]
    if a.smoke:
        subjects = [c for c in subjects if c.name in
                    ("direct", "strait", "strait-transparent",
                     "socket-proxyd")]
    if a.subjects:
        subjects = [c for c in subjects if c.name in a.subjects.split(",")]
    return subjects


def main():
    global BUILD, NOSANDBOX, ONLY, SMOKE_RUN, SETTLE, AFTER
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--secs", type=float, default=1.5, help="seconds per "
                    "measurement (iperf3's rounded to whole seconds)")
    ap.add_argument("--quick", action="store_true",
                    help="one repetition of 1 s: every figure, roughly")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds-long run of direct and strait (and its "
                    "transparent mode, and socket-proxyd) to prove the "
                    "harness works (make test)")
    ap.add_argument("--only", default="", help="scenarios whose name "
                    "contains this (development; 'mem_' for memory only)")
    ap.add_argument("--subjects", default="", help="comma-separated "
                    "subject names (development)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--nosandbox", help="a make SANDBOX=0 LINK=static "
                    "build, for the strait-no-sandbox subject (default: "
                    "BUILD/nosandbox-static)")
    ap.add_argument("--hold", type=int, default=10000, help="connections "
                    "held through each proxy in the burst (at most what "
                    "its fd limit allows)")
    ap.add_argument("--replot", metavar="CSV", help="measure nothing: draw "
                    "the charts again from a results CSV, beside it")
    ap.add_argument("--readme", metavar="CSV", help="measure nothing: "
                    "print the README's performance tables from a results "
                    "CSV")
    a = ap.parse_args()
    if a.replot:
        return replot(a.replot)
    if a.readme:
        return replot(a.readme, tables=True)
    BUILD = os.path.abspath(a.build)
    NOSANDBOX = os.path.abspath(a.nosandbox or
                                os.path.join(BUILD, "nosandbox-static"))
    n_many, n_hold = 100, a.hold
    if a.quick:
        a.reps, a.secs = 1, 1
    if a.smoke:
        a.reps, a.secs, n_many, n_hold = 1, 0.3, 3, 100
        SMOKE_RUN, SETTLE, AFTER = True, 0.1, 0.2
    ONLY = a.only
    subjects = available(a)
    n_hold = hold_count(n_hold, subjects)
    os.makedirs(a.out, exist_ok=True)
    stamp = "smoke" if a.smoke else \
        datetime.datetime.now().strftime("%Y-%m-%d")
    base = os.path.join(a.out, stamp)

    def log(msg):
        print(msg, flush=True)

    topo = Topo()
    signal.signal(signal.SIGTERM, lambda *x: sys.exit(1))
    t0 = time.monotonic()
    try:
        topo.up()
        log("bench: %d repetitions of %s s; bursts of %d connections "
            "(RLIMIT_NOFILE %d); subjects: %s" % (
                a.reps, a.secs, n_hold, NOFILE,
                ", ".join(c.name for c in subjects)))
        results = run_all(subjects, a.reps, a.secs, topo, log)
        if not ONLY or ONLY.startswith("mem_"):
            results.update(run_memory(topo, a.reps, n_many, n_hold,
                                      subjects, log))
    finally:
        topo.down()
    info = versions()
    info.update(date=stamp, reps=a.reps, secs=a.secs, n_many=n_many,
                nofile=NOFILE,
                n_hold=n_hold, minutes=(time.monotonic() - t0) / 60,
                cmd=" ".join(["python3", "bench/bench.py"] + sys.argv[1:]))
    rows = report.summarize(results)
    report.write_csv(base + ".csv", rows)
    pics = charts.draw_all(base, rows, n_many, n_hold)
    targets = report.targets(rows)
    report.write_md(base + ".md", rows, info, targets, pics)
    log("bench: %.1f minutes; wrote %s.md, %s.csv and %d charts" % (
        info["minutes"], base, base, len(pics)))
    for t in targets:
        log("target: %s: %s (%s)" % t)
    return 0


def replot(path, tables=False):
    """--replot, --readme: charts or the README's tables from a CSV"""
    rows = report.read_csv(path)
    many = max([int(r["scenario"].split("_")[1]) for r in rows
                if r["scenario"].endswith("_ports")] or [100])
    hold = int(max([r["max"] for r in rows if r["metric"] == "held"]
                   or [0]))
    if tables:
        print(report.readme(rows, many, hold))
        return 0
    pics = charts.draw_all(path[:-4], rows, many, hold)
    print("bench: drew %s" % ", ".join(sorted(pics.values())))
    return 0


BUILD = None
NOSANDBOX = None
ONLY = ""
SMOKE_RUN = False
SETTLE = 0.5  # s from a subject's start to its idle memory figure
AFTER = 2  # s from the end of a burst to the memory figure "after"

if __name__ == "__main__":
    sys.exit(main())
