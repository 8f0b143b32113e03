"""``python -m flotod.demo`` (``make demo``): every example, run by the real services.

It starts the embedded SWF (``flotod local-swf``, which serves the S3 bucket for large
payloads on the same port), writes TOML configs for it into a temporary directory, runs
``flotod register`` and then ``flotod-decider`` (one per example spec), ``flotod-worker`` and
``flotod-daemon`` as separate processes, exactly as systemd would on a server. It runs every
example in :mod:`flotod.examples.catalog`, prints one line per workflow (result and
duration), stops everything with SIGTERM and exits 0 only if every example gave its expected
outcome.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flotod.cli import output
from flotod.cli.executions import Outcome, latest_run_id, wait_for_outcome
from flotod.cli.operator import shared_settings
from flotod.errors import FlotodError, UnknownResourceError
from flotod.examples import ACTIVITY_TASK_LIST, DOMAIN, hello
from flotod.examples.catalog import DECIDERS, EXAMPLES, HELLO_MODULES, WORKER_MODULES, Example
from flotod.examples.via_daemon import SIGNAL_NAME
from flotod.payloads import Payloads
from flotod.payloads.configured import payloads_for
from flotod.swf import RetryPolicy, SwfClient

DAEMON_TASK_LIST = "flotod_daemon"
DAEMON_WORKFLOW_ID = "flotod_daemon"
# Short polls and drains keep the demo's start and stop quick; servers use SWF's 60 s.
POLL_TIMEOUT = 2.0
DRAIN_SECONDS = 10
STOP_GRACE = 30.0
PAYLOAD_BUCKET = "flotod-demo-payloads"


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def write_configs(directory: Path, endpoint: str) -> None:
    """The configs an operator would put in /etc/flotod, for this demo's embedded SWF."""
    (directory / "specs").mkdir(parents=True, exist_ok=True)
    # hello runs from its JSON form, as the packaged sample hello.json does.
    (directory / "specs" / "hello.json").write_text(hello.SPEC.to_json(), encoding="utf-8")
    (directory / "flotod.toml").write_text(
        f"[swf]\nendpoint_url = {json.dumps(endpoint)}\ndomain = {json.dumps(DOMAIN)}\n"
        'access_key_id = "local"\nsecret_access_key = "local"\n\n'
        '[logging]\nlevel = "info"\nformat = "logfmt"\n\n'
        # The embedded endpoint serves S3 too: values past SWF's limit (large_result) go there.
        f'[payloads]\ns3_bucket = "{PAYLOAD_BUCKET}"\n',
        encoding="utf-8",
    )
    deciders = []
    for decider in DECIDERS:
        lines = [f"[decider.{decider.name}]", f"task_list = {json.dumps(decider.task_list)}"]
        if decider.dynamic:
            lines += [
                "dynamic = true",
                f"default_activity_task_list = {json.dumps(decider.default_activity_task_list)}",
            ]
        elif decider.name == "hello":
            lines.append('spec_file = "specs/hello.json"')
        else:
            lines.append(f"spec_object = {json.dumps(decider.spec_object)}")
        name, version = decider.workflow_type
        lines += [
            f"workflow_type_name = {json.dumps(name)}",
            f"workflow_type_version = {json.dumps(version)}",
            f"drain_timeout_seconds = {DRAIN_SECONDS}",
        ]
        deciders.append("\n".join(lines))
    (directory / "decider.toml").write_text("\n\n".join(deciders) + "\n", encoding="utf-8")
    (directory / "worker.toml").write_text(
        f'[worker.examples]\ntask_list = "{ACTIVITY_TASK_LIST}"\n'
        f"modules = {_toml_list(WORKER_MODULES)}\nconcurrency = 8\n"
        f"drain_timeout_seconds = {DRAIN_SECONDS}\n\n"
        f'[worker.hello]\ntask_list = "{hello.ACTIVITY_TASK_LIST}"\n'
        f"modules = {_toml_list(HELLO_MODULES)}\nconcurrency = 2\n"
        f"drain_timeout_seconds = {DRAIN_SECONDS}\n",
        encoding="utf-8",
    )
    (directory / "daemon.toml").write_text(
        f'[daemon.main]\ntask_list = "{DAEMON_TASK_LIST}"\n'
        f'workflow_id = "{DAEMON_WORKFLOW_ID}"\nmax_children = 10\n'
        f"drain_timeout_seconds = {DRAIN_SECONDS}\n",
        encoding="utf-8",
    )


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


class Processes:
    """The demo's child processes: started with logs to files, stopped with SIGTERM."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.services: list[Service] = []

    def start(
        self, name: str, argv: Sequence[str], stdout: int | IO[bytes] | None = None
    ) -> Service:
        log = self.directory / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, *argv],
                stdout=stdout if stdout is not None else handle,
                stderr=handle,
                stdin=subprocess.DEVNULL,
            )
        service = Service(name, process, log)
        self.services.append(service)
        return service

    def dead(self) -> list[Service]:
        return [s for s in self.services if s.process.poll() is not None]

    def stop(self, services: Sequence[Service]) -> list[str]:
        """SIGTERM all, wait for all; returns a problem line per process that misbehaved."""
        for service in services:
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        problems = []
        deadline = time.monotonic() + STOP_GRACE
        for service in services:
            try:
                code = service.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()
                problems.append(f"{service.name} did not stop within {STOP_GRACE:g} s of SIGTERM")
                continue
            if code not in (0, -signal.SIGTERM):
                problems.append(f"{service.name} exited with {code} (log: {service.log})")
        return problems


def start_local_swf(procs: Processes) -> tuple[Service, str]:
    """``flotod local-swf`` on a free loopback port; its first stdout line is its URL."""
    service = procs.start(
        "local-swf",
        [
            "-m",
            "flotod.cli.main",
            "local-swf",
            "--port",
            "0",
            "--poll-timeout",
            str(POLL_TIMEOUT),
            "--s3-bucket",
            PAYLOAD_BUCKET,
        ],
        stdout=subprocess.PIPE,
    )
    stream = service.process.stdout
    assert stream is not None
    found: list[str] = []
    reader = threading.Thread(
        target=lambda: found.append(stream.readline().decode().strip()), daemon=True
    )
    reader.start()
    reader.join(30)
    if not found or not found[0].startswith("http"):
        raise FlotodError(f"flotod local-swf printed no URL (log: {service.log})")
    return service, found[0]


def run_cli(argv: Sequence[str], directory: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flotod.cli.main", *argv, "--config", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise FlotodError(f"flotod {' '.join(argv)} failed: {done.stderr.strip()}")


@dataclass
class Run:
    example: Example
    outcome: Outcome | None = None
    error: str | None = None

    def problem(self) -> str | None:
        """Why this run is not what the example promises; None when it is."""
        item, got = self.example, self.outcome
        if got is None:
            return self.error or "no outcome"
        if item.expected_failure is not None:
            if got.status != "FAILED" or got.reason != item.expected_failure:
                return f"expected failure {item.expected_failure}, got {got.status} {got.reason}"
        elif got.status != "COMPLETED" or got.result != item.expected_result:
            return f"expected {output.shorten(item.expected_result, 80)}, got {got.status}"
        if got.seconds is not None and got.seconds < item.min_seconds:
            return f"took {got.seconds:.2f} s, less than its timer's {item.min_seconds:g} s"
        return None


def _wait_run_id(swf: SwfClient, workflow_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return latest_run_id(swf, DOMAIN, workflow_id)
        except UnknownResourceError:
            if time.monotonic() > deadline:
                raise FlotodError(f"{workflow_id} was not started within {timeout:g} s") from None
            time.sleep(0.2)


def run_example(swf: SwfClient, run: Run, timeout: float, payloads: Payloads) -> None:
    item = run.example
    workflow_id = f"demo-{item.name}"
    try:
        if item.decider is None:
            _wait_run_id(swf, DAEMON_WORKFLOW_ID, timeout)  # the daemon starts its workflow
            swf.signal_workflow_execution(
                DOMAIN,
                DAEMON_WORKFLOW_ID,
                SIGNAL_NAME,
                {**item.signal_input, "workflow_id": workflow_id},
            )
            run_id = _wait_run_id(swf, workflow_id, timeout)
        else:
            name, version = item.workflow_type
            run_id = swf.start_workflow_execution(
                DOMAIN, workflow_id, name, version, input=item.input, execution_start_to_close=600
            )
        run.outcome = wait_for_outcome(
            swf, DOMAIN, workflow_id, run_id, timeout=timeout, payloads=payloads
        )
    except FlotodError as exc:
        run.error = str(exc)


def report(runs: Sequence[Run]) -> int:
    rows = []
    for run in runs:
        got = run.outcome
        problem = run.problem()
        rows.append(
            [
                run.example.name,
                got.status if got else "ERROR",
                output.duration(got.seconds if got else None),
                "ok" if problem is None else "FAILED",
                output.shorten(got.summary() if got else run.error, 70),
            ]
        )
    output.table(["EXAMPLE", "STATUS", "TOOK", "CHECK", "RESULT"], rows)
    failed = [(r.example.name, r.problem()) for r in runs if r.problem() is not None]
    for name, problem in failed:
        print(f"{name}: {problem}", file=sys.stderr)
    print(f"{len(runs) - len(failed)} of {len(runs)} examples gave their expected outcome")
    return 1 if failed else 0


def say(text: str) -> None:
    print(f"demo: {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def work_dir(keep: bool) -> Iterator[Path]:
    if keep:
        path = Path(tempfile.mkdtemp(prefix="flotod-demo-"))
        say(f"configs and logs stay in {path}")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="flotod-demo-") as name:
        yield Path(name)


def demo(timeout: float, keep: bool) -> int:
    with work_dir(keep) as directory:
        procs = Processes(directory)
        swf_service: Service | None = None
        services: list[Service] = []
        try:
            swf_service, url = start_local_swf(procs)
            say(f"embedded SWF at {url}")
            write_configs(directory, url)
            run_cli(["config", "check"], directory)
            run_cli(["register"], directory)
            say("types registered; starting the services")
            for decider in DECIDERS:
                services.append(
                    procs.start(
                        f"decider-{decider.name}",
                        [
                            "-m",
                            "flotod.cli.services",
                            "decider",
                            "--config",
                            str(directory),
                            "--instance",
                            decider.name,
                        ],
                    )
                )
            for kind, instance in (("worker", "examples"), ("worker", "hello"), ("daemon", "main")):
                services.append(
                    procs.start(
                        f"{kind}-{instance}",
                        [
                            "-m",
                            "flotod.cli.services",
                            kind,
                            "--config",
                            str(directory),
                            "--instance",
                            instance,
                        ],
                    )
                )
            swf = SwfClient(
                endpoint_url=url,
                region="us-east-1",
                access_key_id="local",
                secret_access_key="local",
                retry=RetryPolicy(max_attempts=5, base_seconds=0.2, cap_seconds=2.0),
            )
            # Results kept in S3 are read as an operator's flotod reads them: from the configs.
            swf_settings, payload_settings = shared_settings(str(directory))
            payloads = payloads_for(payload_settings, swf_settings, directory)
            runs = [Run(item) for item in EXAMPLES]
            say(f"running {len(runs)} examples")
            threads = [
                threading.Thread(target=run_example, args=(swf, run, timeout, payloads))
                for run in runs
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for dead in procs.dead():
                if dead in services:
                    say(f"{dead.name} exited early with {dead.process.returncode} ({dead.log})")
            code = report(runs)
        finally:
            say("stopping the services (SIGTERM)")
            problems = procs.stop(services)
            if swf_service is not None:
                problems += procs.stop([swf_service])
        for problem in problems:
            print(f"demo: {problem}", file=sys.stderr)
        return 1 if problems else code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flotod.demo", description=__doc__)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per example")
    parser.add_argument("--keep", action="store_true", help="keep the configs and logs")
    args = parser.parse_args(argv)
    try:
        return demo(args.timeout, args.keep)
    except FlotodError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
