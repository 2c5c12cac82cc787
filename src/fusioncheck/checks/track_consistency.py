"""Track consistency: box sizes that change along a track, heading flips, jumps, and duplicated boxes.

Works on the labels alone (no sensor data), per sequence:

``size_inconsistent_track``
    A rigid object's size does not change: a box whose length, width or height differs from its track's
    median by more than ``size_tolerance`` (relative, default 5 %) is flagged. Pedestrians and animals
    change shape while moving; only their height is compared. Tracks need ``min_track_boxes`` boxes.
``track_jump``
    Motion between consecutive keyframes that no object of the class can make, given the time step:

    - ``heading_flip``: a box turned by about 180° (more than ``flip_deg``) against both neighbours;
    - ``yaw``: a box turned against both neighbours by more than ``max_yaw_rate_dps × dt +
      yaw_tolerance_deg`` (and less than ``flip_deg``);
    - ``position``: a box off the straight line between its neighbours (interpolated at its time) by
      more than ``position_tolerance_m + ½ a_max dt₁ dt₂`` — the largest deviation a constant
      acceleration ``a_max`` of the class can cause — or a speed to either neighbour above the class's
      ``max speed``.

    A flagged box is the one that disagrees with *both* neighbours, so one bad box is one finding.
``duplicate_box``
    Two boxes of one keyframe whose 3D IoU exceeds ``duplicate_iou`` (0.5): the same object labelled
    twice. The box of the shorter track (the likely copy) is reported, with the other's token.

Scores: ``0.5 + 0.5 × min(1, excess / tolerance)`` where excess is how far beyond the tolerance.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from fusioncheck.checks.base import Check, CheckOutput, Finding, Severity, register
from fusioncheck.context import SequenceContext
from fusioncheck.geometry.box_iou import box_iou_3d, box_rows
from fusioncheck.scene.boxes import BoxAnnotation, BoxTrack

_AXES = ("length", "width", "height")
#: Classes that change shape (only height is compared along their tracks).
NON_RIGID_PREFIXES = ("human.", "animal")
#: Class-name prefix -> (largest plausible speed m/s, largest plausible acceleration m/s²); first match.
MOTION_LIMITS: tuple[tuple[str, float, float], ...] = (
    ("human.", 12.0, 6.0),
    ("animal", 20.0, 8.0),
    ("vehicle.bicycle", 20.0, 5.0),
    ("movable_object.", 3.0, 3.0),
    ("static_object.", 3.0, 3.0),
    ("vehicle.", 70.0, 10.0),
    ("", 70.0, 10.0),
)


def motion_limits(category: str) -> tuple[float, float]:
    """``(max speed m/s, max acceleration m/s²)`` of a class."""
    for prefix, speed, accel in MOTION_LIMITS:
        if category.startswith(prefix):
            return speed, accel
    return MOTION_LIMITS[-1][1], MOTION_LIMITS[-1][2]


def _path_deviations(t: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """``(K,)`` distance of each inner box from the line between its neighbours at its time (ends: 0)."""
    out = np.zeros(t.size)
    if t.size < 3:
        return out
    f = (t[1:-1] - t[:-2]) / (t[2:] - t[:-2])
    predicted = (1 - f)[:, None] * xy[:-2] + f[:, None] * xy[2:]
    out[1:-1] = np.linalg.norm(xy[1:-1] - predicted, axis=1)
    return out


def _wrap_deg(angle_rad: float) -> float:
    return float(np.degrees((angle_rad + np.pi) % (2 * np.pi) - np.pi))


@register
class TrackConsistencyCheck(Check):
    """Size, heading and position consistency along tracks, and duplicate boxes (module docstring)."""

    name = "track_consistency"
    finding_types = ("size_inconsistent_track", "track_jump", "duplicate_box")
    defaults: ClassVar[dict[str, Any]] = {
        "size_tolerance": 0.05,
        "min_track_boxes": 3,
        "flip_deg": 150.0,
        "max_yaw_rate_dps": 60.0,
        "yaw_tolerance_deg": 15.0,
        "position_tolerance_m": 0.5,
        "duplicate_iou": 0.5,
    }

    def run(self, context: SequenceContext) -> CheckOutput:
        """Check every track and every keyframe of the sequence."""
        out = CheckOutput()
        sequence = context.sequence
        tracks = sequence.tracks
        for track in tracks.values():
            self._size(sequence.name, track, out)
            self._jumps(sequence.name, track, out)
        lengths = {instance: len(t) for instance, t in tracks.items()}
        for keyframe in sequence.keyframes:
            self._duplicates(sequence.name, keyframe.annotations, lengths, out)
        return out

    # -- sizes -------------------------------------------------------------------------------------

    def _size(self, sequence: str, track: BoxTrack, out: CheckOutput) -> None:
        p = self.parameters
        if len(track) < p["min_track_boxes"]:
            out.tally(track.category, "size_inconsistent_track", 0, 0)
            return
        sizes = np.stack([b.size_m for b in track.boxes])
        median = np.median(sizes, axis=0)
        rel = sizes / median - 1.0
        axes = [2] if track.category.startswith(NON_RIGID_PREFIXES) else [0, 1, 2]
        tol = p["size_tolerance"]
        for k, box in enumerate(track.boxes):
            worst = max(axes, key=lambda a: abs(rel[k, a]))
            excess = abs(rel[k, worst]) - tol
            flagged = excess > 0
            out.tally(box.category, "size_inconsistent_track", 1, int(flagged))
            if not flagged:
                continue
            message = (
                f"{box.category} box {_AXES[worst]} {box.size_m[worst]:.2f} m differs by "
                f"{100 * rel[k, worst]:+.1f} % from its track's median {median[worst]:.2f} m"
            )
            values = {
                "axis": _AXES[worst],
                "relative_change": round(float(rel[k, worst]), 4),
                "size_m": [round(float(v), 3) for v in box.size_m],
                "track_median_size_m": [round(float(v), 3) for v in median],
                "track_boxes": len(track),
            }
            out.findings.append(
                self._finding("size_inconsistent_track", sequence, box, 0.5 + 0.5 * min(1.0, excess / tol),
                              message, values)
            )  # fmt: skip

    # -- motion ------------------------------------------------------------------------------------

    def _jumps(self, sequence: str, track: BoxTrack, out: CheckOutput) -> None:
        p = self.parameters
        k = len(track)
        if k < p["min_track_boxes"]:
            out.tally(track.category, "track_jump", 0, 0)
            return
        max_speed, max_accel = motion_limits(track.category)
        t = track.timestamps_us.astype(np.float64) * 1e-6
        yaw = np.array([b.yaw_rad for b in track.boxes])
        xy = track.centers_m[:, :2]
        deviations = _path_deviations(t, xy)
        for i, box in enumerate(track.boxes):
            verdict = self._judge_jump(i, t, yaw, xy, max_speed, max_accel, deviations)
            out.tally(box.category, "track_jump", 1, int(verdict is not None))
            if verdict is not None:
                score, message, values = verdict
                out.findings.append(
                    self._finding("track_jump", sequence, box, score, f"{box.category} box {message}", values)
                )

    def _judge_jump(
        self,
        i: int,
        t: np.ndarray,
        yaw: np.ndarray,
        xy: np.ndarray,
        max_speed: float,
        max_accel: float,
        deviations: np.ndarray,
    ) -> tuple[float, str, dict[str, Any]] | None:
        p = self.parameters
        k = t.size
        # Neighbours to compare with: both for inner boxes; for an end box, its neighbour and, as a
        # witness that the neighbour is right, the neighbour's own other neighbour.
        if 0 < i < k - 1:
            prev, nxt = i - 1, i + 1
            d_prev = _wrap_deg(yaw[i] - yaw[prev])
            d_next = _wrap_deg(yaw[nxt] - yaw[i])
            if min(abs(d_prev), abs(d_next)) > p["flip_deg"]:
                return self._flip(d_prev, d_next)
            dt_prev, dt_next = t[i] - t[prev], t[nxt] - t[i]
            yaw_tol = min(
                p["max_yaw_rate_dps"] * max(dt_prev, dt_next) + p["yaw_tolerance_deg"], p["flip_deg"]
            )
            # Turned against both neighbours in opposite senses (a spike, not a steady turn).
            if abs(d_prev) > yaw_tol and abs(d_next) > yaw_tol and np.sign(d_prev) != np.sign(d_next):
                excess = min(abs(d_prev), abs(d_next)) - yaw_tol
                values = {"kind": "yaw", "yaw_change_deg": [round(d_prev, 1), round(d_next, 1)],
                          "tolerance_deg": round(yaw_tol, 1)}  # fmt: skip
                message = f"turns {d_prev:+.0f}° then {d_next:+.0f}° within {dt_prev + dt_next:.2f} s"
                return 0.5 + 0.5 * min(1.0, excess / yaw_tol), message, values
            deviation = float(deviations[i])
            # A box off the path also moves its neighbours' predictions (by half as much): only the
            # box that deviates most among itself and its neighbours is the jump.
            deviation_is_local_max = deviation >= max(deviations[prev], deviations[nxt])
            tol = p["position_tolerance_m"] + 0.5 * max_accel * dt_prev * dt_next
            speeds = (np.linalg.norm(xy[i] - xy[prev]) / dt_prev, np.linalg.norm(xy[nxt] - xy[i]) / dt_next)
            speed_excess = min(speeds) - max_speed  # both legs too fast: this box is off, not a neighbour
            if (deviation > tol and deviation_is_local_max) or speed_excess > 0:
                excess = max((deviation - tol) / tol, speed_excess / max_speed)
                values = {
                    "kind": "position",
                    "deviation_m": round(deviation, 3),
                    "tolerance_m": round(tol, 3),
                    "speeds_mps": [round(float(s), 2) for s in speeds],
                    "max_speed_mps": max_speed,
                }
                message = (
                    f"lies {deviation:.2f} m off the path between its neighbours (tolerance {tol:.2f} m)"
                )
                return 0.5 + 0.5 * min(1.0, excess), message, values
            return None
        j, w = (1, 2) if i == 0 else (k - 2, k - 3)
        d = _wrap_deg(yaw[i] - yaw[j])
        witness = _wrap_deg(yaw[j] - yaw[w])
        if abs(d) > p["flip_deg"] and abs(witness) < 180.0 - p["flip_deg"]:
            return self._flip(d, d)
        return None

    def _flip(self, d_prev: float, d_next: float) -> tuple[float, str, dict[str, Any]]:
        turn = min(abs(d_prev), abs(d_next))
        excess = (turn - self.parameters["flip_deg"]) / (180.0 - self.parameters["flip_deg"])
        values = {"kind": "heading_flip", "yaw_change_deg": [round(d_prev, 1), round(d_next, 1)]}
        return (
            0.75 + 0.25 * min(1.0, excess),
            f"is turned by {turn:.0f}° against its track (heading flip)",
            values,
        )

    # -- duplicates --------------------------------------------------------------------------------

    def _duplicates(
        self, sequence: str, boxes: tuple[BoxAnnotation, ...], track_lengths: dict[str, int], out: CheckOutput
    ) -> None:
        threshold = self.parameters["duplicate_iou"]
        for box in boxes:
            out.tally(box.category, "duplicate_box", 1, 0)
        if len(boxes) < 2:
            return
        iou = box_iou_3d(box_rows(boxes), box_rows(boxes))
        np.fill_diagonal(iou, 0.0)
        for a, b in zip(*np.nonzero(np.triu(iou) > threshold), strict=True):
            first, second = boxes[int(a)], boxes[int(b)]
            copy, kept = (
                (second, first)
                if track_lengths.get(second.instance, 0) <= track_lengths.get(first.instance, 0)
                else (first, second)
            )
            value = float(iou[a, b])
            out.tallies[copy.category].flagged["duplicate_box"] = (
                out.tallies[copy.category].flagged.get("duplicate_box", 0) + 1
            )
            message = f"{copy.category} box overlaps {kept.category} box {kept.token} with 3D IoU {value:.2f}"
            values = {
                "iou_3d": round(value, 3),
                "other_annotation": kept.token,
                "other_instance": kept.instance,
                "other_class": kept.category,
            }
            score = 0.5 + 0.5 * min(1.0, (value - threshold) / (1.0 - threshold))
            out.findings.append(self._finding("duplicate_box", sequence, copy, score, message, values))

    def _finding(
        self,
        check: str,
        sequence: str,
        box: BoxAnnotation,
        score: float,
        message: str,
        values: dict[str, Any],
    ) -> Finding:
        return Finding(
            check=check,
            severity=Severity.WARNING,
            sequence=sequence,
            score=round(float(np.clip(score, 0.0, 1.0)), 4),
            message=message,
            annotation=box.token,
            instance=box.instance,
            timestamp_us=box.timestamp_us,
            category=box.category,
            position_m=(float(box.center_m[0]), float(box.center_m[1]), float(box.center_m[2])),
            values=values,
        )
