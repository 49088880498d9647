#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end: Debian's dockerd 20.10 publishing ports through PROXY.

    e2e.py PROXY [--netsetup PATH]

For --iptables=false and --iptables=true, and then the seed's setup
(--iptables=false --ip-forward=false with strait-netsetup up), it starts
containerd and dockerd in a network namespace of their own (spec:
dockerd-e2e.md), imports a busybox image built from a local rootfs, and
checks what a user of `docker run -p` sees. Everything is torn down by PID
and namespace, also on failure; the root namespace's rules, links and
sysctls are compared before and after. Prints "e2e: N passed, N failed".
"""
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# the interpreter running us, not a "python3" found on PATH (a pyenv shim
# here: a bash script and several processes per start)
PY = sys.executable
HERE = os.path.dirname(os.path.abspath(__file__))
DOCKER = "/usr/bin/docker"  # the 20.10 client; /usr/local/bin may be newer
WATCHDOG = 170
IMAGE = "strait-e2e:1"


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(argv, timeout=60, ok=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       **kw)
    if ok and r.returncode:
        raise Fail("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                        (r.stderr or r.stdout).strip()))
    return r


def root_state():
    """What must be the same in the root namespace before and after."""
    out = [run(["ip", "-o", "link"]).stdout,
           run(["nft", "list", "ruleset"], ok=False).stdout,
           run(["iptables-save"], ok=False).stdout]
    for f in sorted(glob.glob("/proc/sys/net/ipv4/conf/*/forwarding")):
        with open(f) as fh:
            out.append(f + "=" + fh.read())
    text = "\n".join(out)
    return "\n".join(ln for ln in text.splitlines()
                     if not ln.startswith("#") and "veth" not in ln)


def netns_inode(name):
    return os.stat("/run/netns/" + name).st_ino


class Env:
    """One dockerd (and containerd) in a namespace of its own."""

    def __init__(self, proxy, iptables, ipfwd, uplink=False, env=None):
        self.proxy = proxy
        self.env = env or {"STRAIT_PROXY_PROTOCOL": "v1:18085"}
        self.ns = "strait-d%d-%s" % (os.getpid(), iptables)
        self.out_ns = self.ns + "-out" if uplink else None
        self.w = tempfile.mkdtemp(prefix="strait-e2e-%d-" % os.getpid())
        os.chmod(self.w, 0o755)
        self.iptables, self.ipfwd = iptables, ipfwd
        self.launcher = None
        ver = run([proxy, "-version"], ok=False)
        self.strait = "strait-proxy" in ver.stdout
        self.helpers = []

    # -- set-up ------------------------------------------------------------
    def start(self):
        run(["ip", "netns", "add", self.ns])
        self.in_ns("ip", "link", "set", "lo", "up")
        if self.out_ns:
            self.make_uplink()
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
        self.launcher = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "sh",
             os.path.join(HERE, "launch.sh"), self.w, self.proxy,
             self.iptables, self.ipfwd],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.w, "launch.log"), "w"),
            close_fds=True,
            env=dict(os.environ, **self.env))
        deadline = time.monotonic() + 60
        while self.docker("version", ok=False).returncode:
            if self.launcher.poll() is not None or \
                    time.monotonic() > deadline:
                raise Fail("dockerd did not start: %s" % self.log())
            time.sleep(0.3)

    def make_uplink(self):
        run(["ip", "netns", "add", self.out_ns])
        run(["ip", "-n", self.out_ns, "link", "set", "lo", "up"])
        self.in_ns("ip", "link", "add", "eth0", "type", "veth", "peer",
                   "name", "eth0", "netns", self.out_ns)
        self.in_ns("ip", "addr", "add", "192.0.2.1/24", "dev", "eth0")
        self.in_ns("ip", "link", "set", "eth0", "up")
        run(["ip", "-n", self.out_ns, "addr", "add", "192.0.2.2/24", "dev",
             "eth0"])
        run(["ip", "-n", self.out_ns, "link", "set", "eth0", "up"])

    def log(self):
        text = ""
        for f in ("launch.log", "dockerd.log", "containerd.log"):
            p = os.path.join(self.w, f)
            if os.path.exists(p):
                with open(p) as fh:
                    text += "\n--- %s\n%s" % (f, fh.read()[-2000:])
        return text

    # -- helpers -----------------------------------------------------------
    def docker(self, *args, ok=True, timeout=60):
        return run([DOCKER, "-H", "unix://%s/docker.sock" % self.w, *args],
                   ok=ok, timeout=timeout)

    def in_ns(self, *argv, ok=True, timeout=60, ns=None):
        return run(["ip", "netns", "exec", ns or self.ns, *argv], ok=ok,
                   timeout=timeout)

    def client(self, *args, ns=None):
        return self.in_ns(PY, os.path.join(HERE, "client.py"),
                          *args, ns=ns, timeout=90).stdout.strip()

    def spawn(self, *argv, ns=None):
        p = subprocess.Popen(["ip", "netns", "exec", ns or self.ns, *argv],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        self.helpers.append(p)
        check(p.stdout.readline().strip() == "ready", "helper: %s"
              % " ".join(argv))
        return p

    def pid_of(self, name):
        with open(os.path.join(self.w, name + ".pid")) as f:
            pid = int(f.read().strip())
        with open("/proc/%d/comm" % pid) as f:
            check(f.read().strip() == name, "%s pid %d is not %s"
                  % (name, pid, name))
        return pid

    def proxies(self):
        """(pid, ppid, argv) of every process running PROXY in our netns."""
        found = []
        ino = netns_inode(self.ns)
        for d in glob.glob("/proc/[0-9]*"):
            try:
                if os.stat(d + "/ns/net").st_ino != ino:
                    continue
                with open(d + "/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                with open(d + "/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if argv and argv[0].decode(errors="replace") == self.proxy:
                found.append((int(d[6:]), ppid,
                              [a.decode() for a in argv if a]))
        return found

    # -- teardown ----------------------------------------------------------
    def stop(self):
        for p in self.helpers:
            p.kill()
            p.wait(10)
        for name in ("dockerd", "containerd"):
            try:
                pid = self.pid_of(name)
            except (OSError, ValueError, Fail):
                continue
            os.kill(pid, signal.SIGTERM)
            for _ in range(200):
                if not os.path.exists("/proc/%d" % pid):
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        # shims and containers outlive containerd: every process still in
        # our namespace is one we started
        for ns in (self.ns, self.out_ns):
            if ns and os.path.exists("/run/netns/" + ns):
                self.kill_ns_procs(netns_inode(ns))
        if self.launcher:
            self.launcher.kill()
            self.launcher.wait(10)
        for ns in (self.out_ns, self.ns):
            if ns:
                run(["ip", "netns", "del", ns], ok=False)
        shutil.rmtree(self.w, ignore_errors=True)

    @staticmethod
    def kill_ns_procs(ino):
        for _ in range(3):
            pids = []
            for d in glob.glob("/proc/[0-9]*"):
                try:
                    if os.stat(d + "/ns/net").st_ino == ino:
                        pids.append(int(d[6:]))
                except OSError:
                    pass
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.3)


def remove_stale():
    """Leftovers of an earlier run that was killed: its namespaces (and
    every process still inside them: its dockerd, containerd, shims) and
    its work directories. Only runs whose PID is gone are touched."""
    out = run(["ip", "netns", "list"]).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith("strait-d"):
            continue
        pid = name[len("strait-d"):].split("-")[0]
        if not pid.isdigit() or os.path.exists("/proc/" + pid):
            continue
        Env.kill_ns_procs(netns_inode(name))
        run(["ip", "netns", "del", name], ok=False)
    for d in glob.glob(os.path.join(tempfile.gettempdir(), "strait-e2e-*")):
        pid = os.path.basename(d).split("-")[2]
        if pid.isdigit() and not os.path.exists("/proc/" + pid):
            shutil.rmtree(d, ignore_errors=True)


def build_image(env):
    root = os.path.join(env.w, "rootfs")
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "www"))
    shutil.copy("/bin/busybox", os.path.join(root, "bin/busybox"))
    for applet in run(["/bin/busybox", "--list"]).stdout.split():
        if applet != "busybox":
            os.symlink("busybox", os.path.join(root, "bin", applet))
    for prog in ("udp_echo", "whoami"):
        run(["cc", "-static", "-O2", "-o", os.path.join(root, "bin", prog),
             os.path.join(HERE, prog + ".c")])
    with open(os.path.join(root, "www/index.html"), "w") as f:
        f.write("hello from strait e2e\n")
    blob = os.urandom(1 << 20)
    with open(os.path.join(root, "www/blob"), "wb") as f:
        f.write(blob)
    tar = subprocess.Popen(["tar", "-C", root, "-c", "."],
                           stdout=subprocess.PIPE)
    r = subprocess.run([DOCKER, "-H", "unix://%s/docker.sock" % env.w,
                        "import", "-", IMAGE], stdin=tar.stdout,
                       capture_output=True, text=True, timeout=60)
    tar.wait(30)
    check(r.returncode == 0, "docker import: %s" % r.stderr)
    return "%d %s" % (len(blob), hashlib.sha256(blob).hexdigest())


SERVE = ["/bin/sh", "-c",
         "/bin/udp_echo 5353 & exec /bin/httpd -f -p 80 -h /www"]


def wait_http(env, url, ns=None):
    deadline = time.monotonic() + 20
    while True:
        r = env.in_ns(PY, os.path.join(HERE, "client.py"), "get",
                      url, ok=False, ns=ns)
        if r.returncode == 0:
            return
        check(time.monotonic() < deadline, "%s never answered: %s"
              % (url, r.stderr[-300:]))
        time.sleep(0.3)


def publish_checks(env, blob):
    """The checks of one dockerd: returns the names of what passed."""
    done = []
    env.docker("run", "-d", "--name", "web", "-p", "127.0.0.1:18081:80",
               "-p", "18082:80", "-p", "18083:5353/udp", IMAGE, *SERVE)
    wait_http(env, "http://127.0.0.1:18081/")
    dockerd = env.pid_of("dockerd")
    procs = env.proxies()
    want = {("tcp", "127.0.0.1", "18081"), ("tcp", "0.0.0.0", "18082"),
            ("tcp", "::", "18082"), ("udp", "0.0.0.0", "18083"),
            ("udp", "::", "18083")}
    seen = set()
    for pid, ppid, argv in procs:
        check(ppid == dockerd, "proxy %d is not dockerd's child" % pid)
        a = dict(zip(argv[1::2], argv[2::2]))
        seen.add((a.get("-proto"), a.get("-host-ip"), a.get("-host-port")))
    check(seen == want, "proxies: want %s, see %s" % (sorted(want),
                                                        sorted(seen)))
    done.append("every published port served by PROXY, dockerd's child")
    got = env.client("get", "http://127.0.0.1:18081/")
    check(got.startswith("22 "), "GET /: %r" % got)
    done.append("HTTP GET")
    check(env.client("get", "http://127.0.0.1:18081/blob") == blob,
          "1 MiB download differs")
    done.append("1 MiB byte-exact")
    got = env.client("par", "20", "http://127.0.0.1:18082/blob").split("\n")
    check(got == [blob] * 20, "parallel downloads: %s" % got[:3])
    done.append("20 parallel downloads")
    check(env.client("get", "http://[::1]:18082/blob") == blob, "over ::1")
    done.append("TCP over ::1")
    check(env.client("get", "http://203.0.113.1:18082/blob") == blob,
          "to the bridge address")
    done.append("TCP to the bridge address")
    for host in ("127.0.0.1", "::1"):
        got = env.client("udp", host, "18083", "1", "1400", "8000")
        check(got == "1 ok\n1400 ok\n8000 ok", "UDP via %s: %r"
              % (host, got))
    done.append("UDP 1/1400/8000 bytes over 127.0.0.1 and ::1")
    return done


def port_taken(env):
    env.spawn(PY, os.path.join(HERE, "client.py"), "listen",
              "127.0.0.1", "18084")
    start = time.monotonic()
    r = env.docker("run", "-d", "--name", "taken", "-p", "127.0.0.1:18084:80",
                   IMAGE, *SERVE, ok=False)
    secs = time.monotonic() - start
    check(r.returncode != 0, "docker run on a taken port succeeded")
    msg = r.stderr.strip()
    check("address already in use" in msg and
          "Error starting userland proxy" in msg, "message: %r" % msg)
    # dockerd waits 16 s for a proxy that never reports: this one did
    check(secs < 15, "docker run took %.1f s to fail" % secs)
    env.docker("rm", "-f", "taken", ok=False)
    return "taken port: docker run fails at once with %r" % msg[-70:]


def proxy_protocol(env):
    """STRAIT_PROXY_PROTOCOL=v1:18085 in dockerd's environment reaches the
    proxies it starts: the container behind host port 18085 gets the
    client's address in a PROXY header (strait), the web ports above got
    none (their HTTP checks passed). docker-proxy ignores the variable."""
    env.docker("run", "-d", "--name", "pp", "-p", "127.0.0.1:18085:81",
               IMAGE, "nc", "-ll", "-p", "81", "-e", "cat")
    me, got = env.client("pp", "127.0.0.1", "18085").split("\n", 1)
    hdr = "PROXY TCP4 127.0.0.1 127.0.0.1 %s 18085\\r\\n" % me
    want = (hdr if env.strait else "") + "hello\\n"  # as client.py escapes
    check(got == want, "container got %r, want %r" % (got, want))
    env.docker("rm", "-f", "pp", timeout=30)
    return ("STRAIT_PROXY_PROTOCOL=v1:18085 via dockerd's environment: %s"
            % ("the container sees the client's address, other ports "
               "untouched" if env.strait else "ignored"))


def remove(env):
    start = time.monotonic()
    env.docker("rm", "-f", "web", timeout=30)
    secs = time.monotonic() - start
    deadline = time.monotonic() + 10
    while env.proxies() and time.monotonic() < deadline:
        time.sleep(0.2)
    check(not env.proxies(), "proxies left after docker rm -f")
    check(secs < 15, "docker rm -f took %.1f s" % secs)
    return "docker rm -f prompt, proxies gone"


def scenario(proxy, iptables):
    env = Env(proxy, iptables, "true")
    try:
        env.start()
        blob = build_image(env)
        done = publish_checks(env, blob)
        done.append(port_taken(env))
        done.append(proxy_protocol(env))
        done.append(remove(env))
        return done
    except Fail as e:
        raise Fail("%s\n%s" % (e, env.log()))
    finally:
        env.stop()


def _nft_tables(env):
    return env.in_ns("nft", "list", "tables").stdout


def watch_networks(env, netsetup):
    """strait-netsetup watch beside dockerd: a network made by `docker
    network create` gets masquerade and forward rules (its container
    reaches the outside), `docker network rm` leaves nothing of ours, and
    SIGTERM ends watch with nothing left either."""
    w = subprocess.Popen(["ip", "netns", "exec", env.ns, netsetup, "watch",
                          "--bridge", "br-*", "--uplink", "eth0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        line = w.stdout.readline()
        check("watching" in line, "watch did not start: %r %s"
              % (line, w.stderr.read() if w.poll() is not None else ""))
        env.docker("network", "create", "--subnet", "198.51.100.0/24",
                   "strait-e2e")
        net = env.docker("network", "inspect", "-f", "{{.Id}}",
                         "strait-e2e").stdout.strip()
        bridge = "br-" + net[:12]
        deadline = time.monotonic() + 10
        while "strait-" + bridge not in _nft_tables(env):
            check(time.monotonic() < deadline, "no rules for %s: %s"
                  % (bridge, _nft_tables(env)))
            time.sleep(0.2)
        r = env.docker("run", "--rm", "--network", "strait-e2e", IMAGE, "nc",
                       "-w", "5", "192.0.2.2", "9000", timeout=30)
        check(r.stdout.strip() == "192.0.2.1", "outside saw %r from the "
              "new network" % r.stdout)
        env.docker("network", "rm", "strait-e2e")
        deadline = time.monotonic() + 10
        while "strait-" + bridge in _nft_tables(env):
            check(time.monotonic() < deadline, "rules left after network "
                  "rm: %s" % _nft_tables(env))
            time.sleep(0.2)
        w.send_signal(signal.SIGTERM)
        check(w.wait(20) == 0, "watch exit: %s" % w.stderr.read())
        check("strait" not in _nft_tables(env), "left after watch: %s"
              % _nft_tables(env))
        return ("watch: docker network create got masquerade (its "
                "container out as 192.0.2.1), network rm left nothing")
    finally:
        if w.poll() is None:
            w.kill()
            w.wait(10)


def seed_setup(proxy, netsetup):
    env = Env(proxy, "false", "false", uplink=True)
    try:
        env.start()
        blob = build_image(env)
        env.spawn(PY, os.path.join(HERE, "..", "blackbox",
                                          "nshelp.py"), "serve-peer",
                  "192.0.2.2", "9000", ns=env.out_ns)
        r = env.docker("run", "--rm", IMAGE, "nc", "-w", "3", "192.0.2.2",
                       "9000", ok=False, timeout=30)
        check("192.0.2" not in r.stdout, "reached outside before up: %r"
              % r.stdout)
        env.in_ns(netsetup, "up", "--bridge", "docker0", "--uplink", "eth0",
                  "--publish", "tcp:192.0.2.1:18082")
        r = env.docker("run", "--rm", IMAGE, "nc", "-w", "5", "192.0.2.2",
                       "9000", timeout=30)
        check(r.stdout.strip() == "192.0.2.1", "outside saw %r"
              % r.stdout)
        env.docker("run", "-d", "--name", "web", "-p", "192.0.2.1:18082:80",
                   IMAGE, *SERVE)
        wait_http(env, "http://192.0.2.1:18082/", ns=env.out_ns)
        check(env.client("get", "http://192.0.2.1:18082/blob",
                         ns=env.out_ns) == blob, "published port")
        check(any(p[2][0] == proxy for p in env.proxies()),
              "no PROXY process")
        env.docker("rm", "-f", "web", timeout=30)
        env.in_ns(netsetup, "down", "--bridge", "docker0", "--uplink",
                  "eth0")
        return ["seed setup: container out through masquerade (seen as "
                "192.0.2.1), published port served by PROXY",
                watch_networks(env, netsetup)]
    except Fail as e:
        raise Fail("%s\n%s" % (e, env.log()))
    finally:
        env.stop()


def transparent(proxy, netsetup):
    """The real dockerd with --iptables=false, STRAIT_TRANSPARENT=1 in its
    environment and strait-netsetup up --transparent on docker0: the
    container's server sees (and logs) the outside client's own address
    and port, TCP and UDP. docker-proxy, in the same test, shows the
    bridge's gateway."""
    env = Env(proxy, "false", "false", uplink=True,
              env={"STRAIT_TRANSPARENT": "1"})
    try:
        env.start()
        build_image(env)
        env.in_ns(netsetup, "up", "--bridge", "docker0", "--uplink", "eth0",
                  "--transparent", "--publish", "tcp:192.0.2.1:18086",
                  "--publish", "udp:192.0.2.1:18086")
        env.docker("run", "-d", "--name", "who", "-p", "192.0.2.1:18086:90",
                   "-p", "192.0.2.1:18086:90/udp", IMAGE, "/bin/whoami",
                   "90")
        done = []
        for proto in ("tcp", "udp"):
            out = env.client("whoami", proto, "192.0.2.1", "18086",
                             ns=env.out_ns)
            me, seen = (out.split("\n") + [""])[:2]
            want = me if env.strait else "203.0.113.1"
            check(seen.startswith(want), "%s: the container saw %r, the "
                  "client is %r" % (proto, seen, me))
            logs = env.docker("logs", "who").stdout
            check("%s %s" % (proto, seen) in logs, "%s: not in the "
                  "container's log: %r" % (proto, logs[-300:]))
            done.append("transparent %s: the container %s" % (
                proto, "sees and logs the outside client's own address "
                "and port (%s)" % seen if env.strait else
                "sees the gateway (%s): docker-proxy ignores "
                "STRAIT_TRANSPARENT" % seen))
        env.docker("rm", "-f", "who", timeout=30)
        env.in_ns(netsetup, "down", "--bridge", "docker0")
        rules = env.in_ns("ip", "rule").stdout
        check("0x5354" not in rules, "rule left after down: %s" % rules)
        return done
    except Fail as e:
        raise Fail("%s\n%s" % (e, env.log()))
    finally:
        env.stop()


def main():
    proxy = os.path.abspath(sys.argv[1])
    netsetup = None
    if "--netsetup" in sys.argv:
        netsetup = os.path.abspath(sys.argv[sys.argv.index("--netsetup") + 1])
    signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(
        Fail("watchdog: over %d s" % WATCHDOG)))
    remove_stale()
    before = root_state()
    passed = failed = 0
    runs = [("iptables=false", lambda: scenario(proxy, "false")),
            ("iptables=true", lambda: scenario(proxy, "true"))]
    if netsetup:
        runs.append(("seed setup", lambda: seed_setup(proxy, netsetup)))
        runs.append(("transparent", lambda: transparent(proxy, netsetup)))
    for name, fn in runs:
        signal.alarm(WATCHDOG)
        try:
            for line in fn():
                print("PASS  %s: %s" % (name, line))
                passed += 1
        except Fail as e:
            print("FAIL  %s: %s" % (name, e))
            failed += 1
        finally:
            signal.alarm(0)
        sys.stdout.flush()
    if root_state() != before:
        print("FAIL  the root namespace's links, rules or sysctls changed")
        failed += 1
    print("e2e: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
