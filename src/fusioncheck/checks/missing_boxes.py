"""LiDAR-only missing boxes: obstacle clusters that look like a labelled object, persist, and have no box.

Per keyframe the reference sweep is clustered (:mod:`fusioncheck.checks.lidar_clusters`): ground removed,
free obstacle points (outside every box and its spill shell) grouped on a bird's-eye-view grid, and each
box's own points taken as one *labelled* cluster. Every cluster is described by five features: the
x-y extents along and across its principal axis, its highest and lowest point above the local ground, and
its mean LiDAR intensity (vegetation and retro-reflectors differ where shapes agree).

What an object looks like, and what the annotators of this log systematically leave unlabelled (poles,
walls, vegetation, fragments of buildings), is learnt from the log itself:

1. **Class fit.** A free cluster is a candidate only if its shape fits the labelled clusters of some
   class (within that class's 2nd..98th percentiles plus a margin): a 6 m pole or a 20 m wall fits none.
2. **Labelled vs. background density.** Among the ``neighbors`` nearest clusters in shape space (features
   scaled by their spread over the labelled clusters), the candidate's share of labelled clusters (of the
   classes it fits) is
   compared with that of the free clusters (positive-unlabelled learning: the free clusters are mostly
   background, the labelled ones are objects). ``shape_score = rho / (background_odds + rho)`` with ``rho``
   the ratio of the two densities: a free cluster is background unless its neighbourhood is
   ``background_odds`` times richer in labelled objects than in background. Free clusters of the same
   physical object (within ``same_object_m`` in the global frame, any keyframe) are left out of the
   background set, so a wholly unlabelled object does not make itself look like background.
3. **Persistence.** An object is seen again in nearby keyframes (within ``window`` keyframes): static in
   the global frame (a free cluster of a similar shape within ``gate_m``), moving smoothly (free clusters
   of a similar shape one keyframe before and after whose midpoint lies within ``gate_m``), or as a
   labelled track whose box, moved along its velocity to the candidate's time, lies within ``gate_m`` of
   the candidate (a box missing from a track).
   Candidates seen in fewer than ``min_persistence`` other keyframes score below 0.5.

Score: when a labelled track covers the spot in a nearby keyframe (a box missing from a track),
``0.5 + 0.5 * shape_score``; otherwise ``shape_score * (0.5 + 0.25 * min(1, persistence / 2))``
(background persists as well, so unlabelled sightings only confirm the shape; the score reaches 0.5
only for ``shape_score >= 2/3``). Findings from 0.5 on; fewer than ``min_persistence`` sightings keep
the score below 0.5.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fusioncheck.checks.base import Check, CheckOutput, Finding, Severity, register
from fusioncheck.checks.lidar_clusters import ClusterParameters, SweepClusters, sweep_clusters
from fusioncheck.context import SequenceContext
from fusioncheck.typing import FloatArray

#: Pseudo-examples added to the labelled set's size in the density ratio (few examples, little trust).
_PRIOR_LABELLED = 20
#: A class needs this many labelled clusters for its own shape percentiles (else it is pooled).
_MIN_CLASS_CLUSTERS = 5


@register
class MissingBoxCheck(Check):
    """Obstacles in the LiDAR that no box covers (see the module docstring)."""

    name = "missing_boxes"
    finding_types = ("unlabeled_object",)
    defaults: ClassVar[dict[str, Any]] = {
        "cell_m": 0.3,
        "noise_m": 0.1,
        "ground_clearance_m": 0.25,
        "max_range_m": 80.0,
        "min_points": 8,
        "fit_margin_m": 0.3,
        "neighbors": 10,
        "background_odds": 3.0,
        "same_object_m": 2.0,
        "window": 2,
        "gate_m": 1.0,
        "max_speed_mps": 20.0,
        "min_persistence": 1,
    }

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        #: The clusters of the last run, kept for :meth:`plot`.
        self.sweeps: list[SweepClusters] = []

    def run(self, context: SequenceContext) -> CheckOutput:
        """Cluster every keyframe, learn object shapes from the labelled clusters, report the rest."""
        out = CheckOutput()
        self.sweeps = []
        p = self.parameters
        lidar = context.reference_lidar
        sequence = context.sequence
        if lidar is None:
            out.notes.append("missing_boxes: the sequence has no LiDAR channel; no object was searched for")
            return out
        params = ClusterParameters(
            cell_m=p["cell_m"], noise_m=p["noise_m"], ground_clearance_m=p["ground_clearance_m"],
            max_range_m=p["max_range_m"], min_points=p["min_points"],
        )  # fmt: skip
        sweeps: list[SweepClusters] = []
        for i, keyframe in enumerate(sequence.keyframes):
            if lidar not in keyframe.samples:
                out.notes.append(
                    f"missing_boxes: keyframe {keyframe.token} has no {lidar} sample; not searched"
                )
                continue
            sweeps.append(sweep_clusters(context, i, lidar, params))
        self.sweeps = sweeps
        if not sweeps:
            return out
        findings, stats = self._decide(context, sweeps, out.notes)
        out.findings.extend(findings)
        out.statistics.update(stats)
        return out

    def plot(self, context: SequenceContext, output: CheckOutput, out_dir: Path) -> list[Path]:
        """Bird's-eye view of the keyframe with the most findings, unlabelled clusters drawn dark."""
        from fusioncheck.plots.bev import busiest_keyframe, draw_bev, keyframe_scene

        if not context.sequence.keyframes:
            return []
        k = busiest_keyframe(context, output.findings)
        highlight = np.zeros((0, 2))
        for s in self.sweeps:
            if s.keyframe_index == k:
                keyframe = context.sequence.keyframes[k]
                global_from_ego = keyframe.samples[s.sensor].global_from_ego
                free_points = s.points_ego[(s.point_cluster >= 0) & s.free[np.maximum(s.point_cluster, 0)]]
                highlight = global_from_ego.transform_points(free_points)[:, :2]
        scene = keyframe_scene(context, k, output.findings, highlight)
        return [draw_bev(scene, out_dir / f"bev_missing_boxes_kf{k:03d}.png")]

    # -- decision ----------------------------------------------------------------------------------

    def _decide(
        self, context: SequenceContext, sweeps: list[SweepClusters], notes: list[str]
    ) -> tuple[list[Finding], dict[str, Any]]:
        p = self.parameters
        sequence = context.sequence
        classes: list[str] = []
        labelled_shape: list[FloatArray] = []
        free_shape: list[FloatArray] = []
        free_pos: list[FloatArray] = []
        free_frame: list[np.ndarray] = []
        for s in sweeps:
            kf = sequence.keyframes[s.keyframe_index]
            lab = ~s.free
            classes.extend(kf.annotations[int(b)].category for b in s.box_index[lab])
            labelled_shape.append(s.shape[lab])
            free_shape.append(s.shape[s.free])
            free_pos.append(s.center_global_m[s.free])
            free_frame.append(np.full(int(s.free.sum()), s.keyframe_index))
        shape_l = np.concatenate(labelled_shape)
        shape_u = np.concatenate(free_shape)
        pos_u = np.concatenate(free_pos)
        frame_u = np.concatenate(free_frame)
        stats: dict[str, Any] = {
            "keyframes_searched": len(sweeps),
            "labelled_clusters": int(shape_l.shape[0]),
            "free_clusters": int(shape_u.shape[0]),
        }
        if shape_l.shape[0] < p["neighbors"]:
            notes.append(
                f"missing_boxes: only {shape_l.shape[0]} labelled boxes hold {p['min_points']}+ obstacle "
                "points; too few to learn what an object looks like, no object was searched for"
            )
            return [], stats
        if len(sweeps) < 2:
            notes.append(
                "missing_boxes: a single keyframe with LiDAR; persistence across sweeps cannot be checked, "
                "so unlabelled clusters score below 0.5"
            )
        class_arr = np.array(classes)
        bounds = _class_bounds(shape_l, class_arr, p["fit_margin_m"])
        scale = np.maximum(np.std(shape_l, axis=0), 0.1)
        track_motion = _labelled_motion(context, sweeps)
        findings: list[Finding] = []
        candidates = 0
        offset = 0
        for s in sweeps:
            rows = np.flatnonzero(s.free)
            for local, row in enumerate(rows.tolist()):
                u_index = offset + local
                feature = s.shape[row]
                fitting = _fitting_classes(feature, bounds)
                if not fitting:
                    continue
                candidates += 1
                pos = s.center_global_m[row]
                same = np.hypot(*(pos_u[:, :2] - pos[:2]).T) <= p["same_object_m"]
                same[u_index] = True
                background = shape_u[~same]
                # Compared with the labelled clusters of the classes it fits only: a bush that fits no
                # pedestrian must not borrow the pedestrians' density.
                fit = np.isin(class_arr, fitting)
                shape_score, nearest = _shape_score(
                    feature,
                    shape_l[fit],
                    class_arr[fit],
                    background,
                    scale,
                    p["neighbors"],
                    p["background_odds"],
                )
                alike = _alike(shape_u, feature)
                persistence, tracked = self._persistence(s, row, sweeps, pos_u, frame_u, alike, track_motion)
                score = _score(shape_score, persistence, tracked, p["min_persistence"])
                if score < 0.5:
                    continue
                findings.append(self._finding(context, s, row, score, shape_score, persistence, nearest))
            offset += rows.size
        stats["candidates"] = candidates
        return findings, stats

    def _persistence(
        self,
        s: SweepClusters,
        row: int,
        sweeps: list[SweepClusters],
        pos_u: FloatArray,
        frame_u: np.ndarray,
        alike: np.ndarray,
        track_motion: dict[int, tuple[FloatArray, FloatArray, FloatArray, FloatArray, np.ndarray]],
    ) -> tuple[int, int]:
        """Count nearby keyframes that see the object again, and those where a track misses its box.

        Returns ``(persistence, tracked)`` (see the module docstring).
        """
        p = self.parameters
        gate = p["gate_m"]
        pos = s.center_global_m[row, :2]
        k = s.keyframe_index
        seen: set[int] = set()
        tracked: set[int] = set()
        current = track_motion.get(k)
        present = current[4] if current is not None else np.zeros(0, dtype=str)
        for j in range(k - p["window"], k + p["window"] + 1):
            if j == k:
                continue
            near_free = alike & (frame_u == j) & (np.hypot(*(pos_u[:, :2] - pos).T) <= gate)
            if near_free.any():
                seen.add(j)
            motion = track_motion.get(j)
            if motion is not None:
                centers, velocities, half_lw, yaws, instances = motion
                # A track that has its box at this keyframe is not missing one (spill, not a lost box).
                absent = ~np.isin(instances, present)
                dt = 1e-6 * (s.timestamp_us - _timestamp(sweeps, j))
                d = pos - (centers[:, :2] + velocities[:, :2] * dt)
                # In the box's own frame: a partial view's centroid lies anywhere inside the footprint.
                along = np.abs(d[:, 0] * np.cos(yaws) + d[:, 1] * np.sin(yaws))
                across = np.abs(-d[:, 0] * np.sin(yaws) + d[:, 1] * np.cos(yaws))
                covered = (along <= half_lw[:, 0] + gate) & (across <= half_lw[:, 1] + gate)
                if np.any(covered):
                    seen.add(j)
                # A lost box needs more: the cluster inside the footprint and as long as a good part of it
                # (a bush in front of an object that hides behind it is neither).
                inside = (along <= half_lw[:, 0]) & (across <= half_lw[:, 1])
                long_enough = s.shape[row, 0] >= 0.6 * half_lw[:, 0]
                if np.any(inside & long_enough & absent):
                    tracked.add(j)
        # Moving smoothly: free clusters one keyframe before and one after, centred on the candidate.
        before = pos_u[alike & (frame_u == k - 1), :2]
        after = pos_u[alike & (frame_u == k + 1), :2]
        if before.size and after.size and not ({k - 1, k + 1} <= seen):
            dt = 1e-6 * (_timestamp(sweeps, k + 1) - _timestamp(sweeps, k - 1))
            mid = 0.5 * (before[:, None, :] + after[None, :, :])
            step = np.linalg.norm(after[None, :, :] - before[:, None, :], axis=2)
            ok = (np.linalg.norm(mid - pos, axis=2) <= gate) & (step <= p["max_speed_mps"] * dt)
            if ok.any():
                seen |= {k - 1, k + 1}
        return len(seen), len(tracked)

    def _finding(
        self,
        context: SequenceContext,
        s: SweepClusters,
        row: int,
        score: float,
        shape_score: float,
        persistence: int,
        nearest: str,
    ) -> Finding:
        length, width, top, bottom, intensity = (float(v) for v in s.shape[row])
        pos = s.center_global_m[row]
        message = (
            f"{int(s.points[row])} LiDAR points at {s.range_m[row]:.1f} m form a "
            f"{length:.1f} x {width:.1f} x {top:.1f} m object that looks like a {nearest}"
            f" and no box covers it (seen again in {persistence} nearby keyframes)"
        )
        return Finding(
            check="unlabeled_object",
            severity=Severity.WARNING,
            sequence=context.sequence.name,
            score=round(float(np.clip(score, 0.0, 1.0)), 4),
            message=message,
            sensor=s.sensor,
            timestamp_us=s.timestamp_us,
            category=nearest,
            position_m=(float(pos[0]), float(pos[1]), float(pos[2])),
            values={
                "points": int(s.points[row]),
                "range_m": round(float(s.range_m[row]), 2),
                "length_m": round(length, 2),
                "width_m": round(width, 2),
                "top_m": round(top, 2),
                "bottom_m": round(bottom, 2),
                "mean_intensity": round(intensity, 1),
                "shape_score": round(shape_score, 3),
                "persistence": persistence,
                "nearest_class": nearest,
            },
        )


def _score(shape_score: float, persistence: int, tracked: int, min_persistence: int) -> float:
    """Combine shape and persistence (see the module docstring)."""
    if persistence < min_persistence:
        return min(shape_score, 0.49)
    if tracked:  # a labelled track passes here: the box is missing from it
        return 0.5 + 0.5 * shape_score
    # Only unlabelled sightings: background persists too, so persistence can only confirm the shape.
    return shape_score * (0.5 + 0.25 * min(1.0, persistence / 2.0))


def _alike(shapes: FloatArray, feature: FloatArray) -> np.ndarray:
    """``(K,)`` True for clusters whose shape could be the same object seen again (extents and top).

    The view changes between keyframes, so extents may differ by 30 % (at least 1 m along, 0.7 m across);
    the top by 0.5 m.
    """
    d = np.abs(shapes - feature)
    return np.asarray(
        (d[:, 0] <= max(1.0, 0.3 * feature[0])) & (d[:, 1] <= max(0.7, 0.3 * feature[1])) & (d[:, 2] <= 0.5)
    )


def _timestamp(sweeps: list[SweepClusters], keyframe_index: int) -> int:
    for s in sweeps:
        if s.keyframe_index == keyframe_index:
            return s.timestamp_us
    raise KeyError(keyframe_index)


def _labelled_motion(
    context: SequenceContext, sweeps: list[SweepClusters]
) -> dict[int, tuple[FloatArray, FloatArray, FloatArray, FloatArray, np.ndarray]]:
    """Keyframe index -> its boxes' centres, track velocities, half length/width, yaw and track ids.

    Shapes ``(M, 3)`` metres and ``(M, 3)`` m/s (global frame), ``(M, 2)`` metres, ``(M,)`` radians,
    ``(M,)`` strings.
    """
    out = {}
    tracks = context.sequence.tracks
    for s in sweeps:
        boxes = context.sequence.keyframes[s.keyframe_index].annotations
        if not boxes:
            continue
        centers = np.stack([b.center_m for b in boxes])
        velocities = np.zeros((len(boxes), 3))
        for j, box in enumerate(boxes):
            track = tracks[box.instance]
            i = int(np.searchsorted(track.timestamps_us, box.timestamp_us))
            v = track.velocities_mps[i]
            if np.all(np.isfinite(v)):
                velocities[j] = v
        half_lw = np.stack([b.size_m[:2] / 2 for b in boxes])
        yaws = np.array([b.yaw_rad for b in boxes])
        instances = np.array([b.instance for b in boxes])
        out[s.keyframe_index] = (centers, velocities, half_lw, yaws, instances)
    return out


def _class_bounds(shape: FloatArray, classes: np.ndarray, margin_m: float) -> dict[str, FloatArray]:
    """Class -> ``(2, 4)`` low/high shape bounds (2nd and 98th percentile, widened by ``margin_m``).

    Classes with too few labelled clusters take their extremes instead of percentiles.
    """
    bounds = {}
    for c in np.unique(classes):
        rows = shape[classes == c]
        if rows.shape[0] >= _MIN_CLASS_CLUSTERS:
            lo, hi = np.percentile(rows, 2, axis=0), np.percentile(rows, 98, axis=0)
        else:
            lo, hi = rows.min(axis=0), rows.max(axis=0)
        # Partial views shrink extents and can hide the top: only upper bounds on the extents, and the
        # top may be lower than seen on the labelled clusters (down to half of the lowest).
        low = np.array([-np.inf, -np.inf, 0.5 * lo[2] - margin_m, -np.inf, -np.inf])
        high = hi + margin_m
        high[4] = np.inf  # intensity: a density feature only, never a hard bound
        bounds[str(c)] = np.stack([low, high])
    return bounds


def _fitting_classes(feature: FloatArray, bounds: dict[str, FloatArray]) -> list[str]:
    return [c for c, b in bounds.items() if np.all(feature >= b[0]) and np.all(feature <= b[1])]


def _shape_score(
    feature: FloatArray,
    labelled: FloatArray,
    classes: np.ndarray,
    background: FloatArray,
    scale: FloatArray,
    k: int,
    background_odds: float,
) -> tuple[float, str]:
    """``(shape_score, nearest class)``: labelled vs. background density among the ``k`` nearest clusters."""
    d_l = np.linalg.norm((labelled - feature) / scale, axis=1)
    d_u = np.linalg.norm((background - feature) / scale, axis=1) if background.size else np.zeros(0)
    d = np.concatenate([d_l, d_u])
    order = np.argsort(d, kind="stable")[:k]
    n_l = int(np.count_nonzero(order < d_l.size))
    n_u = k - n_l
    # Few labelled examples make a noisy density: shrink it with _PRIOR_LABELLED pseudo-examples.
    rho = (n_l / (labelled.shape[0] + _PRIOR_LABELLED)) / (max(n_u, 0.5) / max(background.shape[0], 1))
    nearest_l = np.argsort(d_l, kind="stable")[: max(1, min(k, d_l.size))]
    names, counts = np.unique(classes[nearest_l], return_counts=True)
    return float(rho / (background_odds + rho)), str(names[int(np.argmax(counts))])
