#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: strait side by side with its peers, on this machine, now.

    bench.py [--quick | --smoke] [--reps N] [--out DIR]

Topology (namespaces made here, removed on exit):

    client 198.51.100.2 --veth-- 198.51.100.1 [host] 203.0.113.1 --veth--
        container 203.0.113.2 (echod, iperf3 -s)

Every subject listens on the host's 198.51.100.1 and forwards to the
container: direct (the client talks to the container, routed by the
host), kernel DNAT (what --userland-proxy=false gives), docker-proxy,
socat, HAProxy (one thread; and with splice), strait-proxy (and with
-no-splice). Figures are medians of the repetitions with min-max, and each
is also given as a ratio to docker-proxy and to direct measured in the same
run: the machine is shared and noisy, ratios hold better than absolutes.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PID = os.getpid()
NS = {r: "strait-b%d-%s" % (PID, r) for r in ("cli", "host", "ctr")}
FRONT, BACK = "198.51.100.1", "203.0.113.2"
# container ports: tcp echo, udp echo, udp sink, iperf3
P_TCP, P_UDP, P_SINK, P_IPERF = 5000, 5001, 5002, 5201
OFFSET = 1000  # host ports = container ports + OFFSET
DOCKER_PROXY = "/usr/sbin/docker-proxy"


# CPU placement. "shared": the scheduler places everything, as on a busy
# host; client, subject and server fight over the two vCPUs. "pinned": the
# subject has CPU 1 to itself, the load generator and the container's
# servers share CPU 0: what the subject can carry when it is not the one
# starved. "1cpu": all three on CPU 1: latency is then the cost of the path
# itself, with no wake-up of an idle vCPU in it (on this VM that alone
# takes about 90 us, more than any subject adds).
PLACEMENTS = {
    "shared": {},
    "pinned": {"proxy": "1", "load": "0", "server": "0"},
    "1cpu": {"proxy": "1", "load": "1", "server": "1"},
}
PLACE = {}


def on_cpu(role):
    cpu = PLACE.get(role)
    return ["taskset", "-c", cpu] if cpu else []


def sh(*argv, ns=None, ok=True, timeout=120, role=None, **kw):
    cmd = (["ip", "netns", "exec", NS[ns]] if ns else []) + on_cpu(role) \
        + list(argv)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       **kw)
    if ok and r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


class Topo:
    def __init__(self):
        self.procs = []

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
                              (c, "eth0", "198.51.100.2/24"),
                              (k, "eth0", "203.0.113.2/24")):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", c, "route", "add", "default", "via", "198.51.100.1")
        sh("ip", "-n", k, "route", "add", "default", "via", "203.0.113.1")
        sh("sysctl", "-qw", "net.ipv4.conf.cli0.forwarding=1",
           "net.ipv4.conf.ctr0.forwarding=1", ns="host")
        # the connection-rate tests open tens of thousands of connections:
        # let TIME_WAIT ports be reused rather than run out (these are the
        # bench's own namespaces)
        for ns in ("cli", "host"):
            sh("sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65000",
               "net.ipv4.tcp_tw_reuse=1", ns=ns)
        self.server(["echod", "tcp", BACK, str(P_TCP)])
        self.server(["echod", "udp", BACK, str(P_UDP)])
        time.sleep(0.2)

    def spawn(self, ns, argv, role="server", **kw):
        p = subprocess.Popen(["ip", "netns", "exec", NS[ns], *on_cpu(role),
                              *argv],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, **kw)
        self.procs.append(p)
        return p

    def server(self, argv):
        argv = [os.path.join(BUILD, argv[0])] + argv[1:]
        p = self.spawn("ctr", argv)
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("server did not start: %s" % argv)
        return p

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)
        for n in NS.values():
            subprocess.run(["ip", "netns", "del", n], timeout=10,
                           stderr=subprocess.DEVNULL)


# ---- subjects --------------------------------------------------------------

class Subject:
    """Something between client and container, started per scenario."""
    name = "?"
    udp = True
    cpu = True

    def __init__(self, topo):
        self.topo = topo
        self.procs = []

    def addr(self, port):
        return FRONT, port + OFFSET

    def start(self, ports, udp_ports):
        pass

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.procs = []

    def pids(self, proto=None):
        """PIDs of the proxy processes themselves (not ip netns exec); with
        @proto, of those serving that protocol only, where a subject runs a
        process per protocol."""
        return [p.pid for p in self.procs if p.poll() is None and
                (proto is None or getattr(p, "proto", proto) == proto)]


class Direct(Subject):
    name = "direct"
    cpu = False

    def addr(self, port):
        return BACK, port


class Dnat(Subject):
    name = "kernel-dnat"
    cpu = False

    def start(self, ports, udp_ports):
        rules = ["table ip bench {",
                 " chain pre { type nat hook prerouting priority dstnat;"]
        for p in ports:
            rules.append("  ip daddr %s tcp dport %d dnat to %s:%d"
                         % (FRONT, p + OFFSET, BACK, p))
        for p in udp_ports:
            rules.append("  ip daddr %s udp dport %d dnat to %s:%d"
                         % (FRONT, p + OFFSET, BACK, p))
        rules += [" }", "}"]
        sh("nft", "-f", "-", ns="host", input="\n".join(rules) + "\n")

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
        argv = ["ip", "netns", "exec", NS["host"], *on_cpu("proxy"),
                self.binary, "-proto", proto, "-host-ip", FRONT,
                "-host-port", hp, "-container-ip", BACK,
                "-container-port", cp, *self.extra]
        # w is not inheritable; dup2 makes an inheritable copy on fd 3
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, close_fds=False,
                             preexec_fn=lambda: os.dup2(w, 3))
        os.close(w)
        got = os.read(r, 2)
        os.close(r)
        if got != b"0\n":
            raise RuntimeError("%s did not start: %r" % (self.name, got))
        p.proto = proto
        self.procs.append(p)

    def start(self, ports, udp_ports):
        for p in ports:
            self.one("tcp", p)
        for p in udp_ports:
            self.one("udp", p)


class DockerProxy(ProxyPerPort):
    name = "docker-proxy"
    binary = DOCKER_PROXY


class Strait(ProxyPerPort):
    name = "strait"

    @property
    def binary(self):
        return os.path.join(BUILD, "strait-proxy")


class Floor(Strait):
    """Memory only: bench/floor.c, a C program that does nothing but say
    ready, linked as strait-proxy is"""
    name = "c-floor"

    @property
    def binary(self):
        return os.path.join(BUILD, "floor")


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


class Socat(Subject):
    name = "socat"
    udp = False
    cpu = False  # work is done in forked children

    def start(self, ports, udp_ports):
        for p in ports:
            self.procs.append(subprocess.Popen(
                ["ip", "netns", "exec", NS["host"], *on_cpu("proxy"), "socat",
                 "TCP-LISTEN:%d,bind=%s,reuseaddr,fork" % (p + OFFSET, FRONT),
                 "TCP:%s:%d" % (BACK, p)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_listen(ports)


class Haproxy(Subject):
    name = "haproxy"
    udp = False
    splice = False

    def start(self, ports, udp_ports):
        cfg = ["global", "  nbthread 1", "  maxconn 4000",
               "defaults", "  mode tcp", "  timeout connect 5s",
               "  timeout client 60s", "  timeout server 60s"]
        if self.splice:
            cfg.append("  option splice-auto")
        for p in ports:
            cfg += ["listen p%d" % p, "  bind %s:%d" % (FRONT, p + OFFSET),
                    "  server c %s:%d" % (BACK, p)]
        self.cfgfile = tempfile.NamedTemporaryFile("w", suffix=".cfg",
                                                   delete=False)
        self.cfgfile.write("\n".join(cfg) + "\n")
        self.cfgfile.close()
        self.procs.append(subprocess.Popen(
            ["ip", "netns", "exec", NS["host"], *on_cpu("proxy"),
             "haproxy", "-db", "-f",
             self.cfgfile.name], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        wait_listen(ports)

    def stop(self):
        Subject.stop(self)
        os.unlink(self.cfgfile.name)


class HaproxySplice(Haproxy):
    name = "haproxy-splice"
    splice = True


def wait_listen(ports):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = sh("ss", "-Htln", ns="host").stdout
        if all(":%d " % (p + OFFSET) in out for p in ports):
            return
        time.sleep(0.1)
    raise RuntimeError("listeners did not come up")


SUBJECTS = [Direct, Dnat, DockerProxy, Socat, Haproxy, HaproxySplice,
            Strait, StraitCopy, StraitNoSandbox]


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


def loadgen(*args):
    r = sh(os.path.join(BUILD, "loadgen"), *map(str, args), ns="cli",
           timeout=120, role="load")
    return [float(x) for x in r.stdout.split()]


def iperf_server(topo):
    """A fresh one-test iperf3 server: a test that went wrong can never
    leave the next one facing a busy server."""
    p = topo.spawn("ctr", ["iperf3", "-s", "-1", "-B", BACK, "-p",
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
    t = max(1, int(round(secs)))
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
    n, p50, p99 = loadgen("tcp-rr", host, port, secs)
    return {"rr_p50_us": p50, "rr_p99_us": p99}


def m_tcp_cr(s, secs, conc):
    host, port = s.addr(P_TCP)
    n, rate, p99, fails = loadgen("tcp-cr", host, port, secs, conc)
    out = {"conn_s": rate, "conn_p99_us": p99}
    if conc > 1 and s.pids("tcp"):
        out["peak_rss_kb"] = sum(status_kb(pid, "VmHWM") for pid in
                                 s.pids("tcp"))
    return out


def m_udp_blast(s, secs, mbps):
    host, port = s.addr(P_SINK)
    sink = s.topo.server(["echod", "sink", BACK, str(P_SINK)])
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
    e = iperf3(s, secs, "-u", "-b", "1G", "-l", "1400")["sum"]
    got = e["packets"] - e["lost_packets"]
    return {"delivered_mbit_s": got * 1400 * 8 / e["seconds"] / 1e6,
            "loss_pct": e["lost_percent"]}


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


def m_memory(cls, topo, nprocs):
    s = cls(topo)
    ports = [7000 + i for i in range(nprocs)]
    s.start(ports, [])
    try:
        time.sleep(0.5)
        pids = s.pids()
        return {"rss_kb": sum(status_kb(p, "VmRSS") for p in pids),
                "pss_kb": sum(rollup_kb(p, "Pss") for p in pids),
                "uss_kb": sum(rollup_kb(p, "Private_Clean", "Private_Dirty")
                              for p in pids)}
    finally:
        s.stop()


# ---- driver ----------------------------------------------------------------

def scenarios(secs):
    """(name, needs_udp, function(subject) -> dict, placement)."""
    return [
        ("tcp_bulk_1", False, lambda s: m_tcp_bulk(s, secs, 1), "shared"),
        ("tcp_bulk_4", False, lambda s: m_tcp_bulk(s, secs, 4), "shared"),
        ("tcp_rr", False, lambda s: m_tcp_rr(s, secs), "shared"),
        ("tcp_cr_1", False, lambda s: m_tcp_cr(s, secs, 1), "shared"),
        ("tcp_cr_32", False, lambda s: m_tcp_cr(s, secs, 32), "shared"),
        ("udp_1g", True, lambda s: m_udp_blast(s, secs, 1000), "shared"),
        ("udp_max", True, lambda s: m_udp_blast(s, secs, 0), "shared"),
        ("udp_1g_iperf3", True, lambda s: m_udp_iperf(s, secs), "shared"),
        ("udp_rr", True, lambda s: m_udp_rr(s, secs), "shared"),
        ("tcp_bulk_1.pinned", False, lambda s: m_tcp_bulk(s, secs, 1),
         "pinned"),
        ("tcp_cr_32.pinned", False, lambda s: m_tcp_cr(s, secs, 32),
         "pinned"),
        ("udp_1g.pinned", True, lambda s: m_udp_blast(s, secs, 1000),
         "pinned"),
        ("udp_max.pinned", True, lambda s: m_udp_blast(s, secs, 0),
         "pinned"),
        ("tcp_rr.1cpu", False, lambda s: m_tcp_rr(s, secs), "1cpu"),
        ("udp_rr.1cpu", True, lambda s: m_udp_rr(s, secs), "1cpu"),
    ]


def place(topo, name):
    """Subjects started from here on run where placement @name says; the
    long-running servers move there now."""
    PLACE.clear()
    PLACE.update(PLACEMENTS[name])
    cpus = {int(PLACE["server"])} if "server" in PLACE else \
        set(range(os.cpu_count()))
    for p in topo.procs:
        if p.poll() is None:
            os.sched_setaffinity(p.pid, cpus)


def run_all(subjects, reps, secs, topo, log):
    results = {}  # (scenario, subject, metric) -> [values]
    for rep in range(reps):
        for where in PLACEMENTS:
            todo = [x for x in scenarios(secs)
                    if x[3] == where and ONLY in x[0]]
            if not todo:
                continue
            place(topo, where)
            for cls in subjects:
                run_subject(cls, todo, topo, rep, results, log)
    return results


def run_subject(cls, todo, topo, rep, results, log):
    s = cls(topo)
    s.start([P_TCP, P_IPERF], [P_UDP, P_SINK, P_IPERF] if cls.udp else [])
    try:
        for name, udp, fn, where in todo:
            if udp and not cls.udp:
                continue
            try:
                vals = fn(s)
            except Exception as e:  # recorded, the run goes on
                log("  %s %s: FAILED %s" % (cls.name, name, e))
                continue
            for k, v in vals.items():
                results.setdefault((name, cls.name, k), []).append(v)
            log("  rep %d %-16s %-17s %s" % (
                rep + 1, cls.name, name, " ".join(
                    "%s=%.4g" % kv for kv in vals.items())))
    finally:
        s.stop()


def run_memory(topo, reps, n_many, log):
    results = {}
    for cls in (DockerProxy, Strait, Socat, Floor, StraitRange):
        if cls is DockerProxy and not os.path.exists(DOCKER_PROXY):
            continue
        for rep in range(reps):
            for label, n in (("mem_idle_1", 1), ("mem_%d_ports" % n_many,
                                                 n_many)):
                if cls is StraitRange and n == 1:
                    continue  # the same as strait
                vals = m_memory(cls, topo, n)
                for k, v in vals.items():
                    results.setdefault((label, cls.name, k), []).append(v)
                log("  rep %d %-16s %-12s %s" % (rep + 1, cls.name, label,
                                                 vals))
    return results


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
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
        "strait-proxy": first([os.path.join(BUILD, "strait-proxy"), "-v"]),
        "docker-proxy": first(["dpkg-query", "-W", "-f",
                               "${Version}", "docker.io"]),
        "socat": first(["socat", "-V"]) if shutil.which("socat") else "-",
        "haproxy": first(["haproxy", "-v"]),
        "iperf3": first(["iperf3", "-v"]),
    }


HIGHER_BETTER = ("gbit_s", "conn_s", "delivered_mbit_s")


def summarize(results):
    rows = []
    for (scen, subj, metric), vals in sorted(results.items()):
        med = statistics.median(vals)
        ref = results.get((scen, "docker-proxy", metric))
        direct = results.get((scen, "direct", metric))
        rows.append({
            "scenario": scen, "subject": subj, "metric": metric,
            "median": med, "min": min(vals), "max": max(vals),
            "n": len(vals),
            "vs_docker_proxy": med / statistics.median(ref)
            if ref and statistics.median(ref) else None,
            "vs_direct": med / statistics.median(direct)
            if direct and statistics.median(direct) else None,
        })
    return rows


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.3g" % v


COMMANDS = """## How each figure is taken

Subjects (in the host namespace; container at 203.0.113.2, ports 5000 tcp
echo, 5001 udp echo, 5002 udp sink, 5201 iperf3; the subject listens on
198.51.100.1 at the same port + 1000):

- docker-proxy / strait: `PROXY -proto tcp|udp -host-ip 198.51.100.1
  -host-port P+1000 -container-ip 203.0.113.2 -container-port P` (fd 3 a
  readiness pipe, as dockerd gives it); strait-no-splice adds `-no-splice`;
  strait-no-sandbox is the same source built with `make SANDBOX=0` (no
  Landlock, no seccomp filter)
- socat: `socat TCP-LISTEN:P+1000,bind=198.51.100.1,reuseaddr,fork
  TCP:203.0.113.2:P`
- haproxy: `haproxy -db -f CFG`, CFG = `nbthread 1`, `mode tcp`, one
  `listen` per port (`option splice-auto` for haproxy-splice)
- kernel-dnat: an nft `dnat to 203.0.113.2:P` rule in prerouting
- direct: the client addresses 203.0.113.2:P, routed by the host

Placements (taskset; a name without a suffix is "shared"):

- shared: the scheduler places client, subject and servers on the two
  vCPUs as it likes, as on a busy host
- .pinned: the subject alone on CPU 1; load generator and container
  servers on CPU 0: what the subject carries when it is not the one starved
- .1cpu: all three on CPU 1: request/response latency is then the cost of
  the path itself; shared, it is mostly the wake-up of an idle vCPU (about
  90 us on this VM), which no subject controls

Scenarios (client namespace; build/loadgen is bench/loadgen.c):

- tcp_bulk_N: `iperf3 -c ADDR -p PORT -t SECS -P N -J` against a fresh
  `iperf3 -s -1`; Gbit/s received; proxy user+sys CPU per GB (1 stream)
- tcp_rr: `loadgen tcp-rr ADDR PORT SECS` (64 B ping-pong, one connection)
- tcp_cr_N: `loadgen tcp-cr ADDR PORT SECS N` (N threads: connect, 64 B
  each way, close); peak RSS is the proxy's VmHWM after the 32-client test
- udp_1g / udp_max: `loadgen udp-blast ADDR PORT SECS 1000|0 1400` into a
  counting sink; delivered = datagrams counted by the sink
- udp_1g_iperf3: `iperf3 -c ADDR -p PORT -u -b 1G -l 1400 -t SECS -J`
  (iperf3 paces with a 1 ms timer: bursts of about 90 datagrams);
  delivered and loss as the iperf3 server counted them
- udp_rr: `loadgen udp-rr ADDR PORT SECS`
- mem_idle_1 / mem_100_ports: VmRSS, smaps_rollup Pss and USS
  (Private_Clean + Private_Dirty) of 1 and of 100 idle TCP processes on
  consecutive ports (strait-range: the 100 ports in one strait-proxy,
  `-host-port 8000-8099 -container-port 7000-7099`); c-floor is bench/floor.c, a C program that only says
  ready on fd 3 and sleeps, linked as strait-proxy is: the floor glibc and
  the kernel's fault-around set for any dynamically linked C process here
"""


def write_md(path, rows, info, cmd, targets):
    lines = ["# strait benchmark, %s" % info["date"], "",
             "Command: `%s`  " % cmd,
             "Machine: %s, %s cores, Linux %s  " % (info["cpu"],
                                                    info["cores"],
                                                    info["kernel"]),
             "Versions: %s; docker.io %s; %s; %s; %s  " % (
                 info["strait-proxy"], info["docker-proxy"], info["socat"],
                 info["haproxy"], info["iperf3"]),
             "Repetitions: %s, %s s per measurement; medians (min–max); "
             "ratios against docker-proxy and direct from the same run." % (
                 info["reps"], info["secs"]), "",
             "Topology: client ns → host ns (the subject, on 198.51.100.1) "
             "→ container ns (echod, iperf3) over veth pairs.", ""]
    lines += ["## Targets (strait vs docker-proxy, this run)", "",
              "| target | measured | met |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % t for t in targets]
    lines.append("")
    cur = None
    for r in rows:
        if r["scenario"] != cur:
            cur = r["scenario"]
            lines += ["", "## %s" % cur, "",
                      "| subject | metric | median | min–max | "
                      "× docker-proxy | × direct |",
                      "|---|---|---|---|---|---|"]
        lines.append("| %s | %s | %s | %s–%s | %s | %s |" % (
            r["subject"], r["metric"], fmt(r["median"]), fmt(r["min"]),
            fmt(r["max"]), fmt(r["vs_docker_proxy"]), fmt(r["vs_direct"])))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n\n" + COMMANDS)


def target_rows(rows):
    def get(scen, metric, subj="strait", key="vs_docker_proxy"):
        for r in rows:
            if (r["scenario"], r["metric"], r["subject"]) == (scen, metric,
                                                            subj):
                return r[key] if key else r["median"]
        return None
    t = []

    def add(label, value, ok, text):
        t.append((label, text if value is not None else "not measured",
                  ("yes" if ok else "**no**") if value is not None else "–"))
    for where in PLACEMENTS:
        sfx = "" if where == "shared" else "." + where
        tag = " (%s)" % where

        def have(scen):
            return any(r["scenario"] == scen + sfx for r in rows)
        def ceiling(scen, metric):
            """what no proxy can pass, as a ratio to docker-proxy"""
            d = get(scen + sfx, metric, "direct")
            k = get(scen + sfx, metric, "kernel-dnat")
            return " (direct, no proxy: %s×; kernel DNAT: %s×)" % (
                fmt(d), fmt(k)) if d or k else ""
        if have("tcp_bulk_1"):
            v = get("tcp_bulk_1" + sfx, "gbit_s")
            add("TCP bulk ≥ 1.3×" + tag, v, v and v >= 1.3, "%s×%s" % (
                fmt(v), ceiling("tcp_bulk_1", "gbit_s")))
        if have("tcp_cr_32"):
            v = get("tcp_cr_32" + sfx, "conn_s")
            add("connection rate (32 clients) ≥ 2×" + tag, v, v and v >= 2,
                "%s×%s" % (fmt(v), ceiling("tcp_cr_32", "conn_s")))
        if have("tcp_rr"):
            s, d, dp = (get("tcp_rr" + sfx, "rr_p50_us", x, None)
                        for x in ("strait", "direct", "docker-proxy"))
            v = (s - d) / (dp - d) if None not in (s, d, dp) and dp > d \
                else None
            add("added TCP latency ≤ 1/3" + tag, v,
                v is not None and v <= 1 / 3,
                "%s of docker-proxy's (p50 %s vs %s us, direct %s)" % (
                    fmt(v), fmt(s), fmt(dp), fmt(d)))
        if have("udp_rr"):
            v = get("udp_rr" + sfx, "udp_rr_p50_us")
            add("UDP request/response p50 ≤ 1/2×" + tag, v,
                v is not None and v <= 0.5, "%s×" % fmt(v))
        if have("udp_1g"):
            v = get("udp_1g" + sfx, "delivered_mbit_s")
            add("UDP delivered at 1 Gbit/s ≥ 2.5×" + tag, v, v and v >= 2.5,
                "%s×%s" % (fmt(v), ceiling("udp_1g", "delivered_mbit_s")))
    v = get("mem_idle_1", "rss_kb", key=None)
    floor = get("mem_idle_1", "rss_kb", "c-floor", None)
    add("idle RSS < 1 MiB", v, v and v < 1024, "%s kB%s" % (
        fmt(v), "; a C program that only sleeps: %s kB" % fmt(floor)
        if floor else ""))
    v = next((r["median"] for r in rows if r["scenario"].startswith("mem_")
              and r["scenario"] != "mem_idle_1" and r["subject"] == "strait"
              and r["metric"] == "pss_kb"), None)
    add("100 processes' PSS < 15 MB", v, v and v < 15000,
        "%s MB" % fmt(v / 1000 if v else None))
    return t


def chart(path, rows, scen, metric, title):
    data = [(r["subject"], r["median"], r["min"], r["max"]) for r in rows
            if r["scenario"] == scen and r["metric"] == metric]
    if not data or not shutil.which("gnuplot"):
        return False
    dat = path + ".dat"
    with open(dat, "w") as f:
        for i, (s, m, lo, hi) in enumerate(data):
            f.write('%d "%s" %f %f %f\n' % (i, s, m, lo, hi))
    script = "\n".join([
        "set terminal pngcairo size 900,420 font 'sans,10'",
        "set output '%s'" % path, "set title '%s'" % title,
        "set style fill solid 0.6", "set boxwidth 0.6", "set grid ytics",
        "set yrange [0:*]", "unset key", "set xtics rotate by -25",
        "plot '%s' using 1:3:xtic(2) with boxes lc rgb '#3465a4', "
        "'' using 1:3:4:5 with yerrorbars lc rgb 'black' pt 0" % dat])
    r = subprocess.run(["gnuplot"], input=script, text=True,
                       capture_output=True, timeout=60)
    os.unlink(dat)
    return r.returncode == 0


def main():
    global BUILD, NOSANDBOX
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds-long run of strait and direct only, to "
                    "prove the harness works (make test)")
    ap.add_argument("--only", default="", help="scenarios whose name "
                    "contains this (development)")
    ap.add_argument("--subjects", default="", help="comma-separated "
                    "subject names (development)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--nosandbox", help="a make SANDBOX=0 build, for the "
                    "strait-no-sandbox subject (default: BUILD/nosandbox)")
    a = ap.parse_args()
    BUILD = os.path.abspath(a.build)
    NOSANDBOX = os.path.abspath(a.nosandbox or
                                os.path.join(BUILD, "nosandbox"))
    if a.quick:
        a.reps, a.secs = 1, 2
    subjects = [c for c in SUBJECTS
                if not (c is DockerProxy and not os.path.exists(DOCKER_PROXY))
                and not (c in (Socat,) and not shutil.which("socat"))
                and not (c in (Haproxy, HaproxySplice)
                         and not shutil.which("haproxy"))
                and not (c is StraitNoSandbox and not os.path.exists(
                    os.path.join(NOSANDBOX, "strait-proxy")))]
    if a.subjects:
        subjects = [c for c in subjects if c.name in a.subjects.split(",")]
    global ONLY
    ONLY = a.only
    n_many = 100
    if a.smoke:
        a.reps, a.secs, n_many = 1, 0.3, 3
        subjects = [Direct, Strait]
    os.makedirs(a.out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d")
    if a.smoke:
        stamp = "smoke"
    base = os.path.join(a.out, stamp)

    def log(msg):
        print(msg, flush=True)

    topo = Topo()
    signal.signal(signal.SIGTERM, lambda *x: sys.exit(1))
    try:
        topo.up()
        log("bench: %d repetitions of %s s; subjects: %s" % (
            a.reps, a.secs, ", ".join(c.name for c in subjects)))
        results = run_all(subjects, a.reps, a.secs, topo, log)
        place(topo, "shared")
        if a.smoke:
            results.update(run_memory_smoke(topo, n_many, log))
        elif ONLY in "mem_":
            results.update(run_memory(topo, a.reps, n_many, log))
    finally:
        topo.down()
    rows = summarize(results)
    info = versions()
    info.update(date=stamp, reps=a.reps, secs=a.secs)
    cmd = " ".join(["python3", "bench/bench.py"] + sys.argv[1:])
    with open(base + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()),
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    targets = target_rows(rows)
    write_md(base + ".md", rows, info, cmd, targets)
    charts = [("tcp_bulk_1", "gbit_s", "TCP bulk, 1 stream (Gbit/s)"),
              ("tcp_cr_32", "conn_s", "TCP connections/s, 32 clients"),
              ("udp_1g", "delivered_mbit_s",
               "UDP delivered at 1 Gbit/s offered (Mbit/s)")]
    for scen, metric, title in charts:
        chart("%s-%s.png" % (base, scen), rows, scen, metric, title)
    log("bench: wrote %s.md, %s.csv and charts" % (base, base))
    for t in targets:
        log("target: %s: %s (%s)" % t)
    return 0


def run_memory_smoke(topo, n, log):
    results = {}
    for cls, label, k in ((Strait, "mem_idle_1", 1),
                          (Strait, "mem_%d_ports" % n, n),
                          (StraitRange, "mem_%d_ports" % n, n)):
        vals = m_memory(cls, topo, k)
        for key, v in vals.items():
            results[(label, cls.name, key)] = [v]
        log("  %s %s %s" % (cls.name, label, vals))
    return results


BUILD = None
NOSANDBOX = None
ONLY = ""

if __name__ == "__main__":
    sys.exit(main())
