"""Which AWS credentials a flotod process uses, decided once for the CLI and the services.

The units get /etc/flotod/aws-credentials through systemd's ``LoadCredential=`` (boto3 reads
it through ``AWS_SHARED_CREDENTIALS_FILE``); an operator's shell has no such variable. So that
``flotod register`` and every other command use the credentials the units use, found the same
way, the rule is written here and nowhere else:

1. static keys in the config's ``[swf]`` table;
2. what the environment names: ``AWS_ACCESS_KEY_ID``, ``AWS_SHARED_CREDENTIALS_FILE`` (the
   units' case) or ``AWS_PROFILE``; boto3's own chain reads them;
3. the ``aws-credentials`` file next to the config (/etc/flotod/aws-credentials), if it can be
   read, with the config's profile or ``default``;
4. against an embedded endpoint (``endpoint_url`` on a loopback address), which checks no
   signature: fixed local keys, so nothing has to be set up;
5. otherwise boto3's default chain (``~/.aws``, the instance profile).

No environment variable is set or changed: the file goes to boto3 through its session.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

CREDENTIALS_FILE_NAME = "aws-credentials"
# Any value works against the embedded endpoint; these say where they came from in its logs.
LOCAL_ACCESS_KEY_ID = "flotod-local"
LOCAL_SECRET_ACCESS_KEY = "flotod-local"  # not a secret: the endpoint checks none

_ENVIRONMENT_SOURCES = ("AWS_ACCESS_KEY_ID", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE")


class ClientArguments(TypedDict):
    """The credential keywords of ``SwfClient``."""

    profile: str | None
    access_key_id: str | None
    secret_access_key: str | None
    credentials_file: str | None


@dataclass(frozen=True)
class Credentials:
    """What to hand to :class:`flotod.swf.client.SwfClient`, and where it came from.

    ``source`` is one line for ``--verbose`` and logs; it never contains a secret.
    """

    source: str
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    credentials_file: str | None = None
    notes: tuple[str, ...] = ()  # what was passed over and why (an unreadable file)

    def client_arguments(self) -> ClientArguments:
        """Keyword arguments for ``SwfClient``."""
        return {
            "profile": self.profile,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "credentials_file": self.credentials_file,
        }


def is_loopback_endpoint(endpoint_url: str) -> bool:
    """True for an ``endpoint_url`` whose host is a loopback address (or ``localhost``)."""
    if not endpoint_url:
        return False
    host = urlsplit(endpoint_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def credentials_file_for(config_path: Path) -> Path:
    """The ``aws-credentials`` file that goes with a config: next to the config file, or in
    the config directory (also one that does not exist, such as /etc/flotod on a development
    machine: never the directory above it)."""
    directory = config_path.parent if config_path.is_file() else config_path
    return directory / CREDENTIALS_FILE_NAME


def _readable(path: Path) -> str | None:
    """None when ``path`` can be read; otherwise why not (None too when it does not exist)."""
    try:
        with path.open("rb"):
            return None
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return exc.strerror or str(exc)


def resolve_credentials(
    *,
    endpoint_url: str = "",
    profile: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """The credentials to use, by the rule in this module's docstring."""
    env = os.environ if environ is None else environ
    if access_key_id and secret_access_key:
        return Credentials(
            "static keys in the config ([swf] access_key_id)",
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )
    named = [name for name in _ENVIRONMENT_SOURCES if env.get(name)]
    if named:
        where = f"{named[0]}={env[named[0]]}" if named[0] != "AWS_ACCESS_KEY_ID" else named[0]
        suffix = f", profile {profile}" if profile else ""
        return Credentials(f"the environment ({where}{suffix})", profile=profile or None)
    notes: list[str] = []
    if config_path is not None:
        path = credentials_file_for(config_path).absolute()
        problem = _readable(path)
        if problem is None:
            return Credentials(
                f"{path}, profile {profile or 'default'} (as the units get it)",
                profile=profile or None,
                credentials_file=str(path),
            )
        if problem:
            notes.append(f"{path} exists but cannot be read: {problem}")
    if profile:
        return Credentials(f"profile {profile} (boto3's shared files)", profile, notes=(*notes,))
    if is_loopback_endpoint(endpoint_url):
        return Credentials(
            f"fixed local credentials (the embedded endpoint {endpoint_url} checks none)",
            access_key_id=LOCAL_ACCESS_KEY_ID,
            secret_access_key=LOCAL_SECRET_ACCESS_KEY,
            notes=(*notes,),
        )
    return Credentials("boto3's default chain (~/.aws, the instance profile)", notes=(*notes,))
