"""Calibration validation on real KITTI frames: clean status, and detection of injected rotation errors.

For every frame of ``../shared/realdata/kitti`` (each its own sequence with its own calibration), the
camera's stated extrinsic is rotated by ``E`` about one camera axis (roll/pitch/yaw, +-0.5 and +-1 deg;
``stated = true @ E``) and ``camera_calibration`` is run. Reported: the clean status per frame, the
fraction flagged ``suspect`` per error size, and the error of the estimated correction against the truth
(``correction = E^-1``, about ``-E``) on the perturbed axis.

Usage: ``python scripts/accuracy_camera_calibration_kitti.py [KITTI_ROOT]``
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from fusioncheck.checks.calibration_search import correction_transform
from fusioncheck.checks.camera_calibration import CameraCalibrationCheck
from fusioncheck.context import SequenceContext
from fusioncheck.loaders import open_source
from fusioncheck.scene.sequence import Sequence

AXES = ("roll", "pitch", "yaw")


def perturbed(sequence: Sequence, camera: str, rpy_deg: np.ndarray) -> Sequence:
    """The sequence with ``camera``'s stated extrinsic rotated by ``rpy_deg`` in the camera frame."""
    sensor = sequence.sensors[camera]
    error = correction_transform(rpy_deg, np.zeros(3))
    sensors = dict(sequence.sensors)
    sensors[camera] = dataclasses.replace(sensor, ego_from_sensor=sensor.ego_from_sensor @ error)
    return dataclasses.replace(sequence, sensors=sensors)


def main() -> int:
    root = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "kitti"
    )
    source = open_source(root, format="kitti")
    check = CameraCalibrationCheck()
    clean: list[str] = []
    results: dict[float, list[tuple[bool, float, int]]] = {0.5: [], 1.0: []}
    start = time.perf_counter()
    for name in source.sequence_names():
        sequence = source.load_sequence(name)
        row = check.run(SequenceContext(source, sequence)).sections["calibration"][0]
        clean.append(row["status"])
        print(
            f"{name} clean: {row['status']} correction {row['correction']} "
            f"z={row.get('gain_z')} prom={row.get('prominence')}"
        )
        for magnitude in results:
            for axis in range(3):
                for sign in (-1.0, 1.0):
                    rpy = np.zeros(3)
                    rpy[axis] = sign * magnitude
                    context = SequenceContext(source, perturbed(sequence, "CAM_2", rpy))
                    row = check.run(context).sections["calibration"][0]
                    estimate = (row["correction"] or {}).get("rotation_deg", [np.nan] * 3)
                    error = abs(estimate[axis] - (-rpy[axis]))
                    results[magnitude].append((row["status"] == "suspect", error, axis))
                    print(
                        f"   {AXES[axis]} {sign * magnitude:+.1f}: {row['status']:>13} "
                        f"est {np.round(estimate, 2)} err {error:.2f} "
                        f"z={row.get('gain_z')} prom={row.get('prominence')}"
                    )
    print(f"\nclean frames ok: {clean.count('ok')}/{len(clean)} ({', '.join(clean)})")
    for magnitude, rows in results.items():
        flagged = np.array([r[0] for r in rows])
        errors = np.array([r[1] for r in rows])
        print(
            f"{magnitude:.1f} deg: flagged {flagged.mean():.0%} ({flagged.sum()}/{flagged.size}); "
            f"|estimate - truth| <= 0.2 deg: {np.mean(errors <= 0.2):.0%}; "
            f"median error {np.median(errors):.2f} deg"
        )
        for axis, name in enumerate(AXES):
            sel = np.array([r[2] == axis for r in rows])
            within = np.sum(errors[sel] <= 0.2)
            print(f"    {name}: flagged {flagged[sel].sum()}/{sel.sum()}, within 0.2 deg {within}")
    print(f"wall time {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
