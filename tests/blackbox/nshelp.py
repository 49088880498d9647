#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tiny hosts for netsetup tests, run inside namespaces with ip netns exec.

    nshelp.py serve-peer HOST PORT   answer each connection with the peer's
                                      address, then close (runs until killed)
    nshelp.py connect HOST PORT SECS  print what the server says, or
                                      "FAIL <error>"; exit 0 either way
"""
import socket
import sys


def serve_peer(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(64)
    print("ready", flush=True)
    while True:
        c, peer = s.accept()
        try:
            c.sendall(peer[0].encode() + b"\n")
        except OSError:
            pass
        c.close()


def connect(host, port, secs):
    try:
        with socket.create_connection((host, int(port)),
                                      timeout=float(secs)) as c:
            data = b""
            while True:
                b = c.recv(4096)
                if not b:
                    break
                data += b
        print(data.decode().strip())
    except OSError as e:
        print("FAIL", e)


if __name__ == "__main__":
    if sys.argv[1] == "serve-peer":
        serve_peer(sys.argv[2], sys.argv[3])
    else:
        connect(sys.argv[2], sys.argv[3], sys.argv[4])
