"""Phone edit distance over the CMU pronouncing dictionary that ships with pocketsphinx.

Used by :mod:`acceptance` to snap a recogniser's near miss ("Hold." for "halt", "dawn" for
"down") to the closest command word. The dictionary (135k words) is read lazily, once per
process (about 0.3 s), and cached; a missing dictionary (pocketsphinx not installed) disables
snapping, it never raises.

Distance: Levenshtein over phone sequences where insertion/deletion cost 1, substituting a
phone by one of the same class (vowel for vowel, stop for stop, ...) costs ``SAME_CLASS`` (0.5),
by its voicing twin (t/d, s/z) ``VOICING`` (0.25), and anything else 1. It is normalized by
the longer sequence, so 0 is identical and 1 is nothing alike. Many candidates are compared
at once with numpy (one pass over the query).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

SAME_CLASS = 0.5
VOICING = 0.25  # the voiced/voiceless twins (t/d, s/z, ...): what recognisers confuse most
_VOICING_PAIRS = ("P B", "T D", "K G", "F V", "TH DH", "S Z", "SH ZH", "CH JH")
_CLASSES = {
    "vowel": "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW",
    "stop": "P B T D K G",
    "fricative": "F V TH DH S Z SH ZH HH",
    "affricate": "CH JH",
    "nasal": "M N NG",
    "approximant": "L R W Y",
}
PHONES: tuple[str, ...] = tuple(p for ps in _CLASSES.values() for p in ps.split())
_INDEX = {p: i for i, p in enumerate(PHONES)}
_PAD = len(PHONES)  # padding index: substituting it is never chosen (huge cost)


def _substitution_costs() -> np.ndarray:
    cls = {p: c for c, ps in _CLASSES.items() for p in ps.split()}
    n = len(PHONES)
    cost = np.full((n + 1, n + 1), 1e3)
    for i, a in enumerate(PHONES):
        for j, b in enumerate(PHONES):
            cost[i, j] = 0.0 if a == b else (SAME_CLASS if cls[a] == cls[b] else 1.0)
    for pair in _VOICING_PAIRS:
        a, b = (_INDEX[p] for p in pair.split())
        cost[a, b] = cost[b, a] = VOICING
    return cost


_SUB = _substitution_costs()


def cmudict_path() -> Path | None:
    """The CMU dictionary inside the pocketsphinx package, or None without pocketsphinx."""
    try:
        import pocketsphinx
    except ImportError:
        return None
    root = Path(pocketsphinx.get_model_path())
    for path in (root / "en-us" / "cmudict-en-us.dict", root / "cmudict-en-us.dict"):
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=1)
def pronunciations() -> dict[str, tuple[tuple[str, ...], ...]]:
    """word -> its pronunciations (phone tuples); empty when the dictionary is missing."""
    path = cmudict_path()
    out: dict[str, list[tuple[str, ...]]] = {}
    if path is None:
        return {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2:
                continue
            word = parts[0].split("(", 1)[0].replace("'", "")
            phones = tuple(p for p in parts[1:] if p in _INDEX)
            if phones and len(phones) == len(parts) - 1:
                out.setdefault(word, []).append(phones)
    return {w: tuple(ps) for w, ps in out.items()}


def phones_of(text: str) -> tuple[tuple[str, ...], ...]:
    """Pronunciations of a word or a short phrase (words concatenated); () when one is unknown."""
    table = pronunciations()
    variants: list[tuple[str, ...]] = [()]
    for word in text.split():
        prons = table.get(word)
        if not prons:
            return ()
        variants = [v + p for v in variants for p in prons][:8]
    return tuple(v for v in variants if v)


class PhoneIndex:
    """Candidates (words or short phrases) with their pronunciations, for nearest-neighbour
    queries by normalized phone edit distance."""

    def __init__(self, candidates: Iterable[str]) -> None:
        texts, seqs = [], []
        for cand in dict.fromkeys(candidates):
            for pron in phones_of(cand):
                texts.append(cand)
                seqs.append(pron)
        self.texts: list[str] = texts
        self._lens = np.array([len(s) for s in seqs], dtype=np.int64)
        width = int(self._lens.max()) if seqs else 0
        self._codes = np.full((len(seqs), width), _PAD, dtype=np.int64)
        for i, s in enumerate(seqs):
            self._codes[i, : len(s)] = [_INDEX[p] for p in s]

    def __len__(self) -> int:
        return len(self.texts)

    def distances(self, query: Sequence[str], normalized: bool = True) -> np.ndarray:
        """Weighted edit distance from ``query`` (phones) to every candidate, divided by the
        longer sequence's length when ``normalized``."""
        n, width = self._codes.shape
        if n == 0 or not query:
            return np.ones(n)
        rows = np.arange(n)
        steps = np.arange(width + 1, dtype=float)
        prev = np.broadcast_to(steps, (n, width + 1)).copy()
        for i, phone in enumerate(query, start=1):
            sub = _SUB[_INDEX[phone]][self._codes]  # (n, width)
            best = np.empty_like(prev)
            best[:, 0] = i
            np.minimum(prev[:, :-1] + sub, prev[:, 1:] + 1.0, out=best[:, 1:])
            # insertions along the row: cur[j] = min_k<=j best[k] + (j - k), a running minimum
            prev = np.minimum.accumulate(best - steps, axis=1) + steps
        raw = prev[rows, self._lens]
        return raw / np.maximum(self._lens, len(query)) if normalized else raw


__all__ = ["SAME_CLASS", "PhoneIndex", "cmudict_path", "phones_of", "pronunciations"]
