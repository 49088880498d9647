#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The demo's "container": a static HTTP server that logs who connected.

http.server's own server looks up the FQDN of its address after bind and
before listen; in a namespace with no DNS that stalls for seconds, so this
one skips the lookup.
"""
import functools
import http.server
import socketserver
import sys


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "container", \
            self.server_address[1]


def main():
    addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=root)
    with Server((addr, port), handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
