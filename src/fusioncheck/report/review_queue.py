"""``review_queue.csv``: the objects a human reviewer should look at first, sampled so no class starves.

A plain "highest scores first" list hands reviewers the class whose faults score highest (big cars with
many points) and never shows them a rare class. The queue is instead a stratified sample:

1. **Objects**, not findings: the findings of one box (same sequence and annotation) are one object,
   represented by its highest-scoring finding. Findings without a class (a whole stream's time offset, a
   sensor's calibration) are not objects and are not queued.
2. **Strata**: class x range band (0-20, 20-40, 40-60, >= 60 m from the sensor, or ``unknown``) x check.
3. **Per-class minimum**: each class gets ``min(n, max(min_count, ceil(min_fraction * n)))`` of its
   ``n`` flagged objects (default at least 5 and at least 10 %), drawn round-robin over the class's strata,
   highest score first within each, so every stratum of the class is seen before any gets a second row.
4. **The rest** of the ``size`` budget goes to the highest-scoring remaining objects. When the minimums
   alone exceed ``size``, the minimums win (the queue is longer than asked).
5. The queue is ordered by score, highest first.

Each row links to a plot (relative to the output folder): the object's own crop (``run --plots``:
:mod:`fusioncheck.report.review_plots`), else a check's plot whose file name holds the annotation token,
else the sequence's plot of that check, else the sequence's
first plot, else its HTML page.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RANGE_BANDS_M: tuple[float, ...] = (20.0, 40.0, 60.0)
COLUMNS = (
    "rank",
    "score",
    "check",
    "class",
    "range_band",
    "range_m",
    "sequence",
    "annotation",
    "instance",
    "timestamp_us",
    "sensor",
    "x_m",
    "y_m",
    "z_m",
    "message",
    "other_checks",
    "selected_as",
    "plot",
)


@dataclass(frozen=True)
class QueueSettings:
    """Size of the queue and the per-class minimum.

    Attributes:
        size: rows wanted (the per-class minimums may make the queue longer).
        min_fraction: each class gets at least this share of its flagged objects ...
        min_count: ... and at least this many (or all it has).
    """

    size: int = 200
    min_fraction: float = 0.10
    min_count: int = 5


def range_band(range_m: float | None) -> str:
    """Name of the range band of ``range_m`` (metres), ``unknown`` when not given."""
    if range_m is None:
        return "unknown"
    low = 0.0
    for high in RANGE_BANDS_M:
        if range_m < high:
            return f"{low:g}-{high:g} m"
        low = high
    return f">={low:g} m"


def flagged_objects(findings: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per flagged object: its top finding plus the other checks that flagged it."""
    by_object: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in findings:
        if f.get("class") is None:
            continue
        key = (
            f["sequence"],
            f.get("annotation") or f"{f['check']}@{f.get('timestamp_us')}:{f.get('position_m')}",
        )
        by_object.setdefault(key, []).append(f)
    objects = []
    for group in by_object.values():
        group.sort(key=lambda f: (-f["score"], f["check"]))
        top = group[0]
        range_m = top.get("values", {}).get("range_m")
        objects.append(
            {
                "finding": top,
                "other_checks": sorted({f["check"] for f in group[1:]} - {top["check"]}),
                "range_m": range_m if isinstance(range_m, int | float) else None,
            }
        )
    objects.sort(key=_order)
    return objects


def _order(item: dict[str, Any]) -> tuple[Any, ...]:
    f = item["finding"]
    return (-f["score"], f["class"], f["sequence"], f.get("timestamp_us") or 0, f.get("annotation") or "")


def build_queue(
    findings: Sequence[dict[str, Any]], settings: QueueSettings = QueueSettings()
) -> list[dict[str, Any]]:
    """Select and order the queue's objects (see the module docstring); returns items with ``selected_as``."""
    objects = flagged_objects(findings)
    by_class: dict[str, list[dict[str, Any]]] = {}
    for item in objects:
        by_class.setdefault(item["finding"]["class"], []).append(item)
    chosen: dict[int, str] = {}
    for category, items in sorted(by_class.items()):
        n = len(items)
        quota = min(n, max(settings.min_count, math.ceil(settings.min_fraction * n)))
        strata: dict[tuple[str, str], list[int]] = {}
        for item in items:
            key = (range_band(item["range_m"]), item["finding"]["check"])
            strata.setdefault(key, []).append(id(item))
        lanes = [lane for _, lane in sorted(strata.items(), key=lambda kv: kv[0])]
        taken = 0
        depth = 0
        while taken < quota:
            for lane in lanes:
                if depth < len(lane) and taken < quota:
                    chosen[lane[depth]] = f"minimum for {category}"
                    taken += 1
            depth += 1
    for item in objects:  # the rest of the budget: highest scores first
        if len(chosen) >= settings.size:
            break
        chosen.setdefault(id(item), "score")
    queue = [dict(item, selected_as=chosen[id(item)]) for item in objects if id(item) in chosen]
    queue.sort(key=_order)
    return queue


def plot_link(
    finding: dict[str, Any],
    sequences: dict[str, dict[str, Any]],
    out_dir: Path,
    link_pages: bool = False,
    object_plots: dict[tuple[str, str], Path] | None = None,
) -> str:
    """Return the plot a queue row links to, relative to ``out_dir`` (empty when there is none)."""
    own = (object_plots or {}).get((finding["sequence"], finding.get("annotation") or ""))
    if own is not None:
        return _relative(own, out_dir)
    seq = sequences.get(finding["sequence"], {})
    plots = [Path(p) for p in seq.get("plots", [])]
    token = finding.get("annotation") or ""
    for wanted in (lambda p: bool(token) and token in p.name, lambda p: finding["check"] in p.name, None):
        for p in plots:
            if wanted is None or wanted(p):
                return _relative(p, out_dir)
    page = seq.get("page")
    return str(page) if page and (link_pages or (out_dir / page).is_file()) else ""


def _relative(path: Path, out_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(out_dir.resolve()))
    except ValueError:
        return str(path)


def queue_rows(
    report: dict[str, Any],
    out_dir: Path,
    settings: QueueSettings = QueueSettings(),
    link_pages: bool = False,
    object_plots: dict[tuple[str, str], Path] | None = None,
) -> list[dict[str, Any]]:
    """Return the CSV rows of a report's review queue (columns: :data:`COLUMNS`)."""
    from fusioncheck.report.html import page_names

    pages = page_names(report)
    sequences = {
        s["name"]: {**s, "page": pages[(s.get("input", ""), s["name"])]} for s in report.get("sequences", [])
    }
    rows = []
    for rank, item in enumerate(build_queue(report.get("findings", []), settings), start=1):
        f = item["finding"]
        position = f.get("position_m") or [None, None, None]
        rows.append(
            {
                "rank": rank,
                "score": f["score"],
                "check": f["check"],
                "class": f["class"],
                "range_band": range_band(item["range_m"]),
                "range_m": item["range_m"],
                "sequence": f["sequence"],
                "annotation": f.get("annotation"),
                "instance": f.get("instance"),
                "timestamp_us": f.get("timestamp_us"),
                "sensor": f.get("sensor"),
                "x_m": position[0],
                "y_m": position[1],
                "z_m": position[2],
                "message": f["message"],
                "other_checks": " ".join(item["other_checks"]),
                "selected_as": item["selected_as"],
                "plot": plot_link(f, sequences, out_dir, link_pages, object_plots),
            }
        )
    return rows


def write_review_queue(
    report: dict[str, Any],
    out_dir: Path,
    settings: QueueSettings = QueueSettings(),
    link_pages: bool = False,
    object_plots: dict[tuple[str, str], Path] | None = None,
) -> Path:
    """Write ``out_dir/review_queue.csv``; returns its path.

    ``link_pages``: rows without a plot link to their sequence's HTML page even before it is written.
    ``object_plots``: ``(sequence, annotation)`` -> the object's own crop plot (linked first).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "review_queue.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in queue_rows(report, out_dir, settings, link_pages, object_plots):
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return path
