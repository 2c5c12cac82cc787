"""Oriented 3D boxes: corners, edges, frame changes and the box-local frame of points.

Box frame: origin at the box centre, x forward (along the length), y left (width), z up (height), as in
nuScenes. ``BoxArrays.rotations[m]`` has the box's x, y, z axes as columns, expressed in the frame the
boxes are given in.
"""

from __future__ import annotations

import numpy as np

from fusioncheck.errors import check_shape
from fusioncheck.geometry.se3 import SE3
from fusioncheck.scene.boxes import BoxArrays
from fusioncheck.typing import FloatArray, IntArray

#: Corner signs in units of the half-size along the box's x, y, z, in nuScenes' ``Box.corners`` order:
#: corners 0-3 on the front face (+x), 4-7 on the back face (-x); on each face, in the box's own sense
#: (left = +y, top = +z): top-left, top-right, bottom-right, bottom-left.
CORNER_SIGNS: FloatArray = np.array(
    [
        [1, 1, 1],
        [1, -1, 1],
        [1, -1, -1],
        [1, 1, -1],
        [-1, 1, 1],
        [-1, -1, 1],
        [-1, -1, -1],
        [-1, 1, -1],
    ],
    dtype=np.float64,
)

#: The 12 edges as pairs of corner indices: front face, back face, then the four front-to-back edges.
BOX_EDGES: IntArray = np.array(
    [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]],
    dtype=np.int64,
)


def box_corners(boxes: BoxArrays) -> FloatArray:
    """Return the 8 corners of each box, in the boxes' frame.

    Args:
        boxes: ``M`` boxes (centres and sizes in metres).

    Returns:
        ``(M, 8, 3)`` float64, metres, the boxes' frame; corner order as :data:`CORNER_SIGNS`
        (nuScenes ``Box.corners``: front face 0-3, back face 4-7).
    """
    half = 0.5 * np.asarray(boxes.sizes_m, dtype=np.float64)
    local = CORNER_SIGNS[None, :, :] * half[:, None, :]
    rotations = np.asarray(boxes.rotations, dtype=np.float64)
    centers = np.asarray(boxes.centers_m, dtype=np.float64)
    return np.einsum("mij,mkj->mki", rotations, local) + centers[:, None, :]


def box_edges() -> IntArray:
    """``(12, 2)`` int64 corner index pairs of the box edges (see :data:`BOX_EDGES`), a fresh copy."""
    return BOX_EDGES.copy()


def transform_boxes(boxes: BoxArrays, target_from_source: SE3) -> BoxArrays:
    """Boxes given in the source frame, expressed in the target frame (sizes unchanged).

    Args:
        boxes: ``M`` boxes in the source frame.
        target_from_source: the rigid transform source -> target.

    Returns:
        The same ``M`` boxes in the target frame.
    """
    centers = target_from_source.transform_points(boxes.centers_m)
    rotations = np.einsum("ij,mjk->mik", target_from_source.rotation, np.asarray(boxes.rotations, np.float64))
    return BoxArrays(centers, np.array(boxes.sizes_m, dtype=np.float64), rotations)


def points_to_box_frame(points: FloatArray, center: FloatArray, rotation: FloatArray) -> FloatArray:
    """Coordinates of points in one box's own frame (x forward, y left, z up, origin at the centre).

    A point is inside the box when ``|local| <= size / 2`` on every axis.

    Args:
        points: ``(N, 3)`` metres, in the frame the box is given in.
        center: ``(3,)`` metres, the box centre in that frame.
        rotation: ``(3, 3)`` box axes (columns) in that frame.

    Returns:
        ``(N, 3)`` float64, metres, box frame.
    """
    p = np.asarray(points, dtype=np.float64)
    c = np.asarray(center, dtype=np.float64).reshape(-1)
    r = np.asarray(rotation, dtype=np.float64)
    check_shape("points", p, (-1, 3))
    check_shape("center", c, (3,))
    check_shape("rotation", r, (3, 3))
    return np.asarray((p - c) @ r)


def yaw_boxes(centers_m: FloatArray, sizes_m: FloatArray, yaw_rad: FloatArray) -> BoxArrays:
    """Boxes rotated only about the frame's z axis.

    Args:
        centers_m: ``(M, 3)`` box centres, metres.
        sizes_m: ``(M, 3)`` ``(length, width, height)``, metres.
        yaw_rad: ``(M,)`` heading of the box's x axis, radians, counter-clockwise from the frame's x axis.

    Returns:
        The boxes as :class:`BoxArrays` in the same frame.
    """
    centers = np.array(centers_m, dtype=np.float64)
    sizes = np.array(sizes_m, dtype=np.float64)
    yaw = np.asarray(yaw_rad, dtype=np.float64)
    check_shape("centers_m", centers, (-1, 3))
    check_shape("sizes_m", sizes, (centers.shape[0], 3))
    check_shape("yaw_rad", yaw, (centers.shape[0],))
    c, s = np.cos(yaw), np.sin(yaw)
    rotations = np.zeros((yaw.size, 3, 3))
    rotations[:, 0, 0] = c
    rotations[:, 0, 1] = -s
    rotations[:, 1, 0] = s
    rotations[:, 1, 1] = c
    rotations[:, 2, 2] = 1.0
    return BoxArrays(centers, sizes, rotations)
