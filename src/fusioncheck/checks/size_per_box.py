"""Per-box size verdicts from the size evidence, refined with the class's estimate in the sequence.

A box's own residual ``r = labelled / true − 1`` (per axis, :mod:`fusioncheck.checks.size_evidence`) is
noisy: its spread ``σ`` per class and axis is measured on the sequence's boxes (robustly, as 1.4826 ×
the median absolute deviation; 3 % when fewer than ``MIN_BOXES_FOR_SPREAD`` boxes). The class's bias
``b`` in the sequence (:func:`fusioncheck.checks.size_bias.class_bias` of its boxes) is a prior for
each of its boxes: individual boxes deviate from it by about ``prior_sd`` (3 %). The
precision-weighted combination

    r̂ = (r / σ² + b / τ²) / (1 / σ² + 1 / τ²),   σ̂ = (1 / σ² + 1 / τ²)^(−1/2),   τ = prior_sd,

is the box's refined residual. The box is undersized on an axis when ``r̂ < −tolerance`` by at least
``z_min`` × σ̂ (oversized symmetrically): in a class whose boxes are known to be too small, weaker
individual evidence suffices; in a clean class, a box needs strong evidence of its own. Score:
``0.5 + 0.5 × min(1, (z − z_min) / z_min)`` with ``z = (|r̂| − tolerance) / σ̂``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fusioncheck.checks.size_bias import class_bias
from fusioncheck.checks.size_evidence import AXES
from fusioncheck.typing import FloatArray

#: Boxes of a class and axis needed to measure the residual spread and the class bias in a sequence.
MIN_BOXES_FOR_SPREAD = 10
#: Spread used below that (relative).
DEFAULT_SPREAD = 0.03
#: Smallest spread used (relative): evidence is never taken as more precise than this.
MIN_SPREAD = 0.005
#: Label centre error assumed per box (metres) when judging one box: labels are centred to a few cm.
CENTRE_NOISE_M = 0.03
#: Box residuals beyond this (relative) are not evidence for a per-box verdict (another surface was found).
MAX_RESIDUAL = 0.5


@dataclass(frozen=True)
class ClassSizeStats:
    """Per class in one sequence: residual spread and bias per axis.

    Attributes:
        spread: ``(3,)`` robust per-box standard deviation of the residuals (relative).
        bias: ``(3,)`` class bias (:func:`~fusioncheck.checks.size_bias.class_bias`); 0 where fewer
            than ``MIN_BOXES_FOR_SPREAD`` boxes.
        boxes: ``(3,)`` boxes with evidence per axis.
    """

    spread: FloatArray
    bias: FloatArray
    boxes: np.ndarray


def class_size_stats(residuals: list[FloatArray]) -> ClassSizeStats:
    """Spread and bias per axis from the ``(3,)`` residuals of a class's boxes (NaN = no evidence)."""
    r = np.array(residuals, dtype=np.float64).reshape(-1, 3)
    spread = np.full(3, DEFAULT_SPREAD)
    bias = np.zeros(3)
    boxes = np.zeros(3, dtype=np.int64)
    for k in range(3):
        v = r[np.isfinite(r[:, k]), k]
        boxes[k] = v.size
        if v.size >= MIN_BOXES_FOR_SPREAD:
            bias[k] = class_bias(v)
            spread[k] = max(1.4826 * float(np.median(np.abs(v - np.median(v)))), MIN_SPREAD)
    return ClassSizeStats(spread, bias, boxes)


def refined_residual(
    residual: FloatArray, stats: ClassSizeStats, prior_sd: float, size_m: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """``(r̂, σ̂)`` per axis (see the module docstring); NaN where the box has no evidence.

    With the box's size ``(3,)`` metres, its spread is at least ``2 × CENTRE_NOISE_M / size`` per axis:
    the face evidence assumes the label centred on the object, so a centre error counts twice, which on
    a 0.5 m barrier is a 12 % residual.
    """
    r = np.asarray(residual, dtype=np.float64)
    spread = stats.spread
    if size_m is not None:
        floor = 2.0 * CENTRE_NOISE_M / np.maximum(np.asarray(size_m, dtype=np.float64), 1e-3)
        spread = np.maximum(spread, floor)
    w_box = 1.0 / spread**2
    w_class = 1.0 / prior_sd**2
    refined = (r * w_box + stats.bias * w_class) / (w_box + w_class)
    sigma = 1.0 / np.sqrt(w_box + w_class)
    return refined, np.where(np.isfinite(r), sigma, np.nan)


def size_verdict(
    residual: FloatArray,
    stats: ClassSizeStats,
    tolerance: float,
    prior_sd: float,
    z_min: float,
    undersized: bool,
    size_m: FloatArray | None = None,
) -> tuple[float, str, dict[str, Any]] | None:
    """Score, message and values of an ``undersized_box`` (or oversized) verdict; None without evidence."""
    r = np.asarray(residual, dtype=np.float64)
    # Evidence claiming a box off by more than half its size found some other surface, not the face.
    r = np.where(np.abs(r) <= MAX_RESIDUAL, r, np.nan)
    if not np.isfinite(r).any():
        return None
    refined, sigma = refined_residual(r, stats, prior_sd, size_m)
    sign = -1.0 if undersized else 1.0
    z = (sign * refined - tolerance) / sigma  # sigma > 0, NaN without evidence
    z = np.where(np.isfinite(z), z, -np.inf)
    axis = int(np.argmax(z))
    values = {
        "size_residual": [None if not np.isfinite(v) else round(float(v), 4) for v in r],
        "size_residual_refined": [None if not np.isfinite(v) else round(float(v), 4) for v in refined],
        "class_bias_in_sequence": [round(float(v), 4) for v in stats.bias],
    }
    if z[axis] < z_min:
        return 0.49 * float(np.clip(z[axis] / z_min, 0.0, 1.0)), "", values
    score = 0.5 + 0.5 * min(1.0, float((z[axis] - z_min) / z_min))
    word = "smaller" if undersized else "larger"
    message = (
        f"box {AXES[axis]} is {100 * abs(refined[axis]):.0f} % {word} than the object's LiDAR faces show "
        f"(own evidence {100 * r[axis]:+.1f} %, class {100 * stats.bias[axis]:+.1f} % in this sequence)"
    )
    return score, message, values
