"""Campaign progress on a stream (stderr): one updating line on a terminal, else one line per
finished episode; the end-of-run summary and its JSON form."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from ifagent_ros.core.campaign.types import EpisodeRecord

__all__ = ["ConditionTally", "Progress", "format_duration", "tally"]


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


@dataclass
class ConditionTally:
    """Finished episodes of one condition. ``rate``: successes over the *counted* episodes
    (ok + failed); invalid ones (operator) are excluded, as the report does."""

    finished: int = 0
    ok: int = 0
    failed: int = 0
    invalid: int = 0
    successes: int = 0

    @property
    def counted(self) -> int:
        return self.ok + self.failed

    @property
    def rate(self) -> float | None:
        return self.successes / self.counted if self.counted else None

    def add(self, record: EpisodeRecord) -> None:
        self.finished += 1
        if record.status == "ok":
            self.ok += 1
        elif record.status == "failed":
            self.failed += 1
        else:
            self.invalid += 1
        self.successes += int(record.success and record.status == "ok")


def tally(records: Iterable[EpisodeRecord], conditions: Iterable[str] = ()
          ) -> dict[str, ConditionTally]:
    out = {c: ConditionTally() for c in conditions}
    for record in records:
        out.setdefault(record.spec.condition, ConditionTally()).add(record)
    return out


@dataclass
class Progress:
    """Counts of the campaign and their one-line rendering. ``stream=None``: silent."""

    stream: TextIO | None
    total: int
    workers: int
    done: int = 0                 # finished episodes, resumed ones included
    successes: int = 0
    counted: int = 0              # ok + failed (the denominator of the success rate)
    failed: int = 0
    running: int = 0
    skipped: int = 0
    walls: list[float] = field(default_factory=list)   # episodes run by this invocation
    started: float = field(default_factory=time.monotonic)
    _tty: bool = False
    _width: int = 0

    def __post_init__(self) -> None:
        isatty = getattr(self.stream, "isatty", None)
        self._tty = bool(isatty and isatty())

    def resumed(self, records: Iterable[EpisodeRecord]) -> None:
        n = 0
        for record in records:
            self._count(record)
            n += 1
        if n:
            self.message(f"resuming: {n}/{self.total} finished")

    def _count(self, record: EpisodeRecord) -> None:
        self.done += 1
        self.failed += record.status == "failed"
        self.counted += record.status in ("ok", "failed")
        self.successes += int(record.success and record.status == "ok")

    def episode_started(self) -> None:
        self.running += 1
        self._render()

    def episode_ended(self, record: EpisodeRecord | None, wall_s: float) -> None:
        """``record`` None: the episode did not finish (skipped, interrupted)."""
        self.running = max(0, self.running - 1)
        if record is None:
            self._render()
            return
        self._count(record)
        self.walls.append(wall_s)
        what = ("success" if record.success else "no success") if record.status == "ok" else (
            record.status)
        self._render(f"{record.spec.episode_id}: {what} ({wall_s:.1f} s)")

    def eta_s(self) -> float | None:
        if not self.walls:
            return None
        remaining = self.total - self.done - self.skipped
        mean = sum(self.walls) / len(self.walls)
        return mean * remaining / max(1, self.workers)

    def line(self) -> str:
        rate = f"{100.0 * self.successes / self.counted:.0f}%" if self.counted else "-"
        eta = self.eta_s()
        return (f"[campaign] {self.done}/{self.total} done | success {self.successes} ({rate}) "
                f"| running {self.running} | failed {self.failed} | ETA "
                f"{format_duration(eta) if eta is not None else '?'}")

    def _render(self, event: str | None = None) -> None:
        if self.stream is None:
            return
        if self._tty:
            text = self.line()
            pad = max(0, self._width - len(text))
            self._width = len(text)
            self.stream.write("\r" + text + " " * pad)
        elif event is not None:  # a log file: one line per finished episode
            self.stream.write(f"{self.line()} | {event}\n")
        else:
            return
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line of its own (the updating line is redrawn below it on a terminal)."""
        if self.stream is None:
            return
        if self._tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self.stream.write(text + "\n")
        self.stream.flush()
        if self._tty and self.running:
            self._render()

    def close(self) -> None:
        if self.stream is not None and self._tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def summary_lines(result: Any) -> list[str]:
    """The end-of-run summary of a :class:`~ifagent_ros.core.campaign.runner.CampaignResult`."""
    lines = [f"campaign {result.name}: {result.finished}/{result.total} episodes finished "
             f"({result.ran} run now, {result.resumed} from before), {result.failed} failed, "
             f"{result.invalid} invalid, {result.skipped} skipped",
             f"  backend {result.backend}, {result.workers} worker(s), wall "
             f"{format_duration(result.wall_s)}, {result.episodes_per_hour:.1f} episodes/hour"]
    for cond, t in result.conditions.items():
        rate = f"{100.0 * t.rate:.0f}%" if t.rate is not None else "-"
        lines.append(f"  {cond:<16} success {t.successes}/{t.counted} ({rate})"
                     f"  failed {t.failed}  invalid {t.invalid}")
    lines.append(f"  run folder: {result.out}")
    return lines
