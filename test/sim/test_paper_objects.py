"""LILAC's five tasks in PyBullet (sim/paper_objects.py, sim/paper_env.py): the world matches the
sampled layout, hand-built success states succeed after the physics settles, the drawer opens
when pulled, a broken drawer URDF and an object leaving the table fail clearly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pybullet as p
import pytest

from ifagent_ros.core.latent_actions.paper_tasks import (
    BOOK_SIZE,
    CUP_HEIGHT,
    DRAWER_JOINT,
    DRAWER_OPEN_SUCCESS,
    PAPER_FAMILIES,
    PEN_CUP_WALL,
    PEN_LENGTH,
    PLANT_TOP,
    POUR_ANGLE,
    SHELF_BOARD,
    PaperTaskError,
    quat_from_euler,
    quat_to_matrix,
)
from ifagent_ros.sim.paper_env import PaperArmEnv
from ifagent_ros.sim.paper_objects import (
    DRAWER_URDF,
    DrawerJointError,
    load_drawer,
    set_drawer_opening,
    set_pose,
)


def shelf_point(env: PaperArmEnv, x: float, y: float, z: float) -> list[float]:
    pl = env.task.params["layout"]["shelf"]
    c, s = math.cos(pl["yaw"]), math.sin(pl["yaw"])
    return [pl["xy"][0] + c * x - s * y, pl["xy"][1] + s * x + c * y, z]


@pytest.mark.parametrize("name", list(PAPER_FAMILIES))
def test_the_world_is_the_sampled_layout_and_the_task_is_not_done_at_the_start(name: str) -> None:
    with PaperArmEnv(name) as env:
        for seed in (None, 11, 12):
            obs = env.reset(seed)
            lay, q0 = env.task.params["layout"], np.asarray(env.task.params["start_q"])
            assert np.allclose(obs.q, q0, atol=1e-6)
            assert set(obs.objects) == set(env.family.objects)
            env.step(np.zeros(6), duration=0.5)
            obs = env.observe()
            for oid, o in obs.objects.items():
                if oid != "drawer":  # the drawer reports its handle
                    assert np.linalg.norm(o.position[:2] - lay[oid]["xy"]) < 0.005, (seed, oid)
                assert abs(math.remainder(o.yaw - lay[oid]["yaw"], 2 * math.pi)) < 0.02 \
                    or oid in ("pen", "book"), (seed, oid)  # lying objects: yaw of body frame
            assert env.outcome().status == "running", seed


def settle(env: PaperArmEnv, seconds: float = 1.0) -> str:
    env.step(np.zeros(6), duration=seconds)
    return env.outcome().status


def test_trash_dropped_in_the_bin_succeeds() -> None:
    with PaperArmEnv("clean_trash") as env:
        env.reset(3)
        bin_xy = env.task.params["layout"]["trash_bin"]["xy"]
        set_pose(env.sim.client_id, env.bodies["trash"], [*bin_xy, 0.09])
        assert settle(env) == "success"
        assert env.observe().objects["trash"].position[2] < 0.05  # it fell to the bottom


def test_pen_stood_in_the_cup_succeeds_and_lying_beside_it_does_not() -> None:
    with PaperArmEnv("transfer_pen") as env:
        env.reset(4)
        cup = env.task.params["layout"]["pen_cup"]["xy"]
        set_pose(env.sim.client_id, env.bodies["pen"],
                 [cup[0], cup[1], PEN_CUP_WALL + PEN_LENGTH / 2 + 0.002])
        assert settle(env) == "success"
        set_pose(env.sim.client_id, env.bodies["pen"], [cup[0] - 0.1, cup[1], 0.01],
                 quat_from_euler(math.pi / 2, 0.0, 0.0))
        assert settle(env) == "running"


def test_book_stood_in_the_gap_succeeds_and_stays_upright() -> None:
    with PaperArmEnv("insert_book") as env:
        env.reset(6)
        yaw, gap = env.task.params["layout"]["shelf"]["yaw"], env.task.params["gap_y"]
        z = SHELF_BOARD + BOOK_SIZE[2] / 2 + 0.002
        set_pose(env.sim.client_id, env.bodies["book"], shelf_point(env, 0.0, gap, z),
                 quat_from_euler(0.0, 0.0, yaw + math.pi / 2))
        assert settle(env) == "success"
        r = quat_to_matrix(env.observe().objects["book"].orientation)
        assert r[2, 2] > 0.95  # the slot holds it upright


def test_cup_tilted_over_the_plant_pours() -> None:
    with PaperArmEnv("water_plant") as env:
        env.reset(7)
        plant = env.task.params["layout"]["plant"]["xy"]
        tilt = POUR_ANGLE + 0.2
        centre = [plant[0], plant[1] + math.sin(tilt) * CUP_HEIGHT / 2, PLANT_TOP + 0.1]
        set_pose(env.sim.client_id, env.bodies["watering_cup"], centre,
                 quat_from_euler(tilt, 0.0, 0.0))
        assert env.outcome().status == "success"  # judged on the pose now, mid-air
        set_pose(env.sim.client_id, env.bodies["watering_cup"], centre)  # upright
        assert env.outcome().status == "running"


def test_the_drawer_opens_when_pulled_and_success_flips_at_ten_centimetres() -> None:
    with PaperArmEnv("open_drawer") as env:
        env.reset(5)
        b = env.bodies["drawer"]
        c = env.sim.client_id
        start = env.observe().objects["drawer"].joint_position
        assert settle(env, 0.5) == "running"  # unpulled, it stays where it is
        assert abs(env.observe().objects["drawer"].joint_position - start) < 1e-3
        yaw = env.task.params["layout"]["drawer"]["yaw"]
        pull = [-8.0 * math.cos(yaw), -8.0 * math.sin(yaw), 0.0]  # out of the front, N
        seen = []
        for _ in range(400):
            handle = p.getLinkState(b.body, b.link, physicsClientId=c)[4]
            p.applyExternalForce(b.body, b.link, pull, handle, p.WORLD_FRAME,
                                 physicsClientId=c)
            p.stepSimulation(physicsClientId=c)
            obs = env.observe()
            opening = obs.objects["drawer"].joint_position
            seen.append((opening, env.outcome(obs).status))
            if opening > 0.15:
                break
        openings = [o for o, _ in seen]
        assert max(openings) > 0.15 and np.all(np.diff(openings) > -1e-4)
        assert all((s == "success") == (o >= DRAWER_OPEN_SUCCESS) for o, s in seen)
        assert {s for _, s in seen} == {"running", "success"}
        # The handle moved with the drawer, out towards the robot.
        handle_x = env.observe().objects["drawer"].position[0]
        set_drawer_opening(c, b.body, b.joint, 0.0)
        assert env.observe().objects["drawer"].position[0] > handle_x + 0.1


def test_a_drawer_urdf_without_its_joint_fails_naming_the_joint(tmp_path: Path) -> None:
    text = DRAWER_URDF.read_text()
    renamed = tmp_path / "renamed.urdf"
    renamed.write_text(text.replace(f'name="{DRAWER_JOINT}"', 'name="slide"'))
    revolute = tmp_path / "revolute.urdf"
    revolute.write_text(text.replace('type="prismatic"', 'type="revolute"'))
    c = p.connect(p.DIRECT)
    try:
        with pytest.raises(DrawerJointError, match=r"joint 'drawer_joint' is missing.*slide"):
            load_drawer(c, [0.6, 0, 0], 0.0, renamed)
        with pytest.raises(DrawerJointError, match="'drawer_joint' is revolute, not prismatic"):
            load_drawer(c, [0.6, 0, 0], 0.0, revolute)
        with pytest.raises(FileNotFoundError, match="does not exist"):
            load_drawer(c, [0.6, 0, 0], 0.0, tmp_path / "none.urdf")
        assert p.getNumBodies(physicsClientId=c) == 0  # nothing half-loaded is left behind
    finally:
        p.disconnect(c)
    with pytest.raises(DrawerJointError, match="drawer_joint"):
        PaperArmEnv("open_drawer", drawer_urdf=renamed)


def test_unknown_task_name_is_refused_before_any_world_is_built() -> None:
    with pytest.raises(PaperTaskError,
                       match=r"unknown paper task 'fly_kite'; known paper tasks: clean_trash"):
        PaperArmEnv("fly_kite")


def test_an_object_leaving_the_table_ends_the_task_failed_and_the_arm_holds() -> None:
    with PaperArmEnv("clean_trash") as env:
        env.reset(2)
        info = env.step(np.array([0.05, 0.0, 0.0, 0.0, 0.0, 0.0]), duration=0.2)
        assert info.rejected is None and env.outcome().status == "running"
        set_pose(env.sim.client_id, env.bodies["trash"], [0.5, 0.7, 0.1])  # past the y edge
        info = env.step(np.array([0.05, 0.0, 0.0, 0.0, 0.0, 0.0]), duration=0.5)
        out = env.outcome()
        assert out.status == "failed" and "object 'trash' left the table" in out.reason
        assert info.rejected == out.reason
        env.step(np.zeros(6), duration=0.3)  # braking comes to rest
        q0, ee0 = env.observe().q, env.observe().ee_position
        info = env.step(np.array([0.1, 0.1, 0.0, 0.0, 0.0, 0.5]), gripper="close", duration=0.5)
        obs = env.observe()
        assert info.rejected == out.reason
        assert np.max(np.abs(obs.q - q0)) < 2e-3 and np.linalg.norm(obs.ee_position - ee0) < 2e-3
        assert obs.gripper_width > 0.07  # the gripper command was not taken either
        obs = env.reset(2, gripper="close")  # a new episode starts clean, at its start pose
        assert env.outcome().status == "running" and env.failure is None
        assert np.allclose(obs.q, env.task.params["start_q"], atol=1e-6)
        assert obs.gripper_width < 0.01
