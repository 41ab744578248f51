"""`ifagent train`: train a shared-autonomy model and write its checkpoint and model card.

    ifagent train --model lilac --data data/shared_autonomy
    ifagent train --model bc --epochs 50 --device cpu --json

Writes ``<out>/<name>.pt`` (default name: the model kind) with ``<name>.md`` / ``<name>.json``
model cards, and prints the held-out figures, the training time and the per-step inference
time (numpy, CPU). ``--json`` prints one JSON object of the figures last. Exit code 2 for a
missing or malformed dataset or an encoder that cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

log = logging.getLogger("ifagent.train")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ifagent_ros.core.latent_actions.kinds import MODEL_KINDS  # only when `train` is chosen

    parser.add_argument("--model", choices=list(MODEL_KINDS), required=True,
                        help="model kind (core/latent_actions/kinds)")
    parser.add_argument("--data", default="data/shared_autonomy", help="dataset folder")
    parser.add_argument("--out", default="models", help="folder for the checkpoint and card")
    parser.add_argument("--name", default=None, help="file name stem (default: the model kind)")
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (default 100)")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--hidden", type=int, default=None)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--encoder",
        default=None,
        help="sentence encoder: a local sentence-transformers folder (default: the bundled "
        "all-MiniLM-L6-v2)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.latent_actions.checkpoint import (
        inference_timing,
        load_model,
        save_checkpoint,
    )
    from ifagent_ros.core.latent_actions.dataset import DatasetError, load_dataset
    from ifagent_ros.core.latent_actions.encoders import EncoderError, make_encoder
    from ifagent_ros.core.latent_actions.training import TrainConfig, train

    overrides = {
        k: getattr(args, k)
        for k in ("epochs", "batch", "lr", "hidden")
        if getattr(args, k) is not None
    }
    try:
        cfg = TrainConfig(model=args.model, device=args.device, seed=args.seed, **overrides)
    except ValueError as exc:
        print(f"ifagent train: {exc}", file=sys.stderr)
        return 2
    try:
        ds = load_dataset(args.data, heldout_seed_fraction=cfg.heldout_seed_fraction)
        encoder = make_encoder(args.encoder)
    except (DatasetError, EncoderError) as exc:
        print(f"ifagent train: {exc}", file=sys.stderr)
        return 2
    summary = ds.summary()
    print(
        f"train {cfg.model}: {summary['demos']} demos ({summary['steps']} steps) from "
        f"{args.data}, encoder {encoder.name}, device {cfg.device} ...",
        flush=True,
    )

    def progress(row: dict[str, float]) -> None:
        if not args.quiet:
            print(
                f"  epoch {row['epoch']:3d}  train {row['train_loss']:.5f}  held-out "
                f"{row['heldout_loss']:.5f}  ({row['seconds']:.0f} s)",
                flush=True,
            )

    try:
        result = train(ds, encoder, cfg, progress)
    except (DatasetError, RuntimeError, FloatingPointError) as exc:
        print(f"ifagent train: {exc}", file=sys.stderr)
        return 2
    paths = save_checkpoint(result, args.out, args.name)
    timing = inference_timing(load_model(paths["pt"], encoder=encoder))
    paths = save_checkpoint(result, args.out, args.name, timing)  # the card with the timing
    held = result.metrics["heldout"]
    figures = {
        "model": cfg.model,
        "checkpoint": str(paths["pt"]),
        "device": result.device,
        "train_seconds": round(result.train_seconds, 1),
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "stop_reason": result.stop_reason,
        "train_demos": result.data["model_train_demos"],
        "heldout_demos": result.data["model_heldout_demos"],
        "heldout_action_mse": held["action_mse"],
        "heldout_action_cosine": held["action_cosine"],
        "train_action_mse": result.metrics["train"]["action_mse"],
        "inference_p50_us": timing["p50_us"],
        "inference_p99_us": timing["p99_us"],
    }
    for key in ("best_z_mse", "best_z_cosine", "gripper_accuracy"):
        if key in held:
            figures[f"heldout_{key}"] = held[key]
    figures["heldout_action_mse_by_subset"] = held["action_mse_by_subset"]
    print(
        f"{cfg.model}: held-out action MSE {held['action_mse']:.4f}, cosine "
        f"{held['action_cosine']:.3f}"
        + (f", best-z MSE {held['best_z_mse']:.4f}" if "best_z_mse" in held else "")
        + f"; trained {result.train_seconds:.0f} s on {result.device} "
        f"({len(result.history)} epochs, best {result.best_epoch}); inference p50 "
        f"{timing['p50_us']:.0f} us, p99 {timing['p99_us']:.0f} us"
    )
    print(f"wrote {paths['pt']}, {paths['md']}, {paths['json']}")
    if args.json:
        print(json.dumps(figures))
    return 0


__all__ = ["add_arguments", "run"]
