#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Publishing many ports under the real dockerd 20.10 (issue 14, part 3).

    ports.py --build DIR [--nosandbox DIR] [--dynamic DIR] [--floor PATH]
             [--floor-static PATH] [--ports 200]
             [--reps 5] [--spawns 100] [--out DIR] [--timeout SECS]

dockerd starts one proxy process per published port per address family
(0.0.0.0 and ::) and waits for each one's readiness before the next, so
the proxy's start-up is paid hundreds of times by `docker run -p` with a
range (moby#14288). For each subject as --userland-proxy-path:

  strait             DIR/strait-proxy (the default build: a static PIE)
  strait-no-sandbox  the --nosandbox build's strait-proxy (make SANDBOX=0
                     LINK=static: what the sandbox costs)
  strait-dynamic     the --dynamic build's strait-proxy (make
                     LINK=dynamic: glibc and libevent loaded at each start)
  docker-proxy       /usr/sbin/docker-proxy (20.10)
  c-floor            DIR/floor or --floor (bench/floor.c, make
                     bench-tools): a C program that binds the port and
                     says ready, nothing else, built as C programs are by
                     default (dynamic glibc, PIE, full RELRO): the floor
                     any process-per-port proxy built so has here, and
                     the reference of every ratio
  c-floor-static     DIR/floor-static or --floor-static: the same program
                     linked as strait is (a static PIE): the floor of a
                     statically linked proxy

it measures, first without dockerd, the exec-to-ready time of one proxy
(posix_spawn with fd 3 a readiness pipe and fds 0-2 /dev/null, as dockerd
does, until "0\\n" arrives) and its SIGINT-to-exit time; then, with a
busybox container publishing PORTS TCP ports (`-p 20000-...:8000-...`),
`docker run -d` and `docker rm -f` wall time, the number of proxy
processes and their total PSS / RSS / USS (smaps_rollup) while the
container runs. Medians of REPS repetitions, all from the same run, and
ratios to the floor. About 3 minutes with the defaults here.

Everything runs in a throw-away network namespace with one dockerd (and
containerd) of its own, started as `make test-docker` does
(tests/docker/launch.sh: private /run, data root, exec root, socket and
config; --iptables=false). --userland-proxy-path is a symlink that is
switched between subjects, so all subjects share one dockerd and the
repetitions interleave them. dockerd, containerd, the namespace and the
work directory are removed by PID and name on exit, failure, Ctrl-C or
SIGTERM. Writes RESULTS/DATE-ports.md and .csv.
"""
import argparse
import csv
import datetime
import fcntl
import glob
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
sys.path.insert(0, os.path.join(TOP, "tests", "docker"))
import e2e  # noqa: E402  (Env, run, remove_stale: the e2e's own approach)

PY = sys.executable
DOCKER_PROXY = "/usr/sbin/docker-proxy"
IMAGE = "strait-ports:1"
HOST_BASE, CTR_BASE = 20000, 8000
SPAWN_PORT = 30000  # the exec-to-ready loop's port, in the namespace


class Fail(Exception):
    pass


# ---- exec to ready (runs inside the namespace: ports.py --exec-loop) -------

# a proxy starts with every signal at its default and none blocked, as
# under dockerd, even if we were started with some ignored (a background
# job of a shell ignores SIGINT: docker-proxy would then never stop)
SIGDEF = [s for s in signal.valid_signals()
          if s not in (signal.SIGKILL, signal.SIGSTOP)]


def spawn_ready(path, argv, devnull):
    """Start @path as dockerd does and time it to its readiness byte.

    Return: (ready seconds, stop seconds, what it wrote on fd 3).
    """
    r, w = os.pipe()
    # keep the pipe off fd 3 so the dup2 below makes a fresh, inheritable fd
    r2 = fcntl.fcntl(r, fcntl.F_DUPFD_CLOEXEC, 10)
    w2 = fcntl.fcntl(w, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(r)
    os.close(w)
    acts = [(os.POSIX_SPAWN_DUP2, devnull, 0),
            (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2),
            (os.POSIX_SPAWN_DUP2, w2, 3)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(path, argv, os.environ, file_actions=acts,
                         setsigdef=SIGDEF, setsigmask=())
    os.close(w2)
    got = b""
    while len(got) < 2:
        chunk = os.read(r2, 2 - len(got))
        if not chunk:
            break
        got += chunk
    t1 = time.perf_counter()
    os.close(r2)
    # docker-proxy reports ready before it catches SIGINT (a SIGINT
    # that early kills it at once); dockerd stops a proxy much later
    time.sleep(0.01)
    t2 = time.perf_counter()
    os.kill(pid, signal.SIGINT)
    os.waitpid(pid, 0)
    t3 = time.perf_counter()
    return t1 - t0, t3 - t2, got


def exec_loop(subjects, n, reps):
    """Print, per repetition and subject, the median exec-to-ready and
    SIGINT-to-exit times of @n starts, as one JSON line each. The
    subjects take turns start by start, so that whatever else the machine
    does falls on all of them alike."""
    devnull = os.open(os.devnull, os.O_RDWR)
    argvs = {name: [path, "-proto", "tcp", "-host-ip", "0.0.0.0",
                    "-host-port", str(SPAWN_PORT), "-container-ip",
                    "127.0.0.1", "-container-port", str(CTR_BASE)]
             for name, path in subjects}
    for name, path in subjects:
        spawn_ready(path, argvs[name], devnull)  # warm the page cache
    for rep in range(reps):
        ready = {name: [] for name, _ in subjects}
        stop = {name: [] for name, _ in subjects}
        for _ in range(n):
            for name, path in subjects:
                a, b, got = spawn_ready(path, argvs[name], devnull)
                if got != b"0\n":
                    print(json.dumps({"error": "%s: fd 3 said %r"
                                      % (name, got)}), flush=True)
                    return 1
                ready[name].append(a)
                stop[name].append(b)
        for name, _ in subjects:
            print(json.dumps({"rep": rep, "subject": name,
                              "ready_us": statistics.median(ready[name]) * 1e6,
                              "stop_us": statistics.median(stop[name]) * 1e6}),
                  flush=True)
    return 0


# ---- dockerd ---------------------------------------------------------------

class Env(e2e.Env):
    """e2e's dockerd-in-a-namespace, with the proxy path a symlink that is
    switched between subjects, and dockerd's environment left as it is."""

    def __init__(self):
        self.ns = "strait-d%d-ports" % os.getpid()  # e2e.remove_stale's
        self.out_ns = None
        self.w = tempfile.mkdtemp(prefix="strait-e2e-%d-" % os.getpid())
        os.chmod(self.w, 0o755)
        self.proxy = os.path.join(self.w, "proxy")
        self.iptables, self.ipfwd = "false", "false"
        self.launcher = None
        self.helpers = []
        self.strait = False

    def use(self, path):
        tmp = self.proxy + ".new"
        os.symlink(path, tmp)
        os.replace(tmp, self.proxy)

    def make_ns(self):
        e2e.run(["ip", "netns", "add", self.ns])
        self.in_ns("ip", "link", "set", "lo", "up")

    def start(self, timeout):
        with open("/proc/1/mountinfo") as f, \
                open(os.path.join(self.w, "cgroups"), "w") as out:
            for ln in f:
                pre, post = ln.split(" - ", 1)
                fstype, _src, opts = post.split()[:3]
                if fstype in ("cgroup", "cgroup2"):
                    sub = ",".join(o for o in opts.split(",")
                                   if o not in ("rw", "ro"))
                    out.write("%s %s %s\n" % (pre.split()[4], fstype,
                                              sub or "none"))
        # a session of its own: a Ctrl-C at the terminal reaches us, and
        # we stop the daemons in order
        self.launcher = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "sh",
             os.path.join(TOP, "tests", "docker", "launch.sh"), self.w,
             self.proxy, self.iptables, self.ipfwd],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.w, "launch.log"), "w"),
            close_fds=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        while self.docker("version", ok=False).returncode:
            checkpoint()
            if self.launcher.poll() is not None or \
                    time.monotonic() > deadline:
                raise Fail("dockerd did not start: %s" % self.log())
            time.sleep(0.3)

    def children(self, dockerd):
        """PIDs of dockerd's direct children but containerd (launch.sh
        starts it from the shell that becomes dockerd): its proxies"""
        out = []
        skip = self.pid_of("containerd")
        for d in glob.glob("/proc/[0-9]*"):
            try:
                with open(d + "/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == dockerd and int(d[6:]) != skip:
                out.append(int(d[6:]))
        return out


def build_image(env):
    root = os.path.join(env.w, "rootfs")
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "www"))
    shutil.copy("/bin/busybox", os.path.join(root, "bin/busybox"))
    for applet in e2e.run(["/bin/busybox", "--list"]).stdout.split():
        if applet != "busybox":
            os.symlink("busybox", os.path.join(root, "bin", applet))
    with open(os.path.join(root, "www/index.html"), "w") as f:
        f.write(INDEX)
    tar = subprocess.Popen(["tar", "-C", root, "-c", "."],
                           stdout=subprocess.PIPE)
    r = subprocess.run([e2e.DOCKER, "-H", "unix://%s/docker.sock" % env.w,
                        "import", "-", IMAGE], stdin=tar.stdout,
                       capture_output=True, text=True, timeout=120)
    tar.wait(30)
    if r.returncode:
        raise Fail("docker import: %s" % r.stderr)


INDEX = "hello from strait ports\n"
SERVE = ["/bin/httpd", "-f", "-p", str(CTR_BASE), "-h", "/www"]


def memory(pids):
    pss = rss = uss = 0
    for pid in pids:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                key, val = line.split(":", 1)
                if key == "Pss":
                    pss += int(val.split()[0])
                elif key == "Rss":
                    rss += int(val.split()[0])
                elif key in ("Private_Clean", "Private_Dirty"):
                    uss += int(val.split()[0])
    return pss, rss, uss


def timed(env, args, timeout):
    checkpoint()
    t0 = time.monotonic()
    r = env.docker(*args, ok=False, timeout=timeout)
    secs = time.monotonic() - t0
    if r.returncode:
        raise Fail("docker %s: %s" % (" ".join(args[:3]), r.stderr.strip()))
    return secs


def check_served(env, port):
    """Once per subject that forwards: the first published port answers"""
    deadline = time.monotonic() + 20
    while True:
        r = env.in_ns(PY, os.path.join(TOP, "tests", "docker", "client.py"),
                      "get", "http://127.0.0.1:%d/" % port, ok=False,
                      timeout=30)
        if r.returncode == 0 and r.stdout.startswith("%d " % len(INDEX)):
            return
        if time.monotonic() > deadline:
            raise Fail("port %d never answered: %s" % (port, r.stderr[-300:]))
        time.sleep(0.3)


def one_run(env, name, path, nports, dockerd, checked, log):
    """docker run -d with @nports ports through @path, measure, rm -f"""
    env.use(path)
    real = os.path.realpath(path)
    limit = 30 + nports * 0.2
    ctr = "ports-%s" % name
    pub = "%d-%d:%d-%d" % (HOST_BASE, HOST_BASE + nports - 1, CTR_BASE,
                           CTR_BASE + nports - 1)
    run_s = timed(env, ["run", "-d", "--name", ctr, "-p", pub, IMAGE,
                        *SERVE], limit)
    kids = env.children(dockerd)
    pids = [p for p in kids
            if os.path.realpath("/proc/%d/exe" % p) == real]
    if len(pids) != len(kids):
        raise Fail("%s: %d of dockerd's %d children are not %s"
                   % (name, len(kids) - len(pids), len(kids), real))
    pss, rss, uss = memory(pids)
    if name not in checked and not name.startswith("c-floor"):
        check_served(env, HOST_BASE)
        checked.add(name)
    rm_s = timed(env, ["rm", "-f", ctr], limit)
    deadline = time.monotonic() + 15
    while env.children(dockerd) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = env.children(dockerd)
    if left:
        raise Fail("%s: %d proxies left after docker rm -f" % (name,
                                                                len(left)))
    log("  %-18s docker run %6.2f s  rm -f %5.2f s  %d procs  PSS %6.1f MB"
        % (name, run_s, rm_s, len(pids), pss / 1024))
    return {"run_s": run_s, "rm_s": rm_s, "procs": len(pids),
            "pss_kb": pss, "rss_kb": rss, "uss_kb": uss}


def baseline(env, limit):
    """docker run -d / rm -f with no port: what is not the proxies'"""
    run_s = timed(env, ["run", "-d", "--name", "ports-none", IMAGE, *SERVE],
                  limit)
    rm_s = timed(env, ["rm", "-f", "ports-none"], limit)
    return {"run_s": run_s, "rm_s": rm_s}


def dockerd_runs(env, subjects, a, log):
    results = {}
    dockerd = env.pid_of("dockerd")
    # warm-up, not counted: first container, first proxies
    env.use(subjects[0][1])
    baseline(env, 60)
    timed(env, ["run", "-d", "--name", "ports-warm", "-p", "%d-%d:%d-%d" % (
        HOST_BASE, HOST_BASE + 3, CTR_BASE, CTR_BASE + 3), IMAGE, *SERVE], 60)
    timed(env, ["rm", "-f", "ports-warm"], 60)
    checked = set()
    for rep in range(a.reps):
        log("rep %d/%d" % (rep + 1, a.reps))
        base = baseline(env, 60)
        for k, v in base.items():
            results.setdefault(("no-ports", k), []).append(v)
        order = subjects[rep % len(subjects):] + subjects[:rep %
                                                          len(subjects)]
        for name, path in order:
            m = one_run(env, name, path, a.ports, dockerd, checked, log)
            # dockerd's own cost per proxy: above the same rep's no-port run
            m["run_ms_per_proxy"] = ((m["run_s"] - base["run_s"]) * 1e3 /
                                     max(m["procs"], 1))
            m["rm_ms_per_proxy"] = ((m["rm_s"] - base["rm_s"]) * 1e3 /
                                    max(m["procs"], 1))
            for k, v in m.items():
                results.setdefault((name, k), []).append(v)
    return results


def exec_runs(env, subjects, a, log, procs):
    argv = ["ip", "netns", "exec", env.ns, PY, os.path.abspath(__file__),
            "--exec-loop", "--spawns", str(a.spawns), "--reps", str(a.reps)]
    for name, path in subjects:
        argv += ["--subject", "%s=%s" % (name, path)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                         start_new_session=True)
    procs.append(p)
    results = {}
    for line in p.stdout:
        checkpoint()
        d = json.loads(line)
        if "error" in d:
            raise Fail("exec loop: " + d["error"])
        log("  exec %-18s ready %7.0f us  stop %7.0f us" % (
            d["subject"], d["ready_us"], d["stop_us"]))
        for k in ("ready_us", "stop_us"):
            results.setdefault((d["subject"], k), []).append(d[k])
    if p.wait(30):
        raise Fail("exec loop: exit %d" % p.returncode)
    return results


# ---- report ----------------------------------------------------------------

def summarize(results):
    rows = []
    for (subj, metric), vals in sorted(results.items()):
        med = statistics.median(vals)
        ref = results.get(("c-floor", metric)) if subj != "no-ports" \
            else None
        rows.append({"subject": subj, "metric": metric, "median": med,
                     "min": min(vals), "max": max(vals), "n": len(vals),
                     "vs_floor": med / statistics.median(ref)
                     if ref and statistics.median(ref) else None})
    return rows


def fmt(v, digits=3):
    if v is None:
        return "–"
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.*g" % (digits, v)


COLS = [("run_s", "docker run s"), ("rm_s", "rm -f s"),
        ("procs", "procs"), ("pss_kb", "PSS MB"),
        ("run_ms_per_proxy", "run ms/proxy"),
        ("ready_us", "exec→ready µs"), ("stop_us", "SIGINT→exit µs")]


def table(rows, subjects):
    get = {(r["subject"], r["metric"]): r for r in rows}
    head = ["subject"]
    for key, label in COLS:
        head.append(label)
        if key not in ("procs",):
            head.append("× floor")
    out = [head]
    for name in [s for s, _ in subjects] + ["no-ports"]:
        line = [name]
        for key, _label in COLS:
            r = get.get((name, key))
            v = r["median"] if r else None
            if key == "pss_kb" and v is not None:
                v /= 1024
            line.append(fmt(v))
            if key not in ("procs",):
                line.append(fmt(r["vs_floor"]) if r else "–")
        out.append(line)
    return out


PROCS = [0]  # proxies per `docker run`, for targets()


def targets(rows):
    get = {(r["subject"], r["metric"]): r for r in rows}
    out = []
    f = get.get(("c-floor", "run_s"))
    for subj in ("strait", "strait-dynamic"):
        s = get.get((subj, "run_s"))
        if s and f:
            ratio = s["vs_floor"]
            out.append(("%s `docker run` ≤ 1.25× the C floor's" % subj,
                        "%.2f× (%.2f s vs %.2f s)" % (ratio, s["median"],
                                                      f["median"]),
                        "yes" if ratio <= 1.25 else "**no**"))
    for k, what in (("run_s", "`docker run`"), ("rm_s", "`docker rm -f`"),
                    ("pss_kb", "proxies' PSS")):
        s, d = get.get(("strait", k)), get.get(("docker-proxy", k))
        if s and d and d["median"]:
            out.append(("strait %s below docker-proxy's" % what,
                         "%.2f× docker-proxy's" % (s["median"] / d["median"]),
                         "yes" if s["median"] < d["median"] else "**no**"))
    s, f = get.get(("strait", "ready_us")), get.get(("c-floor", "ready_us"))
    if s and f:
        out.append(("strait's start-up above the C floor's (exec→ready; "
                    "dockerd pays it once per proxy, in series)",
                    "%+.0f µs per proxy, %+.2f s for %d proxies"
                    % (s["median"] - f["median"],
                       (s["median"] - f["median"]) * 1e-6 * PROCS[0],
                       PROCS[0]), "–"))
    s, f = get.get(("strait", "run_s")), get.get(("c-floor-static", "run_s"))
    if s and f and f["median"]:
        out.append(("strait `docker run` against the static C floor's (a "
                    "static PIE that only binds, linked as strait is)",
                    "%.2f× (%.2f s vs %.2f s)" % (s["median"] / f["median"],
                                                  s["median"], f["median"]),
                    "–"))
    s, n = get.get(("strait", "ready_us")), \
        get.get(("strait-no-sandbox", "ready_us"))
    if s and n:
        out.append(("the sandbox's cost at start-up (strait − no-sandbox, "
                    "exec→ready)", "%+.0f µs (%.0f vs %.0f)"
                    % (s["median"] - n["median"], s["median"], n["median"]),
                    "–"))
    return out


METHOD = """## How each figure is taken

- dockerd 20.10 (Debian's docker.io) with containerd, in a network
  namespace of its own, started by tests/docker/launch.sh as `make
  test-docker` does (private /run, data root, exec root, socket, config),
  `--iptables=false --ip-forward=false --userland-proxy=true`, storage
  overlay2. One dockerd for all subjects: its `--userland-proxy-path` is a
  symlink switched between them; each repetition runs every subject, in an
  order rotated per repetition.
- docker run s: wall time of `docker run -d -p 20000-N:8000-N IMAGE
  httpd` (a busybox image imported from a local rootfs); dockerd starts one
  proxy per port for 0.0.0.0 and one for ::, each after the previous one
  reported ready. rm -f s: wall time of `docker rm -f` (dockerd stops each
  proxy with SIGINT and waits for it). no-ports: the same container with no
  port published, in the same repetition; run ms/proxy = (docker run −
  no-ports run) / procs.
- procs, PSS MB: dockerd's children while the container runs (all checked
  to be the subject's binary); PSS is the sum of Pss in each one's
  /proc/PID/smaps_rollup (RSS and USS in the CSV).
- exec→ready µs: no dockerd; in the same namespace, posix_spawn(PROXY
  -proto tcp -host-ip 0.0.0.0 -host-port 30000 -container-ip 127.0.0.1
  -container-port 8000) with fds 0-2 /dev/null and fd 3 a pipe, as
  dockerd starts it, to the arrival of "0\\n"; median of SPAWNS starts per
  repetition, the subjects taking turns start by start. SIGINT→exit µs:
  sent 10 ms after ready, to waitpid's return.
- c-floor is bench/floor.c built as a C program is by default (dynamic
  glibc, PIE, full RELRO); c-floor-static the same program linked as
  strait-proxy is by default (a static PIE). Neither forwards anything
  (no check that their ports answer). strait and docker-proxy are checked
  once to serve the first published port (an HTTP GET through it).
- Medians of the repetitions (min–max in the CSV); × floor is the ratio to
  c-floor's median in the same run.
"""


def write_out(base, rows, subjects, info, cmd):
    with open(base + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()),
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    t = table(rows, subjects)
    lines = ["# Publishing many ports under dockerd, %s" % info["date"], "",
             "Command: `%s`  " % cmd,
             "Machine: %s, %s cores, Linux %s  " % (info["cpu"],
                                                    info["cores"],
                                                    info["kernel"]),
             "Versions: %s; docker.io %s  " % (info["strait"],
                                               info["docker"]),
             "%d TCP ports published (%d proxy processes); %d repetitions, "
             "medians; %d starts per exec→ready median; took %.0f s; load "
             "average %s at the start, %s at the end (other work on the "
             "machine shows as noise)." % (
                 info["ports"], info["procs"], info["reps"], info["spawns"],
                 info["secs"], info["load0"], info["load1"]), "",
             "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % x for x in targets(rows)]
    lines += ["", "## Figures", "", "| " + " | ".join(t[0]) + " |",
              "|" + "---|" * len(t[0])]
    lines += ["| " + " | ".join(r) + " |" for r in t[1:]]
    get = {(r["subject"], r["metric"]): r for r in rows}
    spread = [("run_s", "docker run s"), ("rm_s", "rm -f s"),
              ("ready_us", "exec→ready µs")]
    lines += ["", "Spread of the repetitions (min–max):", "",
              "| subject | " + " | ".join(x for _, x in spread) + " |",
              "|---|" + "---|" * len(spread)]
    for name in [s for s, _ in subjects] + ["no-ports"]:
        cells = []
        for key, _ in spread:
            r = get.get((name, key))
            cells.append("%s–%s" % (fmt(r["min"]), fmt(r["max"]))
                         if r else "–")
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n\n" + METHOD)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def versions(build):
    def first(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True,
                               timeout=10)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "strait": first([os.path.join(build, "strait-proxy"), "-v"]),
            "docker": first(["dpkg-query", "-W", "-f", "${Version}",
                             "docker.io"])}


# ---- driver ----------------------------------------------------------------

def subjects_of(a):
    build = os.path.abspath(a.build)
    floor = os.path.abspath(a.floor or os.path.join(build, "floor"))
    subj = [("strait", os.path.join(build, "strait-proxy"))]
    if a.nosandbox:
        subj.append(("strait-no-sandbox", os.path.join(
            os.path.abspath(a.nosandbox), "strait-proxy")))
    if a.dynamic:
        subj.append(("strait-dynamic", os.path.join(
            os.path.abspath(a.dynamic), "strait-proxy")))
    subj += [("docker-proxy", DOCKER_PROXY), ("c-floor", floor)]
    if a.floor_static:
        subj.append(("c-floor-static", os.path.abspath(a.floor_static)))
    for name, path in subj:
        if not os.access(path, os.X_OK):
            hint = " (make O=%s bench-tools)" % a.build \
                if name.startswith("c-floor") else ""
            raise SystemExit("ports.py: %s: no %s%s" % (name, path, hint))
    return subj


STOP = []  # why the run must stop: a signal, the watchdog


def on_signal(signum, _frame):
    STOP.append("interrupted (signal %d)" % signum)
    raise KeyboardInterrupt(STOP[-1])


def on_alarm(_signum, _frame):
    STOP.append("watchdog: over the time limit")
    raise Fail(STOP[-1])


def checkpoint():
    """A signal whose exception was swallowed (raised in a finalizer,
    where Python only prints it) still stops the run here."""
    if STOP:
        raise Fail(STOP[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"),
                    help="strait's build dir (strait-proxy, floor)")
    ap.add_argument("--nosandbox", help="a make SANDBOX=0 build dir, for "
                    "the strait-no-sandbox subject")
    ap.add_argument("--dynamic", help="a make LINK=dynamic build dir, "
                    "for the strait-dynamic subject")
    ap.add_argument("--floor", help="the C floor (default BUILD/floor)")
    ap.add_argument("--floor-static", help="the C floor linked as a static "
                    "PIE, for the c-floor-static subject")
    ap.add_argument("--ports", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--spawns", type=int, default=100,
                    help="starts per exec→ready median")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--timeout", type=int, help="give up (and clean up) "
                    "after this many seconds (default: 300 + 0.1 s per "
                    "port, repetition and subject)")
    ap.add_argument("--exec-loop", action="store_true",
                    help=argparse.SUPPRESS)
    ap.add_argument("--subject", action="append", default=[],
                    help=argparse.SUPPRESS)
    a = ap.parse_args()
    # our children (dockerd, and through it the proxies) must not inherit
    # an ignored SIGINT (see SIGDEF): a handler is reset by exec
    signal.signal(signal.SIGINT, on_signal)
    if a.exec_loop:
        return exec_loop([tuple(s.split("=", 1)) for s in a.subject],
                         a.spawns, a.reps)
    if os.geteuid():
        raise SystemExit("ports.py: needs root (namespaces, dockerd)")
    if not 1 <= a.ports <= 1000:
        raise SystemExit("ports.py: --ports 1..1000")
    subjects = subjects_of(a)

    def log(msg):
        print(msg, flush=True)

    start = time.monotonic()
    load0 = loadavg()
    e2e.remove_stale()
    before = e2e.root_state()
    env = Env()
    procs = []
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(a.timeout or int(300 + 0.1 * a.ports * a.reps *
                                  len(subjects)))
    failed = None
    try:
        env.make_ns()
        log("ports: exec→ready, %d starts x %d reps per subject"
            % (a.spawns, a.reps))
        results = exec_runs(env, subjects, a, log, procs)
        log("ports: dockerd, %d TCP ports, %d reps" % (a.ports, a.reps))
        env.use(subjects[0][1])
        env.start(90)
        build_image(env)
        results.update(dockerd_runs(env, subjects, a, log))
    except (Fail, e2e.Fail, subprocess.TimeoutExpired) as e:
        failed = str(e)
    except KeyboardInterrupt:
        failed = STOP[0] if STOP else "interrupted"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        if failed and env.launcher:
            log(env.log()[-3000:])
        env.stop()
    if STOP and not failed:
        failed = STOP[0]
    if e2e.root_state() != before:
        log("ports: WARNING: the root namespace's links, rules or sysctls "
            "changed during the run (another user of the machine?)")
    if failed:
        log("ports: FAILED: %s" % failed)
        return 1
    secs = time.monotonic() - start
    rows = summarize(results)
    info = versions(os.path.abspath(a.build))
    info.update(date=datetime.date.today().isoformat(), ports=a.ports,
                reps=a.reps, spawns=a.spawns, secs=secs, load0=load0,
                load1=loadavg(),
                procs=int(statistics.median(results[("strait", "procs")])))
    PROCS[0] = info["procs"]
    os.makedirs(a.out, exist_ok=True)
    base = os.path.join(a.out, "%s-ports" % info["date"])
    write_out(base, rows, subjects, info, " ".join(
        ["python3", "bench/ports.py"] + sys.argv[1:]))
    t = table(rows, subjects)
    widths = [max(len(r[i]) for r in t) for i in range(len(t[0]))]
    log("")
    for r in t:
        log("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    log("")
    for x in targets(rows):
        log("target: %s: %s (%s)" % x)
    log("ports: took %.0f s (load average %s, then %s); wrote %s.md and "
        "%s.csv" % (secs, load0, info["load1"], base, base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
