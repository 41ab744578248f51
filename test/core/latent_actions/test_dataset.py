"""Dataset writing/reading, validation errors, phrasing re-pairing and the held-out split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.core.latent_actions.dataset import (
    Dataset,
    DatasetError,
    DatasetMeta,
    DatasetWriter,
    label_alpha,
    load_dataset,
)


def _meta(**kw: object) -> DatasetMeta:
    args = dict(
        object_ids=("cube",),
        state_dim=20,
        action_rate_hz=10.0,
        phrasings={
            "push": {"train": ["push the {obj}", "shove the {obj}"], "heldout": ["nudge the {obj}"]}
        },
    )
    args.update(kw)
    return DatasetMeta(**args)  # type: ignore[arg-type]


def _demo(t: int = 5, s: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(t)
    return (
        rng.normal(size=(t, s)).astype(np.float32),
        rng.uniform(-1, 1, size=(t, 6)).astype(np.float32),
        np.zeros(t, np.float32),
    )


def _write(root: Path, n: int = 4) -> Path:
    with DatasetWriter(root, _meta()) as w:
        for i in range(n):
            split = "heldout" if i == 0 else "train"
            text = "nudge the red cube" if split == "heldout" else "push the red cube"
            w.add_demo(
                *_demo(3 + i),
                task="push",
                kind="task",
                text=text,
                split=split,
                alpha=1.0,
                seed=i,
                params={"obj": "red cube"},
            )
    return root


def test_round_trip(tmp_path: Path) -> None:
    _write(tmp_path)
    ds = load_dataset(tmp_path)
    assert [d.states.shape[0] for d in ds.demos] == [3, 4, 5, 6]
    np.testing.assert_array_equal(ds.demos[2].actions, _demo(5)[1])
    assert ds.meta.object_ids == ("cube",) and ds.meta.action_scale.linear == 0.15
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["demos"][1]["file"] == "demos/00001.npz" and index["demos"][1]["steps"] == 4


def test_phrasings_are_refilled_from_params_and_held_out_ones_never_used(tmp_path: Path) -> None:
    ds = load_dataset(_write(tmp_path))
    train = ds.split_demos("train")[0]
    assert ds.phrasings_for(train) == ["push the red cube", "shove the red cube"]
    held = ds.split_demos("heldout")
    assert ds.phrasings_for(held[0]) == [held[0].text]
    assert "nudge the red cube" not in {
        t for d in ds.split_demos("train") for t in ds.phrasings_for(d)
    }


def test_heldout_split_is_heldout_phrasings_plus_the_highest_seeds(tmp_path: Path) -> None:
    ds = load_dataset(_write(tmp_path, n=10), heldout_seed_fraction=0.2)
    assert ds.heldout_seeds == frozenset({8, 9})
    assert sorted(d.seed for d in ds.split_demos("heldout")) == [0, 8, 9]
    assert sorted(d.seed for d in ds.split_demos("train")) == list(range(1, 8))
    samples = ds.samples("heldout")
    assert len(samples) == 3 + 11 + 12
    assert samples.texts[samples.text_ids[0]] == "nudge the red cube"


def test_alpha_labels_come_from_the_parser() -> None:
    assert label_alpha("a bit more to the left") == 0.0
    assert label_alpha("tilt up") == 0.0
    assert label_alpha("towards the red bowl") == 1.0
    assert label_alpha("left", kind="task") == 1.0


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="index.json: missing"):
        load_dataset(tmp_path)


@pytest.mark.parametrize(
    "states, actions, gripper, match",
    [
        ((5, 21), (5, 6), (5,), "'states' has shape"),
        ((5, 20), (5, 7), (5,), "'actions' has shape"),
        ((5, 20), (5, 6), (4,), "'gripper_close' has shape"),
    ],
)
def test_writer_refuses_wrong_shapes(
    tmp_path: Path, states: tuple, actions: tuple, gripper: tuple, match: str
) -> None:
    w = DatasetWriter(tmp_path, _meta())
    with pytest.raises(DatasetError, match=match):
        w.add_demo(
            np.zeros(states),
            np.zeros(actions),
            np.zeros(gripper),
            task="push",
            kind="task",
            text="push it",
            split="train",
            alpha=1.0,
            seed=0,
        )


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("kind", "dance", "'kind'"),
        ("split", "test", "'split'"),
        ("alpha", 2.0, "'alpha'"),
        ("text", " ", "empty"),
    ],
)
def test_writer_refuses_bad_fields(tmp_path: Path, field: str, value: object, match: str) -> None:
    kw = dict(task="push", kind="task", text="push it", split="train", alpha=1.0, seed=0)
    kw[field] = value
    with pytest.raises(DatasetError, match=match):
        DatasetWriter(tmp_path, _meta()).add_demo(*_demo(), **kw)  # type: ignore[arg-type]


def test_reader_names_the_file_with_nan(tmp_path: Path) -> None:
    _write(tmp_path)
    s, a, g = _demo(5)
    s[2, 3] = np.nan
    np.savez(tmp_path / "demos" / "00002.npz", states=s, actions=a, gripper_close=g)
    with pytest.raises(DatasetError, match=r"00002\.npz: 'states' contains NaN"):
        load_dataset(tmp_path)


def test_reader_state_dim_mismatch(tmp_path: Path) -> None:
    _write(tmp_path)
    s, a, g = _demo(5, s=23)
    np.savez(tmp_path / "demos" / "00001.npz", states=s, actions=a, gripper_close=g)
    with pytest.raises(DatasetError, match=r"00001\.npz: 'states' has shape \(5, 23\)"):
        load_dataset(tmp_path)
    index = json.loads((tmp_path / "index.json").read_text())
    index["meta"]["state_dim"] = 35
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(DatasetError, match="meta.state_dim 35 does not match 1 object ids"):
        load_dataset(tmp_path)


def test_reader_missing_demo_file_and_array(tmp_path: Path) -> None:
    _write(tmp_path)
    (tmp_path / "demos" / "00003.npz").unlink()
    with pytest.raises(DatasetError, match=r"00003\.npz: missing"):
        load_dataset(tmp_path)
    np.savez(tmp_path / "demos" / "00003.npz", states=_demo()[0])
    with pytest.raises(DatasetError, match=r"00003\.npz: missing array\(s\) actions, gripper"):
        load_dataset(tmp_path)


@pytest.mark.parametrize("content", [b"", b"garbage bytes", b"PK\x03\x04truncated"])
def test_reader_corrupted_demo_file(tmp_path: Path, content: bytes) -> None:
    _write(tmp_path)
    (tmp_path / "demos" / "00002.npz").write_bytes(content)
    with pytest.raises(DatasetError, match=r"00002\.npz: unreadable"):
        load_dataset(tmp_path)


def test_reader_bad_index(tmp_path: Path) -> None:
    _write(tmp_path)
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(DatasetError, match="unreadable"):
        load_dataset(tmp_path)
    (tmp_path / "index.json").write_text(json.dumps({"meta": {"state_dim": 20}, "demos": []}))
    with pytest.raises(DatasetError, match="bad 'meta'"):
        load_dataset(tmp_path)


def test_unfillable_phrasing_is_reported(tmp_path: Path) -> None:
    with DatasetWriter(tmp_path, _meta()) as w:
        w.add_demo(
            *_demo(),
            task="push",
            kind="task",
            text="push it",
            split="train",
            alpha=1.0,
            seed=0,
            params={"thing": "cube"},
        )
    with pytest.raises(DatasetError, match="cannot be filled"):
        load_dataset(tmp_path)


def test_synthetic_fixture_is_consistent(synthetic: Dataset) -> None:
    texts = synthetic.all_texts()
    assert "shift left" in texts and "reach the cube" in texts
    train = synthetic.samples("train", texts)
    assert set(np.unique(train.alpha)) == {0.0, 1.0}
