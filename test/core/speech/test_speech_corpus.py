"""The spoken benchmark corpus: splits, sentences, noise at the stated SNR, reverb, scene words.

(Named test_speech_corpus.py: test/core/language/test_corpus.py already holds that basename.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.core.language.stop_words import is_stop
from ifagent_ros.core.speech.corpus import (
    CONDITIONS,
    HELDOUT_SPEEDS,
    HELDOUT_VOICES,
    TUNING_SPEEDS,
    TUNING_VOICES,
    VOICES,
    add_reverb,
    build_corpus,
    composition,
    expected_correction,
    make_noise,
    measured_snr_db,
    mix_at_snr,
    plan,
    scene_objects,
    scene_words,
    speech_bounds,
    synthesize,
)
from ifagent_ros.core.speech.corpus_sentences import COMMANDS, STOPISH

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                  reason="needs espeak-ng and sox")


@pytest.mark.parametrize("full", [False, True])
def test_heldout_voices_and_speed_never_in_the_tuning_split(full):
    utterances = plan(full=full)
    tuning = [u for u in utterances if u.split == "tuning"]
    heldout = [u for u in utterances if u.split == "heldout"]
    assert tuning and heldout
    assert all(u.voice in TUNING_VOICES and u.speed in TUNING_SPEEDS for u in tuning)
    assert all(u.voice in HELDOUT_VOICES or u.speed in HELDOUT_SPEEDS for u in heldout)
    assert not set(TUNING_VOICES) & set(HELDOUT_VOICES)
    # every held-out voice, every condition and every kind is in the corpus
    counts = composition(utterances)
    assert all(counts.get(f"n_voice_{v}", 0) > 0 for v in VOICES)
    assert all(counts.get(f"n_noise_{c}", 0) > 0 for c in CONDITIONS)
    assert all(counts.get(f"n_kind_{k}", 0) > 0 for k in ("command", "stop", "unrelated"))


def test_default_corpus_size_and_at_least_100_unrelated_sentences():
    utterances = plan()
    assert 250 <= len(utterances) <= 450  # decodes in minutes per backend on 2 cores
    unrelated = {u.text for u in utterances if u.kind == "unrelated"}
    assert len(unrelated) >= 100
    # none of it is a stop command, though some sounds like one ("the bus stopped")
    assert not [t for t in unrelated if is_stop(t)]
    assert any(STOPISH.search(t) for t in unrelated)
    # any prefix mixes the kinds (--limit)
    assert {u.kind for u in utterances[:6]} == {"command", "stop", "unrelated"}


def test_scene_words_come_from_random_scenes():
    utterances = plan()
    seeds = {u.scene_seed for u in utterances}
    assert len(seeds) >= 20 and min(seeds) >= 0
    named = 0
    for u in utterances:
        objects = scene_objects(u.scene_seed)
        words = scene_words(objects)
        assert words and all(len(w.split()) == 2 for w in words)
        labels = {o["label"] for o in objects}
        if u.kind == "command" and u.text not in COMMANDS:  # made from a scene template
            assert labels & set(u.text.split()), u.text  # the object is in that scene
            named += 1
    assert named >= 50


def test_every_command_has_a_correction_and_every_stop_is_a_stop():
    for u in plan():
        if u.kind == "command":
            assert expected_correction(u).type not in ("unknown", "stop"), u.text
        elif u.kind == "stop":
            assert expected_correction(u).type == "stop", u.text


def test_noise_is_mixed_at_the_stated_snr():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    speech = np.concatenate([np.zeros(4800), 8000 * np.sin(2 * np.pi * 220 * t)
                             * (0.5 + 0.5 * rng.random(16000)), np.zeros(4800)])
    speech = speech.astype(np.int16)
    for colour in ("white", "pink"):
        for snr in (20.0, 10.0):
            mixed = mix_at_snr(speech, make_noise(speech.shape[0], colour, 3), snr)
            assert mixed.dtype == np.int16 and mixed.shape == speech.shape
            assert abs(measured_snr_db(speech, mixed) - snr) < 0.5


@needs_espeak
def test_every_voice_speaks_and_noise_and_reverb_change_the_audio(tmp_path: Path):
    for voice in VOICES:
        audio = synthesize("move towards the red mug", voice, 190, tmp_path)
        start, end = speech_bounds(audio)
        assert 0.25 <= start < end and end - start > 0.5, voice
    speech = synthesize("go to the blue bowl", "en-us", 170, tmp_path)
    mixed = mix_at_snr(speech, make_noise(speech.shape[0], "pink", 1), 10.0)
    assert abs(measured_snr_db(speech, mixed) - 10.0) < 0.5
    wet = add_reverb(speech, tmp_path)
    assert wet.shape == speech.shape and wet.dtype == np.int16
    s, w = speech.astype(float), wet.astype(float)
    assert np.corrcoef(s, w)[0, 1] < 0.95  # not the same signal
    end = int(speech_bounds(speech)[1] * 16000)
    tail = slice(end + 800, end + 3200)  # 50..200 ms after the speech: the reverb's tail
    assert np.mean(w[tail] ** 2) > 10 * np.mean(s[tail] ** 2) + 1.0


@needs_espeak
def test_build_corpus_renders_labels_and_caches(tmp_path: Path):
    wanted = [u for u in plan() if u.kind == "stop" and u.text == "please stop now"][:1]
    wanted += plan()[:5]
    first = build_corpus(tmp_path, utterances=wanted)
    assert [u.path for u in first] == [u.path for u in wanted]
    for u in first:
        assert (tmp_path / u.path).exists()
        assert 0.2 < u.speech_start_s < u.speech_end_s < u.duration_s
        if u.kind == "stop":
            assert 0.0 < u.stop_end_s <= u.speech_end_s + 0.02
    assert first[0].stop_end_s < first[0].speech_end_s - 0.1  # "please stop" ends before "now"
    stamps = {u.path: (tmp_path / u.path).stat().st_mtime_ns for u in first}
    again = build_corpus(tmp_path, utterances=wanted)
    assert again == first
    assert stamps == {u.path: (tmp_path / u.path).stat().st_mtime_ns for u in again}


def test_a_perfect_transcript_of_the_corpus_is_judged_right():
    """Through the refusal as correction_node runs it: every reference command is accepted as
    its own correction, every stop is a stop, no unrelated sentence becomes a command (else the
    speech figures would blame the recogniser for a labelling or refusal fault)."""
    from ifagent_ros.bench.asr import make_act, reference_figures

    fig = reference_figures(plan(), make_act())
    assert fig == {"reference_correction_accuracy": 1.0,
                   "reference_unrelated_to_command_count": 0, "reference_stop_recall": 1.0}
