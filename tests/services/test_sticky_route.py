"""Where a decision poller routes a run's next decision tasks: its own list while it runs,
the shared list once it stops (a warm stop hands the runs it decides back at once), nowhere
when sticky is off."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flotod.config import load_config
from flotod.services.daemon import daemon_poller
from flotod.services.decisions import DecisionPoller, Route, queued_seconds
from flotod.services.process import ServiceProcess
from flotod.swf import DecisionTask, SwfClient, WorkflowExecution


def _poller(tmp_path: Path, table: str) -> tuple[ServiceProcess, DecisionPoller]:
    config_file = tmp_path / "flotod.toml"
    config_file.write_text(
        '[swf]\nendpoint_url = "http://127.0.0.1:9"\nidentity = "host:7"\n'
        f'[daemon.main]\ntask_list = "dt"\n{table}'
    )
    config = load_config(config_file, "daemon")
    proc = ServiceProcess(
        config, SwfClient(endpoint_url="http://127.0.0.1:9", region="us-east-1", identity="host:7")
    )
    return proc, daemon_poller(proc)


def test_runs_come_back_here_until_a_stop_sends_them_to_the_shared_list(tmp_path: Path) -> None:
    _, poller = _poller(tmp_path, "sticky_schedule_to_start_seconds = 3\n")
    assert poller.sticky_list == "dt-sticky-host-7"
    source = poller.source
    assert poller.route(source) == Route("dt-sticky-host-7", 3)
    poller.stop(quick=False)
    assert poller.route(source) == Route("dt", None)


def test_sticky_off_names_no_list(tmp_path: Path) -> None:
    _, poller = _poller(tmp_path, "sticky = false\n")
    assert poller.sticky_list is None
    assert poller.route(poller.source) is None


def _task(scheduled_at: float, started_at: float) -> DecisionTask:
    events = [
        {"eventId": 1, "eventType": "WorkflowExecutionStarted", "eventTimestamp": 0.0},
        {"eventId": 2, "eventType": "DecisionTaskScheduled", "eventTimestamp": scheduled_at},
        {
            "eventId": 3,
            "eventType": "DecisionTaskStarted",
            "eventTimestamp": datetime.fromtimestamp(started_at, tz=UTC),
            "decisionTaskStartedEventAttributes": {"scheduledEventId": 2},
        },
    ]
    return DecisionTask("t", WorkflowExecution("w", "r"), {"name": "n", "version": "1"}, events, 3)


def test_a_busy_process_sends_runs_back_to_the_shared_list(tmp_path: Path) -> None:
    """Tasks that wait on the own list for more than half the timeout would soon time out
    there: until the wait is short again, answers name the shared list."""
    _, poller = _poller(tmp_path, "sticky_schedule_to_start_seconds = 4\n")
    assert queued_seconds(_task(100.0, 103.5)) == 3.5
    poller.sticky_wait = queued_seconds(_task(100.0, 103.5))
    assert poller.route(poller.source) == Route("dt", None)
    poller.sticky_wait = queued_seconds(_task(100.0, 100.2))
    assert poller.route(poller.source) == Route("dt-sticky-host-7", 4)
