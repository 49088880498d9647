#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Black-box tests of a docker-proxy compatible binary.

    run.py PROXY [--docker-proxy] [-k SUBSTRING]

Each test creates its own network namespace and removes it. With
--docker-proxy the same tests describe Debian's /usr/sbin/docker-proxy:
its known failures (listed in spec/docker-proxy-contract.md) are expected
and reported as such, not hidden; options only strait has are skipped.
The last line is "blackbox: N passed, N failed, N skipped".
"""
import argparse
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
import tests_tcp  # noqa: E402
import tests_udp  # noqa: E402,F401 (registers its tests)
import tests_netsetup  # noqa: E402,F401 (registers its tests)
import tests_proxyproto  # noqa: E402,F401 (registers its tests)
import tests_relay  # noqa: E402,F401 (registers its tests)
import tests_cli  # noqa: E402,F401 (registers its tests)
import tests_sandbox  # noqa: E402,F401 (registers its tests)
import tests_transparent  # noqa: E402,F401 (registers its tests)
import tests_ops  # noqa: E402,F401 (registers its tests)

TEST_SECONDS = 120  # watchdog per test


class Watchdog(Exception):
    pass


def _alarm(signum, frame):
    raise Watchdog("test exceeded %d s" % TEST_SECONDS)


def _term(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


SAN_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
               "runtime error:", "ERROR: UndefinedBehaviorSanitizer")


class Ctx:
    def __init__(self, proxy, docker, netsetup):
        self.proxy = proxy
        self.docker = docker
        self.netsetup = netsetup
        # a real strait-proxy binary for netsetup exec (not a wrapper)
        self.proxy_bin = os.path.join(os.path.dirname(netsetup or proxy),
                                      "strait-proxy")
        self.procs = []

    def argv(self, *args):
        return [self.proxy, *args]


def run_one(ctx, t):
    ctx.procs = []
    with sandbox.Sandbox() as sb:
        ctx.sb = sb
        t.fn(ctx)
    for p in ctx.procs:
        err = p.stderr()
        for m in SAN_MARKERS:
            if m in err:
                raise AssertionError("sanitizer report:\n" + err[-3000:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("proxy")
    ap.add_argument("--docker-proxy", action="store_true")
    ap.add_argument("-k", default="")
    ap.add_argument("--netsetup", help="strait-netsetup to test (default: "
                    "beside PROXY, if there)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("blackbox: needs root (network namespaces)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, _term)
    sandbox.remove_stale()
    netsetup = a.netsetup or os.path.join(os.path.dirname(
        os.path.abspath(a.proxy)), "strait-netsetup")
    netsetup = os.path.abspath(netsetup) if os.path.exists(netsetup) \
        else None
    ctx = Ctx(os.path.abspath(a.proxy), a.docker_proxy, netsetup)
    label = "docker-proxy" if a.docker_proxy else os.path.basename(a.proxy)
    passed = failed = skipped = 0
    for t in tests_tcp.TESTS:
        if a.k not in t.name:
            continue
        if t.netsetup and not netsetup:
            print("SKIP  %s (no strait-netsetup in this run)" % t.name)
            skipped += 1
            continue
        if t.no_valgrind and "valgrind" in os.path.basename(a.proxy):
            print("SKIP  %s (under valgrind: %s)" % (t.name, t.no_valgrind))
            skipped += 1
            continue
        if a.docker_proxy and t.strait_only:
            print("SKIP  %s (strait-only option)" % t.name)
            skipped += 1
            continue
        start = time.monotonic()
        signal.alarm(TEST_SECONDS)
        err = None
        try:
            run_one(ctx, t)
        except KeyboardInterrupt:
            signal.alarm(0)
            raise
        except BaseException as e:  # noqa: B902: report every failure
            err = e
            tb = traceback.format_exc()
        finally:
            signal.alarm(0)
        secs = time.monotonic() - start
        known = t.dp_fails if a.docker_proxy else None
        flaky = t.dp_flaky if a.docker_proxy else None
        if err is not None and flaky:
            print("XFAIL %s: known docker-proxy race: %s" % (t.name, flaky))
            passed += 1
        elif err is None and not known:
            print("PASS  %s (%.1fs)" % (t.name, secs))
            passed += 1
        elif err is not None and known:
            print("XFAIL %s: known docker-proxy failure: %s" % (t.name, known))
            passed += 1
        elif err is None and known:
            print("FAIL  %s: marked as a docker-proxy failure but passed"
                  % t.name)
            failed += 1
        else:
            print("FAIL  %s: %s" % (t.name, err))
            print("      " + tb.strip().replace("\n", "\n      "))
            failed += 1
        sys.stdout.flush()
    print("blackbox[%s]: %d passed, %d failed, %d skipped"
          % (label, passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
