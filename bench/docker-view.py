#!/usr/bin/env python3
"""A filtered view of the local Docker API, for cold-start benchmarks on a shared machine.

Listens on a unix socket and forwards every request to the real Docker socket unchanged, except that
GET /containers/json answers only the containers whose `cms.cluster` label is one of --keep (none if no --keep).
With DOCKER_HOST=unix://<listen> the CLI sees "Docker running, no clusters" (or "only my cluster") even while
other people's clusters exist. Loopback only: a unix socket under /tmp.

usage: docker-view.py LISTEN_SOCKET [--real /var/run/docker.sock] [--keep CLUSTER]...
"""
import argparse
import http.client
import json
import os
import socket
import socketserver
from http.server import BaseHTTPRequestHandler


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def make_handler(real, keep):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def address_string(self):
            return "unix"

        def log_message(self, *args):
            pass

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn = UnixHTTPConnection(real)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                res = conn.getresponse()
                data = res.read()
                if self.command == "GET" and self.path.split("?")[0].endswith("/containers/json") and res.status == 200:
                    items = json.loads(data)
                    items = [c for c in items if (c.get("Labels") or {}).get("cms.cluster") in keep]
                    data = json.dumps(items).encode()
                self.send_response(res.status)
                for k, v in res.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("listen")
    p.add_argument("--real", default="/var/run/docker.sock")
    p.add_argument("--keep", action="append", default=[])
    a = p.parse_args()
    if os.path.exists(a.listen):
        os.unlink(a.listen)
    with Server(a.listen, make_handler(a.real, set(a.keep))) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
