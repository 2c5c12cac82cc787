"""Bird's-eye-view grid connected components: cluster obstacle points by the occupied cells they share.

Points (already freed of ground) are binned into a square x-y grid of ``cell_m``; two occupied cells
touching by an edge or a corner (8-neighbourhood) belong to the same cluster. This is DBSCAN with
``min_samples = 1`` on a grid metric: two points share a cluster when a chain of occupied cells links
them, so points closer than ``cell_m`` always join, and points farther apart than ``2·√2·cell_m`` never
join directly. One pass bins the points, one flood fill labels the occupied cells, one pass labels the
points: O(points + grid cells), no neighbour search.

:func:`cluster_features` then measures each cluster in one more pass: point count, centroid, the
principal axis of the x-y spread, the extents along it and across it, and the lowest and highest ``z``.
"""

from __future__ import annotations

import numba
import numpy as np

from fusioncheck.typing import FloatArray, Int32Array

#: Columns of the per-cluster feature table returned by :func:`cluster_features`.
FEATURE_COLUMNS: tuple[str, ...] = (
    "points",
    "x_m",
    "y_m",
    "z_min_m",
    "z_max_m",
    "length_m",
    "width_m",
    "heading_rad",
)


@numba.njit(cache=True)
def _label_grid(x: np.ndarray, y: np.ndarray, keep: np.ndarray, cell_m: float) -> tuple[np.ndarray, int]:
    n = x.size
    labels = np.full(n, -1, dtype=np.int32)
    x0 = np.inf
    y0 = np.inf
    x1 = -np.inf
    y1 = -np.inf
    for i in range(n):
        if keep[i]:
            x0 = min(x0, x[i])
            y0 = min(y0, y[i])
            x1 = max(x1, x[i])
            y1 = max(y1, y[i])
    if not x0 <= x1:
        return labels, 0
    nx = int((x1 - x0) / cell_m) + 1
    ny = int((y1 - y0) / cell_m) + 1
    cell = np.full(n, -1, dtype=np.int64)
    grid = np.full(nx * ny, -2, dtype=np.int32)  # -2 empty, -1 occupied but unlabelled, >= 0 cluster
    for i in range(n):
        if keep[i]:
            cx = min(int((x[i] - x0) / cell_m), nx - 1)
            cy = min(int((y[i] - y0) / cell_m), ny - 1)
            c = cx * ny + cy
            cell[i] = c
            grid[c] = -1
    stack = np.empty(nx * ny, dtype=np.int64)
    n_clusters = 0
    for i in range(n):
        c = cell[i]
        if c < 0 or grid[c] != -1:
            continue
        grid[c] = n_clusters
        top = 0
        stack[top] = c
        top += 1
        while top > 0:
            top -= 1
            cur = stack[top]
            cx = cur // ny
            cy = cur % ny
            for dx in range(-1, 2):
                ax = cx + dx
                if ax < 0 or ax >= nx:
                    continue
                for dy in range(-1, 2):
                    ay = cy + dy
                    if ay < 0 or ay >= ny:
                        continue
                    a = ax * ny + ay
                    if grid[a] == -1:
                        grid[a] = n_clusters
                        stack[top] = a
                        top += 1
        n_clusters += 1
    for i in range(n):
        if cell[i] >= 0:
            labels[i] = grid[cell[i]]
    return labels, n_clusters


@numba.njit(cache=True)
def _features(x: np.ndarray, y: np.ndarray, z: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    out = np.zeros((n_clusters, 8))
    sxx = np.zeros(n_clusters)
    syy = np.zeros(n_clusters)
    sxy = np.zeros(n_clusters)
    for k in range(n_clusters):
        out[k, 3] = np.inf
        out[k, 4] = -np.inf
    for i in range(labels.size):
        k = labels[i]
        if k < 0:
            continue
        out[k, 0] += 1.0
        out[k, 1] += x[i]
        out[k, 2] += y[i]
        out[k, 3] = min(out[k, 3], z[i])
        out[k, 4] = max(out[k, 4], z[i])
    for k in range(n_clusters):
        if out[k, 0] > 0:
            out[k, 1] /= out[k, 0]
            out[k, 2] /= out[k, 0]
        else:
            out[k, 3] = 0.0
            out[k, 4] = 0.0
    for i in range(labels.size):
        k = labels[i]
        if k < 0:
            continue
        dx = x[i] - out[k, 1]
        dy = y[i] - out[k, 2]
        sxx[k] += dx * dx
        syy[k] += dy * dy
        sxy[k] += dx * dy
    cos_h = np.empty(n_clusters)
    sin_h = np.empty(n_clusters)
    lo_u = np.full(n_clusters, np.inf)
    hi_u = np.full(n_clusters, -np.inf)
    lo_v = np.full(n_clusters, np.inf)
    hi_v = np.full(n_clusters, -np.inf)
    for k in range(n_clusters):
        heading = 0.5 * np.arctan2(2.0 * sxy[k], sxx[k] - syy[k])
        out[k, 7] = heading
        cos_h[k] = np.cos(heading)
        sin_h[k] = np.sin(heading)
    for i in range(labels.size):
        k = labels[i]
        if k < 0:
            continue
        dx = x[i] - out[k, 1]
        dy = y[i] - out[k, 2]
        u = dx * cos_h[k] + dy * sin_h[k]
        v = -dx * sin_h[k] + dy * cos_h[k]
        lo_u[k] = min(lo_u[k], u)
        hi_u[k] = max(hi_u[k], u)
        lo_v[k] = min(lo_v[k], v)
        hi_v[k] = max(hi_v[k], v)
    for k in range(n_clusters):
        if out[k, 0] > 0:
            out[k, 5] = hi_u[k] - lo_u[k]
            out[k, 6] = hi_v[k] - lo_v[k]
    return out


def grid_clusters(points_xy: FloatArray, keep: np.ndarray, cell_m: float) -> tuple[Int32Array, int]:
    """Label the kept points by 8-connected occupied cells of an x-y grid.

    Args:
        points_xy: ``(N, 2)`` (or wider; the first two columns are used) positions, metres, any z-up frame.
        keep: ``(N,)`` bool, the points to cluster (others get label -1).
        cell_m: grid cell side, metres (> 0).

    Returns:
        ``labels`` ``(N,)`` int32 cluster index per point (-1 where not kept) and the number of clusters.
        Cluster indices follow the order of each cluster's first kept point.
    """
    if cell_m <= 0:
        raise ValueError(f"cell_m must be > 0, got {cell_m}")
    p = np.asarray(points_xy)
    x = np.ascontiguousarray(p[:, 0], dtype=np.float64)
    y = np.ascontiguousarray(p[:, 1], dtype=np.float64)
    k = np.ascontiguousarray(keep, dtype=np.bool_)
    if k.shape != x.shape:
        raise ValueError(f"keep has shape {k.shape}, expected {x.shape}")
    labels, n = _label_grid(x, y, k, float(cell_m))
    return labels, int(n)


def cluster_features(points: FloatArray, labels: np.ndarray, n_clusters: int) -> FloatArray:
    """Per-cluster measurements ``(K, 8)`` float64 in the points' frame; columns :data:`FEATURE_COLUMNS`.

    ``points`` ``(N, 3)`` metres (z up); ``labels`` ``(N,)`` from :func:`grid_clusters`. ``length_m`` is
    the x-y extent along the principal axis of the cluster's spread (heading ``heading_rad`` from +x),
    ``width_m`` the extent across it; ``z_min_m``/``z_max_m`` the lowest and highest point.
    Clusters without points get a row of zeros.
    """
    p = np.asarray(points)
    return np.asarray(
        _features(
            np.ascontiguousarray(p[:, 0], dtype=np.float64),
            np.ascontiguousarray(p[:, 1], dtype=np.float64),
            np.ascontiguousarray(p[:, 2], dtype=np.float64),
            np.ascontiguousarray(labels, dtype=np.int32),
            int(n_clusters),
        )
    )


def grid_clusters_reference(points_xy: FloatArray, keep: np.ndarray, cell_m: float) -> tuple[Int32Array, int]:
    """Plain numpy/scipy reference of :func:`grid_clusters` (same labels, same order), for tests."""
    from scipy import ndimage

    p = np.asarray(points_xy, dtype=np.float64)
    keep = np.asarray(keep, dtype=bool)
    labels = np.full(p.shape[0], -1, dtype=np.int32)
    if not keep.any():
        return labels, 0
    q = p[keep, :2]
    lo = q.min(axis=0)
    shape = np.floor((q.max(axis=0) - lo) / cell_m).astype(int) + 1
    cx = np.minimum(np.floor((q[:, 0] - lo[0]) / cell_m).astype(int), shape[0] - 1)
    cy = np.minimum(np.floor((q[:, 1] - lo[1]) / cell_m).astype(int), shape[1] - 1)
    grid = np.zeros(tuple(shape), dtype=bool)
    grid[cx, cy] = True
    components, n = ndimage.label(grid, structure=np.ones((3, 3), dtype=int))
    raw = components[cx, cy] - 1
    # Renumber in order of each component's first point, as the kernel does.
    _, first = np.unique(raw, return_index=True)
    order = np.argsort(np.argsort(first))
    labels[keep] = order[raw]
    return labels, int(n)


def warm_up() -> None:
    """Compile (or load from the cache) the clustering kernels."""
    pts = np.array([[0.0, 0.0, 0.0], [0.1, 0.1, 1.0], [5.0, 5.0, 0.5]])
    labels, n = grid_clusters(pts, np.ones(3, dtype=bool), 0.3)
    cluster_features(pts, labels, n)
