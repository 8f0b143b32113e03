"""The two ways to reach the embedded SWF: an in-process boto3 client and a threaded HTTP
server speaking SWF's JSON protocol (``X-Amz-Target: SimpleWorkflowService.<Operation>``).

The same port serves the embedded S3 (:mod:`flotod.localswf.s3`): a request without SWF's
target header is an S3 REST request, so one ``endpoint_url`` serves both clients, as it does
for flotod's large payloads. :func:`s3_client` is its in-process twin.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config

from flotod.localswf.backend import LocalSWFBackend
from flotod.localswf.responses import dispatch

log = logging.getLogger(__name__)
TARGET_PREFIX = "SimpleWorkflowService."
FAKE_ENDPOINT = "https://swf.us-east-1.amazonaws.com"
FAKE_S3_ENDPOINT = "https://s3.us-east-1.amazonaws.com"


class _RawBody:
    """The minimal raw stream botocore reads a response body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


def _operation(headers: Any) -> str:
    target = headers.get("X-Amz-Target") or b""
    if isinstance(target, bytes):
        target = target.decode()
    return str(target).removeprefix(TARGET_PREFIX)


def _answered_by(
    service: str,
    endpoint: str,
    region_name: str,
    config: Config,
    answer: Callable[..., AWSResponse],
) -> Any:
    """A boto3 client of ``service`` whose requests ``answer`` serves in this process: botocore
    hands each signed request to the before-send hook, which returns the response itself."""
    made = boto3.session.Session().client(  # type: ignore[call-overload]
        service,
        region_name=region_name,
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    )
    made.meta.events.register(f"before-send.{service}", answer)
    return made


def _body(request: Any) -> bytes:
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    return body.encode() if isinstance(body, str) else bytes(body)


def client(backend: LocalSWFBackend, region_name: str = "us-east-1") -> Any:
    """A boto3 SWF client answered by ``backend`` in this process: no socket is opened."""

    def answer(request: Any, **_: Any) -> AWSResponse:
        status, out = dispatch(backend, _operation(request.headers), _body(request))
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, status, headers, _RawBody(out))

    config = Config(read_timeout=70, retries={"max_attempts": 0})
    return _answered_by("swf", FAKE_ENDPOINT, region_name, config, answer)


def s3_client(backend: LocalSWFBackend, region_name: str = "us-east-1") -> Any:
    """A boto3 S3 client answered by ``backend``'s embedded S3 in this process (path-style)."""

    def answer(request: Any, **_: Any) -> AWSResponse:
        split = urlsplit(request.url)
        target = split.path + (f"?{split.query}" if split.query else "")
        headers = {
            k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
        }
        reply = backend.s3.handle(request.method, target, headers, _body(request))
        out = HTTPHeaders()
        for name, value in reply.headers.items():
            out[name] = value
        return AWSResponse(request.url, reply.status, out, _RawBody(reply.body))

    config = Config(retries={"max_attempts": 0}, s3={"addressing_style": "path"})
    return _answered_by("s3", FAKE_S3_ENDPOINT, region_name, config, answer)


class _Handler(BaseHTTPRequestHandler):
    server: LocalSWFServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _s3(self) -> None:
        body = self._body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.backend.s3.handle(self.command, self.path, headers, body)
        log.debug("s3 method=%s path=%s status=%d", self.command, self.path, reply.status)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if "Content-Length" not in reply.headers:
            self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("x-amz-request-id", "local")
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)

    do_GET = do_PUT = do_HEAD = do_DELETE = _s3

    def do_POST(self) -> None:
        if not str(self.headers.get("X-Amz-Target") or "").startswith(TARGET_PREFIX):
            self._s3()
            return
        body = self._body()
        operation = _operation(self.headers)
        started = time.monotonic()
        status, out = dispatch(self.server.backend, operation, body)
        if log.isEnabledFor(logging.DEBUG):
            code = json.loads(out).get("__type", "") if status != 200 else ""
            log.debug(
                "call operation=%s status=%d error=%s ms=%.1f",
                operation,
                status,
                code,
                (time.monotonic() - started) * 1000,
            )
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(out)))
        self.send_header("x-amzn-RequestId", "local")
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, format: str, *args: Any) -> None:
        """Calls are logged once, by do_POST; the stdlib access log stays quiet."""


class LocalSWFServer(ThreadingHTTPServer):
    """A threaded HTTP server: each call (a long poll too) gets its own thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, backend: LocalSWFBackend, host: str = "127.0.0.1", port: int = 0):
        self.backend = backend
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{name}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a killed poller, a stopped service) is routine, not a crash:
        one debug line instead of the stdlib's traceback on stderr. As on SWF, a task handed
        to a poll whose client is gone stays started until its timeout."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("client went away address=%s", client_address)
            return
        super().handle_error(request, client_address)

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="localswf-http", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Release waiting polls, stop accepting, close the socket."""
        self.backend.close()
        self.shutdown()
        self.server_close()
