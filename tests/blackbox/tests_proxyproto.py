# SPDX-License-Identifier: MIT
"""The PROXY protocol towards the container (strait only): the header's
bytes, built here independently of the C code, where it applies under
STRAIT_PROXY_PROTOCOL, and HAProxy (accept-proxy) reading the client's
address from it."""
import os
import shutil
import socket
import struct
import tempfile
import time

from sandbox import Proc, free_port
from servers import listen
from tests_tcp import (RANGE_CTR, RANGE_HOST, check, connect, recv_all,
                       start, test, with_echo, _range_arg)
from servers import EchoServer

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def _want(version, client, local):
    """The header for a connection from @client to @local ((ip, port))."""
    fam = socket.AF_INET6 if ":" in client[0] else socket.AF_INET
    if version == 1:
        return ("PROXY %s %s %s %d %d\r\n"
                % ("TCP6" if fam == socket.AF_INET6 else "TCP4", client[0],
                   local[0], client[1], local[1])).encode()
    addrs = (socket.inet_pton(fam, client[0]) +
             socket.inet_pton(fam, local[0]))
    body = addrs + struct.pack("!HH", client[1], local[1])
    return SIG + bytes([0x21, 0x21 if fam == socket.AF_INET6 else 0x11]) + \
        struct.pack("!H", len(body)) + body


def _through(host, port, src=None, msg=b"hello"):
    """Send @msg through the proxy from @src; what the echo server got
    back to us, and our (ip, port)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.settimeout(10)
    try:
        if src:
            c.bind((src, 0))
        c.connect((host, port))
        me = c.getsockname()[:2]
        c.sendall(msg)
        c.shutdown(socket.SHUT_WR)
        return recv_all(c), me
    finally:
        c.close()


def _headers(ctx, version, host, src, how):
    srv, port = with_echo(ctx, host)
    if how == "flag":
        p = start(ctx, host=host, cip=host, cport=port,
                  extra=("-proxy-protocol", "v%d" % version))
    else:
        p = start(ctx, host=host, cip=host, cport=port,
                  env={"STRAIT_PROXY_PROTOCOL": "v%d" % version})
    check("PROXY protocol v%d" % version in p.stderr(),
          "start-up line: %r" % p.stderr())
    for _ in range(3):
        got, me = _through(host, p.hport, src)
        want = _want(version, me, (host, p.hport)) + b"hello"
        check(got == want, "v%d from %s: want %r, got %r"
              % (version, me, want, got))


@test(strait_only=True)
def proxy_protocol_v1(ctx):
    """-proxy-protocol v1: the container reads "PROXY TCP4 <client>
    <address it connected to> <ports>\\r\\n", then the client's bytes; the
    client's own address (127.0.0.2 here), not the proxy's."""
    _headers(ctx, 1, "127.0.0.1", "127.0.0.2", "flag")
    _headers(ctx, 1, "::1", None, "flag")


@test(strait_only=True)
def proxy_protocol_v2(ctx):
    """STRAIT_PROXY_PROTOCOL=v2 (as dockerd would pass it): the binary
    header, IPv4 and IPv6."""
    _headers(ctx, 2, "127.0.0.1", "127.0.0.2", "env")
    _headers(ctx, 2, "::1", None, "env")


@test(strait_only=True)
def proxy_protocol_env_ports(ctx):
    """STRAIT_PROXY_PROTOCOL=v1:PORT applies to that host port only: in a
    range, the other ports pass the client's bytes untouched; UDP proxies
    started with the same environment are unaffected."""
    for i in range(2):
        srv = EchoServer("127.0.0.1", RANGE_CTR + i)
        ctx.sb.on_exit(srv.close)
    p = start(ctx, hport=_range_arg(RANGE_HOST, 2),
              cport=_range_arg(RANGE_CTR, 2),
              env={"STRAIT_PROXY_PROTOCOL": "v1:%d" % RANGE_HOST})
    check("on some ports" in p.stderr(), "start-up line: %r" % p.stderr())
    got, me = _through("127.0.0.1", RANGE_HOST)
    check(got == _want(1, me, ("127.0.0.1", RANGE_HOST)) + b"hello",
          "the listed port: %r" % got)
    got, _ = _through("127.0.0.1", RANGE_HOST + 1)
    check(got == b"hello", "the other port: %r" % got)
    u = start(ctx, proto="udp", cport=RANGE_CTR,
              env={"STRAIT_PROXY_PROTOCOL": "v1:%d" % RANGE_HOST})
    check(u.alive(), "a UDP proxy refused the environment: %s" % u.stderr())
    r = Proc(ctx.argv("-proto", "udp", "-host-ip", "127.0.0.1",
                      "-host-port", str(free_port()), "-container-ip",
                      "127.0.0.1", "-container-port", "9",
                      "-proxy-protocol", "v1"))
    ctx.sb.spawn(r)
    check(r.wait(10) == 2 and "tcp only" in r.stderr(),
          "-proxy-protocol with udp: %r" % r.stderr())


HAPROXY_CFG = """global
    maxconn 100
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%(port)d accept-proxy
    bind [::1]:%(port)d accept-proxy
    http-request return status 200 content-type text/plain lf-string "%%[src] %%[src_port] %%[dst] %%[dst_port]"
"""


@test(strait_only=True)
def proxy_protocol_haproxy(ctx):
    """HAProxy with accept-proxy as the container reads the client's
    address and port, and the address it connected to, from strait's
    header: v1 and v2, IPv4 and IPv6 (an independent implementation of the
    protocol agrees with ours)."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    check(os.path.exists(haproxy), "haproxy is not installed "
          "(scripts/install-deps.sh test installs it)")
    port = free_port()
    d = tempfile.mkdtemp(prefix="strait-haproxy-")
    ctx.sb.on_exit(lambda: shutil.rmtree(d, ignore_errors=True))
    cfgf = os.path.join(d, "haproxy.cfg")
    with open(cfgf, "w") as f:
        f.write(HAPROXY_CFG % {"port": port})
    h = Proc([haproxy, "-db", "-f", cfgf], fd3=False)
    ctx.sb.spawn(h)
    deadline = time.monotonic() + 10
    while True:
        try:
            connect("127.0.0.1", port, 1).close()
            break
        except OSError:
            check(h.alive() and time.monotonic() < deadline,
                  "haproxy did not start: %s" % h.stderr())
            time.sleep(0.05)
    for version in (1, 2):
        for host, src in (("127.0.0.1", "127.0.0.2"), ("::1", None)):
            p = start(ctx, host=host, cip=host, cport=port,
                      extra=("-proxy-protocol", "v%d" % version))
            got, me = _through(host, p.hport, src,
                               b"GET / HTTP/1.0\r\n\r\n")
            body = got.split(b"\r\n\r\n", 1)[-1].decode()
            want = "%s %d %s %d" % (me[0], me[1], host, p.hport)
            check(got.startswith(b"HTTP/1.") and body == want,
                  "v%d %s: haproxy saw %r, want %r (%r)"
                  % (version, host, body, want, got[:80]))
            p.signal(15)
            p.wait(5)
