"""Radar against boxes: per-box radar support, Doppler agreement, and moving targets nobody labelled.

Every radar scan of the sequence (keyframe scans and sweeps) is filtered and taken to the global frame at
its own timestamp (:mod:`fusioncheck.checks.radar_returns`); the labelled tracks are moved to that
timestamp (:mod:`fusioncheck.checks.box_motion`) and the returns associated with them
(:mod:`fusioncheck.checks.radar_support`). A keyframe box collects the returns of the scans within
``window_s`` of its keyframe.

``radar_velocity_mismatch``
    For each associated return the residual ``v_r - v_box . u`` (measured radial velocity minus the one
    the box's track predicts along the line of sight ``u``) is divided by its tolerance
    ``sigma = noise + noise_per_m * range + velocity_rel * |v_box|``: the radar's Doppler noise, learnt
    from the sequence itself as the robust spread (1.4826 MAD) of all residuals but never below
    ``noise_mps``; a range-dependent term (azimuth error turns into line-of-sight error); and the
    track-velocity error. A box with at least
    ``min_returns`` returns from ``min_scans`` scans is flagged when the median normalised residual, times
    ``sqrt(min(scans, max_scans_averaged))`` (scans are independent draws of the noise), exceeds
    ``k_sigma``; the score is 0.5 there and rises towards 1 with the excess. The message names the kind:
    *moving in the labels, stationary in the radar*, *stationary in the labels, moving in the radar*,
    *opposite direction* (wrong heading), or a speed disagreement.
``radar_unlabeled_object``
    Moving returns (``|v_r - b . u| > moving_mps``, ``b`` the apparent velocity of stationary targets)
    that no box grown by ``unlabeled_gate_m`` holds are tracked in the global frame over scans (greedy
    nearest-neighbour, gate ``track_gate_m + track_speed_mps * dt``); a track seen in at least
    ``min_track_scans`` scans spanning ``min_track_s`` becomes a finding with its position, speed and a
    score growing with the number of scans.

Per-box support goes to the report table ``sequences[].radar_support[]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fusioncheck.checks.base import Check, CheckOutput, Finding, Severity, register
from fusioncheck.checks.box_motion import TrackTable
from fusioncheck.checks.radar_returns import GlobalReturns, to_global
from fusioncheck.checks.radar_support import associate
from fusioncheck.context import SequenceContext
from fusioncheck.scene.boxes import BoxAnnotation
from fusioncheck.scene.sensors import Modality
from fusioncheck.typing import FloatArray


@dataclass
class _Support:
    """Returns associated with one keyframe box."""

    box: BoxAnnotation
    speed_mps: float
    velocity_known: bool
    residual_mps: list[float] = field(default_factory=list)
    sigma_mps: list[float] = field(default_factory=list)
    measured_mps: list[float] = field(default_factory=list)
    predicted_mps: list[float] = field(default_factory=list)
    scans: set[tuple[str, int]] = field(default_factory=set)


@dataclass
class _Track:
    """A radar-only target followed over scans (global frame)."""

    times_s: list[float]
    positions: list[FloatArray]
    radial_mps: list[float]
    scans: set[tuple[str, int]]
    channel: str

    def predict(self, t_s: float) -> FloatArray:
        """Position at ``t_s`` from the last two detections (constant velocity), else the last one."""
        if len(self.positions) >= 2 and self.times_s[-1] > self.times_s[0]:
            v = (self.positions[-1] - self.positions[0]) / (self.times_s[-1] - self.times_s[0])
            return np.asarray(self.positions[-1] + v * (t_s - self.times_s[-1]))
        return self.positions[-1]


@register
class RadarAgreementCheck(Check):
    """Radar returns against boxes: support, Doppler agreement, moving targets without a box."""

    name = "radar_agreement"
    finding_types = ("radar_velocity_mismatch", "radar_unlabeled_object")
    defaults: ClassVar[dict[str, Any]] = {
        "gate_m": 0.5,
        "gate_per_m": 0.01,
        "window_s": 0.25,
        "max_extrapolation_s": 0.3,
        "noise_mps": 0.1,
        "noise_per_m": 0.004,
        "velocity_rel": 0.05,
        "k_sigma": 3.0,
        "max_scans_averaged": 4,
        "min_returns": 3,
        "min_scans": 2,
        "moving_mps": 1.0,
        "unlabeled_gate_m": 1.5,
        "max_range_m": 60.0,
        "track_gate_m": 1.5,
        "track_speed_mps": 8.0,
        "max_track_gap_s": 0.3,
        "min_track_scans": 3,
        "min_track_s": 0.15,
    }

    def run(self, context: SequenceContext) -> CheckOutput:
        """Associate every radar scan with the boxes, then judge the Doppler and the unassociated targets."""
        out = CheckOutput()
        sequence = context.sequence
        channels = sequence.channels(Modality.RADAR)
        if not channels:
            out.notes.append("radar_agreement: the sequence has no radar channel; radar was not checked")
            return out
        if not sequence.keyframes:
            return out
        p = self.parameters
        table = TrackTable(sequence.tracks)
        key_us = np.array([kf.timestamp_us for kf in sequence.keyframes], dtype=np.int64)
        by_instance = [{b.instance: b for b in kf.annotations} for kf in sequence.keyframes]
        support: dict[str, _Support] = {}
        free: list[tuple[GlobalReturns, np.ndarray]] = []
        totals = {"returns_read": 0, "returns_kept": 0, "associated": 0, "moving": 0, "moving_associated": 0}
        scans = sorted(
            (s for ch in channels for s in sequence.samples.get(ch, ())), key=lambda s: s.timestamp_us
        )
        lo_us = key_us[0] - p["window_s"] * 1e6
        hi_us = key_us[-1] + p["window_s"] * 1e6
        n_scans = 0
        for sample in scans:
            if not lo_us <= sample.timestamp_us <= hi_us:
                continue
            n_scans += 1
            returns = to_global(
                context.source.read_radar(sample), sequence.sensors[sample.channel], p["moving_mps"]
            )
            at = table.at(sample.timestamp_us, p["max_extrapolation_s"])
            assoc = associate(returns, at, p["gate_m"], p["gate_per_m"])
            totals["returns_read"] += returns.read
            totals["returns_kept"] += len(returns)
            totals["associated"] += int(np.count_nonzero(assoc.box >= 0))
            totals["moving"] += int(np.count_nonzero(returns.moving))
            totals["moving_associated"] += int(np.count_nonzero(returns.moving & (assoc.box >= 0)))
            k = int(np.argmin(np.abs(key_us - sample.timestamp_us)))
            near_key = abs(int(key_us[k]) - sample.timestamp_us) <= p["window_s"] * 1e6
            for i in np.flatnonzero(assoc.box >= 0).tolist() if near_key else []:
                j = int(assoc.box[i])
                box = by_instance[k].get(at.instances[j])
                if box is None:
                    continue
                s = support.get(box.token)
                if s is None:
                    speed = float(np.linalg.norm(at.velocities_mps[j, :2]))
                    s = support[box.token] = _Support(box, speed, bool(at.velocity_known[j]))
                sigma = p["noise_per_m"] * returns.range_m[i] + p["velocity_rel"] * s.speed_mps
                measured = float(returns.radial_mps[i])
                predicted = float(assoc.predicted_radial_mps[i])
                s.residual_mps.append(measured - predicted)
                s.sigma_mps.append(float(sigma))
                s.measured_mps.append(measured)
                s.predicted_mps.append(predicted)
                s.scans.add((sample.channel, sample.timestamp_us))
            # Moving returns far from every box (grown by the unlabelled gate) are radar-only candidates.
            candidates = returns.moving & (returns.range_m <= p["max_range_m"])
            if candidates.any():
                wide = associate(returns, at, p["unlabeled_gate_m"], p["gate_per_m"])
                candidates &= wide.box < 0
            free.append((returns, candidates))
        if n_scans == 0:
            out.notes.append("radar_agreement: no radar scan falls within the keyframes' time span")
            return out
        self._judge_doppler(sequence.name, support, out)
        self._radar_only(context, free, out)
        self._support_table(context, support, out)
        kept = max(totals["returns_kept"], 1)
        out.statistics.update(
            {
                "scans": n_scans,
                **totals,
                "association_rate": round(totals["associated"] / kept, 4),
                "moving_association_rate": round(totals["moving_associated"] / max(totals["moving"], 1), 4),
                "boxes_with_support": len(support),
            }
        )
        return out

    def plot(self, context: SequenceContext, output: CheckOutput, out_dir: Path) -> list[Path]:
        """Bird's-eye view of the keyframe with the most radar findings, radar velocities as arrows."""
        from fusioncheck.plots.bev import busiest_keyframe, draw_bev, keyframe_scene

        if not context.sequence.keyframes or not context.sequence.channels(Modality.RADAR):
            return []
        k = busiest_keyframe(context, output.findings)
        scene = keyframe_scene(context, k, output.findings)
        return [draw_bev(scene, out_dir / f"bev_radar_kf{k:03d}.png")]

    # -- Doppler -----------------------------------------------------------------------------------

    def _judge_doppler(self, sequence: str, support: dict[str, _Support], out: CheckOutput) -> None:
        p = self.parameters
        # The radar's Doppler noise, from this sequence: the robust spread of every residual (faults are
        # a minority of the boxes, so they barely move a median).
        all_residuals = np.concatenate(
            [np.asarray(s.residual_mps) for s in support.values()] or [np.zeros(0)]
        )
        noise = p["noise_mps"]
        if all_residuals.size >= 20:
            mad = float(np.median(np.abs(all_residuals - np.median(all_residuals))))
            noise = max(noise, 1.4826 * mad)
        out.statistics["doppler_noise_mps"] = round(noise, 4)
        for s in support.values():
            evaluable = (
                s.velocity_known
                and len(s.residual_mps) >= p["min_returns"]
                and len(s.scans) >= p["min_scans"]
            )
            if not evaluable:
                out.tally(s.box.category, "radar_velocity_mismatch", 0, 0)
                continue
            residual = np.asarray(s.residual_mps)
            # Scans are independent draws of the Doppler noise: the median over several scans is surer.
            z = float(np.median(residual / (noise + np.asarray(s.sigma_mps)))) * np.sqrt(
                min(len(s.scans), p["max_scans_averaged"])
            )
            excess = abs(z) - p["k_sigma"]
            flagged = excess > 0
            out.tally(s.box.category, "radar_velocity_mismatch", 1, int(flagged))
            if not flagged:
                continue
            measured = float(np.median(s.measured_mps))
            predicted = float(np.median(s.predicted_mps))
            kind = _mismatch_kind(measured, predicted, s.speed_mps, p["moving_mps"])
            score = 0.5 + 0.5 * (1.0 - np.exp(-excess / p["k_sigma"]))
            message = (
                f"{s.box.category} box: radar measures {measured:+.1f} m/s along the line of sight where its "
                f"track predicts {predicted:+.1f} m/s ({kind}; {len(residual)} returns, {len(s.scans)} scans)"
            )
            out.findings.append(
                Finding(
                    check="radar_velocity_mismatch",
                    severity=Severity.WARNING,
                    sequence=sequence,
                    score=round(float(score), 4),
                    message=message,
                    annotation=s.box.token,
                    instance=s.box.instance,
                    sensor="radar",
                    timestamp_us=s.box.timestamp_us,
                    category=s.box.category,
                    position_m=(float(s.box.center_m[0]), float(s.box.center_m[1]), float(s.box.center_m[2])),
                    values={
                        "kind": kind,
                        "measured_radial_mps": round(measured, 3),
                        "predicted_radial_mps": round(predicted, 3),
                        "box_speed_mps": round(s.speed_mps, 3),
                        "normalised_residual": round(z, 3),
                        "returns": len(residual),
                        "scans": len(s.scans),
                    },
                )
            )

    # -- radar-only objects ------------------------------------------------------------------------

    def _radar_only(
        self, context: SequenceContext, free: list[tuple[GlobalReturns, np.ndarray]], out: CheckOutput
    ) -> None:
        p = self.parameters
        active: list[_Track] = []
        done: list[_Track] = []
        for returns, candidates in free:
            t_s = returns.timestamp_us * 1e-6
            still: list[_Track] = []
            for tr in active:
                (still if t_s - tr.times_s[-1] <= p["max_track_gap_s"] else done).append(tr)
            active = still
            taken: set[int] = set()
            for i in np.flatnonzero(candidates).tolist():
                pos = returns.positions_m[i, :2]
                best, best_d = None, np.inf
                for n, tr in enumerate(active):
                    if n in taken:
                        continue
                    dt = t_s - tr.times_s[-1]
                    d = float(np.hypot(*(tr.predict(t_s)[:2] - pos)))
                    if d <= p["track_gate_m"] + p["track_speed_mps"] * abs(dt) and d < best_d:
                        best, best_d = n, d
                if best is None:
                    active.append(
                        _Track([t_s], [pos.copy()], [float(returns.stationary_residual_mps[i])],
                               {(returns.channel, returns.timestamp_us)}, returns.channel)
                    )  # fmt: skip
                    taken.add(len(active) - 1)
                    continue
                tr = active[best]
                taken.add(best)
                if (returns.channel, returns.timestamp_us) in tr.scans:
                    continue  # one detection per scan and track
                tr.times_s.append(t_s)
                tr.positions.append(pos.copy())
                tr.radial_mps.append(float(returns.stationary_residual_mps[i]))
                tr.scans.add((returns.channel, returns.timestamp_us))
        done.extend(active)
        key_us = np.array([kf.timestamp_us for kf in context.sequence.keyframes], dtype=np.int64)
        for tr in done:
            span = tr.times_s[-1] - tr.times_s[0]
            if len(tr.scans) < p["min_track_scans"] or span < p["min_track_s"]:
                continue
            out.findings.append(self._radar_only_finding(context.sequence.name, tr, key_us))

    def _radar_only_finding(self, sequence: str, tr: _Track, key_us: np.ndarray) -> Finding:
        p = self.parameters
        times = np.asarray(tr.times_s)
        pos = np.asarray(tr.positions)
        mid_us = round(1e6 * float(np.median(times)))
        k = int(np.argmin(np.abs(key_us - mid_us)))
        t_key = key_us[k] * 1e-6
        # Least-squares constant velocity through the detections, evaluated at the nearest keyframe.
        a = np.stack([np.ones_like(times), times - t_key], axis=1)
        coef, *_ = np.linalg.lstsq(a, pos, rcond=None)
        where, velocity = coef[0], coef[1]
        speed = float(max(np.linalg.norm(velocity), np.median(np.abs(tr.radial_mps))))
        n = len(tr.scans)
        score = 0.5 + 0.5 * (1.0 - np.exp(-(n - p["min_track_scans"] + 1) / 3.0))
        message = (
            f"moving radar target ({speed:.1f} m/s) seen in {n} scans over {times[-1] - times[0]:.2f} s "
            "with no box nearby"
        )
        return Finding(
            check="radar_unlabeled_object",
            severity=Severity.WARNING,
            sequence=sequence,
            score=round(float(score), 4),
            message=message,
            sensor=tr.channel,
            timestamp_us=int(key_us[k]),
            position_m=(float(where[0]), float(where[1]), 0.0),
            values={
                "speed_mps": round(speed, 3),
                "radial_speed_mps": round(float(np.median(tr.radial_mps)), 3),
                "scans": n,
                "duration_s": round(float(times[-1] - times[0]), 3),
            },
        )

    # -- report table ------------------------------------------------------------------------------

    def _support_table(
        self, context: SequenceContext, support: dict[str, _Support], out: CheckOutput
    ) -> None:
        rows = []
        for kf in context.sequence.keyframes:
            for box in kf.annotations:
                s = support.get(box.token)
                rows.append(
                    {
                        "annotation": box.token,
                        "instance": box.instance,
                        "class": box.category,
                        "timestamp_us": box.timestamp_us,
                        "returns": 0 if s is None else len(s.residual_mps),
                        "scans": 0 if s is None else len(s.scans),
                        "median_residual_mps": None
                        if s is None or not s.residual_mps
                        else round(float(np.median(s.residual_mps)), 3),
                    }
                )
        out.sections["radar_support"] = rows


def _mismatch_kind(measured: float, predicted: float, speed_mps: float, moving_mps: float) -> str:
    """Name the disagreement between the radial velocity measured and the one the labels predict."""
    if speed_mps > moving_mps and abs(measured) < moving_mps:
        return "moving in the labels, stationary in the radar"
    if speed_mps <= moving_mps and abs(measured) >= moving_mps:
        return "stationary in the labels, moving in the radar"
    if measured * predicted < 0:
        return "opposite direction (wrong heading?)"
    return "speed disagreement"
