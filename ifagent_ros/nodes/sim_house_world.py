"""The house sim's ground-truth object list: the landmarks in sight as ``PerceivedObject``s.

``house_sim_node`` publishes it on ``/ifagent/objects`` (it stands in for a detector in the
house); the VLN tests build the same list to check the supervisor against what the node shows.
ROS-free.
"""

from __future__ import annotations

import math
from typing import Any

from ifagent_ros.core.schemas import PerceivedObject

# House.seen_objects rates a door's closeness as width * 2 / (d^2 * 2.6) and a room seen through
# it at half that. The supervisor's apparent-size model (nav_supervisor.apparent_closeness) is
# max(w, d) * h / (d^2 * view area); these heights make the two agree, so the ROS pipeline sees
# exactly what the graph environment (sim/house_env.py) shows the planner.
DOOR_APPARENT_HEIGHT = 2.0 * (2.0 * math.tan(math.radians(30.0))) * (
    2.0 * math.tan(math.radians(22.5))) / 2.6


def house_object_list(house: Any, x: float, y: float, yaw: float,
                      max_range: float = 5.0) -> list[PerceivedObject]:
    """The landmarks in sight from (x, y) (:meth:`House.seen_objects`) as base_link objects.

    Furniture at its position with its size; a door at its opening; a room seen through an open
    door at that door, id ``room/<room>@<door>`` (a room can show through several doors).
    """
    c, s = math.cos(yaw), math.sin(yaw)
    seen_all = house.seen_objects((x, y), max_range)
    door_heading = {v.object_id[5:]: v.heading for v in seen_all if v.object_id.startswith("door/")}
    out, used = [], set()
    for seen in seen_all:
        kind, _, key = seen.object_id.partition("/")
        oid = seen.object_id
        if oid in house.objects:
            o = house.objects[oid]
            wx, wy, size, color = o.position[0], o.position[1], o.size, o.color.name
        elif kind == "door" and key in house.openings:
            op = house.openings[key]
            (wx, wy), color = op.center, "brown"
            size = (op.door.width, house.spec.wall_thickness, DOOR_APPARENT_HEIGHT)
        elif kind == "room" and key in house.rooms:
            # The door it shows through: the visible open door of this room at the same heading.
            doors = [d for d, h in door_heading.items() if key in house.openings[d].door.between
                     and house.openings[d].door.open and abs(h - seen.heading) < 1e-9
                     and f"room/{key}@{d}" not in used]
            if not doors:
                continue
            op = house.openings[doors[0]]
            (wx, wy), color, oid = op.center, "gray", f"room/{key}@{doors[0]}"
            used.add(oid)
            size = (op.door.width, 0.1, DOOR_APPARENT_HEIGHT / 2.0)
        else:
            continue
        dx, dy = wx - x, wy - y
        out.append(PerceivedObject(
            id=oid, label=seen.name, color=color,
            position=(c * dx + s * dy, -s * dx + c * dy, float(size[2]) / 2.0),
            size=tuple(float(v) for v in size), confidence=1.0))  # type: ignore[arg-type]
    return out
