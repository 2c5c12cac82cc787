"""Unit quaternions in scalar-first order ``(w, x, y, z)`` (nuScenes and pyquaternion order).

All functions accept a single quaternion ``(4,)`` or a stack ``(N, 4)`` where noted. Rotation matrices
are ``(3, 3)`` (or ``(N, 3, 3)``) and rotate column vectors: ``v_parent = R @ v_child``.
"""

from __future__ import annotations

import numpy as np

from fusioncheck.typing import FloatArray

#: Largest accepted deviation of a quaternion's norm from 1 before it counts as malformed input.
UNIT_NORM_TOLERANCE = 1e-3


def is_unit(quat_wxyz: FloatArray, tolerance: float = UNIT_NORM_TOLERANCE) -> bool:
    """Tell whether every quaternion in ``quat_wxyz`` (``(4,)`` or ``(N, 4)``) is finite and of unit norm."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    if not np.all(np.isfinite(q)):
        return False
    return bool(np.all(np.abs(np.linalg.norm(q, axis=-1) - 1.0) <= tolerance))


def normalize(quat_wxyz: FloatArray) -> FloatArray:
    """Quaternion(s) scaled to unit norm, ``(4,)`` or ``(N, 4)``."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def to_matrix(quat_wxyz: FloatArray) -> FloatArray:
    """Rotation matrix of unit quaternion(s): ``(4,) -> (3, 3)`` or ``(N, 4) -> (N, 3, 3)``."""
    q = normalize(quat_wxyz)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.empty((*q.shape[:-1], 3, 3), dtype=np.float64)
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - w * z)
    m[..., 0, 2] = 2 * (x * z + w * y)
    m[..., 1, 0] = 2 * (x * y + w * z)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - w * x)
    m[..., 2, 0] = 2 * (x * z - w * y)
    m[..., 2, 1] = 2 * (y * z + w * x)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def from_matrix(rotation: FloatArray) -> FloatArray:
    """Return the unit quaternion ``(4,)``, ``w >= 0``, of a ``(3, 3)`` rotation matrix (Shepperd)."""
    r = np.asarray(rotation, dtype=np.float64)
    trace = r[0, 0] + r[1, 1] + r[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = np.array([0.25 * s, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s])
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = 2.0 * np.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2])
        q = np.array([(r[2, 1] - r[1, 2]) / s, 0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s])
    elif r[1, 1] > r[2, 2]:
        s = 2.0 * np.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2])
        q = np.array([(r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s])
    else:
        s = 2.0 * np.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1])
        q = np.array([(r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s])
    q = normalize(q)
    return -q if q[0] < 0 else q


def multiply(a_wxyz: FloatArray, b_wxyz: FloatArray) -> FloatArray:
    """Hamilton product ``a * b`` (rotation ``b`` first, then ``a``), ``(4,)`` or ``(N, 4)``."""
    a = np.asarray(a_wxyz, dtype=np.float64)
    b = np.asarray(b_wxyz, dtype=np.float64)
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def slerp(q0_wxyz: FloatArray, q1_wxyz: FloatArray, fraction: float | FloatArray) -> FloatArray:
    """Spherical linear interpolation from ``q0`` (fraction 0) to ``q1`` (fraction 1) on the short arc.

    ``q0``/``q1`` are ``(4,)`` or ``(N, 4)``; ``fraction`` a scalar or ``(N,)``. Returns unit quaternions.
    """
    q0 = normalize(q0_wxyz)
    q1 = normalize(q1_wxyz)
    t = np.asarray(fraction, dtype=np.float64)
    dot = np.sum(q0 * q1, axis=-1)
    q1 = np.where((dot < 0)[..., None], -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    small = sin_theta < 1e-9
    safe = np.where(small, 1.0, sin_theta)
    w0 = np.where(small, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    w1 = np.where(small, t, np.sin(t * theta) / safe)
    return normalize(w0[..., None] * q0 + w1[..., None] * q1)


def yaw_of(quat_wxyz: FloatArray) -> FloatArray:
    """Heading (rotation about z, radians, counter-clockwise from x) of quaternion(s) ``(4,)``/``(N, 4)``.

    Taken from the rotated x axis projected onto the ground plane, as nuScenes' ``quaternion_yaw``.
    """
    m = to_matrix(quat_wxyz)
    return np.asarray(np.arctan2(m[..., 1, 0], m[..., 0, 0]))


def from_yaw(yaw_rad: float | FloatArray) -> FloatArray:
    """Quaternion(s) of a pure rotation by ``yaw_rad`` about z: scalar -> ``(4,)``, ``(N,)`` -> ``(N, 4)``."""
    yaw = np.asarray(yaw_rad, dtype=np.float64)
    half = yaw / 2.0
    zeros = np.zeros_like(half)
    return np.stack([np.cos(half), zeros, zeros, np.sin(half)], axis=-1)


def angle_between(a_wxyz: FloatArray, b_wxyz: FloatArray) -> FloatArray:
    """Rotation angle (radians, 0..pi) that takes orientation ``a`` to orientation ``b``."""
    a = normalize(a_wxyz)
    b = normalize(b_wxyz)
    dot = np.abs(np.sum(a * b, axis=-1))
    return np.asarray(2.0 * np.arccos(np.clip(dot, -1.0, 1.0)))
