"""Brute-force reference of :func:`fusioncheck.kernels.points_in_boxes.points_in_boxes`, in plain numpy.

Every point is tested against every box (a loop over boxes), so the result is obviously right and slow:
O(points x boxes). Tests compare the numba kernel with it for exact equality. The rules are stated in the
kernel module's docstring; the box-local coordinates are computed with the same formula and operation
order as the kernel (``(d_x * R[0, k] + d_y * R[1, k]) + d_z * R[2, k]``, element-wise, no matrix product
whose summation order BLAS may change) so that both give bit-identical extents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fusioncheck.kernels.points_in_boxes import (
    _CENTER,
    _MARGIN,
    _ROTATION,
    _SIZE,
    ROTATION_TOLERANCE,
    PointsInBoxesResult,
    _box_params,
    _describe_bad_box,
    _eligible_mask,
    _point_columns,
)
from fusioncheck.typing import FloatArray

if TYPE_CHECKING:
    import numpy.typing as npt

    from fusioncheck.scene.boxes import BoxArrays


def points_in_boxes_reference(
    points_xyz: npt.ArrayLike,
    boxes: BoxArrays,
    shell_margin_m: float | npt.ArrayLike = 0.0,
    shell_eligible: npt.ArrayLike | None = None,
) -> PointsInBoxesResult:
    """Compute :func:`fusioncheck.kernels.points_in_boxes.points_in_boxes` by brute force (same contract).

    Args:
        points_xyz: ``(N, C)`` points, ``C >= 3``, metres, the boxes' frame (first three columns used).
        boxes: ``M`` boxes in the same frame.
        shell_margin_m: scalar or ``(M, 3)`` shell margin along the box axes, metres.
        shell_eligible: ``(N,)`` bool, points allowed in shells; all when ``None``.

    Returns:
        A :class:`~fusioncheck.kernels.points_in_boxes.PointsInBoxesResult`.
    """
    columns = _point_columns(points_xyz).astype(np.float64)
    params = _box_params(boxes, shell_margin_m)
    eligible = _eligible_mask(shell_eligible, columns.shape[1])
    bad = _first_invalid_box(params)
    if bad >= 0:
        raise ValueError(_describe_bad_box(params, bad))

    n_points = columns.shape[1]
    n_boxes = params.shape[0]
    half = 0.5 * params[:, _SIZE : _SIZE + 3]
    outer = half + params[:, _MARGIN : _MARGIN + 3]

    counts = np.zeros(n_boxes, dtype=np.int64)
    shell_counts = np.zeros(n_boxes, dtype=np.int64)
    point_box = np.full(n_points, -1, dtype=np.int32)
    point_shell_box = np.full(n_points, -1, dtype=np.int32)
    local_min = np.full((n_boxes, 3), np.nan)
    local_max = np.full((n_boxes, 3), np.nan)

    inside_any = np.zeros(n_points, dtype=bool)
    for j in range(n_boxes):
        # NaN coordinates compare false, so NaN points are inside nothing.
        inside = np.all(np.abs(_local(columns, params[j])) <= half[j][:, None], axis=0)
        counts[j] = np.count_nonzero(inside)
        point_box[inside & (point_box < 0)] = j
        inside_any |= inside

    for j in range(n_boxes):
        local = _local(columns, params[j])
        inside = np.all(np.abs(local) <= half[j][:, None], axis=0)
        shell = np.all(np.abs(local) <= outer[j][:, None], axis=0) & ~inside_any & eligible
        shell_counts[j] = np.count_nonzero(shell)
        point_shell_box[shell & (point_shell_box < 0)] = j
        members = inside | shell
        if np.any(members):
            local_min[j] = local[:, members].min(axis=1)
            local_max[j] = local[:, members].max(axis=1)

    return PointsInBoxesResult(counts, shell_counts, point_box, point_shell_box, local_min, local_max)


def _local(columns: FloatArray, box: FloatArray) -> FloatArray:
    """``(3, N)`` box-local coordinates of ``(3, N)`` float64 points for one packed box row."""
    d = columns - box[_CENTER : _CENTER + 3, None]
    r = box[_ROTATION : _ROTATION + 9].reshape(3, 3)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.stack([d[0] * r[0, k] + d[1] * r[1, k] + d[2] * r[2, k] for k in range(3)])


def _first_invalid_box(params: FloatArray) -> int:
    """Index of the first invalid box (non-finite, negative size or margin, non-orthonormal), else -1."""
    rotations = params[:, _ROTATION : _ROTATION + 9].reshape(-1, 3, 3)
    finite = np.all(np.isfinite(params), axis=1)
    non_negative = np.all(params[:, _SIZE : _SIZE + 3] >= 0, axis=1) & np.all(
        params[:, _MARGIN : _MARGIN + 3] >= 0, axis=1
    )
    with np.errstate(invalid="ignore", over="ignore"):
        gram = np.einsum("mra,mrb->mab", rotations, rotations)
        orthonormal = np.all(np.abs(gram - np.eye(3)) <= ROTATION_TOLERANCE, axis=(1, 2))
    bad = np.flatnonzero(~(finite & non_negative & orthonormal))
    return int(bad[0]) if bad.size else -1
