"""Episodes of the shared-autonomy evaluation, in-process: the simulated user drives the arm
through the same core code the nodes run, without DDS.

Per step (``1 / user.rate_hz`` of sim time): the user sees the arm (with its reaction delay) and
gives a gamepad message and maybe words; words go through the :class:`CorrectionParser` into
:meth:`SharedAutonomyController.on_correction`, exactly as correction_node -> shared_autonomy_node;
the pad goes to the controller (LILAC / LILA / BC) or to the teleop mapping (the baseline, as
teleop_node); RB not held means no motion (the executor's deadman); the twist and gripper go to
:class:`TabletopArmEnv`, whose executor core applies the robot's limits and counts interventions.

A condition (``core/latent_actions/conditions.py``) is (name, interface, model file or None,
whether the person speaks). The user model (``core/latent_actions/pilots.py``: the simulated
person, or a laggy or noisy pilot wrapping it) is one per run. Seeds depend only on
(task, episode index), so every condition gets the same scenes, the same task phrasing and the
same person. Episodes run in ``workers`` processes (spawned; one PyBullet world each, a fresh one
per episode so an episode's result does not depend on which worker ran what before it).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.latent_actions.conditions import CONDITIONS, Condition
from ifagent_ros.core.latent_actions.pilots import USERS, make_user
from ifagent_ros.core.latent_actions.sim_user import SimUserConfig
from ifagent_ros.core.latent_actions.tasks import TASK_FAMILIES, Split, sample_task
from ifagent_ros.core.registry import lookup

TASKS: tuple[str, ...] = tuple(TASK_FAMILIES)  # the families run_episode can run
# The "easy" set: the five translation-only families of tasks.py the study started with.
EASY_TASKS: tuple[str, ...] = tuple(TASK_FAMILIES)
TASK_SETS: tuple[str, ...] = ("easy", "paper", "all")
PAPER_TASKS_MODULE = "ifagent_ros.core.latent_actions.paper_tasks"
__all__ = ["CONDITIONS", "EASY_TASKS", "TASKS", "TASK_SETS", "USERS", "Condition",
           "EpisodeResult", "EpisodeSpec", "episode_seed", "make_specs", "missing_models",
           "model_timings", "paper_tasks", "resolve_tasks", "run_episode", "run_episodes"]


def _paper_module() -> Any:
    """``core/latent_actions/paper_tasks.py`` (helper P's registry), or None before it exists."""
    import importlib

    try:
        return importlib.import_module(PAPER_TASKS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != PAPER_TASKS_MODULE:
            raise
        return None


def paper_tasks() -> tuple[str, ...]:
    """The paper's task families (LILAC's five) as ``paper_tasks.task_set("paper")`` registers
    them. ValueError saying so, and naming the families that exist, before that module exists."""
    mod = _paper_module()
    if mod is None:
        raise ValueError(f"the paper task set is not registered yet ({PAPER_TASKS_MODULE} does "
                         f"not exist); registered task families: {', '.join(TASK_FAMILIES)} "
                         "(--tasks easy)")
    return tuple(mod.task_set("paper"))


def _check_runnable(names: Sequence[str], what: str) -> None:
    """run_episode runs the families of ``tasks.TASK_FAMILIES`` (``sample_task`` in the
    tabletop of ``TabletopArmEnv``). A paper family is a clear error saying what is missing
    (never a made-up result); any other name: unknown, with the sets and families there are."""
    from ifagent_ros.core.latent_actions.tasks import TaskFamily

    other = [n for n in names if n not in TASK_FAMILIES]
    if not other:
        return
    mod = _paper_module()
    families: Mapping[str, Any] = getattr(mod, "PAPER_FAMILIES", {}) if mod is not None else {}
    unknown = [n for n in other if n not in families]
    if unknown:
        raise ValueError(f"{what}: unknown task {unknown}; task sets: {', '.join(TASK_SETS)}; "
                         f"task families: {', '.join([*TASK_FAMILIES, *families])}")
    no_plan = [n for n in other if type(families[n]).waypoints is TaskFamily.waypoints]
    plan = (f"the simulated operator has no plan (waypoints) for {', '.join(no_plan)}; "
            if no_plan else "")
    raise ValueError(f"{what}: {', '.join(other)} are registered in {PAPER_TASKS_MODULE} but "
                     f"this evaluation cannot run them yet: {plan}run_episode drives only the "
                     "easy tabletop (tasks.sample_task in sim/arm_env.TabletopArmEnv, not "
                     "sim/paper_env.PaperArmEnv); runnable task families: "
                     f"{', '.join(TASK_FAMILIES)} (--tasks easy)")


def resolve_tasks(text: str) -> list[str]:
    """``easy``, ``paper``, ``all`` (easy + paper) or comma-separated family names, each one
    this evaluation can run. ValueError naming the sets and families that exist otherwise."""
    text = text.strip()
    if text == "easy":
        return list(EASY_TASKS)
    if text in ("paper", "all"):
        names = [*paper_tasks()] if text == "paper" else [*EASY_TASKS, *paper_tasks()]
    else:
        names = [t.strip() for t in text.split(",") if t.strip()]
        if not names:
            raise ValueError(f"no task in {text!r}; task sets: {', '.join(TASK_SETS)}; task "
                             f"families: {', '.join(TASK_FAMILIES)}")
    names = list(dict.fromkeys(names))
    _check_runnable(names, f"--tasks {text}")
    return names


@dataclass(frozen=True)
class EpisodeSpec:
    condition: Condition
    task: str
    index: int
    seed: int
    split: Split = "heldout"
    timeout_s: float = 60.0
    model_path: str | None = None
    user: SimUserConfig = field(default_factory=SimUserConfig)
    give_up_s: float = 10.0  # no end-effector motion this long: the person gives up
    user_model: str = "sim"  # pilots.USERS: the simulated person, or a pilot wrapping it


@dataclass
class EpisodeResult:
    condition: str
    task: str
    index: int
    seed: int
    instruction: str
    success: bool
    end: str  # success | timeout | gave_up | user_done
    duration_s: float  # sim seconds run
    time_to_success_s: float | None
    stick_effort: float  # integral of |left stick| dt (stick-seconds)
    corrections: int
    said: list[str]
    reverts: int
    probes: int
    button_presses: int
    mode_switches: int
    interventions: int
    interventions_by_limit: dict[str, int]
    regrasps: int
    latent_fraction: float  # share of moving steps the model (not a fallback) drove
    fallbacks: dict[str, int]
    controller_step_us: list[float]
    wall_s: float
    user_model: str = "sim"
    pilot_overrides: int = 0  # messages whose stick the pilot replaced (0 for "sim")

    def row(self) -> dict[str, Any]:
        """One CSV row (lists and dicts flattened to text, timing lists left out)."""
        d = asdict(self)
        d.pop("controller_step_us")
        d["said"] = " | ".join(self.said)
        d["interventions_by_limit"] = ";".join(f"{k}={v}" for k, v in
                                               sorted(self.interventions_by_limit.items()))
        d["fallbacks"] = ";".join(f"{k}={v}" for k, v in sorted(self.fallbacks.items()))
        return d


def episode_seed(task: str, index: int, base_seed: int = 0) -> int:
    """The same scene, task and person for every condition: depends on (task, index) only."""
    return (zlib.crc32(f"{task}/{index}".encode()) ^ (base_seed * 2654435761)) & 0x7FFFFFFF


def make_specs(conditions: Sequence[Condition], tasks: Sequence[str], episodes: int,
               models_dir: str | Path, *, split: Split = "heldout", base_seed: int = 0,
               timeout_s: float = 60.0, user: SimUserConfig | None = None,
               user_model: str = "sim") -> list[EpisodeSpec]:
    user = user or SimUserConfig()
    lookup(USERS, user_model, "user model")  # refuse an unknown one before any episode runs
    out = []
    for cond in conditions:
        path = str(Path(models_dir) / cond.model_file) if cond.model_file else None
        for task in tasks:
            for i in range(episodes):
                out.append(EpisodeSpec(cond, task, i, episode_seed(task, i, base_seed), split,
                                       timeout_s, path, user, user_model=user_model))
    return out


ModelLoader = Callable[[str], Any]


def _default_loader(path: str) -> Any:
    from ifagent_ros.core.latent_actions.checkpoint import load_model

    return load_model(path)


def run_episode(spec: EpisodeSpec, model: Any = None) -> EpisodeResult:
    """One episode in a fresh headless world (``model``: the condition's loaded model)."""
    from ifagent_ros.core.campaign.tasks.shared_autonomy import SuccessJudge
    from ifagent_ros.core.control.teleop import TeleopMapper
    from ifagent_ros.core.language.parser import CorrectionParser
    from ifagent_ros.core.latent_actions.controller import SharedAutonomyController
    from ifagent_ros.sim.arm_env import TabletopArmEnv

    wall0 = time.perf_counter()
    rng = np.random.default_rng(spec.seed)
    task = sample_task(spec.task, rng, spec.split)
    interface = spec.condition.interface
    user = make_user(spec.user_model, task, interface, corrections=spec.condition.speaks,
                     split=spec.split, config=spec.user, seed=spec.seed)
    parser = CorrectionParser()
    env = TabletopArmEnv()
    try:
        obs = env.reset(seed=spec.seed)
        # the one success rule, as a campaign judges it (success settles SETTLE_S, then ends)
        judge = SuccessJudge(task, obs.objects)
        mapper = TeleopMapper() if interface == "teleop" else None
        ctl = None
        if mapper is None:
            ctl = SharedAutonomyController(model=model, forward_kinematics=env.kin.ee_pose)
            ctl.on_instruction(task.text, obs.time)
        dt = 1.0 / spec.user.rate_hz
        pad = user.pad.layout
        deadman = pad.deadman
        effort = 0.0
        mode_switches = 0
        interventions: dict[str, int] = {}
        step_us: list[float] = []
        moving_steps = latent_steps = 0
        previous = None
        end = "timeout"
        still_since, still_at = 0.0, np.asarray(obs.ee_position).copy()
        while obs.time < spec.timeout_s:
            now = obs.time
            user.observe(obs)
            out = user.step(now)
            if out.speech and ctl is not None:
                c = parser.parse(out.speech, previous=previous, stamp=now)
                ctl.on_correction(c, now)
                previous = c if c.type in ("direction", "rotation") else previous
            gripper = None
            if mapper is not None:
                t0 = time.perf_counter()
                t_out = mapper.update(out.axes, out.buttons, now)
                step_us.append((time.perf_counter() - t0) * 1e6)
                twist = np.array([*t_out.linear, *t_out.angular])
                mode_switches += int(t_out.mode_changed)
                if t_out.gripper_width is not None:
                    gripper = "open" if t_out.gripper_width > 0.04 else "close"
                user.observe_status({"teleop_mode": t_out.mode.value, "stamp": now})
            else:
                assert ctl is not None
                ctl.on_joy(out.axes, out.buttons, now)
                ctl.on_joint_state(obs.q, now, obs.gripper_width)
                ctl.on_objects({k: o.position for k, o in obs.objects.items()}, now, now)
                t0 = time.perf_counter()
                c_out = ctl.step(now)
                step_us.append((time.perf_counter() - t0) * 1e6)
                twist, gripper = c_out.twist, c_out.gripper
                if np.any(twist):
                    moving_steps += 1
                    latent_steps += int(c_out.status["mode"] in ("latent", "policy"))
            held = bool(out.buttons[deadman])
            if not held:
                twist = np.zeros(6)  # the executor's deadman
            effort += math.hypot(out.axes[pad.axis_left_x], out.axes[pad.axis_left_y]) * dt * held
            info = env.step(twist, gripper, duration=dt)
            for k, v in info.interventions.items():
                interventions[k] = interventions.get(k, 0) + v
            obs = env.observe()
            judge.observe(obs.time, obs.objects, obs.gripper_width, obs.ee_position)
            if judge.settled(obs.time):
                break
            if float(np.linalg.norm(obs.ee_position - still_at)) > 0.005:
                still_since, still_at = obs.time, np.asarray(obs.ee_position).copy()
            elif obs.time - still_since > spec.give_up_s:
                end = "gave_up"
                break
            if user.done and obs.time - still_since > 2.0:
                end = "user_done"
                break
        t_success = judge.first_success
        end = "success" if t_success is not None else end
        fallbacks = dict(ctl.fallbacks) if ctl is not None else {}
        return EpisodeResult(
            spec.condition.name, spec.task, spec.index, spec.seed, task.text,
            t_success is not None, end, round(obs.time, 3),
            None if t_success is None else round(t_success, 3), round(effort, 3),
            user.counts["corrections"], list(user.said), user.counts["reverts"],
            user.counts["probes"], user.counts["presses"], mode_switches,
            sum(interventions.values()), interventions, user.counts["regrasps"],
            round(latent_steps / moving_steps, 4) if moving_steps else 0.0, fallbacks,
            step_us, round(time.perf_counter() - wall0, 2), spec.user_model,
            int(getattr(user, "overrides", 0)))
    finally:
        env.close()


# ---------------------------------------------------------------------- many episodes
_WORKER: dict[str, Any] = {}


def _init_worker(loader: ModelLoader) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    _WORKER["loader"] = loader
    _WORKER["models"] = {}


def _model_for(path: str | None) -> Any:
    if path is None:
        return None
    models = _WORKER.setdefault("models", {})
    if path not in models:
        models[path] = _WORKER.get("loader", _default_loader)(path)
    return models[path]


def _run_one(spec: EpisodeSpec) -> EpisodeResult:
    return run_episode(spec, _model_for(spec.model_path))


def run_episodes(specs: Sequence[EpisodeSpec], workers: int = 2,
                 loader: ModelLoader = _default_loader,
                 progress: Callable[[EpisodeResult, int, int], None] | None = None,
                 ) -> list[EpisodeResult]:
    """All ``specs``; ``workers`` <= 1 runs here (``loader`` may then be any callable),
    otherwise in spawned processes (``loader`` must be picklable). Results in spec order."""
    results: list[EpisodeResult] = []
    order = {(s.condition.name, s.task, s.index): i for i, s in enumerate(specs)}
    if workers <= 1:
        _init_worker(loader)
        for spec in specs:
            results.append(_run_one(spec))
            if progress:
                progress(results[-1], len(results), len(specs))
    else:
        # Interleave conditions so that slow (failing) ones do not all land at the end.
        queue = sorted(specs, key=lambda s: (s.index, s.task, s.condition.name))
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(loader,)) as pool:
            for res in pool.imap_unordered(_run_one, queue):
                results.append(res)
                if progress:
                    progress(res, len(results), len(specs))
    results.sort(key=lambda r: order[(r.condition, r.task, r.index)])
    return results


def missing_models(conditions: Iterable[Condition], models_dir: str | Path
                   ) -> dict[str, str]:
    """condition -> why it cannot run (its checkpoint is missing), with the command to fix it."""
    out = {}
    for cond in conditions:
        if cond.model_file is None:
            continue
        path = Path(models_dir) / cond.model_file
        if not path.is_file():
            kind = Path(cond.model_file).stem
            out[cond.name] = (f"{path} not found: train it with `ifagent train --model {kind} "
                              f"--out {models_dir}` (after `ifagent collect`)")
    return out


def model_timings(conditions: Iterable[Condition], models_dir: str | Path,
                  loader: ModelLoader = _default_loader) -> dict[str, Mapping[str, Any]]:
    """Per-step inference time of each condition's model (``checkpoint.inference_timing``)."""
    from ifagent_ros.core.latent_actions.checkpoint import inference_timing
    from ifagent_ros.core.latent_actions.runtime import LoadedModel

    out: dict[str, Mapping[str, Any]] = {}
    for cond in conditions:
        if cond.model_file is None:
            continue
        model = loader(str(Path(models_dir) / cond.model_file))
        if isinstance(model, LoadedModel):
            out[cond.name] = inference_timing(model)
    return out
