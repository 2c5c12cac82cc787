"""Draw a crop plot (:mod:`fusioncheck.plots.object_crop`) for every queued object that has a box.

Reads each queued object's keyframe sweep of the reference LiDAR through the data source (one sequence at a
time, each sweep once), and writes ``OUT/plots/review/<sequence>/<annotation>.png``. Objects whose
sequence, keyframe or box cannot be found (an ``unlabeled_object`` has no box) get no plot; the reason is
returned so the caller can say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.errors import FusioncheckError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.frames import global_from_sensor
from fusioncheck.loaders import open_source

REVIEW_DIR = "review"


def draw_review_plots(
    report: dict[str, Any], queue: Sequence[dict[str, Any]], plot_dir: Path, limit: int | None = None
) -> tuple[dict[tuple[str, str], Path], list[str]]:
    """Draw one crop per queued object (the first ``limit`` of the queue, which is ordered by score).

    Returns:
        ``{(sequence, annotation): png path}`` and notes on objects that got no plot.
    """
    from fusioncheck.plots.object_crop import draw_object_crop

    inputs: dict[str, list[tuple[str, str]]] = {}
    for s in report.get("sequences", []):
        if not s.get("error"):
            inputs.setdefault(s["name"], []).append((s["input"], report_format(report, s["input"])))
    by_sequence: dict[str, list[dict[str, Any]]] = {}
    for item in queue[:limit] if limit is not None else queue:
        f = item["finding"]
        if f.get("annotation"):
            by_sequence.setdefault(f["sequence"], []).append(f)
    written: dict[tuple[str, str], Path] = {}
    notes: list[str] = []
    for name, findings in sorted(by_sequence.items()):
        for path, format_name in inputs.get(name, []):
            try:
                source = open_source(path, format_name)
                sequence = source.load_sequence(name)
            except FusioncheckError as exc:
                notes.append(f"review plots of {name}: {exc}")
                continue
            boxes = {b.token: (kf, b) for kf in sequence.keyframes for b in kf.annotations}
            lidar = (
                "LIDAR_TOP"
                if "LIDAR_TOP" in sequence.sensors
                else next((c for c in sorted(sequence.sensors) if c.startswith("LIDAR")), None)
            )
            sweeps: dict[str, np.ndarray] = {}
            for f in findings:
                key = (name, f["annotation"])
                if key in written or f["annotation"] not in boxes:
                    continue
                keyframe, box = boxes[f["annotation"]]
                sample = keyframe.samples.get(lidar) if lidar else None
                if sample is None:
                    notes.append(f"review plot of {f['annotation']}: its keyframe has no LiDAR sweep")
                    continue
                if sample.token not in sweeps:
                    try:
                        sweep = source.read_lidar(sample)
                    except FusioncheckError as exc:
                        notes.append(f"review plot of {f['annotation']}: {exc}")
                        continue
                    transform = global_from_sensor(sequence.sensors[sample.channel], sample.global_from_ego)
                    sweeps = {sample.token: transform.transform_points(sweep.xyz.astype(np.float64))}
                yaw = float(quaternion.yaw_of(np.asarray(box.quat_wxyz, dtype=float)[None])[0])
                out = review_plot_path(plot_dir, name, f["annotation"])
                draw_object_crop(
                    sweeps[sample.token],
                    box.center_m,
                    box.size_m,
                    yaw,
                    f"{f['check']} · {f['class']} · score {f['score']:.2f} · {name}",
                    f["message"],
                    out,
                )
                written[key] = out
    return written, notes


def review_plot_path(plot_dir: Path, sequence: str, annotation: str) -> Path:
    """Where the crop of one object is written: ``plot_dir/review/<sequence>/<annotation>.png``."""
    return plot_dir / REVIEW_DIR / _safe(sequence) / f"{_safe(annotation)}.png"


def report_format(report: dict[str, Any], path: str) -> str:
    """Return the format an input of the report was read as (``auto`` when not recorded)."""
    for i in report.get("inputs", []):
        if i["path"] == path:
            return str(i.get("format") or "auto")
    return "auto"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "x"
