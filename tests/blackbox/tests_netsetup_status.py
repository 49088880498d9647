# SPDX-License-Identifier: MIT
"""strait-netsetup status: what is applied, and drift from it."""
import json
import re

from tests_netsetup import UP, Topo, sh
from tests_tcp import check, test


def status(t, *args):
    r = t.netsetup("status", *args, ok=False)
    check(r.returncode in (0, 1), "status %s: exit %d: %s"
          % (args, r.returncode, r.stderr))
    return r


def status_json(t, *args):
    r = status(t, "--json", *args)
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        raise AssertionError("status --json is not JSON (%s): %r"
                             % (e, r.stdout))
    check(doc["drift"] == (r.returncode == 1), "exit %d with drift %s"
          % (r.returncode, doc["drift"]))
    return r.returncode, {b["bridge"]: b for b in doc["bridges"]}


def _sysctl(b, name):
    got = [s for s in b["sysctls"] if s["name"] == name]
    check(len(got) == 1, "%s: %s" % (name, b["sysctls"]))
    return got[0]


def _no_drift(t, backend, chains):
    r = status(t)
    check(r.returncode == 0 and "no drift" in r.stdout,
          "status after up: exit %d:\n%s" % (r.returncode, r.stdout))
    check("br0: backend %s, uplink eth0" % backend in r.stdout and
          "publish tcp:198.51.100.1:8080" in r.stdout and
          "sysctl net.ipv4.conf.br0.forwarding = 1 (up set 1, saved 0)"
          in r.stdout, "status text:\n%s" % r.stdout)
    rc, doc = status_json(t)
    b = doc["br0"]
    check(rc == 0 and b["backend"] == backend and b["uplink"] == "eth0" and
          b["publish"] == ["tcp:198.51.100.1:8080"] and not b["drift"],
          "status --json: %s" % b)
    s = _sysctl(b, "net.ipv4.conf.eth0.forwarding")
    check(s == {"name": "net.ipv4.conf.eth0.forwarding", "value": "1",
                "want": "1", "saved": "0"}, "eth0 forwarding: %s" % s)
    got = {c["name"]: (c["rules"], c["want"]) for c in b["chains"]}
    check(got == chains, "chains: %s" % got)


@test(netsetup=True)
def netsetup_status_nft(ctx):
    """status after up (nft): the sysctls with their saved values, the
    table's chains and rule counts, the publishes and backend, no drift
    (exit 0), as text and as JSON; a forward drop rule deleted by hand
    and a sysctl changed back are drift (exit 1), named in both forms;
    another table's drop policy added later too; down leaves nothing."""
    t = Topo(ctx)
    r = status(t)
    check(r.returncode == 0 and r.stdout == "no bridge is set up\n",
          "status before up: %r" % r.stdout)
    t.netsetup("up", *UP)
    tbl = "nft table ip strait-br0 chain "
    _no_drift(t, "nft", {tbl + "postrouting": (1, 1),
                         tbl + "forward": (5, 5), tbl + "input": (1, 1)})
    listing = sh("nft", "-a", "list", "chain", "ip", "strait-br0",
                 "forward").stdout
    handle = re.search(r'oifname "br0" drop # handle (\d+)', listing)
    sh("nft", "delete", "rule", "ip", "strait-br0", "forward", "handle",
       handle.group(1))
    with open("/proc/sys/net/ipv4/conf/br0/forwarding", "w") as f:
        f.write("0")
    r = status(t)
    check(r.returncode == 1 and
          'drift: %sforward lacks the rule: oifname "br0" drop' % tbl
          in r.stdout and
          "drift: net.ipv4.conf.br0.forwarding is 0, up set 1" in r.stdout,
          "status after the rule was deleted: exit %d:\n%s"
          % (r.returncode, r.stdout))
    rc, doc = status_json(t, "--bridge", "br0")
    b = doc["br0"]
    check(rc == 1 and len(b["drift"]) == 2 and
          _sysctl(b, "net.ipv4.conf.br0.forwarding")["value"] == "0" and
          [c["rules"] for c in b["chains"]
           if c["name"] == tbl + "forward"] == [4],
          "status --json after drift: %s" % b)
    # up again puts it right
    t.netsetup("up", *UP)
    check(status(t).returncode == 0, "drift after up again")
    # the admin's own drop policy, added since: our accept is blocked
    sh("nft", "add table inet admin")
    sh("nft", "add chain inet admin input { type filter hook input "
       "priority 0; policy drop; }")
    r = status(t)
    check(r.returncode == 1 and "drift: blocked: table inet admin chain "
          "input drops by policy" in r.stdout, "status with the admin's "
          "drop: %s" % r.stdout)
    sh("nft", "delete table inet admin")
    t.netsetup("down", "--bridge", "br0")
    r = status(t)
    check(r.returncode == 0 and r.stdout == "no bridge is set up\n",
          "status after down: %r" % r.stdout)
    r = status(t, "--bridge", "br0")
    check(r.returncode == 1 and "not set up" in r.stdout,
          "status --bridge of one not set up: %r" % r.stdout)


@test(netsetup=True)
def netsetup_status_iptables(ctx):
    """status with the iptables backend: each chain against the rules up
    wrote; a rule deleted from a chain, and the jump to a chain deleted
    from INPUT, are drift."""
    t = Topo(ctx)
    t.netsetup("up", "--backend", "iptables", *UP)
    _no_drift(t, "iptables", {
        "iptables filter chain STRAIT-FWD-br0": (5, 5),
        "iptables filter chain STRAIT-IN-br0": (1, 1),
        "iptables nat chain STRAIT-POST-br0": (1, 1)})
    sh("iptables", "-D", "STRAIT-FWD-br0", "-i", "br0", "-j", "DROP")
    sh("iptables", "-D", "INPUT", "-j", "STRAIT-IN-br0")
    r = status(t)
    check(r.returncode == 1 and
          "drift: iptables filter chain STRAIT-FWD-br0 lacks the rule: "
          "-A STRAIT-FWD-br0 -i br0 -j DROP" in r.stdout and
          "drift: iptables filter chain INPUT does not jump to "
          "STRAIT-IN-br0" in r.stdout,
          "status: exit %d:\n%s" % (r.returncode, r.stdout))
    rc, doc = status_json(t)
    check(rc == 1 and len(doc["br0"]["drift"]) == 2, "json: %s" % doc)
    t.netsetup("down", "--bridge", "br0")
