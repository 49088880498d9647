#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Clients run inside the test namespace (ip netns exec NS python3 ...).

    client.py get URL            print "LEN SHA256" of the body
    client.py par N URL          N downloads at once; print each "LEN SHA256"
    client.py udp HOST PORT N..  one datagram of each size N, echoed back
    client.py listen HOST PORT   hold a TCP port until killed
    client.py pp HOST PORT       send "hello\n" to an echo server, retried
                                 until it answers; print our port, then
                                 what came back, escaped (a PROXY header
                                 first?)
    client.py whoami tcp|udp HOST PORT
                                 ask a whoami server, retried until it
                                 answers; print our own address and port,
                                 then the one it saw
"""
import hashlib
import socket
import sys
import threading
import time
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=20) as r:
        body = r.read()
    return "%d %s" % (len(body), hashlib.sha256(body).hexdigest())


def par(n, url):
    out = [None] * n

    def one(i):
        try:
            out[i] = get(url)
        except Exception as e:  # reported, not raised
            out[i] = "FAIL %s" % e
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return "\n".join(str(x) for x in out)


def whoami(proto, host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + 20
    while True:
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(fam, kind)
        s.settimeout(2)
        try:
            if proto == "tcp":
                s.connect((host, port))
                got = s.makefile().readline()
            else:
                s.connect((host, port))
                s.send(b"who?")
                got = s.recv(200).decode()
            me = s.getsockname()
            if got.strip():
                return "%s %d\n%s" % (me[0], me[1], got.strip())
        except OSError:
            pass
        finally:
            s.close()
        if time.monotonic() > deadline:
            return "FAIL no answer"
        time.sleep(0.3)


def udp(host, port, sizes):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    res = []
    for n in sizes:
        data = bytes((i * 7) % 251 for i in range(n))
        for attempt in range(5):  # the first may race the proxy's start
            s.sendto(data, (host, port))
            try:
                got = s.recv(70000)
                break
            except socket.timeout:
                got = None
        res.append("%d %s" % (n, "ok" if got == data else "BAD"))
    return "\n".join(res)


def pp(host, port):
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection((host, port), timeout=5) as c:
                me = c.getsockname()[1]
                c.sendall(b"hello\n")
                c.shutdown(socket.SHUT_WR)
                got = b""
                while True:
                    b = c.recv(4096)
                    if not b:
                        break
                    got += b
        except OSError:
            got = b""
        if got or time.monotonic() > deadline:
            # escaped: the driver reads our output as text, which would
            # turn "\r\n" into "\n"
            return "%d\n%s" % (me if got else 0,
                               got.decode("latin-1").encode(
                                   "unicode_escape").decode())
        time.sleep(0.3)  # the container's server is not up yet


def listen(host, port):
    s = socket.socket()
    s.bind((host, port))
    s.listen()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "get":
        print(get(sys.argv[2]))
    elif cmd == "par":
        print(par(int(sys.argv[2]), sys.argv[3]))
    elif cmd == "udp":
        print(udp(sys.argv[2], int(sys.argv[3]), [int(x) for x in
                                                   sys.argv[4:]]))
    elif cmd == "pp":
        print(pp(sys.argv[2], int(sys.argv[3])), end="")
    elif cmd == "listen":
        listen(sys.argv[2], int(sys.argv[3]))
    elif cmd == "whoami":
        print(whoami(sys.argv[2], sys.argv[3], int(sys.argv[4])))
