"""Prometheus metrics of a service process (``metrics_listen``)."""

from flotod.metrics.base import NO_METRICS, Metrics
from flotod.metrics.opening import open_metrics

__all__ = ["NO_METRICS", "Metrics", "open_metrics"]
