"""The embedded S3: what flotod's payload store and an operator's S3 tools need, on the SWF
endpoint's own port, with objects kept in moto's S3 backend.

Only path-style requests (``/bucket/key``) are served: CreateBucket, HeadBucket,
ListObjectsV2 (by prefix, one page of up to 1,000 keys), PutObject, GetObject, HeadObject,
DeleteObject. Errors are S3's XML (NoSuchBucket, NoSuchKey, ...), so boto3 raises the
``ClientError`` codes it raises against AWS. Nothing is authenticated, like the SWF side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from moto.s3.exceptions import MissingBucket
from moto.s3.models import FakeBucket, S3Backend, s3_backends

log = logging.getLogger(__name__)
XML = "application/xml"
LIST_LIMIT = 1000


@dataclass
class Reply:
    """One HTTP answer: status, headers and body (empty for HEAD)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _error(status: int, code: str, message: str, **fields: str) -> Reply:
    extra = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{extra}"
        "<RequestId>local</RequestId></Error>"
    ).encode()
    return Reply(status, {"Content-Type": XML}, body)


def no_such_bucket(bucket: str) -> Reply:
    return _error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)


def decode_aws_chunked(body: bytes) -> bytes:
    """The payload of an ``aws-chunked`` body (botocore sends PutObject that way when it adds
    a trailing checksum): ``<hex size>[;ext]\\r\\n<data>\\r\\n`` chunks up to a zero size,
    then trailers, which are dropped."""
    out = bytearray()
    at = 0
    while True:
        end = body.index(b"\r\n", at)
        size = int(body[at:end].split(b";", 1)[0], 16)
        if size == 0:
            return bytes(out)
        start = end + 2
        out += body[start : start + size]
        at = start + size + 2


class _Objects(S3Backend):
    """moto's S3 backend holding only this endpoint's buckets.

    moto registers every bucket in a process-wide table and looks names up there, so two
    endpoints in one process (tests make one per test) would see, and recurse into, each
    other's buckets; each embedded endpoint keeps its own, as separate S3 accounts would.
    """

    def get_bucket(self, bucket_name: str) -> FakeBucket:
        found = self.buckets.get(bucket_name)
        if found is None:
            raise MissingBucket(bucket=bucket_name)
        return found

    def add_bucket(self, name: str) -> None:
        if name not in self.buckets:
            # FakeBucket's is_created is abstract to type checkers only; moto builds them so.
            self.buckets[name] = FakeBucket(  # type: ignore[abstract]
                name=name, account_id=self.account_id, region_name=self.region_name
            )
            s3_backends.bucket_accounts.pop(name, None)


class LocalS3:
    """S3 for one machine, thread-safe: one lock around moto's backend, which has none."""

    def __init__(self, region_name: str = "us-east-1", account_id: str = "123456789012"):
        self.region_name = region_name
        self._backend = _Objects(region_name, account_id)
        self._lock = threading.Lock()

    def create_bucket(self, name: str) -> None:
        """Create ``name`` if it does not exist (``--s3-bucket``; CreateBucket is the same)."""
        with self._lock:
            self._backend.add_bucket(name)

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one S3 REST request; ``target`` is the request's path and query, ``headers``
        are keyed in lower case."""
        parts = urlsplit(target)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        query = parse_qs(parts.query, keep_blank_values=True)
        if not bucket:
            return _error(501, "NotImplemented", "ListBuckets is not served here")
        encoding = headers.get("content-encoding") or ""
        streaming = (headers.get("x-amz-content-sha256") or "").startswith("STREAMING-")
        if "aws-chunked" in encoding or streaming:
            try:
                body = decode_aws_chunked(body)
            except ValueError:
                return _error(400, "IncompleteBody", "the aws-chunked body is malformed")
        with self._lock:
            try:
                if not key:
                    return self._bucket(method, bucket, query)
                return self._object(method, bucket, key, body)
            except MissingBucket:
                reply = no_such_bucket(bucket)
            except Exception:  # one bad request must not cost the endpoint its other clients
                log.exception("s3 request failed method=%s path=%s", method, target)
                reply = _error(500, "InternalError", "the embedded S3 failed; see its log")
        if method == "HEAD":
            reply.body = b""
        return reply

    def _bucket(self, method: str, bucket: str, query: dict[str, list[str]]) -> Reply:
        if method == "PUT" and not query:
            self._backend.add_bucket(bucket)
            return Reply(200, {"Location": f"/{bucket}"})
        if method == "HEAD":
            self._backend.head_bucket(bucket)
            return Reply(200, {"x-amz-bucket-region": self.region_name})
        if method == "GET" and query.get("list-type") == ["2"]:
            return self._list(bucket, query.get("prefix", [""])[0])
        return _error(501, "NotImplemented", f"{method} on a bucket is not served here")

    def _list(self, bucket: str, prefix: str) -> Reply:
        found = self._backend.get_bucket(bucket)
        keys, _, truncated, _ = self._backend.list_objects(
            found, prefix or None, None, None, LIST_LIMIT
        )
        items = "".join(
            f"<Contents><Key>{escape(k.name)}</Key><Size>{k.size}</Size>"
            f"<ETag>{escape(k.etag)}</ETag><LastModified>{k.last_modified_ISO8601}"
            "</LastModified><StorageClass>STANDARD</StorageClass></Contents>"
            for k in sorted(keys, key=lambda k: k.name)
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>"
            f"<KeyCount>{len(keys)}</KeyCount><MaxKeys>{LIST_LIMIT}</MaxKeys>"
            f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{items}"
            "</ListBucketResult>"
        ).encode()
        return Reply(200, {"Content-Type": XML}, body)

    def _object(self, method: str, bucket: str, key: str, body: bytes) -> Reply:
        if method == "PUT":
            stored = self._backend.put_object(bucket, key, body)
            return Reply(200, {"ETag": stored.etag})
        if method == "DELETE":
            self._backend.head_bucket(bucket)
            self._backend.delete_object(bucket, key)
            return Reply(204)
        if method not in ("GET", "HEAD"):
            return _error(501, "NotImplemented", f"{method} on an object is not served here")
        self._backend.head_bucket(bucket)
        found = self._backend.get_object(bucket, key)
        if found is None:
            if method == "HEAD":
                return Reply(404)
            return _error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
        value = found.value
        headers = {
            "Content-Type": "application/octet-stream",
            "ETag": found.etag,
            "Last-Modified": formatdate(found.last_modified.timestamp(), usegmt=True),
            "Content-Length": str(len(value)),
        }
        return Reply(200, headers, value if method == "GET" else b"")
