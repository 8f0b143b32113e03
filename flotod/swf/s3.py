"""The S3 object store behind large payloads: boto3's S3 client, beside the SWF one.

It is built from the very settings the SWF client uses (``[swf]`` endpoint_url, region and
the credentials :func:`~flotod.swf.credentials.resolve_credentials` finds), so a process that
reaches SWF reaches its payloads, and the embedded endpoint serves both on one port.

Errors are translated here, once, into what a payload reader can act on: an object or bucket
that does not exist is :class:`~flotod.payloads.PayloadError` (``payload_missing``: the task
fails); anything an operator or time can fix (network, throttling, 5xx, access denied, a bucket
not created yet for a write) is :class:`~flotod.payloads.PayloadUnavailable`.
"""

from __future__ import annotations

from typing import Any

import botocore.config
import botocore.exceptions as bexc

from flotod.errors import FlotodError
from flotod.payloads import PayloadError, PayloadUnavailable
from flotod.swf.credentials import Credentials
from flotod.swf.sessions import boto_session

# A payload is at most a few MB: seconds, not the minutes a long poll allows. botocore's own
# retries (standard mode: throttling, 5xx, connection errors, with backoff) absorb a blip;
# what outlasts them is PayloadUnavailable, and the caller decides (retry later, leave the
# task to time out).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MAX_ATTEMPTS = 4

_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}


class S3Store:
    """An :class:`~flotod.payloads.ObjectStore` on S3. Thread-safe (boto3 clients are)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    def connect(
        cls,
        *,
        endpoint_url: str = "",
        region: str = "",
        credentials: Credentials,
        max_pool_connections: int = 10,
    ) -> S3Store:
        """A store for S3 at ``endpoint_url`` ("" for AWS's endpoint of ``region``).

        An explicit endpoint (the embedded one, an S3-compatible store) gets path-style
        addressing: ``http://host:port/bucket/key`` needs no DNS name per bucket.
        """
        config = botocore.config.Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            max_pool_connections=max_pool_connections,
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        session = boto_session(**credentials.client_arguments())
        try:
            client = session.client(
                "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=config
            )
        except bexc.NoRegionError:
            raise FlotodError("no AWS region configured for S3 ([swf] region)") from None
        return cls(client)

    @property
    def client(self) -> Any:
        """The boto3 S3 client, for tests and tools."""
        return self._client

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Write ``data``; the same key and bytes again (a retried write) only rewrites it."""
        uri = f"s3://{bucket}/{key}"
        try:
            self._client.put_object(
                Bucket=bucket, Key=key, Body=data, ContentType="application/octet-stream"
            )
        except bexc.ClientError as exc:
            code = _code(exc)
            if code == "NoSuchBucket":
                raise PayloadUnavailable(
                    f"cannot store {uri}: bucket {bucket!r} does not exist (create it, or fix "
                    "[payloads] s3_bucket)",
                    uri,
                ) from None
            raise PayloadUnavailable(f"cannot store {uri}: {_describe(exc)}", uri) from None
        except (bexc.BotoCoreError, OSError) as exc:
            raise PayloadUnavailable(f"cannot store {uri}: {exc}", uri) from None

    def check_bucket(self, bucket: str) -> str | None:
        """None when ``bucket`` can be reached, else why not, in one line. A start-time check:
        without it, a missing bucket shows only when the first large value is written (a
        worker then retries that result until SWF times the task out)."""
        try:
            self._client.head_bucket(Bucket=bucket)
        except bexc.ClientError as exc:
            if _code(exc) in _MISSING:
                return f"bucket {bucket!r} does not exist (create it, or fix [payloads] s3_bucket)"
            return f"bucket {bucket!r}: {_describe(exc)}"
        except (bexc.BotoCoreError, OSError) as exc:
            return f"bucket {bucket!r}: {exc}"
        return None

    def get(self, bucket: str, key: str) -> bytes:
        uri = f"s3://{bucket}/{key}"
        try:
            reply = self._client.get_object(Bucket=bucket, Key=key)
            body: bytes = reply["Body"].read()
        except bexc.ClientError as exc:
            code = _code(exc)
            if code in _MISSING:
                what = "bucket" if code == "NoSuchBucket" else "object"
                raise PayloadError(
                    "payload_missing", f"{uri}: the {what} does not exist ({code})", uri
                ) from None
            raise PayloadUnavailable(f"cannot read {uri}: {_describe(exc)}", uri) from None
        except (bexc.BotoCoreError, OSError) as exc:
            raise PayloadUnavailable(f"cannot read {uri}: {exc}", uri) from None
        return body


def _code(exc: bexc.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: bexc.ClientError) -> str:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = error.get("Code") or status or "error"
    return f"{code}: {error.get('Message') or exc}"
