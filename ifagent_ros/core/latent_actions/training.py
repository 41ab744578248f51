"""Training shared by LILAC, LILA and BC (``ifagent train``).

Data: :func:`dataset.load_dataset`; each kind (``kinds/``) says which demos it trains on
(LILAC task and correction demos, LILA and BC task demos only: LILA has no corrections, BC is
the open-loop baseline). Every text a sample can carry is embedded once up front. Each epoch a
training demo is paired with one phrasing drawn uniformly from :meth:`Dataset.phrasings_for`
(its own text or another train phrasing of the same task instance; a kind that reads no
language keeps its own text); held-out demos keep their own text. Alpha per text is
:func:`dataset.label_alpha` (the correction parser).

Loss: the kind's ``loss`` (LILAC action-reconstruction MSE; LILA the same plus
``zero_stick_weight`` times the zero-stick term, zero by construction, see ``models``; BC
action MSE + ``gripper_weight`` * gripper BCE). Early stopping on the held-out loss (the best
epoch's weights are kept) and a wall time budget. Held-out figures: action MSE and cosine
similarity of the kind's action (latent models: the autoencoder's reconstruction), then the
kind's own (``heldout_figures``: latent models the best stick ``z* = clip(B a, -1, 1)``, the
exact least-squares z in the box since B's rows are orthonormal; BC the gripper accuracy). The
held-out set both picks the epoch and is reported, so its figures are slightly optimistic; the
simulated-user evaluation is the real test.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ifagent_ros.core.latent_actions.dataset import Dataset, DatasetError, Demo, label_alpha
from ifagent_ros.core.latent_actions.encoders import SentenceEncoder
from ifagent_ros.core.latent_actions.kinds import Batch, ModelKind, get_model_kind
from ifagent_ros.core.latent_actions.kinds.base import cosine
from ifagent_ros.core.latent_actions.models import ArchConfig

Device = Literal["auto", "cpu", "cuda"]


@dataclass
class TrainConfig:
    model: str = "lilac"  # a key of kinds.MODEL_KINDS
    epochs: int = 100
    batch: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    hidden: int = 128
    seed: int = 0
    device: Device = "auto"
    patience: int = 15  # epochs without a better held-out loss before stopping
    rephrase: bool = True  # pair train demos with other train phrasings of their instance
    heldout_seed_fraction: float = 0.1
    gripper_weight: float = 0.1  # BC
    zero_stick_weight: float = 1.0  # LILA
    max_seconds: float = 540.0  # wall-time budget (the issue asks <= 10 min on CPU)
    # torch CPU threads: these MLPs are too small to gain from more, and extra threads spin
    # against other processes (measured 4.5x slower with 2 threads on a busy 2-core machine)
    cpu_threads: int = 1

    def __post_init__(self) -> None:
        get_model_kind(self.model)  # ValueError naming the known kinds
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.epochs < 1 or self.batch < 1 or self.lr <= 0 or self.hidden < 1:
            raise ValueError("epochs, batch, hidden must be >= 1 and lr > 0")


def pick_device(device: Device) -> torch.device:
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' asked for but CUDA is not available")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class TrainResult:
    model: nn.Module  # the best epoch's weights, on the CPU, eval mode (the kind's build())
    arch: ArchConfig
    config: TrainConfig
    encoder_name: str
    train_texts: list[str]  # every phrasing seen in training (for novelty)
    train_embeddings: np.ndarray
    history: list[dict[str, float]]
    metrics: dict[str, Any]
    data: dict[str, Any]
    device: str
    train_seconds: float
    best_epoch: int
    stop_reason: str
    object_ids: tuple[str, ...]
    action_scale: dict[str, float] = field(default_factory=dict)


@dataclass
class _Split:
    states: torch.Tensor
    actions: torch.Tensor
    gripper: torch.Tensor
    step_demo: torch.Tensor  # index into the split's demo list, per step
    choices: list[list[tuple[int, float]]]  # per demo: (text id, alpha) it may be paired with
    subset: np.ndarray  # per step: 0 task, 1 correction; held-out phrasing adds 2


def _make_split(
    demos: list[Demo], ds: Dataset, tid: dict[str, int], device: torch.device, rephrase: bool
) -> _Split:
    choices = []
    for d in demos:
        texts = ds.phrasings_for(d) if rephrase else [d.text]
        choices.append([(tid[t], label_alpha(t, d.kind)) for t in texts])
    lens = [d.states.shape[0] for d in demos]
    subset = np.repeat([(d.kind == "correction") + 2 * (d.split == "heldout") for d in demos], lens)

    def cat(xs: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.concatenate(xs)).to(device)

    return _Split(
        states=cat([d.states for d in demos]),
        actions=cat([d.actions for d in demos]),
        gripper=cat([d.gripper_close for d in demos]),
        step_demo=torch.from_numpy(np.repeat(np.arange(len(demos)), lens)).to(device),
        choices=choices,
        subset=subset,
    )


def _pair(
    split: _Split, rng: np.random.Generator | None, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-step (text id, alpha): a random phrasing per demo (``rng``) or the demo's own."""
    picks = [c[rng.integers(len(c))] if rng is not None else c[0] for c in split.choices]
    text_of_demo = torch.tensor([p[0] for p in picks], dtype=torch.long, device=device)
    alpha_of_demo = torch.tensor([p[1] for p in picks], dtype=torch.float32, device=device)
    return text_of_demo[split.step_demo], alpha_of_demo[split.step_demo]


def _batch(split: _Split, idx: Any, emb: torch.Tensor, text_ids: torch.Tensor,
           alpha: torch.Tensor) -> Batch:
    return Batch(
        states=split.states[idx],
        lang=emb[text_ids[idx]],
        alpha=alpha[idx],
        actions=split.actions[idx],
        gripper=split.gripper[idx],
    )


@torch.no_grad()
def evaluate(
    model: Any,
    kind: ModelKind | str,
    cfg: TrainConfig,
    split: _Split,
    emb: torch.Tensor,
    device: torch.device,
) -> dict[str, Any]:
    """Held-out figures with every demo paired with its own text."""
    spec = get_model_kind(kind) if isinstance(kind, str) else kind
    model.eval()
    text_ids, alpha = _pair(split, None, device)
    preds, losses = [], []
    arrays: dict[str, list[np.ndarray]] = {}
    n = split.states.shape[0]
    for i in range(0, n, 4096):
        batch = _batch(split, slice(i, i + 4096), emb, text_ids, alpha)
        out = spec.loss(model, batch, cfg)
        losses.append(float(out.loss) * batch.actions.shape[0])
        preds.append(out.action.cpu().numpy())
        for key, arr in spec.heldout_arrays(model, batch, out).items():
            arrays.setdefault(key, []).append(arr)
    true = split.actions.cpu().numpy()
    pred = np.concatenate(preds)
    res: dict[str, Any] = {"loss": sum(losses) / n, "steps": int(n)}
    res["action_mse"] = float(np.mean((pred - true) ** 2))
    res["action_cosine"] = cosine(pred, true)
    names = {
        0: "task_seen_phrasing",
        1: "correction_seen_phrasing",
        2: "task_heldout_phrasing",
        3: "correction_heldout_phrasing",
    }
    res["action_mse_by_subset"] = {
        names[k]: float(np.mean((pred[split.subset == k] - true[split.subset == k]) ** 2))
        for k in names
        if np.any(split.subset == k)
    }
    joined = {key: np.concatenate(parts) for key, parts in arrays.items()}
    res.update(spec.heldout_figures(joined, true, split.gripper.cpu().numpy()))
    return res


def train(
    ds: Dataset,
    encoder: SentenceEncoder,
    cfg: TrainConfig,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Trains ``cfg.model`` on ``ds``; deterministic for a seed on one device."""
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, cfg.cpu_threads))
    try:
        return _train(ds, encoder, cfg, progress)
    finally:
        torch.set_num_threads(threads)


def _train(
    ds: Dataset,
    encoder: SentenceEncoder,
    cfg: TrainConfig,
    progress: Callable[[dict[str, float]], None] | None,
) -> TrainResult:
    t_start = time.perf_counter()
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    ds.heldout_seed_fraction = cfg.heldout_seed_fraction
    spec = get_model_kind(cfg.model)
    demo_kinds = spec.demo_kinds
    rephrase = cfg.rephrase and spec.language  # a language-blind model: one text per demo
    train_demos = [d for d in ds.split_demos("train") if d.kind in demo_kinds]
    held_demos = [d for d in ds.split_demos("heldout") if d.kind in demo_kinds]
    if not train_demos or not held_demos:
        raise DatasetError(
            f"{ds.root}: {cfg.model} needs train and held-out demos of kinds "
            f"{demo_kinds}; have {len(train_demos)} train, {len(held_demos)} held-out"
        )
    train_texts = sorted(
        {t for d in train_demos for t in (ds.phrasings_for(d) if rephrase else [d.text])}
    )
    texts = train_texts + sorted({d.text for d in held_demos} - set(train_texts))
    tid = {t: i for i, t in enumerate(texts)}
    emb_np = encoder.encode(texts)
    emb = torch.from_numpy(emb_np).to(device)
    tr = _make_split(train_demos, ds, tid, device, rephrase)
    ho = _make_split(held_demos, ds, tid, device, False)

    arch = ArchConfig(
        kind=cfg.model, state_dim=ds.meta.state_dim, lang_dim=encoder.dim, hidden=cfg.hidden
    )
    model = spec.build(arch).to(device)
    model.state_norm.fit(tr.states)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs, eta_min=cfg.lr * 0.05)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    n = tr.states.shape[0]
    history: list[dict[str, float]] = []
    best_loss, best_epoch, best_state = float("inf"), -1, None
    stop_reason = "epochs"
    for epoch in range(cfg.epochs):
        model.train()
        text_ids, alpha = _pair(tr, rng if rephrase else None, device)
        perm = torch.randperm(n, generator=gen).to(device)
        total = 0.0
        for i in range(0, n, cfg.batch):
            idx = perm[i : i + cfg.batch]
            loss = spec.loss(model, _batch(tr, idx, emb, text_ids, alpha), cfg).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.shape[0]
        sched.step()
        held = evaluate(model, spec, cfg, ho, emb, device)
        row = {
            "epoch": epoch,
            "train_loss": total / n,
            "heldout_loss": held["loss"],
            "heldout_action_mse": held["action_mse"],
            "seconds": time.perf_counter() - t_start,
        }
        history.append(row)
        if progress is not None:
            progress(row)
        if not (np.isfinite(row["train_loss"]) and np.isfinite(row["heldout_loss"])):
            raise FloatingPointError(
                f"training diverged at epoch {epoch} (train loss "
                f"{row['train_loss']}, held-out {row['heldout_loss']})"
            )
        if held["loss"] < best_loss - 1e-7:
            best_loss, best_epoch = held["loss"], epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= cfg.patience:
            stop_reason = f"early stop: no better held-out loss for {cfg.patience} epochs"
            break
        if row["seconds"] > cfg.max_seconds:
            stop_reason = f"time budget {cfg.max_seconds:.0f} s"
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    metrics = {
        "heldout": evaluate(model, spec, cfg, ho, emb, device),
        "train": evaluate(model, spec, cfg, tr, emb, device),
    }
    model = model.cpu().eval()
    seconds = time.perf_counter() - t_start
    data = ds.summary()
    data.update(
        model_train_demos=len(train_demos),
        model_heldout_demos=len(held_demos),
        kinds=list(demo_kinds),
        train_phrasings=len(train_texts),
    )
    scale = ds.meta.action_scale
    return TrainResult(
        model=model,
        arch=arch,
        config=cfg,
        encoder_name=encoder.name,
        train_texts=train_texts,
        train_embeddings=emb_np[: len(train_texts)],
        history=history,
        metrics=metrics,
        data=data,
        device=str(device),
        train_seconds=seconds,
        best_epoch=best_epoch,
        stop_reason=stop_reason,
        object_ids=tuple(ds.meta.object_ids),
        action_scale=asdict(scale) if not isinstance(scale, dict) else dict(scale),
    )


__all__ = ["TrainConfig", "TrainResult", "evaluate", "pick_device", "seed_everything", "train"]
