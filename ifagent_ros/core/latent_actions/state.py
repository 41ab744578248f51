"""The state vector every latent-action model sees, and the scaling of its actions.

State (``STATE_DIM`` = 35 with the default six objects), all in ``base_link``:

====================  ====  ==========================================================
joint positions q       7   rad, ``panda_joint1..7`` order
end-effector position   3   m (``panda_grasptarget``)
end-effector rotation   6   first two columns of the rotation matrix (continuous 6-D)
gripper opening         1   width / 0.08 (1 = fully open)
object offsets        3*K   object centre - end-effector position, for each id in
                            ``object_ids`` order (K = 6 by default)
====================  ====  ==========================================================

Actions are 6-D end-effector twists ``[vx, vy, vz, wx, wy, wz]`` divided by
``ActionScale`` (linear 0.15 m/s, angular 0.6 rad/s per unit), so demonstrations live in
[-1, 1]^6. LILAC's output ``z1*B1 + z2*B2`` (orthonormal B, |z_i| <= 1) has norm <= sqrt(2),
so the twist it asks for is at most sqrt(2) * scale; the executor's limits clip the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# The objects of scenes/tabletop_default.yaml, in file order.
DEFAULT_OBJECT_IDS: tuple[str, ...] = (
    "red_block", "green_block", "blue_block", "yellow_bowl", "white_plate", "orange_mug",
)
MAX_GRIPPER_WIDTH = 0.08
ROBOT_STATE_DIM = 7 + 3 + 6 + 1


def state_dim(object_ids: Sequence[str] = DEFAULT_OBJECT_IDS) -> int:
    return ROBOT_STATE_DIM + 3 * len(object_ids)


STATE_DIM = state_dim()


@dataclass(frozen=True)
class JointNames:
    """Which ``/joint_states`` names are the arm's joints (``panda_joint1..7`` order) and the
    gripper's fingers (the opening is the sum of their positions)."""

    arm: tuple[str, ...] = tuple(f"panda_joint{i}" for i in range(1, 8))
    gripper: tuple[str, ...] = ("panda_finger_joint1", "panda_finger_joint2")

    def read(self, names: Sequence[str], positions: Sequence[float]
             ) -> tuple[np.ndarray | None, float | None]:
        """(arm positions, gripper opening) from one message. The arm: None when the message
        names none of its joints (another publisher's joints), empty when only some are there;
        the opening: None unless every finger is there."""
        index = {n: i for i, n in enumerate(names)}
        pos = list(positions)
        arm = [index.get(n) for n in self.arm]
        if all(i is None for i in arm):
            q = None
        elif any(i is None or i >= len(pos) for i in arm):
            q = np.zeros(0)
        else:
            q = np.array([float(pos[i]) for i in arm])  # type: ignore[index]
        fingers = [index.get(n) for n in self.gripper]
        width = (sum(float(pos[i]) for i in fingers)  # type: ignore[index]
                 if fingers and all(i is not None and i < len(pos) for i in fingers) else None)
        return q, width


class StateError(ValueError):
    """The observation cannot be turned into a state vector (missing object, NaN, bad size)."""


@dataclass(frozen=True)
class ActionScale:
    linear: float = 0.15  # m/s per unit of normalized action
    angular: float = 0.6  # rad/s per unit

    def to_twist(self, action: np.ndarray) -> np.ndarray:
        a = np.asarray(action, dtype=float)
        if a.shape != (6,):
            raise ValueError(f"expected a 6-D action, got shape {a.shape}")
        return np.concatenate([a[:3] * self.linear, a[3:] * self.angular])

    def from_twist(self, twist: np.ndarray) -> np.ndarray:
        t = np.asarray(twist, dtype=float)
        if t.shape != (6,):
            raise ValueError(f"expected a 6-D twist, got shape {t.shape}")
        return np.concatenate([t[:3] / self.linear, t[3:] / self.angular])


def build_state(
    q: Sequence[float] | np.ndarray,
    ee_position: Sequence[float] | np.ndarray,
    ee_rotation: np.ndarray,
    gripper_width: float,
    objects: Mapping[str, Sequence[float]],
    object_ids: Sequence[str] = DEFAULT_OBJECT_IDS,
) -> np.ndarray:
    """The model's state vector (float32). ``objects`` maps id -> centre [x, y, z] in base_link.

    Raises :class:`StateError` naming what is wrong: a missing object id, a non-finite value, a
    wrong size. Callers decide what a missing object means (the controller degrades to teleop).
    """
    qv = np.asarray(q, dtype=float).reshape(-1)
    if qv.shape != (7,):
        raise StateError(f"expected 7 joint positions, got {qv.size}")
    p = np.asarray(ee_position, dtype=float).reshape(-1)
    if p.shape != (3,):
        raise StateError(f"expected a 3-D end-effector position, got {p.size} values")
    r = np.asarray(ee_rotation, dtype=float)
    if r.shape != (3, 3):
        raise StateError(f"expected a 3x3 end-effector rotation, got shape {r.shape}")
    missing = [oid for oid in object_ids if oid not in objects]
    if missing:
        raise StateError(f"objects missing from the observation: {', '.join(missing)}")
    offsets = []
    for oid in object_ids:
        o = np.asarray(objects[oid], dtype=float).reshape(-1)
        if o.shape != (3,):
            raise StateError(f"object {oid}: expected a 3-D position, got {o.size} values")
        offsets.append(o - p)
    state = np.concatenate(
        [qv, p, r[:, 0], r[:, 1], [float(gripper_width) / MAX_GRIPPER_WIDTH], *offsets]
    )
    if not np.all(np.isfinite(state)):
        raise StateError("observation contains NaN or inf")
    return state.astype(np.float32)
