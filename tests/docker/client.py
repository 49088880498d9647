#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Clients run inside the test namespace (ip netns exec NS python3 ...).

    client.py get URL            print "LEN SHA256" of the body
    client.py par N URL          N downloads at once; print each "LEN SHA256"
    client.py udp HOST PORT N..  one datagram of each size N, echoed back
    client.py listen HOST PORT   hold a TCP port until killed
"""
import hashlib
import socket
import sys
import threading
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
    elif cmd == "listen":
        listen(sys.argv[2], int(sys.argv[3]))
