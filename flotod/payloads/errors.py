"""What can go wrong resolving a payload, split by what the reader should do about it."""

from __future__ import annotations

from flotod.errors import EX_DATAERR, EX_UNAVAILABLE, FlotodError


class PayloadError(FlotodError):
    """A reference that can never resolve: the object is gone, its bytes differ from the hash
    the reference carries, or the reference itself is malformed. Retrying cannot help, so the
    task that needs the value fails with ``reason`` (``payload_missing``, ``payload_tampered``,
    ``payload_invalid``, ``payload_store_off``) and ``uri`` names the object."""

    exit_code = EX_DATAERR

    def __init__(self, reason: str, message: str, uri: str = "") -> None:
        self.reason = reason
        self.uri = uri
        super().__init__(message)

    def details(self) -> dict[str, str]:
        """What a failure's details carry: enough to find the object and see why."""
        out = {"reason": self.reason, "message": str(self)}
        if self.uri:
            out["uri"] = self.uri
        return out


class PayloadUnavailable(FlotodError):
    """The store could not be reached or refused for now (network, throttling, credentials):
    the value may resolve later, so the reader retries or leaves its task to time out rather
    than failing a workflow over an outage."""

    exit_code = EX_UNAVAILABLE

    def __init__(self, message: str, uri: str = "") -> None:
        self.uri = uri
        super().__init__(message)
