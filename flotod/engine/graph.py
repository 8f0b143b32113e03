"""The run-time task graph: the spec's tasks plus generated ones, with readiness counts.

A task becomes *ready* when none of its requirements is left; it is *done* when its activity or
child completed, or its timer fired (a generator only once every task it generated is done).
Counting remaining requirements keeps the work per event constant, so replaying a history
costs time linear in its length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flotod import safe_json
from flotod.errors import SpecError
from flotod.specs import ActivityTask, ChildWorkflow, Generator, Task, Timer
from flotod.specs.codec import tasks_from_list
from flotod.specs.graph import check_graph

ACTIVITY = 0
GENERATOR = 1
CHILD = 2
TIMER = 3


def kind_of(task: Task) -> int:
    if isinstance(task, Generator):
        return GENERATOR
    if isinstance(task, ActivityTask):
        return ACTIVITY
    if isinstance(task, ChildWorkflow):
        return CHILD
    if isinstance(task, Timer):
        return TIMER
    raise SpecError(f"task {task.id_!r} has an unsupported type {type(task).__name__}")


class GeneratorOutputError(Exception):
    """A generator's result cannot join the graph; names the generator and the problem."""

    def __init__(self, generator_id: str, problem: str) -> None:
        self.generator_id = generator_id
        self.problem = problem
        super().__init__(f"generator {generator_id!r}: {problem}")


class Node:
    """One task's place in the graph and what the history says happened to it."""

    __slots__ = (
        "attempts",
        "batch",
        "completed",
        "dependents",
        "done",
        "failures",
        "free_runs",
        "generator",
        "id",
        "kind",
        "last_failure",
        "pending",
        "refusals",
        "remaining",
        "requires",
        "result",
        "sinks",
        "task",
    )

    def __init__(self, task: Task, requires: tuple[str, ...], generator: str | None) -> None:
        self.task = task
        self.id = task.id_
        self.kind = kind_of(task)
        self.requires = requires
        self.generator = generator
        self.dependents: list[str] = []
        self.remaining = 0
        self.completed = False
        self.done = False
        self.result: str | None = None
        self.attempts = 0
        self.failures = 0
        self.refusals = 0  # decisions SWF refused for a passing cause (not attempts)
        self.free_runs = 0  # attempts given back because the task never ran
        self.last_failure: dict[str, Any] | None = None
        self.batch: tuple[str, ...] | None = None  # ids a generator added, once it completed
        self.sinks: tuple[str, ...] = ()
        self.pending = 0  # generated tasks not yet done


def parse_result(raw: str | None) -> Any:
    """A result as its JSON value; text that is not JSON is passed on as the string itself."""
    if raw is None:
        return None
    try:
        return safe_json.loads(raw)
    except ValueError:
        return raw


def _sinks(nodes: list[Node]) -> tuple[str, ...]:
    required = {r for n in nodes for r in n.requires}
    return tuple(n.id for n in nodes if n.id not in required)


class TaskGraph:
    """Mutable per-replay state of the graph; rebuilt from the spec for every decision."""

    def __init__(self, tasks: Mapping[str, Task]) -> None:
        self.tasks: dict[str, Task] = dict(tasks)
        self.nodes: dict[str, Node] = {}
        self.ready: dict[
            str, None
        ] = {}  # insertion-ordered set: never-started, no requirement left
        self.done_count = 0
        nodes = [Node(t, t.requires, None) for t in tasks.values()]
        self._link(nodes)
        self.spec_sinks = _sinks(nodes)

    def _link(self, nodes: list[Node]) -> None:
        all_nodes = self.nodes
        for node in nodes:
            all_nodes[node.id] = node
        for node in nodes:
            remaining = 0
            for req in node.requires:
                other = all_nodes[req]
                if not other.done:
                    remaining += 1
                    other.dependents.append(node.id)
            node.remaining = remaining
            if remaining == 0:
                self.ready[node.id] = None

    def complete(self, task_id: str, result: str | None) -> None:
        """Record a completion; a generator's result is expanded into new tasks here."""
        node = self.nodes[task_id]
        if node.completed:
            return
        node.completed = True
        node.result = result
        if node.kind == GENERATOR:
            self._expand(node)
            if node.pending:
                return
        self._mark_done(node)

    def _mark_done(self, node: Node) -> None:
        nodes = self.nodes
        stack = [node]
        while stack:
            current = stack.pop()
            current.done = True
            self.done_count += 1
            for dep_id in current.dependents:
                dep = nodes[dep_id]
                dep.remaining -= 1
                if dep.remaining == 0:
                    self.ready[dep_id] = None
            if current.generator is not None:
                owner = nodes[current.generator]
                owner.pending -= 1
                if owner.pending == 0:
                    stack.append(owner)

    def _expand(self, gen: Node) -> None:
        try:
            value = safe_json.loads(gen.result) if gen.result is not None else None
        except ValueError:
            raise GeneratorOutputError(gen.id, "result is not JSON") from None
        try:
            new = tasks_from_list(value, "result")
            by_id = check_graph(new, known=self.tasks)
        except SpecError as exc:
            raise GeneratorOutputError(gen.id, str(exc)) from None
        nodes: list[Node] = []
        for task in new:
            for req in task.requires:
                if req not in by_id and not self.nodes[req].done:
                    raise GeneratorOutputError(
                        gen.id,
                        f"task {task.id_!r} requires {req!r}, which is neither generated with it "
                        "nor completed",
                    )
            requires = task.requires or gen.requires
            nodes.append(Node(task, requires, gen.id))
        self.tasks.update(by_id)
        gen.batch = tuple(by_id)
        gen.pending = len(nodes)
        self._link(nodes)
        gen.sinks = _sinks(nodes)

    def outputs(self, task_id: str, into: dict[str, Any]) -> None:
        """Add what ``task_id`` hands its dependents to ``into``: its result, or a generator's
        sink results (``[]`` for a generator that generated nothing)."""
        node = self.nodes[task_id]
        if node.kind == GENERATOR and node.batch is not None:
            if not node.batch:
                into[task_id] = []
                return
            for sink in node.sinks:
                if self.nodes[sink].kind != TIMER:
                    self.outputs(sink, into)
            return
        into[task_id] = None if node.kind == TIMER else parse_result(node.result)

    def final_result(self) -> dict[str, Any]:
        """The workflow result: outputs of the non-timer spec tasks nothing depends on."""
        out: dict[str, Any] = {}
        for sink in self.spec_sinks:
            if self.nodes[sink].kind != TIMER:
                self.outputs(sink, out)
        return out

    @property
    def all_done(self) -> bool:
        return self.done_count == len(self.nodes)
