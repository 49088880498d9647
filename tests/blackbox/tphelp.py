#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Container and client for the transparent-mode tests, run in namespaces
with ip netns exec. Every mode is bounded in time.

    tphelp.py tcp-serve HOST PORT   each connection: "PEER ip port\\n", then
                                    echo every byte; at the client's EOF,
                                    shut the write side (runs until killed)
    tphelp.py tcp-first HOST PORT   each connection: "PEER ip port\\n" and
                                    the server's FIN first, then it reads
                                    to the client's EOF and closes
    tphelp.py udp-serve HOST PORT   each datagram answered with
                                    "ip port|" + the datagram
    tphelp.py tcp HOST PORT NBYTES  connect, read PEER, send NBYTES, shut
                                    the write side, check the echo: prints
                                    "ok ip port" (the server's view) and
                                    "local ip port" (ours), or "FAIL why"
    tphelp.py tcp-srvfirst HOST PORT  read PEER and the server's EOF, then
                                    send 1 MiB and shut: "ok ip port"
    tphelp.py udp HOST PORT N       N sockets, each sends 3 datagrams and
                                    checks each reply names its own port:
                                    "ok ip port" per socket, or "FAIL why"
"""
import socket
import sys
import threading

SECS = 20


def _fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listen(host, port):
    s = socket.socket(_fam(host))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(64)
    return s


def _echo(c, peer):
    c.settimeout(SECS)
    try:
        c.sendall(b"PEER %s %d\n" % (peer[0].encode(), peer[1]))
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        c.close()


def _first(c, peer):
    c.settimeout(SECS)
    try:
        c.sendall(b"PEER %s %d\n" % (peer[0].encode(), peer[1]))
        c.shutdown(socket.SHUT_WR)
        n = 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            n += len(b)
        sys.stderr.write("got %d\n" % n)
    except OSError:
        pass
    finally:
        c.close()


def tcp_serve(host, port, fn):
    s = _listen(host, port)
    print("ready", flush=True)
    while True:
        c, peer = s.accept()
        threading.Thread(target=fn, args=(c, peer), daemon=True).start()


def udp_serve(host, port):
    s = socket.socket(_fam(host), socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(65536)
        s.sendto(b"%s %d|" % (peer[0].encode(), peer[1]) + data, peer)


def _pattern(n):
    block = bytes((i * 7 + 3) % 251 for i in range(65536))
    return (block * (n // len(block) + 1))[:n]


def _peer_line(c):
    line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            raise OSError("closed before the PEER line: %r" % line)
        line += b
    return line.decode().split()[1:]


def tcp(host, port, nbytes):
    c = socket.create_connection((host, int(port)), timeout=SECS)
    peer = _peer_line(c)
    data = _pattern(int(nbytes))
    got = bytearray()

    def reader():
        while True:
            b = c.recv(1 << 16)
            if not b:
                return
            got.extend(b)
    t = threading.Thread(target=reader)
    t.start()
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    t.join(SECS)
    local = c.getsockname()
    c.close()
    if bytes(got) != data:
        return "FAIL echo: sent %d bytes, got %d back" % (len(data),
                                                          len(got))
    return "ok %s %s\nlocal %s %d" % (peer[0], peer[1], local[0], local[1])


def tcp_srvfirst(host, port):
    c = socket.create_connection((host, int(port)), timeout=SECS)
    peer = _peer_line(c)
    if c.recv(1) != b"":
        return "FAIL the server's EOF did not come"
    c.sendall(_pattern(1 << 20))
    c.shutdown(socket.SHUT_WR)
    c.settimeout(SECS)
    if c.recv(1) != b"":
        return "FAIL no EOF after ours"
    c.close()
    return "ok %s %s" % (peer[0], peer[1])


def udp(host, port, n):
    out = []
    socks = [socket.socket(_fam(host), socket.SOCK_DGRAM)
             for _ in range(int(n))]
    for s in socks:
        s.settimeout(3)
        s.connect((host, int(port)))
    for rnd in range(3):
        for i, s in enumerate(socks):
            s.send(b"c%d r%d" % (i, rnd))
        for i, s in enumerate(socks):
            try:
                r = s.recv(65536)
            except socket.timeout:
                return "FAIL socket %d round %d: no reply" % (i, rnd)
            seen, _, data = r.partition(b"|")
            ip, sport = seen.decode().split()
            if data != b"c%d r%d" % (i, rnd) or \
                    int(sport) != s.getsockname()[1]:
                return "FAIL socket %d: reply %r, our port %d" % (
                    i, r, s.getsockname()[1])
            if rnd == 0:
                out.append("ok %s %s" % (ip, sport))
    return "\n".join(out)


def main(a):
    if a[0] == "tcp-serve":
        tcp_serve(a[1], a[2], _echo)
    elif a[0] == "tcp-first":
        tcp_serve(a[1], a[2], _first)
    elif a[0] == "udp-serve":
        udp_serve(a[1], a[2])
    else:
        try:
            if a[0] == "tcp":
                print(tcp(a[1], a[2], a[3]))
            elif a[0] == "tcp-srvfirst":
                print(tcp_srvfirst(a[1], a[2]))
            else:
                print(udp(a[1], a[2], a[3]))
        except OSError as e:
            print("FAIL", e)


if __name__ == "__main__":
    main(sys.argv[1:])
