"""Open-vocabulary detector: real loading/inference path on a tiny random OWLv2, NMS, box mapping.

No weights can be downloaded here, so the checkpoint is a tiny ``Owlv2ForObjectDetection`` built
from a config (random weights), a character-level CLIP BPE tokenizer and an OWLv2 image processor,
all written with ``save_pretrained`` and loaded back through ``OpenVocabDetector``.
"""

from __future__ import annotations

import dataclasses
import json
import string
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ifagent_ros.core.perception.open_vocab import (
    Detection2D,
    DetectorUnavailable,
    OpenVocabConfig,
    OpenVocabDetector,
    available_backends,
    batched_nms,
    box_iou,
    nms,
)

IMAGE_SIZE = 64  # model input resolution (4 x 4 patches of 16 px -> 16 candidate boxes)
NUM_PATCHES = (IMAGE_SIZE // 16) ** 2
QUERIES = ("block", "bowl", "plate", "mug")


def _write_tiny_owlv2(directory: Path) -> None:
    """Save a random-weight OWLv2 checkpoint small enough to load and run in well under a second."""
    from transformers import (
        CLIPTokenizer,
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessorPil,
        Owlv2Processor,
    )

    # Character-level BPE vocabulary (no merges): every lower-case word tokenises offline.
    # Special tokens must not get id 0: OWLv2 treats a query whose first token is 0 as padding.
    letters = string.ascii_lowercase
    vocab = {c: i for i, c in enumerate(letters)}
    vocab.update({f"{c}</w>": len(letters) + i for i, c in enumerate(letters)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)

    image_processor = Owlv2ImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = Owlv2Processor(image_processor=image_processor, tokenizer=tokenizer)

    small = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
    }
    config = Owlv2Config(
        text_config={
            **small,
            "vocab_size": len(vocab),
            "max_position_embeddings": 16,
            "bos_token_id": vocab["<|startoftext|>"],
            "eos_token_id": vocab["<|endoftext|>"],
            "pad_token_id": vocab["<|endoftext|>"],
        },
        vision_config={**small, "image_size": IMAGE_SIZE, "patch_size": 16},
        projection_dim=32,
    )
    torch.manual_seed(0)
    Owlv2ForObjectDetection(config).save_pretrained(directory)
    processor.save_pretrained(directory)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tiny_owlv2")
    _write_tiny_owlv2(directory)
    return directory


@pytest.fixture(scope="module")
def detector(model_dir: Path) -> OpenVocabDetector:
    return OpenVocabDetector(
        OpenVocabConfig(model_path=str(model_dir), score_threshold=0.0, device="cpu")
    )


def _with(det: OpenVocabDetector, **changes: object) -> OpenVocabDetector:
    """Same loaded model, different post-processing settings (avoids reloading per test)."""
    clone = object.__new__(OpenVocabDetector)
    clone.__dict__.update(det.__dict__)
    clone.config = dataclasses.replace(det.config, **changes)
    clone.config.validate()
    return clone


@pytest.fixture()
def image() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, size=(90, 120, 3), dtype=np.uint8)


# ---- the real path on a tiny random model -----------------------------------------------------


def test_available_backends_lists_owlv2() -> None:
    assert "owlv2" in available_backends()


def test_detector_loads_on_cpu_in_eval_mode(detector: OpenVocabDetector) -> None:
    assert detector.device == torch.device("cpu")
    assert detector.dtype == torch.float32
    assert not detector._model.training


def test_reduced_precision_path_runs_on_cpu(model_dir: Path, image: np.ndarray) -> None:
    # The dtype path used on CUDA (float16 there); bfloat16 because it is fast on CPU.
    det = OpenVocabDetector(
        OpenVocabConfig(model_path=str(model_dir), device="cpu", dtype="bfloat16")
    )
    assert next(det._model.parameters()).dtype == torch.bfloat16
    for d in det.detect(image):
        assert 0.0 <= d.box_xyxy[0] < d.box_xyxy[2] <= image.shape[1]
        assert isinstance(d.score, float)


def test_detect_outputs_are_well_formed(detector: OpenVocabDetector, image: np.ndarray) -> None:
    dets = _with(detector, score_threshold=0.05).detect(image)
    assert dets, "a random model with a low threshold should produce some boxes"
    height, width = image.shape[:2]
    for det in dets:
        assert isinstance(det, Detection2D)
        x0, y0, x1, y1 = det.box_xyxy
        assert all(isinstance(v, float) for v in det.box_xyxy)
        assert 0.0 <= x0 < x1 <= width and 0.0 <= y0 < y1 <= height
        assert det.label in QUERIES and QUERIES[det.query_index] == det.label
        assert 0.05 <= det.score <= 1.0
    scores = [d.score for d in dets]
    assert scores == sorted(scores, reverse=True)


def test_nms_leaves_no_same_label_overlap(detector: OpenVocabDetector, image: np.ndarray) -> None:
    dets = _with(detector, nms_iou=0.3).detect(image)
    for label in QUERIES:
        boxes = torch.tensor([d.box_xyxy for d in dets if d.label == label]).reshape(-1, 4)
        iou = box_iou(boxes, boxes).fill_diagonal_(0.0)
        assert bool((iou <= 0.3 + 1e-6).all())
    agnostic = _with(detector, nms_iou=0.3, class_agnostic_nms=True).detect(image)
    boxes = torch.tensor([d.box_xyxy for d in agnostic]).reshape(-1, 4)
    assert bool((box_iou(boxes, boxes).fill_diagonal_(0.0) <= 0.3 + 1e-6).all())
    assert len(agnostic) <= len(dets)


def test_max_detections_is_honoured(detector: OpenVocabDetector, image: np.ndarray) -> None:
    unbounded = _with(detector, nms_iou=1.0).detect(image)
    assert len(unbounded) > 2
    capped = _with(detector, nms_iou=1.0, max_detections=2).detect(image)
    assert [d.score for d in capped] == [d.score for d in unbounded[:2]]


def test_threshold_one_gives_nothing(detector: OpenVocabDetector, image: np.ndarray) -> None:
    assert _with(detector, score_threshold=1.0).detect(image) == []


def test_queries_override_and_cache(detector: OpenVocabDetector, image: np.ndarray) -> None:
    det = _with(detector)
    det._text_cache = type(detector._text_cache)()
    dets = det.detect(image, ["mug", "plate"])
    assert dets and {d.label for d in dets} <= {"mug", "plate"}
    assert all(("mug", "plate")[d.query_index] == d.label for d in dets)
    det.detect(image, ("mug", "plate"))
    assert list(det._text_cache) == [("mug", "plate")]


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((90, 120, 3), dtype=np.float32),
        np.zeros((90, 120), dtype=np.uint8),
        np.zeros((90, 120, 4), dtype=np.uint8),
        np.zeros((0, 120, 3), dtype=np.uint8),
        [[[0, 0, 0]]],
    ],
    ids=["float32", "2d", "rgba", "empty", "list"],
)
def test_bad_image_is_a_value_error(detector: OpenVocabDetector, bad: object) -> None:
    with pytest.raises(ValueError, match="image"):
        detector.detect(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("queries", ["block", [], ["block", " "]])
def test_bad_queries_are_a_value_error(
    detector: OpenVocabDetector, image: np.ndarray, queries: object
) -> None:
    with pytest.raises(ValueError, match="quer"):
        detector.detect(image, queries)  # type: ignore[arg-type]


# ---- box mapping through OWLv2's square padding ---------------------------------------------


class _FixedOutputModel(torch.nn.Module):
    """Stands in for the model: returns known normalised boxes and logits."""

    def __init__(self, boxes_cxcywh: list[list[float]], logits: list[list[float]]) -> None:
        super().__init__()
        self.boxes = torch.tensor([boxes_cxcywh])
        self.logits = torch.tensor([logits])
        self.seen: dict[str, torch.Tensor] = {}

    def forward(self, **inputs: torch.Tensor) -> SimpleNamespace:
        self.seen = inputs
        return SimpleNamespace(logits=self.logits, pred_boxes=self.boxes)


def test_boxes_map_back_through_square_padding(detector: OpenVocabDetector) -> None:
    # OWLv2 pads (bottom/right) to a square before resizing, so normalised coordinates are
    # fractions of max(H, W), not of H and W separately.
    fake = _FixedOutputModel(
        boxes_cxcywh=[
            [0.25, 0.25, 0.2, 0.1],  # inside a 120 x 90 image: (18, 24, 42, 36)
            [0.5, 0.7, 0.4, 0.2],  # reaches into the bottom padding: y 72..96 -> clipped to 90
            [0.9, 0.9, 0.1, 0.1],  # in the padding of both test images: dropped
        ],
        logits=[[3.0, -5.0], [-5.0, 2.0], [4.0, -5.0]],
    )
    det = _with(detector, score_threshold=0.5)
    det._model = fake
    landscape = np.zeros((90, 120, 3), dtype=np.uint8)
    dets = det.detect(landscape, ["block", "bowl"])

    assert fake.seen["pixel_values"].shape == (1, 3, IMAGE_SIZE, IMAGE_SIZE)
    assert fake.seen["input_ids"].shape[0] == 2
    assert [d.label for d in dets] == ["block", "bowl"]
    np.testing.assert_allclose(dets[0].box_xyxy, (18.0, 24.0, 42.0, 36.0), atol=1e-4)
    np.testing.assert_allclose(dets[1].box_xyxy, (36.0, 72.0, 84.0, 90.0), atol=1e-4)
    assert dets[0].score == pytest.approx(float(torch.sigmoid(torch.tensor(3.0))))

    # Portrait image: the padding is on the right, x is clipped to the width.
    portrait = np.zeros((100, 60, 3), dtype=np.uint8)
    dets = det.detect(portrait, ["block", "bowl"])
    assert [d.label for d in dets] == ["block", "bowl"]
    np.testing.assert_allclose(dets[0].box_xyxy, (15.0, 20.0, 35.0, 30.0), atol=1e-4)
    np.testing.assert_allclose(dets[1].box_xyxy, (30.0, 60.0, 60.0, 80.0), atol=1e-4)


# ---- NMS on hand-made boxes -------------------------------------------------------------------


def test_nms_suppresses_overlapping_boxes() -> None:
    boxes = torch.tensor(
        [
            [0.0, 0.0, 10.0, 10.0],
            [1.0, 1.0, 11.0, 11.0],  # IoU 81/119 = 0.68 with box 0
            [20.0, 20.0, 30.0, 30.0],  # disjoint
            [0.0, 0.0, 10.0, 20.0],  # IoU 0.5 with box 0
        ]
    )
    scores = torch.tensor([0.95, 0.9, 0.5, 0.3])
    assert nms(boxes, scores, 0.5).tolist() == [0, 2, 3]  # IoU must exceed the threshold
    assert nms(boxes, scores, 0.45).tolist() == [0, 2]
    assert nms(boxes, scores, 1.0).tolist() == [0, 1, 2, 3]
    # A suppressed box suppresses nothing: C overlaps only the suppressed B (IoU 0.54) and stays.
    chain = torch.tensor([[0.0, 0.0, 10.0, 10.0], [3.0, 0.0, 13.0, 10.0], [6.0, 0.0, 16.0, 10.0]])
    assert nms(chain, torch.tensor([0.9, 0.8, 0.7]), 0.5).tolist() == [0, 2]
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).tolist() == []


def test_batched_nms_is_class_wise() -> None:
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [0.0, 0.0, 10.0, 10.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert batched_nms(boxes, scores, torch.tensor([0, 0, 1]), 0.5).tolist() == [0, 2]
    assert nms(boxes, scores, 0.5).tolist() == [0]
    assert batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0), 0.5).tolist() == []


def test_box_iou_values() -> None:
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [5.0, 5.0, 6.0, 6.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(box_iou(a, b).numpy(), [[1.0 / 7.0, 0.0, 0.0]], atol=1e-6)


# ---- configuration and clear errors -----------------------------------------------------------


def test_empty_model_path_names_the_parameter() -> None:
    with pytest.raises(DetectorUnavailable, match=r"detector\.model_path") as info:
        OpenVocabDetector(OpenVocabConfig())
    assert "owlv2" in str(info.value).lower()
    with pytest.raises(DetectorUnavailable, match=r"perception\.weights"):
        OpenVocabDetector(OpenVocabConfig(model_path=" ", parameter_name="perception.weights"))


def test_missing_directory_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_model"
    with pytest.raises(DetectorUnavailable, match="no_such_model"):
        OpenVocabDetector(OpenVocabConfig(model_path=str(missing)))


def test_directory_without_config_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DetectorUnavailable, match="config.json") as info:
        OpenVocabDetector(OpenVocabConfig(model_path=str(tmp_path)))
    assert str(tmp_path) in str(info.value)


def test_wrong_model_type_is_reported(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(DetectorUnavailable, match="'bert'"):
        OpenVocabDetector(OpenVocabConfig(model_path=str(tmp_path)))


def test_incomplete_checkpoint_is_detector_unavailable(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "owlv2"}))
    with pytest.raises(DetectorUnavailable, match=str(tmp_path)):
        OpenVocabDetector(OpenVocabConfig(model_path=str(tmp_path)))


def test_cuda_without_cuda_is_a_clear_error(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DetectorUnavailable, match="CUDA is not available"):
        OpenVocabDetector(OpenVocabConfig(model_path=str(model_dir), device="cuda"))


@pytest.mark.parametrize(
    "changes",
    [
        {"backend": "yolo"},
        {"score_threshold": 1.5},
        {"nms_iou": 0.0},
        {"max_detections": 0},
        {"dtype": "int8"},
        {"queries": ()},
        {"queries": "block"},
    ],
)
def test_invalid_config_is_a_value_error(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        OpenVocabDetector(dataclasses.replace(OpenVocabConfig(model_path="/x"), **changes))
