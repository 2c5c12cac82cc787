"""Benchmark of missing-box discovery per LiDAR sweep and of radar association per scan.

``fusioncheck bench discovery`` times, on the synthetic nuScenes-like frame (34,720 points, 50 boxes):

- the whole per-sweep discovery step of ``missing_boxes`` (points in boxes with spill shells, ray ground
  scan, overhang columns, grid clustering, cluster features);
- its clustering step alone, numba grid connected components against open3d's DBSCAN on the same free
  points (``eps`` = ``√2·cell``, the diagonal of a grid cell, ``min_points = 1``, so both link
  the same neighbourhoods up to the grid's discretisation), with their agreement;

and, on a simulated log (one small scene, every radar scan), the radar association per scan
(filter + to global + tracks moved to the scan time + gating) against what a user would otherwise write:
nuscenes-devkit's ``points_in_box`` over every box for the same scan.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.bench.points_in_boxes import DevkitBox, devkit_points_in_box
from fusioncheck.bench.synthetic import make_frame
from fusioncheck.checks.box_motion import TrackTable
from fusioncheck.checks.lidar_clusters import ClusterParameters, cluster_points, split_sweep
from fusioncheck.checks.radar_returns import to_global
from fusioncheck.checks.radar_support import associate
from fusioncheck.kernels.grid_clusters import grid_clusters


def _median_ms(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    out = fn()  # first call: JIT cache load, allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times), out


def run_discovery_bench(repeats: int = 20) -> dict[str, Any]:
    """Time discovery per sweep and radar association per scan; see the module docstring."""
    import open3d as o3d

    frame = make_frame("nuscenes")
    points = frame.points[:, :3].astype(np.float64)
    origin = np.zeros(3)
    params = ClusterParameters()
    sweep_ms, clusters = _median_ms(lambda: cluster_points(points, origin, frame.boxes, params), repeats)
    split = split_sweep(points, origin, frame.boxes, params)
    free = split.clustered
    grid_ms, (labels, n_grid) = _median_ms(lambda: grid_clusters(points, free, params.cell_m), repeats)
    xyz = np.zeros((int(free.sum()), 3))
    xyz[:, :2] = points[free, :2]
    eps = np.sqrt(2.0) * params.cell_m

    def dbscan() -> np.ndarray:
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(xyz))
        return np.asarray(cloud.cluster_dbscan(eps=eps, min_points=1))

    dbscan_ms, db_labels = _median_ms(dbscan, max(3, repeats // 4))
    lidar = {
        "points": int(points.shape[0]),
        "boxes": len(frame.boxes),
        "free_points": int(free.sum()),
        "sweep_median_ms": sweep_ms,
        "clusters_kept": len(clusters),
        "grid_median_ms": grid_ms,
        "dbscan_median_ms": dbscan_ms,
        "dbscan_over_grid": dbscan_ms / max(grid_ms, 1e-9),
        "grid_clusters": n_grid,
        "dbscan_clusters": int(db_labels.max() + 1) if db_labels.size else 0,
        "agreement": _agreement(labels[free], db_labels),
    }
    return {"repeats": repeats, "lidar": lidar, "radar": _radar_bench(repeats)}


def _agreement(grid: np.ndarray, dbscan: np.ndarray) -> dict[str, float]:
    """Share of points whose DBSCAN cluster maps mostly onto their grid cluster (purity both ways)."""

    def purity(a: np.ndarray, b: np.ndarray) -> float:
        total = 0
        for k in np.unique(a):
            members = b[a == k]
            total += int(np.bincount(members - members.min()).max())
        return total / max(a.size, 1)

    return {
        "grid_in_dbscan": round(purity(grid, dbscan), 4),
        "dbscan_in_grid": round(purity(dbscan, grid), 4),
    }


def _radar_bench(repeats: int) -> dict[str, Any]:
    from fusioncheck.loaders.nuscenes import NuScenesSource
    from fusioncheck.scene.sensors import Modality
    from fusioncheck.simulate.config import SimConfig
    from fusioncheck.simulate.simulation import simulate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "log"
        simulate(root, 1, 0, None, SimConfig.small())
        source = NuScenesSource(root)
        sequence = source.load_sequence(source.sequence_names()[0])
        tracks = sequence.tracks
        table = TrackTable(tracks)
        scans = [
            source.read_radar(s)
            for ch in sequence.channels(Modality.RADAR)
            for s in sequence.samples[ch]
            if sequence.keyframes[0].timestamp_us <= s.timestamp_us <= sequence.keyframes[-1].timestamp_us
        ]
        sensors = sequence.sensors

        def ours() -> int:
            n = 0
            for scan in scans:
                returns = to_global(scan, sensors[scan.sample.channel])
                at = table.at(scan.sample.timestamp_us)
                n += int(np.count_nonzero(associate(returns, at, 0.5, 0.01).box >= 0))
            return n

        def devkit() -> int:
            from pyquaternion import Quaternion

            n = 0
            for scan in scans:
                returns = to_global(scan, sensors[scan.sample.channel])
                at = table.at(scan.sample.timestamp_us)
                pts = returns.positions_m.T
                b = at.boxes
                grow = 0.5 + 0.01 * np.hypot(*(b.centers_m[:, :2] - returns.origin_m[:2]).T)
                hit = np.zeros(pts.shape[1], dtype=bool)
                for j in range(len(at)):
                    wlh = np.array([b.sizes_m[j, 1] + 2 * grow[j], b.sizes_m[j, 0] + 2 * grow[j], 1000.0])
                    box = DevkitBox(b.centers_m[j], wlh, Quaternion(matrix=b.rotations[j]))
                    hit |= devkit_points_in_box(box, pts)
                n += int(hit.sum())
            return n

        reps = max(3, repeats // 4)
        ours_ms, n_ours = _median_ms(ours, reps)
        devkit_ms, n_devkit = _median_ms(devkit, reps)
        returns = sum(int(s.records.shape[0]) for s in scans)
        return {
            "scans": len(scans),
            "returns": returns,
            "tracks": len(tracks),
            "per_scan_ms": ours_ms / max(len(scans), 1),
            "devkit_per_scan_ms": devkit_ms / max(len(scans), 1),
            "devkit_over_fusioncheck": devkit_ms / max(ours_ms, 1e-9),
            "associated": n_ours,
            "associated_devkit": n_devkit,
        }


def format_discovery_bench(result: dict[str, Any]) -> str:
    """Plain-text summary of :func:`run_discovery_bench`."""
    lidar, radar = result["lidar"], result["radar"]
    a = lidar["agreement"]
    return "\n".join(
        [
            f"missing-box discovery per sweep (synthetic nuScenes-like frame, {lidar['points']:,} points, "
            f"{lidar['boxes']} boxes; medians of {result['repeats']} runs)",
            f"  whole per-sweep step (ground, boxes, overhangs, clustering, features): "
            f"{lidar['sweep_median_ms']:.2f} ms, {lidar['clusters_kept']} clusters kept",
            f"  clustering {lidar['free_points']:,} free points: numba grid {lidar['grid_median_ms']:.3f} ms "
            f"({lidar['grid_clusters']} clusters), open3d DBSCAN {lidar['dbscan_median_ms']:.2f} ms "
            f"({lidar['dbscan_clusters']} clusters): {lidar['dbscan_over_grid']:.0f}x",
            f"  agreement: {100 * a['grid_in_dbscan']:.1f} % of points share their grid cluster's DBSCAN "
            f"cluster, {100 * a['dbscan_in_grid']:.1f} % the reverse",
            "",
            f"radar association per scan (simulated log, {radar['scans']} scans, {radar['returns']} returns, "
            f"{radar['tracks']} tracks): fusioncheck {radar['per_scan_ms']:.3f} ms, "
            f"devkit points_in_box loop {radar['devkit_per_scan_ms']:.3f} ms "
            f"({radar['devkit_over_fusioncheck']:.1f}x); associated {radar['associated']} vs "
            f"{radar['associated_devkit']}",
        ]
    )
