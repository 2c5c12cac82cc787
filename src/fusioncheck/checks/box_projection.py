"""Projection of 3D boxes into a camera image: near-plane clipping of edges, 2D extent, truncation.

A box is projected through its 12 edges, not only its 8 corners: each edge is clipped against the near
plane ``z = near_m`` (camera frame), so that a box reaching behind the camera still gets the right image
extent from the part in front of it, and sampled at ``samples_per_edge`` points so that lens distortion
(which bends straight edges) is followed. The 2D extent is the min/max of the projected samples that the
distortion model accepts (:func:`fusioncheck.geometry.camera.project_points`' ``valid``).

*Truncation* is the fraction of that (unbounded) 2D extent that lies outside the image:
``1 - area(extent clipped to the image) / area(extent)`` (KITTI's ``truncated`` field measures the
object's fraction outside the image in the same spirit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.geometry.boxes import BOX_EDGES, box_corners
from fusioncheck.geometry.camera import project_points
from fusioncheck.scene.boxes import BoxArrays
from fusioncheck.scene.sensors import CameraIntrinsics
from fusioncheck.typing import BoolArray, FloatArray

#: Points sampled along every clipped box edge.
SAMPLES_PER_EDGE = 12
#: Near plane for clipping, metres (camera z).
NEAR_M = 0.1


@dataclass(frozen=True, eq=False)
class ProjectedBoxes:
    """2D extents of ``M`` boxes in one image.

    Attributes:
        extent_px: ``(M, 4)`` float64 ``u_min, v_min, u_max, v_max`` of the projection, unbounded by the
            image (NaN rows for boxes entirely behind the near plane).
        bbox_px: ``(M, 4)`` the extent clipped to the image ``[-0.5, W - 0.5] x [-0.5, H - 0.5]`` (NaN rows
            where the box does not reach the image).
        truncation: ``(M,)`` fraction of the extent's area outside the image (1 where not in the image).
        in_image: ``(M,)`` bool, the clipped extent has a positive area.
        min_depth_m: ``(M,)`` nearest depth (camera z) of the box's in-front part, metres (NaN if none).
    """

    extent_px: FloatArray
    bbox_px: FloatArray
    truncation: FloatArray
    in_image: BoolArray
    min_depth_m: FloatArray


def clipped_edge_samples(
    corners_cam: FloatArray, near_m: float = NEAR_M, samples: int = SAMPLES_PER_EDGE
) -> FloatArray:
    """Sample the 12 edges of each box, each clipped to ``z >= near_m``.

    Args:
        corners_cam: ``(M, 8, 3)`` box corners, metres, camera frame.
        near_m: near plane, metres.
        samples: points per edge (>= 2; both ends included).

    Returns:
        ``(M, 12 * samples, 3)`` points; samples of an edge entirely behind the plane are NaN.
    """
    c = np.asarray(corners_cam, dtype=np.float64)
    a = c[:, BOX_EDGES[:, 0], :]  # (M, 12, 3)
    b = c[:, BOX_EDGES[:, 1], :]
    za, zb = a[..., 2], b[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        # Parameter along a -> b where the edge crosses the near plane.
        t_cross = (near_m - za) / (zb - za)
    t0 = np.where(za >= near_m, 0.0, np.where(zb >= near_m, t_cross, np.nan))
    t1 = np.where(zb >= near_m, 1.0, np.where(za >= near_m, t_cross, np.nan))
    s = np.linspace(0.0, 1.0, samples)
    t = t0[..., None] + (t1 - t0)[..., None] * s  # (M, 12, S)
    points = a[..., None, :] + (b - a)[..., None, :] * t[..., None]
    return points.reshape(c.shape[0], -1, 3)


def project_boxes(
    boxes_cam: BoxArrays, intrinsics: CameraIntrinsics, width_px: int, height_px: int, near_m: float = NEAR_M
) -> ProjectedBoxes:
    """Project boxes given in the camera frame into an image of ``width_px x height_px``."""
    m = len(boxes_cam)
    if m == 0:
        empty = np.zeros((0, 4))
        return ProjectedBoxes(empty, empty.copy(), np.zeros(0), np.zeros(0, bool), np.zeros(0))
    samples = clipped_edge_samples(box_corners(boxes_cam), near_m)
    flat = samples.reshape(-1, 3)
    finite = np.isfinite(flat).all(axis=1)
    uv = np.full((flat.shape[0], 2), np.nan)
    valid = np.zeros(flat.shape[0], dtype=bool)
    if finite.any():
        uv_f, _, valid_f = project_points(flat[finite], intrinsics, min_depth_m=near_m * 0.999)
        uv[finite] = uv_f
        valid[finite] = valid_f
    uv_boxes = uv.reshape(m, -1, 2)
    valid_boxes = valid.reshape(m, -1)
    extent = np.full((m, 4), np.nan)
    depth = np.full(m, np.nan)
    for i in range(m):
        if valid_boxes[i].any():
            p = uv_boxes[i][valid_boxes[i]]
            extent[i] = [p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()]
            depth[i] = float(samples[i][valid_boxes[i], 2].min())
    lo_u, lo_v, hi_u, hi_v = -0.5, -0.5, width_px - 0.5, height_px - 0.5
    with np.errstate(invalid="ignore"):
        bbox = np.stack(
            [
                np.clip(extent[:, 0], lo_u, hi_u),
                np.clip(extent[:, 1], lo_v, hi_v),
                np.clip(extent[:, 2], lo_u, hi_u),
                np.clip(extent[:, 3], lo_v, hi_v),
            ],
            axis=1,
        )
        area_full = (extent[:, 2] - extent[:, 0]) * (extent[:, 3] - extent[:, 1])
        area_in = (bbox[:, 2] - bbox[:, 0]) * (bbox[:, 3] - bbox[:, 1])
        in_image = np.isfinite(area_in) & (area_in > 0.0)
        truncation = np.where(in_image, 1.0 - area_in / np.maximum(area_full, 1e-12), 1.0)
    bbox[~in_image] = np.nan
    return ProjectedBoxes(extent, bbox, np.clip(truncation, 0.0, 1.0), in_image, depth)


def iou_matrix(a_px: FloatArray, b_px: FloatArray) -> FloatArray:
    """Intersection over union of axis-aligned boxes ``(A, 4)`` x ``(B, 4)`` (``u0, v0, u1, v1``)."""
    a = np.asarray(a_px, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b_px, dtype=np.float64).reshape(-1, 4)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0.0, None) * np.clip(ih, 0.0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0.0, inter / union, 0.0)
    return np.nan_to_num(out, nan=0.0)
