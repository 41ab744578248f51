"""Message <-> numpy conversions for perception_node (no cv_bridge / sensor_msgs_py here).

Images: colour ``rgb8``, ``bgr8``, ``rgba8``, ``bgra8`` -> H x W x 3 RGB uint8; depth ``32FC1``
(metres) or ``16UC1`` (millimetres, 0 = no return) -> H x W float32 metres with NaN for no return.
Errors are ``ValueError`` with the reason (wrong step, size, encoding).
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Duration, Time
from geometry_msgs.msg import Point, Pose, Quaternion, Vector3
from sensor_msgs.msg import Image, PointCloud2, PointField
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from ifagent_ros.core.schemas import ObjectList

_COLOR_CHANNELS = {"rgb8": (3, (0, 1, 2)), "bgr8": (3, (2, 1, 0)), "rgba8": (4, (0, 1, 2)),
                   "bgra8": (4, (2, 1, 0))}

# Display colours for colour names (markers and nothing else).
DISPLAY_RGB: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.1, 0.1), "orange": (0.95, 0.5, 0.1), "yellow": (0.95, 0.8, 0.1),
    "green": (0.1, 0.7, 0.2), "cyan": (0.1, 0.75, 0.8), "blue": (0.1, 0.25, 0.85),
    "purple": (0.55, 0.2, 0.7), "pink": (0.95, 0.45, 0.65), "brown": (0.45, 0.28, 0.12),
    "white": (0.95, 0.95, 0.95), "gray": (0.5, 0.5, 0.5), "black": (0.08, 0.08, 0.08)}


def stamp_seconds(t: Time) -> float:
    return t.sec + t.nanosec * 1e-9


def seconds_to_time(s: float) -> Time:
    sec = int(np.floor(s))
    return Time(sec=sec, nanosec=min(int(round((s - sec) * 1e9)), 999_999_999))


def _rows(msg: Image, bytes_per_pixel: int) -> np.ndarray:
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h == 0 or w == 0:
        raise ValueError(f"empty image ({w}x{h})")
    if step < w * bytes_per_pixel:
        raise ValueError(f"step {step} is smaller than width {w} x {bytes_per_pixel} bytes")
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if data.size != h * step:
        raise ValueError(f"data holds {data.size} bytes, expected height {h} x step {step}")
    return data.reshape(h, step)[:, : w * bytes_per_pixel]


def image_to_rgb(msg: Image) -> np.ndarray:
    if msg.encoding not in _COLOR_CHANNELS:
        raise ValueError(f"colour encoding {msg.encoding!r} not supported; use one of "
                         f"{sorted(_COLOR_CHANNELS)}")
    channels, order = _COLOR_CHANNELS[msg.encoding]
    px = _rows(msg, channels).reshape(int(msg.height), int(msg.width), channels)
    return np.ascontiguousarray(px[:, :, list(order)])


def image_to_depth(msg: Image) -> np.ndarray:
    if msg.encoding == "32FC1":
        raw = _rows(msg, 4)
        dt = np.dtype(np.float32).newbyteorder(">" if msg.is_bigendian else "<")
        depth = raw.copy().view(dt).reshape(int(msg.height), int(msg.width)).astype(np.float32)
    elif msg.encoding == "16UC1":
        raw = _rows(msg, 2)
        dt = np.dtype(np.uint16).newbyteorder(">" if msg.is_bigendian else "<")
        mm = raw.copy().view(dt).reshape(int(msg.height), int(msg.width))
        depth = mm.astype(np.float32) / 1000.0
        depth[mm == 0] = np.nan
    else:
        raise ValueError(f"depth encoding {msg.encoding!r} not supported; use 32FC1 (metres) "
                         "or 16UC1 (millimetres)")
    return depth


def make_pointcloud2(header: Header, points: np.ndarray, colors: np.ndarray,
                     object_index: np.ndarray) -> PointCloud2:
    """x, y, z (float32), rgb (packed float32, as RViz reads it) and object (int32: index)."""
    n = len(points)
    dtype = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<u4"),
                      ("object", "<i4")])
    arr = np.zeros(n, dtype=dtype)
    if n:
        arr["x"], arr["y"], arr["z"] = points[:, 0], points[:, 1], points[:, 2]
        c = colors.astype(np.uint32)
        arr["rgb"] = (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]
        arr["object"] = object_index
    fields = [PointField(name="x", offset=0, datatype=PointField.FLOAT32, count=1),
              PointField(name="y", offset=4, datatype=PointField.FLOAT32, count=1),
              PointField(name="z", offset=8, datatype=PointField.FLOAT32, count=1),
              PointField(name="rgb", offset=12, datatype=PointField.FLOAT32, count=1),
              PointField(name="object", offset=16, datatype=PointField.INT32, count=1)]
    return PointCloud2(header=header, height=1, width=n, fields=fields,
                       is_bigendian=False, point_step=20,
                       row_step=20 * n, data=arr.tobytes(), is_dense=True)


def objects_to_markers(objects: ObjectList, header: Header, lifetime_s: float,
                       namespace: str = "ifagent_objects") -> MarkerArray:
    """A DELETEALL, then per object a box (its extent) and a text label above it."""
    out = MarkerArray()
    out.markers.append(Marker(header=header, ns=namespace, action=Marker.DELETEALL))
    life = Duration(sec=int(lifetime_s), nanosec=int((lifetime_s % 1.0) * 1e9))
    for i, o in enumerate(objects.objects):
        r, g, b = DISPLAY_RGB.get(o.color, (0.7, 0.7, 0.7))
        pos = Point(x=o.position[0], y=o.position[1], z=o.position[2])
        box = Marker(header=header, ns=namespace, id=2 * i, type=Marker.CUBE, action=Marker.ADD,
                     pose=Pose(position=pos, orientation=Quaternion(w=1.0)),
                     scale=Vector3(x=max(o.size[0], 1e-3), y=max(o.size[1], 1e-3),
                                   z=max(o.size[2], 1e-3)),
                     color=ColorRGBA(r=r, g=g, b=b, a=0.5), lifetime=life)
        text_pos = Point(x=o.position[0], y=o.position[1], z=o.position[2] + o.size[2] / 2 + 0.03)
        text = Marker(header=header, ns=namespace, id=2 * i + 1, type=Marker.TEXT_VIEW_FACING,
                      action=Marker.ADD, pose=Pose(position=text_pos,
                                                   orientation=Quaternion(w=1.0)),
                      scale=Vector3(z=0.03), color=ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0),
                      text=f"{o.id}: {o.color} {o.label}", lifetime=life)
        out.markers.extend([box, text])
    return out
