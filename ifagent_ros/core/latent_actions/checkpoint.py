"""Model files: ``models/<name>.pt`` + a model card ``models/<name>.md`` / ``.json``.

The ``.pt`` (read with ``torch.load(weights_only=True)``: tensors, numbers, strings only) holds
the format and code version, the architecture, the state dict, the state layout (object ids,
state dim), the encoder (name, dim), the action scale and the training sentences with their
embeddings (for :meth:`LoadedModel.novelty`). :func:`load_model` checks every one of these
against this code and raises :class:`ModelFileError` naming the key at fault.

:func:`load_action_model` is what a node runs: it never raises (it says why there is no
model) and puts the sentence encoder on the chosen device.

Inference runs in numpy (:mod:`runtime`; weights exported from torch at load, equal to torch
within 1e-5): the language terms (FiLM gamma/beta for an utterance and, for LILAC at alpha = 0,
the whole basis) are cached per utterance, so a step is two small MLPs and a Gram-Schmidt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ifagent_ros.core.latent_actions.encoders import EncoderError, SentenceEncoder, make_encoder
from ifagent_ros.core.latent_actions.interface import ModelFileError
from ifagent_ros.core.latent_actions.runtime import LoadedModel, gram_schmidt_np
from ifagent_ros.core.latent_actions.state import ROBOT_STATE_DIM

if TYPE_CHECKING:
    from ifagent_ros.core.latent_actions.training import TrainResult

FORMAT = "ifagent-latent-action-model"
FORMAT_VERSION = 1
CODE_VERSION = "latent_actions/1"  # bump when the architecture or the forward pass changes
REQUIRED_KEYS = (
    "format",
    "format_version",
    "code_version",
    "arch",
    "state_dict",
    "state_layout",
    "encoder",
    "train_texts",
    "train_embeddings",
)


def save_checkpoint(
    result: TrainResult,
    out_dir: str | Path,
    name: str | None = None,
    timing: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Writes ``<name>.pt``, ``<name>.json`` and ``<name>.md``; returns their paths."""
    import torch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = name or result.arch.kind
    card = model_card(result, name, timing)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "code_version": CODE_VERSION,
        "arch": result.arch.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in result.model.state_dict().items()},
        "state_layout": {
            "object_ids": list(result.object_ids),
            "state_dim": int(result.arch.state_dim),
        },
        "encoder": {"name": result.encoder_name, "dim": int(result.arch.lang_dim)},
        "action_scale": dict(result.action_scale),
        "train_texts": list(result.train_texts),
        "train_embeddings": torch.from_numpy(np.asarray(result.train_embeddings, np.float32)),
        "card": json.dumps(card),
    }
    paths = {"pt": out / f"{name}.pt", "json": out / f"{name}.json", "md": out / f"{name}.md"}
    tmp = paths["pt"].with_suffix(".pt.tmp")
    torch.save(payload, tmp)
    tmp.replace(paths["pt"])
    paths["json"].write_text(json.dumps(card, indent=1) + "\n")
    paths["md"].write_text(card_markdown(card))
    return paths


def model_card(result: TrainResult, name: str, timing: dict[str, Any] | None) -> dict[str, Any]:
    hist = result.history
    every = max(1, len(hist) // 20)
    return {
        "name": name,
        "kind": result.arch.kind,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "code_version": CODE_VERSION,
        "encoder": result.encoder_name,
        "arch": result.arch.to_dict(),
        "train_config": {k: getattr(result.config, k) for k in result.config.__dataclass_fields__},
        "data": result.data,
        "device": result.device,
        "train_seconds": round(result.train_seconds, 1),
        "epochs_run": len(hist),
        "best_epoch": result.best_epoch,
        "stop_reason": result.stop_reason,
        "losses": [
            {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()}
            for i, row in enumerate(hist)
            if i % every == 0 or i == len(hist) - 1
        ],
        "metrics": result.metrics,
        "inference": timing or {},
    }


def card_markdown(card: dict[str, Any]) -> str:
    h, d = card["metrics"]["heldout"], card["data"]
    lines = [
        f"# Model card: {card['name']} ({card['kind']})",
        "",
        f"Trained {card['created_utc']} on {card['device']} in {card['train_seconds']} s "
        f"({card['epochs_run']} epochs, best {card['best_epoch']}; {card['stop_reason']}).",
        f"Sentence encoder: `{card['encoder']}`. Code version `{card['code_version']}`.",
        "",
        "## Data",
        "",
        f"- dataset: `{d['path']}` ({d['demos']} demos, {d['steps']} steps)",
        f"- this model: {d['model_train_demos']} train / {d['model_heldout_demos']} held-out "
        f"demos of kinds {', '.join(d['kinds'])}; {d['train_phrasings']} training phrasings",
        f"- tasks: {', '.join(d['tasks']) or '-'}",
        f"- corrections: {', '.join(d['corrections']) or '-'}",
        f"- held out: {sum(len(v) for v in d['heldout_phrasings'].values())} phrasing templates "
        f"and seeds {d['heldout_seeds']}",
        "",
        "## Held-out error",
        "",
        "| figure | value |",
        "|---|---|",
        f"| action MSE | {h['action_mse']:.4f} |",
        f"| action cosine | {h['action_cosine']:.3f} |",
    ]
    for key in ("best_z_mse", "best_z_cosine", "gripper_accuracy"):
        if key in h:
            lines.append(f"| {key.replace('_', ' ')} | {h[key]:.4f} |")
    for sub, v in h.get("action_mse_by_subset", {}).items():
        lines.append(f"| action MSE, {sub.replace('_', ' ')} | {v:.4f} |")
    lines += [
        "",
        f"Train action MSE: {card['metrics']['train']['action_mse']:.4f}.",
        "",
        "## Losses",
        "",
        "| epoch | train | held-out |",
        "|---|---|---|",
    ]
    lines += [
        f"| {r['epoch']} | {r['train_loss']:.5f} | {r['heldout_loss']:.5f} |"
        for r in card["losses"]
    ]
    if card.get("inference"):
        t = card["inference"]
        lines += [
            "",
            f"Inference per step (numpy, CPU): p50 {t['p50_us']:.1f} us, p99 {t['p99_us']:.1f} us.",
        ]
    return "\n".join(lines) + "\n"


# -- loading -------------------------------------------------------------------------------


def _read_payload(path: Path) -> dict[str, Any]:
    import torch

    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure: corrupted or foreign file
        raise ModelFileError(
            f"{path}: unreadable model file ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an ifagent latent-action model (key 'format')")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise ModelFileError(f"{path}: missing key(s) {', '.join(repr(k) for k in missing)}")
    if payload["format_version"] != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: key 'format_version' is {payload['format_version']}, "
            f"this code reads {FORMAT_VERSION}"
        )
    if payload["code_version"] != CODE_VERSION:
        raise ModelFileError(
            f"{path}: key 'code_version' is {payload['code_version']!r}, this "
            f"code is {CODE_VERSION!r} (retrain with `ifagent train`)"
        )
    return payload


def load_model(
    path: str | Path,
    encoder: SentenceEncoder | None = None,
    object_ids: Sequence[str] | None = None,
) -> LoadedModel:
    """Loads and checks a model file; ``object_ids``: the layout the caller will build states
    with (checked when given). :class:`ModelFileError` says which key does not match."""
    from ifagent_ros.core.latent_actions.kinds import get_model_kind
    from ifagent_ros.core.latent_actions.models import ArchConfig

    path = Path(path)
    p = _read_payload(path)
    try:
        arch = ArchConfig(**p["arch"])
        kind = get_model_kind(arch.kind)  # the checkpoint's kind string names its kind module
        model = kind.build(arch)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: key 'arch' does not fit this code ({exc})") from exc
    layout = p["state_layout"]
    ids = list(layout.get("object_ids", []))
    expected = ROBOT_STATE_DIM + 3 * len(ids)
    if layout.get("state_dim") != expected or arch.state_dim != expected:
        raise ModelFileError(
            f"{path}: key 'state_layout.state_dim' is {layout.get('state_dim')} "
            f"(arch {arch.state_dim}) but {len(ids)} object ids make "
            f"{expected}"
        )
    if object_ids is not None and list(object_ids) != ids:
        raise ModelFileError(
            f"{path}: key 'state_layout.object_ids' is {ids}, the caller uses {list(object_ids)}"
        )
    own = model.state_dict()
    sd = p["state_dict"]
    for key in own:
        if key not in sd:
            raise ModelFileError(f"{path}: state_dict is missing {key!r} (architecture differs)")
        if tuple(sd[key].shape) != tuple(own[key].shape):
            raise ModelFileError(
                f"{path}: state_dict {key!r} has shape {tuple(sd[key].shape)}, "
                f"this code expects {tuple(own[key].shape)}"
            )
    extra = [k for k in sd if k not in own]
    if extra:
        raise ModelFileError(f"{path}: state_dict has unexpected key {extra[0]!r}")
    weights = {k: v.detach().cpu().numpy() for k, v in sd.items()}
    if not all(np.isfinite(v).all() for v in weights.values()):
        raise ModelFileError(f"{path}: state_dict contains NaN or inf")
    enc_info = p["encoder"]
    if encoder is None:
        try:
            encoder = make_encoder(enc_info.get("name"))
        except EncoderError as exc:
            raise ModelFileError(
                f"{path}: key 'encoder.name' {enc_info.get('name')!r}: {exc}"
            ) from exc
    elif encoder.name != enc_info.get("name"):
        raise ModelFileError(
            f"{path}: key 'encoder.name' is {enc_info.get('name')!r}, the given "
            f"encoder is {encoder.name!r}"
        )
    if encoder.dim != enc_info.get("dim") or encoder.dim != arch.lang_dim:
        raise ModelFileError(
            f"{path}: key 'encoder.dim' is {enc_info.get('dim')} (arch "
            f"{arch.lang_dim}), the encoder gives {encoder.dim}"
        )
    emb = np.asarray(p["train_embeddings"])
    if emb.shape != (len(p["train_texts"]), arch.lang_dim):
        raise ModelFileError(
            f"{path}: key 'train_embeddings' has shape {emb.shape}, expected "
            f"({len(p['train_texts'])}, {arch.lang_dim})"
        )
    p = dict(p, train_embeddings=emb)
    return kind.runtime(p, weights, encoder, path)


def load_action_model(path: str | Path | None, device: str = "cpu"
                      ) -> tuple[LoadedModel | None, str | None]:
    """What a node runs: ``(model, None)``, or ``(None, why)`` when ``path`` is empty or the
    file does not load (never raises; the caller degrades to end-effector teleop).

    ``device`` is the sentence encoder's (``cpu`` | ``cuda`` | ``auto``: CUDA when there is
    one); inference itself is numpy. When the encoder cannot move there it stays on the CPU."""
    if not path:
        return None, "no model_path: end-effector teleop"
    try:
        model = load_model(path)
    except ModelFileError as exc:
        return None, f"model file error: {exc}"
    except Exception as exc:  # noqa: BLE001 - any load failure degrades to teleop
        return None, f"cannot load model {path}: {type(exc).__name__}: {exc}"
    _move_encoder(model, device)
    return model, None


def encoder_device(device: str) -> str:
    """``cpu`` | ``cuda`` for a requested ``cpu`` | ``cuda`` | ``auto``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _move_encoder(model: LoadedModel, device: str) -> None:
    if device == "cpu":
        return
    try:
        device = encoder_device(device)
        if device != "cpu":
            model.encoder = make_encoder(model.encoder.name, device=device)
    except Exception:  # noqa: BLE001 - the CPU encoder already works
        pass


def inference_timing(model: LoadedModel, steps: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Per-step CPU time of the model's run-time call (``action`` at alpha 1, stick pushed)
    with a fixed utterance (its language terms cached, as while the operator drives), plus the
    first call for a new utterance."""
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(steps, model.state_dim)).astype(np.float32)
    lang = rng.normal(size=model.lang_dim).astype(np.float32)
    lang /= np.linalg.norm(lang)
    stick = np.array([0.6, -0.3])

    def step(s: np.ndarray, v: np.ndarray) -> None:
        model.action(s, v, stick, 1.0)

    t0 = time.perf_counter()
    step(states[0], lang)
    first = time.perf_counter() - t0
    times = np.empty(steps)
    for i in range(steps):
        t0 = time.perf_counter()
        step(states[i], lang)
        times[i] = time.perf_counter() - t0
    us = times * 1e6
    return {
        "kind": model.kind,
        "steps": steps,
        "p50_us": float(np.percentile(us, 50)),
        "p99_us": float(np.percentile(us, 99)),
        "mean_us": float(us.mean()),
        "max_us": float(us.max()),
        "new_utterance_us": first * 1e6,
    }


__all__ = [
    "CODE_VERSION",
    "FORMAT",
    "FORMAT_VERSION",
    "LoadedModel",
    "ModelFileError",
    "gram_schmidt_np",
    "encoder_device",
    "inference_timing",
    "load_action_model",
    "load_model",
    "save_checkpoint",
]
