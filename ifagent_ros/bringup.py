"""Run a node graph from a ROS 2 params file, without a ROS install (`ifagent up`).

Two modes read the same params file as `ros2 launch`:
- in one process: every node gets `parameter_overrides` from its section, all share a private
  `Context`; each node spins in its own thread and executor (`GraphHandle`, `run_graph`);
- one child process per node: `python -m <module> --ros-args --params-file FILE -r __node:=NAME`
  (`run_processes`), each in its own process group, stopped with SIGINT -> SIGTERM -> SIGKILL.

Params parsing (`read_params_file`, `load_params_file`) lives in `params_file.py`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import importlib.util
import logging
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ifagent_ros.params_file import (
    WILDCARD,
    ParamsFileError,
    flatten_params,
    load_params_file,
    read_params_file,
)

__all__ = [
    "NODE_REGISTRY",
    "BringupError",
    "GraphHandle",
    "ParamsFileError",
    "load_params_file",
    "read_params_file",
    "run_graph",
    "run_processes",
    "select_nodes",
    "start_graph",
]

log = logging.getLogger("ifagent.bringup")

# Section name in a params file -> module holding NODE_CLASS and main() (docs/spine_contract.md).
NODE_REGISTRY: dict[str, str] = {
    "sim_node": "ifagent_ros.nodes.sim_node",
    "house_sim_node": "ifagent_ros.nodes.house_sim_node",
    "executor_node": "ifagent_ros.nodes.executor_node",
    "teleop_node": "ifagent_ros.nodes.teleop_node",
    "scripted_gamepad_node": "ifagent_ros.nodes.scripted_gamepad_node",
    "recorder_node": "ifagent_ros.nodes.recorder_node",
    "perception_node": "ifagent_ros.nodes.perception_node",
    "audio_capture_node": "ifagent_ros.nodes.audio_capture_node",
    "speech_node": "ifagent_ros.nodes.speech_node",
    "correction_node": "ifagent_ros.nodes.correction_node",
    "shared_autonomy_node": "ifagent_ros.nodes.shared_autonomy_node",
    "vln_planner_node": "ifagent_ros.nodes.vln_planner_node",
    "base_executor_node": "ifagent_ros.nodes.base_executor_node",
    "sim_user_node": "ifagent_ros.nodes.sim_user_node",
    "fault_relay_node": "ifagent_ros.nodes.fault_relay_node",
}

ParamsSource = str | os.PathLike | Mapping[str, Mapping[str, Any]]


class BringupError(RuntimeError):
    """The graph cannot be started as asked (unknown node, missing module, node constructor)."""


def select_nodes(
    sections: Iterable[str],
    registry: Mapping[str, str],
    nodes: Sequence[str] | None = None,
) -> list[str]:
    """Names of the nodes to start, in params-file order (or the order of `nodes`).

    Without `nodes`, every section must name a registered node. With `nodes`, each must be
    registered; it starts even without a section (defaults + `/**`), other sections are ignored.
    """
    sections = list(sections)
    known = ", ".join(sorted(registry)) or "(none)"
    if nodes is None:
        unknown = [s for s in sections if s not in registry]
        if unknown:
            raise BringupError(
                f"params file has section(s) {', '.join(unknown)} that name no known node; "
                f"known nodes: {known} (or choose nodes with --nodes)"
            )
        return sections
    unknown = [n for n in nodes if n not in registry]
    if unknown:
        raise BringupError(f"unknown node(s) {', '.join(unknown)}; known nodes: {known}")
    for name in nodes:
        if name not in sections:
            log.info("%s has no section in the params file; starting it with its defaults", name)
    return list(dict.fromkeys(nodes))


def _resolve_params(
    source: ParamsSource,
    overrides: Mapping[str, Mapping[str, Any]] | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """(sections, wildcard) from a params file path or an in-memory {node: {param: value}}."""
    if isinstance(source, str | os.PathLike):
        sections, wildcard = read_params_file(source)
    else:
        sections, wildcard = {}, {}
        for node, params in source.items():
            flat = flatten_params(params, where=f"params for {node!r}")
            if node == WILDCARD:
                wildcard = flat
            else:
                sections[node] = flat
    for node, params in (overrides or {}).items():
        sections.setdefault(node, {}).update(flatten_params(params, where=f"overrides for {node}"))
    return sections, wildcard


def _import_node_class(name: str, module_name: str) -> type:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BringupError(f"{name}: cannot import {module_name}: {exc}") from exc
    node_class = getattr(module, "NODE_CLASS", None)
    if node_class is None:
        raise BringupError(f"{name}: {module_name} defines no NODE_CLASS")
    return node_class


EXECUTOR_MODES = ("per_node", "events", "events_shared", "multi")


class _Kill:
    """A kill_node() of a node on a shared executor, carried out by that executor's spin thread."""

    def __init__(self, name: str, node: Any, executor: Any, deadline: float) -> None:
        self.name = name
        self.node = node
        self.executor = executor
        self.deadline = deadline
        self.removed = False
        self.claimed = False  # taken by the spin thread or, if that one is gone, by kill_node
        self.callbacks: set[Any] = set()  # the node's handler tasks seen in the executor
        self.done = threading.Event()


def _callbacks_of(executor: Any, node: Any) -> list[Any]:
    """The handler tasks of `node` that a (Python) rclpy executor dispatched and did not finish
    (none for the EventsExecutor, which runs every callback in its spin thread)."""
    tasks, lock = getattr(executor, "_tasks", None), getattr(executor, "_tasks_lock", None)
    if tasks is None or lock is None:
        return []
    with lock:
        return [task for task, _entity, owner in executor._tasks if owner is node]


class GraphHandle:
    """A node graph spinning in background threads of this process.

    Each node spins in its own thread, as its own main() would spin it, with
    `executor="events"` (default): rclpy's EventsExecutor (C++, rclpy.experimental), or
    `executor="per_node"`: a SingleThreadedExecutor. `executor="events_shared"`: one EventsExecutor
    thread for all nodes (no GIL hand-offs between nodes: lowest latency for light nodes such as
    teleop + executor; a heavy node such as the simulator would stall the others).
    `executor="multi"`: one MultiThreadedExecutor for all nodes, whose single Python wait set over
    every node's entities made teleop commands arrive late under load (README, "Measured").

    >>> with start_graph("config/sim.yaml", nodes=["sim_node"], domain_id=42) as graph:
    ...     sim = graph.nodes["sim_node"]
    ...     graph.wait(timeout=5.0)   # True once spinning stopped (a callback raised)
    """

    def __init__(
        self,
        params: ParamsSource,
        *,
        nodes: Sequence[str] | None = None,
        domain_id: int | None = None,
        registry: Mapping[str, str] | None = None,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        executor: str = "events",
        num_threads: int | None = None,
    ) -> None:
        if executor not in EXECUTOR_MODES:
            raise BringupError(f"executor must be one of {EXECUTOR_MODES}, not {executor!r}")
        self.registry = dict(NODE_REGISTRY if registry is None else registry)
        self.sections, self.wildcard = _resolve_params(params, overrides)
        self.node_names = select_nodes(self.sections, self.registry, nodes)
        self.domain_id = domain_id
        self.executor_mode = executor
        self.num_threads = num_threads
        self.nodes: dict[str, Any] = {}  # name -> rclpy Node, filled by start()
        self.context: Any = None
        self.executors: list[Any] = []  # rclpy executors, one per spin thread
        self.error: BaseException | None = None  # what stopped spinning, if anything did
        self._threads: list[threading.Thread] = []
        # name -> (executor, thread, halt) of a node spinning alone, so kill_node can stop it.
        self._own_spin: dict[str, tuple[Any, threading.Thread, threading.Event]] = {}
        self.dead: dict[str, Any] = {}  # name -> node destroyed by kill_node()
        self._stopped = threading.Event()
        self._stop_spinning = threading.Event()
        self._lock = threading.Lock()
        self._kills: list[_Kill] = []  # kill_node()s waiting for a shared executor's spin thread
        self._closed = False

    @property
    def executor(self) -> Any:
        """The executor of the "multi" mode (the first node's in the other modes)."""
        return self.executors[0] if self.executors else None

    def params_for(self, name: str) -> dict[str, Any]:
        return {**self.wildcard, **self.sections.get(name, {})}

    def start(self) -> GraphHandle:
        """Build every node in a private Context and spin them in background threads."""
        from rclpy.context import Context
        from rclpy.parameter import Parameter

        if self.context is not None:
            raise BringupError("graph already started")
        classes = {n: _import_node_class(n, self.registry[n]) for n in self.node_names}
        self.context = Context()
        self.context.init(["ifagent"], domain_id=self.domain_id)
        try:
            for name, node_class in classes.items():
                overrides = [Parameter(k, value=v) for k, v in self.params_for(name).items()]
                try:
                    self.nodes[name] = node_class(
                        context=self.context, parameter_overrides=overrides, node_name=name
                    )
                except Exception as exc:
                    raise BringupError(f"{name}: {type(exc).__name__}: {exc}") from exc
                log.info("started %s (%s)", name, self.registry[name])
            if self.executor_mode in ("multi", "events_shared"):
                groups = [list(self.nodes.values())]
            else:
                groups = [[node] for node in self.nodes.values()]
            self.executors = [self._new_executor(len(group)) for group in groups]
            for executor, group in zip(self.executors, groups, strict=True):
                for node in group:
                    executor.add_node(node)
        except BaseException:
            self.stop()
            raise
        own = self.executor_mode not in ("multi", "events_shared")
        for executor, name in zip(
            self.executors, self.nodes if own else ["graph"], strict=True
        ):
            halt = threading.Event()
            thread = threading.Thread(
                target=self._spin, args=(executor, halt), name=f"ifagent-{name}", daemon=True
            )
            if own:
                self._own_spin[name] = (executor, thread, halt)
            self._threads.append(thread)
            thread.start()
        return self

    def _new_executor(self, n_nodes: int) -> Any:
        from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor

        if self.executor_mode in ("events", "events_shared"):
            from rclpy.experimental import EventsExecutor

            return EventsExecutor(context=self.context)
        if self.executor_mode == "multi":
            threads = self.num_threads or max(4, 2 * n_nodes)
            return MultiThreadedExecutor(threads, context=self.context)
        return SingleThreadedExecutor(context=self.context)

    def add_node(self, node: Any, name: str | None = None) -> Any:
        """Spin one more node (built by the caller with `context=graph.context`, e.g. a test or
        benchmark probe) in its own thread and executor; stop() destroys it with the others."""
        if not self.running:
            raise BringupError("add_node() needs a running graph")
        name = name or node.get_name()
        if name in self.nodes:
            raise BringupError(f"the graph has a node {name!r} already")
        executor = self._new_executor(1)
        executor.add_node(node)
        self.nodes[name] = node
        self.executors.append(executor)
        halt = threading.Event()
        thread = threading.Thread(
            target=self._spin, args=(executor, halt), name=f"ifagent-{name}", daemon=True
        )
        self._own_spin[name] = (executor, thread, halt)
        self._threads.append(thread)
        thread.start()
        return node

    def kill_node(self, name: str, timeout: float = 5.0) -> None:
        """Stop one node abruptly, like a crashed process: its spinning ends and it is destroyed
        without close() (so no farewell messages such as a last "stop"); its publishers and
        subscriptions vanish from the graph. The other nodes keep spinning. stop() later calls
        its close() quietly, only to release what it holds (child processes, files)."""
        if name in self.dead:
            raise BringupError(f"node {name!r} is dead already")
        if name not in self.nodes:
            raise BringupError(f"the graph has no node {name!r}; nodes: {', '.join(self.nodes)}")
        if not self.running:
            raise BringupError("kill_node() needs a running graph")
        node = self.nodes.pop(name)
        self.dead[name] = node
        own = self._own_spin.pop(name, None)
        if own is not None:
            executor, thread, halt = own
            halt.set()
            executor.wake()
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: a callback still runs after %.1f s; destroying anyway", name,
                            timeout)
            self.executors.remove(executor)
            executor.shutdown(timeout_sec=0)
            node.destroy_node()
        else:  # shares an executor with other nodes
            self._kill_shared(name, node, timeout)
        log.warning("killed %s", name)

    def _kill_shared(self, name: str, node: Any, timeout: float) -> None:
        """Remove and destroy a node of a shared executor in that executor's spin thread.

        Destroying it from this thread instead races the executor: a callback of the node still
        running in the MultiThreadedExecutor's pool (or the EventsExecutor's spin thread) then
        publishes on a destroyed publisher, raises InvalidHandle, and the executor re-raises
        that in a later spin_once() as if the graph had crashed: the other nodes stop spinning.
        The spin thread removes the node, lets its running callbacks finish (up to `timeout`),
        destroys it between two spin_once() calls and forgets its callbacks' outcomes."""
        executor = next((e for e in self.executors if node in e.get_nodes()), None)
        if executor is None:
            node.destroy_node()
            return
        kill = _Kill(name, node, executor, time.monotonic() + timeout)
        with self._lock:
            self._kills.append(kill)
        executor.wake()
        thread = self._threads[0]
        deadline = kill.deadline + 1.0
        while not kill.done.wait(0.05):
            if not thread.is_alive() or time.monotonic() > deadline:
                break
        with self._lock:
            mine = not kill.claimed
            kill.claimed = True
            if mine:
                self._kills.remove(kill)
        if mine:  # the spin thread is gone (or stuck in a callback): destroy it from here
            log.warning("%s: the spin thread did not take the kill; destroying from %s", name,
                        threading.current_thread().name)
            self._destroy_killed(kill, in_spin_thread=not thread.is_alive())
        else:
            kill.done.wait(max(0.0, deadline - time.monotonic()))

    def _reap_kills(self, executor: Any) -> None:
        """In the spin thread of a shared `executor`, between two spin_once(): carry out the
        kill_node()s whose node has no callback running any more (or ran out of time)."""
        with self._lock:
            kills = [k for k in self._kills if k.executor is executor and not k.claimed]
        for kill in kills:
            if not kill.removed:
                executor.remove_node(kill.node)
                kill.removed = True
            kill.callbacks.update(_callbacks_of(executor, kill.node))
            running = [task for task in kill.callbacks if not task.done()]
            if running and time.monotonic() < kill.deadline:
                continue  # its handlers trigger the executor's guard condition when they end
            with self._lock:
                if kill.claimed:
                    continue
                kill.claimed = True
                self._kills.remove(kill)
            if running:
                log.warning("%s: a callback still runs after its kill's timeout; destroying "
                            "anyway", kill.name)
            self._destroy_killed(kill, in_spin_thread=True)

    @staticmethod
    def _destroy_killed(kill: _Kill, *, in_spin_thread: bool) -> None:
        try:
            if not kill.removed:
                kill.executor.remove_node(kill.node)
                kill.removed = True
            kill.node.destroy_node()
            # A dead node's callback that raised (InvalidHandle from its destroyed publisher,
            # say) must not stop the graph: the MultiThreadedExecutor re-raises the outcome of
            # each handler in its `_futures` on a later spin_once(). Only the spin thread (or
            # anyone once it is gone) may edit that list.
            futures = getattr(kill.executor, "_futures", None)
            if in_spin_thread and isinstance(futures, list):
                kill.callbacks.update(_callbacks_of(kill.executor, kill.node))
                futures[:] = [f for f in futures if f not in kill.callbacks]
        finally:
            kill.done.set()

    def alive_nodes(self) -> list[str]:
        """Names of the nodes not killed (in start order)."""
        return list(self.nodes)

    def dead_nodes(self) -> list[str]:
        """Names of the nodes kill_node() destroyed."""
        return list(self.dead)

    def _spin(self, executor: Any, halt: threading.Event | None = None) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            # Our own loop instead of executor.spin(): stop() must end spinning without
            # executor.shutdown(), which would destroy the guard condition that callbacks
            # still running in the pool trigger when they finish.
            while (
                not self._stop_spinning.is_set()
                and not (halt is not None and halt.is_set())
                and self.context.ok()
            ):
                if self._kills:
                    self._reap_kills(executor)
                executor.spin_once(timeout_sec=0.1)
        except ExternalShutdownException:
            pass
        except BaseException as exc:  # a node callback raised: report it, stop the graph
            self.error = self.error or exc
            log.error("node callback failed; stopping the graph", exc_info=exc)
        finally:
            if halt is None or not halt.is_set():  # a killed node's thread stops only itself
                self._stopped.set()

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stopped.is_set() and not self._closed

    def wait(self, timeout: float | None = None) -> bool:
        """Block until spinning stops (a callback raised, or stop()); True if it did."""
        return self._stopped.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop spinning, then close() and destroy every node and shut the context down.

        Idempotent; never raises for a node's failing close() (it is logged).
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop_spinning.set()
        deadline = time.monotonic() + timeout
        for executor in self.executors:
            executor.wake()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for executor in self.executors:
            # rclpy 7's MultiThreadedExecutor never waits for callbacks it handed to its thread
            # pool: let them finish (bounded by `timeout`), so that neither executor.shutdown()
            # nor close() races a callback. (Cancelling them instead leaves never-awaited
            # coroutines behind.)
            pool = getattr(executor, "_executor", None)
            if isinstance(pool, concurrent.futures.ThreadPoolExecutor):
                pool.shutdown(wait=False)
                for worker in list(getattr(pool, "_threads", ())):
                    worker.join(max(0.0, deadline - time.monotonic()))
            executor.shutdown(timeout_sec=0)
        for name, node in reversed(list(self.nodes.items())):
            for step in ("close", "destroy_node"):
                method = getattr(node, step, None)
                if method is None:
                    continue
                try:
                    method()
                except Exception:
                    log.exception("%s.%s() failed", name, step)
        for name, node in self.dead.items():
            # Destroyed already; close() only frees what it holds (its publishes may fail).
            close = getattr(node, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
        if self.context is not None:
            self.context.try_shutdown()
        self._stopped.set()
        log.info("graph stopped")

    def __enter__(self) -> GraphHandle:
        return self if self.context is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_graph(params: ParamsSource, **kwargs: Any) -> GraphHandle:
    """`GraphHandle(params, **kwargs).start()`: the Python API used by demo and bench."""
    return GraphHandle(params, **kwargs).start()


class _SignalStop:
    """SIGINT/SIGTERM set `stop` instead of raising; repeated ones set `hurry` (main thread)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.hurry = threading.Event()

    def __call__(self, signum: int, _frame: object) -> None:
        if self.stop.is_set():
            self.hurry.set()
            log.warning("%s again: not waiting for a clean stop", signal.Signals(signum).name)
        else:
            log.info("%s received, stopping", signal.Signals(signum).name)
        self.stop.set()


@contextlib.contextmanager
def _signals_set(stop: threading.Event) -> Iterator[_SignalStop]:
    handler = _SignalStop(stop)
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield handler
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def run_graph(
    params_file: ParamsSource,
    *,
    nodes: Sequence[str] | None = None,
    domain_id: int | None = None,
    processes: bool = False,
    duration: float | None = None,
    stop_event: threading.Event | None = None,
    registry: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    executor: str = "events",
    grace_s: float = 5.0,
) -> int:
    """Run the graph until Ctrl-C / SIGTERM / `stop_event` / `duration`; 0 if all went well."""
    if processes:
        if overrides:
            raise BringupError("overrides need the in-process mode")
        return run_processes(
            params_file,
            nodes=nodes,
            domain_id=domain_id,
            duration=duration,
            stop_event=stop_event,
            registry=registry,
            grace_s=grace_s,
        )
    stop = stop_event or threading.Event()
    deadline = None if duration is None else time.monotonic() + duration
    graph = GraphHandle(
        params_file,
        nodes=nodes,
        domain_id=domain_id,
        registry=registry,
        overrides=overrides,
        executor=executor,
    )
    with _signals_set(stop):
        try:
            graph.start()
            while not stop.wait(0.1) and not graph.wait(0):
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            graph.stop(timeout=grace_s)
    return 1 if graph.error is not None else 0


# One process per node lives in its own module; imported last because it builds on the above.
from ifagent_ros.bringup_processes import run_processes  # noqa: E402
