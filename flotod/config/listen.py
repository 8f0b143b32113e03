"""``HOST:PORT`` addresses a service listens on (``metrics_listen``), parsed once.

The host must be an IP address or ``localhost``: a name that needs DNS would make a config's
validity depend on the resolver at load time, and binding a resolved name is ambiguous
(several addresses). IPv6 addresses are written in brackets, as in URLs.
"""

from __future__ import annotations

import ipaddress

LISTEN_HELP = (
    '"" or "HOST:PORT" with HOST an IPv4 address, [IPv6 address] or localhost and PORT 1-65535'
)


def parse_listen(text: str) -> tuple[str, int]:
    """``(host, port)`` of ``text``; ValueError (saying what is expected) if it is not one."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isascii() or not port_text.isdigit():
        raise ValueError(LISTEN_HELP)
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(LISTEN_HELP)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        version = 6
    elif host == "localhost":
        return host, port
    else:
        version = 4
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(LISTEN_HELP) from None
    if address.version != version:
        raise ValueError(LISTEN_HELP)
    return host, port
