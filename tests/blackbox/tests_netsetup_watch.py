# SPDX-License-Identifier: MIT
"""strait-netsetup watch: bridges set up as they appear, taken down as
they go, everything down on SIGINT."""
import glob
import ipaddress
import os
import signal
import subprocess
import time

from sandbox import Proc
from tests_netsetup import Topo, read, ruleset, sh, sysctls
from tests_tcp import check, test


def start_watch(t, *args):
    env = dict(os.environ, STRAIT_STATE_DIR=t.state)
    p = Proc([t.ctx.netsetup, "watch", *args], fd3=False, env=env)
    t.ctx.sb.spawn(p)
    t.ctx.procs.append(p)  # its stderr is checked for sanitizer reports
    deadline = time.monotonic() + 10
    while "watching" not in p.stdout():
        check(p.alive() and time.monotonic() < deadline,
              "watch did not start (exit %s): %s%s"
              % (p.p.poll(), p.stdout(), p.stderr()))
        time.sleep(0.02)
    return p


def bridge(t, name, net, role, addr6=None):
    """A bridge with the first address of @net (and of @addr6, an IPv6
    /64 prefix, if given), and a container with the second behind it in
    the namespace @role, its default route through the bridge"""
    net = ipaddress.ip_network(net)
    gw, ctr = list(net.hosts())[:2]
    t.add_role(role)
    sh("ip", "link", "add", name, "type", "bridge")
    sh("ip", "link", "set", name, "up")
    veth = "v" + role[-8:]
    t.link(veth, None, role, "%s/%d" % (ctr, net.prefixlen))
    sh("ip", "link", "set", veth, "master", name)
    sh("ip", "addr", "add", "%s/%d" % (gw, net.prefixlen), "dev", name)
    sh("ip", "route", "add", "default", "via", str(gw), ns=t.ns[role])
    if addr6:
        sh("ip", "addr", "add", addr6 + "1/64", "dev", name, "nodad")


def within(secs, cond, what):
    """@cond() true within @secs (polled every 20 ms): the time it took"""
    start = time.monotonic()
    while not cond():
        check(time.monotonic() - start < secs, "not within %.1f s: %s"
              % (secs, what))
        time.sleep(0.02)
    return time.monotonic() - start


def has_table(name, family="ip"):
    return subprocess.run(["nft", "list", "table", family, name],
                          capture_output=True).returncode == 0


def same_sysctls(before):
    """Every switch there before is as it was (the containers' veths,
    added since, are the test's, not ours)"""
    now = sysctls()
    return {k: now.get(k) for k in before} == before


def state_of(t, br):
    return glob.glob(os.path.join(t.state, "netsetup-*-%s.state" % br))


@test(netsetup=True)
def netsetup_watch_bridges(ctx):
    """watch --bridge 'br-*': a bridge there at start and one created
    after it are set up within a second (their containers reach the
    outside through masquerade); a bridge with a hostile name is refused
    and logged while one created after it still works; a deleted bridge
    is taken down within a second (the uplink's forwarding stays for the
    others); br0, which does not match, is left alone; SIGINT leaves
    everything as down would."""
    t = Topo(ctx)
    before, rules0 = sysctls(), ruleset()
    bridge(t, "br-pre", "172.30.1.0/24", "pre")
    p = start_watch(t, "--bridge", "br-*", "--uplink", "eth0")
    check(has_table("strait-br-pre"), "the bridge there at start")
    bridge(t, "br-new", "172.30.2.0/24", "new")
    within(1, lambda: has_table("strait-br-new"), "br-new set up")
    for role in ("pre", "new"):
        got = t.reach(role, "192.0.2.2", 9000, 5)
        check(got == "192.0.2.1", "the container behind br-%s: %r"
              % (role, got))
    sh("ip", "link", "add", 'br-x";drop', "type", "bridge")
    bridge(t, "br-ok", "172.30.3.0/24", "ok")
    within(1, lambda: has_table("strait-br-ok"), "br-ok after the hostile "
           "name")
    check('bridge "br-x\\x22\\x3bdrop" refused' in p.stdout(),
          "the hostile name is not logged as refused:\n%s" % p.stdout())
    check(not state_of(t, 'br-x";drop'), "a state file for it")
    check(not has_table("strait-br0"), "br0 does not match, yet set up")
    sh("ip", "link", "del", "br-new")
    within(1, lambda: not has_table("strait-br-new") and
           not state_of(t, "br-new"), "br-new taken down")
    check(read("/proc/sys/net/ipv4/conf/eth0/forwarding") == "1",
          "the uplink's forwarding went with br-new")
    got = t.reach("ok", "192.0.2.2", 9000, 5)
    check(got == "192.0.2.1", "br-ok after br-new went: %r" % got)
    p.signal(signal.SIGINT)
    check(p.wait(10) == 0, "watch exit after SIGINT: %s" % p.stderr())
    for br in ("br-pre", "br-ok"):
        sh("ip", "link", "del", br)
    check(same_sysctls(before), "sysctls after SIGINT are not as before")
    check(ruleset() == rules0, "rules left after SIGINT:\n%s" % ruleset())
    check(not os.listdir(t.state), "state files left: %s"
          % os.listdir(t.state))
    check("stopped" in p.stdout(), "log:\n%s" % p.stdout())


@test(netsetup=True)
def netsetup_watch_publishes(ctx):
    """watch's publishes: from --publish-file, per bridge pattern, re-read
    on SIGHUP (the rules follow within a second; a bad file is logged and
    the publishes stay as they were); --ipv6 sets up a bridge's IPv6
    subnet once it has one; SIGTERM takes everything down."""
    t = Topo(ctx)
    v6 = os.path.exists("/proc/sys/net/ipv6/conf/br0/force_forwarding")
    before, rules0 = sysctls(), ruleset()
    pubs = os.path.join(t.state, "..", os.path.basename(t.state) + ".pub")
    ctx.sb.on_exit(lambda: os.path.exists(pubs) and os.unlink(pubs))
    with open(pubs, "w") as f:
        f.write("# published ports\nbr-a=tcp:198.51.100.1:8080\n\n"
                "br-z=udp:198.51.100.1:53\n")
    p = start_watch(t, "--bridge", "br-?", "--uplink", "eth0",
                    "--publish-file", pubs, *(["--ipv6"] if v6 else []))
    bridge(t, "br-a", "172.30.1.0/24", "a",
           addr6="2001:db8:7::" if v6 else None)
    fam = "inet" if v6 else "ip"
    within(1, lambda: has_table("strait-br-a", fam), "br-a set up")

    def rules():
        return sh("nft", "list", "table", fam, "strait-br-a").stdout

    check("tcp dport 8080" in rules() and "dport 53" not in rules(),
          "br-a's publishes:\n%s" % rules())
    if v6:
        check("ip6 saddr 2001:db8:7::/64" in rules(),
              "br-a's IPv6 subnet is not masqueraded:\n%s" % rules())
    with open(pubs, "w") as f:
        f.write("br-a=tcp:198.51.100.1:8081\n")
    p.signal(signal.SIGHUP)
    within(1, lambda: "tcp dport 8081" in rules() and
           "tcp dport 8080" not in rules(), "the new publish after SIGHUP")
    with open(pubs, "w") as f:
        f.write("br-a=tcp:198.51.100.1:0\n")
    p.signal(signal.SIGHUP)
    within(1, lambda: "publishes kept as they were" in p.stdout(),
           "a bad file logged")
    check("tcp dport 8081" in rules(), "a bad file changed the rules")
    p.signal(signal.SIGTERM)
    check(p.wait(10) == 0, "watch exit after SIGTERM: %s" % p.stderr())
    sh("ip", "link", "del", "br-a")
    check(same_sysctls(before), "sysctls after SIGTERM are not as before")
    check(ruleset() == rules0, "rules left after SIGTERM:\n%s" % ruleset())
    check(not os.listdir(t.state), "state files left")


@test(strait_only=True, netsetup=True)
def netsetup_watch_transparent(ctx):
    """watch --transparent: a bridge that appears gets the mark rule, and
    the policy routing is in place, so a transparent proxy to its
    container works (the server sees the outside client's own address);
    the routing stays while a bridge is left and goes with SIGINT."""
    import tests_transparent as tp
    t = Topo(ctx)
    routes0 = tp._routes()
    p = start_watch(t, "--bridge", "br-*", "--uplink", "eth0",
                    "--transparent")
    bridge(t, "br-a", "172.30.1.0/24", "a")
    bridge(t, "br-b", "172.30.2.0/24", "b")
    within(2, lambda: has_table("strait-br-a") and has_table("strait-br-b"),
           "both bridges set up")
    check(tp._has_routing(fams=("-4",)), "no routing:\n%s" % tp._routes())
    check("socket transparent 1 meta mark set 0x00005354" in sh(
        "nft", "list", "table", "ip", "strait-br-b").stdout,
          "no mark rule for br-b")
    tp._serve(ctx, t, "tcp-serve", "172.30.2.2", 7000, role="b")
    px = tp._proxy(ctx, tp.HOST4, 7000, cip="172.30.2.2")
    seen, local = tp._seen(tp._client(t, "cli", "tcp", tp.HOST4, px.hport,
                                      1000))
    check(seen == local, "server saw %s, the client is %s" % (seen, local))
    sh("ip", "link", "del", "br-a")
    within(2, lambda: not has_table("strait-br-a"), "br-a taken down")
    check(tp._has_routing(fams=("-4",)), "routing went with br-a while "
          "br-b still uses it")
    p.signal(signal.SIGINT)
    check(p.wait(10) == 0, "watch exit after SIGINT: %s" % p.stderr())
    check(tp._routes() == routes0, "routing left after watch:\n%s"
          % tp._routes())
