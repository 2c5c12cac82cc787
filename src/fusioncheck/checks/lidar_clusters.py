"""Obstacle clusters of one LiDAR sweep: ground removed, points split into labelled and unlabelled objects.

For one keyframe the reference sweep is taken to the ego frame (z up) with the keyframe's boxes. One
points-in-boxes pass with the boxes inflated by ``noise_m`` and a spill shell around them splits the points
into *labelled* (inside a box), *near a box* (in its shell: spill of a box that is slightly too small,
never a new object) and *free*. The local ground (:class:`~fusioncheck.checks.ground.GroundModel`,
fitted to the points outside boxes) removes ground returns. The free obstacle points are clustered on a
bird's-eye-view grid (:mod:`fusioncheck.kernels.grid_clusters`); each box's own points form one labelled
cluster. Both kinds are described by the same shape features, so that what a labelled object looks like
can be learnt from the labelled ones (see :mod:`fusioncheck.checks.missing_boxes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.checks.ground import GroundModel
from fusioncheck.context import SequenceContext
from fusioncheck.geometry.boxes import transform_boxes
from fusioncheck.kernels.grid_clusters import cluster_features, grid_clusters
from fusioncheck.kernels.points_in_boxes import points_in_boxes
from fusioncheck.scene.boxes import BoxArrays, boxes_to_arrays
from fusioncheck.scene.sequence import Keyframe
from fusioncheck.typing import FloatArray, IntArray

#: Columns of :attr:`SweepClusters.shape`: the features every cluster is compared by.
SHAPE_COLUMNS: tuple[str, ...] = ("length_m", "width_m", "top_m", "bottom_m", "intensity")


@dataclass(frozen=True)
class ClusterParameters:
    """How a sweep is split into clusters.

    Attributes:
        cell_m: clustering grid cell, metres.
        noise_m: boxes are inflated by this on every face before points count as labelled, metres.
        shell_fraction: spill shell around each box: this fraction of its size per axis ...
        shell_min_m: ... at least this ...
        shell_max_m: ... at most this, metres.
        ground_clearance_m: points this close above the local ground are ground.
        min_range_m: points nearer to the sensor (x-y) are ignored (the ego vehicle itself).
        max_range_m: points farther from the sensor (x-y) are ignored.
        min_points: clusters with fewer points are dropped.
        max_height_m: only points up to this height above the ground link cells into clusters (a tree
            canopy or a sign does not join the objects beneath it); taller structures keep their true
            top as a feature.
        overhang_gap_m: in each grid column, points above the first vertical gap of this size are an
            overhang (canopy, sign, bridge) and belong to no cluster ...
        vertical_step_deg: ... a gap that must also exceed 1.5 times the LiDAR's vertical beam spacing at
            the column's range (far away, neighbouring beams are more than a metre apart on a wall).
    """

    cell_m: float = 0.3
    noise_m: float = 0.1
    shell_fraction: float = 0.25
    shell_min_m: float = 0.3
    shell_max_m: float = 0.8
    ground_clearance_m: float = 0.25
    min_range_m: float = 3.0
    max_range_m: float = 80.0
    min_points: int = 8
    max_height_m: float = 3.5
    overhang_gap_m: float = 1.0
    vertical_step_deg: float = 1.4


@dataclass(frozen=True)
class SweepClusters:
    """Clusters of one keyframe's sweep.

    Attributes:
        keyframe_index: index of the keyframe in the sequence.
        timestamp_us: the keyframe time (boxes' time), microseconds.
        sensor: the LiDAR channel.
        center_global_m: ``(K, 3)`` cluster centroids (x-y mean, z at the local ground), global frame.
        center_ego_m: ``(K, 3)`` the same in the keyframe's ego frame.
        points: ``(K,)`` int64 points per cluster.
        range_m: ``(K,)`` x-y distance from the sensor, metres.
        shape: ``(K, 5)`` :data:`SHAPE_COLUMNS`: x-y extents along and across the principal axis, highest
            and lowest point above the local ground (metres), and the mean LiDAR intensity of its points
            (the sensor's own scale; 0 when the sweep has no intensity): vegetation, painted metal and
            retro-reflectors return differently even where their shapes agree.
        heading_rad: ``(K,)`` principal axis direction in the ego frame.
        box_index: ``(K,)`` int64 index of the keyframe box the cluster is (the box's own points), or -1
            for a free cluster (outside every box and its spill shell).
        points_ego: ``(P, 3)`` the obstacle points (not ground, in range) of the sweep, ego frame, for plots.
        point_cluster: ``(P,)`` int64 the row of each of them in this table (-1: in no kept cluster).
    """

    keyframe_index: int
    timestamp_us: int
    sensor: str
    center_global_m: FloatArray
    center_ego_m: FloatArray
    points: IntArray
    range_m: FloatArray
    shape: FloatArray
    heading_rad: FloatArray
    box_index: IntArray
    points_ego: FloatArray
    point_cluster: IntArray

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def free(self) -> np.ndarray:
        """``(K,)`` bool: clusters outside every box."""
        return np.asarray(self.box_index < 0)


def sweep_clusters(
    context: SequenceContext, keyframe_index: int, lidar: str, params: ClusterParameters
) -> SweepClusters:
    """Cluster the obstacle points of keyframe ``keyframe_index``'s ``lidar`` sample (see the module doc)."""
    keyframe: Keyframe = context.sequence.keyframes[keyframe_index]
    sample = keyframe.samples[lidar]
    sensor = context.sequence.sensors[lidar]
    sweep = context.read_lidar(sample)
    points = sensor.ego_from_sensor.transform_points(sweep.xyz.astype(np.float64))
    names = sweep.column_names
    intensity = sweep.points[:, names.index("intensity")] if "intensity" in names else None
    origin = sensor.ego_from_sensor.translation
    ego_from_global = sample.global_from_ego.inverse()
    boxes = transform_boxes(boxes_to_arrays(keyframe.annotations), ego_from_global)
    return cluster_points(
        points, origin, boxes, params, keyframe_index, keyframe.timestamp_us, lidar,
        sample.global_from_ego.as_matrix(), intensity,
    )  # fmt: skip


def cluster_points(
    points: FloatArray,
    origin_m: FloatArray,
    boxes: BoxArrays,
    params: ClusterParameters,
    keyframe_index: int = 0,
    timestamp_us: int = 0,
    sensor: str = "",
    global_from_ego: FloatArray | None = None,
    intensity: np.ndarray | None = None,
) -> SweepClusters:
    """Cluster ``points`` ``(N, 3)`` (metres, ego frame, z up) around boxes in the same frame.

    ``origin_m`` is the sensor position; ``global_from_ego`` ``(4, 4)`` places the centroids in the global
    frame (identity when ``None``); ``intensity`` ``(N,)`` is the LiDAR intensity per point, if any.
    """
    split = split_sweep(points, origin_m, boxes, params)
    ground, obstacle, column_top = split.ground, split.obstacle, split.column_top_m
    hits_point_box = split.point_box
    labels, n_free = grid_clusters(points, split.clustered, params.cell_m)
    # Each box's own obstacle points are one labelled cluster, numbered after the free clusters.
    in_box = obstacle & (hits_point_box >= 0)
    labels = np.where(in_box, n_free + hits_point_box, labels).astype(np.int32)
    n_all = n_free + len(boxes)
    member = np.flatnonzero(labels >= 0)
    feats = cluster_features(points[member], labels[member], n_all)
    ground_at = ground.height_at(feats[:, 1:3])
    ground_at = np.where(np.isfinite(ground_at), ground_at, 0.0)
    # A free cluster's top is the top of its columns (a pole or wall rising above max_height_m keeps it).
    tops = np.full(n_all, -np.inf)
    in_free = labels >= 0
    in_free[in_box] = False
    np.maximum.at(tops, labels[in_free], column_top[in_free])
    free_rows = np.arange(n_all) < n_free
    feats[free_rows, 4] = np.maximum(feats[free_rows, 4], tops[free_rows] + ground_at[free_rows])
    keep = feats[:, 0] >= params.min_points
    rows = np.flatnonzero(keep)
    remap = np.full(n_all + 1, -1, dtype=np.int64)
    remap[rows] = np.arange(rows.size)
    center_ego = np.stack([feats[rows, 1], feats[rows, 2], ground_at[rows]], axis=1)
    g = np.eye(4) if global_from_ego is None else np.asarray(global_from_ego)
    center_global = center_ego @ g[:3, :3].T + g[:3, 3]
    mean_intensity = np.zeros(n_all)
    if intensity is not None and member.size:
        sums = np.bincount(
            labels[member], weights=np.asarray(intensity, dtype=np.float64)[member], minlength=n_all
        )
        mean_intensity = sums / np.maximum(feats[:, 0], 1.0)
    shape = np.stack(
        [
            feats[rows, 5],
            feats[rows, 6],
            feats[rows, 4] - ground_at[rows],
            feats[rows, 3] - ground_at[rows],
            mean_intensity[rows],
        ],
        axis=1,
    )
    box_index = np.where(rows >= n_free, rows - n_free, -1)
    obstacle_idx = np.flatnonzero(obstacle)
    return SweepClusters(
        keyframe_index=keyframe_index,
        timestamp_us=timestamp_us,
        sensor=sensor,
        center_global_m=center_global,
        center_ego_m=center_ego,
        points=feats[rows, 0].astype(np.int64),
        range_m=np.hypot(center_ego[:, 0] - origin_m[0], center_ego[:, 1] - origin_m[1]),
        shape=shape,
        heading_rad=feats[rows, 7],
        box_index=box_index.astype(np.int64),
        points_ego=points[obstacle_idx],
        point_cluster=remap[np.where(labels[obstacle_idx] >= 0, labels[obstacle_idx], n_all)],
    )


@dataclass(frozen=True)
class SweepSplit:
    """One sweep's points split for clustering (all ``(N,)``, ego frame).

    Attributes:
        ground: the local ground model.
        height_m: height above the local ground, metres (NaN beyond the ground grid).
        obstacle: not ground, within the range limits.
        point_box: index of the (noise-inflated) box holding the point, -1 for none.
        column_top_m: top of the point's grid column below its first overhang gap (NaN: not free or above
            the gap).
        clustered: the free points that link cells into clusters (outside every box and spill shell, not
            overhang, at most ``max_height_m`` above the ground).
    """

    ground: GroundModel
    height_m: FloatArray
    obstacle: np.ndarray
    point_box: np.ndarray
    column_top_m: FloatArray
    clustered: np.ndarray


def split_sweep(
    points: FloatArray, origin_m: FloatArray, boxes: BoxArrays, params: ClusterParameters
) -> SweepSplit:
    """Remove the ground and split ``points`` ``(N, 3)`` (ego frame, z up) into labelled and free points."""
    sizes = boxes.sizes_m
    inflated = BoxArrays(boxes.centers_m, sizes + 2 * params.noise_m, boxes.rotations)
    margins = np.clip(params.shell_fraction * sizes, params.shell_min_m, params.shell_max_m)
    hits = points_in_boxes(points, inflated, margins)
    ground = GroundModel.fit(points, hits.point_box < 0, origin_m)
    height = points[:, 2] - ground.height_at(points[:, :2])
    r = np.hypot(points[:, 0] - origin_m[0], points[:, 1] - origin_m[1])
    obstacle = (
        np.isfinite(height)
        & (height >= params.ground_clearance_m)
        & (r >= params.min_range_m)
        & (r <= params.max_range_m)
    )
    free = obstacle & (hits.point_box < 0) & (hits.point_shell_box < 0)
    gap = np.maximum(params.overhang_gap_m, 1.5 * r * np.tan(np.radians(params.vertical_step_deg)))
    column_top = _column_tops(points, height, free, params.cell_m, gap)
    low = free & np.isfinite(column_top) & (height <= params.max_height_m)
    return SweepSplit(ground, height, obstacle, hits.point_box, column_top, low)


def _column_tops(
    points: FloatArray, height: FloatArray, mask: np.ndarray, cell_m: float, gap_m: FloatArray
) -> FloatArray:
    """``(N,)`` height of the top of each masked point's grid column below the first vertical gap.

    Points of a column are sorted by height above ground; the first gap larger than ``gap_m`` (``(N,)``,
    metres, taken at the upper point of the gap) ends the column (what lies above is an overhang).
    Points above that gap, and unmasked points, get NaN; the others get the height of the highest point
    below the gap, metres above the ground.
    """
    out = np.full(points.shape[0], np.nan)
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return out
    cx = np.floor(points[idx, 0] / cell_m).astype(np.int64)
    cy = np.floor(points[idx, 1] / cell_m).astype(np.int64)
    key = (cx - cx.min()) * (int(cy.max() - cy.min()) + 1) + (cy - cy.min())
    h = height[idx]
    order = np.lexsort((h, key))
    k_s, h_s = key[order], h[order]
    new_cell = np.ones(idx.size, dtype=bool)
    new_cell[1:] = k_s[1:] != k_s[:-1]
    gap = np.zeros(idx.size, dtype=bool)
    gap[1:] = ~new_cell[1:] & (np.diff(h_s) > gap_m[idx][order][1:])
    cell_id = np.cumsum(new_cell) - 1
    gaps_so_far = np.cumsum(gap)
    start_gaps = gaps_so_far[np.flatnonzero(new_cell)]
    below = gaps_so_far - start_gaps[cell_id] == 0
    top = np.full(cell_id[-1] + 1, -np.inf)
    np.maximum.at(top, cell_id[below], h_s[below])
    sorted_out = np.where(below, top[cell_id], np.nan)
    out[idx[order]] = sorted_out
    return out
