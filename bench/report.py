# SPDX-License-Identifier: MIT
"""The bench's results as a reader wants them: a CSV of every figure, and
a Markdown file whose tables read without the code (figures as rows with
their units, subjects as columns, ratios to HAProxy and docker-proxy
spelled out), the targets of the issues, and the per-scenario detail."""
import csv
import os
import statistics

# (label with unit, scenario, metric, higher is better)
VETH = [
    ("TCP bulk, 1 stream (Gbit/s)", "tcp_bulk_1", "gbit_s", True),
    ("TCP bulk, 4 streams (Gbit/s)", "tcp_bulk_4", "gbit_s", True),
    ("TCP 64 B request/response p50 (µs)", "tcp_rr", "rr_p50_us", False),
    ("TCP connections/s, 1 client", "tcp_cr_1", "conn_s", True),
    ("TCP connections/s, 32 clients", "tcp_cr_32", "conn_s", True),
    ("TCP connection time p50, 1 client (µs)", "tcp_cr_1", "conn_p50_us",
     False),
    ("proxy CPU per connection, 1 client (µs)", "tcp_cr_1",
     "cpu_us_per_conn", False),
    ("CPU per connection, client + proxy + server, 1 client (µs)",
     "tcp_cr_1", "path_cpu_us_per_conn", False),
    ("proxy CPU per GB, TCP 1 stream (s)", "tcp_bulk_1", "cpu_s_per_gb",
     False),
    ("UDP loss at 1 Gbit/s offered, smooth (%)", "udp_1g", "loss_pct",
     False),
    ("UDP loss at 1 Gbit/s offered, iperf3's bursts (%)", "udp_1g_iperf3",
     "loss_pct", False),
    ("UDP delivered at max rate (Mbit/s)", "udp_max", "delivered_mbit_s",
     True),
    ("UDP 64 B request/response p50 (µs)", "udp_rr", "udp_rr_p50_us", False),
    ("peak RSS after 32 clients (kB)", "tcp_cr_32", "peak_rss_kb", False),
    ("UDP 1 Gbit/s, iperf3: CPU of client + proxy + server (% of a vCPU)",
     "udp_1g_iperf3", "path_cpu_pct", False),
    ("UDP 1 Gbit/s, iperf3: the receiving server's CPU (% of a vCPU)",
     "udp_1g_iperf3", "server_cpu_pct", False),
]
PINNED = [
    ("TCP bulk, 1 stream, pinned (Gbit/s)", "tcp_bulk_1.pinned", "gbit_s",
     True),
    ("TCP connections/s, 32 clients, pinned", "tcp_cr_32.pinned", "conn_s",
     True),
    ("proxy CPU per connection, 32 clients, pinned (µs)",
     "tcp_cr_32.pinned", "cpu_us_per_conn", False),
    ("UDP delivered at max rate, pinned (Mbit/s)", "udp_max.pinned",
     "delivered_mbit_s", True),
    ("UDP loss at 1 Gbit/s, pinned (%)", "udp_1g.pinned", "loss_pct", False),
    ("UDP loss at 1 Gbit/s, iperf3, the server alone on a CPU (%)",
     "udp_1g_iperf3.apart", "loss_pct", False),
    ("TCP request/response p50, one CPU (µs)", "tcp_rr.1cpu", "rr_p50_us",
     False),
    ("UDP request/response p50, one CPU (µs)", "udp_rr.1cpu",
     "udp_rr_p50_us", False),
]
LOOPBACK = [
    ("TCP connections/s, 1 client", "tcp_cr_1.lo", "conn_s", True),
    ("TCP connections/s, 32 clients", "tcp_cr_32.lo", "conn_s", True),
    ("TCP connection time p50, 1 client (µs)", "tcp_cr_1.lo", "conn_p50_us",
     False),
    ("proxy CPU per connection, 1 client (µs)", "tcp_cr_1.lo",
     "cpu_us_per_conn", False),
    ("CPU per connection, client + proxy + server, 1 client (µs)",
     "tcp_cr_1.lo", "path_cpu_us_per_conn", False),
    ("TCP 64 B request/response p50 (µs)", "tcp_rr.lo", "rr_p50_us", False),
    ("UDP loss at 1 Gbit/s offered, iperf3 -l 1400 (%)", "udp_1g_iperf3.lo",
     "loss_pct", False),
    ("UDP delivered at 1 Gbit/s offered, iperf3 (Mbit/s)",
     "udp_1g_iperf3.lo", "delivered_mbit_s", True),
    ("UDP loss at 1 Gbit/s offered, smooth (%)", "udp_1g.lo", "loss_pct",
     False),
    ("UDP 1 Gbit/s, iperf3: CPU of client + proxy + server (% of a vCPU)",
     "udp_1g_iperf3.lo", "path_cpu_pct", False),
]
MEMORY = [
    ("idle, one port: RSS (kB)", "mem_idle_1", "rss_kb", False),
    ("idle, one port: PSS (kB)", "mem_idle_1", "pss_kb", False),
    ("idle, one port: USS (kB)", "mem_idle_1", "uss_kb", False),
    ("{many} ports: PSS, all processes (kB)", "mem_{many}_ports", "pss_kb",
     False),
    ("{many} ports: RSS, all processes (kB)", "mem_{many}_ports", "rss_kb",
     False),
    ("burst: idle RSS (kB)", "mem_burst", "rss_idle_kb", False),
    ("burst: RSS, {hold} connections held (kB)", "mem_burst", "rss_held_kb",
     False),
    ("burst: RSS per held connection (kB)", "mem_burst", "kb_per_conn",
     False),
    ("burst: RSS 2 s after they closed (kB)", "mem_burst", "rss_after_kb",
     False),
    ("burst: connections held (of {hold})", "mem_burst", "held", None),
]
TRANSPARENT = [
    ("TCP connections/s, 1 client", "tcp_cr_1", "conn_s", True),
    ("TCP connections/s, 32 clients", "tcp_cr_32", "conn_s", True),
    ("TCP connection time p50, 1 client (µs)", "tcp_cr_1", "conn_p50_us",
     False),
    ("TCP 64 B request/response p50 (µs)", "tcp_rr", "rr_p50_us", False),
    ("TCP request/response p50, one CPU (µs)", "tcp_rr.1cpu", "rr_p50_us",
     False),
    ("proxy CPU per connection, 1 client (µs)", "tcp_cr_1",
     "cpu_us_per_conn", False),
    ("proxy CPU per connection, 32 clients (µs)", "tcp_cr_32",
     "cpu_us_per_conn", False),
    ("CPU per connection, client + proxy + server, 1 client (µs)",
     "tcp_cr_1", "path_cpu_us_per_conn", False),
    ("CPU per connection, client + proxy + server, 32 clients (µs)",
     "tcp_cr_32", "path_cpu_us_per_conn", False),
]
VARIANTS = [
    ("TCP bulk, 1 stream (Gbit/s)", "tcp_bulk_1", "gbit_s", True),
    ("TCP bulk, 4 streams (Gbit/s)", "tcp_bulk_4", "gbit_s", True),
    ("proxy CPU per GB, TCP 1 stream (s)", "tcp_bulk_1", "cpu_s_per_gb",
     False),
    ("TCP 64 B request/response p50 (µs)", "tcp_rr", "rr_p50_us", False),
    ("TCP connections/s, 1 client", "tcp_cr_1", "conn_s", True),
    ("TCP connections/s, 32 clients", "tcp_cr_32", "conn_s", True),
    ("proxy CPU per connection, 1 client (µs)", "tcp_cr_1",
     "cpu_us_per_conn", False),
    ("UDP loss at 1 Gbit/s offered, iperf3's bursts (%)", "udp_1g_iperf3",
     "loss_pct", False),
    ("UDP 64 B request/response p50 (µs)", "udp_rr", "udp_rr_p50_us", False),
    ("loopback: TCP connections/s, 1 client", "tcp_cr_1.lo", "conn_s",
     True),
    ("loopback: UDP loss at 1 Gbit/s, iperf3 (%)", "udp_1g_iperf3.lo",
     "loss_pct", False),
]
PEERS = ["direct", "kernel-dnat", "docker-proxy", "haproxy", "socat",
         "socket-proxyd", "strait"]
VS_PEERS = [("strait", "docker-proxy"), ("strait", "haproxy")]
# (title, rows, columns, ratio columns, text under the title)
TABLES = [
    ("veth, shared CPUs", VETH, PEERS, VS_PEERS,
     "Client, proxy and container in three namespaces joined by veth "
     "pairs; the scheduler places every process on the two vCPUs."),
    ("veth, pinned and one CPU", PINNED,
     ["direct", "kernel-dnat", "docker-proxy", "haproxy", "strait"],
     VS_PEERS,
     "Pinned: the proxy alone on CPU 1, client and servers on CPU 0. One "
     "CPU: all three on CPU 1 (latency without an idle vCPU's wake-up). "
     "Server alone: the container's server on CPU 1, client and proxy on "
     "CPU 0."),
    ("loopback: client, proxy and server on 127.0.0.1", LOOPBACK,
     ["direct", "kernel-dnat", "docker-proxy", "haproxy", "socket-proxyd",
      "strait", "strait-no-sandbox"], VS_PEERS,
     "One namespace; a host-local client of a published port (DNS on "
     "127.0.0.1:53, metrics, syslog). Kernel DNAT is an nft output rule."),
    ("memory", MEMORY,
     ["c-floor", "docker-proxy", "haproxy", "socat", "socket-proxyd",
      "strait", "strait-range", "strait-no-sandbox"], VS_PEERS,
     "RSS counts every page a process maps, shared libraries included; PSS "
     "splits shared pages between the processes sharing them; USS is the "
     "process's own. {many} ports: a process per port (docker-proxy, "
     "socat, socket-proxyd, strait, c-floor) or one process for all "
     "(haproxy, strait-range). Burst: {hold} TCP connections opened one by "
     "one through the proxy (each proven by an echo), held, then closed; "
     "the same count for every subject, 10,000 where the fd limit allows "
     "(docker-proxy and socket-proxyd spend 6 fds on each connection: a "
     "pipe per direction besides the two sockets)."),
    ("transparent mode", TRANSPARENT,
     ["direct", "kernel-dnat", "strait", "strait-transparent"],
     [("strait-transparent", "strait"),
      ("strait-transparent", "kernel-dnat")],
     "strait-proxy -transparent: the container sees the client's own "
     "address (checked at every start), with the host's policy routing "
     "for it set only while it runs. Kernel DNAT keeps the address too."),
    ("strait's variants, HAProxy's splice", VARIANTS,
     ["strait", "strait-no-sandbox", "strait-no-splice", "haproxy",
      "haproxy-splice"],
     [("strait", "strait-no-sandbox"), ("strait", "strait-no-splice"),
      ("strait", "haproxy-splice")],
     "strait-no-sandbox is the same source built with make SANDBOX=0 "
     "(strait ÷ strait-no-sandbox is what the sandbox costs); "
     "strait-no-splice copies through user space."),
]

LEGEND = """\
How to read the tables: each cell is the median of the repetitions (the
min–max of every figure is in the detail at the end). A ratio column
divides the first subject's figure by the second's, both from this run:
for figures where higher is better (↑) above 1× means the first is ahead,
for those where lower is better (↓) below 1× does; **bold** marks the
figures where it is ahead. direct (no proxy at all) and kernel-dnat are
the ceilings no userland proxy can pass."""


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


def write_csv(path, rows):
    fields = ["scenario", "subject", "metric", "median", "min", "max", "n",
              "vs_docker_proxy", "vs_direct"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def read_csv(path):
    """rows as summarize() made them, back from a CSV this module wrote"""
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            for k in ("median", "min", "max", "vs_docker_proxy",
                      "vs_direct"):
                r[k] = float(r[k]) if r[k] else None
            r["n"] = int(r["n"])
            rows.append(r)
    return rows


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.3g" % v


def lookup(rows):
    return {(r["scenario"], r["subject"], r["metric"]): r for r in rows}


def ratio_cell(num, den, higher):
    if higher is None or num is None or den is None or not den:
        return "–"
    q = num / den
    text = "%.2f×" % q if q >= 0.01 else "%.3f×" % q
    ahead = q > 1 if higher else q < 1
    return "**%s**" % text if ahead and text != "1.00×" else text


def wide_table(idx, title, spec, columns, ratios, note, many, hold):
    """Figures as rows, subjects as columns; only the rows and columns
    this run measured."""
    def med(scen, subj, metric):
        r = idx.get((scen, subj, metric))
        return r["median"] if r else None
    spec = [(label.format(many=many, hold=hold),
             scen.format(many=many, hold=hold), metric, hi)
            for label, scen, metric, hi in spec]
    spec = [x for x in spec if any(med(x[1], c, x[2]) is not None
                                   for c in columns)]
    columns = [c for c in columns if any(med(s, c, m) is not None
                                         for _, s, m, _ in spec)]
    ratios = [(a, b) for a, b in ratios if a in columns and b in columns]
    if not spec or not columns:
        return []
    head = ["figure"] + columns + ["%s ÷ %s" % r for r in ratios]
    out = ["## %s" % title, "", note.format(many=many, hold=hold), "",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, scen, metric, hi in spec:
        cells = [label + {True: " ↑", False: " ↓", None: ""}[hi]]
        cells += [fmt(med(scen, c, metric)) for c in columns]
        cells += [ratio_cell(med(scen, a, metric), med(scen, b, metric), hi)
                  for a, b in ratios]
        out.append("| " + " | ".join(cells) + " |")
    return out + [""]


# the README's performance tables: (first header cell, rows, columns,
# ratio columns); bench.py --readme CSV prints them from a run's figures
README = [
    ("veth, shared CPUs", [VETH[i] for i in (0, 1, 2, 3, 4, 6, 8, 9, 10,
                                              11, 12, 13, 14, 15)],
     ["direct", "kernel-dnat", "docker-proxy", "haproxy", "socket-proxyd",
      "socat", "strait"], VS_PEERS),
    ("veth, pinned / one CPU", PINNED[:2] + PINNED[3:],
     ["direct", "kernel-dnat", "docker-proxy", "haproxy", "strait"],
     VS_PEERS),
    ("loopback (127.0.0.1)", [LOOPBACK[i] for i in (0, 1, 3, 5, 6, 9)],
     ["direct", "kernel-dnat", "docker-proxy", "haproxy", "socket-proxyd",
      "strait"], VS_PEERS),
    ("memory", [MEMORY[i] for i in (0, 1, 2, 3, 6, 7, 8)],
     ["c-floor", "docker-proxy", "haproxy", "socat", "socket-proxyd",
      "strait", "strait-range", "strait-no-sandbox"], VS_PEERS),
    ("transparent mode (veth)", [TRANSPARENT[i] for i in (0, 1, 3, 4, 5, 7)],
     ["direct", "kernel-dnat", "strait", "strait-transparent"],
     [("strait-transparent", "strait"),
      ("strait-transparent", "kernel-dnat")]),
]


def readme(rows, many, hold):
    """The README's tables, Markdown, from @rows"""
    idx = lookup(rows)
    out = []
    for head, spec, cols, ratios in README:
        t = wide_table(idx, "", spec, cols, ratios, "", many, hold)
        if t:
            t[4] = t[4].replace("| figure |", "| %s |" % head, 1)
            out += t[4:]
    return "\n".join(out)


def targets(rows):
    """(target, measured, met) for the issues' goals, this run"""
    idx = lookup(rows)

    def med(scen, subj, metric):
        r = idx.get((scen, subj, metric))
        return r["median"] if r else None
    t = []

    def add(label, value, ok, text):
        t.append((label, text if value is not None else "not measured",
                  ("yes" if ok else "**no**") if value is not None else "–"))

    def vs(scen, metric, other, subj="strait"):
        a, b = med(scen, subj, metric), med(scen, other, metric)
        return a / b if a is not None and b else None
    for where, sfx in (("shared", ""), ("pinned", ".pinned"),
                       ("1cpu", ".1cpu")):
        tag = " (%s)" % where

        def ceiling(scen, metric):
            """what no proxy can pass, as a ratio to docker-proxy"""
            d = vs(scen + sfx, metric, "docker-proxy", "direct")
            k = vs(scen + sfx, metric, "docker-proxy", "kernel-dnat")
            return " (direct, no proxy: %s×; kernel DNAT: %s×)" % (
                fmt(d), fmt(k)) if d or k else ""
        v = vs("tcp_bulk_1" + sfx, "gbit_s", "docker-proxy")
        if v is not None:
            add("TCP bulk ≥ 1.3× docker-proxy" + tag, v, v >= 1.3,
                "%s×%s" % (fmt(v), ceiling("tcp_bulk_1", "gbit_s")))
        v = vs("tcp_cr_32" + sfx, "conn_s", "docker-proxy")
        if v is not None:
            add("connection rate (32 clients) ≥ 2× docker-proxy" + tag, v,
                v >= 2, "%s×%s" % (fmt(v), ceiling("tcp_cr_32", "conn_s")))
        s, d, dp = (med("tcp_rr" + sfx, x, "rr_p50_us")
                    for x in ("strait", "direct", "docker-proxy"))
        if None not in (s, d, dp):
            v = (s - d) / (dp - d) if dp > d else None
            add("added TCP latency ≤ 1/3 of docker-proxy's" + tag, v,
                v is not None and v <= 1 / 3,
                "%s (p50 %s vs %s µs, direct %s)" % (fmt(v), fmt(s), fmt(dp),
                                                     fmt(d)))
        v = vs("udp_rr" + sfx, "udp_rr_p50_us", "docker-proxy")
        if v is not None:
            add("UDP request/response p50 ≤ 1/2× docker-proxy" + tag, v,
                v <= 0.5, "%s×" % fmt(v))
    for where, sfx in (("veth", ""), ("loopback", ".lo"),
                       ("veth, server alone on a CPU", ".apart")):
        for n in (1, 32):
            v = vs("tcp_cr_%d%s" % (n, sfx), "conn_s", "haproxy")
            if v is not None:
                add("connections/s ≥ HAProxy's, %d client%s (%s)" % (
                    n, "s" if n > 1 else "", where), v, v >= 1,
                    "%s×" % fmt(v))
        v = vs("tcp_cr_1" + sfx, "cpu_us_per_conn", "haproxy")
        if v is not None:
            add("CPU per connection ≤ HAProxy's, 1 client (%s)" % where, v,
                v <= 1, "%s× (%s vs %s µs)" % (
                    fmt(v), fmt(med("tcp_cr_1" + sfx, "strait",
                                    "cpu_us_per_conn")),
                    fmt(med("tcp_cr_1" + sfx, "haproxy",
                            "cpu_us_per_conn"))))
        s = med("udp_1g_iperf3" + sfx, "strait", "loss_pct")
        k = med("udp_1g_iperf3" + sfx, "kernel-dnat", "loss_pct")
        if s is not None and k is not None:
            add("UDP loss at 1 Gbit/s (iperf3) ≤ 2× kernel DNAT's, or under "
                "0.1 %% (%s)" % where, s, s <= max(2 * k, 0.1),
                "%s %% vs %s %%" % (fmt(s), fmt(k)))
    v = med("mem_idle_1", "strait", "rss_kb")
    floor = med("mem_idle_1", "c-floor", "rss_kb")
    if v is not None:
        add("idle RSS < 1 MiB", v, v < 1024, "%s kB%s" % (
            fmt(v), "; a C program that only sleeps: %s kB" % fmt(floor)
            if floor else ""))
    v = next((r["median"] for r in rows if r["scenario"].startswith("mem_")
              and r["scenario"].endswith("_ports")
              and r["subject"] == "strait" and r["metric"] == "pss_kb"), None)
    if v is not None:
        add("100 processes' PSS < 15 MB", v, v < 15000,
            "%s MB" % fmt(v / 1000))
    idle, after = (med("mem_burst", "strait", m)
                   for m in ("rss_idle_kb", "rss_after_kb"))
    if idle and after is not None:
        add("RSS 2 s after a burst ≤ 1.5× idle", after, after <= 1.5 * idle,
            "%s kB after, %s kB idle, %s kB held" % (
                fmt(after), fmt(idle),
                fmt(med("mem_burst", "strait", "rss_held_kb"))))
    return t


def detail(rows):
    """Every figure, scenario by scenario, with min-max and ratios"""
    lines = ["# Every figure", "",
             "Medians, min–max over the repetitions, and the ratio to "
             "docker-proxy's and to direct's median of the same scenario.",
             ""]
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
    return lines


COMMANDS = """\
# How each figure is taken

Networks (namespaces made by the bench, removed at the end):

- veth: client ns (198.51.100.2) → host ns (the subject, on
  198.51.100.1) → container ns (203.0.113.2: echod, iperf3) over veth
  pairs
- lo (the `.lo` scenarios): one namespace; client, subject and servers
  all on 127.0.0.1

Subjects (the container's ports: 5000 tcp echo, 5001 udp echo, 5002 udp
sink, 5201 iperf3; the subject listens at the same port + 1000):

- docker-proxy / strait: `PROXY -proto tcp|udp -host-ip FRONT
  -host-port P+1000 -container-ip BACK -container-port P` (fd 3 a
  readiness pipe, as dockerd gives it); strait-no-splice adds
  `-no-splice`; strait-no-sandbox is the same source built with `make
  SANDBOX=0` (no Landlock, no seccomp filter); strait-transparent adds
  `-transparent`, with the host namespace's `ip rule add fwmark 0x2a
  lookup 142`, `ip route add local 0.0.0.0/0 dev lo table 142` and an
  nft `socket transparent 1 meta mark set 0x2a` prerouting rule while
  it runs; its load comes from a second client address, 198.51.100.3
  (`LOADGEN_SRC`), so that the TIME_WAIT sockets its proxy leaves in the
  host namespace, bound to its clients' addresses and ports, never meet
  another subject's connections; at each start one held connection checks
  that the container sees 198.51.100.3
- socat: `socat TCP-LISTEN:P+1000,bind=FRONT,reuseaddr,fork TCP:BACK:P`
- haproxy: `haproxy -db -f CFG`, CFG = `nbthread 1`, `maxconn 4000`
  (the burst: 11000), `mode tcp`, one `listen` per port (`option
  splice-auto` for haproxy-splice)
- socket-proxyd: `systemd-socket-activate -l FRONT:P+1000
  /lib/systemd/systemd-socket-proxyd --connections-max=20000 BACK:P`,
  one per port; a first connection makes systemd-socket-activate exec
  it, before any figure is taken
- kernel-dnat: an nft `dnat to BACK:P` rule (prerouting on veth, output
  on loopback)
- direct: the client addresses BACK:P itself

Every process the bench starts gets RLIMIT_NOFILE at its hard limit (in
the header: raising that needs CAP_SYS_RESOURCE).

Placements (taskset; a scenario without a suffix is veth, shared):

- shared: the scheduler places client, subject and servers on the two
  vCPUs as it likes, as on a busy host
- .pinned: the subject alone on CPU 1; load generator and container
  servers on CPU 0: what the subject carries when it is not the one starved
- .1cpu: all three on CPU 1: request/response latency is then the cost of
  the path itself; shared, it is mostly the wake-up of an idle vCPU (about
  90 µs on this VM), which no subject controls
- .lo: the loopback network, shared CPUs
- .apart: the container's server alone on CPU 1, load generator and
  subject on CPU 0: UDP loss when the receiving server is not starved

Scenarios (client side; loadgen is bench/loadgen.c, echod bench/echod.c):

- tcp_bulk_N: `iperf3 -c ADDR -p PORT -t SECS -P N -J` against a fresh
  `iperf3 -s -1`; Gbit/s received; proxy user+sys CPU per GB (1 stream)
- tcp_rr: `loadgen tcp-rr ADDR PORT SECS` (64 B ping-pong, one connection)
- tcp_cr_N: `loadgen tcp-cr ADDR PORT SECS N` (N threads: connect, 64 B
  each way, close); connection time p50/p99; proxy CPU per connection
  (user+sys of its processes); CPU per connection of the whole path (the
  load generator's own user+sys, the proxy's and the echo server's: the
  kernel's packet work on veth and loopback runs in the sender's context,
  so kernel DNAT's cost is in it too); peak RSS is the proxy's VmHWM after
  the 32-client test
- udp_1g / udp_max: `loadgen udp-blast ADDR PORT SECS 1000|0 1400` into a
  counting sink; delivered = datagrams counted by the sink
- udp_1g_iperf3: `iperf3 -c ADDR -p PORT -u -b 1G -l 1400 -t SECS -J`
  (iperf3 paces with a 1 ms timer: bursts of about 90 datagrams);
  delivered and loss as the iperf3 server counted them
- udp_rr: `loadgen udp-rr ADDR PORT SECS`
- mem_idle_1 / mem_N_ports: VmRSS, smaps_rollup Pss and USS
  (Private_Clean + Private_Dirty) of 1 and of N idle TCP ports, one
  process each, on consecutive ports (strait-range: the N ports in one
  strait-proxy, `-host-port 8000-80NN -container-port 7000-70NN`;
  haproxy: one process); c-floor is bench/floor.c, a C program that only
  says ready on fd 3 and sleeps, linked as strait-proxy is: the floor
  glibc and the kernel's fault-around set for any dynamically linked C
  process here
- mem_burst: the proxy's VmRSS idle, while `loadgen tcp-hold ADDR PORT 60
  N` holds N connections (opened one by one, each proven by a 1-byte
  echo), and 2 s after they all closed
"""

PICTURES = [
    ("tcp_cr", "TCP connections per second"),
    ("memory", "memory: idle, many ports, a burst of connections"),
    ("udp_loss", "UDP loss at 1 Gbit/s offered"),
    ("loopback", "loopback: client, proxy and server on 127.0.0.1"),
    ("latency", "request/response latency"),
    ("tcp_bulk", "TCP bulk throughput"),
    ("transparent", "transparent mode vs plain strait vs kernel DNAT"),
]


def write_md(path, rows, info, tgts, pics):
    base = os.path.basename(path)[:-3]
    lines = [
        "# strait benchmark, %s" % info["date"], "",
        "Command: `%s`  " % info["cmd"],
        "Machine: %s, %s cores, Linux %s  " % (info["cpu"], info["cores"],
                                               info["kernel"]),
        "Versions: %s; docker.io %s; %s; %s; systemd %s; %s  " % (
            info["strait-proxy"], info["docker-proxy"], info["socat"],
            info["haproxy"], info["systemd"], info["iperf3"]),
        "Repetitions: %s, %s s per measurement, medians; RLIMIT_NOFILE %s; "
        "the run took %.1f minutes." % (info["reps"], info["secs"],
                                        info["nofile"], info["minutes"]),
        "",
        LEGEND, ""]
    lines += ["## Targets (this run)", "", "| target | measured | met |",
              "|---|---|---|"]
    lines += ["| %s | %s | %s |" % x for x in tgts]
    lines.append("")
    shown = [(n, t) for n, t in PICTURES if n in pics]
    if shown:
        lines += ["## Pictures", ""]
        lines += ["![%s](%s-%s.png)\n" % (t, base, n) for n, t in shown]
    idx = lookup(rows)
    for title, spec, cols, ratios, note in TABLES:
        lines += wide_table(idx, title, spec, cols, ratios, note,
                            info["n_many"], info["n_hold"])
    lines += detail(rows)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n\n" + COMMANDS)
