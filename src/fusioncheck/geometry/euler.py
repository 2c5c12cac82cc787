"""Euler angles <-> rotation matrices, for formats that store rotations as angle triples (OpenLABEL).

A sequence such as ``"ZYX"`` with angles ``(a0, a1, a2)`` means ``R = R_Z(a0) @ R_Y(a1) @ R_X(a2)``:
the rotation of a child frame's axes within its parent, composed left to right (intrinsic rotations:
first about Z, then about the new Y, then about the newest X). With ``"ZYX"`` the angles are yaw, pitch,
roll. This is ASAM OpenLABEL's reading (and the VCD library's ``euler2R``). Angles in radians.
"""

from __future__ import annotations

import numpy as np

from fusioncheck.typing import FloatArray

#: The axis letters a sequence may use.
AXES = "XYZ"


def axis_rotation(axis: str, angle_rad: float) -> FloatArray:
    """Rotation ``(3, 3)`` by ``angle_rad`` about ``axis`` (``"X"``, ``"Y"`` or ``"Z"``), right-handed."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    if axis == "X":
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    if axis == "Y":
        return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    if axis == "Z":
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    raise ValueError(f"axis must be X, Y or Z, got {axis!r}")


def is_valid_sequence(sequence: str) -> bool:
    """Tell whether ``sequence`` is three axis letters with no axis twice in a row (``"ZYX"``, ``"ZXZ"``)."""
    return (
        len(sequence) == 3
        and all(a in AXES for a in sequence)
        and sequence[0] != sequence[1]
        and sequence[1] != sequence[2]
    )


def euler_to_matrix(angles_rad: FloatArray, sequence: str = "ZYX") -> FloatArray:
    """Rotation ``(3, 3)`` of angles ``(3,)`` applied in ``sequence`` order (see the module docstring).

    Raises:
        ValueError: ``sequence`` is not a valid three-axis sequence or ``angles_rad`` is not 3 values.
    """
    if not is_valid_sequence(sequence):
        raise ValueError(
            f"Euler sequence must be 3 axes from X, Y, Z without repeats in a row, got {sequence!r}"
        )
    a = np.asarray(angles_rad, dtype=np.float64).reshape(-1)
    if a.size != 3:
        raise ValueError(f"expected 3 Euler angles, got {a.size}")
    return (
        axis_rotation(sequence[0], a[0]) @ axis_rotation(sequence[1], a[1]) @ axis_rotation(sequence[2], a[2])
    )


def matrix_to_euler_zyx(rotation: FloatArray) -> FloatArray:
    """Angles ``(yaw, pitch, roll)`` (radians) with ``R = R_Z(yaw) @ R_Y(pitch) @ R_X(roll)``.

    Pitch lies in ``[-pi/2, pi/2]``; at gimbal lock (pitch = +-pi/2) roll is set to 0.
    """
    r = np.asarray(rotation, dtype=np.float64)
    pitch = float(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0)))
    if abs(r[2, 0]) < 1.0 - 1e-12:
        yaw = float(np.arctan2(r[1, 0], r[0, 0]))
        roll = float(np.arctan2(r[2, 1], r[2, 2]))
    else:
        yaw = float(np.arctan2(-r[0, 1], r[1, 1]))
        roll = 0.0
    return np.array([yaw, pitch, roll])
