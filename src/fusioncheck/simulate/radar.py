"""Radar scans (Continental ARS 408-like) and the nuScenes radar ``.pcd`` format.

Returns of an object: a Poisson number of rays (mean: the class's ``radar_returns`` + 0.3, scaled by
``min(1, 25 m / range)``, at most 12) is cast horizontally from the radar (the radar's x-y plane, so every
return has ``z = 0`` in the radar frame, as the ARS 408 measures no elevation) at random azimuths across
the object's angular extent; rays that hit the object itself (not an occluder) become returns. The
return lies on the visible surface, pushed into the object by a folded-normal depth (sigma 0.1 m, at most
0.3 m) because radar energy comes back from inside the body's outline, not only from its skin.

Velocities (``m/s``, radar frame, like the ARS 408's cluster output) are the **radial velocity as a
vector**: with ``u`` the unit line of sight from the radar to the return,

- ``vx, vy`` = ``((v_point - v_radar) . u) u`` -- raw, relative to the moving radar;
- ``vx_comp, vy_comp`` = ``(v_point . u) u`` -- ego-motion compensated (the radar's own velocity,
  including the rotation of the vehicle, removed).

``v_point`` is the velocity of the object's surface point (translation and yaw rate of the object).

Clutter (when enabled): returns from poles and buildings in view, and a few stationary false returns
in free space (never inside an object's box grown by 0.5 m, so they do not pollute any box's count).

Constant fields: ``is_quality_valid = 1``, ``ambig_state = 3`` (unambiguous), ``invalid_state = 0``
(valid), ``pdh0 = 1`` (false-alarm probability < 25 %), and the rms indices ``x_rms = y_rms = 5``,
``vx_rms = vy_rms = 5`` (placeholders; fusioncheck does not read them). ``dyn_prop``: 0 moving,
1 stationary, 2 oncoming. ``id``: index of the return in its scan.
"""

from __future__ import annotations

import numpy as np

from fusioncheck.geometry.se3 import SE3
from fusioncheck.simulate.raycast import azimuth_intervals, cast_rays
from fusioncheck.simulate.rig import RadarModel
from fusioncheck.simulate.taxonomy import CLASS_PRIORS
from fusioncheck.simulate.world import VELOCITY_DT_S, World, yaw_matrices
from fusioncheck.typing import FloatArray, IntArray

#: The nuScenes radar point layout (binary PCD v0.7), packed little-endian, 43 bytes per point.
RADAR_DTYPE = np.dtype(
    [
        ("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("dyn_prop", "i1"), ("id", "<i2"), ("rcs", "<f4"),
        ("vx", "<f4"), ("vy", "<f4"), ("vx_comp", "<f4"), ("vy_comp", "<f4"), ("is_quality_valid", "i1"),
        ("ambig_state", "i1"), ("x_rms", "i1"), ("y_rms", "i1"), ("invalid_state", "i1"), ("pdh0", "i1"),
        ("vx_rms", "i1"), ("vy_rms", "i1"),
    ]
)  # fmt: skip

DYN_MOVING, DYN_STATIONARY, DYN_ONCOMING = 0, 1, 2
_MOVING_MPS = 0.5
_MAX_DEPTH_M = 0.3
_STATIC_RETURNS = {True: 0.7, False: 2.0}  # pole, building: mean returns when in view
_FREE_CLUTTER_RETURNS = 2.0


def encode_pcd(records: np.ndarray) -> bytes:
    """Encode radar ``records`` (``RADAR_DTYPE``) as a binary PCD v0.7 file with nuScenes' header.

    Two details follow nuScenes' own files, which nuscenes-devkit's ``RadarPointCloud.from_file`` relies
    on: an empty scan is written as one point whose float fields are NaN (the devkit's "empty cloud"
    marker; readers must drop such rows), and the binary block is followed by one newline byte.
    """
    rec = np.ascontiguousarray(records, dtype=RADAR_DTYPE)
    if rec.size == 0:
        rec = np.zeros(1, dtype=RADAR_DTYPE)
        for name in RADAR_DTYPE.names or ():
            if RADAR_DTYPE[name].kind == "f":
                rec[name] = np.nan
    n = rec.size
    header = (
        "# .PCD v0.7 - Point Cloud Data file format\n"
        "VERSION 0.7\n"
        f"FIELDS {' '.join(RADAR_DTYPE.names or ())}\n"
        "SIZE 4 4 4 1 2 4 4 4 4 4 1 1 1 1 1 1 1 1\n"
        "TYPE F F F I I F F F F F I I I I I I I I\n"
        "COUNT 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n"
        f"WIDTH {n}\n"
        "HEIGHT 1\n"
        "VIEWPOINT 0 0 0 1 0 0 0\n"
        f"POINTS {n}\n"
        "DATA binary\n"
    )
    return header.encode("ascii") + rec.tobytes() + b"\n"


def decode_pcd(data: bytes) -> np.ndarray:
    """Parse a binary radar PCD written by :func:`encode_pcd`, dropping the empty-scan NaN marker."""
    marker = b"DATA binary\n"
    start = data.index(marker) + len(marker)
    width = int(data[: data.index(marker)].split(b"WIDTH ")[1].split(b"\n")[0])
    records = np.frombuffer(data[start : start + width * RADAR_DTYPE.itemsize], dtype=RADAR_DTYPE)
    return records[~np.isnan(records["x"])]


def _point_velocities(world: World, t_s: float, owners: IntArray, points: FloatArray) -> FloatArray:
    """Global velocities ``(N, 3)`` of surface points ``(N, 3)`` fixed to objects ``owners`` (-1: static)."""
    out = np.zeros_like(points)
    moving = owners >= 0
    if not np.any(moving):
        return out
    c, y = world.object_poses(np.array([t_s - VELOCITY_DT_S, t_s, t_s + VELOCITY_DT_S]))
    o = owners[moving]
    local = np.einsum("nji,nj->ni", yaw_matrices(y[1, o]), points[moving] - c[1, o])
    before = np.einsum("nij,nj->ni", yaw_matrices(y[0, o]), local) + c[0, o]
    after = np.einsum("nij,nj->ni", yaw_matrices(y[2, o]), local) + c[2, o]
    out[moving] = (after - before) / (2 * VELOCITY_DT_S)
    return out


def simulate_scan(
    world: World, radar: RadarModel, t_s: float, rng: np.random.Generator, clutter: bool
) -> tuple[np.ndarray, IntArray]:
    """Simulate one scan of ``radar`` at world time ``t_s``.

    Returns:
        records: ``(N,)`` ``RADAR_DTYPE`` in the radar frame.
        owners: ``(N,)`` int64 object of each return (-1 clutter).
    """
    pose = world.global_from_ego(t_s).compose(radar.ego_from_radar)
    origin = pose.translation
    parts = world.parts
    centers, yaws = world.part_poses(np.array([t_s]))
    obj_centers, _ = world.object_poses(np.array([t_s]))

    # Targets: objects, then static parts (poles, buildings) when clutter is on. Static part k has the
    # target code -1 - k.
    n_obj = len(world.objects)
    codes = [np.arange(n_obj, dtype=np.int64)]
    target_centers = [obj_centers[0]]
    radii = [0.5 * np.array([np.hypot(*o.size_lwh_m[:2]) for o in world.objects]).reshape(-1)]
    expected = [np.array([CLASS_PRIORS[o.kind].radar_returns + 0.3 for o in world.objects]).reshape(-1)]
    if clutter and len(world.static):
        codes.append(-1 - np.arange(len(world.static), dtype=np.int64))
        target_centers.append(world.static.centers_m)
        radii.append(0.5 * np.hypot(world.static.sizes_m[:, 0], world.static.sizes_m[:, 1]))
        expected.append(np.where(world.static.is_pole, _STATIC_RETURNS[True], _STATIC_RETURNS[False]))
    code = np.concatenate(codes)
    radius = np.concatenate(radii)
    local_c = pose.inverse().transform_points(np.concatenate(target_centers).reshape(-1, 3))
    range_c = np.hypot(local_c[:, 0], local_c[:, 1])
    az_c = np.arctan2(local_c[:, 1], local_c[:, 0])
    half = np.arcsin(np.clip(radius / np.maximum(range_c, 1e-9), 0.0, 1.0))
    near = np.maximum(range_c - radius, 0.0)
    seen = (range_c > radius) & (
        radar.in_view(az_c - half, near) | radar.in_view(az_c, near) | radar.in_view(az_c + half, near)
    )
    lam = np.concatenate(expected) * np.minimum(1.0, 25.0 / np.maximum(near, 1.0))
    counts = np.where(seen, np.minimum(rng.poisson(lam), 12), 0)
    target_of_ray = np.repeat(np.arange(code.size), counts)
    ray_az = az_c[target_of_ray] + half[target_of_ray] * rng.uniform(-1.0, 1.0, target_of_ray.size)
    ray_dirs = np.stack([np.cos(ray_az), np.sin(ray_az), np.zeros(ray_az.size)], 1)
    ray_target = code[target_of_ray]
    n_rays = ray_az.size
    records_list: list[np.ndarray] = []
    owners_list: list[IntArray] = []
    if n_rays:
        dirs_global = pose.rotate_vectors(ray_dirs)
        az_c, az_hw = azimuth_intervals(origin, centers[0], parts.sizes_m / 2, 0.05, radar.far_range_m + 5.0)
        ranges, hits, _ = cast_rays(
            np.repeat(origin[None], n_rays, 0), dirs_global, centers, yaws, parts.sizes_m / 2,
            radar.far_range_m + 5.0, None, az_c, az_hw,
        )  # fmt: skip
        target = ray_target
        hit_owner = parts.owner_of(hits, -2)
        n_obj_parts = parts.n_object_parts
        hit_static = np.where(hits >= n_obj_parts, -1 - (hits - n_obj_parts), -2)
        own = np.where(target >= 0, hit_owner == target, hit_static == target) & (hits >= 0)
        depth = np.minimum(np.abs(rng.normal(0.0, 0.1, n_rays)), _MAX_DEPTH_M)
        r = ranges + depth
        local_dirs = ray_dirs
        keep = own & radar.in_view(ray_az, r)
        idx = np.flatnonzero(keep)
        owners = np.where(target[idx] >= 0, target[idx], -1).astype(np.int64)
        pts_local = local_dirs[idx] * r[idx, None]
        pts_global = pose.transform_points(pts_local)
        rcs = np.array(
            [
                world.objects[o].rcs_dbsm if o >= 0 else world.static.rcs_dbsm[-1 - t]
                for o, t in zip(owners, target[idx], strict=True)
            ]
        )
        records_list.append(
            _make_records(
                world,
                radar.ego_from_radar,
                t_s,
                pts_local,
                pts_global,
                owners,
                rcs + rng.normal(0.0, 1.5, idx.size),
            )
        )
        owners_list.append(owners)
    if clutter:
        n_free = int(rng.poisson(_FREE_CLUTTER_RETURNS))
        az = rng.uniform(-radar.near_half_angle_rad, radar.near_half_angle_rad, n_free)
        rr = rng.uniform(5.0, radar.near_range_m, n_free)
        local = np.stack([rr * np.cos(az), rr * np.sin(az), np.zeros(n_free)], 1)
        glob = pose.transform_points(local)
        free = ~_inside_any_object(world, t_s, glob, margin_m=0.5)
        if np.any(free):
            owners = np.full(int(free.sum()), -1, dtype=np.int64)
            rcs = rng.normal(-5.0, 4.0, owners.size)
            records_list.append(
                _make_records(world, radar.ego_from_radar, t_s, local[free], glob[free], owners, rcs)
            )
            owners_list.append(owners)
    if not records_list:
        return np.zeros(0, dtype=RADAR_DTYPE), np.zeros(0, dtype=np.int64)
    records = np.concatenate(records_list)
    records["id"] = np.arange(records.size, dtype=np.int16)
    return records, np.concatenate(owners_list)


def _inside_any_object(world: World, t_s: float, points: FloatArray, margin_m: float) -> np.ndarray:
    inside = np.zeros(points.shape[0], dtype=bool)
    if not world.objects:
        return inside
    c, y = world.object_poses(np.array([t_s]))
    for m, obj in enumerate(world.objects):
        rel = points - c[0, m]
        cy, sy = np.cos(y[0, m]), np.sin(y[0, m])
        lx = cy * rel[:, 0] + sy * rel[:, 1]
        ly = -sy * rel[:, 0] + cy * rel[:, 1]
        half = obj.size_lwh_m / 2 + margin_m
        inside |= (np.abs(lx) <= half[0]) & (np.abs(ly) <= half[1]) & (np.abs(rel[:, 2]) <= half[2])
    return inside


def _make_records(
    world: World,
    ego_from_radar: SE3,
    t_s: float,
    pts_local: FloatArray,
    pts_global: FloatArray,
    owners: IntArray,
    rcs_dbsm: FloatArray,
) -> np.ndarray:
    """Radar records of returns at ``pts_local`` (radar frame) / ``pts_global`` on objects ``owners``."""
    pose = world.global_from_ego(t_s).compose(ego_from_radar)
    v_point = _point_velocities(world, t_s, owners, pts_global)
    # The radar's own velocity: its origin differenced over time (includes the ego's yaw rate).
    before = world.global_from_ego(t_s - VELOCITY_DT_S).compose(ego_from_radar).translation
    after = world.global_from_ego(t_s + VELOCITY_DT_S).compose(ego_from_radar).translation
    v_radar = (after - before) / (2 * VELOCITY_DT_S)
    dist = np.linalg.norm(pts_local, axis=1, keepdims=True)
    u_local = pts_local / np.maximum(dist, 1e-9)
    u_global = pose.rotate_vectors(u_local)
    v_r_comp = np.sum(v_point * u_global, axis=1)
    v_r_raw = np.sum((v_point - v_radar[None]) * u_global, axis=1)
    speed = np.linalg.norm(v_point, axis=1)
    dyn = np.where(
        speed > _MOVING_MPS, np.where(v_r_comp < -_MOVING_MPS, DYN_ONCOMING, DYN_MOVING), DYN_STATIONARY
    )
    rec = np.zeros(pts_local.shape[0], dtype=RADAR_DTYPE)
    rec["x"], rec["y"], rec["z"] = pts_local[:, 0], pts_local[:, 1], pts_local[:, 2]
    rec["dyn_prop"] = dyn
    rec["rcs"] = rcs_dbsm
    rec["vx"], rec["vy"] = v_r_raw * u_local[:, 0], v_r_raw * u_local[:, 1]
    rec["vx_comp"], rec["vy_comp"] = v_r_comp * u_local[:, 0], v_r_comp * u_local[:, 1]
    rec["is_quality_valid"] = 1
    rec["ambig_state"] = 3
    rec["x_rms"] = rec["y_rms"] = rec["vx_rms"] = rec["vy_rms"] = 5
    rec["invalid_state"] = 0
    rec["pdh0"] = 1
    return rec
