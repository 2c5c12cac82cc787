"""Bird's-eye view of one keyframe: LiDAR points, boxes, radar returns with velocity arrows, findings.

Everything is drawn in the global frame's x-y plane, centred on the ego vehicle, metres. Points are grey
(free obstacle points of unlabelled clusters darker), boxes are outlines with a heading tick, radar returns
are dots with arrows of their radial velocity (moving returns red, stationary blue), and findings are
circled and labelled with their check and score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fusioncheck.typing import FloatArray

if TYPE_CHECKING:
    from fusioncheck.checks.base import Finding
    from fusioncheck.context import SequenceContext


@dataclass
class BevScene:
    """What to draw (global frame, metres).

    Attributes:
        title: plot title.
        center_m: ``(2,)`` centre of the view (the ego position).
        half_extent_m: half the side of the square view.
        points_xy: ``(N, 2)`` LiDAR points.
        highlight_xy: ``(K, 2)`` points to draw darker (e.g. unlabelled clusters).
        box_corners_xy: ``(M, 4, 2)`` box footprints, corners in order (front-left first).
        radar_xy: ``(R, 2)`` radar returns.
        radar_velocity: ``(R, 2)`` radial velocity vectors, m/s.
        radar_moving: ``(R,)`` bool.
        findings: ``(x, y, label)`` per finding.
    """

    title: str
    center_m: FloatArray
    half_extent_m: float = 60.0
    points_xy: FloatArray = field(default_factory=lambda: np.zeros((0, 2)))
    highlight_xy: FloatArray = field(default_factory=lambda: np.zeros((0, 2)))
    box_corners_xy: FloatArray = field(default_factory=lambda: np.zeros((0, 4, 2)))
    radar_xy: FloatArray = field(default_factory=lambda: np.zeros((0, 2)))
    radar_velocity: FloatArray = field(default_factory=lambda: np.zeros((0, 2)))
    radar_moving: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    findings: list[tuple[float, float, str]] = field(default_factory=list)


def draw_bev(scene: BevScene, path: Path) -> Path:
    """Draw ``scene`` into the PNG file ``path`` and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    fig, ax = plt.subplots(figsize=(10, 10), dpi=100)
    cx, cy = scene.center_m[:2]
    h = scene.half_extent_m

    def view(xy: FloatArray) -> np.ndarray:
        return np.asarray((np.abs(xy[:, 0] - cx) <= h) & (np.abs(xy[:, 1] - cy) <= h))

    if scene.points_xy.size:
        p = scene.points_xy[view(scene.points_xy)]
        ax.scatter(p[:, 0], p[:, 1], s=1.0, c="0.6", linewidths=0, label="LiDAR obstacle points")
    if scene.highlight_xy.size:
        p = scene.highlight_xy[view(scene.highlight_xy)]
        ax.scatter(p[:, 0], p[:, 1], s=2.0, c="0.1", linewidths=0, label="unlabelled clusters")
    if scene.box_corners_xy.size:
        ax.add_collection(
            PolyCollection(
                list(scene.box_corners_xy), facecolors="none", edgecolors="tab:green", linewidths=0.8
            )
        )
        front = scene.box_corners_xy[:, :2].mean(axis=1)
        centre = scene.box_corners_xy.mean(axis=1)
        for a, b in zip(centre, front, strict=True):
            ax.plot([a[0], b[0]], [a[1], b[1]], color="tab:green", linewidth=0.8)
    if scene.radar_xy.size:
        colours = np.where(scene.radar_moving, "tab:red", "tab:blue")
        ax.scatter(scene.radar_xy[:, 0], scene.radar_xy[:, 1], s=6, c=colours, label="radar returns")
        xy, v = scene.radar_xy, scene.radar_velocity
        ax.quiver(
            xy[:, 0], xy[:, 1], v[:, 0], v[:, 1],
            color=colours, angles="xy", scale_units="xy", scale=1.0, width=0.002,
        )  # fmt: skip
    for x, y, label in scene.findings:
        ax.scatter([x], [y], s=300, facecolors="none", edgecolors="tab:orange", linewidths=2)
        ax.annotate(label, (x, y), xytext=(6, 6), textcoords="offset points", fontsize=7, color="tab:orange")
    ax.set_xlim(cx - h, cx + h)
    ax.set_ylim(cy - h, cy + h)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m, global)")
    ax.set_ylabel("y (m, global)")
    ax.set_title(scene.title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7, markerscale=4)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def keyframe_scene(
    context: SequenceContext,
    keyframe_index: int,
    findings: list[Finding],
    highlight_xy: FloatArray | None = None,
    radar_window_s: float = 0.04,
) -> BevScene:
    """Gather one keyframe's LiDAR sweep, boxes, radar scans (within ``radar_window_s``) and findings."""
    from fusioncheck.checks.radar_returns import to_global
    from fusioncheck.geometry.boxes import box_corners
    from fusioncheck.scene.boxes import boxes_to_arrays
    from fusioncheck.scene.sensors import Modality

    sequence = context.sequence
    keyframe = sequence.keyframes[keyframe_index]
    center = np.zeros(2)
    points = np.zeros((0, 2))
    lidar = context.reference_lidar
    if lidar is not None and lidar in keyframe.samples:
        sample = keyframe.samples[lidar]
        sensor = sequence.sensors[lidar]
        global_from_sensor = sample.global_from_ego.compose(sensor.ego_from_sensor)
        xyz = global_from_sensor.transform_points(context.read_lidar(sample).xyz.astype(np.float64))
        ground = np.percentile(xyz[:, 2], 10) if xyz.size else 0.0
        points = xyz[xyz[:, 2] > ground + 0.3, :2]
        center = global_from_sensor.translation[:2]
    # Footprint corners in order: front-left, front-right, back-right, back-left (nuScenes corner order).
    corners = (
        box_corners(boxes_to_arrays(keyframe.annotations))[:, [0, 1, 5, 4], :2]
        if keyframe.annotations
        else None
    )
    radar_xy, radar_v, moving = [], [], []
    for channel in sequence.channels(Modality.RADAR):
        for sample in sequence.samples.get(channel, ()):
            if abs(sample.timestamp_us - keyframe.timestamp_us) <= radar_window_s * 1e6:
                scan = to_global(context.source.read_radar(sample), sequence.sensors[channel])
                radar_xy.append(scan.positions_m[:, :2])
                radar_v.append(scan.los * scan.radial_mps[:, None])
                moving.append(scan.moving)
    marks = [
        (f.position_m[0], f.position_m[1], f"{f.check} {f.score:.2f}")
        for f in findings
        if f.position_m is not None and f.timestamp_us == keyframe.timestamp_us
    ]
    return BevScene(
        title=f"{sequence.name} keyframe {keyframe_index} ({keyframe.timestamp_us} us)",
        center_m=center,
        points_xy=points,
        highlight_xy=np.zeros((0, 2)) if highlight_xy is None else highlight_xy,
        box_corners_xy=np.zeros((0, 4, 2)) if corners is None else corners,
        radar_xy=np.concatenate(radar_xy) if radar_xy else np.zeros((0, 2)),
        radar_velocity=np.concatenate(radar_v) if radar_v else np.zeros((0, 2)),
        radar_moving=np.concatenate(moving) if moving else np.zeros(0, dtype=bool),
        findings=marks,
    )


def busiest_keyframe(context: SequenceContext, findings: list[Finding]) -> int:
    """Index of the keyframe with the most findings (the middle keyframe when there are none)."""
    stamps = [kf.timestamp_us for kf in context.sequence.keyframes]
    counts = np.zeros(len(stamps), dtype=np.int64)
    for f in findings:
        if f.timestamp_us in stamps:
            counts[stamps.index(f.timestamp_us)] += 1
    return int(np.argmax(counts)) if counts.any() else len(stamps) // 2
