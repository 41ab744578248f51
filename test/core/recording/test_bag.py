"""BagWriter / BagReader round trips with CDR bytes produced by rclpy's own serializer."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import yaml
from builtin_interfaces.msg import Time
from geometry_msgs.msg import TwistStamped
from rclpy.serialization import serialize_message
from rosbags.typesys import get_types_from_msg
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Bool, String

from ifagent_ros.core.recording import (
    BagError,
    BagReader,
    BagWriter,
    UnknownMessageTypeError,
    bag_summary,
    jazzy_typestore,
    make_qos,
    read_messages,
)


def _joint_state(i: int) -> JointState:
    msg = JointState()
    msg.header.stamp = Time(sec=10 + i, nanosec=500)
    msg.header.frame_id = "base_link"
    msg.name = [f"panda_joint{j}" for j in range(1, 8)]
    msg.position = [0.1 * j + i for j in range(7)]
    msg.velocity = [0.01 * j for j in range(7)]
    msg.effort = []
    return msg


def _twist() -> TwistStamped:
    msg = TwistStamped()
    msg.header.frame_id = "base_link"
    msg.twist.linear.x = 0.05
    msg.twist.angular.z = -0.2
    return msg


def _image() -> Image:
    msg = Image()
    msg.header.frame_id = "camera_color_optical_frame"
    msg.height, msg.width, msg.encoding, msg.step = 4, 6, "rgb8", 18
    msg.data = bytes(range(72))
    return msg


def _write_sample(path: Path) -> None:
    with BagWriter(path) as bag:
        assert bag.add_topic(
            "/ifagent/estop", "std_msgs/msg/Bool", [make_qos(transient_local=True, depth=1)]
        )
        for i in range(3):
            bag.write(
                "/joint_states",
                "sensor_msgs/msg/JointState",
                serialize_message(_joint_state(i)),
                1000 + i,
            )
        bag.write(
            "/ifagent/ee_twist_cmd",
            "geometry_msgs/msg/TwistStamped",
            serialize_message(_twist()),
            1500,
        )
        bag.write(
            "/ifagent/executor/status",
            "std_msgs/msg/String",
            serialize_message(String(data='{"ok": 1}')),
            1600,
        )
        bag.write(
            "/camera/color/image_raw", "sensor_msgs/msg/Image", serialize_message(_image()), 1700
        )
        bag.write("/ifagent/estop", "std_msgs/msg/Bool", serialize_message(Bool(data=True)), 1800)


def test_round_trip_field_values(tmp_path: Path) -> None:
    # rclpy's serialize_message pads some messages past their CDR end (rmw_fastrtps sizes the
    # buffer by estimate); the reader must tolerate that, as Fast CDR does.
    path = tmp_path / "bag"
    _write_sample(path)

    got = list(read_messages(path))
    assert [t for _, _, t, _ in got] == [1000, 1001, 1002, 1500, 1600, 1700, 1800]
    by_topic: dict[str, list[object]] = {}
    for topic, _msgtype, _t, msg in got:
        by_topic.setdefault(topic, []).append(msg)

    js = by_topic["/joint_states"]
    assert len(js) == 3
    assert list(js[2].name) == [f"panda_joint{j}" for j in range(1, 8)]
    np.testing.assert_allclose(js[2].position, [0.1 * j + 2 for j in range(7)])
    assert js[1].header.stamp.sec == 11 and js[1].header.stamp.nanosec == 500
    assert len(js[0].effort) == 0

    (twist,) = by_topic["/ifagent/ee_twist_cmd"]
    assert twist.header.frame_id == "base_link"
    assert twist.twist.linear.x == pytest.approx(0.05) and twist.twist.angular.z == pytest.approx(
        -0.2
    )

    (status,) = by_topic["/ifagent/executor/status"]
    assert status.data == '{"ok": 1}'

    (img,) = by_topic["/camera/color/image_raw"]
    assert (img.height, img.width, img.encoding, img.step) == (4, 6, "rgb8", 18)
    assert bytes(img.data) == bytes(range(72))

    (estop,) = by_topic["/ifagent/estop"]
    assert estop.data is True


def test_topic_filter_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "bag"
    _write_sample(path)
    only = list(read_messages(path, topics=["/ifagent/estop", "/joint_states"]))
    assert {topic for topic, *_ in only} == {"/ifagent/estop", "/joint_states"}
    assert len(only) == 4

    summary = bag_summary(path)
    assert summary["/joint_states"] == {"type": "sensor_msgs/msg/JointState", "count": 3}
    assert summary["/ifagent/estop"] == {"type": "std_msgs/msg/Bool", "count": 1}
    assert len(summary) == 5


def test_metadata_is_jazzy_mcap_with_qos(tmp_path: Path) -> None:
    path = tmp_path / "bag"
    _write_sample(path)
    meta = yaml.safe_load((path / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["storage_identifier"] == "mcap"
    assert meta["version"] == 9  # what Jazzy's rosbag2 writes
    assert meta["message_count"] == 7
    (mcap,) = meta["relative_file_paths"]
    assert mcap.endswith(".mcap") and (path / mcap).is_file()
    assert (path / mcap).read_bytes()[:8] == b"\x89MCAP0\r\n"  # MCAP magic
    topics = {
        t["topic_metadata"]["name"]: t["topic_metadata"] for t in meta["topics_with_message_count"]
    }
    assert all(t["serialization_format"] == "cdr" for t in topics.values())
    assert all(t["type_description_hash"].startswith("RIHS01_") for t in topics.values())
    # Version 9 stores offered QoS as a YAML list with enum names; play re-latches transient_local.
    (estop_qos,) = topics["/ifagent/estop"]["offered_qos_profiles"]
    assert (estop_qos["durability"], estop_qos["reliability"], estop_qos["depth"]) == (
        "transient_local",
        "reliable",
        1,
    )
    assert topics["/joint_states"]["offered_qos_profiles"] == []


def test_existing_output_dir_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bag"
    path.mkdir()
    with pytest.raises(BagError, match="exists already"):
        BagWriter(path)


def test_unknown_type_raises_or_skips(tmp_path: Path) -> None:
    with (
        BagWriter(tmp_path / "a") as bag,
        pytest.raises(UnknownMessageTypeError, match="my_msgs/msg/Foo"),
    ):
        bag.write("/foo", "my_msgs/msg/Foo", b"\x00\x01\x00\x00", 1)

    with BagWriter(tmp_path / "b", on_unknown="skip") as bag:
        assert not bag.write("/foo", "my_msgs/msg/Foo", b"\x00\x01\x00\x00", 1)
        assert bag.write("/s", "std_msgs/msg/String", serialize_message(String(data="x")), 2)
    assert bag_summary(tmp_path / "b") == {"/s": {"type": "std_msgs/msg/String", "count": 1}}


def test_close_idempotent_and_write_after_close_errors(tmp_path: Path) -> None:
    bag = BagWriter(tmp_path / "bag")
    bag.write("/s", "std_msgs/msg/String", serialize_message(String(data="x")), 5)
    bag.close()
    bag.close()
    assert bag.closed
    with pytest.raises(BagError, match="closed"):
        bag.write("/s", "std_msgs/msg/String", serialize_message(String(data="y")), 6)
    assert bag_summary(tmp_path / "bag")["/s"]["count"] == 1


def test_concurrent_writes(tmp_path: Path) -> None:
    path = tmp_path / "bag"
    n_threads, per_thread = 4, 50

    with BagWriter(path) as bag:

        def work(k: int) -> None:
            for i in range(per_thread):
                data = serialize_message(String(data=f"{k}:{i}"))
                bag.write(f"/t{k % 2}", "std_msgs/msg/String", data, k * 1000 + i)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(bag.counts().values()) == n_threads * per_thread

    texts = sorted(msg.data for _, _, _, msg in read_messages(path))
    assert texts == sorted(f"{k}:{i}" for k in range(n_threads) for i in range(per_thread))


def test_reader_needs_a_bag(tmp_path: Path) -> None:
    with pytest.raises(BagError, match=r"no metadata\.yaml"):
        BagReader(tmp_path)



def test_reader_uses_embedded_definitions_of_unknown_types(tmp_path: Path) -> None:
    # Robot bags may carry types Jazzy's typestore lacks (e.g. franka_msgs); the bag embeds them.
    store = jazzy_typestore()
    store.register(
        get_types_from_msg("float64 x\nstd_msgs/Header header\nstring label", "my_msgs/msg/Foo")
    )
    foo = store.types["my_msgs/msg/Foo"]
    header = store.types["std_msgs/msg/Header"](
        stamp=store.types["builtin_interfaces/msg/Time"](1, 2), frame_id="f"
    )
    path = tmp_path / "bag"
    with BagWriter(path, typestore=store) as bag:
        bag.write(
            "/foo",
            "my_msgs/msg/Foo",
            store.serialize_cdr(foo(1.5, header, "cup"), "my_msgs/msg/Foo"),
            7,
        )

    ((topic, msgtype, stamp, msg),) = list(read_messages(path))
    assert (topic, msgtype, stamp) == ("/foo", "my_msgs/msg/Foo", 7)
    assert (msg.x, msg.label, msg.header.frame_id, msg.header.stamp.nanosec) == (1.5, "cup", "f", 2)
