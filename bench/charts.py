# SPDX-License-Identifier: MIT
"""The bench's pictures (gnuplot, pngcairo): horizontal bars, one per
subject, the median printed at its end and the min-max as a whisker;
strait in its own colour, its variants in related shades, the peers in
blues, the ceilings (no proxy) in grey. A picture is one or more panels
side by side, each one figure of one scenario."""
import os
import shutil
import subprocess

COLOURS = {
    "strait": "#e8590c", "strait-no-sandbox": "#f4924f",
    "strait-no-splice": "#f9bb8b", "strait-transparent": "#a8400a",
    "strait-range": "#fd7e14",
    "docker-proxy": "#1c5d99", "haproxy": "#4a86c5",
    "haproxy-splice": "#7fa9d6", "socket-proxyd": "#5b8c9a",
    "socat": "#8d9db3", "c-floor": "#9e9e9e",
    "kernel-dnat": "#bdbdbd", "direct": "#d9d9d9",
}
# top to bottom: strait first, then the peers, the ceilings last
ORDER = ["strait", "strait-range", "strait-no-sandbox", "strait-no-splice",
         "strait-transparent", "docker-proxy", "haproxy", "haproxy-splice",
         "socket-proxyd", "socat", "c-floor", "kernel-dnat", "direct"]

# file name, title, panels: (scenario, metric, panel title, higher is
# better, scale, unit, subjects or None for all)
CHARTS = [
    ("tcp_cr", "TCP connections per second (veth, shared CPUs)", [
        ("tcp_cr_1", "conn_s", "1 client", True, 1, "", None),
        ("tcp_cr_32", "conn_s", "32 clients", True, 1, "", None)]),
    ("memory", "Memory (MB)", [
        ("mem_idle_1", "rss_kb", "idle, one port: RSS", False, 1e-3, "",
         None),
        ("mem_{many}_ports", "pss_kb",
         "{many} ports: PSS of all processes (strait-range: one)",
         False, 1e-3, "", None),
        ("mem_burst", "rss_held_kb", "{hold} connections held: RSS", False,
         1e-3, "", None),
        ("mem_burst", "rss_after_kb", "2 s after they closed: RSS", False,
         1e-3, "", None)]),
    ("udp_loss", "UDP loss at 1 Gbit/s offered, 1400-byte datagrams (%)", [
        ("udp_1g", "loss_pct", "veth, smooth (loadgen)", False, 1, "", None),
        ("udp_1g_iperf3", "loss_pct", "veth, iperf3's 1 ms bursts", False, 1,
         "", None),
        ("udp_1g_iperf3.lo", "loss_pct", "loopback, iperf3", False, 1, "",
         None),
        ("udp_1g_iperf3.apart", "loss_pct", "veth, iperf3, server alone "
         "on a CPU", False, 1, "", None)]),
    ("loopback", "Loopback: client, proxy and server on 127.0.0.1", [
        ("tcp_cr_1.lo", "conn_s", "connections/s, 1 client", True, 1, "",
         None),
        ("tcp_cr_32.lo", "conn_s", "connections/s, 32 clients", True, 1, "",
         None),
        ("tcp_rr.lo", "rr_p50_us", "64 B request/response p50 (µs)", False,
         1, "", None)]),
    ("latency", "64-byte request/response, p50 (µs)", [
        ("tcp_rr", "rr_p50_us", "TCP, shared CPUs", False, 1, "", None),
        ("tcp_rr.1cpu", "rr_p50_us", "TCP, one CPU", False, 1, "", None),
        ("udp_rr", "udp_rr_p50_us", "UDP, shared CPUs", False, 1, "", None)]),
    ("tcp_bulk", "TCP bulk throughput (Gbit/s; veth)", [
        ("tcp_bulk_1", "gbit_s", "1 stream", True, 1, "", None),
        ("tcp_bulk_4", "gbit_s", "4 streams", True, 1, "", None)]),
    ("transparent", "strait -transparent vs plain strait vs kernel DNAT "
     "(veth)", [
        ("tcp_cr_1", "conn_s", "connections/s, 1 client", True, 1, "",
         ("direct", "kernel-dnat", "strait", "strait-transparent")),
        ("tcp_rr", "rr_p50_us", "request/response p50 (µs)", False, 1, "",
         ("direct", "kernel-dnat", "strait", "strait-transparent")),
        ("tcp_cr_1", "path_cpu_us_per_conn",
         "CPU per connection, whole path (µs)", False, 1, "",
         ("direct", "kernel-dnat", "strait", "strait-transparent"))],
     ("strait-transparent", (("strait", "strait"),
                             ("kernel-dnat", "kernel DNAT")))),
]


def num(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    if v == 0:
        return "0"
    return "%.2g" % v if v < 1 else "%.2f" % v


def _panel_data(rows, scen, metric, scale, subjects):
    got = {r["subject"]: r for r in rows
           if r["scenario"] == scen and r["metric"] == metric}
    names = [s for s in ORDER if s in got and (not subjects
                                               or s in subjects)]
    return [(s, got[s]["median"] * scale, got[s]["min"] * scale,
             got[s]["max"] * scale) for s in names]


# on whose bar the ratios go, and to whom
COMPARE = ("strait", (("docker-proxy", "docker-proxy"),
                      ("haproxy", "HAProxy")))


def _label(name, med, data, compare):
    """the value; on the compared subject's bar also the ratios"""
    text = num(med)
    if name != compare[0]:
        return text
    vs = []
    for peer, short in compare[1]:
        ref = next((d[1] for d in data if d[0] == peer), None)
        if ref and med:
            vs.append("%.2f× %s" % (med / ref, short))
    return "{/:Bold %s}%s" % (text, "  (%s)" % ", ".join(vs) if vs else "")


# a panel's plot area (px) and the width of one label character (px)
PLOT_PX, CHAR_PX = 400, 6.3


def _panel(path, i, title, data, higher, slots, hint, compare):
    dat = "%s.%d.dat" % (path, i)
    top = max(max(d[1], d[3]) for d in data) or 1
    xmax = top * 1.2
    with open(dat, "w") as f:
        for k, (name, med, lo, hi) in enumerate(data):
            label = _label(name, med, data, compare)
            f.write('%d %g %g %g %d "%s" "%s" %g\n' % (
                k, med, lo, hi, int(COLOURS.get(name, "#777777")[1:], 16),
                name, label, max(med, hi)))
            # room for the label after the bar
            text = len(label.replace("{/:Bold ", "").rstrip("}")) + 2
            xmax = max(xmax, max(med, hi, top * 0.02) / max(
                0.25, 1 - text * CHAR_PX / PLOT_PX))
    ranges = any(d[2] != d[3] for d in data)
    cmds = [
        "set title \"%s%s\" font ',11'" % (title, "  (%s is better)" % (
            "higher" if higher else "lower") if hint else ""),
        "unset key", "unset xtics", "set border 2 lc rgb '#888888'",
        "set ytics nomirror scale 0 textcolor rgb '#222222' font ',10'",
        "set yrange [%g:%g]" % (slots - 0.4, -0.6),
        "set xrange [0:%g]" % xmax,
        "plot '%s' using 2:1:(0):2:($1-0.36):($1+0.36):5:ytic(6) "
        "with boxxyerror lc rgb variable fs solid 1.0 noborder, " % dat +
        ("'' using 2:1:3:4 with xerrorbars lc rgb '#444444' pt 7 ps 0 "
         "lw 1, " if ranges else "") +
        "'' using 8:1:7 with labels left offset char 0.8,0 font ',9'"]
    return cmds, dat


def chart(path, title, panels, rows, many, hold, compare=COMPARE):
    """One picture; False if nothing to draw or no gnuplot"""
    drawn = []
    for scen, metric, ptitle, higher, scale, unit, subjects in panels:
        data = _panel_data(rows, scen.format(many=many, hold=hold), metric,
                           scale, subjects)
        if data:
            drawn.append((ptitle.format(many=many, hold=hold), data, higher))
    if not drawn or not shutil.which("gnuplot"):
        return False
    # the direction in the title if every panel shares it
    same = len({d[2] for d in drawn}) == 1
    if same:
        title += " — %s is better" % ("higher" if drawn[0][2] else "lower")
    cols = 2 if len(drawn) == 4 else len(drawn)
    rows_of = [drawn[i:i + cols] for i in range(0, len(drawn), cols)]
    slots = [max(len(d[1]) for d in row) for row in rows_of]
    heights = [70 + 30 * n for n in slots]
    width, height = 560 * cols, sum(heights) + 40
    script = ["set encoding utf8",
              "set terminal pngcairo enhanced size %d,%d font 'sans,10'" % (
                  width, height),
              "set output '%s'" % path,
              "set multiplot title \"%s\" font ',13'" % title]
    dats = []
    y = 1 - 40 / height  # below the title
    for r, row in enumerate(rows_of):
        h = heights[r] / height
        y -= h
        for c, (ptitle, data, higher) in enumerate(row):
            # each panel placed by hand: rows as tall as their bars
            script += ["set origin %g,%g" % (c / cols, y),
                       "set size %g,%g" % (1 / cols, h),
                       "set lmargin 19", "set rmargin 2",
                       "set tmargin 2.5", "set bmargin 0.5"]
            cmds, dat = _panel(path, len(dats), ptitle, data, higher,
                               slots[r], not same, compare)
            script += cmds
            dats.append(dat)
    script.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n",
                       text=True, capture_output=True, timeout=60)
    for d in dats:
        os.unlink(d)
    if r.returncode:
        print("charts: gnuplot: %s" % r.stderr.strip())
    return r.returncode == 0


def draw_all(base, rows, many, hold):
    """Every picture this run has data for: {name: path}"""
    out = {}
    for name, title, panels, *compare in CHARTS:
        path = "%s-%s.png" % (base, name)
        if chart(path, title, panels, rows, many, hold, *compare):
            out[name] = path
    return out
