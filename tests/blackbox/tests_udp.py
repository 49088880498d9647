# SPDX-License-Identifier: MIT
"""UDP black-box tests (spec/docker-proxy-contract.md, 7)."""
import os
import signal
import socket
import subprocess
import time

from sandbox import free_port
from servers import UdpEcho
from tests_tcp import DP_SIGNAL_RACE, check, start, test


def udp_echo(ctx, host="127.0.0.1", reply=True, port=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    port = port or free_port(family=fam, host=host, kind=socket.SOCK_DGRAM)
    srv = UdpEcho(host, port, reply)
    ctx.sb.on_exit(srv.close)
    return srv, port


def client(host="127.0.0.1", bind=None, timeout=5):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_DGRAM)
    c.settimeout(timeout)
    if bind:
        c.bind((bind, 0))
    return c


def roundtrip(c, dest, payload):
    c.sendto(payload, dest)
    data, src = c.recvfrom(70000)
    check(data == payload, "reply differs: %d bytes sent, %d back"
          % (len(payload), len(data)))
    return src


def ustart(ctx, **kw):
    return start(ctx, proto="udp", **kw)


@test()
def udp_clients_get_own_replies(ctx):
    """Three clients, interleaved: each gets only its own datagrams back."""
    srv, cport = udp_echo(ctx)
    p = ustart(ctx, cport=cport)
    cs = [client() for _ in range(3)]
    for rnd in range(5):
        for i, c in enumerate(cs):
            c.sendto(b"client %d datagram %d" % (i, rnd),
                     ("127.0.0.1", p.hport))
    for i, c in enumerate(cs):
        got = sorted(c.recv(100) for _ in range(5))
        want = sorted(b"client %d datagram %d" % (i, r) for r in range(5))
        check(got == want, "client %d got %r" % (i, got))
    ports = {src[1] for _, src in srv.seen}
    check(len(ports) == 3, "want one container-side port per client, "
          "saw %d" % len(ports))
    for c in cs:
        c.close()


@test()
def udp_sizes_ipv4(ctx):
    """1, 1400, 8000 and 65507 bytes (the IPv4 maximum) pass intact."""
    srv, cport = udp_echo(ctx)
    p = ustart(ctx, cport=cport)
    c = client()
    for n in (1, 1400, 8000, 65507):
        roundtrip(c, ("127.0.0.1", p.hport), os.urandom(n))
    c.close()


@test(dp_fails="20.10 reads into a 65507-byte buffer: a larger IPv6 "
      "datagram is silently truncated")
def udp_sizes_ipv6(ctx):
    """IPv6 to IPv6, up to the IPv6 maximum of 65527 bytes."""
    srv, cport = udp_echo(ctx, "2001:db8::2")
    p = ustart(ctx, host="2001:db8::1", cip="2001:db8::2", cport=cport)
    c = client("2001:db8::1")
    for n in (1, 1400, 65527):
        roundtrip(c, ("2001:db8::1", p.hport), os.urandom(n))
    c.close()


@test()
def udp_ipv6_to_ipv4(ctx):
    """dockerd's "::" proxy forwards to the container's IPv4 address."""
    srv, cport = udp_echo(ctx)
    p = ustart(ctx, host="::1", cip="127.0.0.1", cport=cport)
    c = client("::1")
    roundtrip(c, ("::1", p.hport), b"v6 in, v4 out")
    c.close()


@test(dp_fails="20.10 replies from the address the kernel picks, not the "
      "one the client used (contract, 7)")
def udp_reply_source_wildcard(ctx):
    """Bound to 0.0.0.0 on a host with two more addresses: each reply comes
    from the address the client sent to."""
    for a in ("192.0.2.1/32", "192.0.2.2/32"):
        subprocess.run(["ip", "addr", "add", a, "dev", "lo"], check=True,
                       timeout=10)
    srv, cport = udp_echo(ctx)
    p = ustart(ctx, host="0.0.0.0", cport=cport)
    c = client(bind="127.0.0.1")
    for dst in ("192.0.2.2", "192.0.2.1", "127.0.0.1"):
        src = roundtrip(c, (dst, p.hport), b"who answers?")
        check(src == (dst, p.hport), "sent to %s, reply from %s"
              % (dst, src))
    c.close()


@test()
def udp_container_absent_then_present(ctx):
    """Nothing listens yet (ICMP port unreachable): no reply, the proxy
    lives; the first datagram after the container is up is answered."""
    cport = free_port(kind=socket.SOCK_DGRAM)
    p = ustart(ctx, cport=cport)
    c = client(timeout=0.5)
    for i in range(3):
        c.sendto(b"anyone? %d" % i, ("127.0.0.1", p.hport))
        try:
            c.recv(100)
            check(False, "a reply with nobody listening")
        except socket.timeout:
            pass
    check(p.alive(), "proxy exited")
    srv, _ = udp_echo(ctx, port=cport)
    c.settimeout(5)
    roundtrip(c, ("127.0.0.1", p.hport), b"now you are there")
    check(srv.seen[0][0] == b"now you are there",
          "first datagram the container saw: %r" % srv.seen[0][0])
    c.close()


def _expiry(ctx, extra=(), env=None):
    srv, cport = udp_echo(ctx, reply=False)
    p = ustart(ctx, cport=cport, extra=extra, env=env)
    c = client()
    dest = ("127.0.0.1", p.hport)
    # keeps sending every 100 ms for 1.2 s, never answered: one flow
    for i in range(12):
        c.sendto(b"keepalive %d" % i, dest)
        time.sleep(0.1)
    deadline = time.monotonic() + 5
    while len(srv.seen) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    ports = {src[1] for _, src in srv.seen}
    check(len(srv.seen) == 12, "container saw %d of 12" % len(srv.seen))
    check(len(ports) == 1, "a client that keeps sending keeps its flow "
          "(ports %s)" % sorted(ports))
    time.sleep(1.0)  # idle > 300 ms: the flow ends
    c.sendto(b"back again", dest)
    deadline = time.monotonic() + 5
    while len(srv.seen) < 13 and time.monotonic() < deadline:
        time.sleep(0.05)
    check(len(srv.seen) == 13, "datagram after expiry not delivered")
    check(srv.seen[-1][1][1] not in ports, "after expiry a new flow, new "
          "source port (got the old one %d)" % srv.seen[-1][1][1])
    c.close()


@test(strait_only=True)
def udp_flow_expiry_flag(ctx):
    """-udp-timeout 300ms: idle counts from the client's last datagram."""
    _expiry(ctx, extra=("-udp-timeout", "300ms"))


@test(strait_only=True)
def udp_flow_expiry_env(ctx):
    """STRAIT_UDP_TIMEOUT=300ms does the same under dockerd (no flags)."""
    _expiry(ctx, env={"STRAIT_UDP_TIMEOUT": "300ms"})


@test(strait_only=True)
def udp_10000_clients_table_1000(ctx):
    """10,000 clients against a table of 1,000: fds and memory stay bounded,
    the oldest flows make room, and the proxy keeps answering."""
    srv, cport = udp_echo(ctx)
    p = ustart(ctx, cport=cport, extra=("-udp-max-flows", "1000"))
    dest = ("127.0.0.1", p.hport)
    for chunk in range(100):
        cs = [client() for _ in range(100)]
        for c in cs:
            c.sendto(b"hello", dest)
        # pace the clients so the listener's buffer never overflows: the
        # proxy must really see 10,000 of them
        deadline = time.monotonic() + 10
        while (len(srv.seen) < (chunk + 1) * 100 and
               time.monotonic() < deadline):
            time.sleep(0.01)
        for c in cs:
            c.close()
        nfd = len(os.listdir("/proc/%d/fd" % p.pid))
        # the flows, and a handful more: 0-2, the listener, epoll,
        # libevent's signal pair, the counters' memfd (and under valgrind
        # its own few)
        check(nfd <= 1000 + 20, "proxy holds %d fds" % nfd)
    check(len(srv.seen) >= 9900, "the container saw only %d of 10000"
          % len(srv.seen))
    rss = int(p.status()["VmRSS"].split()[0])
    check(rss < 64 * 1024, "proxy RSS %d kB" % rss)
    c = client(timeout=2)
    for attempt in range(10):  # UDP: one datagram may drop under load
        try:
            roundtrip(c, dest, b"still answering")
            break
        except socket.timeout:
            check(attempt < 9, "no answer after the flood")
    c.close()
    check(p.alive(), "proxy exited")
    check("flow table full" in p.stderr(), "eviction not logged: %r"
          % p.stderr()[-500:])


PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"


def root_port_range(ctx):
    """The root namespace's ephemeral port range, read by a child put back
    there: this thread's own /proc/sys/net is the sandbox's."""
    out = subprocess.run(["nsenter", "--net=/proc/%d/fd/%d"
                          % (os.getpid(), ctx.sb.root), "cat", PORT_RANGE],
                         capture_output=True, text=True, timeout=10,
                         check=True).stdout
    return out.split()


def narrow_ports(ctx, lo, hi):
    """Leave only ports lo..hi for the sandbox's connect()s and prove the
    root namespace kept its range. /proc/sys/net resolves to the network
    namespace of the thread that opens it, and the harness setns()ed this
    thread into the sandbox. Returns the root's range, for the test to
    check again at its end."""
    want = [str(lo), str(hi)]
    here = os.stat("/proc/thread-self/ns/net").st_ino
    check(here == os.stat("/run/netns/" + ctx.sb.name).st_ino and
          here != os.fstat(ctx.sb.root).st_ino,
          "this thread is not in the test's namespace")
    root = root_port_range(ctx)
    check(root != want, "the root namespace already has %s: a write that "
          "leaked there would not show" % root)
    with open(PORT_RANGE, "w") as f:
        f.write("%d %d" % (lo, hi))
    with open(PORT_RANGE) as f:
        check(f.read().split() == want, "range not narrowed")
    check(root_port_range(ctx) == root, "the root namespace's range changed")
    return root


def bound_client(port, timeout=2):
    """A client on a port of its own choosing, so that it takes none of
    the narrowed range."""
    c = client(timeout=timeout)
    c.bind(("127.0.0.1", port))
    return c


def answered(c, dest, payload, who):
    try:
        roundtrip(c, dest, payload)
    except socket.timeout:
        check(False, "%s: no reply" % who)


DP_NO_PORTS = ("no flow is given up when local ports run out: a new client "
               "is dropped until old flows time out (90 s)")


@test(dp_fails=DP_NO_PORTS)
def udp_out_of_ports_evicts_lru(ctx):
    """8 local ports in the namespace, 20 clients one after the other:
    each new client gets its reply, the least recently used flow giving up
    its port; the clients still holding flows keep them."""
    srv, cport = udp_echo(ctx)
    p = ustart(ctx, cport=cport)
    root = narrow_ports(ctx, 20000, 20007)
    dest = ("127.0.0.1", p.hport)
    cs = [bound_client(21000 + i) for i in range(20)]
    for i, c in enumerate(cs):
        answered(c, dest, b"client %d" % i, "client %d of 20 (8 ports)" % i)
    # the 8 newest still have their flows: same container-side port
    last = {d: src[1] for d, src in srv.seen}
    for i in range(12, 20):
        answered(cs[i], dest, b"client %d" % i, "client %d again" % i)
        check(srv.seen[-1][1][1] == last[b"client %d" % i],
              "client %d lost its flow" % i)
    ports = {src[1] for _, src in srv.seen}
    check(ports <= set(range(20000, 20008)), "ports %s" % sorted(ports))
    answered(cs[0], dest, b"client 0 back", "client 0, back")
    check(p.alive(), "proxy exited: %s" % p.stderr())
    if not ctx.docker:
        check("out of local ports" in p.stderr(), "eviction not logged: %r"
              % p.stderr()[-500:])
    for c in cs:
        c.close()
    check(root_port_range(ctx) == root, "the root namespace's range changed")


@test(strait_only=True)
def udp_out_of_ports_range_evicts_other_port(ctx):
    """A range of 2 ports; the first one's flows hold all 8 local ports: a
    client of the second still gets its reply (ports are the process's, so
    the least recently used flow of any port gives its up)."""
    hbase, cbase = 17000, 18000
    srvs = [udp_echo(ctx, port=cbase + i)[0] for i in range(2)]
    p = ustart(ctx, hport="%d-%d" % (hbase, hbase + 1),
               cport="%d-%d" % (cbase, cbase + 1))
    root = narrow_ports(ctx, 20000, 20007)
    cs = [bound_client(21000 + i) for i in range(9)]
    for i in range(8):
        answered(cs[i], ("127.0.0.1", hbase), b"a%d" % i, "port 1 client %d"
                 % i)
    answered(cs[8], ("127.0.0.1", hbase + 1), b"b", "the second port's "
             "client, all local ports held by the first's flows")
    check([d for d, _ in srvs[1].seen] == [b"b"], "second container saw %r"
          % srvs[1].seen)
    answered(cs[0], ("127.0.0.1", hbase), b"a0 back", "port 1 client 0 back")
    check("out of local ports" in p.stderr(), "eviction not logged: %r"
          % p.stderr()[-500:])
    for c in cs:
        c.close()
    check(root_port_range(ctx) == root, "the root namespace's range changed")


@test()
def udp_refused_storm_no_spin(ctx):
    """Nothing listens behind the port: 50 clients' datagrams draw ICMP
    port unreachable on 50 flow sockets; once they stop, the proxy is idle
    (every socket error is consumed by the read that reports it: a
    level-triggered event left readable would spin)."""
    cport = free_port(kind=socket.SOCK_DGRAM)
    p = ustart(ctx, cport=cport)
    cs = [client() for _ in range(50)]
    for rnd in range(4):
        for c in cs:
            c.sendto(b"anyone? %d" % rnd, ("127.0.0.1", p.hport))
    time.sleep(0.5)
    cpu0 = p.cpu_seconds()
    time.sleep(1.0)
    busy = p.cpu_seconds() - cpu0
    check(busy < 0.5, "proxy busy while idle (%.2f s CPU in 1 s)" % busy)
    check(p.alive(), "proxy exited: %s" % p.stderr())
    srv, _ = udp_echo(ctx, port=cport)
    for c in cs[:3]:
        answered(c, ("127.0.0.1", p.hport), b"now you are there",
                 "after the storm")
    for c in cs:
        c.close()


@test(dp_flaky=DP_SIGNAL_RACE)
def udp_sigint_exits_0(ctx):
    srv, cport = udp_echo(ctx)
    p = ustart(ctx, cport=cport)
    c = client()
    roundtrip(c, ("127.0.0.1", p.hport), b"flow open")
    p.signal(signal.SIGINT)
    check(p.wait(5) == 0, "exit %r" % p.p.returncode)
    c.close()


@test(dp_fails="20.10 predates -use-listen-fd (Docker 28+)")
def udp_fd4_adoption(ctx):
    """A bound UDP socket on fd 4, IP_PKTINFO set as dockerd does."""
    srv, cport = udp_echo(ctx)
    port = free_port(kind=socket.SOCK_DGRAM)
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.setsockopt(socket.IPPROTO_IP, 8, 1)  # IP_PKTINFO
    us.bind(("127.0.0.1", port))
    p = ustart(ctx, hport=port, cport=cport, fd4=us.fileno(),
               use_listen_fd=True)
    ino = os.fstat(us.fileno()).st_ino
    us.close()
    check(os.stat("/proc/%d/fd/4" % p.pid).st_ino == ino,
          "fd 4 is not the socket we passed")
    c = client()
    roundtrip(c, ("127.0.0.1", port), b"through fd 4")
    c.close()


@test(strait_only=True)
def udp_port_range(ctx):
    """A UDP range in one process: each host port reaches its own container
    port, and each container port sees only its own datagrams."""
    n, hbase, cbase = 5, 16000, 15000
    srvs = [udp_echo(ctx, port=cbase + i)[0] for i in range(n)]
    p = ustart(ctx, hport="%d-%d" % (hbase, hbase + n - 1),
               cport="%d-%d" % (cbase, cbase + n - 1))
    c = client()
    for i in reversed(range(n)):
        roundtrip(c, ("127.0.0.1", hbase + i), b"for port %d" % (cbase + i))
    c.close()
    for i, srv in enumerate(srvs):
        got = [d for d, _ in srv.seen]
        check(got == [b"for port %d" % (cbase + i)],
              "container port %d saw %r" % (cbase + i, got))
    check(p.alive(), "proxy exited: %s" % p.stderr())


@test(dp_fails="keeps the kernel's default receive buffer (208 KiB): a "
      "burst that arrives while it is not running is mostly dropped")
def udp_burst_while_stopped(ctx):
    """600 datagrams of 1400 bytes arrive while the proxy is stopped (as if
    not scheduled for a moment): all of them reach the container after."""
    srv, cport = udp_echo(ctx, reply=False)
    srv.s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    p = ustart(ctx, cport=cport)
    c = client()
    c.sendto(b"first", ("127.0.0.1", p.hport))
    deadline = time.monotonic() + 10
    while not srv.seen:
        check(time.monotonic() < deadline, "first datagram not delivered")
        time.sleep(0.01)
    p.signal(signal.SIGSTOP)
    try:
        for i in range(600):
            c.sendto(b"%04d" % i + b"x" * 1396, ("127.0.0.1", p.hport))
    finally:
        p.signal(signal.SIGCONT)
    deadline = time.monotonic() + 10
    while len(srv.seen) < 601 and time.monotonic() < deadline:
        time.sleep(0.05)
    c.close()
    check(len(srv.seen) == 601, "%d of 600 datagrams delivered"
          % (len(srv.seen) - 1))
    got = [d[:4] for d, _ in srv.seen[1:]]
    check(got == [b"%04d" % i for i in range(600)], "order or content")


@test(dp_flaky="its listener keeps the kernel's default receive buffer "
      "(208 KiB): a burst that comes while it is not scheduled is dropped")
def udp_stream_in_order(ctx):
    """2000 datagrams of 1400 bytes in bursts of 100, 2 ms apart (about
    0.4 Gbit/s): every one reaches the container, in order. The proxy
    takes its pacing and coalescing waits (a full batch, datagrams a few
    microseconds apart) inside the sandbox, as in production."""
    srv, cport = udp_echo(ctx, reply=False)
    srv.s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    p = ustart(ctx, cport=cport)
    c = client()
    dest = ("127.0.0.1", p.hport)
    for burst in range(20):
        for i in range(100):
            c.sendto(b"%04d" % (burst * 100 + i) + b"x" * 1396, dest)
        time.sleep(0.002)
    deadline = time.monotonic() + 30
    while len(srv.seen) < 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    c.close()
    check(p.alive(), "proxy exited: %s" % p.stderr()[-500:])
    check(len(srv.seen) == 2000, "%d of 2000 datagrams delivered"
          % len(srv.seen))
    got = [d[:4] for d, _ in srv.seen]
    check(got == [b"%04d" % i for i in range(2000)], "order or content")


def _burst_while_stopped(p, c, dest, payloads):
    """Send @payloads to @dest while the proxy is stopped, then let it go:
    it finds them all waiting, as many to a batch as it takes."""
    p.signal(signal.SIGSTOP)
    try:
        for d in payloads:
            c.sendto(d, dest)
    finally:
        p.signal(signal.SIGCONT)


def _wait_seen(srv, n, secs=10):
    deadline = time.monotonic() + secs
    while len(srv.seen) < n and time.monotonic() < deadline:
        time.sleep(0.05)


def _flowing(ctx, before_proxy=None):
    """A container server with a 16 MiB buffer, a proxy to it and a client
    whose flow is up (its first datagram delivered). @before_proxy(cport)
    runs before the proxy starts. Return: server, proxy, client, dest."""
    srv, cport = udp_echo(ctx, reply=False)
    srv.s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    if before_proxy:
        before_proxy(cport)
    p = ustart(ctx, cport=cport)
    c = client()
    dest = ("127.0.0.1", p.hport)
    c.sendto(b"first", dest)
    _wait_seen(srv, 1)
    check(len(srv.seen) == 1, "first datagram not delivered")
    return srv, p, c, dest


def _delivered(srv, p, c, payloads):
    """After a burst: every one of @payloads reached the container, in
    order, and the proxy still runs."""
    _wait_seen(srv, 1 + len(payloads))
    c.close()
    check(p.alive(), "proxy exited: %s" % p.stderr()[-500:])
    got = [d for d, _ in srv.seen[1:]]
    check(len(got) == len(payloads), "%d of %d datagrams delivered"
          % (len(got), len(payloads)))
    check(got == payloads, "sizes, order or content differ")


def _nft_udp_counter(cport):
    """An nft counter of UDP packets to @cport at input, in this test's
    namespace. Return: a function reading it."""
    table = "strait_test_gso"
    subprocess.run(["nft", "add table inet %s; add chain inet %s in "
                    "{ type filter hook input priority 0; }; add rule inet "
                    "%s in udp dport %d counter" % (table, table, table,
                                                    cport)],
                   check=True, timeout=10)

    def packets():
        out = subprocess.run(["nft", "list", "chain", "inet", table, "in"],
                             capture_output=True, text=True, timeout=10,
                             check=True).stdout
        return int(out.split("counter packets ")[1].split()[0])
    return packets


@test(dp_fails="sends every datagram on its own: as many packets as "
      "datagrams cross the container's netfilter")
def udp_joined_towards_container(ctx):
    """Datagrams of one client waiting together leave joined (UDP_SEGMENT):
    one packet per run of one size crosses the container side's netfilter
    (an nft counter at input), and the container receives exactly the
    datagrams sent, in order: runs of 1400 bytes, a shorter one ending a
    run, an empty datagram, sizes that grow."""
    counter = []
    srv, p, c, dest = _flowing(
        ctx, lambda cport: counter.append(_nft_udp_counter(cport)))
    sizes = [1400] * 200 + [700] + [1400] * 50 + [0, 10, 20, 30] + \
        [1400] * 98 + [3]
    payloads = [(b"%04d" % i + b"x" * n)[:n] for i, n in enumerate(sizes)]
    before = counter[0]()
    _burst_while_stopped(p, c, dest, payloads)
    _delivered(srv, p, c, payloads)
    n = counter[0]() - before
    check(0 < n <= len(payloads) // 4, "%d packets at the container's input "
          "for %d datagrams: not joined" % (n, len(payloads)))


@test(dp_fails="keeps the kernel's default receive buffer (208 KiB): a "
      "burst that arrives while it is not running is mostly dropped")
def udp_joined_over_the_mtu(ctx):
    """Datagrams larger than the path's MTU cannot be joined (the kernel
    says EINVAL rather than segment and fragment): they go one by one,
    fragmented as ever, and none is lost; those that fit are joined still.
    The namespace's loopback gets an MTU of 1500 for this."""
    subprocess.run(["ip", "link", "set", "lo", "mtu", "1500"], check=True,
                   timeout=10)
    srv, p, c, dest = _flowing(ctx)
    sizes = [3000] * 100 + [1000] * 100 + [3000] * 50
    payloads = [(b"%04d" % i + b"y" * n)[:n] for i, n in enumerate(sizes)]
    _burst_while_stopped(p, c, dest, payloads)
    _delivered(srv, p, c, payloads)
