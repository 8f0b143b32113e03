"""One boto3 session per set of credentials, for every AWS client flotod makes (SWF and S3).

:func:`flotod.swf.credentials.resolve_credentials` decides *which* credentials; this module
turns that decision into a boto3 session, so SWF and S3 clients of one process sign their
requests the same way and a credentials file named by the rule is read without setting
``AWS_SHARED_CREDENTIALS_FILE`` in the environment.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions as bexc
import botocore.session

from flotod.errors import AccessDeniedError


def boto_session(
    *,
    profile: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    credentials_file: str | None = None,
    response_parser_factory: Any = None,
) -> boto3.session.Session:
    """A session for the credentials :class:`~flotod.swf.credentials.Credentials` names
    (its ``client_arguments()``); ``response_parser_factory`` swaps botocore's reply parser
    (the SWF client's fast history decoding). An unknown profile is an AccessDeniedError:
    the operator's to fix, like a wrong key."""
    core = botocore.session.get_session()
    if credentials_file:  # what AWS_SHARED_CREDENTIALS_FILE says, without the variable
        core.set_config_variable("credentials_file", credentials_file)
    if response_parser_factory is not None:
        core.register_component("response_parser_factory", response_parser_factory)
    try:
        return boto3.session.Session(
            botocore_session=core,
            profile_name=profile or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
        )
    except bexc.ProfileNotFound as exc:
        raise AccessDeniedError(str(exc)) from None
