# SPDX-License-Identifier: MIT
"""strait-netsetup on hosts that already filter: rules that take effect,
or a loud failure.

The topology is tests_netsetup.Topo's; the host's own firewall is set up
in the test's namespace (iptables, nft, or ufw with its configuration in
a private mount namespace, never the root's /etc).
"""
import os
import shutil
import subprocess
import tempfile
import time

from sandbox import Proc
from tests_netsetup import (HELP, PY, UP, Topo, _where, read, ruleset, sh,
                            sysctls)
from tests_tcp import check, test


def serve_host(t, host, port):
    """A server in the host's namespace (the test's own): it answers each
    connection with the client's address"""
    p = Proc([PY, HELP, "serve-peer", host, str(port)], fd3=False)
    t.ctx.sb.spawn(p)
    deadline = time.monotonic() + 30
    while "ready" not in p.stdout():
        check(p.alive() and time.monotonic() < deadline,
              "host server did not start (exit %s, %s): %s"
              % (p.p.poll(), _where(p.pid), p.stderr()))
        time.sleep(0.05)
    return p


def reachable(t, port):
    return not t.reach("cli", "198.51.100.1", port).startswith("FAIL")


def _unchanged(t, r, before, what):
    check(r.returncode == 1, "%s: exit %d: %s" % (what, r.returncode,
                                                 r.stderr))
    check((sysctls(), ruleset()) == before, "%s: something changed:\n%s"
          % (what, ruleset()))
    check(not os.listdir(t.state), "%s: a state file was written" % what)
    check(r.stdout == "", "%s: printed as done: %r" % (what, r.stdout))


@test(netsetup=True)
def netsetup_auto_input_policy_drop(ctx):
    """A host whose iptables INPUT policy is DROP (nothing else): with the
    default backend (auto: iptables here, and check says why) the
    published port is reachable from the outside client after up, and
    another port is not; down closes it again and leaves the policy."""
    t = Topo(ctx)
    for port in (8080, 8081):
        serve_host(t, "198.51.100.1", port)
    sh("iptables", "-P", "INPUT", "DROP")
    check(not reachable(t, 8080), "the port was open before up")
    r = t.netsetup("check", *UP)
    check("# backend auto: iptables (table ip filter chain INPUT drops by "
          "policy)" in r.stdout and "iptables-restore" in r.stdout,
          "check:\n%s" % r.stdout)
    r = t.netsetup("up", *UP)
    check("iptables chains" in r.stdout, "up chose: %r" % r.stdout)
    check(reachable(t, 8080), "the published port is closed after up")
    check(not reachable(t, 8081), "an unpublished port is open")
    got = t.reach("ctr", "192.0.2.2", 9000, 5)
    check(got == "192.0.2.1", "the container's way out: %r" % got)
    t.netsetup("down", "--bridge", "br0")
    check(not reachable(t, 8080), "the port stayed open after down")
    check(":INPUT DROP" in sh("iptables-save").stdout, "the policy changed")
    check("STRAIT" not in sh("iptables-save").stdout, "chains left")


@test(netsetup=True)
def netsetup_nft_admin_drop_fails_loudly(ctx):
    """An nft table of the admin's that drops input by policy: no table
    of ours can open the port, so up fails (exit 1, nothing of ours left)
    naming the chain and the exact rule to add there, and check says the
    same; with that rule added, up works and the port is reachable;
    --no-input-rules leaves input to the admin. A forward chain of the
    admin's that drops fails up as well, whatever the options."""
    t = Topo(ctx)
    serve_host(t, "198.51.100.1", 8080)
    sh("nft", "add table inet admin")
    sh("nft", "add chain inet admin input { type filter hook input "
       "priority 0; policy drop; }")
    sh("nft", "add rule inet admin input ct state established,related "
       "accept")
    before = (sysctls(), ruleset())
    fix = ("nft insert rule inet admin input ip daddr 198.51.100.1 tcp "
           "dport 8080 ct state established,new accept")
    for cmd in ("up", "check"):
        r = t.netsetup(cmd, *UP, ok=False)
        check(r.returncode == 1 and "table inet admin chain input drops "
              "by policy" in r.stderr and fix in r.stderr and
              "--no-input-rules" in r.stderr, "%s: exit %d: %s"
              % (cmd, r.returncode, r.stderr))
    r = t.netsetup("up", *UP, ok=False)
    r.stdout = r.stdout.split("# ")[0]
    _unchanged(t, r, before, "up under the admin's drop")
    # the rule the message names, added as it says: up now works
    sh(*fix.split())
    t.netsetup("up", *UP)
    check(reachable(t, 8080), "with the admin's accept added: closed")
    t.netsetup("down", "--bridge", "br0")
    sh("nft", "flush chain inet admin input")
    t.netsetup("up", "--no-input-rules", *UP[:4])
    check("chain input" not in sh("nft", "list", "table", "ip",
                                  "strait-br0").stdout,
          "--no-input-rules still made an input chain")
    t.netsetup("down", "--bridge", "br0")
    sh("nft", "add chain inet admin forward { type filter hook forward "
       "priority 0; policy accept; }")
    sh("nft", "add rule inet admin forward reject")
    before = (sysctls(), ruleset())
    r = t.netsetup("up", "--no-input-rules", *UP[:4], ok=False)
    check("table inet admin chain forward drops all at \"reject\"" in
          r.stderr and 'nft insert rule inet admin forward iifname "br0" '
          'oifname "eth0" accept' in r.stderr, "forward: %s" % r.stderr)
    _unchanged(t, r, before, "up under the admin's forward reject")


@test(netsetup=True)
def netsetup_iptables_with_forward_drop(ctx):
    """An admin's iptables FORWARD policy DROP: the nft backend could not
    let the container out, so --backend nft fails (exit 1, nothing of
    ours left) naming the chain, check says so too; the default (auto)
    uses iptables, whose jumps let the container out."""
    t = Topo(ctx)
    sh("iptables", "-P", "FORWARD", "DROP")
    before = (sysctls(), ruleset())
    for cmd in ("check", "up"):
        r = t.netsetup(cmd, "--backend", "nft", *UP, ok=False)
        check(r.returncode == 1 and "table ip filter chain FORWARD drops "
              "by policy" in r.stderr and "--backend iptables" in r.stderr,
              "%s --backend nft: exit %d: %r" % (cmd, r.returncode,
                                                r.stderr))
    r = t.netsetup("up", "--backend", "nft", *UP, ok=False)
    _unchanged(t, r, before, "up --backend nft")
    t.netsetup("up", *UP)
    got = t.reach("ctr", "192.0.2.2", 9000, 5)
    check(got == "192.0.2.1", "with the default backend: %r" % got)
    t.netsetup("down", "--bridge", "br0", "--uplink", "eth0")
    check("STRAIT" not in sh("iptables-save").stdout, "chains left")
    check("FORWARD DROP" in sh("iptables-save").stdout,
          "the admin's policy was changed")


# ufw, run in a mount namespace of its own where its configuration and
# state are private copies: /etc/ufw, /etc/default/ufw, /lib/ufw and its
# lock. Its sysctl file is replaced by an empty one (the namespace's own
# net.* switches would be what it wrote, but nothing is needed here).
UFW_SH = """set -e
T="$1"; shift
mount --bind "$T/etc-ufw" /etc/ufw
mount --bind "$T/default-ufw" /etc/default/ufw
mount --bind "$T/lib-ufw" /lib/ufw
[ -e /run/ufw.lock ] && mount --bind "$T/ufw.lock" /run/ufw.lock
for cmd in "$@"; do ufw $cmd; done
"""


def ufw(t, priv, *cmds):
    r = subprocess.run(["unshare", "--mount", "--propagation", "private",
                        "sh", "-c", UFW_SH, "sh", priv, *cmds],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "ufw %s: %s%s" % (cmds, r.stdout, r.stderr))
    return r.stdout


def ufw_private(ctx):
    """Private copies of ufw's configuration and state, removed after"""
    if not shutil.which("ufw"):
        return None
    priv = tempfile.mkdtemp(prefix="strait-ufw-")
    ctx.sb.on_exit(lambda: shutil.rmtree(priv, ignore_errors=True))
    shutil.copytree("/etc/ufw", os.path.join(priv, "etc-ufw"))
    shutil.copytree("/lib/ufw", os.path.join(priv, "lib-ufw"))
    with open("/etc/default/ufw") as f:
        conf = f.read()
    empty = os.path.join(priv, "etc-ufw", "sysctl-none.conf")
    open(empty, "w").close()
    with open(os.path.join(priv, "default-ufw"), "w") as f:
        for ln in conf.splitlines():
            if ln.startswith("IPT_SYSCTL="):
                ln = "IPT_SYSCTL=/etc/ufw/sysctl-none.conf"
            elif ln.startswith("IPT_MODULES="):
                ln = 'IPT_MODULES=""'
            f.write(ln + "\n")
    open(os.path.join(priv, "ufw.lock"), "w").close()
    return priv


@test(netsetup=True)
def netsetup_ufw_host(ctx):
    """A host managed by ufw (default deny in, deny routed): a port
    published through strait is reachable exactly when --publish (or a
    ufw allow) says so, and nothing else is; the container gets out
    through ufw's routed deny; down closes the port again and ufw's own
    rules stay as they were."""
    priv = ufw_private(ctx)
    if not priv:
        print("  (ufw not installed: apt-get install ufw)")
        return
    t = Topo(ctx)
    for port in (8080, 8081, 9090):
        serve_host(t, "198.51.100.1", port)
    ufw(t, priv, "--force enable", "allow 9090/tcp")
    check("Status: active" in ufw(t, priv, "status"), "ufw is not active")
    ufw0 = [ln for ln in sh("iptables-save").stdout.splitlines()
            if "ufw" in ln]
    check(not reachable(t, 8080) and reachable(t, 9090),
          "ufw's default deny or its allow does not hold")
    r = t.netsetup("up", *UP)
    check("iptables chains" in r.stdout, "up chose: %r" % r.stdout)
    check(reachable(t, 8080), "published through strait, yet closed")
    check(reachable(t, 9090), "ufw's allow stopped working")
    check(not reachable(t, 8081), "a port neither published nor allowed "
          "is open")
    got = t.reach("ctr", "192.0.2.2", 9000, 5)
    check(got == "192.0.2.1", "the container's way out: %r" % got)
    # ufw reload rebuilds its own chains only: our jumps stay first
    ufw(t, priv, "reload")
    check(reachable(t, 8080) and not reachable(t, 8081),
          "after ufw reload")
    check(t.netsetup("status", ok=False).returncode == 0,
          "status after ufw reload: drift")
    srv = t.serve("ctr", "203.0.113.2", 7000)
    sh("ip", "route", "add", "203.0.113.0/24", "via", "192.0.2.1",
       ns=t.ns["out"])
    got = t.reach("out", "203.0.113.2", 7000)
    check(got.startswith("FAIL"), "the outside got into the bridge: %r"
          % got)
    srv.kill()
    t.netsetup("down", "--bridge", "br0")
    check(not reachable(t, 8080), "the port stayed open after down")
    check(reachable(t, 9090), "ufw's allow went with down")
    ufw1 = [ln for ln in sh("iptables-save").stdout.splitlines()
            if "ufw" in ln]
    check(ufw1 == ufw0, "ufw's rules changed")
    check("STRAIT" not in sh("iptables-save").stdout, "chains left")
