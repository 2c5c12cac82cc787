"""What every offset estimator returns, and the shared search: grid, refinement, bootstrap interval.

An estimator turns its evidence into per-group objective curves (a group = an object track or a frame,
the unit that is resampled) on candidate offsets, lower = better aligned. :func:`estimate_from_curves`
then finds the minimum of their sum on a coarse grid over the whole search range, refines it on a fine
grid around the minimum with a parabola through the three best neighbours, and takes the 95 % interval
from a bootstrap over groups (groups drawn with replacement, the minimum found again each time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fusioncheck.typing import FloatArray

#: Status of an estimate: within tolerance, beyond it, or not estimable (``reason`` says why).
STATUS_OK = "ok"
STATUS_EXCEEDS = "exceeds"
STATUS_NOT_ESTIMABLE = "not_estimable"


@dataclass
class SyncEstimate:
    """The time offset of one stream against the reference LiDAR (sign: DESIGN.md).

    Attributes:
        stream: ``labels`` or a sensor channel.
        reference: the reference LiDAR channel.
        offset_ms: the shift that, added to the stream's stamps, best aligns it (None: not estimable).
        ci95_ms: 95 % interval ``(low, high)`` in ms, or None.
        support: groups (object tracks or frames) that carried evidence.
        status: ``ok``, ``exceeds`` or ``not_estimable``.
        reason: why not estimable (or what limits the estimate), else None.
        curve_offsets_ms: ``(K,)`` candidate offsets of the objective curve, ms (for plots).
        curve: ``(K,)`` the summed objective at those offsets, normalised to 0..1 (for plots).
        tolerance_ms: the policy tolerance the estimate was judged against.
        drift_ms_per_s: change of the offset per second over the sequence (a drifting clock), from the
            offsets of its first and second half; None when either half is not estimable.
        drift_ci95_ms_per_s: 95 % interval of the drift.
    """

    stream: str
    reference: str
    offset_ms: float | None
    ci95_ms: tuple[float, float] | None
    support: int
    status: str
    reason: str | None = None
    curve_offsets_ms: FloatArray = field(default_factory=lambda: np.zeros(0))
    curve: FloatArray = field(default_factory=lambda: np.zeros(0))
    tolerance_ms: float = 0.0
    drift_ms_per_s: float | None = None
    drift_ci95_ms_per_s: tuple[float, float] | None = None

    def to_row(self) -> dict[str, Any]:
        """Return the ``sequences[].sync[]`` row of report.json."""
        return {
            "stream": self.stream,
            "reference": self.reference,
            "offset_ms": None if self.offset_ms is None else round(float(self.offset_ms), 2),
            "ci95_ms": None if self.ci95_ms is None else [round(float(v), 2) for v in self.ci95_ms],
            "support": int(self.support),
            "status": self.status,
            "reason": self.reason,
            "tolerance_ms": float(self.tolerance_ms),
            "drift_ms_per_s": None if self.drift_ms_per_s is None else round(float(self.drift_ms_per_s), 3),
            "drift_ci95_ms_per_s": None
            if self.drift_ci95_ms_per_s is None
            else [round(float(v), 3) for v in self.drift_ci95_ms_per_s],
        }


def not_estimable(stream: str, reference: str, reason: str, support: int = 0) -> SyncEstimate:
    """Return an estimate that could not be made, with the reason."""
    return SyncEstimate(stream, reference, None, None, support, STATUS_NOT_ESTIMABLE, reason)


@dataclass(frozen=True)
class SearchSettings:
    """How the offset is searched.

    Attributes:
        range_ms: the search covers ``[-range_ms, +range_ms]``.
        coarse_step_ms: step of the coarse grid.
        fine_half_width_ms: the fine grid covers the coarse minimum +- this.
        fine_step_ms: step of the fine grid.
        bootstrap: bootstrap resamples for the interval.
        min_support: fewer groups than this: not estimable.
        max_ci_width_ms: a wider interval: not estimable (the data do not pin the offset down).
        seed: random seed of the bootstrap (results are reproducible).
    """

    range_ms: float = 250.0
    coarse_step_ms: float = 5.0
    fine_half_width_ms: float = 30.0
    fine_step_ms: float = 0.5
    bootstrap: int = 400
    min_support: int = 3
    max_ci_width_ms: float = 80.0
    seed: int = 0


def _grid(settings: SearchSettings, center_ms: float | None) -> FloatArray:
    if center_ms is None:
        n = round(settings.range_ms / settings.coarse_step_ms)
        return np.arange(-n, n + 1, dtype=np.float64) * float(settings.coarse_step_ms)
    n = round(settings.fine_half_width_ms / settings.fine_step_ms)
    fine = center_ms + np.arange(-n, n + 1, dtype=np.float64) * float(settings.fine_step_ms)
    return fine[np.abs(fine) <= settings.range_ms]


def refined_minimum(offsets_ms: FloatArray, curves: FloatArray) -> FloatArray:
    """Sub-grid minimum of each row of ``curves`` ``(B, K)`` over sorted ``offsets_ms`` ``(K,)``.

    A parabola through the grid minimum and its two neighbours (uneven spacing allowed); the grid
    minimum itself at the ends of the grid.
    """
    k = np.argmin(curves, axis=1)
    out = offsets_ms[k].astype(np.float64)
    inner = (k > 0) & (k < offsets_ms.size - 1)
    rows = np.flatnonzero(inner)
    if rows.size:
        kk = k[rows]
        x0, x1, x2 = offsets_ms[kk - 1], offsets_ms[kk], offsets_ms[kk + 1]
        y0, y1, y2 = curves[rows, kk - 1], curves[rows, kk], curves[rows, kk + 1]
        d01, d12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
        a = (d12 - d01) / (x2 - x0)
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = 0.5 * (x0 + x1) - d01 / (2.0 * a)
        good = (a > 0) & np.isfinite(vertex)
        out[rows] = np.where(good, np.clip(vertex, x0, x2), x1)
    return out


def estimate_from_curves(
    stream: str,
    reference: str,
    curves_of: Callable[[FloatArray], FloatArray],
    n_groups: int,
    settings: SearchSettings,
) -> SyncEstimate:
    """Search the offset minimising the summed group curves, with a bootstrap interval over groups.

    Args:
        stream: the stream's name for the result.
        reference: the reference channel.
        curves_of: candidate offsets in ms ``(K,)`` -> group curves ``(G, K)``.
        n_groups: ``G``.
        settings: grid, bootstrap and acceptance settings.
    """
    if n_groups < settings.min_support:
        return not_estimable(
            stream,
            reference,
            f"{n_groups} group(s) with evidence, fewer than {settings.min_support}",
            n_groups,
        )
    coarse = _grid(settings, None)
    coarse_curves = curves_of(coarse)
    center = float(coarse[int(np.argmin(coarse_curves.sum(axis=0)))])
    fine = _grid(settings, center)
    offsets = np.unique(np.concatenate([coarse, fine]))
    fine_curves = curves_of(fine)
    curves = np.concatenate([coarse_curves, fine_curves], axis=1)
    order = np.argsort(np.concatenate([coarse, fine]), kind="stable")
    curves = curves[:, order]
    grid_all = np.concatenate([coarse, fine])[order]
    keep = np.concatenate([[True], np.diff(grid_all) > 1e-9])
    curves, offsets = curves[:, keep], grid_all[keep]

    total = curves.sum(axis=0)
    offset_ms = float(refined_minimum(offsets, total[None])[0])
    rng = np.random.default_rng(settings.seed)
    counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=settings.bootstrap)
    boot = refined_minimum(offsets, counts.astype(np.float64) @ curves)
    lo, hi = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
    # The interval never claims more than the grid can resolve.
    half_step = 0.5 * settings.fine_step_ms
    lo, hi = min(lo, offset_ms - half_step), max(hi, offset_ms + half_step)
    span = total.max() - total.min()
    normalised = (total - total.min()) / span if span > 0 else np.zeros_like(total)
    result = SyncEstimate(
        stream, reference, offset_ms, (lo, hi), n_groups, STATUS_OK, None, offsets, normalised
    )
    edge = settings.range_ms - 2.0 * settings.coarse_step_ms
    if abs(offset_ms) >= edge:
        result.status = STATUS_NOT_ESTIMABLE
        result.reason = f"the best offset lies at the edge of the +-{settings.range_ms:g} ms search range"
    elif hi - lo > settings.max_ci_width_ms:
        result.status = STATUS_NOT_ESTIMABLE
        result.reason = (
            f"the 95 % interval is {hi - lo:.0f} ms wide (more than {settings.max_ci_width_ms:g} ms): "
            "the evidence does not pin the offset down"
        )
    return result


def judge(estimate: SyncEstimate, tolerance_ms: float) -> SyncEstimate:
    """Set ``status`` to ``exceeds`` when |offset| > tolerance and the interval excludes the tolerance."""
    estimate.tolerance_ms = tolerance_ms
    if estimate.status == STATUS_NOT_ESTIMABLE or estimate.offset_ms is None or estimate.ci95_ms is None:
        return estimate
    lo, hi = estimate.ci95_ms
    if abs(estimate.offset_ms) > tolerance_ms and (lo > tolerance_ms or hi < -tolerance_ms):
        estimate.status = STATUS_EXCEEDS
    else:
        estimate.status = STATUS_OK
    return estimate


def estimate_drift(
    result: SyncEstimate,
    times_us: FloatArray,
    curves_for: Callable[[np.ndarray], tuple[Callable[[FloatArray], FloatArray], int]],
    settings: SearchSettings,
) -> SyncEstimate:
    """Set ``result``'s drift from the offsets of the evidence before and after its median time.

    Args:
        result: the whole sequence's estimate (left unchanged when not estimable).
        times_us: ``(G,)`` time of every observation, microseconds.
        curves_for: observation mask -> (group curves function, number of groups) of that subset.
        settings: search settings (as for the whole sequence).
    """
    if result.offset_ms is None or result.status == STATUS_NOT_ESTIMABLE or times_us.size < 2:
        return result
    split = float(np.median(times_us))
    halves = []
    for keep in (times_us <= split, times_us > split):
        curves_of, n_groups = curves_for(keep)
        half = estimate_from_curves(result.stream, result.reference, curves_of, n_groups, settings)
        if half.offset_ms is None or half.ci95_ms is None or half.status == STATUS_NOT_ESTIMABLE:
            return result
        halves.append((half, float(np.median(times_us[keep]))))
    (early, t0), (late, t1) = halves
    dt_s = (t1 - t0) * 1e-6
    if dt_s <= 0 or early.offset_ms is None or late.offset_ms is None:
        return result
    assert early.ci95_ms is not None and late.ci95_ms is not None  # estimable halves have intervals
    drift = (late.offset_ms - early.offset_ms) / dt_s
    half_width = float(np.hypot(early.ci95_ms[1] - early.ci95_ms[0], late.ci95_ms[1] - late.ci95_ms[0])) / 2
    result.drift_ms_per_s = drift
    result.drift_ci95_ms_per_s = (drift - half_width / dt_s, drift + half_width / dt_s)
    return result
