"""Tracker: stable ids under motion, crossing, occlusion, new objects, stamp resets, votes."""

from __future__ import annotations

import numpy as np

from ifagent_ros.core.perception.tracker import Detection3D, Tracker, TrackerConfig

DT = 1.0 / 15.0
SIZE = np.array([0.04, 0.04, 0.04])


def det(x: float, y: float, color: str = "red", label: str = "block") -> Detection3D:
    return Detection3D(position=np.array([x, y, 0.02]), size=SIZE.copy(), label=label,
                       color=color, confidence=0.9)


def ids_by_color(tracks: list) -> dict[str, str]:
    return {t.color: t.id for t in tracks}


def test_ids_stable_while_objects_move_5mm_per_frame() -> None:
    tr = Tracker()
    start = [(0.4, 0.0), (0.5, 0.1), (0.6, -0.1)]
    dirs = [(1.0, 0.0), (0.0, -1.0), (-0.6, 0.8)]
    first = None
    for f in range(40):
        dets = [det(x + 0.005 * f * dx, y + 0.005 * f * dy, color=c)
                for (x, y), (dx, dy), c in zip(start, dirs, ("red", "green", "blue"), strict=True)]
        tracks = tr.update(dets, f * DT)
        assert len(tracks) == 3
        ids = ids_by_color(tracks)
        first = first or ids
        assert ids == first
        # The reported position is the newest detection.
        for t, d in zip(sorted(tracks, key=lambda t: t.color), sorted(dets, key=lambda d: d.color),
                        strict=True):
            np.testing.assert_allclose(t.position, d.position)
    assert len(set(first.values())) == 3


def test_assignment_maps_detections_to_their_tracks() -> None:
    tr = Tracker()
    tr.update([det(0.4, 0.0, "red"), det(0.6, 0.0, "blue")], 0.0)
    tracks = tr.update([det(0.6, 0.0, "blue"), det(0.4, 0.0, "red")], DT)  # order swapped
    by_color = ids_by_color(tracks)
    assert tr.assignment[0].id == by_color["blue"]
    assert tr.assignment[1].id == by_color["red"]


def test_crossing_objects_of_different_colours_keep_ids() -> None:
    tr = Tracker()
    first = None
    # Moving towards each other 1 cm per frame each, passing 1 cm apart.
    for f in range(21):
        a = det(0.4 + 0.01 * f, 0.0, "red")
        b = det(0.6 - 0.01 * f, 0.01, "green")
        tracks = tr.update([a, b] if f % 2 else [b, a], f * DT)
        assert len(tracks) == 2
        ids = ids_by_color(tracks)
        first = first or ids
        assert ids == first
        red = next(t for t in tracks if t.id == first["red"])
        np.testing.assert_allclose(red.position, a.position)


def test_occluded_object_held_then_dropped() -> None:
    cfg = TrackerConfig(max_missed_s=1.0)
    tr = Tracker(cfg)
    stamp = 0.0
    for _ in range(5):
        tracks = tr.update([det(0.4, 0.0, "red"), det(0.6, 0.0, "blue")], stamp)
        stamp += 0.1
    ids = ids_by_color(tracks)
    last_seen = stamp - 0.1
    # The blue one is hidden for 0.5 s: still reported, at its last position, with old last_seen.
    for _ in range(5):
        tracks = tr.update([det(0.4, 0.0, "red")], stamp)
        blue = [t for t in tracks if t.id == ids["blue"]]
        assert len(blue) == 1 and blue[0].last_seen == last_seen < stamp
        np.testing.assert_allclose(blue[0].position, [0.6, 0.0, 0.02])
        stamp += 0.1
    tracks = tr.update([det(0.4, 0.0, "red"), det(0.6, 0.0, "blue")], stamp)
    assert ids_by_color(tracks) == ids  # back: same id
    # Now hidden longer than max_missed_s: dropped, and a new id when it comes back.
    last_seen = stamp
    while stamp - last_seen <= cfg.max_missed_s + 0.05:
        stamp += 0.1
        tracks = tr.update([det(0.4, 0.0, "red")], stamp)
    assert [t.id for t in tracks] == [ids["red"]]
    tracks = tr.update([det(0.4, 0.0, "red"), det(0.6, 0.0, "blue")], stamp + 0.1)
    new_blue = ids_by_color(tracks)["blue"]
    assert new_blue not in ids.values()


def test_new_object_gets_a_new_id() -> None:
    tr = Tracker()
    tracks = tr.update([det(0.4, 0.0, "red")], 0.0)
    (red_id,) = [t.id for t in tracks]
    tracks = tr.update([det(0.4, 0.0, "red"), det(0.7, 0.2, "red")], DT)
    assert len(tracks) == 2
    ids = {t.id for t in tracks}
    assert red_id in ids
    new = next(t for t in tracks if t.id != red_id)
    np.testing.assert_allclose(new.position, [0.7, 0.2, 0.02])
    # Same colour and label but beyond the gate: a different object, not a jump.
    tr2 = Tracker(TrackerConfig(gate=0.06))
    a = tr2.update([det(0.4, 0.0)], 0.0)[0].id
    tracks = tr2.update([det(0.5, 0.0)], DT)
    assert a not in [t.id for t in tracks if np.allclose(t.position[:2], [0.5, 0.0])]


def test_stamp_going_backwards_resets() -> None:
    tr = Tracker()
    for f in range(5):
        old = tr.update([det(0.4, 0.0, "red"), det(0.6, 0.0, "blue")], 10.0 + f * DT)
    old_ids = {t.id for t in old}
    assert tr.update([], 1.0) == []  # a bag looping: earlier stamp, nothing held
    tracks = tr.update([det(0.4, 0.0, "red")], 1.0 + DT)
    assert len(tracks) == 1 and tracks[0].id not in old_ids
    assert tracks[0].hits == 1


def test_one_misread_colour_frame_does_not_change_colour() -> None:
    tr = Tracker()
    for f in range(10):
        tracks = tr.update([det(0.4, 0.0, "red")], f * DT)
    (oid,) = [t.id for t in tracks]
    tracks = tr.update([det(0.4, 0.0, "orange", label="mug")], 10 * DT)
    assert [(t.id, t.color, t.label) for t in tracks] == [(oid, "red", "block")]
    tracks = tr.update([det(0.4, 0.0, "red")], 11 * DT)
    assert [(t.id, t.color) for t in tracks] == [(oid, "red")]
    # A persistent change does win eventually.
    for f in range(12, 30):
        tracks = tr.update([det(0.4, 0.0, "orange")], f * DT)
    assert [(t.id, t.color) for t in tracks] == [(oid, "orange")]


def test_no_detections_no_tracks() -> None:
    tr = Tracker()
    assert tr.update([], 0.0) == []
    assert tr.assignment == {}
