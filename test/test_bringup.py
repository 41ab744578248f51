"""Bring-up without ROS: params files, the in-process graph, and `ifagent up [--processes]`.

The graphs here use the fake nodes in test/fake_nodes/ (same shape as the real ones) on a
private DDS domain: $IFAGENT_TEST_DOMAIN_ID, else a random id in 1..101 (never the default 0).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from ifagent_ros import cli
from ifagent_ros.bringup import (
    NODE_REGISTRY,
    BringupError,
    GraphHandle,
    ParamsFileError,
    load_params_file,
    read_params_file,
    run_graph,
    select_nodes,
    start_graph,
)

REPO = Path(__file__).resolve().parent.parent
TEST_DIR = Path(__file__).resolve().parent
DOMAIN_ID = int(os.environ.get("IFAGENT_TEST_DOMAIN_ID") or random.randint(1, 101))
FAKES = {
    "talker": "fake_nodes.talker",
    "listener": "fake_nodes.listener",
    "crasher": "fake_nodes.crasher",
    "stubborn": "fake_nodes.stubborn",
}


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def wait_until(condition, timeout: float = 15.0, period: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(period)
    return condition()


@pytest.fixture
def chat_params(tmp_path: Path) -> Path:
    """talker -> listener on a topic of their own; topic set once for both via `/**`."""
    topic = f"chat_{uuid.uuid4().hex[:8]}"
    return write(
        tmp_path / "chat.yaml",
        f"""\
        /**:
          ros__parameters:
            topic: {topic}
        talker:
          ros__parameters:
            period_s: 0.02
            greeting:
              text: hi
        listener:
          ros__parameters:
            out_file: {tmp_path / "listener.json"}
        """,
    )


# --- params files -------------------------------------------------------------------------


def test_load_flattens_nested_maps_and_merges_wildcard(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml",
        """\
        /**:
          ros__parameters:
            use_sim_time: true
            rate: 10
        /sim_node:
          ros__parameters:
            rate: 50
            camera:
              width: 64
              intrinsics: {fx: 1e2, fy: 1.5e+2}
            joints: [a, b]
            gains: [1, 0.5]
            ids: [1, 2]
        /**/teleop_node:
          ros__parameters:
            frame_id: base_link
        executor_node:
          ros__parameters: {}
        """,
    )
    params = load_params_file(path)
    assert list(params) == ["sim_node", "teleop_node", "executor_node"]
    assert params["sim_node"] == {
        "use_sim_time": True,
        "rate": 50,  # the node's own value wins over /**
        "camera.width": 64,
        "camera.intrinsics.fx": 100.0,  # 1e2 is a double, as rcl reads it
        "camera.intrinsics.fy": 150.0,
        "joints": ["a", "b"],
        "gains": [1.0, 0.5],  # mixed numbers -> doubles
        "ids": [1, 2],
    }
    assert params["teleop_node"] == {"use_sim_time": True, "rate": 10, "frame_id": "base_link"}
    assert params["executor_node"] == {"use_sim_time": True, "rate": 10}
    sections, wildcard = read_params_file(path)
    assert wildcard == {"use_sim_time": True, "rate": 10}
    assert sections["executor_node"] == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("- a\n- b\n", "top level must be a map"),
        ("sim_node: {rate: 1}\n", "exactly one key `ros__parameters`"),
        ("sim_node:\n  ros__parameters: {a: 1}\n  extra: 2\n", "exactly one key"),
        ("sim_node:\n  ros__parameters: {a: []}\n", "sim_node: a: an empty list"),
        ("sim_node:\n  ros__parameters:\n    a:\n", "a: has no value"),
        ("sim_node:\n  ros__parameters: {a: [[1], [2]]}\n", "a list must hold only"),
        ("sim_node:\n  ros__parameters: {a: [1, x]}\n", "a list must hold only"),
        ("/ns/sim_node:\n  ros__parameters: {a: 1}\n", "not namespaces"),
        ("sim_node:\n  ros__parameters: {a: 1\n", "not valid YAML"),
        ("sim_node:\n  ros__parameters: [1, 2]\n", "expected a map of parameters"),
    ],
)
def test_malformed_params_files_give_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ParamsFileError) as info:
        load_params_file(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_params_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsFileError, match="cannot read"):
        load_params_file(tmp_path / "nope.yaml")


def test_select_nodes() -> None:
    registry = {"a": "m.a", "b": "m.b", "c": "m.c"}
    assert select_nodes(["b", "a"], registry) == ["b", "a"]
    assert select_nodes(["a", "b", "zzz"], registry, nodes=["b"]) == ["b"]
    assert select_nodes(["a"], registry, nodes=["c"]) == ["c"]  # defaults + /**
    with pytest.raises(BringupError) as info:
        select_nodes(["a", "zzz"], registry)
    assert "zzz" in str(info.value) and "a, b, c" in str(info.value)
    with pytest.raises(BringupError, match="unknown node.*nope"):
        select_nodes(["a"], registry, nodes=["nope"])


def test_registry_names_the_nodes() -> None:
    assert NODE_REGISTRY == {
        name: f"ifagent_ros.nodes.{name}"
        for name in (
            "sim_node",
            "house_sim_node",
            "executor_node",
            "teleop_node",
            "scripted_gamepad_node",
            "recorder_node",
            "perception_node",
            "audio_capture_node",
            "speech_node",
            "correction_node",
            "shared_autonomy_node",
            "vln_planner_node",
            "base_executor_node",
            "sim_user_node",
            "fault_relay_node",
        )
    }


# --- one process --------------------------------------------------------------------------


@pytest.mark.parametrize("executor", ["per_node", "events", "multi"])
def test_in_process_graph_talks_and_stops_cleanly(chat_params: Path, executor: str) -> None:
    graph = start_graph(
        chat_params,
        registry=FAKES,
        nodes=["talker", "listener"],
        domain_id=DOMAIN_ID,
        executor=executor,
    )
    try:
        assert graph.running
        assert set(graph.nodes) == {"talker", "listener"}
        assert len(graph.executors) == (1 if executor == "multi" else 2)
        assert graph.context.get_domain_id() == DOMAIN_ID
        listener = graph.nodes["listener"]
        assert wait_until(lambda: len(listener.received) >= 5)
        assert listener.received[0].startswith("hi ")  # nested greeting.text reached the node
        assert graph.nodes["talker"].get_parameter("topic").value.startswith("chat_")  # /**
    finally:
        graph.stop()
    assert not graph.running and graph.error is None
    assert not graph.context.ok()
    assert [graph.nodes[n].closed for n in ("talker", "listener")] == [1, 1]
    graph.stop()  # idempotent
    assert graph.nodes["listener"].closed == 1


def test_graph_handle_overrides_and_context_manager(chat_params: Path) -> None:
    with GraphHandle(
        chat_params,
        registry=FAKES,
        nodes=["talker"],
        domain_id=DOMAIN_ID,
        overrides={"talker": {"greeting": {"text": "yo"}}},
    ) as graph:
        assert graph.nodes["talker"].get_parameter("greeting.text").value == "yo"
        assert graph.nodes["talker"].get_parameter("period_s").value == 0.02
    assert not graph.context.ok()


def test_add_node_spins_a_probe_until_stop(chat_params: Path) -> None:
    from rclpy.node import Node
    from std_msgs.msg import String

    with start_graph(chat_params, registry=FAKES, nodes=["talker"], domain_id=DOMAIN_ID) as graph:
        topic = graph.nodes["talker"].get_parameter("topic").value
        probe = Node("probe", context=graph.context)
        got: list[str] = []
        probe.create_subscription(String, topic, lambda m: got.append(m.data), 10)
        assert graph.add_node(probe) is probe and graph.nodes["probe"] is probe
        assert wait_until(lambda: len(got) >= 3)
        with pytest.raises(BringupError, match="already"):
            graph.add_node(probe)
    assert not graph.running and not graph.context.ok()


def test_run_graph_until_stop_event_or_duration(chat_params: Path) -> None:
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    t0 = time.monotonic()
    assert (
        run_graph(
            chat_params,
            registry=FAKES,
            nodes=["talker", "listener"],
            domain_id=DOMAIN_ID,
            stop_event=stop,
        )
        == 0
    )
    assert (
        run_graph(chat_params, registry=FAKES, nodes=["talker"], domain_id=DOMAIN_ID, duration=0.3)
        == 0
    )
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("executor", ["per_node", "events", "multi"])
def test_in_process_crash_stops_graph_with_error(tmp_path: Path, executor: str) -> None:
    params = write(
        tmp_path / "crash.yaml",
        """\
        crasher:
          ros__parameters:
            crash_after_s: 0.1
        """,
    )
    t0 = time.monotonic()
    assert (
        run_graph(params, registry=FAKES, domain_id=DOMAIN_ID, duration=20.0, executor=executor)
        == 1
    )
    assert time.monotonic() - t0 < 15.0  # stopped at the crash, not at the end of `duration`


def test_failing_constructor_cleans_up(chat_params: Path) -> None:
    registry = {**FAKES, "talker": "fake_nodes.talker", "listener": "fake_nodes.stubborn"}
    graph = GraphHandle(
        chat_params, registry=registry, nodes=["talker", "listener"], domain_id=DOMAIN_ID
    )
    with pytest.raises(BringupError, match="listener: RuntimeError"):
        graph.start()
    assert graph.nodes["talker"].closed == 1
    assert not graph.context.ok()


def test_missing_module_is_a_bringup_error(chat_params: Path) -> None:
    with pytest.raises(BringupError, match="cannot import no_such_module"):
        start_graph(
            chat_params, registry={"talker": "no_such_module", "listener": "x"}, domain_id=DOMAIN_ID
        )


# --- `ifagent up` as a command --------------------------------------------------------------


def test_cli_lists_subcommands_and_rejects_unknown(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    assert "up" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        cli.main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_up_reports_bad_params_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = write(tmp_path / "bad.yaml", "mystery_node:\n  ros__parameters: {a: 1}\n")
    assert cli.main(["up", str(bad), "--domain-id", str(DOMAIN_ID)]) == 2
    err = capsys.readouterr().err
    assert "mystery_node" in err and "sim_node" in err and "Traceback" not in err


def up_command(params: Path, *extra: str) -> list[str]:
    node_modules = [
        arg for name, module in FAKES.items() for arg in ("--node-module", f"{name}={module}")
    ]
    return [
        sys.executable,
        "-m",
        "ifagent_ros.cli",
        "up",
        str(params),
        "--domain-id",
        str(DOMAIN_ID),
        *node_modules,
        *extra,
    ]


def spawn(cmd: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(TEST_DIR)])}
    env.pop("ROS_DOMAIN_ID", None)  # the command must pass --domain-id on by itself
    return subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(proc: subprocess.Popen, timeout: float = 60.0) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"`ifagent up` did not finish:\n{out}")
    return proc.returncode, out


def gone(pids: list[int]) -> bool:
    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    return not any(alive(p) for p in pids)


def test_up_in_process_sigint_exits_cleanly(chat_params: Path, tmp_path: Path) -> None:
    proc = spawn(up_command(chat_params, "--nodes", "talker,listener"))
    assert wait_until(lambda: (tmp_path / "listener.json.first").exists(), timeout=30), finish(
        proc, 5
    )
    proc.send_signal(signal.SIGINT)
    rc, out = finish(proc)
    assert rc == 0, out
    assert "Traceback" not in out, out
    assert json.loads((tmp_path / "listener.json").read_text())["received"]


def test_up_processes_sigint_stops_every_child(chat_params: Path, tmp_path: Path) -> None:
    proc = spawn(up_command(chat_params, "--processes", "--nodes", "talker,listener"))
    assert wait_until(lambda: (tmp_path / "listener.json.first").exists(), timeout=30), finish(
        proc, 5
    )
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) == 2
    assert all(c.environ().get("ROS_DOMAIN_ID") == str(DOMAIN_ID) for c in children)
    # Each child leads its own process group, so a terminal's Ctrl-C reaches only `ifagent up`.
    assert all(os.getpgid(c.pid) == c.pid for c in children)
    proc.send_signal(signal.SIGINT)
    rc, out = finish(proc)
    assert rc == 0, out
    assert "Traceback" not in out, out
    assert gone([c.pid for c in children])
    result = json.loads((tmp_path / "listener.json").read_text())
    assert result["received"] and result["pid"] in [c.pid for c in children]


def test_up_processes_child_crash_gives_nonzero_exit(tmp_path: Path) -> None:
    params = write(
        tmp_path / "crash.yaml",
        f"""\
        talker:
          ros__parameters:
            topic: chat_{uuid.uuid4().hex[:8]}
        crasher:
          ros__parameters:
            crash_after_s: 0.5
        """,
    )
    proc = spawn(up_command(params, "--processes", "--duration", "60"))
    assert wait_until(lambda: len(psutil.Process(proc.pid).children()) == 2, timeout=10)
    children = psutil.Process(proc.pid).children(recursive=True)
    rc, out = finish(proc)
    assert rc != 0, out
    assert "crasher exited with code" in out
    assert gone([c.pid for c in children])


def test_up_processes_escalates_to_sigkill(tmp_path: Path) -> None:
    params = write(tmp_path / "stubborn.yaml", "stubborn:\n  ros__parameters: {}\n")
    proc = spawn(up_command(params, "--processes", "--grace", "0.3"))
    assert wait_until(lambda: len(psutil.Process(proc.pid).children()) == 1, timeout=10)
    children = psutil.Process(proc.pid).children(recursive=True)
    time.sleep(0.5)  # let the child install its signal handlers
    proc.send_signal(signal.SIGINT)
    rc, out = finish(proc)
    assert rc == 1, out
    assert "killing stubborn" in out
    assert gone([c.pid for c in children])


# --- the real nodes ---------------------------------------------------------------------------


def _missing_node_modules(names: list[str]) -> list[str]:
    import importlib.util

    return [n for n in names if importlib.util.find_spec(NODE_REGISTRY[n]) is None]


@pytest.mark.parametrize("node_name", sorted(NODE_REGISTRY))
def test_node_modules_run_main_when_executed(node_name: str) -> None:
    """`python -m ifagent_ros.nodes.<x>` (what --processes runs) must call main()."""
    import ast

    path = REPO / (NODE_REGISTRY[node_name].replace(".", "/") + ".py")
    if not path.exists():
        pytest.skip(f"{path.name} does not exist yet")
    tree = ast.parse(path.read_text())
    guards = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert guards and "main(" in ast.unparse(guards[0]), (
        f'{path.name}: add `if __name__ == "__main__":\\n    main()` at the end'
    )
    assert "NODE_CLASS" in {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }


SIM_GRAPH = ["sim_node", "executor_node", "teleop_node", "scripted_gamepad_node"]
# What a node's Ctrl-C race looks like: rclpy's SIGINT handler leaves a KeyboardInterrupt pending,
# which can surface inside take_message() (a RuntimeError the contract's main() does not catch)
# or inside rclpy's Task.__init__ (a noisy "Exception ignored in Task.__del__" at exit).
@pytest.mark.parametrize("mode", ["in_process", "processes"])
def test_up_sim_yaml_with_the_real_nodes(mode: str, tmp_path: Path) -> None:
    missing = _missing_node_modules(SIM_GRAPH)
    if missing:
        pytest.skip(f"node modules missing: {missing}")
    extra = ["--processes"] if mode == "processes" else []
    cmd = [
        sys.executable,
        "-m",
        "ifagent_ros.cli",
        "up",
        str(REPO / "config" / "sim.yaml"),
        "--domain-id",
        str(DOMAIN_ID),
        "--nodes",
        ",".join(SIM_GRAPH),
        "--duration",
        "6",
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = result.stdout + result.stderr
    pids = [int(p) for p in re.findall(r"started \w+ \(pid (\d+)\)", out)]
    assert gone(pids)
    assert result.returncode == 0, out
    assert "Traceback" not in out, out
    assert "never retrieved" not in out and "never awaited" not in out, out
    for name in SIM_GRAPH:
        assert f"started {name}" in out


def test_params_path_found_from_any_working_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ifagent_ros.cli.up import resolve_params_path

    monkeypatch.chdir(tmp_path)
    assert resolve_params_path("config/sim.yaml") == REPO / "config" / "sim.yaml"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "sim.yaml").write_text("x")
    assert resolve_params_path("config/sim.yaml") == Path("config/sim.yaml")  # cwd wins
    assert resolve_params_path("nope.yaml") == Path("nope.yaml")


@pytest.mark.parametrize("verb", [v for v in cli.verbs.VERBS if isinstance(v, cli.verbs.Verb)],
                         ids=lambda v: v.name)
def test_every_subcommand_module_has_the_interface(verb: cli.verbs.Verb) -> None:
    import importlib

    module = importlib.import_module(verb.module)
    assert callable(module.add_arguments) and callable(module.run)
    parser = cli.command.build_parser([verb.name])
    assert verb.name in parser.format_help()
