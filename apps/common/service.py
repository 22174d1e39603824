"""What every tier of the sample application shares: who am I, JSON over HTTP.

Standard library only, so the same file runs in the offline-built images of the local
provider and in the Dockerfile images for kind.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

Route = Callable[["Handler"], tuple[int, Any]]


def whoami(tier: str) -> dict[str, str]:
    """Tier, pod name, pod IP and node, from the downward API (env), else the host's view."""
    hostname = socket.gethostname()
    return {
        "tier": tier,
        "pod": os.environ.get("POD_NAME", hostname),
        "ip": os.environ.get("POD_IP") or _own_ip(),
        "node": os.environ.get("NODE_NAME", "unknown"),
    }


def _own_ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "unknown"


class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[tuple[str, str], Route]] = {}
    server_version = "firstapp"

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        route = self.routes.get((method, path)) or self.routes.get((method, path.rsplit("/", 1)[0] + "/*"))
        if route is None:
            self._send(404, {"error": f"no route {method} {path}"})
            return
        try:
            status, body = route(self)
        except Exception as error:  # noqa: BLE001 - a bug in a route must not kill the server thread silently
            status, body = 500, {"error": f"{type(error).__name__}: {error}"}
        self._send(status, body)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, 1 << 20))

    def _send(self, status: int, body: Any) -> None:
        if isinstance(body, str):
            data, kind = body.encode(), "text/html; charset=utf-8"
        else:
            data, kind = (json.dumps(body) + "\n").encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.path.startswith(("/healthz", "/readyz")):
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def serve(routes: dict[tuple[str, str], Route]) -> None:
    port = int(os.environ.get("PORT", "8080"))
    handler = type("RoutedHandler", (Handler,), {"routes": routes})
    server = ThreadingHTTPServer(("0.0.0.0", port), handler)
    server.daemon_threads = True
    print(f"listening on :{port}", flush=True)
    server.serve_forever()
