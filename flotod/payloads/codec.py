"""Encoding a value for SWF (inline when small, compressed or in S3 when not) and back."""

from __future__ import annotations

import base64
import hashlib
import threading
import zlib
from typing import Protocol

from flotod.lru import SizedLRU
from flotod.payloads.errors import PayloadError, PayloadUnavailable
from flotod.payloads.reference import PREFIX, Reference, is_envelope, parse_envelope, split_uri

DEFAULT_THRESHOLD = 30_000  # under SWF's 32,768 with room for what the engine wraps around
CACHE_BYTES = 64 * 1024 * 1024
MAX_INFLATED = 2**31  # a zlib bomb stops here instead of filling memory


class ObjectStore(Protocol):
    """Where large payloads live: S3 in production and on the embedded endpoint.

    ``put`` of the same key and bytes twice must be harmless (retried writes). Both raise
    :class:`~flotod.payloads.PayloadUnavailable` for what may pass (network, throttling);
    ``get`` raises :class:`~flotod.payloads.PayloadError` ``payload_missing`` for an object
    or bucket that does not exist.
    """

    def put(self, bucket: str, key: str, data: bytes) -> None: ...

    def get(self, bucket: str, key: str) -> bytes: ...


class Payloads:
    """The payload rules of one process: a value whose UTF-8 form is longer than
    ``threshold`` bytes leaves SWF (compressed first when ``compress``: it stays inline when
    the compressed form fits). Without a bucket nothing is ever offloaded, but compressed
    inline values still decode, and S3 references fail with ``payload_store_off``.

    Thread-safe: worker lanes share one.
    """

    def __init__(
        self,
        store: ObjectStore | None = None,
        *,
        bucket: str = "",
        prefix: str = "",
        threshold: int = DEFAULT_THRESHOLD,
        compress: bool = False,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1 byte")
        self.store = store
        self.bucket = bucket if store is not None else ""
        self.prefix = prefix
        self.threshold = threshold
        self.compress = compress
        self._cache: SizedLRU[str] = SizedLRU(cache_bytes)
        self._lock = threading.Lock()

    @classmethod
    def off(cls) -> Payloads:
        """Today's behaviour: values stay in SWF as they are."""
        return cls()

    @property
    def enabled(self) -> bool:
        return bool(self.bucket)

    def check(self) -> str | None:
        """Why the bucket cannot be reached, or None (also when off, or when the store has no
        way to tell: ``check_bucket`` is optional, S3Store has it)."""
        check_bucket = getattr(self.store, "check_bucket", None)
        if not self.enabled or not callable(check_bucket):
            return None
        problem: str | None = check_bucket(self.bucket)
        return problem

    # -- writing ------------------------------------------------------------------------------

    def encode(self, text: str, *, workflow_id: str, run_id: str, name: str) -> str:
        """``text`` as it should travel through SWF: itself when small or when offloading is
        off, else an envelope. The object key is derived from the run, ``name`` (the task id,
        ``input`` or ``result``) and the hash, so a retried write rewrites the same object."""
        if not self.enabled or len(text) <= self.threshold // 4:
            return text
        raw = text.encode()
        if len(raw) <= self.threshold:
            return text
        stored, encoding = raw, "none"
        if self.compress:
            stored, encoding = zlib.compress(raw, 6), "zlib"
        digest = hashlib.sha256(stored).hexdigest()
        if self.compress:
            inline = Reference(
                size=len(raw),
                sha256=digest,
                encoding="zlib",
                data=base64.b64encode(stored).decode("ascii"),
            ).to_text()
            if len(inline) <= self.threshold:
                return inline
        key = object_key(self.prefix, workflow_id, run_id, name, digest)
        assert self.store is not None, "enabled implies a store"
        self.store.put(self.bucket, key, stored)
        reference = Reference(
            size=len(raw),
            sha256=digest,
            encoding=encoding,  # type: ignore[arg-type]
            uri=f"s3://{self.bucket}/{key}",
        )
        self._remember(digest, text)
        return reference.to_text()

    # -- reading ------------------------------------------------------------------------------

    def decode(self, text: str) -> str:
        """The value ``text`` stands for: itself unless it is an envelope.

        Raises :class:`PayloadError` when the value can never be had (missing, tampered,
        malformed) and :class:`PayloadUnavailable` when the store cannot be reached now.
        """
        if not is_envelope(text):
            return text
        reference = parse_envelope(text)
        held = self._recall(reference.sha256)
        if held is not None:
            return held
        if reference.uri:
            if self.store is None:
                raise PayloadError(
                    "payload_store_off",
                    "a value is stored in S3 but this process has no [payloads] s3_bucket",
                    reference.uri,
                )
            try:
                stored = self.store.get(*split_uri(reference.uri))
            except (PayloadError, PayloadUnavailable) as exc:
                exc.uri = exc.uri or reference.uri
                raise
        else:
            try:
                stored = base64.b64decode(reference.data, validate=True)
            except ValueError:
                raise PayloadError("payload_invalid", "inline data is not base64") from None
        value = _checked(reference, stored)
        self._remember(reference.sha256, value)
        return value

    def decode_optional(self, text: str | None) -> str | None:
        return None if text is None else self.decode(text)

    def _remember(self, digest: str, value: str) -> None:
        with self._lock:
            self._cache.put(digest, value, len(value))

    def _recall(self, digest: str) -> str | None:
        with self._lock:
            held = self._cache.get(digest)
        return None if held is None else held[0]


def object_key(prefix: str, workflow_id: str, run_id: str, name: str, digest: str) -> str:
    """``<prefix><workflow id>/<run id>/<name>/<sha256>``: findable by run with S3 tools,
    and a lifecycle rule on the prefix expires them all."""
    return f"{prefix}{workflow_id}/{run_id or 'no-run'}/{name}/{digest}"


def _checked(reference: Reference, stored: bytes) -> str:
    where = reference.where
    if hashlib.sha256(stored).hexdigest() != reference.sha256:
        raise PayloadError(
            "payload_tampered",
            f"{where}: the object's SHA-256 differs from the reference's {reference.sha256}",
            reference.uri,
        )
    raw = stored
    if reference.encoding == "zlib":
        try:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(stored, MAX_INFLATED)
        except zlib.error as exc:
            raise PayloadError("payload_invalid", f"{where}: not zlib data: {exc}") from None
    if len(raw) != reference.size:
        raise PayloadError(
            "payload_tampered",
            f"{where}: {len(raw)} bytes where the reference says {reference.size}",
            reference.uri,
        )
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise PayloadError("payload_invalid", f"{where}: not UTF-8: {exc}", reference.uri) from None


__all__ = ["CACHE_BYTES", "DEFAULT_THRESHOLD", "PREFIX", "ObjectStore", "Payloads", "object_key"]
