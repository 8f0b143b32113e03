"""Payloads past SWF's 32,768 characters: kept in S3 (or compressed inline), with a small
reference in SWF that every flotod process resolves before it reads the value.

The codec is pure apart from its :class:`ObjectStore`; the S3 store lives in
:mod:`flotod.swf.s3`, beside the only other boto3 importer.
"""

from __future__ import annotations

from flotod.payloads.codec import DEFAULT_THRESHOLD, ObjectStore, Payloads
from flotod.payloads.errors import PayloadError, PayloadUnavailable
from flotod.payloads.reference import TAG, Reference, is_envelope, parse_envelope

__all__ = [
    "DEFAULT_THRESHOLD",
    "TAG",
    "ObjectStore",
    "PayloadError",
    "PayloadUnavailable",
    "Payloads",
    "Reference",
    "is_envelope",
    "parse_envelope",
]
