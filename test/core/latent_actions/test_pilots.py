"""The laggy and noisy pilots (after Reddy et al. 2018) and the registry of user models."""

from __future__ import annotations

import numpy as np
import pytest

from ifagent_ros.core.latent_actions.pilots import (
    USERS,
    LaggyPilot,
    NoisyPilot,
    make_user,
)
from ifagent_ros.core.latent_actions.sim_user import SimulatedUser, UserOutput, pad_for
from ifagent_ros.core.latent_actions.tasks import sample_task

PAD = pad_for("latent")
LAY = PAD.layout
STEPS = 20_000


class Operator:
    """A goal-knowing operator stand-in: a different stick every message (so a repeat or a
    replacement is visible), the deadman held and a button pressed every 7th message."""

    def __init__(self, seed: int = 1) -> None:
        self.pad = PAD
        self.rng = np.random.default_rng(seed)
        self.done = False
        self.counts = {"corrections": 0}
        self.seen: list[object] = []
        self.statuses: list[dict] = []
        self.n = 0

    def observe(self, obs: object) -> None:
        self.seen.append(obs)

    def observe_status(self, status: dict) -> None:
        self.statuses.append(status)

    def step(self, now: float) -> UserOutput:
        axes, buttons = LAY.neutral()
        axes[LAY.axis_left_x], axes[LAY.axis_left_y] = (float(v) for v in
                                                        self.rng.uniform(-0.9, 0.9, 2))
        buttons[LAY.deadman] = 1
        if self.n % 7 == 0:
            buttons[PAD.gripper_close] = 1
        self.n += 1
        return UserOutput(axes, buttons, speech="down" if self.n == 3 else None)


def _drive(pilot_cls, seed: int = 5, steps: int = STEPS):
    """(what the operator meant, what the pilot sent) per message."""
    op, twin = Operator(), Operator()  # twin: the same operator, unwrapped
    pilot = pilot_cls(op, seed)
    meant, sent = [], []
    for i in range(steps):
        out = pilot.step(i * 0.05)
        ref = twin.step(i * 0.05)
        assert out.buttons == ref.buttons and out.speech == ref.speech  # only the stick changes
        assert [a for k, a in enumerate(out.axes) if k not in (LAY.axis_left_x, LAY.axis_left_y)] \
            == [a for k, a in enumerate(ref.axes) if k not in (LAY.axis_left_x, LAY.axis_left_y)]
        meant.append((ref.axes[LAY.axis_left_x], ref.axes[LAY.axis_left_y]))
        sent.append((out.axes[LAY.axis_left_x], out.axes[LAY.axis_left_y]))
    return pilot, np.array(meant), np.array(sent)


def test_laggy_pilot_repeats_its_last_stick_with_probability_0_8() -> None:
    pilot, meant, sent = _drive(LaggyPilot)
    assert np.array_equal(sent[0], meant[0])  # nothing to repeat yet
    repeated = np.all(sent[1:] == sent[:-1], axis=1)
    passed = np.all(sent == meant, axis=1)
    assert np.all(repeated | passed[1:])  # every message: a repeat or the operator's own
    assert not np.any(repeated & passed[1:])  # the operator never repeats itself exactly
    rate = repeated.mean()
    assert abs(rate - 0.8) < 0.015, rate  # binomial sd 0.003 at 20 000 messages
    assert pilot.overrides == int(repeated.sum()) and pilot.messages == STEPS
    # a lag is a run: consecutive repeats keep the same stick, not the operator's latest
    runs = np.flatnonzero(repeated[1:] & repeated[:-1]) + 2
    assert runs.size and np.array_equal(sent[runs], sent[runs - 2])


def test_noisy_pilot_sends_a_uniform_random_stick_with_probability_0_15() -> None:
    pilot, meant, sent = _drive(NoisyPilot)
    replaced = ~np.all(sent == meant, axis=1)
    rate = replaced.mean()
    assert abs(rate - 0.15) < 0.01, rate  # binomial sd 0.0025
    noise = sent[replaced]
    assert np.all(np.abs(noise) <= 1.0)
    # uniform over the pad's full range, beyond the operator's 0.9: mean ~0, |x| > 0.9 ~10 %
    assert np.all(np.abs(noise.mean(axis=0)) < 0.05)
    assert 0.06 < np.mean(np.abs(noise) > 0.9) < 0.14
    assert pilot.overrides == int(replaced.sum())


@pytest.mark.parametrize("cls", [LaggyPilot, NoisyPilot])
def test_pilots_are_reproducible_from_their_seed(cls) -> None:
    _, _, a = _drive(cls, seed=11, steps=2000)
    _, _, b = _drive(cls, seed=11, steps=2000)
    _, _, c = _drive(cls, seed=12, steps=2000)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_pilot_passes_what_the_operator_sees_and_reads_like_it() -> None:
    op = Operator()
    pilot = NoisyPilot(op, 0)
    pilot.observe("frame")
    pilot.observe_status({"teleop_mode": "xy"})
    assert op.seen == ["frame"] and op.statuses == [{"teleop_mode": "xy"}]
    assert pilot.pad is PAD and pilot.counts is op.counts and pilot.done is False
    op.done = True
    assert pilot.done is True


def test_registry_builds_the_sim_user_and_pilots_around_it() -> None:
    assert set(USERS) >= {"sim", "laggy", "noisy"}
    task = sample_task("push", np.random.default_rng(0), "heldout")
    sim = make_user("sim", task, "latent", corrections=True, split="heldout", seed=3)
    laggy = make_user("laggy", task, "latent", corrections=True, split="heldout", seed=3)
    noisy = make_user("noisy", task, "teleop", corrections=False, split="heldout", seed=3)
    assert type(sim) is SimulatedUser and sim.config.seed == 3
    assert isinstance(laggy, LaggyPilot) and isinstance(laggy.operator, SimulatedUser)
    assert laggy.operator.config.seed == 3 and laggy.operator.corrections_enabled
    assert isinstance(noisy, NoisyPilot) and noisy.operator.interface == "teleop"
    assert noisy.pad.layout is noisy.operator.pad.layout


def test_unknown_user_model_names_the_known_ones() -> None:
    task = sample_task("push", np.random.default_rng(0), "heldout")
    with pytest.raises(ValueError, match="unknown user model 'drunk'.*sim, laggy, noisy"):
        make_user("drunk", task, "latent", corrections=True, split="heldout")
