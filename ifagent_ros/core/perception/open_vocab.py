"""Open-vocabulary 2-D object detection (OWLv2 through transformers), ROS-free.

``OpenVocabDetector`` loads a detector from a *local* checkpoint directory only (no hub
downloads) and turns an RGB image plus a list of text queries ("block", "bowl", ...) into
pixel-space boxes::

    detector = OpenVocabDetector(OpenVocabConfig(model_path="/models/owlv2-base-patch16-ensemble"))
    for det in detector.detect(rgb):            # rgb: H x W x 3 uint8
        print(det.label, det.score, det.box_xyxy)

Without a configured path the constructor raises :class:`DetectorUnavailable` naming the ROS
parameter to set (``detector.model_path`` by default), so a node can report a useful error
instead of a stack trace from deep inside transformers.

Box geometry: OWLv2 pads every image to a square (bottom/right, the image stays at the top-left
corner) before resizing it to the model resolution, so its normalised boxes are relative to the
*padded square*. The processor's post-processing scales them by ``max(height, width)`` when given
``target_sizes``; this module then clips them to the real image, so boxes are always in pixels of
the image passed to :meth:`OpenVocabDetector.detect`.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "Detection2D",
    "DetectorUnavailable",
    "OpenVocabConfig",
    "OpenVocabDetector",
    "available_backends",
    "batched_nms",
    "nms",
]

# Backend name -> `model_type` values (config.json) its checkpoints may declare.
_BACKEND_MODEL_TYPES: dict[str, tuple[str, ...]] = {"owlv2": ("owlv2",)}

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}

# How many distinct query tuples keep their tokenised text cached.
_TEXT_CACHE_SIZE = 8


class DetectorUnavailable(RuntimeError):
    """The detector cannot run: no weights configured, unreadable checkpoint, or missing device."""


@dataclass(frozen=True)
class OpenVocabConfig:
    """Settings of :class:`OpenVocabDetector` (mirrors the ``detector.*`` ROS parameters).

    Attributes:
        backend: Detector family; only ``"owlv2"`` is implemented (see :func:`available_backends`).
        model_path: Local directory holding a transformers checkpoint (config.json, weights,
            preprocessor and tokenizer files). Empty means "not configured".
        queries: Default text queries, used when :meth:`OpenVocabDetector.detect` gets none.
        score_threshold: Keep detections whose score (sigmoid of the best query logit) exceeds it.
        nms_iou: Non-maximum suppression IoU threshold in (0, 1]; 1.0 disables suppression.
        class_agnostic_nms: Suppress overlapping boxes across labels (True) or only among boxes
            with the same label (False).
        max_detections: Upper bound on returned detections (highest scores first).
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        dtype: ``"auto"`` (float16 on CUDA, float32 on CPU), ``"float32"``, ``"float16"`` or
            ``"bfloat16"``.
        parameter_name: Name of the ROS parameter holding ``model_path``, cited in errors.
    """

    backend: str = "owlv2"
    model_path: str = ""
    queries: tuple[str, ...] = ("block", "bowl", "plate", "mug")
    score_threshold: float = 0.2
    nms_iou: float = 0.5
    class_agnostic_nms: bool = False
    max_detections: int = 50
    device: str = "auto"
    dtype: str = "auto"
    parameter_name: str = "detector.model_path"

    def validate(self) -> None:
        """Raise ``ValueError`` for settings that can never work."""
        if self.backend not in _BACKEND_MODEL_TYPES:
            raise ValueError(
                f"unknown open-vocabulary backend {self.backend!r}; "
                f"available: {', '.join(available_backends())}"
            )
        _validate_queries(self.queries)
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"score_threshold must be in [0, 1], got {self.score_threshold}")
        if not 0.0 < self.nms_iou <= 1.0:
            raise ValueError(f"nms_iou must be in (0, 1], got {self.nms_iou}")
        if self.max_detections < 1:
            raise ValueError(f"max_detections must be >= 1, got {self.max_detections}")
        if self.dtype != "auto" and self.dtype not in _DTYPES:
            raise ValueError(
                f"dtype must be 'auto' or one of {sorted(_DTYPES)}, got {self.dtype!r}"
            )


@dataclass(frozen=True)
class Detection2D:
    """One detected object.

    Attributes:
        box_xyxy: (x_min, y_min, x_max, y_max) in pixels of the input image, clipped to it.
        label: The text query that matched best.
        score: Confidence in [0, 1].
        query_index: Index of ``label`` in the queries used for this call.
    """

    box_xyxy: tuple[float, float, float, float]
    label: str
    score: float
    query_index: int


def available_backends() -> list[str]:
    """Backends this module implements and whose transformers classes import."""
    backends = []
    try:
        from transformers import Owlv2ForObjectDetection  # noqa: F401
    except ImportError:
        pass
    else:
        backends.append("owlv2")
    return backends


# --------------------------------------------------------------------------------------------
# Non-maximum suppression (torchvision is not a dependency, so plain torch ops).


def box_iou(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of xyxy boxes: (N, 4) x (M, 4) -> (N, M). Degenerate boxes give IoU 0."""
    area_a = (boxes_a[:, 2] - boxes_a[:, 0]).clamp(min=0) * (boxes_a[:, 3] - boxes_a[:, 1]).clamp(
        min=0
    )
    area_b = (boxes_b[:, 2] - boxes_b[:, 0]).clamp(min=0) * (boxes_b[:, 3] - boxes_b[:, 1]).clamp(
        min=0
    )
    top_left = torch.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = torch.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy NMS: indices of the kept boxes, by decreasing score.

    A box is dropped when its IoU with an already kept, higher-scoring box exceeds
    ``iou_threshold`` (same convention as ``torchvision.ops.nms``).
    """
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {tuple(boxes.shape)}")
    if scores.shape != boxes.shape[:1]:
        raise ValueError(f"scores must have shape ({boxes.shape[0]},), got {tuple(scores.shape)}")
    order = torch.argsort(scores, descending=True, stable=True)
    if order.numel() == 0:
        return order
    iou = box_iou(boxes[order].float(), boxes[order].float())
    suppressed = torch.zeros(order.numel(), dtype=torch.bool, device=boxes.device)
    keep: list[int] = []
    for i in range(order.numel()):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long, device=boxes.device)]


def batched_nms(
    boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor, iou_threshold: float
) -> torch.Tensor:
    """Class-wise NMS: boxes with different ``labels`` never suppress each other.

    Uses the usual offset trick: each label's boxes are shifted so far apart that boxes of
    different labels cannot overlap, then one plain NMS runs.
    """
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    boxes = boxes.float()
    offset = labels.to(boxes) * (boxes.max() - boxes.min() + 1.0)
    return nms(boxes + offset[:, None], scores, iou_threshold)


# --------------------------------------------------------------------------------------------
# Input validation helpers.


def _validate_queries(queries: Sequence[str]) -> tuple[str, ...]:
    if isinstance(queries, str):
        raise ValueError(f"queries must be a sequence of strings, not one string ({queries!r})")
    cleaned = tuple(q.strip() if isinstance(q, str) else q for q in queries)
    if not cleaned:
        raise ValueError("at least one text query is needed")
    for q in cleaned:
        if not isinstance(q, str) or not q:
            raise ValueError(f"every query must be a non-empty string, got {queries!r}")
    return cleaned


def _validate_image(rgb: Any) -> np.ndarray:
    if not isinstance(rgb, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise ValueError(f"image must be uint8 RGB, got dtype {rgb.dtype}")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3) (RGB), got {rgb.shape}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"image must not be empty, got shape {rgb.shape}")
    return np.ascontiguousarray(rgb)


def _resolve_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise ValueError(f"invalid device {requested!r}: {exc}") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DetectorUnavailable(
                f"device {requested!r} requested for open-vocabulary detection but CUDA is not "
                f"available (torch {torch.__version__}); use device 'auto' or 'cpu'"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DetectorUnavailable(
                f"device {requested!r} requested but only {torch.cuda.device_count()} CUDA "
                "device(s) are visible"
            )
    elif device.type != "cpu":
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {requested!r}")
    return device


def _resolve_dtype(requested: str, device: torch.device) -> torch.dtype:
    if requested == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return _DTYPES[requested]


# --------------------------------------------------------------------------------------------


class OpenVocabDetector:
    """Text-prompted 2-D detector loaded from a local checkpoint (OWLv2).

    Not thread-safe: call :meth:`detect` from one thread at a time.
    """

    def __init__(self, config: OpenVocabConfig | None = None) -> None:
        self.config = config if config is not None else OpenVocabConfig()
        self.config.validate()
        self.model_dir = self._check_model_dir()
        self.device = _resolve_device(self.config.device)
        self.dtype = _resolve_dtype(self.config.dtype, self.device)
        self._processor, self._model = self._load()
        self._text_cache: OrderedDict[tuple[str, ...], dict[str, torch.Tensor]] = OrderedDict()

    # -- loading ---------------------------------------------------------------------------

    def _check_model_dir(self) -> Path:
        cfg = self.config
        param = cfg.parameter_name
        if not cfg.model_path.strip():
            raise DetectorUnavailable(
                "open-vocabulary detection needs local weights: set the parameter "
                f"'{param}' to a directory holding an OWLv2 checkpoint (config.json, "
                "model.safetensors, preprocessor and tokenizer files), e.g. a snapshot of "
                "google/owlv2-base-patch16-ensemble"
            )
        model_dir = Path(cfg.model_path).expanduser()
        if not model_dir.is_dir():
            raise DetectorUnavailable(
                f"'{param}' = '{model_dir}' is not a directory; it must hold an OWLv2 checkpoint "
                "(config.json, model.safetensors, preprocessor and tokenizer files)"
            )
        config_file = model_dir / "config.json"
        if not config_file.is_file():
            raise DetectorUnavailable(
                f"'{param}' = '{model_dir}' has no config.json; it must hold an OWLv2 checkpoint "
                "(config.json, model.safetensors, preprocessor and tokenizer files)"
            )
        try:
            model_type = json.loads(config_file.read_text()).get("model_type")
        except (OSError, ValueError) as exc:
            raise DetectorUnavailable(f"cannot read '{config_file}': {exc}") from exc
        expected = _BACKEND_MODEL_TYPES[cfg.backend]
        if model_type not in expected:
            raise DetectorUnavailable(
                f"'{param}' = '{model_dir}' holds a {model_type!r} checkpoint, but backend "
                f"{cfg.backend!r} needs model_type {' or '.join(map(repr, expected))}"
            )
        return model_dir

    def _load(self) -> tuple[Any, torch.nn.Module]:
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        try:
            processor = AutoProcessor.from_pretrained(self.model_dir, local_files_only=True)
            model = AutoModelForZeroShotObjectDetection.from_pretrained(
                self.model_dir, local_files_only=True, dtype=self.dtype
            )
        except (OSError, ValueError) as exc:
            raise DetectorUnavailable(
                f"cannot load the {self.config.backend} checkpoint from '{self.model_dir}' "
                f"('{self.config.parameter_name}'): {exc}"
            ) from exc
        model = model.to(self.device).eval()
        return processor, model

    # -- inference -------------------------------------------------------------------------

    def _text_inputs(self, queries: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Tokenised queries on the device, cached per query tuple."""
        cached = self._text_cache.get(queries)
        if cached is not None:
            self._text_cache.move_to_end(queries)
            return cached
        encoded = self._processor.tokenizer(
            list(queries), padding="max_length", truncation=True, return_tensors="pt"
        )
        text = {
            "input_ids": encoded["input_ids"].to(self.device),
            "attention_mask": encoded["attention_mask"].to(self.device),
        }
        self._text_cache[queries] = text
        if len(self._text_cache) > _TEXT_CACHE_SIZE:
            self._text_cache.popitem(last=False)
        return text

    def _image_inputs(self, rgb: np.ndarray) -> torch.Tensor:
        pixels = self._processor.image_processor(
            images=rgb, return_tensors="pt", input_data_format="channels_last"
        )["pixel_values"]
        return pixels.to(device=self.device, dtype=self.dtype)

    def detect(self, rgb: np.ndarray, queries: Sequence[str] | None = None) -> list[Detection2D]:
        """Detect the objects named by ``queries`` (default: the configured ones) in ``rgb``.

        Args:
            rgb: H x W x 3 uint8 RGB image.
            queries: Text queries; each detection's ``label`` is one of them.

        Returns:
            Detections above the score threshold, after NMS, sorted by decreasing score, at most
            ``max_detections`` of them.

        Raises:
            ValueError: bad image (not uint8, not H x W x 3) or bad queries.
        """
        image = _validate_image(rgb)
        query_tuple = _validate_queries(self.config.queries if queries is None else queries)
        height, width = image.shape[:2]
        cfg = self.config

        with torch.inference_mode():
            inputs = dict(self._text_inputs(query_tuple))
            inputs["pixel_values"] = self._image_inputs(image)
            outputs = self._model(**inputs)
            # Post-process in float32: half-precision pixel coordinates lose ~1 px at 1000 px.
            outputs.logits = outputs.logits.float()
            outputs.pred_boxes = outputs.pred_boxes.float()
            result = self._processor.post_process_grounded_object_detection(
                outputs=outputs, threshold=cfg.score_threshold, target_sizes=[(height, width)]
            )[0]
            boxes = result["boxes"].float()
            scores = result["scores"].float()
            labels = result["labels"].long()

            # Clip to the image (OWLv2 boxes may reach into the square padding), drop empty ones.
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0.0, float(width))
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0.0, float(height))
            valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
            valid &= scores >= cfg.score_threshold
            boxes, scores, labels = boxes[valid], scores[valid], labels[valid]

            if cfg.class_agnostic_nms:
                keep = nms(boxes, scores, cfg.nms_iou)
            else:
                keep = batched_nms(boxes, scores, labels, cfg.nms_iou)
            keep = keep[: cfg.max_detections]  # nms returns indices by decreasing score
            boxes, scores, labels = boxes[keep].cpu(), scores[keep].cpu(), labels[keep].cpu()

        return [
            Detection2D(
                box_xyxy=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                label=query_tuple[int(k)],
                score=float(s),
                query_index=int(k),
            )
            for b, s, k in zip(boxes.tolist(), scores.tolist(), labels.tolist(), strict=True)
        ]
