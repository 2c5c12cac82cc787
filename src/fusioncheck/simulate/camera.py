"""Camera rendering: sky, textured ground, and every box of the world as shaded faces with contrasting edges.

An image shows the world at its own timestamp (global shutter). Rendering happens in two layers:

1. **Ground layer** (painter's algorithm, back to front by construction): sky gradient, a large ground
   quad, then road surface, parking bays, sidewalks, and lane markings (solid edge lines, a double
   centre line, dashed lane dividers: 3 m dashes every 9 m of arc length), drawn as polygons on the
   plane ``z = 0`` with ``cv2.fillConvexPoly``. Nothing on the ground can hide an object standing on it,
   so this layer always goes first.
2. **Box layer** (z-buffer): every visible face (back faces culled) of every object part and clutter box
   is clipped against the near plane, projected, and filled by a numba scan of its pixels with a
   per-pixel depth test (inverse depth is affine in pixel coordinates for a planar face). Pixels within
   ``edge_px`` of a true face edge (not of a near-plane cut) take a contrasting colour (dark on light
   faces, light on dark ones), so an object's silhouette is a sharp, visible edge exactly at its
   projected outline. Faces are flat-shaded by a fixed sun direction.

Pixel convention: pixel ``(u, v)`` has its centre at integer coordinates, ``u = fx x / z + cx``.
"""

from __future__ import annotations

import cv2
import numba
import numpy as np

from fusioncheck.simulate.rig import CameraModel
from fusioncheck.simulate.world import PARKING_M, ROAD_EDGE_M, SIDEWALK_M, World
from fusioncheck.typing import FloatArray

NEAR_PLANE_M = 0.1
GROUND_NEAR_PLANE_M = 0.5
#: Half extent of the road drawn around the camera along the road, metres.
GROUND_RANGE_M = 120.0
STRIP_M = 5.0
MAX_BOX_DISTANCE_M = 250.0
SUN_DIRECTION = np.array([0.35, 0.25, 0.9]) / np.linalg.norm([0.35, 0.25, 0.9])

_BASE_GROUND_BGR = (78, 104, 96)
#: (d_lo, d_hi, colour BGR) of the surface bands, drawn in this order (both sides where mirrored).
_BANDS: tuple[tuple[float, float, tuple[int, int, int]], ...] = (
    (-PARKING_M[0], PARKING_M[0], (82, 84, 86)),
    (PARKING_M[0], PARKING_M[1], (104, 104, 108)),
    (-PARKING_M[1], -PARKING_M[0], (104, 104, 108)),
    (SIDEWALK_M[0], SIDEWALK_M[1] + 2.0, (150, 156, 162)),
    (-SIDEWALK_M[1] - 2.0, -SIDEWALK_M[0], (150, 156, 162)),
)
#: solid lines (d centre, width, colour)
_SOLID_LINES: tuple[tuple[float, float, tuple[int, int, int]], ...] = (
    (ROAD_EDGE_M, 0.15, (235, 235, 235)),
    (-ROAD_EDGE_M, 0.15, (235, 235, 235)),
    (PARKING_M[0], 0.12, (220, 220, 220)),
    (-PARKING_M[0], 0.12, (220, 220, 220)),
    (0.1, 0.1, (40, 200, 230)),
    (-0.1, 0.1, (40, 200, 230)),
    (SIDEWALK_M[0], 0.2, (60, 60, 62)),
    (-SIDEWALK_M[0], 0.2, (60, 60, 62)),
)
_DASHED_LINES: tuple[tuple[float, float, tuple[int, int, int]], ...] = (
    (3.5, 0.12, (235, 235, 235)),
    (-3.5, 0.12, (235, 235, 235)),
)
_DASH_M, _DASH_PERIOD_M = 3.0, 9.0

# Corner k of a box has local signs (x: bit 0, y: bit 1, z: bit 2); faces list corners counter-clockwise
# seen from outside, with their outward normal.
_CORNER_SIGNS = np.array(
    [[(k & 1) * 2 - 1, ((k >> 1) & 1) * 2 - 1, ((k >> 2) & 1) * 2 - 1] for k in range(8)], float
)
_FACES = np.array([[1, 3, 7, 5], [0, 4, 6, 2], [2, 6, 7, 3], [0, 1, 5, 4], [4, 5, 7, 6], [0, 2, 3, 1]])
_FACE_NORMALS = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)


# ------------------------------------------------------------------------------------ rasterizer


@numba.njit(cache=True)
def _raster_polygons(
    image: np.ndarray,
    inv_depth: np.ndarray,
    starts: np.ndarray,
    vertices: np.ndarray,
    real_edges: np.ndarray,
    coefficients: np.ndarray,
    fill: np.ndarray,
    edge: np.ndarray,
    edge_px: float,
) -> None:
    height, width = inv_depth.shape
    for f in range(starts.size - 1):
        s, e = starts[f], starts[f + 1]
        n = e - s
        if n < 3:
            continue
        area = 0.0
        x_lo, x_hi, y_lo, y_hi = np.inf, -np.inf, np.inf, -np.inf
        for i in range(n):
            x0, y0 = vertices[s + i, 0], vertices[s + i, 1]
            x1, y1 = vertices[s + (i + 1) % n, 0], vertices[s + (i + 1) % n, 1]
            area += x0 * y1 - x1 * y0
            x_lo, x_hi = min(x_lo, x0), max(x_hi, x0)
            y_lo, y_hi = min(y_lo, y0), max(y_hi, y0)
        if abs(area) < 1e-9:
            continue
        sign = 1.0 if area > 0 else -1.0
        # Edge i as a normalised line: signed distance (pixels) >= 0 inside.
        ea = np.empty(n)
        eb = np.empty(n)
        ec = np.empty(n)
        for i in range(n):
            x0, y0 = vertices[s + i, 0], vertices[s + i, 1]
            x1, y1 = vertices[s + (i + 1) % n, 0], vertices[s + (i + 1) % n, 1]
            dx, dy = x1 - x0, y1 - y0
            length = np.sqrt(dx * dx + dy * dy)
            if length < 1e-12:
                ea[i], eb[i], ec[i] = 0.0, 0.0, 1.0
                continue
            ea[i] = -dy * sign / length
            eb[i] = dx * sign / length
            ec[i] = -(ea[i] * x0 + eb[i] * y0)
        u0 = max(int(np.ceil(x_lo)), 0)
        u1 = min(int(np.floor(x_hi)), width - 1)
        v0 = max(int(np.ceil(y_lo)), 0)
        v1 = min(int(np.floor(y_hi)), height - 1)
        ca, cb, cc = coefficients[f, 0], coefficients[f, 1], coefficients[f, 2]
        for v in range(v0, v1 + 1):
            for u in range(u0, u1 + 1):
                inside = True
                nearest = np.inf
                for i in range(n):
                    dist = ea[i] * u + eb[i] * v + ec[i]
                    if dist < 0.0:
                        inside = False
                        break
                    if real_edges[s + i] and dist < nearest:
                        nearest = dist
                if not inside:
                    continue
                z_inv = ca * u + cb * v + cc
                if z_inv <= inv_depth[v, u]:
                    continue
                inv_depth[v, u] = z_inv
                if nearest < edge_px:
                    image[v, u, 0], image[v, u, 1], image[v, u, 2] = edge[f, 0], edge[f, 1], edge[f, 2]
                else:
                    image[v, u, 0], image[v, u, 1], image[v, u, 2] = fill[f, 0], fill[f, 1], fill[f, 2]


# --------------------------------------------------------------------------------------- helpers


def clip_near(vertices_cam: FloatArray, near_m: float) -> tuple[FloatArray, np.ndarray]:
    """Clip a convex polygon ``(n, 3)`` (camera frame) to ``z >= near_m`` (Sutherland-Hodgman).

    Returns the clipped vertices ``(k, 3)`` and ``(k,)`` flags: edge ``i -> i+1`` lies on an original edge.
    """
    out: list[FloatArray] = []
    flags: list[bool] = []
    n = vertices_cam.shape[0]
    for i in range(n):
        a, b = vertices_cam[i], vertices_cam[(i + 1) % n]
        a_in, b_in = a[2] >= near_m, b[2] >= near_m
        if a_in:
            out.append(a)
            flags.append(True)
        if a_in != b_in:
            t = (near_m - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
            flags.append(not a_in)
    if not out:
        return np.zeros((0, 3)), np.zeros(0, dtype=bool)
    return np.array(out), np.array(flags, dtype=bool)


def _project(matrix: FloatArray, points_cam: FloatArray) -> FloatArray:
    z = points_cam[..., 2]
    u = matrix[0, 0] * points_cam[..., 0] / z + matrix[0, 2]
    v = matrix[1, 1] * points_cam[..., 1] / z + matrix[1, 2]
    return np.stack([u, v], -1)


_SKY_CACHE: dict[tuple[int, int, float], np.ndarray] = {}


def _sky(width: int, height: int, horizon_v: float) -> np.ndarray:
    key = (width, height, round(horizon_v, 3))
    if key not in _SKY_CACHE:
        v = np.arange(height, dtype=np.float64)
        f = np.clip((horizon_v - v) / max(horizon_v, 1.0), 0.0, 1.0)[:, None]
        top, low = np.array([185.0, 135.0, 95.0]), np.array([235.0, 220.0, 200.0])
        rows = (low * (1 - f) + top * f).astype(np.uint8)
        _SKY_CACHE[key] = np.ascontiguousarray(np.broadcast_to(rows[:, None, :], (height, width, 3)))
    return _SKY_CACHE[key].copy()


def _ground_polygons(world: World, s_center: float) -> tuple[FloatArray, np.ndarray]:
    """Ground-layer polygons ``(Q, 4, 3)`` (global frame, z = 0) in drawing order, with colours."""
    road = world.road
    s_lo = np.floor((s_center - GROUND_RANGE_M) / STRIP_M) * STRIP_M
    s = s_lo + STRIP_M * np.arange(int(2 * GROUND_RANGE_M / STRIP_M) + 1)
    s0 = s[:-1]
    polys: list[FloatArray] = []
    colors: list[np.ndarray] = []

    def frame(at: FloatArray) -> tuple[FloatArray, FloatArray]:
        xy, heading = road.frame(at)
        return xy, np.stack([-np.sin(heading), np.cos(heading)], axis=-1)

    grid_xy, grid_n = frame(s)
    dash_s = np.arange(np.floor(s[0] / _DASH_PERIOD_M), np.ceil(s[-1] / _DASH_PERIOD_M)) * _DASH_PERIOD_M
    dash0_xy, dash0_n = frame(dash_s)
    dash1_xy, dash1_n = frame(dash_s + _DASH_M)

    def quads(
        a: tuple[FloatArray, FloatArray], b: tuple[FloatArray, FloatArray], d_lo: float, d_hi: float
    ) -> FloatArray:
        (a_xy, a_n), (b_xy, b_n) = a, b
        q = np.stack([a_xy + d_lo * a_n, a_xy + d_hi * a_n, b_xy + d_hi * b_n, b_xy + d_lo * b_n], 1)
        return np.concatenate([q, np.zeros((*q.shape[:2], 1))], axis=2)

    lo = (grid_xy[:-1], grid_n[:-1])
    hi = (grid_xy[1:], grid_n[1:])
    strip_index = np.round(s0 / STRIP_M).astype(np.int64)
    jitter = ((strip_index * 7919) % 9 - 4)[:, None]
    for d_lo, d_hi, color in _BANDS:
        polys.append(quads(lo, hi, d_lo, d_hi))
        colors.append(np.clip(np.array(color)[None, :] + jitter, 0, 255))
    for d, w, color in _SOLID_LINES:
        polys.append(quads(lo, hi, d - w / 2, d + w / 2))
        colors.append(np.tile(np.array(color), (s0.size, 1)))
    for d, w, color in _DASHED_LINES:
        polys.append(quads((dash0_xy, dash0_n), (dash1_xy, dash1_n), d - w / 2, d + w / 2))
        colors.append(np.tile(np.array(color), (dash_s.size, 1)))
    return np.concatenate(polys), np.concatenate(colors).astype(np.int64)


def _draw_ground(
    image: np.ndarray,
    camera: CameraModel,
    cam_r: FloatArray,
    cam_t: FloatArray,
    world: World,
    s_center: float,
) -> None:
    width, height = camera.width_px, camera.height_px
    base = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]) * 1000.0 + cam_t[:2]
    base_poly = np.concatenate([base, np.zeros((4, 1))], axis=1)[None]
    polys, colors = _ground_polygons(world, s_center)
    polys = np.concatenate([base_poly, polys])
    colors = np.concatenate([np.array([_BASE_GROUND_BGR]), colors])
    cam = (polys - cam_t) @ cam_r  # (Q, 4, 3) camera frame
    z = cam[..., 2]
    any_front = np.any(z >= GROUND_NEAR_PLANE_M, axis=1)
    all_front = np.all(z >= GROUND_NEAR_PLANE_M, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        uv_all = _project(camera.matrix, cam)
    for q in np.flatnonzero(any_front):
        if all_front[q]:
            uv = uv_all[q]
            if uv[:, 0].max() < 0 or uv[:, 0].min() > width or uv[:, 1].max() < 0 or uv[:, 1].min() > height:
                continue
        else:
            clipped, _ = clip_near(cam[q], GROUND_NEAR_PLANE_M)
            if clipped.shape[0] < 3:
                continue
            uv = _project(camera.matrix, clipped)
        color = (int(colors[q, 0]), int(colors[q, 1]), int(colors[q, 2]))
        cv2.fillConvexPoly(image, np.round(uv * 16.0).astype(np.int32), color, cv2.LINE_AA, 4)


def _box_faces(
    world: World, t_s: float, camera: CameraModel, cam_r: FloatArray, cam_t: FloatArray
) -> tuple[np.ndarray, FloatArray, np.ndarray, FloatArray, np.ndarray, np.ndarray]:
    """Visible, near-clipped, projected faces packed for the rasterizer."""
    parts = world.parts
    centers, yaws = world.part_poses(np.array([t_s]))
    centers, yaws = centers[0], yaws[0]
    if len(parts) == 0:
        empty = np.zeros((0, 3))
        return (
            np.zeros(1, np.int64),
            np.zeros((0, 2)),
            np.zeros(0, bool),
            empty,
            np.zeros((0, 3), np.uint8),
            np.zeros((0, 3), np.uint8),
        )
    c, s = np.cos(yaws), np.sin(yaws)
    rot = np.zeros((len(parts), 3, 3))
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
    local = _CORNER_SIGNS[None] * (parts.sizes_m[:, None, :] / 2)  # (P, 8, 3)
    corners = np.einsum("pij,pkj->pki", rot, local) + centers[:, None, :]
    corners_cam = (corners - cam_t) @ cam_r  # (P, 8, 3)
    dist = np.linalg.norm(centers - cam_t, axis=1)
    keep_part = (dist < MAX_BOX_DISTANCE_M) & np.any(corners_cam[..., 2] >= NEAR_PLANE_M, axis=1)

    normals = np.einsum("pij,fj->pfi", rot, _FACE_NORMALS)  # (P, 6, 3) global
    face_pts = corners[:, _FACES[:, 0], :]  # (P, 6, 3) a point on each face
    facing = np.einsum("pfi,pfi->pf", normals, cam_t[None, None, :] - face_pts) > 1e-9
    visible = facing & keep_part[:, None]
    p_idx, f_idx = np.nonzero(visible)
    verts_cam = corners_cam[p_idx[:, None], _FACES[f_idx]]  # (F, 4, 3)
    normals_cam = normals[p_idx, f_idx] @ cam_r  # (F, 3)
    k_plane = np.einsum("fi,fi->f", normals_cam, verts_cam[:, 0, :])
    k_inv = np.linalg.inv(camera.matrix)
    coeffs = (normals_cam @ k_inv) / k_plane[:, None]  # rows: (K^-T n) / k

    shade = 0.5 + 0.5 * np.clip(normals[p_idx, f_idx] @ SUN_DIRECTION, 0.0, 1.0)
    base = parts.colors_bgr[p_idx].astype(np.float64)
    fill = np.clip(base * shade[:, None], 0, 255)
    luminance = fill @ np.array([0.114, 0.587, 0.299])
    edge = np.where((luminance > 100.0)[:, None], fill * 0.25, np.clip(fill * 0.3 + 150.0, 0, 255))

    starts = [0]
    vertex_list: list[FloatArray] = []
    flag_list: list[np.ndarray] = []
    keep_face = np.zeros(p_idx.size, dtype=bool)
    all_front = np.all(verts_cam[..., 2] >= NEAR_PLANE_M, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        uv_all = _project(camera.matrix, verts_cam)
    for f in range(p_idx.size):
        if all_front[f]:
            uv = uv_all[f]
            flags = np.ones(4, dtype=bool)
        else:
            clipped, flags = clip_near(verts_cam[f], NEAR_PLANE_M)
            if clipped.shape[0] < 3:
                continue
            uv = _project(camera.matrix, clipped)
        if (
            uv[:, 0].max() < -1
            or uv[:, 0].min() > camera.width_px
            or uv[:, 1].max() < -1
            or uv[:, 1].min() > camera.height_px
        ):
            continue
        keep_face[f] = True
        vertex_list.append(uv)
        flag_list.append(flags)
        starts.append(starts[-1] + uv.shape[0])
    vertices = np.concatenate(vertex_list) if vertex_list else np.zeros((0, 2))
    flags_all = np.concatenate(flag_list) if flag_list else np.zeros(0, dtype=bool)
    return (
        np.array(starts, dtype=np.int64),
        np.ascontiguousarray(vertices, dtype=np.float64),
        flags_all,
        np.ascontiguousarray(coeffs[keep_face]),
        np.ascontiguousarray(np.round(fill[keep_face]).astype(np.uint8)),
        np.ascontiguousarray(np.round(edge[keep_face]).astype(np.uint8)),
    )


def render_image(world: World, camera: CameraModel, t_s: float) -> np.ndarray:
    """Render ``camera`` at world time ``t_s``; returns ``(H, W, 3)`` uint8 BGR."""
    global_from_cam = world.global_from_ego(t_s).compose(camera.ego_from_camera)
    cam_r, cam_t = global_from_cam.rotation, global_from_cam.translation
    horizon_v = camera.matrix[1, 2]
    image = _sky(camera.width_px, camera.height_px, horizon_v)
    s_center = float(world.ego.arc_length(np.array(t_s)))
    _draw_ground(image, camera, cam_r, cam_t, world, s_center)
    starts, vertices, flags, coeffs, fill, edge = _box_faces(world, t_s, camera, cam_r, cam_t)
    inv_depth = np.zeros((camera.height_px, camera.width_px))
    edge_px = max(1.0, 1.5 * camera.width_px / 1600.0)
    _raster_polygons(image, inv_depth, starts, vertices, flags, coeffs, fill, edge, edge_px)
    return image


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of a BGR image."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(buf.tobytes())
