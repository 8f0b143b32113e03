"""A process's :class:`~flotod.payloads.Payloads` from its ``[payloads]`` and ``[swf]`` tables.

boto3 is imported only when a bucket is configured (through :mod:`flotod.swf.s3`), so the
codec and a process with payloads off load without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flotod.payloads.codec import Payloads

if TYPE_CHECKING:
    from flotod.config.model import PayloadsConfig, ServiceConfig, SwfConfig


def payloads_for(
    settings: PayloadsConfig, swf: SwfConfig, config_path: Path | None, pool: int = 10
) -> Payloads:
    """The codec ``settings`` describe, its S3 store reached like SWF (same endpoint_url,
    region and credentials rule); :meth:`Payloads.off` without a bucket."""
    if not settings.enabled:
        return Payloads.off()
    from flotod.swf.s3 import S3Store  # noqa: PLC0415 (boto3 only when a bucket is set)

    store = S3Store.connect(
        endpoint_url=swf.endpoint_url,
        region=swf.region,
        credentials=swf.credentials(config_path),
        max_pool_connections=pool,
    )
    return Payloads(
        store,
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        threshold=settings.threshold_bytes,
        compress=settings.compress,
    )


def payloads_from_config(config: ServiceConfig, pool: int = 10) -> Payloads:
    """What a service process uses; ``pool`` is the S3 connections it may hold at once (a
    worker: one per concurrent task and a few more, as for SWF)."""
    return payloads_for(config.payloads, config.swf, config.path, pool)
