"""Intersection over union of yaw-only oriented 3D boxes, in bird's-eye view and in 3D.

A box row is ``(x, y, z, length, width, height, yaw)``: centre in metres, size in metres along the box's
own x (length), y (width), z (height), and yaw in radians about the frame's z axis (counter-clockwise from
the frame's x axis, as :func:`fusioncheck.geometry.boxes.yaw_boxes`). Both sets of boxes must be given in
the same frame, whose z axis is vertical.

BEV intersection: the two footprints are convex rectangles; the intersection polygon is the first clipped
by the four half-planes of the second (Sutherland-Hodgman), and its area comes from the shoelace formula.
3D intersection = BEV intersection area × overlap of the vertical intervals. IoU = intersection / (volume
a + volume b − intersection); a pair whose union is zero (two degenerate boxes) has IoU 0.

Pairs whose footprint circumcircles do not touch are skipped (IoU 0) without clipping.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba
import numpy as np

from fusioncheck.errors import check_shape
from fusioncheck.geometry import quaternion
from fusioncheck.typing import FloatArray

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fusioncheck.scene.boxes import BoxAnnotation

#: Columns of a box row.
BOX_COLUMNS: tuple[str, ...] = ("x_m", "y_m", "z_m", "length_m", "width_m", "height_m", "yaw_rad")

#: Largest number of vertices the intersection of two rectangles can have, plus room for clipping steps.
_MAX_VERTICES = 16


@numba.njit(cache=True)
def _footprint(box: FloatArray, out: FloatArray) -> None:  # pragma: no cover - compiled
    """Write the 4 footprint corners of one box row, counter-clockwise, into ``out`` ``(4, 2)``."""
    c = math.cos(box[6])
    s = math.sin(box[6])
    hl = 0.5 * box[3]
    hw = 0.5 * box[4]
    signs_l = (1.0, -1.0, -1.0, 1.0)
    signs_w = (1.0, 1.0, -1.0, -1.0)
    for k in range(4):
        lx = signs_l[k] * hl
        ly = signs_w[k] * hw
        out[k, 0] = box[0] + c * lx - s * ly
        out[k, 1] = box[1] + s * lx + c * ly


@numba.njit(cache=True)
def _clipped_area(
    subject: FloatArray, clip: FloatArray, buf_a: FloatArray, buf_b: FloatArray
) -> float:  # pragma: no cover - compiled
    """Area of the convex quadrilateral ``subject`` clipped by the counter-clockwise ``clip`` ``(4, 2)``."""
    n = 4
    for k in range(4):
        buf_a[k, 0] = subject[k, 0]
        buf_a[k, 1] = subject[k, 1]
    src = buf_a
    dst = buf_b
    for e in range(4):
        ax = clip[e, 0]
        ay = clip[e, 1]
        bx = clip[(e + 1) % 4, 0]
        by = clip[(e + 1) % 4, 1]
        ex = bx - ax
        ey = by - ay
        m = 0
        for k in range(n):
            px = src[k, 0]
            py = src[k, 1]
            qx = src[(k + 1) % n, 0]
            qy = src[(k + 1) % n, 1]
            # Signed side: >= 0 inside (left of the counter-clockwise edge).
            sp = ex * (py - ay) - ey * (px - ax)
            sq = ex * (qy - ay) - ey * (qx - ax)
            if sp >= 0.0:
                dst[m, 0] = px
                dst[m, 1] = py
                m += 1
                if sq < 0.0:
                    t = sp / (sp - sq)
                    dst[m, 0] = px + t * (qx - px)
                    dst[m, 1] = py + t * (qy - py)
                    m += 1
            elif sq >= 0.0:
                t = sp / (sp - sq)
                dst[m, 0] = px + t * (qx - px)
                dst[m, 1] = py + t * (qy - py)
                m += 1
        n = m
        if n < 3:
            return 0.0
        tmp = src
        src = dst
        dst = tmp
    area = 0.0
    for k in range(n):
        area += src[k, 0] * src[(k + 1) % n, 1] - src[(k + 1) % n, 0] * src[k, 1]
    return max(0.5 * area, 0.0)


@numba.njit(cache=True)
def _iou_kernel(a: FloatArray, b: FloatArray, in_3d: bool, out: FloatArray) -> None:  # pragma: no cover
    n = a.shape[0]
    m = b.shape[0]
    corners_a = np.empty((4, 2))
    corners_b = np.empty((4, 2))
    buf_a = np.empty((_MAX_VERTICES, 2))
    buf_b = np.empty((_MAX_VERTICES, 2))
    for i in range(n):
        _footprint(a[i], corners_a)
        ra = 0.5 * math.hypot(a[i, 3], a[i, 4])
        area_a = a[i, 3] * a[i, 4]
        for j in range(m):
            out[i, j] = 0.0
            rb = 0.5 * math.hypot(b[j, 3], b[j, 4])
            if math.hypot(a[i, 0] - b[j, 0], a[i, 1] - b[j, 1]) > ra + rb:
                continue
            area_b = b[j, 3] * b[j, 4]
            if in_3d:
                top = min(a[i, 2] + 0.5 * a[i, 5], b[j, 2] + 0.5 * b[j, 5])
                bottom = max(a[i, 2] - 0.5 * a[i, 5], b[j, 2] - 0.5 * b[j, 5])
                dz = top - bottom
                if dz <= 0.0:
                    continue
                size_a = area_a * a[i, 5]
                size_b = area_b * b[j, 5]
            else:
                dz = 1.0
                size_a = area_a
                size_b = area_b
            _footprint(b[j], corners_b)
            inter = _clipped_area(corners_a, corners_b, buf_a, buf_b) * dz
            # Clipping round-off can exceed the smaller box by a few ulps.
            inter = min(inter, size_a, size_b)
            union = size_a + size_b - inter
            if union > 0.0:
                out[i, j] = inter / union


def _as_box_rows(name: str, boxes: FloatArray) -> FloatArray:
    rows = np.ascontiguousarray(boxes, dtype=np.float64)
    check_shape(name, rows, (-1, 7))
    if not np.all(np.isfinite(rows)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(rows), axis=1))[0])
        raise ValueError(f"{name}: row {bad} is not finite: {rows[bad].tolist()}")
    if np.any(rows[:, 3:6] < 0.0):
        bad = int(np.flatnonzero(np.any(rows[:, 3:6] < 0.0, axis=1))[0])
        raise ValueError(f"{name}: row {bad} has a negative size: {rows[bad, 3:6].tolist()}")
    return rows


def _iou(boxes_a: FloatArray, boxes_b: FloatArray, in_3d: bool) -> FloatArray:
    a = _as_box_rows("boxes_a", boxes_a)
    b = _as_box_rows("boxes_b", boxes_b)
    out = np.zeros((a.shape[0], b.shape[0]))
    if a.shape[0] and b.shape[0]:
        _iou_kernel(a, b, in_3d, out)
    return out


def box_iou_3d(boxes_a: FloatArray, boxes_b: FloatArray) -> FloatArray:
    """3D IoU of every pair of yaw-only oriented boxes.

    Args:
        boxes_a: ``(N, 7)`` rows ``(x, y, z, length, width, height, yaw)``: metres, radians about z.
        boxes_b: ``(M, 7)`` rows in the same frame and layout.

    Returns:
        ``(N, M)`` float64 in ``[0, 1]``; ``[i, j]`` is the IoU of ``boxes_a[i]`` and ``boxes_b[j]``.

    Raises:
        ShapeError: an input is not ``(K, 7)``.
        ValueError: a row is not finite or has a negative size.
    """
    return _iou(boxes_a, boxes_b, True)


def box_iou_bev(boxes_a: FloatArray, boxes_b: FloatArray) -> FloatArray:
    """Bird's-eye-view IoU (footprint rectangles; z and height ignored) of every pair of boxes.

    Args:
        boxes_a: ``(N, 7)`` rows ``(x, y, z, length, width, height, yaw)``: metres, radians about z.
        boxes_b: ``(M, 7)`` rows in the same frame and layout.

    Returns:
        ``(N, M)`` float64 in ``[0, 1]``.

    Raises:
        ShapeError: an input is not ``(K, 7)``.
        ValueError: a row is not finite or has a negative size.
    """
    return _iou(boxes_a, boxes_b, False)


def box_rows(boxes: Sequence[BoxAnnotation]) -> FloatArray:
    """Annotations as IoU rows ``(K, 7)``: centre (global frame, metres), ``length, width, height``, yaw.

    Pitch and roll of the annotations are ignored (the yaw is the heading of the box's x axis about z).
    """
    if not boxes:
        return np.zeros((0, 7))
    rows = np.empty((len(boxes), 7))
    rows[:, 0:3] = np.stack([b.center_m for b in boxes])
    rows[:, 3:6] = np.stack([b.size_m for b in boxes])
    rows[:, 6] = quaternion.yaw_of(np.stack([b.quat_wxyz for b in boxes]))
    return rows


def warm_up() -> None:
    """Compile (or load from the numba cache) the IoU kernel."""
    boxes = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.3], [1.0, 0.5, 0.2, 4.0, 2.0, 1.5, -0.2]])
    box_iou_3d(boxes, boxes)
    box_iou_bev(boxes, boxes)
