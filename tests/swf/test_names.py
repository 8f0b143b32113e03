"""Sticky task list names stay valid for SWF whatever the task list and identity hold."""

from __future__ import annotations

import pytest
from moto.swf.exceptions import SWFValidationException

from flotod.localswf.validation import check_task_list_name
from flotod.swf.names import sticky_task_list


@pytest.mark.parametrize(
    ("task_list", "identity"),
    [
        ("deciders", "host-a:1234"),
        ("a|b", "arn:aws:iam/role\x00\x85"),
        ("x" * 256, "host:1"),
        ("", ""),
        ("  spaced ", " id "),
    ],
)
def test_the_name_passes_swf_rules(task_list: str, identity: str) -> None:
    name = sticky_task_list(task_list, identity)
    check_task_list_name(name, "taskList.name")  # raises if SWF would refuse it
    assert len(name) <= 256


def test_names_differ_by_identity_even_when_cut() -> None:
    long = "t" * 300
    assert sticky_task_list(long, "host:1") != sticky_task_list(long, "host:2")
    assert sticky_task_list("deciders", "host:1") == "deciders-sticky-host-1"


def test_the_check_refuses_what_swf_refuses() -> None:
    with pytest.raises(SWFValidationException):
        check_task_list_name("a:b", "taskList.name")
