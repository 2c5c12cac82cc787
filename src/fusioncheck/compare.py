"""Compare two label sets of the same logs: a gold standard and a delivery, or two annotators.

``compare_sources(a, b)`` pairs sequences by name and keyframes by timestamp, then matches the boxes of
each keyframe and class one-to-one with the Hungarian method (:func:`scipy.optimize.linear_sum_assignment`):

- cost ``1 - IoU`` (3D IoU of yaw-oriented boxes, :func:`fusioncheck.geometry.box_iou.box_iou_3d`) for
  pairs that overlap by at least ``min_iou``;
- pairs that overlap less (small or thin objects: a 0.3 m pole offset by 0.3 m has IoU 0) may still match
  when their centres are within ``max_center_m``, at a cost above every overlapping pair
  (``2 + distance / max_center_m``);
- other pairs cannot match.

Per class it reports, over matched pairs (``A`` is the reference): ``matched_rate_a`` (matched / boxes of
A), ``matched_rate_b`` (matched / boxes of B), mean IoU, mean centre distance (metres), the mean signed
centre offset in A's box frame (``along`` its length, ``across``, ``up``; metres), the mean signed and
mean absolute relative size error per axis (``(b - a) / a``), and the mean signed and mean absolute yaw
error (degrees, B minus A wrapped to [-180, 180)).

Disagreements are findings (as in report.json, with ``check``):

- ``missing_box``: a box of A without a match in B (score 1);
- ``extra_box``: a box of B without a match in A (score 1);
- ``box_disagreement``: a matched pair with IoU below ``disagreement_iou``, or a yaw difference above
  ``disagreement_yaw_deg`` (score ``1 - IoU``, at least 0.5 for a yaw disagreement).

Keyframes or sequences present in only one input are listed in ``notes`` and their boxes counted as
missing or extra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from fusioncheck.geometry import quaternion
from fusioncheck.geometry.box_iou import box_iou_3d, box_rows
from fusioncheck.loaders.base import DataSource
from fusioncheck.scene.boxes import BoxAnnotation

FORMAT = "fusioncheck-compare"
FORMAT_VERSION = 1
_NO_MATCH = 1e6


@dataclass(frozen=True)
class CompareSettings:
    """Matching and disagreement thresholds.

    Attributes:
        min_iou: pairs overlapping at least this much match on IoU.
        max_center_m: pairs with less overlap may match when their centres are this close (metres).
        disagreement_iou: matched pairs below this IoU are ``box_disagreement`` findings.
        disagreement_yaw_deg: matched pairs whose headings differ more are findings too (degrees).
    """

    min_iou: float = 0.1
    max_center_m: float = 1.0
    disagreement_iou: float = 0.5
    disagreement_yaw_deg: float = 15.0


@dataclass
class _ClassAccumulator:
    boxes_a: int = 0
    boxes_b: int = 0
    iou: list[float] = field(default_factory=list)
    center_m: list[float] = field(default_factory=list)
    offset_box_m: list[np.ndarray] = field(default_factory=list)
    size_rel: list[np.ndarray] = field(default_factory=list)
    yaw_deg: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = len(self.iou)
        out: dict[str, Any] = {
            "boxes_a": self.boxes_a,
            "boxes_b": self.boxes_b,
            "matched": n,
            "matched_rate_a": _ratio(n, self.boxes_a),
            "matched_rate_b": _ratio(n, self.boxes_b),
        }
        if n == 0:
            out.update(
                mean_iou=None,
                mean_center_error_m=None,
                mean_center_offset_box_m=None,
                mean_size_error_rel=None,
                mean_abs_size_error_rel=None,
                mean_yaw_error_deg=None,
                mean_abs_yaw_error_deg=None,
            )
            return out
        offsets = np.array(self.offset_box_m)
        sizes = np.array(self.size_rel)
        yaw = np.array(self.yaw_deg)
        out.update(
            mean_iou=_r(np.mean(self.iou)),
            mean_center_error_m=_r(np.mean(self.center_m)),
            mean_center_offset_box_m=dict(
                zip(("along", "across", "up"), map(_r, offsets.mean(axis=0)), strict=True)
            ),
            mean_size_error_rel=dict(
                zip(("length", "width", "height"), map(_r, sizes.mean(axis=0)), strict=True)
            ),
            mean_abs_size_error_rel=dict(
                zip(("length", "width", "height"), map(_r, np.abs(sizes).mean(axis=0)), strict=True)
            ),
            mean_yaw_error_deg=_r(yaw.mean()),
            mean_abs_yaw_error_deg=_r(np.abs(yaw).mean()),
        )
        return out


def _ratio(k: int, n: int) -> float | None:
    return None if n == 0 else round(k / n, 6)


def _r(value: Any) -> float:
    return round(float(value), 6)


def match_boxes(
    boxes_a: list[BoxAnnotation], boxes_b: list[BoxAnnotation], settings: CompareSettings
) -> tuple[list[tuple[int, int, float]], list[int], list[int]]:
    """Match two lists of boxes of one class and keyframe one-to-one.

    Returns:
        ``(pairs, unmatched_a, unmatched_b)``: pairs ``(index in a, index in b, IoU)`` and the indices
        left over on each side.
    """
    if not boxes_a or not boxes_b:
        return [], list(range(len(boxes_a))), list(range(len(boxes_b)))
    rows_a, rows_b = box_rows(boxes_a), box_rows(boxes_b)
    iou = box_iou_3d(rows_a, rows_b)
    distance = np.linalg.norm(rows_a[:, None, :3] - rows_b[None, :, :3], axis=2)
    cost = np.full(iou.shape, _NO_MATCH)
    close = distance <= settings.max_center_m
    cost[close] = 2.0 + distance[close] / settings.max_center_m
    overlapping = iou >= settings.min_iou
    cost[overlapping] = 1.0 - iou[overlapping]
    rows, cols = linear_sum_assignment(cost)
    pairs = [
        (int(i), int(j), float(iou[i, j])) for i, j in zip(rows, cols, strict=True) if cost[i, j] < _NO_MATCH
    ]
    matched_a = {p[0] for p in pairs}
    matched_b = {p[1] for p in pairs}
    return (
        pairs,
        [i for i in range(len(boxes_a)) if i not in matched_a],
        [j for j in range(len(boxes_b)) if j not in matched_b],
    )


def _pair_errors(a: BoxAnnotation, b: BoxAnnotation) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Centre distance (m), centre offset in A's box frame (m), relative size error, yaw error (deg)."""
    delta = np.asarray(b.center_m, dtype=float) - np.asarray(a.center_m, dtype=float)
    yaw_a = float(quaternion.yaw_of(np.asarray(a.quat_wxyz, dtype=float)[None])[0])
    yaw_b = float(quaternion.yaw_of(np.asarray(b.quat_wxyz, dtype=float)[None])[0])
    c, s = math.cos(yaw_a), math.sin(yaw_a)
    offset = np.array([c * delta[0] + s * delta[1], -s * delta[0] + c * delta[1], delta[2]])
    size_a = np.asarray(a.size_m, dtype=float)
    size_rel = (np.asarray(b.size_m, dtype=float) - size_a) / np.where(size_a > 0, size_a, np.nan)
    yaw = math.degrees((yaw_b - yaw_a + math.pi) % (2 * math.pi) - math.pi)
    return float(np.linalg.norm(delta)), offset, size_rel, yaw


def _finding(
    check: str, sequence: str, box: BoxAnnotation, score: float, message: str, values: dict[str, Any]
) -> dict[str, Any]:
    return {
        "check": check,
        "severity": "warning",
        "sequence": sequence,
        "annotation": box.token,
        "instance": box.instance,
        "sensor": None,
        "timestamp_us": box.timestamp_us,
        "class": box.category,
        "score": round(float(min(max(score, 0.0), 1.0)), 4),
        "position_m": [round(float(v), 3) for v in box.center_m],
        "message": message,
        "values": values,
    }


def compare_sources(
    a: DataSource, b: DataSource, settings: CompareSettings = CompareSettings()
) -> dict[str, Any]:
    """Compare every common sequence of two label sets; returns the compare.json structure."""
    classes: dict[str, _ClassAccumulator] = {}
    findings: list[dict[str, Any]] = []
    notes: list[str] = []
    sequences: list[dict[str, Any]] = []
    names_b = set(b.sequence_names())
    for name in a.sequence_names():
        if name not in names_b:
            notes.append(f"sequence {name} is only in A ({a.root})")
            continue
        seq_a, seq_b = a.load_sequence(name), b.load_sequence(name)
        frames_b = {kf.timestamp_us: kf for kf in seq_b.keyframes}
        counts = {"keyframes": 0, "matched": 0, "missing_box": 0, "extra_box": 0, "box_disagreement": 0}
        for kf_a in seq_a.keyframes:
            kf_b = frames_b.pop(kf_a.timestamp_us, None)
            boxes_b_all = list(kf_b.annotations) if kf_b is not None else []
            if kf_b is None:
                notes.append(f"{name}: keyframe at {kf_a.timestamp_us} us is only in A")
            counts["keyframes"] += 1
            by_class: dict[str, tuple[list[BoxAnnotation], list[BoxAnnotation]]] = {}
            for box in kf_a.annotations:
                by_class.setdefault(box.category, ([], []))[0].append(box)
            for box in boxes_b_all:
                by_class.setdefault(box.category, ([], []))[1].append(box)
            for category, (list_a, list_b) in sorted(by_class.items()):
                acc = classes.setdefault(category, _ClassAccumulator())
                acc.boxes_a += len(list_a)
                acc.boxes_b += len(list_b)
                pairs, only_a, only_b = match_boxes(list_a, list_b, settings)
                counts["matched"] += len(pairs)
                for i, j, iou in pairs:
                    center, offset, size_rel, yaw = _pair_errors(list_a[i], list_b[j])
                    acc.iou.append(iou)
                    acc.center_m.append(center)
                    acc.offset_box_m.append(offset)
                    acc.size_rel.append(size_rel)
                    acc.yaw_deg.append(yaw)
                    if iou < settings.disagreement_iou or abs(yaw) > settings.disagreement_yaw_deg:
                        counts["box_disagreement"] += 1
                        score = 1.0 - iou if iou < settings.disagreement_iou else max(0.5, 1.0 - iou)
                        findings.append(
                            _finding(
                                "box_disagreement",
                                name,
                                list_a[i],
                                score,
                                f"{category} boxes disagree: IoU {iou:.2f}, centres {center:.2f} m apart, "
                                f"yaw differs by {yaw:+.1f} deg",
                                {
                                    "iou": round(iou, 4),
                                    "center_error_m": round(center, 3),
                                    "yaw_error_deg": round(yaw, 2),
                                    "other_annotation": list_b[j].token,
                                    "size_error_rel": [round(float(v), 4) for v in size_rel],
                                },
                            )
                        )
                for i in only_a:
                    counts["missing_box"] += 1
                    findings.append(
                        _finding(
                            "missing_box",
                            name,
                            list_a[i],
                            1.0,
                            f"{category} box of A has no match in B",
                            {"side": "a"},
                        )
                    )
                for j in only_b:
                    counts["extra_box"] += 1
                    findings.append(
                        _finding(
                            "extra_box",
                            name,
                            list_b[j],
                            1.0,
                            f"{category} box of B has no match in A",
                            {"side": "b"},
                        )
                    )
        for ts, kf_b in sorted(frames_b.items()):
            notes.append(f"{name}: keyframe at {ts} us is only in B")
            for box in kf_b.annotations:
                classes.setdefault(box.category, _ClassAccumulator()).boxes_b += 1
                counts["extra_box"] += 1
                findings.append(
                    _finding(
                        "extra_box",
                        name,
                        box,
                        1.0,
                        f"{box.category} box of B has no match in A",
                        {"side": "b"},
                    )
                )
        sequences.append({"name": name, **counts})
    for name in sorted(names_b - set(a.sequence_names())):
        notes.append(f"sequence {name} is only in B ({b.root})")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "a": a.root,
        "b": b.root,
        "settings": vars(settings),
        "classes": {c: acc.summary() for c, acc in sorted(classes.items())},
        "sequences": sequences,
        "findings": findings,
        "notes": notes,
    }


def format_compare(result: dict[str, Any]) -> str:
    """Terminal table: per class boxes, matched rates, mean IoU and errors."""
    lines = [f"A: {result['a']}", f"B: {result['b']}", ""]
    header = (
        f"  {'class':<28} {'A':>6} {'B':>6} {'match A':>8} {'match B':>8} {'IoU':>6} "
        f"{'centre m':>9} {'length %':>9} {'yaw deg':>8}"
    )
    lines.append(header)
    for name, c in result["classes"].items():

        def f(v: Any, fmt: str) -> str:
            return format(v, fmt) if v is not None else "-"

        length = c["mean_size_error_rel"]["length"] * 100 if c["mean_size_error_rel"] else None
        lines.append(
            f"  {name:<28} {c['boxes_a']:>6} {c['boxes_b']:>6} {f(c['matched_rate_a'], '8.3f')} "
            f"{f(c['matched_rate_b'], '8.3f')} {f(c['mean_iou'], '6.3f')} "
            f"{f(c['mean_center_error_m'], '9.3f')} "
            f"{f(length, '+9.2f')} {f(c['mean_yaw_error_deg'], '+8.2f')}"
        )
    per_check: dict[str, int] = {}
    for finding in result["findings"]:
        per_check[finding["check"]] = per_check.get(finding["check"], 0) + 1
    lines.append("")
    lines.append("disagreements: " + (", ".join(f"{k} {v}" for k, v in sorted(per_check.items())) or "none"))
    for note in result["notes"][:5]:
        lines.append(f"note: {note}")
    return "\n".join(lines)
