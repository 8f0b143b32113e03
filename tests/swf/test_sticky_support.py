"""Sticky decisions need the task list override in botocore's SWF model; Debian 12's botocore
predates it and refuses the parameters before sending, so the client says so."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flotod.localswf import in_process_client, make_backend
from flotod.swf import SwfClient


def _model_without_the_override() -> Any:
    def operation_model(name: str) -> Any:
        members = {
            "RespondDecisionTaskCompleted": {"taskToken": 1, "decisions": 1, "executionContext": 1},
            "PollForDecisionTask": {"domain": 1, "taskList": 1, "reverseOrder": 1},
        }[name]
        return SimpleNamespace(input_shape=SimpleNamespace(members=members))

    return SimpleNamespace(meta=SimpleNamespace(service_model=SimpleNamespace(
        operation_model=operation_model)))  # fmt: skip


def test_a_model_with_the_override_supports_sticky() -> None:
    backend = make_backend(poll_timeout=1.0)
    try:
        assert SwfClient.from_boto(in_process_client(backend)).supports_sticky
    finally:
        backend.close()


def test_an_older_model_does_not() -> None:
    assert not SwfClient.from_boto(_model_without_the_override()).supports_sticky
