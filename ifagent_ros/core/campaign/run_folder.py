"""The run folder of a campaign: is it writable, is it ours (same scenario), what is finished,
which episodes this invocation selects. Errors are :class:`CampaignError` with the CLI's exit
code."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from ifagent_ros.core.campaign.types import CampaignIndex, EpisodeRecord, EpisodeSpec

__all__ = ["CampaignError", "load_finished", "plan_folder", "probe_writable", "select_specs"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_DISK_FULL, EXIT_INTERRUPTED = 0, 1, 2, 4, 130


class CampaignError(RuntimeError):
    """The campaign cannot start as asked; ``exit_code`` is what the CLI returns."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_finished(out: Path, specs: Sequence[EpisodeSpec]) -> dict[str, EpisodeRecord]:
    """Episodes of ``specs`` whose ``episode.json`` parses (the definition of finished)."""
    done: dict[str, EpisodeRecord] = {}
    for spec in specs:
        path = out / "episodes" / spec.episode_id / "episode.json"
        try:
            done[spec.episode_id] = EpisodeRecord.model_validate_json(path.read_bytes())
        except (OSError, ValueError, ValidationError):
            continue
    return done


def probe_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise CampaignError(f"cannot write the run folder --out {out}: "
                            f"{exc.strerror or exc}; choose a writable --out") from None


def plan_folder(out: Path, scenario_path: Path, sha: str, real: bool) -> CampaignIndex | None:
    """The existing index of ``out`` (a resume), None for a new folder, or CampaignError."""
    index_path = out / "campaign.json"
    if not index_path.exists():
        leftovers = [p.name for p in out.iterdir() if not p.name.startswith(".write-probe-")]
        if leftovers:  # resuming clears partial folders: never do that in a stranger's folder
            raise CampaignError(f"--out {out} is not empty and has no campaign.json (found "
                                f"{', '.join(sorted(leftovers)[:3])}); choose another --out")
        return None
    try:
        index = CampaignIndex.model_validate_json(index_path.read_bytes())
    except (OSError, ValueError, ValidationError) as exc:
        raise CampaignError(f"{index_path} is unreadable ({str(exc).splitlines()[0]}); "
                            f"choose another --out") from None
    if index.scenario_sha256 != sha:
        raise CampaignError(
            f"{out} holds a run of a different scenario file (sha256 {index.scenario_sha256[:12]}"
            f" there, {sha[:12]} for {scenario_path}); pass another --out (e.g. --out "
            f"{out}-2) to start a new campaign, or restore the scenario file to resume")
    if index.real != real:
        raise CampaignError(f"{out} holds a {'real-robot' if index.real else 'simulated'} "
                            f"campaign; pass another --out for a "
                            f"{'real-robot' if real else 'simulated'} one")
    return index


def select_specs(specs: list[EpisodeSpec], episodes: int | None,
            conditions: Sequence[str] | None) -> list[EpisodeSpec]:
    known = list(dict.fromkeys(s.condition for s in specs))
    if conditions:
        unknown = [c for c in conditions if c not in known]
        if unknown:
            raise CampaignError(f"--conditions: {', '.join(unknown)} not in the scenario "
                                f"(its conditions: {', '.join(known)})")
        specs = [s for s in specs if s.condition in set(conditions)]
    if episodes is not None:
        per_condition = max((s.index for s in specs), default=-1) + 1
        if not 1 <= episodes <= per_condition:
            raise CampaignError(f"--episodes {episodes}: the scenario has {per_condition} "
                                f"episodes per condition (use 1..{per_condition})")
        specs = [s for s in specs if s.index < episodes]
    return specs
