"""Task families and correction primitives: phrasings, plans and success checks on hand-made
object layouts (no simulator)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ifagent_ros.core.language.parser import CorrectionParser
from ifagent_ros.core.latent_actions.dataset import fill_phrasing
from ifagent_ros.core.latent_actions.tasks import (
    FAR_X,
    PRIMITIVES,
    TASK_FAMILIES,
    FarSide,
    ObjectState,
    TaskInstance,
    dataset_phrasings,
    phrasings,
    sample_task,
)

SIZES = {"block": (0.04, 0.04, 0.04), "bowl": (0.16, 0.16, 0.05), "plate": (0.18, 0.18, 0.015),
         "mug": (0.11, 0.08, 0.09)}


def layout(**moved: tuple[float, float, float]) -> dict[str, ObjectState]:
    """tabletop_default's written layout, with some objects moved (id=(x, y, z))."""
    base = {"red_block": (0.45, 0.15, 0.02), "green_block": (0.55, 0.0, 0.02),
            "blue_block": (0.4, -0.1, 0.02), "yellow_bowl": (0.6, -0.25, 0.025),
            "white_plate": (0.62, 0.28, 0.0075), "orange_mug": (0.3, 0.32, 0.045)}
    base.update(moved)
    out = {}
    for oid, pos in base.items():
        color, label = oid.split("_")
        out[oid] = ObjectState(oid, label, color, np.array(pos, dtype=float), 0.0, SIZES[label])
    return out


def task(family: str, **params: object) -> TaskInstance:
    inst = sample_task(family, np.random.default_rng(0))
    inst.params.update(params)
    return inst


def test_every_family_has_12_phrasings_3_held_out_and_they_fill_from_sampled_params() -> None:
    assert set(TASK_FAMILIES) == {"pick_place_bowl", "pick_place_plate", "push", "stack",
                                  "far_side"}
    for name, fam in TASK_FAMILIES.items():
        p = phrasings()["tasks"][name]
        assert len(p["train"]) + len(p["heldout"]) >= 12 and len(p["heldout"]) == 3, name
        assert not set(p["train"]) & set(p["heldout"]), name
        for seed in range(20):
            inst = fam.sample(np.random.default_rng(seed))
            for template in p["train"] + p["heldout"]:
                text = fill_phrasing(template, inst.params)
                assert "{" not in text and "_" not in text, text


def test_sampling_is_seeded_and_instruction_uses_the_asked_split() -> None:
    for name in TASK_FAMILIES:
        a = sample_task(name, np.random.default_rng(7), "heldout")
        b = sample_task(name, np.random.default_rng(7), "heldout")
        assert (a.params, a.text, a.split) == (b.params, b.text, "heldout")
        held = {fill_phrasing(t, a.params) for t in phrasings()["tasks"][name]["heldout"]}
        assert a.text in held
        rng = np.random.default_rng(1)
        train = {fill_phrasing(t, a.params) for t in phrasings()["tasks"][name]["train"]}
        assert {a.instruction("train", rng) for _ in range(30)} <= train
    params = [sample_task("stack", np.random.default_rng(s)).params for s in range(30)]
    assert all(p["block_a_id"] != p["block_b_id"] for p in params)
    assert {p["direction"] for p in (sample_task("push", np.random.default_rng(s)).params
                                     for s in range(30))} == {"left", "right"}


def test_every_task_phrasing_parses_as_a_context_dependent_instruction() -> None:
    parser = CorrectionParser()
    for name in TASK_FAMILIES:
        seen = set()
        for seed in range(40):
            params = sample_task(name, np.random.default_rng(seed)).params
            for split in ("train", "heldout"):
                for template in phrasings()["tasks"][name][split]:
                    text = fill_phrasing(template, params)
                    if text in seen:
                        continue
                    seen.add(text)
                    c = parser.parse(text, objects=[])
                    assert c.type == "instruction" and not c.context_free, (text, c.type)


def test_every_correction_phrasing_parses_to_its_primitive_context_free() -> None:
    assert len(PRIMITIVES) == 12
    parser = CorrectionParser()
    for name, prim in PRIMITIVES.items():
        train, held = prim.phrasings("train"), prim.phrasings("heldout")
        assert len(train) + len(held) >= 10 and len(held) == 3 and not set(train) & set(held)
        assert np.linalg.norm(prim.twist) == pytest.approx(1.0)
        for text in train + held:
            c = parser.parse(text, objects=[])
            got = c.direction if prim.kind == "direction" else c.rotation
            assert c.type == prim.kind and got == pytest.approx(prim.axis), (name, text, c)
            assert c.context_free, (name, text)


def test_primitive_twists_point_the_way_their_names_say() -> None:
    # base_link: x away from the robot, y to its left, z up.
    assert PRIMITIVES["left"].twist[1] == 1.0 and PRIMITIVES["down"].twist[2] == -1.0
    assert PRIMITIVES["backward"].twist[0] == -1.0
    assert PRIMITIVES["twist_left"].twist[5] == 1.0  # counter-clockwise seen from above
    assert not PRIMITIVES["tilt_up"].twist[:3].any()


def test_dataset_phrasings_hold_every_task_and_primitive() -> None:
    d = dataset_phrasings()
    assert set(d) == set(TASK_FAMILIES) | set(PRIMITIVES)
    assert all(set(v) == {"train", "heldout"} for v in d.values())


def test_pick_and_place_plan_grasps_the_block_and_releases_over_the_bowl() -> None:
    objs = layout()
    wps = task("pick_place_bowl", block_id="green_block", block="green block").waypoints(objs)
    grasp = next(w for w in wps if w.gripper == "close")
    release = next(w for w in wps if w.gripper == "open" and w is not wps[0])
    assert np.allclose(grasp.position[:2], [0.55, 0.0]) and grasp.position[2] < 0.03
    assert np.allclose(release.position[:2], [0.6, -0.25])
    assert 0.03 < release.position[2] < 0.1  # inside the bowl, above its bottom
    assert wps.index(grasp) < wps.index(release)
    # The plan follows the objects: a moved block is grasped where it is now.
    moved = layout(green_block=(0.5, 0.05, 0.02))
    grasp2 = next(w for w in task("pick_place_bowl", block_id="green_block").waypoints(moved)
                  if w.gripper == "close")
    assert np.allclose(grasp2.position[:2], [0.5, 0.05])


def test_push_plan_starts_beside_the_block_and_ends_past_it() -> None:
    inst = task("push", block_id="red_block", direction="right", sign=-1.0, distance=0.1)
    wps = inst.waypoints(layout())
    assert wps[0].gripper == "close" and wps[0].position[1] > 0.15 + 0.03
    end = wps[2].position
    assert end[1] < 0.15 and abs(end[2] - 0.02) < 1e-9


def test_far_side_target_is_far_and_clear_of_the_plate() -> None:
    objs = layout(red_block=(0.45, 0.28, 0.02))  # right in front of the plate
    xy = FarSide.target_xy("red_block", objs)
    assert xy[0] >= FAR_X
    assert np.linalg.norm(xy - objs["white_plate"].position[:2]) > 0.09 + 0.04


@pytest.mark.parametrize(
    ("family", "params", "moved", "width", "ee", "expected"),
    [
        ("pick_place_bowl", {"block_id": "red_block"}, {"red_block": (0.61, -0.24, 0.026)},
         0.08, (0.6, -0.25, 0.15), True),
        ("pick_place_bowl", {"block_id": "red_block"}, {"red_block": (0.61, -0.24, 0.026)},
         0.04, (0.61, -0.24, 0.021), False),  # still in the closed gripper
        ("pick_place_bowl", {"block_id": "red_block"}, {"red_block": (0.6, -0.14, 0.02)},
         0.08, (0.6, -0.25, 0.15), False),  # beside the bowl
        ("pick_place_plate", {"block_id": "blue_block"}, {"blue_block": (0.6, 0.3, 0.035)},
         0.08, (0.6, 0.3, 0.2), True),
        ("pick_place_plate", {"block_id": "blue_block"}, {"blue_block": (0.6, 0.3, 0.1)},
         0.08, (0.6, 0.3, 0.2), False),  # in the air above the plate
        ("push", {"block_id": "green_block", "sign": 1.0}, {"green_block": (0.56, 0.09, 0.02)},
         0.0, (0.5, 0.2, 0.1), True),
        ("push", {"block_id": "green_block", "sign": -1.0}, {"green_block": (0.56, 0.09, 0.02)},
         0.0, (0.5, 0.2, 0.1), False),  # pushed the wrong way
        ("push", {"block_id": "green_block", "sign": 1.0}, {"green_block": (0.55, 0.04, 0.02)},
         0.0, (0.5, 0.2, 0.1), False),  # not far enough
        ("stack", {"block_a_id": "red_block", "block_b_id": "blue_block"},
         {"red_block": (0.405, -0.095, 0.06)}, 0.08, (0.4, -0.1, 0.2), True),
        ("stack", {"block_a_id": "red_block", "block_b_id": "blue_block"},
         {"red_block": (0.45, -0.1, 0.02)}, 0.08, (0.4, -0.1, 0.2), False),  # beside it
        ("far_side", {"block_id": "green_block"}, {"green_block": (0.72, 0.0, 0.02)},
         0.08, (0.72, 0.0, 0.15), True),
        ("far_side", {"block_id": "green_block"}, {"green_block": (0.6, 0.0, 0.02)},
         0.08, (0.6, 0.0, 0.15), False),
    ],
)
def test_success_is_judged_on_where_the_objects_are(
    family: str, params: dict, moved: dict, width: float, ee: tuple, expected: bool
) -> None:
    inst = task(family, **params)
    assert inst.success(layout(**moved), layout(), width, np.array(ee)) is expected


def test_missing_object_is_no_success_and_a_clear_plan_error() -> None:
    inst = task("pick_place_bowl", block_id="red_block")
    objs = layout()
    del objs["yellow_bowl"]
    assert inst.success(objs, layout(), 0.08, np.zeros(3)) is False
    with pytest.raises(KeyError, match="yellow_bowl"):
        inst.waypoints(objs)
    with pytest.raises(KeyError, match="unknown task family"):
        sample_task("juggle", np.random.default_rng(0))


def test_all_block_pairs_can_be_stacked_in_the_plan() -> None:
    for a, b in itertools.permutations(("red_block", "green_block", "blue_block"), 2):
        wps = task("stack", block_a_id=a, block_b_id=b).waypoints(layout())
        release = [w for w in wps if w.gripper == "open"][-1]
        assert np.allclose(release.position[:2], layout()[b].position[:2])
        assert release.position[2] > 0.04  # above the lower block's top
