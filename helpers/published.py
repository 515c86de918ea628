"""Published scores of other models on the real data sets, beside a run's own in the report: read from
``docs/results/published.json`` with each source; nothing here computes a number.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import paths

PUBLISHED = paths.ROOT / "docs" / "results" / "published.json"


@dataclass(frozen=True)
class PublishedRows:
    """One benchmark's rows for one data set, in this project's metric names."""

    dataset: str
    benchmark: str
    source: str
    read: str
    caveat: str
    rows: dict[str, dict[str, float]]   # model → metric (this project's name) → published value
    references: dict[str, str]          # model → its paper

    @property
    def metrics(self) -> list[str]:
        return list(next(iter(self.rows.values())))


def published_rows(dataset: str, path: Path = PUBLISHED) -> PublishedRows | None:
    """The published rows for ``dataset`` (``cat2000``, ...), or None when the file keeps none."""
    entry = json.loads(Path(path).read_text())["datasets"].get(dataset)
    if entry is None:
        return None
    columns = entry["columns"]
    rows = {row["model"]: {ours: row[theirs] for theirs, ours in columns.items()} for row in entry["rows"]}
    return PublishedRows(dataset=dataset, benchmark=entry["benchmark"], source=entry["source"], read=entry["read"],
                         caveat=entry["caveat"], rows=rows,
                         references={row["model"]: row["reference"] for row in entry["rows"]})


def why_left_out(dataset: str, path: Path = PUBLISHED) -> str:
    """Why a data set's report has no published rows (a sentence without its full stop)."""
    reasons = json.loads(Path(path).read_text())["left_out"]
    return reasons.get(dataset, f"no published figures for {dataset!r} are kept in docs/results/published.json")
