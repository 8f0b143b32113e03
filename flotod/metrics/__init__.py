"""Prometheus metrics of a service process (``metrics_listen``).

Only the sink interface is imported here, so that the SWF client and the worker can hold one
without importing the config or prometheus_client; :func:`flotod.metrics.opening.open_metrics`
builds a service's.
"""

from flotod.metrics.base import NO_METRICS, Metrics

__all__ = ["NO_METRICS", "Metrics"]
