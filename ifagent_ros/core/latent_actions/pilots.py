"""User models of the shared-autonomy evaluation: the simulated person, and pilots after Reddy,
Dragan and Levine, "Shared Autonomy via Deep Reinforcement Learning" (RSS 2018).

A pilot wraps an *operator*: a policy that knows the goal. Here it is the simulated user of
``sim_user.py`` (its goal tracking, probing, mode switching and corrections are kept as they
are); the pilot only corrupts the left-stick command the operator gives, every gamepad message:

* ``laggy``: with probability 0.8 it sends the stick command it sent last message again
  instead of the operator's (the first message has nothing to repeat and passes through);
* ``noisy``: with probability 0.15 it sends a stick command drawn uniformly from the pad's
  full range [-1, 1] on each axis instead of the operator's.

Everything else (buttons, the deadman, words) passes through, and the operator is never told:
like Reddy's pilots it keeps acting on what it meant to do. The corruption draws come from
their own generator seeded with the episode seed, so a pilot is deterministic given its seed and
does not change the operator's own random stream.

:data:`USERS` is the registry: name -> ``(operator, seed) -> user``. A new user model is one
class and one line there; :func:`make_user` builds one by name (ValueError naming the known
ones otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ifagent_ros.core.latent_actions.conditions import Interface
from ifagent_ros.core.latent_actions.sim_user import (
    SimulatedUser,
    SimUserConfig,
    UserOutput,
    user_for,
)
from ifagent_ros.core.latent_actions.tasks import Split, TaskInstance
from ifagent_ros.core.registry import lookup

__all__ = ["USERS", "LaggyPilot", "NoisyPilot", "Pilot", "make_user", "pilot_rng"]


def pilot_rng(seed: int) -> np.random.Generator:
    """The pilot's own generator: seeded by the episode seed, apart from the operator's."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x2018])


class Pilot:
    """Wraps an operator; :meth:`corrupt` may replace the stick of each message it gives.

    Reads like the operator for everything else (``pad``, ``done``, ``counts``, ``said``,
    ``tracker``, ``phase``, ...). ``overrides`` counts the messages whose stick it replaced and
    ``messages`` all messages it passed on."""

    name = "pilot"
    probability = 0.0

    def __init__(self, operator: Any, seed: int) -> None:
        self.operator = operator
        self.rng = pilot_rng(seed)
        self.messages = 0
        self.overrides = 0
        self._last: tuple[float, float] | None = None  # the stick it sent last message

    def __getattr__(self, attr: str) -> Any:  # everything it does not change: the operator's
        if attr == "operator":  # not set yet (unpickling): no recursion
            raise AttributeError(attr)
        return getattr(self.operator, attr)

    def observe(self, obs: Any) -> None:
        self.operator.observe(obs)

    def observe_status(self, status: dict[str, Any]) -> None:
        self.operator.observe_status(status)

    def step(self, now: float) -> UserOutput:
        out = self.operator.step(now)
        lay = self.operator.pad.layout
        meant = (float(out.axes[lay.axis_left_x]), float(out.axes[lay.axis_left_y]))
        sent = self.corrupt(meant)
        self.messages += 1
        if sent is not None:
            self.overrides += 1
            out.axes[lay.axis_left_x], out.axes[lay.axis_left_y] = sent
        self._last = sent if sent is not None else meant
        return out

    def corrupt(self, meant: tuple[float, float]) -> tuple[float, float] | None:
        """The stick to send instead of ``meant``, or None to pass it through."""
        raise NotImplementedError


class LaggyPilot(Pilot):
    """Repeats the stick it sent last message with probability 0.8 (Reddy et al. 2018)."""

    name = "laggy"
    probability = 0.8

    def corrupt(self, meant: tuple[float, float]) -> tuple[float, float] | None:
        lag = self.rng.random() < self.probability
        return self._last if lag and self._last is not None else None


class NoisyPilot(Pilot):
    """Sends a uniformly random stick with probability 0.15 (Reddy et al. 2018 use 0.3)."""

    name = "noisy"
    probability = 0.15

    def corrupt(self, meant: tuple[float, float]) -> tuple[float, float] | None:
        noise = self.rng.random() < self.probability
        stick = self.rng.uniform(-1.0, 1.0, 2)  # drawn every message: one stream per seed
        return (float(stick[0]), float(stick[1])) if noise else None


def _operator_itself(operator: SimulatedUser, seed: int) -> SimulatedUser:
    return operator


UserFactory = Callable[[SimulatedUser, int], Any]
USERS: dict[str, UserFactory] = {
    "sim": _operator_itself,  # the simulated person of sim_user.py, as it is
    "laggy": LaggyPilot,
    "noisy": NoisyPilot,
}


def make_user(name: str, task: TaskInstance, interface: Interface, *, corrections: bool,
              split: Split, config: SimUserConfig | None = None, seed: int = 0) -> Any:
    """User model ``name`` for one episode: the simulated person (``config``, ``seed``) as the
    operator, wrapped as :data:`USERS` says. ValueError naming the known models otherwise."""
    wrap = lookup(USERS, name, "user model")
    operator = user_for(task, interface, corrections=corrections, split=split, config=config,
                        seed=seed)
    return wrap(operator, int(seed))
