"""From a service config to its metrics: nothing when ``metrics_listen`` is empty."""

from __future__ import annotations

from flotod.config import ServiceConfig
from flotod.config.listen import parse_listen
from flotod.errors import ConfigError
from flotod.metrics.base import NO_METRICS, Metrics


def open_metrics(config: ServiceConfig) -> Metrics:
    """The process's metrics, already served on ``metrics_listen``.

    A port that cannot be bound (in use, or a privileged one) is a ConfigError: the operator
    chose the address, and retrying will not free it.
    """
    listen = config.metrics_listen
    if not listen:
        return NO_METRICS
    # Imported only when on: a process without metrics never loads prometheus_client.
    from flotod.metrics.prometheus import PrometheusMetrics  # noqa: PLC0415
    from flotod.metrics.server import MetricsServer  # noqa: PLC0415

    host, port = parse_listen(listen)
    metrics = PrometheusMetrics(config.kind, config.instance)
    try:
        server = MetricsServer(host, port, metrics.registry)
    except OSError as exc:
        raise ConfigError(
            f"{config.path}: {config.table}.metrics_listen: cannot listen on {listen}: "
            f"{exc.strerror or exc}"
        ) from None
    server.start()
    metrics.server = server
    return metrics
