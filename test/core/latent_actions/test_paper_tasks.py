"""LILAC's five tasks (core/latent_actions/paper_tasks.py): registry, phrasings, randomized
layouts within their stated ranges, and success checks on hand-built object states."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from ifagent_ros.core.control.kinematics import ArmKinematics
from ifagent_ros.core.control.robot_model import PANDA_HOME_Q
from ifagent_ros.core.latent_actions.dataset import fill_phrasing
from ifagent_ros.core.latent_actions.paper_tasks import (
    BOOK_SIZE,
    CUP_HEIGHT,
    DRAWER_OPEN_SUCCESS,
    OBJECTS,
    PAPER_FAMILIES,
    PEN_CUP_WALL,
    PEN_LENGTH,
    PLANT_TOP,
    POUR_ANGLE,
    SHELF_BOARD,
    START_Q_JITTER,
    InsertBook,
    OpenDrawer,
    PaperObjectState,
    PaperTaskError,
    PaperTaskInstance,
    layout_conflict,
    paper_family,
    paper_phrasings,
    quat_from_euler,
    quat_to_matrix,
    resting_z,
    sample_paper_task,
    start_orientation,
    task_set,
)
from ifagent_ros.core.latent_actions.tasks import TASK_FAMILIES

EASY = ("pick_place_bowl", "pick_place_plate", "push", "stack", "far_side")
PAPER = ("clean_trash", "transfer_pen", "open_drawer", "insert_book", "water_plant")
PANDA_LOWER = (-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973)
PANDA_UPPER = (2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973)


def state(oid: str, xyz: Any, quat: Any = (0, 0, 0, 1), opening: float | None = None
          ) -> PaperObjectState:
    q = np.asarray(quat, dtype=float)
    yaw = math.atan2(2 * (q[3] * q[2] + q[0] * q[1]), 1 - 2 * (q[1] ** 2 + q[2] ** 2))
    return PaperObjectState(oid, OBJECTS[oid][0], "", np.asarray(xyz, dtype=float), yaw,
                            orientation=q, joint_position=opening, movable=OBJECTS[oid][3])


def start_states(task: PaperTaskInstance) -> dict[str, PaperObjectState]:
    """The objects as the task lays them out (what the simulator spawns)."""
    out = {}
    for oid, pl in task.params["layout"].items():
        out[oid] = state(oid, [*pl["xy"], resting_z(oid)], start_orientation(oid, pl["yaw"]),
                         task.params.get("start_opening") if oid == "drawer" else None)
    return out


def to_world(task: PaperTaskInstance, oid: str, local: Any) -> np.ndarray:
    pl = task.params["layout"][oid]
    c, s = math.cos(pl["yaw"]), math.sin(pl["yaw"])
    x, y, z = local
    return np.array([pl["xy"][0] + c * x - s * y, pl["xy"][1] + s * x + c * y, z])


def success_states(task: PaperTaskInstance) -> dict[str, PaperObjectState]:
    """A hand-built state in which the task is done."""
    objs = start_states(task)
    lay = task.params["layout"]
    if task.family == "clean_trash":
        objs["trash"] = state("trash", to_world(task, "trash_bin", (0.01, -0.02, 0.03)))
    elif task.family == "transfer_pen":
        cup = lay["pen_cup"]["xy"]  # upright, leaning 10 degrees
        objs["pen"] = state("pen", [cup[0] + 0.01, cup[1], PEN_CUP_WALL + PEN_LENGTH / 2],
                            quat_from_euler(0.0, math.radians(10), 0.3))
    elif task.family == "open_drawer":
        objs["drawer"].joint_position = DRAWER_OPEN_SUCCESS + 0.02
    elif task.family == "insert_book":
        shelf_yaw = lay["shelf"]["yaw"]
        objs["book"] = state("book", to_world(task, "shelf", (0.0, task.params["gap_y"],
                                                               SHELF_BOARD + BOOK_SIZE[2] / 2)),
                             quat_from_euler(0.0, 0.0, shelf_yaw + math.pi / 2))
    elif task.family == "water_plant":
        tilt = POUR_ANGLE + math.radians(10)
        plant = lay["plant"]["xy"]
        centre = [plant[0], plant[1] + math.sin(tilt) * CUP_HEIGHT / 2, PLANT_TOP + 0.08]
        objs["watering_cup"] = state("watering_cup", centre, quat_from_euler(tilt, 0.0, 0.0))
    return objs


def judge(task: PaperTaskInstance, now: dict[str, PaperObjectState], gripper: float = 0.08,
          ee: Any = (0.3, 0.0, 0.5)) -> str:
    return task.outcome(now, start_states(task), gripper, np.asarray(ee)).status


# ---- registry and bad names -----------------------------------------------------------------

def test_paper_families_sit_beside_the_unchanged_easy_set() -> None:
    assert tuple(PAPER_FAMILIES) == PAPER
    assert tuple(TASK_FAMILIES) == EASY
    assert task_set("easy") == EASY and task_set("paper") == PAPER
    assert task_set("all") == EASY + PAPER
    assert paper_family("clean-trash") is PAPER_FAMILIES["clean_trash"]


def test_unknown_task_names_fail_with_the_known_ones_listed() -> None:
    with pytest.raises(PaperTaskError, match=r"unknown paper task 'fly_kite'.*clean_trash"):
        sample_paper_task("fly_kite", np.random.default_rng(0))
    with pytest.raises(PaperTaskError, match="'push' is an 'easy' task"):
        paper_family("push")
    with pytest.raises(PaperTaskError, match="unknown task set 'hard'"):
        task_set("hard")


# ---- phrasings ------------------------------------------------------------------------------

def test_every_family_has_12_phrasings_3_held_out_that_fill_from_sampled_params() -> None:
    for name, fam in PAPER_FAMILIES.items():
        p = paper_phrasings()["tasks"][name]
        assert len(p["train"]) + len(p["heldout"]) >= 12 and len(p["heldout"]) == 3, name
        assert not set(p["train"]) & set(p["heldout"]), name
        for seed in range(10):
            inst = fam.sample(np.random.default_rng(seed))
            for template in p["train"] + p["heldout"]:
                text = fill_phrasing(template, inst.params)
                assert "{" not in text and "_" not in text, text


def test_sampling_is_seeded_and_speaks_the_asked_split() -> None:
    for name in PAPER:
        a = sample_paper_task(name, np.random.default_rng(7), "heldout")
        b = sample_paper_task(name, np.random.default_rng(7), "heldout")
        assert (a.params, a.text, a.split) == (b.params, b.text, "heldout")
        assert isinstance(a, PaperTaskInstance) and a.spec is PAPER_FAMILIES[name]
        held = {fill_phrasing(t, a.params) for t in paper_phrasings()["tasks"][name]["heldout"]}
        assert a.text in held
        train = {fill_phrasing(t, a.params) for t in paper_phrasings()["tasks"][name]["train"]}
        rng = np.random.default_rng(1)
        assert {a.instruction("train", rng) for _ in range(30)} <= train
        assert sample_paper_task(name, np.random.default_rng(8)).params != a.params


# ---- layouts --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PAPER)
def test_placements_and_start_poses_stay_in_their_stated_ranges(name: str) -> None:
    fam = PAPER_FAMILIES[name]
    kin = ArmKinematics()
    sides, spread = set(), {oid: [] for oid in fam.objects}
    jitter = np.asarray(START_Q_JITTER)
    for seed in range(300):
        params = fam.sample(np.random.default_rng(seed)).params
        sides.add(params["side"])
        assert layout_conflict(params["layout"]) is None, (seed, params["layout"])
        for oid in fam.objects:
            pl = params["layout"][oid]
            assert fam.ranges[oid].contains(*pl["xy"], pl["yaw"], params["side"]), (seed, oid)
            spread[oid].append(pl["xy"][0])
        q = np.asarray(params["start_q"])
        assert np.all(np.abs(q - PANDA_HOME_Q) <= jitter + 1e-12), seed
        assert np.all(q > PANDA_LOWER) and np.all(q < PANDA_UPPER), seed
        if seed < 40:  # the TCP starts above the table, in front of the robot
            tcp = kin.ee_pose(q)[0]
            assert tcp[2] > 0.3 and 0.15 < tcp[0] < 0.5, (seed, tcp)
        if name == "open_drawer":
            assert OpenDrawer.START_OPENING[0] <= params["start_opening"] \
                <= OpenDrawer.START_OPENING[1] < DRAWER_OPEN_SUCCESS
        if name == "insert_book":
            assert InsertBook.GAP_OFFSET[0] <= params["gap_y"] <= InsertBook.GAP_OFFSET[1]
    assert sides == {1.0, -1.0}
    for oid, xs in spread.items():  # the whole range is used, not one corner of it
        lo, hi = fam.ranges[oid].x
        assert min(xs) < lo + 0.2 * (hi - lo) and max(xs) > hi - 0.2 * (hi - lo), oid


def test_nominal_layout_is_every_range_centre_and_valid() -> None:
    for name, fam in PAPER_FAMILIES.items():
        params = fam.nominal().params
        assert layout_conflict(params["layout"]) is None, name
        assert params["start_q"] == list(PANDA_HOME_Q)
        for oid in fam.objects:
            r, pl = fam.ranges[oid], params["layout"][oid]
            assert pl["xy"] == [sum(r.x) / 2, sum(r.y) / 2] and pl["yaw"] == sum(r.yaw) / 2


def test_layout_conflicts_are_named() -> None:
    assert "overlaps 'trash_bin'" in layout_conflict(
        {"trash_bin": {"xy": [0.5, 0.2], "yaw": 0.0}, "trash": {"xy": [0.52, 0.2], "yaw": 0.0}})
    assert "not fully on the table" in layout_conflict({"book": {"xy": [0.88, 0.0], "yaw": 0.0}})
    assert "robot base" in layout_conflict({"plant": {"xy": [0.1, 0.0], "yaw": 0.0}})


# ---- success --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PAPER)
def test_success_holds_on_a_hand_built_success_state_and_not_at_the_start(name: str) -> None:
    for seed in range(25):
        task = sample_paper_task(name, np.random.default_rng(seed))
        assert judge(task, start_states(task)) == "running", seed
        assert judge(task, success_states(task)) == "success", seed


def test_quaternion_helpers_agree() -> None:
    r = quat_to_matrix(quat_from_euler(0.3, -0.4, 1.2))
    assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
    assert np.allclose(quat_to_matrix(quat_from_euler(0, 0, math.pi / 2))[:, 0], [0, 1, 0])
    assert np.allclose(quat_to_matrix(start_orientation("pen", 0.0))[:, 2][2], 0.0)
    assert np.allclose(quat_to_matrix(start_orientation("book", 0.7))[:, 0], [0, 0, 1])
    with pytest.raises(ValueError, match="not a rotation quaternion"):
        quat_to_matrix([0, 0, 0, 0])


def test_trash_counts_only_inside_the_bin_and_let_go() -> None:
    task = sample_paper_task("clean_trash", np.random.default_rng(3))
    done = success_states(task)
    trash = done["trash"].position
    assert judge(task, done, gripper=0.0, ee=trash) == "running"  # still in the hand
    assert judge(task, done, gripper=0.0, ee=trash + [0, 0, 0.2]) == "success"
    done["trash"] = state("trash", to_world(task, "trash_bin", (0.1, 0.0, 0.03)))
    assert judge(task, done) == "running"  # beside the bin, not in it
    done["trash"] = state("trash", to_world(task, "trash_bin", (0.0, 0.0, 0.15)))
    assert judge(task, done) == "running"  # above the rim


def test_pen_must_stand_upright_in_the_cup() -> None:
    task = sample_paper_task("transfer_pen", np.random.default_rng(4))
    cup = task.params["layout"]["pen_cup"]["xy"]
    done = success_states(task)
    for tilt, want in ((0.0, "success"), (30.0, "success"), (50.0, "running"),
                       (90.0, "running")):
        # The low end 1.5 cm off the cup's axis, leaning across it (about body x).
        orn = quat_from_euler(math.radians(tilt), 0.0, 0.0)
        low = np.array([cup[0], cup[1] + 0.015, PEN_CUP_WALL])
        centre = low + quat_to_matrix(orn)[:, 2] * PEN_LENGTH / 2
        done["pen"] = state("pen", centre, orn)
        assert judge(task, done) == want, tilt
    done["pen"] = state("pen", [cup[0] + 0.06, cup[1], PEN_LENGTH / 2])
    assert judge(task, done) == "running"  # upright but beside the cup
    done["pen"] = state("pen", [cup[0], cup[1], PEN_LENGTH / 2 + 0.12])
    assert judge(task, done) == "running"  # upright above the cup


def test_drawer_success_flips_at_ten_centimetres() -> None:
    task = sample_paper_task("open_drawer", np.random.default_rng(5))
    now = start_states(task)
    for opening, want in ((0.0, "running"), (0.0999, "running"), (0.10, "success"),
                          (0.2, "success")):
        now["drawer"].joint_position = opening
        assert judge(task, now) == want, opening
    now["drawer"].joint_position = None
    assert judge(task, now) == "running"  # no joint reading: never a success


def test_book_must_stand_in_the_gap_turned_to_fit() -> None:
    task = sample_paper_task("insert_book", np.random.default_rng(6))
    done = success_states(task)
    book = done["book"].position
    shelf_yaw = task.params["layout"]["shelf"]["yaw"]
    done["book"] = state("book", book, quat_from_euler(0.0, 0.0, shelf_yaw))
    assert judge(task, done) == "running"  # upright but turned 90 degrees
    done["book"] = state("book", book, quat_from_euler(0.0, -math.pi / 2, shelf_yaw))
    assert judge(task, done) == "running"  # lying flat
    done["book"] = state("book", to_world(task, "shelf", (0.0, task.params["gap_y"] + 0.05,
                                                         book[2])),
                         quat_from_euler(0.0, 0.0, shelf_yaw + math.pi / 2))
    assert judge(task, done) == "running"  # beside the gap
    done["book"] = state("book", to_world(task, "shelf", (-0.12, task.params["gap_y"], book[2])),
                         quat_from_euler(0.0, 0.0, shelf_yaw + math.pi / 2))
    assert judge(task, done) == "running"  # in front of the shelf, not in it


def test_watering_needs_the_cup_over_the_plant_and_tilted() -> None:
    task = sample_paper_task("water_plant", np.random.default_rng(7))
    done = success_states(task)
    cup = done["watering_cup"].position
    done["watering_cup"] = state("watering_cup", cup,
                                 quat_from_euler(POUR_ANGLE - math.radians(10), 0.0, 0.0))
    assert judge(task, done) == "running"  # not tilted enough
    done["watering_cup"] = state("watering_cup", cup + [0.2, 0.0, 0.0],
                                 quat_from_euler(POUR_ANGLE + 0.2, 0.0, 0.0))
    assert judge(task, done) == "running"  # tilted beside the plant
    done["watering_cup"] = state("watering_cup", [cup[0], cup[1], 0.1],
                                 quat_from_euler(POUR_ANGLE + 0.2, 0.0, 0.0))
    assert judge(task, done) == "running"  # below the top of the plant


# ---- an object leaving the table ------------------------------------------------------------

@pytest.mark.parametrize("where", [(1.2, 0.0, 0.3), (0.5, 0.0, -0.4), (0.5, -0.7, 0.05),
                                   (float("nan"), 0.0, 0.1)])
def test_an_object_off_the_table_fails_the_task_with_the_reason(where: tuple) -> None:
    task = sample_paper_task("transfer_pen", np.random.default_rng(1))
    now = start_states(task)
    now["pen"] = state("pen", where)
    out = task.outcome(now, start_states(task), 0.08, np.zeros(3))
    assert out.status == "failed" and out.done and "object 'pen'" in out.reason
    # A fixture is never "off the table" (it cannot move), and held objects may be lifted.
    now = start_states(task)
    now["pen"] = state("pen", (0.4, 0.0, 0.6))
    now["pen_cup"] = state("pen_cup", (1.5, 0.0, 0.05))
    assert task.outcome(now, start_states(task), 0.0, np.zeros(3)).status == "running"
