"""LiDAR box fit: boxes that hold no points, are too small or too large for their points, or float.

For every keyframe the reference LiDAR sweep is taken to the ego frame (z up) and the keyframe's boxes
with it. One points-in-boxes pass with an outer shell per box yields, per box, the points inside and the
points just outside each face. Ground points (within ``ground_clearance_m`` of a local ground grid) and
points inside other boxes never count as shell. Then, per box:

``undersized_box``
    object points spill past a face by more than the noise allowance ``noise_m + size_tolerance * size``,
    in numbers (``min_spill_points`` and ``min_spill_fraction`` of the box's points). The floor face is
    not tested (ground).
``oversized_box``
    on an axis whose full extent is observable (the face parallel to it faces the sensor), the object's
    points leave a gap at *both* ends larger than ``oversize_gap_m + oversize_tolerance * size/2`` plus
    the sensor's sampling step at that range; for height, the gap under the box top.
``box_height_offset``
    the box bottom lies more than ``height_offset_tolerance_m`` above or below the local ground, measured
    around the box footprint.
``empty_box``
    the box holds (almost) no non-ground points although the class and range predict them, and LiDAR
    beams passed *through* the box's core (free space), which an occluded object would not allow. The
    expected count follows ``k_class * A / r²`` (A = the box's cross-section seen from the sensor, r its
    range); ``k_class`` is learnt from the sequence's own boxes as a median, so it adapts to the sensor.
    When the sequence has radar, the radar votes too (:mod:`fusioncheck.checks.radar_evidence`): returns
    inside the box speak for an object, no return where the class usually has some speaks for a ghost.

Scores are 0..1; a box is flagged when its score reaches 0.5. Each finding carries the measured values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fusioncheck.checks.base import Check, CheckOutput, Finding, Severity, register
from fusioncheck.checks.ground import GroundModel
from fusioncheck.checks.radar_evidence import expected_returns, keyframe_radar_support, radar_log_ratio
from fusioncheck.checks.ray_evidence import ray_evidence
from fusioncheck.checks.size_bias import NOTE_SAMPLE_NAME, SAMPLE_NAME, axis_bias, class_bias
from fusioncheck.checks.size_evidence import AXES, SizeEvidence, loose_axes, size_evidence
from fusioncheck.checks.size_per_box import ClassSizeStats, class_size_stats, size_verdict
from fusioncheck.context import SequenceContext
from fusioncheck.geometry.boxes import transform_boxes
from fusioncheck.kernels.points_in_boxes import points_in_boxes
from fusioncheck.scene.boxes import BoxAnnotation, BoxArrays, boxes_to_arrays
from fusioncheck.scene.sequence import Keyframe
from fusioncheck.typing import FloatArray

_AXES = ("length", "width", "height")
_FACES = ("front", "back", "left", "right", "top", "bottom")
#: Points past a side face within this x-y distance of a point above the box top stand under a taller thing.
_COLUMN_M = 0.3
#: Classes whose shape leaves much of their box empty (beams pass between legs, spokes, rails).
_SPARSE_CLASSES = ("human.", "vehicle.bicycle", "vehicle.motorcycle", "movable_object.barrier")
#: A judgement: score 0..1 (flagged from 0.5), message and measured values; None = not evaluable.
_Verdict = tuple[float, str, dict[str, Any]]
#: A face counts as facing the sensor when the view direction's component along its normal exceeds this.
_FACING_COS = 0.34


@dataclass
class _BoxMeasure:
    """What one keyframe's LiDAR says about one box (ego frame of that keyframe)."""

    box: BoxAnnotation
    sensor: str
    range_m: float
    cross_section_m2: float
    points_inside: int
    object_points: int
    spill_points: FloatArray  # (6,) points beyond +x, -x, +y, -y, +z, -z faces (beyond tolerance)
    spill_m: FloatArray  # (6,) 90th percentile distance beyond each face (0 when none)
    spill_tolerance_m: FloatArray  # (3,) per axis
    gap_m: FloatArray  # (3,) smaller of the two end gaps per axis (height: top gap); NaN if not observable
    gap_tolerance_m: FloatArray  # (3,)
    occupied_m: FloatArray  # (2, 3) 2nd and 98th percentile of the object points per axis (NaN if too few)
    ground_offset_m: float  # box bottom minus local ground; NaN if no ground evidence
    ground_support: int  # ring positions around the footprint where the ground was seen
    through: int = 0
    front: int = 0
    gap_through: FloatArray | None = None  # (3,) beams through the empty end slabs (fewest of both ends)
    size: SizeEvidence | None = None  # evidence of the true size (dense boxes only)
    keyframe_index: int = -1
    radar_returns: int | None = None  # radar returns associated with the box (None: no radar looked)
    expected_radar_returns: float = 0.0


@register
class BoxFitCheck(Check):
    """Do the boxes fit the reference LiDAR's points? (see the module docstring)."""

    name = "box_fit"
    finding_types = ("empty_box", "undersized_box", "oversized_box", "box_height_offset")
    defaults: ClassVar[dict[str, Any]] = {
        "noise_m": 0.08,
        "size_tolerance": 0.02,
        "shell_margin_m": 0.3,
        "shell_margin_fraction": 0.25,
        "shell_margin_max_m": 1.5,
        "min_points": 10,
        "min_spill_points": 3,
        "min_spill_fraction": 0.03,
        "min_points_oversized": 30,
        "oversize_gap_m": 0.15,
        "oversize_tolerance": 0.1,
        "min_gap_through": 3,
        "azimuth_step_deg": 0.35,
        "vertical_step_deg": 1.4,
        "ground_clearance_m": 0.2,
        "height_offset_tolerance_m": 0.3,
        "min_ground_cells": 8,
        "empty_max_points": 2,
        "empty_leak": 0.1,
        "empty_leak_sparse": 0.3,
        "empty_log_ratio": 4.6,
        "empty_min_through": 2,
        "empty_min_visible": 0.2,
        "max_range_m": 60.0,
        "min_points_size": 50,
        "box_size_tolerance": 0.03,
        "box_size_prior_sd": 0.03,
        "box_size_z": 3.0,
        "class_bias_tolerance": 0.03,
        "radar_evidence": True,
        "radar_window_s": 0.25,
        "radar_clutter_p": 0.05,
    }

    def run(self, context: SequenceContext) -> CheckOutput:
        """Measure every keyframe's boxes against its reference LiDAR sweep and decide."""
        out = CheckOutput()
        lidar = context.reference_lidar
        sequence = context.sequence
        if lidar is None:
            out.notes.append("box_fit: the sequence has no LiDAR channel; no box was evaluated")
            return out
        measures: list[_BoxMeasure] = []
        for keyframe in sequence.keyframes:
            if not keyframe.annotations:
                continue
            if lidar not in keyframe.samples:
                out.notes.append(
                    f"box_fit: keyframe {keyframe.token} has no {lidar} sample; its "
                    f"{len(keyframe.annotations)} boxes were not evaluated"
                )
                continue
            start = len(measures)
            measures.extend(self._measure_keyframe(context, keyframe, lidar))
            for m in measures[start:]:
                m.keyframe_index = sequence.keyframes.index(keyframe)
        self._add_radar_evidence(context, measures)
        self._decide(sequence.name, measures, out)
        return out

    def plot(self, context: SequenceContext, output: CheckOutput, out_dir: Path) -> list[Path]:
        """Per-class size residuals per axis with the class bias and its interval (one PNG)."""
        from fusioncheck.plots.size_bias import plot_size_residuals

        path = plot_size_residuals(
            output.class_samples, out_dir / "size_bias.png", f"size bias per class — {context.sequence.name}"
        )
        return [] if path is None else [path]

    # -- measurement -------------------------------------------------------------------------------

    def _measure_keyframe(
        self, context: SequenceContext, keyframe: Keyframe, lidar: str
    ) -> list[_BoxMeasure]:
        p = self.parameters
        sample = keyframe.samples[lidar]
        sensor = context.sequence.sensors[lidar]
        sweep = context.read_lidar(sample)
        points = sensor.ego_from_sensor.transform_points(sweep.xyz.astype(np.float64))
        origin = sensor.ego_from_sensor.translation
        boxes = transform_boxes(boxes_to_arrays(keyframe.annotations), sample.global_from_ego.inverse())
        sizes = boxes.sizes_m
        margins = np.clip(
            np.maximum(p["shell_margin_m"], p["shell_margin_fraction"] * sizes), 0.0, p["shell_margin_max_m"]
        )

        # Points within noise of a box belong to it: they are never another box's spill, nor ground.
        near = points_in_boxes(points, BoxArrays(boxes.centers_m, sizes + 2 * p["noise_m"], boxes.rotations))
        ground = GroundModel.fit(points, near.point_box < 0, origin)
        is_ground = ground.ground_mask(points, p["ground_clearance_m"])
        eligible = ~is_ground & (near.point_box < 0)
        result = points_in_boxes(points, boxes, margins, shell_eligible=eligible)

        # Points within noise outside a box are not shell (never another box's spill) but they are this
        # box's own surface: keep them, or the sensor-side faces of the size evidence lose their outer half.
        owner = np.where(
            result.point_box >= 0,
            result.point_box,
            np.where(near.point_box >= 0, near.point_box, result.point_shell_box),
        )
        member = (owner >= 0) & ~is_ground
        order = np.argsort(owner[member], kind="stable")
        member_idx = np.flatnonzero(member)[order]
        bounds = np.searchsorted(owner[member][order], np.arange(len(boxes) + 1))
        owned = np.bincount(result.point_box + 1, minlength=len(boxes) + 1)[1:]
        # Object motion during the sweep: with per-point times, each point is moved back to the box's time.
        ego_from_global = sample.global_from_ego.inverse()
        velocities = _velocities(context, keyframe.annotations) @ ego_from_global.rotation.T
        point_dt_s = None
        if sweep.point_times_s is not None:
            point_dt_s = sweep.point_times_s.astype(np.float64) + 1e-6 * (
                sample.timestamp_us - keyframe.timestamp_us
            )

        measures = []
        for j, box in enumerate(keyframe.annotations):
            idx = member_idx[bounds[j] : bounds[j + 1]]
            if result.counts[j] != owned[j]:
                # Overlapping boxes: shared points belong to the lower index; measure this box on its own.
                alone = points_in_boxes(
                    points, _one_box(boxes, j), margins[j : j + 1], shell_eligible=eligible
                )
                mine = (alone.point_box == 0) | ((alone.point_shell_box == 0) & (result.point_box < 0))
                idx = np.flatnonzero(mine & ~is_ground)
            box_points = points[idx]
            if point_dt_s is not None:
                box_points = box_points - np.outer(point_dt_s[idx], velocities[j])
            local = (box_points - boxes.centers_m[j]) @ boxes.rotations[j]
            measures.append(
                self._measure_box(
                    box, lidar, local, int(result.counts[j]), origin, boxes.centers_m[j], boxes.rotations[j],
                    sizes[j], ground,
                )
            )  # fmt: skip
        self._add_ray_evidence(measures, points, origin, boxes.centers_m, boxes.rotations, sizes)
        return measures

    def _measure_box(
        self,
        box: BoxAnnotation,
        sensor: str,
        local: FloatArray,
        points_inside: int,
        origin: FloatArray,
        center: FloatArray,
        rotation: FloatArray,
        size: FloatArray,
        ground: GroundModel,
    ) -> _BoxMeasure:
        p = self.parameters
        half = size / 2.0
        view = center - origin
        range_m = float(np.linalg.norm(view[:2]))
        view_local = rotation.T @ (view / max(float(np.linalg.norm(view)), 1e-9))
        # Cross-section of the box seen along the view direction (sum of face areas times |cos|).
        faces = np.array([size[1] * size[2], size[0] * size[2], size[0] * size[1]])
        cross_section = float(np.sum(faces * np.abs(view_local)))

        inside = np.all(np.abs(local) <= half, axis=1)
        object_points = int(np.count_nonzero(inside))
        spill_tol = p["noise_m"] + p["size_tolerance"] * size
        spill_points = np.zeros(6)
        spill_m = np.zeros(6)
        # A point spills past a face only if it lies within the box's extent on the two other axes: a
        # point past two faces at once (beside a corner) is more likely a pole or a neighbour than object.
        # Likewise, points past a side face that stand under something rising above the box's top (a
        # pole, a tree, a wall) belong to that taller thing.
        within = np.abs(local) <= half + spill_tol
        above = local[:, 2] > half[2] + spill_tol[2]
        under_tall = _near_xy(
            local[:, :2], local[above & ~within[:, 0] | above & ~within[:, 1], :2], _COLUMN_M
        )
        for axis in range(3):
            others = np.all(np.delete(within, axis, axis=1), axis=1)
            if axis < 2:
                others &= ~under_tall
            for k, sign in enumerate((1.0, -1.0)):
                if axis == 2 and sign < 0:
                    continue  # the floor face touches the ground
                beyond = sign * local[:, axis] - half[axis]
                mask = (beyond > spill_tol[axis]) & others
                n = int(np.count_nonzero(mask))
                spill_points[2 * axis + k] = n
                if n:
                    spill_m[2 * axis + k] = float(np.percentile(beyond[mask], 90))

        gap = np.full(3, np.nan)
        gap_tol = np.full(3, np.nan)
        occupied = np.full((2, 3), np.nan)
        inside_local = local[inside]
        if object_points >= p["min_points_oversized"]:
            lo = np.percentile(inside_local, 2, axis=0)
            hi = np.percentile(inside_local, 98, axis=0)
            occupied[:] = lo, hi
            az_step = range_m * np.radians(p["azimuth_step_deg"])
            for axis, other in ((0, 1), (1, 0)):
                if abs(view_local[other]) >= _FACING_COS:  # the face along this axis faces the sensor
                    gap[axis] = min(half[axis] - hi[axis], lo[axis] + half[axis])
                    gap_tol[axis] = p["oversize_gap_m"] + p["oversize_tolerance"] * half[axis] + az_step
            gap[2] = half[2] - hi[2]
            gap_tol[2] = (
                p["oversize_gap_m"]
                + p["oversize_tolerance"] * half[2]
                + range_m * np.radians(p["vertical_step_deg"])
            )

        # Ground around the footprint: grid heights sampled on a ring 0.5..2.5 m outside the box.
        ring = _footprint_ring(center, rotation, half)
        seen = ground.observed_at(ring)
        heights = ground.height_at(ring)[seen]
        bottom = float(center[2] - np.sum(np.abs(rotation[2, :]) * half))
        ground_support = int(np.count_nonzero(seen))
        offset = bottom - float(np.median(heights)) if heights.size else float("nan")

        # Dense boxes only, counted within the spill tolerance rather than strictly inside: a box whose
        # centre is off by a few centimetres would otherwise qualify more often when it is shifted
        # towards the sensor (its face points then fall inside), biasing thin objects' evidence.
        near_points = int(np.count_nonzero(np.all(np.abs(local) <= half + spill_tol, axis=1)))
        evidence = None
        if near_points >= p["min_points_size"] and range_m <= p["max_range_m"]:
            evidence = size_evidence(local, size, rotation.T @ (origin - center), box.category)

        return _BoxMeasure(
            box=box, sensor=sensor, range_m=range_m, cross_section_m2=cross_section,
            points_inside=points_inside, object_points=object_points, spill_points=spill_points,
            spill_m=spill_m, spill_tolerance_m=spill_tol, gap_m=gap, gap_tolerance_m=gap_tol,
            occupied_m=occupied,
            ground_offset_m=offset, ground_support=ground_support, size=evidence,
        )  # fmt: skip

    def _add_ray_evidence(
        self,
        measures: list[_BoxMeasure],
        points: FloatArray,
        origin: FloatArray,
        centers: FloatArray,
        rotations: FloatArray,
        sizes: FloatArray,
    ) -> None:
        """Count LiDAR beams through near-empty boxes and through the empty ends of boxes that look too large.

        An end is only known to be empty if beams crossed it. End slabs span the lower half of the box
        (above the ground clearance), where vehicles reach from bumper to bumper; above it, hoods and
        rear windows leave free space inside a correct box.
        """
        p = self.parameters
        for j, m in enumerate(measures):
            if m.object_points <= p["empty_max_points"] and m.range_m <= p["max_range_m"]:
                ev = ray_evidence(points, origin, centers[j], rotations[j], sizes[j])
                m.through, m.front = ev.through, ev.front
            candidate = np.isfinite(m.gap_m) & (m.gap_m > m.gap_tolerance_m)
            if not candidate.any():
                continue
            m.gap_through = np.zeros(3)
            half = sizes[j] / 2
            for axis in np.flatnonzero(candidate):
                ends = ((m.occupied_m[1, axis], half[axis]), (-half[axis], m.occupied_m[0, axis]))
                counts = []
                for lo, hi in ends[: 1 if axis == 2 else 2]:  # height: only the top slab (floor = ground)
                    slab_center = np.zeros(3)
                    slab_size = 0.7 * sizes[j].copy()
                    if axis < 2:
                        slab_center[2] = -0.2 * sizes[j][2]
                        slab_size[2] = 0.3 * sizes[j][2]
                    slab_center[axis] = (lo + hi) / 2
                    slab_size[axis] = max(hi - lo, 1e-3)
                    ev = ray_evidence(
                        points, origin, centers[j] + rotations[j] @ slab_center, rotations[j], slab_size, 1.0
                    )
                    counts.append(ev.through)
                m.gap_through[axis] = min(counts)

    def _add_radar_evidence(self, context: SequenceContext, measures: list[_BoxMeasure]) -> None:
        """Radar returns of the keyframes that hold a box LiDAR finds (almost) empty, and the class means."""
        p = self.parameters
        empty = [m for m in measures if m.object_points <= p["empty_max_points"]]
        if not empty or not p["radar_evidence"]:
            return
        keyframes = sorted({m.keyframe_index for m in empty})
        support = keyframe_radar_support(context, keyframes, p["radar_window_s"])
        if support is None:
            return
        counts: dict[str, list[int]] = {}
        for m in measures:
            n = support.returns.get(m.box.token)
            if n is None:
                continue
            m.radar_returns = n
            if m.object_points >= p["min_points"]:  # boxes LiDAR shows to hold an object
                counts.setdefault(m.box.category, []).append(n)
        expected = expected_returns(counts)
        for m in measures:
            m.expected_radar_returns = expected.get(m.box.category, expected["*"])

    # -- decisions ---------------------------------------------------------------------------------

    def _decide(self, sequence: str, measures: list[_BoxMeasure], out: CheckOutput) -> None:
        density = _density_per_class(measures, self.parameters["max_range_m"])
        size_stats = self._size_stats(measures)
        judges = {
            "empty_box": lambda m: self._judge_empty(m, density),
            "undersized_box": lambda m: _stronger(
                self._judge_undersized(m), self._judge_size(m, size_stats, True)
            ),
            "oversized_box": lambda m: _stronger(
                self._judge_oversized(m), self._judge_size(m, size_stats, False)
            ),
            "box_height_offset": self._judge_height,
        }
        for m in measures:
            for check, judge in judges.items():
                verdict = judge(m)
                if verdict is None:  # not evaluable for this box
                    out.tally(m.box.category, check, 0, 0)
                    continue
                score, message, values = verdict
                flagged = score >= 0.5
                out.tally(m.box.category, check, 1, int(flagged))
                if flagged:
                    out.findings.append(self._finding(check, sequence, m, score, message, values))
        out.statistics["points_per_m2_at_1m"] = {k: round(v, 2) for k, v in sorted(density.items())}
        self._size_samples(measures, out)
        self._class_size_findings(sequence, measures, out)

    def _size_stats(self, measures: list[_BoxMeasure]) -> dict[str, ClassSizeStats]:
        """Per class: residual spread and bias of the sequence's boxes with size evidence."""
        residuals: dict[str, list[FloatArray]] = {}
        for m in measures:
            if m.size is not None:
                residuals.setdefault(m.box.category, []).append(m.size.residual(m.box.size_m))
        return {c: class_size_stats(r) for c, r in residuals.items()}

    def _judge_size(
        self, m: _BoxMeasure, stats: dict[str, ClassSizeStats], undersized: bool
    ) -> _Verdict | None:
        if m.size is None or m.box.category not in stats:
            return None
        p = self.parameters
        residual = m.size.residual(m.box.size_m)
        if not undersized:
            # Points spilling past a face prove the box is not too large on that axis.
            needed = max(p["min_spill_points"], p["min_spill_fraction"] * m.object_points)
            residual = np.where((m.spill_points.reshape(3, 2) >= needed).any(axis=1), np.nan, residual)
        verdict = size_verdict(
            residual, stats[m.box.category], p["box_size_tolerance"],
            p["box_size_prior_sd"], p["box_size_z"], undersized, m.box.size_m,
        )  # fmt: skip
        if verdict is None:
            return None
        score, message, values = verdict
        return score, f"{m.box.category} {message}", values | {"range_m": round(m.range_m, 2)}

    def _class_size_findings(self, sequence: str, measures: list[_BoxMeasure], out: CheckOutput) -> None:
        """Add a class-level finding per class and axis whose bias interval excludes ±tolerance."""
        tolerance = self.parameters["class_bias_tolerance"]
        by_class: dict[str, list[_BoxMeasure]] = {}
        for m in measures:
            if m.size is not None:
                by_class.setdefault(m.box.category, []).append(m)
        for category, ms in sorted(by_class.items()):
            residuals = np.stack([m.size.residual(m.box.size_m) for m in ms if m.size is not None])
            tracks = np.array([m.box.instance for m in ms], dtype=object)
            for k, axis in enumerate(AXES):
                finite = residuals[np.isfinite(residuals[:, k]), k]
                if finite.size == 0 or abs(class_bias(finite)) <= tolerance:
                    continue  # the interval cannot lie beyond the tolerance: no bootstrap needed
                # One sequence holds a few tracks: less support than the run-level statistic needs; the
                # interval (Student's t on few tracks) widens accordingly.
                bias = axis_bias(residuals[:, k], tracks, seed=k, min_tracks=4, min_boxes=10)
                # The whole interval beyond the tolerance: the class is too small (or large) for sure.
                if bias.reason or (-tolerance <= bias.ci95[1] and bias.ci95[0] <= tolerance):
                    continue
                check = "undersized_box" if bias.ci95[1] < -tolerance else "oversized_box"
                excess = abs(bias.estimate) - tolerance
                word = "small" if bias.estimate < 0 else "large"
                out.findings.append(
                    Finding(
                        check=check,
                        severity=Severity.WARNING,
                        sequence=sequence,
                        score=round(0.5 + 0.5 * min(1.0, excess / tolerance), 4),
                        message=(
                            f"{category} boxes are {100 * abs(bias.estimate):.1f} % too {word} in {axis} "
                            f"(95 % interval {100 * bias.ci95[0]:+.1f} to {100 * bias.ci95[1]:+.1f} %, "
                            f"{bias.boxes} boxes in {bias.tracks} tracks; tolerance ±{100 * tolerance:.0f} %)"
                        ),
                        category=category,
                        values={
                            "level": "class",
                            "axis": axis,
                            "bias": round(bias.estimate, 5),
                            "ci95": [round(bias.ci95[0], 5), round(bias.ci95[1], 5)],
                            "boxes": bias.boxes,
                            "tracks": bias.tracks,
                            "tolerance": tolerance,
                        },
                    )
                )

    def _size_samples(self, measures: list[_BoxMeasure], out: CheckOutput) -> None:
        """Hand each dense box's size residuals to the run-level size-bias statistic (per class)."""
        for m in measures:
            category = m.box.category
            samples = out.class_samples.setdefault(category, {})
            loose, reason = loose_axes(category)
            if loose and NOTE_SAMPLE_NAME not in samples:
                samples[NOTE_SAMPLE_NAME] = [[axis, reason] for axis in loose]
            samples.setdefault(SAMPLE_NAME, [])  # measured: its size_bias says why, even without evidence
            if m.size is None:
                continue
            residual = m.size.residual(m.box.size_m)
            if not np.isfinite(residual).any():
                continue
            samples.setdefault(SAMPLE_NAME, []).append(
                [m.box.instance, *(round(float(v), 5) if np.isfinite(v) else None for v in residual)]
            )

    def _judge_empty(self, m: _BoxMeasure, density: dict[str, float]) -> _Verdict | None:
        p = self.parameters
        if m.range_m > p["max_range_m"]:
            return None
        k = density.get(m.box.category, density.get("*", 0.0))
        expected = k * m.cross_section_m2 / max(m.range_m, 1.0) ** 2
        if m.object_points > p["empty_max_points"] or m.object_points >= 0.1 * expected:
            return 0.0, "", {}
        # Evidence as a log likelihood ratio "no object" vs "object": every beam through the box's core
        # is unlikely (leakage probability per beam) if an object were there, and so is seeing no point
        # where ``expected`` are due (Poisson), discounted by the share of beams occluded in front.
        reached = m.through + m.object_points
        visible = reached / (reached + m.front) if reached + m.front else 0.0
        leak = p["empty_leak_sparse"] if m.box.category.startswith(_SPARSE_CLASSES) else p["empty_leak"]
        log_ratio = m.through * np.log(1.0 / leak) + expected * visible
        if m.radar_returns is not None:  # the radar's vote: returns inside, or none where some were due
            log_ratio += radar_log_ratio(
                m.radar_returns, m.expected_radar_returns, visible, p["radar_clutter_p"]
            )
        score = 1.0 / (1.0 + np.exp(-(log_ratio - p["empty_log_ratio"])))
        if m.through < p["empty_min_through"] or visible < p["empty_min_visible"]:
            score = min(score, 0.49)  # too few beams, or mostly hidden behind something: no verdict
        message = (
            f"{m.box.category} box holds {m.object_points} points where about {expected:.0f} are expected at "
            f"{m.range_m:.1f} m, and {m.through} LiDAR beams pass through it"
        )
        values = {
            "points": m.object_points,
            "expected_points": round(expected, 1),
            "beams_through": m.through,
            "beams_blocked_in_front": m.front,
            "range_m": round(m.range_m, 2),
        }
        if m.radar_returns is not None:
            values["radar_returns"] = m.radar_returns
            values["expected_radar_returns"] = round(m.expected_radar_returns, 2)
        return float(score), message, values

    def _judge_undersized(self, m: _BoxMeasure) -> _Verdict | None:
        p = self.parameters
        if m.object_points < p["min_points"]:
            return None
        needed = max(p["min_spill_points"], p["min_spill_fraction"] * m.object_points)
        face_scores = []
        for face in range(6):
            tolerance = m.spill_tolerance_m[face // 2]
            strength = min(1.0, m.spill_points[face] / (2 * needed)) * min(
                1.0, m.spill_m[face] / (2 * tolerance)
            )
            face_scores.append(0.5 + 0.5 * strength if m.spill_points[face] >= needed else 0.49 * strength)
        worst = int(np.argmax(face_scores))
        message = (
            f"{m.box.category} box: {int(m.spill_points[worst])} points spill {m.spill_m[worst]:.2f} m "
            f"past its {_FACES[worst]} face"
        )
        values: dict[str, Any] = {
            f"spill_{axis}_m": round(float(max(m.spill_m[2 * i], m.spill_m[2 * i + 1])), 3)
            for i, axis in enumerate(_AXES)
        }
        values |= {"spill_points": [int(v) for v in m.spill_points], "points": m.object_points}
        values["range_m"] = round(m.range_m, 2)
        return float(max(face_scores)), message, values

    def _judge_oversized(self, m: _BoxMeasure) -> _Verdict | None:
        observable = np.isfinite(m.gap_m)
        if not observable.any():
            return None
        seen_empty = (
            np.zeros(3, dtype=bool)
            if m.gap_through is None
            else m.gap_through >= self.parameters["min_gap_through"]
        )
        needed = max(
            self.parameters["min_spill_points"], self.parameters["min_spill_fraction"] * m.object_points
        )
        spilling = (m.spill_points.reshape(3, 2) >= needed).any(axis=1)  # points past a face: not too large
        excess = np.where(observable & seen_empty & ~spilling, m.gap_m - m.gap_tolerance_m, -np.inf)
        axis = int(np.argmax(excess))
        if excess[axis] <= 0:
            return 0.0, "", {}
        score = 0.5 + 0.5 * min(1.0, float(excess[axis] / m.gap_tolerance_m[axis]))
        where = "at both ends" if axis < 2 else "under its top"
        extent = f"{_AXES[axis]} {where}"
        message = f"{m.box.category} box is {m.gap_m[axis]:.2f} m larger than its points along its {extent}"
        values: dict[str, Any] = {
            f"gap_{a}_m": (round(float(g), 3) if np.isfinite(g) else None)
            for a, g in zip(_AXES, m.gap_m, strict=True)
        }
        values |= {"points": m.object_points, "range_m": round(m.range_m, 2)}
        return score, message, values

    def _judge_height(self, m: _BoxMeasure) -> _Verdict | None:
        p = self.parameters
        if not np.isfinite(m.ground_offset_m) or m.ground_support < p["min_ground_cells"]:
            return None
        tolerance = p["height_offset_tolerance_m"]
        excess = abs(m.ground_offset_m) - tolerance
        if excess <= 0:
            return 0.0, "", {}
        where = "above" if m.ground_offset_m > 0 else "below"
        message = f"{m.box.category} box bottom is {abs(m.ground_offset_m):.2f} m {where} the local ground"
        values = {
            "offset_m": round(m.ground_offset_m, 3),
            "ground_cells_seen": m.ground_support,
            "range_m": round(m.range_m, 2),
        }
        return 0.5 + 0.5 * min(1.0, excess / tolerance), message, values

    def _finding(
        self, check: str, sequence: str, m: _BoxMeasure, score: float, message: str, values: dict[str, Any]
    ) -> Finding:
        return Finding(
            check=check,
            severity=Severity.WARNING,
            sequence=sequence,
            score=round(float(np.clip(score, 0.0, 1.0)), 4),
            message=message,
            annotation=m.box.token,
            instance=m.box.instance,
            sensor=m.sensor,
            timestamp_us=m.box.timestamp_us,
            category=m.box.category,
            position_m=(float(m.box.center_m[0]), float(m.box.center_m[1]), float(m.box.center_m[2])),
            values=values,
        )


def _stronger(a: _Verdict | None, b: _Verdict | None) -> _Verdict | None:
    """Return the verdict with the higher score (None = not evaluable; an evaluable one wins over None)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if a[0] >= b[0] else b


def _density_per_class(measures: list[_BoxMeasure], max_range_m: float) -> dict[str, float]:
    """Robust ``k`` of ``points ≈ k * cross_section / range²`` per class ('*' = all classes pooled).

    The median over boxes in range with at least one object point: occluded and empty boxes pull a mean
    down, a median barely moves. Classes with fewer than 5 such boxes use the pooled value.
    """
    by_class: dict[str, list[float]] = {}
    pooled: list[float] = []
    for m in measures:
        if m.object_points > 0 and m.range_m <= max_range_m and m.cross_section_m2 > 0:
            k = m.object_points * max(m.range_m, 1.0) ** 2 / m.cross_section_m2
            by_class.setdefault(m.box.category, []).append(k)
            pooled.append(k)
    density = {c: float(np.median(v)) for c, v in by_class.items() if len(v) >= 5}
    if pooled:
        density["*"] = float(np.median(pooled))
    return density


def _footprint_ring(center: FloatArray, rotation: FloatArray, half: FloatArray) -> FloatArray:
    """``(K, 2)`` x-y sample positions around a box footprint, 0.5 to 2.5 m outside it."""
    angles = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)
    out = []
    for pad in (0.5, 1.5, 2.5):
        local = np.stack([(half[0] + pad) * np.cos(angles), (half[1] + pad) * np.sin(angles)], axis=1)
        out.append(local @ rotation[:2, :2].T + center[:2])
    return np.concatenate(out)


def _velocities(context: SequenceContext, boxes: tuple[BoxAnnotation, ...]) -> FloatArray:
    """``(M, 3)`` velocity of each box from its track (m/s, global frame); 0 where the track cannot tell."""
    tracks = context.sequence.tracks
    out = np.zeros((len(boxes), 3))
    for j, box in enumerate(boxes):
        track = tracks[box.instance]
        k = int(np.searchsorted(track.timestamps_us, box.timestamp_us))
        v = track.velocities_mps[k]
        if np.all(np.isfinite(v)):
            out[j] = v
    return out


def _near_xy(points_xy: FloatArray, anchors_xy: FloatArray, radius_m: float) -> np.ndarray:
    """``(N,)`` True for points within ``radius_m`` (x-y distance) of any anchor ``(K, 2)``."""
    if anchors_xy.shape[0] == 0 or points_xy.shape[0] == 0:
        return np.zeros(points_xy.shape[0], dtype=bool)
    d2 = ((points_xy[:, None, :] - anchors_xy[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(d2.min(axis=1) <= radius_m**2)


def _one_box(boxes: BoxArrays, j: int) -> BoxArrays:
    """Return the ``j``-th box alone."""
    return BoxArrays(boxes.centers_m[j : j + 1], boxes.sizes_m[j : j + 1], boxes.rotations[j : j + 1])
