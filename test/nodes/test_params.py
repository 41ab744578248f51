"""declare_config: one ROS parameter per config dataclass field, one clear error per bad value."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter

from ifagent_ros.nodes.params import ParameterError, declare_config, parameter_table


@dataclass(frozen=True)
class Camera:
    width: int = 640
    fov_deg: float = 45.0
    eye: tuple[float, float, float] = (1.2, 0.0, 0.75)
    frame_id: str = "camera"

    def __post_init__(self) -> None:
        if self.width <= 0:
            raise ValueError(f"width must be > 0, got {self.width}")


@dataclass
class Sim:
    scene: str = "tabletop.yaml"
    rate_hz: float = 240.0
    realtime: bool = True
    mode: Literal["position", "velocity"] = "position"
    joints: list[str] = field(default_factory=lambda: ["j1", "j2"])
    home: tuple[float, ...] = (0.0, -0.5)
    seed: int | None = None
    path: Path = Path("/tmp")
    camera: Camera = field(default_factory=Camera)

    def validate(self) -> None:
        if self.rate_hz > 1000.0:
            raise ValueError("the physics rate is too high for this machine")


@dataclass(frozen=True)
class Pair:
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low must not exceed high" if self.low <= 1.0
                             else "parameter low must not exceed high")


@dataclass
class Device:
    device: str | int = ""
    level: float | None = 0.5


@dataclass
class Opaque:
    gain: float = 1.0
    callback: Any = None


@pytest.fixture
def make(ros_context: Context) -> Iterator[Any]:
    nodes: list[Node] = []

    def _make(**params: Any) -> Node:
        node = Node("params_test", context=ros_context,
                    parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        nodes.append(node)
        return node

    yield _make
    for node in nodes:
        node.destroy_node()


def test_defaults_declare_one_parameter_per_field(make: Any) -> None:
    node = make()
    cfg = declare_config(node, Sim)
    assert cfg == Sim()
    assert isinstance(cfg.home, tuple) and isinstance(cfg.joints, list)
    assert isinstance(cfg.camera.eye, tuple) and isinstance(cfg.path, Path)
    names = {"scene", "rate_hz", "realtime", "mode", "joints", "home", "seed", "path",
             "camera.width", "camera.fov_deg", "camera.eye", "camera.frame_id"}
    assert all(node.has_parameter(n) for n in names)
    assert node.get_parameter("camera.eye").value == [1.2, 0.0, 0.75]
    assert parameter_table(Sim) == {
        "scene": "tabletop.yaml", "rate_hz": 240.0, "realtime": True, "mode": "position",
        "joints": ["j1", "j2"], "home": [0.0, -0.5], "seed": None, "path": "/tmp",
        "camera.width": 640, "camera.fov_deg": 45.0, "camera.eye": [1.2, 0.0, 0.75],
        "camera.frame_id": "camera"}


def test_values_come_from_the_parameters(make: Any) -> None:
    node = make(**{"rate_hz": 100, "seed": 7, "home": [1, 2, 3], "mode": "velocity",
                   "camera.eye": [1, 2, 3], "camera.width": 32, "joints": ["a"]})
    cfg = declare_config(node, Sim)
    assert cfg.rate_hz == 100.0 and isinstance(cfg.rate_hz, float)  # an int is a fine float
    assert cfg.seed == 7 and cfg.mode == "velocity" and cfg.joints == ["a"]
    assert cfg.home == (1.0, 2.0, 3.0) and all(isinstance(v, float) for v in cfg.home)
    assert cfg.camera == Camera(width=32, eye=(1.0, 2.0, 3.0))


def test_instance_prefix_overrides_fixed_and_names(make: Any) -> None:
    node = make(**{"sim.scene": "other.yaml", "cam_width": 64})
    cfg = declare_config(node, Sim(rate_hz=50.0), prefix="sim", overrides={"camera.fov_deg": 30.0},
                         fixed={"path": Path("/data"), "camera.frame_id": "fixed"},
                         names={"camera.width": "cam_width"})
    assert cfg.scene == "other.yaml" and cfg.rate_hz == 50.0  # the instance's default
    assert cfg.camera.fov_deg == 30.0 and cfg.camera.width == 64
    assert cfg.path == Path("/data") and cfg.camera.frame_id == "fixed"
    assert node.get_parameter("sim.camera.fov_deg").value == 30.0
    assert not node.has_parameter("sim.path") and not node.has_parameter("sim.camera.frame_id")
    assert not node.has_parameter("sim.camera.width") and node.has_parameter("cam_width")
    with pytest.raises(KeyError, match="camera.nope"):
        parameter_table(Sim, overrides={"camera.nope": 1})
    assert parameter_table(Sim, overrides={"camera": Camera(width=8)})["camera.width"] == 8


@pytest.mark.parametrize(("params", "parameter", "says"), [
    ({"rate_hz": "fast"}, "rate_hz", "must be a number, got 'fast' (str)"),
    ({"realtime": 1}, "realtime", "must be true or false"),
    ({"camera.width": 1.5}, "camera.width", "must be an integer"),
    ({"scene": 3}, "scene", "must be a string"),
    ({"mode": "torque"}, "mode", "must be one of ['position', 'velocity']"),
    ({"camera.eye": [1.0, 2.0]}, "camera.eye", "needs 3 values, got 2"),
    ({"home": ["a", "b"]}, "home", "must be a number, got 'a' (str) (item 0"),
    ({"joints": "j1"}, "joints", "must be a list"),
])
def test_a_wrong_type_names_the_parameter(make: Any, params: dict[str, Any], parameter: str,
                                          says: str) -> None:
    with pytest.raises(ParameterError) as info:
        declare_config(make(**params), Sim)
    assert info.value.parameter == parameter
    assert str(info.value).startswith(f"params_test: parameter {parameter} ")
    assert says in str(info.value)


def test_the_configs_own_validation_names_the_parameter(make: Any) -> None:
    with pytest.raises(ParameterError) as info:  # __post_init__ of a nested config
        declare_config(make(**{"camera.width": -1, "camera.fov_deg": 60.0}), Sim)
    assert info.value.parameter == "camera.width"
    assert "parameter camera.width: width must be > 0, got -1" in str(info.value)
    with pytest.raises(ParameterError, match="parameter rate_hz: the physics rate"):
        declare_config(make(rate_hz=5000.0, scene="x.yaml"), Sim)  # validate()
    with pytest.raises(ParameterError) as info:  # a message that names it is not repeated
        declare_config(make(low=2.0), Pair)
    assert str(info.value) == "params_test: parameter low must not exceed high"
    # two values that are each fine but not together: both are named
    with pytest.raises(ParameterError, match="parameters low, high: low must not exceed"):
        declare_config(make(low=0.8, high=0.5), Pair)


def test_optional_parameters_stay_unset_until_given(make: Any) -> None:
    node = make()
    assert declare_config(node, Sim).seed is None
    assert node.get_parameter("seed").type_ == Parameter.Type.NOT_SET
    with pytest.raises(ParameterError, match="parameter seed must be an integer"):
        declare_config(make(seed="x"), Sim)


def test_fields_that_cannot_be_parameters_must_be_fixed(make: Any) -> None:
    with pytest.raises(TypeError, match="Opaque.callback.*pass it in `fixed`"):
        declare_config(make(), Opaque)
    cfg = declare_config(make(gain=2), Opaque, fixed={"callback": print})
    assert cfg == Opaque(gain=2.0, callback=print)
    assert declare_config(make(), Opaque, fixed=["callback"]) == Opaque()  # kept at its default
    assert declare_config(make(), Sim, fixed=["camera.eye"]).camera.eye == Camera().eye
    with pytest.raises(KeyError, match="camera.nope"):
        declare_config(make(), Sim, fixed=["camera.nope"])
    with pytest.raises(TypeError, match="needs a dataclass"):
        declare_config(make(), dict)


def test_a_renamed_parameter_is_refused_with_its_new_name(make: Any) -> None:
    renamed = {"physics_hz": "rate_hz"}
    node = make()
    assert declare_config(node, Sim, renamed=renamed) == Sim()
    assert node.has_parameter("physics_hz")  # declared, unset
    with pytest.raises(ParameterError, match="parameter physics_hz is now rate_hz") as info:
        declare_config(make(physics_hz=100.0), Sim, renamed=renamed)
    assert info.value.parameter == "physics_hz"
    with pytest.raises(KeyError, match="names no parameter"):
        declare_config(make(), Sim, renamed={"old": "nope"})


def test_a_union_of_scalars_takes_any_of_them(make: Any) -> None:
    assert declare_config(make(device=3), Device) == Device(device=3)
    assert declare_config(make(device="usb"), Device) == Device(device="usb")
    assert declare_config(make(level=1), Device).level == 1.0
    with pytest.raises(ParameterError, match="parameter device must be str or int, got 2.5"):
        declare_config(make(device=2.5), Device)
