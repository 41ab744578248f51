"""SharedAutonomyController: stick -> basis -> twist, conditioning, shaping and bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fake_action_model import EX, EY, EZ, WZ, XZ_BASIS, FakeActionModel, fake_fk
from hypothesis import given, settings
from hypothesis import strategies as st

from ifagent_ros.core.latent_actions.conditioning import shape_basis
from ifagent_ros.core.latent_actions.controller import (
    SharedAutonomyConfig,
    SharedAutonomyController,
)
from ifagent_ros.core.schemas import Correction, ObjectList, PerceivedObject, SharedAutonomyStatus

Q = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785]
OBJECTS = {"red_block": (0.5, 0.1, 0.02)}
INSTRUCTION = "pick up the red block"
T0 = 100.0


def axes(lx: float = 0.0, ly: float = 0.0, rx: float = 0.0, ry: float = 0.0) -> list[float]:
    return [lx, ly, 1.0, rx, ry, 1.0, 0.0, 0.0]  # triggers (2, 5) rest at +1


def press(*indices: int) -> list[int]:
    b = [0] * 11
    for i in indices:
        b[i] = 1
    return b


def make(
    model: FakeActionModel | None = None, instruction: str | None = INSTRUCTION, **cfg: Any
) -> SharedAutonomyController:
    ctl = SharedAutonomyController(
        SharedAutonomyConfig(**cfg),
        model if model is not None else FakeActionModel(),
        forward_kinematics=fake_fk,
    )
    ctl.on_joint_state(Q, T0, gripper_width=0.08)
    ctl.on_objects(OBJECTS, T0, T0)
    if instruction:
        ctl.on_instruction(instruction, T0)
    return ctl


def drive(
    ctl: SharedAutonomyController,
    now: float,
    lx: float = 0.0,
    ly: float = 0.0,
    buttons: list[int] | None = None,
    objects: bool = True,
) -> Any:
    """One control period with fresh joy and joint states (and objects unless told not)."""
    ctl.on_joy(axes(lx, ly), buttons or press(), now)
    ctl.on_joint_state(Q, now, gripper_width=0.08)
    if objects:
        ctl.on_objects(OBJECTS, now, now)
    return ctl.step(now)


def correct(ctl: SharedAutonomyController, text: str, now: float = T0, **kw: Any) -> None:
    from ifagent_ros.core.language.parser import CorrectionParser

    c = CorrectionParser().parse(text, objects=[]) if not kw else Correction(text=text, **kw)
    ctl.on_correction(c.model_copy(update={"text": text}), now)


def test_stick_maps_through_the_basis_with_a_rescaled_deadband() -> None:
    model = FakeActionModel(bases={INSTRUCTION: np.stack([EX, EZ])})
    ctl = make(model)
    out = drive(ctl, T0, lx=1.0)
    assert out.status["mode"] == "latent" and out.status["reason"] is None
    np.testing.assert_allclose(out.twist, [0.15, 0, 0, 0, 0, 0], atol=1e-9)
    out = drive(ctl, T0 + 0.01, ly=0.55)  # (0.55 - 0.1) / 0.9 = 0.5 on z2 -> +z
    np.testing.assert_allclose(out.twist, [0, 0, 0.075, 0, 0, 0], atol=1e-9)
    assert out.status["z"] == pytest.approx((0.0, 0.5))
    call = model.calls[-1]
    assert call["text"] == INSTRUCTION and call["alpha"] == 1.0
    # The state the model saw: q first, then the end effector, then the object offset.
    np.testing.assert_allclose(call["state"][:7], Q, atol=1e-6)
    np.testing.assert_allclose(
        call["state"][-3:], np.subtract(OBJECTS["red_block"], fake_fk(np.array(Q))[0]), atol=1e-6
    )


def test_centred_stick_gives_zero_without_asking_the_model() -> None:
    model = FakeActionModel()
    ctl = make(model)
    out = drive(ctl, T0, lx=0.05, ly=-0.08)  # inside the deadband
    assert np.all(out.twist == 0.0) and out.status["mode"] == "latent"
    assert model.calls == []


def test_diagonal_is_clipped_to_the_max_speeds() -> None:
    basis = np.stack([EX, EY])
    ctl = make(FakeActionModel(default_basis=basis), max_linear_speed=0.1)
    out = drive(ctl, T0, lx=1.0, ly=1.0)
    assert np.linalg.norm(out.twist[:3]) == pytest.approx(0.1, abs=1e-9)
    np.testing.assert_allclose(out.twist[0], out.twist[1])


def test_correction_replaces_conditioning_and_undo_reset_restore_it() -> None:
    model = FakeActionModel(bases={INSTRUCTION: np.stack([EX, EZ]), "left": np.stack([EY, EZ])})
    ctl = make(model, shaping_weight_medium=0.0)  # no shaping: only the model's basis
    assert drive(ctl, T0, lx=1.0).twist[0] == pytest.approx(0.15)
    correct(ctl, "left", T0 + 0.1)
    out = drive(ctl, T0 + 0.1, lx=1.0)
    assert out.twist[1] == pytest.approx(0.15) and out.twist[0] == pytest.approx(0.0)
    assert model.calls[-1]["text"] == "left" and model.calls[-1]["alpha"] == 0.0
    assert out.status["utterance"] == "left" and out.status["stack_depth"] == 2
    assert out.status["instruction"] == INSTRUCTION
    # Undo button (LB = 4): back to the instruction, alpha 1 again.
    out = drive(ctl, T0 + 0.2, lx=1.0, buttons=press(4))
    assert out.twist[0] == pytest.approx(0.15)
    assert out.status["utterance"] == INSTRUCTION and out.status["alpha"] == 1.0
    assert out.status["stack_depth"] == 1
    # Nothing left to undo: the instruction stays.
    drive(ctl, T0 + 0.3, lx=1.0)
    out = drive(ctl, T0 + 0.4, lx=1.0, buttons=press(4))
    assert out.status["utterance"] == INSTRUCTION and "nothing to undo" in out.status["last_event"]
    # Two corrections, then reset (Back = 6) goes straight back to the instruction.
    correct(ctl, "left", T0 + 0.5)
    correct(ctl, "move left", T0 + 0.5)
    assert ctl.stack.depth == 3
    out = drive(ctl, T0 + 0.6, lx=1.0, buttons=press(6))
    assert out.status["utterance"] == INSTRUCTION and out.status["stack_depth"] == 1
    # Spoken undo / reset do the same.
    correct(ctl, "left", T0 + 0.7)
    correct(ctl, "undo", T0 + 0.7)
    assert ctl.stack.active.text == INSTRUCTION
    correct(ctl, "left", T0 + 0.8)
    correct(ctl, "move left", T0 + 0.8)
    correct(ctl, "start over", T0 + 0.8)
    assert ctl.stack.depth == 1 and ctl.stack.active.text == INSTRUCTION


def test_context_dependent_correction_has_alpha_one() -> None:
    model = FakeActionModel()
    ctl = make(model)
    correct(ctl, "towards the bowl", type="target", context_free=False, target="the bowl")
    drive(ctl, T0, lx=1.0)
    assert model.calls[-1]["text"] == "towards the bowl" and model.calls[-1]["alpha"] == 1.0


def test_instruction_correction_starts_a_new_task() -> None:
    ctl = make()
    correct(ctl, "left")
    correct(ctl, "put the red block in the yellow bowl")  # the parser: type instruction
    assert ctl.stack.depth == 1
    assert ctl.stack.original.text == "put the red block in the yellow bowl"


def test_left_correction_moves_left_with_a_basis_orthogonal_to_y() -> None:
    ctl = make(FakeActionModel(default_basis=XZ_BASIS))
    assert drive(ctl, T0, lx=1.0).twist[1] == pytest.approx(0.0)
    correct(ctl, "a bit more to the left", T0)
    out = drive(ctl, T0 + 0.01, lx=1.0)
    assert out.twist[1] > 0.05  # moves left although the model's basis has no y at all
    assert out.status["shaping_active"] and "direction" in out.status["shaping"]
    # A larger correction shapes harder.
    small_y = out.twist[1]
    correct(
        ctl,
        "much more to the left",
        T0 + 0.02,
        type="direction",
        direction=(0, 1, 0),
        magnitude="large",
    )
    assert drive(ctl, T0 + 0.03, lx=1.0).twist[1] > small_y
    # Undo twice: back to the instruction, no shaping.
    correct(ctl, "undo", T0 + 0.04)
    correct(ctl, "undo", T0 + 0.04)
    out = drive(ctl, T0 + 0.05, lx=1.0)
    assert out.twist[1] == pytest.approx(0.0) and not out.status["shaping_active"]


def test_rotation_correction_shapes_the_angular_part() -> None:
    ctl = make(FakeActionModel(default_basis=XZ_BASIS))
    correct(ctl, "twist left", T0)  # rotation about +z
    out = drive(ctl, T0, lx=1.0)
    assert out.twist[5] > 0.1


def test_shape_basis_keeps_rows_orthonormal_and_picks_the_aligned_row() -> None:
    basis = np.stack([(EX + EY) / math.sqrt(2), EZ])
    shaped, row = shape_basis(basis, -EY, 0.8)  # most aligned with row 0, negatively
    assert row == 0
    np.testing.assert_allclose(shaped @ shaped.T, np.eye(2), atol=1e-9)
    assert (-1.0 * shaped[0])[1] < 0.0  # pushing -z1 now moves -y (right)
    assert shape_basis(basis, np.zeros(6), 0.5) is None


def test_target_correction_shapes_towards_the_object() -> None:
    wx, wy = np.eye(6)[3], np.eye(6)[4]
    ctl = make(FakeActionModel(default_basis=np.stack([wx, wy])))  # no translation at all
    assert np.all(drive(ctl, T0, lx=1.0).twist[:3] == 0.0)
    correct(
        ctl,
        "towards the red block",
        type="target",
        target="the red block",
        target_ids=["red_block"],
        context_free=False,
    )
    out = drive(ctl, T0, lx=1.0)
    to_block = np.subtract(OBJECTS["red_block"], fake_fk(np.array(Q))[0])
    cos = float(out.twist[:3] @ to_block) / np.linalg.norm(out.twist[:3]) / np.linalg.norm(to_block)
    assert cos > 0.99


def test_contradictory_and_useless_corrections_are_ignored_with_a_reason() -> None:
    ctl = make()
    for text in ("left and right", "up and down", "blah blah"):
        correct(ctl, text)
        assert ctl.stack.depth == 1, text
        assert "ignored" in ctl.last_event and text in ctl.last_event
    correct(ctl, "left", type="direction", direction=(0.0, 0.0, 0.0))
    assert ctl.stack.depth == 1 and "self-contradictory" in ctl.last_event
    correct(ctl, "left", type="direction", direction=(math.nan, 1.0, 0.0))
    assert ctl.stack.depth == 1 and "not finite" in ctl.last_event
    correct(ctl, "faster", type="speed", speed_factor=math.inf)
    assert ctl.speed_scale == 1.0
    # "up no down" is a self-repair, not a contradiction: the parser says down.
    correct(ctl, "up no down")
    assert ctl.stack.depth == 2 and ctl.stack.active.shaping.vector[2] == -1.0


def test_stop_is_left_to_the_executor() -> None:
    ctl = make()
    correct(ctl, "stop")
    assert ctl.stack.depth == 1 and "e-stop" in ctl.last_event
    assert drive(ctl, T0, lx=1.0).status["mode"] == "latent"


def test_speed_corrections_scale_and_reset_restores() -> None:
    ctl = make(FakeActionModel(default_basis=np.stack([EX, EZ])))
    correct(ctl, "slower")
    assert drive(ctl, T0, lx=1.0).twist[0] == pytest.approx(0.075)
    correct(ctl, "faster")
    correct(ctl, "faster")
    out = drive(ctl, T0 + 0.01, lx=1.0)
    assert out.twist[0] == pytest.approx(0.2 * (1 - 1e-12))  # 0.3 asked, max_linear_speed 0.2
    correct(ctl, "reset")
    assert drive(ctl, T0 + 0.02, lx=1.0).twist[0] == pytest.approx(0.15)


def test_gripper_buttons_and_words_are_edges() -> None:
    ctl = make()
    assert drive(ctl, T0, buttons=press(1)).gripper == "close"  # B
    assert drive(ctl, T0 + 0.01, buttons=press(1)).gripper is None  # held: no repeat
    assert drive(ctl, T0 + 0.02, buttons=press(3)).gripper == "open"  # Y
    assert drive(ctl, T0 + 0.03, buttons=press(1, 3)).gripper == "close"  # both: close
    correct(ctl, "open the gripper")
    assert drive(ctl, T0 + 0.04).gripper == "open"
    assert drive(ctl, T0 + 0.05).gripper is None


def test_no_model_is_plain_ee_teleop_and_says_why() -> None:
    ctl = SharedAutonomyController(model=None, model_error="model file error: bad arch")
    ctl.on_joy(axes(ly=1.0), press(), T0)
    out = ctl.step(T0)
    assert out.status["mode"] == "teleop_fallback" and "bad arch" in out.status["reason"]
    np.testing.assert_allclose(out.twist, [0.15, 0, 0, 0, 0, 0], atol=1e-9)  # up -> +x
    ctl.on_joy(axes(ly=1.0), press(2), T0 + 0.01)  # X: teleop's next mode, up -> +z
    np.testing.assert_allclose(ctl.step(T0 + 0.01).twist, [0, 0, 0.15, 0, 0, 0], atol=1e-9)
    assert ctl.fallbacks == {"no_model": 1}


def test_no_instruction_yet_falls_back_to_teleop() -> None:
    ctl = make(instruction=None)
    out = drive(ctl, T0, lx=1.0)
    assert out.status["mode"] == "teleop_fallback" and "no instruction" in out.status["reason"]
    assert out.twist[1] == pytest.approx(0.15)  # teleop: left -> +y


def test_novel_utterances_are_refused() -> None:
    model = FakeActionModel()
    ctl = make(model, instruction=None)
    ctl.on_instruction("juggle the flamingos", T0)
    out = drive(ctl, T0, lx=1.0)
    assert out.status["mode"] == "teleop_fallback"
    assert "unlike any training sentence" in out.status["reason"]
    ctl.on_instruction(INSTRUCTION, T0)
    ctl.on_instruction("juggle the flamingos", T0)
    out = drive(ctl, T0 + 0.01, lx=1.0)
    assert out.status["mode"] == "latent" and out.status["utterance"] == INSTRUCTION
    assert "refused" in out.status["last_event"]
    # A novel phrasing of a direction keeps the model on the instruction but still steers left.
    correct(
        ctl, "scoot leftwards a smidge", type="direction", direction=(0, 1, 0), magnitude="small"
    )
    out = drive(ctl, T0 + 0.02, lx=1.0)
    assert model.calls[-1]["text"] == INSTRUCTION
    assert out.status["said"] == "scoot leftwards a smidge" and out.twist[1] > 0.0


def test_missing_or_stale_objects_fall_back_to_teleop_with_the_ids() -> None:
    model = FakeActionModel(object_ids=("red_block", "yellow_bowl"))
    ctl = make(model)
    out = drive(ctl, T0, lx=1.0)
    assert out.status["mode"] == "teleop_fallback"
    assert out.status["missing_objects"] == ["yellow_bowl"]
    assert "yellow_bowl" in out.status["reason"] and model.calls == []
    perceived = ObjectList(
        stamp=T0,
        objects=[
            PerceivedObject(
                id="obj_1",
                label="block",
                color="red",
                position=(0.5, 0.1, 0.02),
                size=(0.04,) * 3,
                confidence=0.9,
            ),
            PerceivedObject(
                id="obj_2",
                label="bowl",
                color="yellow",
                position=(0.6, -0.2, 0.03),
                size=(0.1,) * 3,
                confidence=0.4,
            ),
            PerceivedObject(
                id="obj_3",
                label="bowl",
                color="yellow",
                position=(0.3, 0.3, 0.03),
                size=(0.1,) * 3,
                confidence=0.8,
            ),  # the more confident bowl wins
        ],
    )
    ctl.on_objects(perceived, T0, T0 + 0.01)
    out = drive(ctl, T0 + 0.01, lx=1.0, objects=False)
    assert out.status["mode"] == "latent"
    bowl_offset = model.calls[-1]["state"][-3:]
    np.testing.assert_allclose(
        bowl_offset, np.subtract((0.3, 0.3, 0.03), fake_fk(np.array(Q))[0]), atol=1e-6
    )
    out = drive(ctl, T0 + 2.5, lx=1.0, objects=False)  # nothing seen for > 2 s
    assert out.status["mode"] == "teleop_fallback"
    assert sorted(out.status["missing_objects"]) == ["red_block", "yellow_bowl"]
    assert out.status["fallbacks"]["objects_missing"] == 2


def test_stale_joy_and_joint_states_hold_still() -> None:
    ctl = make()
    drive(ctl, T0, lx=1.0)
    out = ctl.step(T0 + 0.6)  # no /joy for 0.6 s (> 0.5)
    assert np.all(out.twist == 0.0) and out.status["mode"] == "hold"
    assert "/joy" in out.status["reason"]
    ctl.on_joy(axes(lx=1.0), press(), T0 + 0.7)
    out = ctl.step(T0 + 0.7)  # joint states 0.7 s old
    assert np.all(out.twist == 0.0) and "joint states" in out.status["reason"]
    assert drive(ctl, T0 + 0.8, lx=1.0).twist[0] != 0.0  # fresh again: moves


def test_pinned_stick_holds_until_it_moves() -> None:
    ctl = make()
    t = T0
    outs = []
    while t < T0 + 6.0:
        jitter = 0.005 * math.sin(40 * t)  # a real pad wobbles a little at full deflection
        outs.append(drive(ctl, t, lx=1.0 - abs(jitter)))
        t += 0.1
    assert outs[10].twist[0] != 0.0  # one second in: still driving
    assert np.all(outs[-1].twist == 0.0) and outs[-1].status["mode"] == "hold"
    assert "pinned" in outs[-1].status["reason"]
    out = drive(ctl, t, lx=0.6)  # it moved: drive again
    assert out.twist[0] > 0.0 and out.status["mode"] == "latent"


def test_bad_joy_and_joint_states_give_zero_and_recover() -> None:
    ctl = make()
    for bad_axes in ([math.nan] * 8, [0.0, 1.0], [0.0] * 7 + [9.0], ["a"] * 8):
        ctl.on_joy(bad_axes, press(), T0)
        out = ctl.step(T0)
        assert np.all(out.twist == 0.0) and "bad /joy" in out.status["reason"], bad_axes
    for bad_q in ([math.nan] * 7, [0.0] * 6, "nonsense"):
        ctl.on_joy(axes(lx=1.0), press(), T0)
        ctl.on_joint_state(bad_q, T0)  # type: ignore[arg-type]
        out = ctl.step(T0)
        assert np.all(out.twist == 0.0) and "bad joint state" in out.status["reason"], bad_q
    assert drive(ctl, T0 + 0.1, lx=1.0).twist[0] != 0.0


@pytest.mark.parametrize("failure", ["nan", "raise"])
def test_model_failure_gives_zero_then_teleop_then_retries(failure: str) -> None:
    model = FakeActionModel(default_basis=np.stack([EX, EZ]))
    ctl = make(model)
    model.fail = failure
    out = drive(ctl, T0, lx=1.0)
    assert np.all(out.twist == 0.0) and out.status["mode"] == "hold"
    out = drive(ctl, T0 + 0.01, ly=1.0)
    assert out.status["mode"] == "teleop_fallback" and "model" in out.status["reason"]
    assert out.twist[0] == pytest.approx(0.15)  # teleop: up -> +x
    model.fail = None
    out = drive(ctl, T0 + 1.5, lx=1.0)  # after model_retry_s
    assert out.status["mode"] == "latent" and out.twist[0] == pytest.approx(0.15)


def test_non_orthonormal_basis_is_repaired_and_degenerate_one_rejected() -> None:
    model = FakeActionModel(default_basis=np.stack([2 * EX, EX + EY]))
    ctl = make(model)
    out = drive(ctl, T0, ly=1.0)
    np.testing.assert_allclose(out.twist[:3], [0.0, 0.15, 0.0], atol=1e-9)
    model.default_basis = np.stack([EX, EX])
    assert drive(ctl, T0 + 0.01, ly=1.0).status["mode"] == "hold"


def test_bc_policy_drives_while_pushed_and_gripper_follows_p_close() -> None:
    model = FakeActionModel(kind="bc", action=0.5 * EY, p_close=0.2)
    ctl = make(model)
    out = drive(ctl, T0)
    assert np.all(out.twist == 0.0) and out.status["mode"] == "policy" and model.calls == []
    out = drive(ctl, T0 + 0.01, ly=-0.5)  # any push is "go"
    np.testing.assert_allclose(out.twist, [0, 0.075, 0, 0, 0, 0], atol=1e-9)
    assert out.gripper is None  # open and p_close low: nothing to do
    model.p_close = 0.9
    assert drive(ctl, T0 + 0.02, lx=1.0).gripper == "close"
    assert drive(ctl, T0 + 0.03, lx=1.0).gripper is None  # edge only
    model.p_close = 0.1
    assert drive(ctl, T0 + 0.04, lx=1.0).gripper == "open"


def test_status_matches_the_schema_and_flags_changes() -> None:
    ctl = make()
    first = drive(ctl, T0, lx=1.0)
    SharedAutonomyStatus(**first.status)
    assert first.status_changed
    assert not drive(ctl, T0 + 0.01, lx=0.5).status_changed  # only z changed
    correct(ctl, "left", T0 + 0.02)
    out = drive(ctl, T0 + 0.02, lx=0.5)
    assert out.status_changed and out.status["utterance"] == "left"
    assert out.status["model_kind"] == "lilac" and out.status["model_name"] == "fake-lilac"


def test_default_forward_kinematics_is_the_panda() -> None:
    model = FakeActionModel()
    ctl = SharedAutonomyController(model=model)  # builds ArmKinematics (pinocchio)
    ctl.on_joint_state(Q, T0, 0.08)
    ctl.on_objects(OBJECTS, T0, T0)
    ctl.on_instruction(INSTRUCTION, T0)
    ctl.on_joy(axes(lx=1.0), press(), T0)
    assert ctl.step(T0).status["mode"] == "latent"
    ee = model.calls[-1]["state"][7:10]
    assert 0.2 < ee[0] < 0.7 and abs(ee[1]) < 0.05 and 0.2 < ee[2] < 0.7  # the home pose


CORRUPTIONS = ["ok"] * 6 + ["nan", "inf", "short", "big"]


def corrupt(axes8: list[float], how: str) -> list[float]:
    if how == "nan":
        return [math.nan] + axes8[1:]
    if how == "inf":
        return axes8[:1] + [-math.inf] + axes8[2:]
    if how == "short":
        return axes8[:7]
    if how == "big":
        return axes8[:3] + [1e9] + axes8[4:]
    return axes8


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.tuples(
        st.lists(st.floats(-1.0, 1.0), min_size=8, max_size=8),
        st.sampled_from(CORRUPTIONS),
        st.lists(st.integers(0, 1), min_size=11, max_size=11),
        st.sampled_from(["none", "left", "twist left", "faster", "faster", "undo", "reset",
                         "left and right", "juggle", "nan_dir", "none", "none"]),
        st.sampled_from([None, None, None, "nan", "raise", "huge"]),
        st.floats(0.0, 0.7),
    ), min_size=1, max_size=25),
    kind=st.sampled_from(["lilac", "bc"]),
)
def test_random_inputs_never_give_nan_or_over_limit_twists(steps: list[Any], kind: str) -> None:
    model = FakeActionModel(kind=kind, action=3.0 * (EX + WZ), p_close=0.7)
    ctl = make(model, max_linear_speed=0.2, max_angular_speed=0.8)
    t = T0
    for axes8, how, buttons, said, fail, dt in steps:
        t += dt
        model.fail = None if fail == "huge" else fail
        model.default_basis = 1e6 * XZ_BASIS if fail == "huge" else XZ_BASIS
        ax = corrupt(axes8, how)
        ctl.on_joy(ax, buttons, t)
        ctl.on_joint_state(Q, t, 0.04)
        ctl.on_objects(OBJECTS, t, t)
        if said == "nan_dir":
            correct(ctl, "left", t, type="direction", direction=(math.nan, 0, 0))
        elif said == "juggle":
            ctl.on_instruction("juggle", t)
        elif said != "none":
            correct(ctl, said, t)
        out = ctl.step(t)
        assert out.twist.shape == (6,) and np.all(np.isfinite(out.twist))
        assert np.linalg.norm(out.twist[:3]) <= 0.2 + 1e-12
        assert np.linalg.norm(out.twist[3:]) <= 0.8 + 1e-12
        SharedAutonomyStatus(**out.status)


def test_a_trained_checkpoint_drives_the_controller(trained: dict[str, Any], tmp_path: Any) -> None:
    """The real thing: a tiny LILAC trained on the synthetic data ("left" moves +y), saved,
    loaded, conditioned by a spoken correction; no shaping, so the motion is the model's."""
    from ifagent_ros.core.latent_actions.checkpoint import load_model, save_checkpoint

    paths = save_checkpoint(trained["lilac"], tmp_path, name="tiny-lilac")
    model = load_model(paths["pt"])
    ctl = SharedAutonomyController(
        SharedAutonomyConfig(
            shaping_weight_small=0.0, shaping_weight_medium=0.0, shaping_weight_large=0.0
        ),
        model,
        forward_kinematics=fake_fk,
    )
    assert ctl.model_name == "tiny-lilac"
    ctl.on_objects({"cube": (0.5, 0.2, 0.05)}, T0, T0)
    ctl.on_instruction("reach the cube", T0)
    correct(ctl, "move left", T0)
    assert ctl.stack.active.text == "move left" and ctl.stack.active.alpha == 0.0
    best_y = 0.0
    for angle in np.linspace(0.0, 2 * math.pi, 16, endpoint=False):
        ctl.on_joy(axes(math.cos(angle), math.sin(angle)), press(), T0)
        ctl.on_joint_state(Q, T0, 0.08)
        out = ctl.step(T0)
        assert out.status["mode"] == "latent", out.status["reason"]
        best_y = max(best_y, out.twist[1] / max(np.linalg.norm(out.twist[:3]), 1e-9))
    assert best_y > 0.8  # some stick direction moves (mostly) left
    ctl.on_instruction("juggle flamingos", T0)  # words the model never saw
    assert "unlike any training sentence" in ctl.last_event
