"""The envelope that stands in for a large payload in SWF.

An envelope is a JSON object whose first key is :data:`TAG`, so it is recognised by a prefix
test before any parsing: a value a user wrote never starts that way by accident, since its
first key would have to be ``flotod.payload`` with version 1. Two kinds:

- ``{"flotod.payload": 1, "uri": "s3://bucket/key", "size": N, "sha256": H, "encoding": E}``:
  the value lives in S3; ``sha256`` hashes the object's bytes as stored (what ``sha256sum``
  of a downloaded copy shows), ``size`` is the value's length in UTF-8 bytes.
- ``{"flotod.payload": 1, "data": B64, "size": N, "sha256": H, "encoding": "zlib"}``: the
  value compressed, small enough to stay in SWF.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from flotod.payloads.errors import PayloadError

TAG = "flotod.payload"
VERSION = 1
PREFIX = '{"' + TAG + '":'
MAX_ENVELOPE = 4096  # a reference is a few hundred characters; anything longer is a value
Encoding = Literal["none", "zlib"]
ENCODINGS: tuple[Encoding, ...] = ("none", "zlib")
# A signal's input that cannot be resolved does not fail the run it reached (the sender's
# fault is not the run's): flotod.payloads.history puts ``{UNRESOLVED_SIGNAL: details}`` in
# its place, which the daemon rejects with that reason and the spec engine never reads.
UNRESOLVED_SIGNAL = "flotod.unresolved"


@dataclass(frozen=True)
class Reference:
    """A parsed envelope: where the value is (``uri`` or inline ``data``) and how to check it."""

    size: int
    sha256: str
    encoding: Encoding
    uri: str = ""
    data: str = ""

    def to_text(self) -> str:
        fields: dict[str, Any] = {TAG: VERSION}
        if self.uri:
            fields["uri"] = self.uri
        else:
            fields["data"] = self.data
        fields.update(size=self.size, sha256=self.sha256, encoding=self.encoding)
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)

    @property
    def where(self) -> str:
        """The object's URI, or "inline" for a compressed value kept in SWF."""
        return self.uri or "inline"


def is_envelope(text: object) -> bool:
    """Cheap test for the readers' hot path: only a string opening with the tag qualifies."""
    return isinstance(text, str) and text.startswith(PREFIX)


def parse_envelope(text: str) -> Reference:
    """The reference ``text`` holds; :class:`PayloadError` (``payload_invalid``) naming the
    fault when it opens with the tag but is not a well-formed envelope."""
    if len(text) > MAX_ENVELOPE and '"data":' not in text[:64]:
        raise PayloadError("payload_invalid", f"a {TAG} reference longer than {MAX_ENVELOPE}")
    try:
        fields = json.loads(text)
    except ValueError as exc:
        raise PayloadError("payload_invalid", f"a {TAG} reference is not JSON: {exc}") from None
    if not isinstance(fields, dict) or fields.get(TAG) != VERSION:
        raise PayloadError("payload_invalid", f"unknown {TAG} version {fields.get(TAG)!r}")
    uri, data = fields.get("uri", ""), fields.get("data", "")
    size, digest, encoding = fields.get("size"), fields.get("sha256"), fields.get("encoding")
    problems = []
    if not (isinstance(uri, str) and isinstance(data, str)) or bool(uri) == bool(data):
        problems.append("exactly one of uri and data (strings)")
    elif uri and not uri.startswith("s3://"):
        problems.append("uri must be s3://bucket/key")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        problems.append("size must be a non-negative integer")
    if not (isinstance(digest, str) and len(digest) == 64):
        problems.append("sha256 must be 64 hex digits")
    if encoding not in ENCODINGS:
        problems.append(f"encoding must be one of {', '.join(ENCODINGS)}")
    if problems:
        where = uri if isinstance(uri, str) else ""
        raise PayloadError("payload_invalid", f"bad {TAG} reference: {'; '.join(problems)}", where)
    return Reference(size=size, sha256=digest, encoding=encoding, uri=uri, data=data)  # type: ignore[arg-type]


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key
