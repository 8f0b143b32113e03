"""The HTTP endpoint Prometheus scrapes: ``GET /metrics`` on a daemon thread.

Built from the standard library's threading HTTP server and prometheus_client's handler
rather than ``start_http_server``, whose return value changed after 0.16 (Debian 12's): the
service needs the server object to close it, and the bind error at construction time.
"""

from __future__ import annotations

import socket
import threading
import urllib.parse
from http.server import ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import MetricsHandler

PATH = "/metrics"


class _Handler(MetricsHandler):
    def do_GET(self) -> None:
        if urllib.parse.urlparse(self.path).path != PATH:
            self.send_error(404, f"metrics are at {PATH}")
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a scrape every 15 s is not worth a log line (the default writes stderr)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow scraper never holds the process at exit


class _Server6(_Server):
    address_family = socket.AF_INET6


class MetricsServer:
    """Binds at construction (OSError if it cannot); serves after :meth:`start`."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry) -> None:
        handler = type("Handler", (_Handler,), {"registry": registry})
        server_class = _Server6 if ":" in host else _Server
        self.httpd = server_class((host, port), handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="flotod-metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
