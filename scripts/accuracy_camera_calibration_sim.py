"""Calibration validation on simulated logs: detection of injected camera rotations, false alarms.

For each rotation size (0.25, 0.5, 1, 2 deg) and seed, one 20 s simulated scene (full-size images, 40
keyframes, keyframe files only) is written with six
faulted cameras: CAM_FRONT / CAM_BACK rotated about roll, CAM_FRONT_LEFT / CAM_BACK_LEFT about pitch,
CAM_FRONT_RIGHT / CAM_BACK_RIGHT about yaw (front cameras +, back cameras -). ``camera_calibration`` runs
on it; a camera counts as detected when it is ``suspect``, and its estimate is compared with the truth
(correction = E^-1, about -E, on the faulted axis). Clean scenes (no fault) give the false-alarm rate.

Usage: ``python scripts/accuracy_camera_calibration_sim.py [SEEDS]`` (default 2 seeds).
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fusioncheck.checks.camera_calibration import CameraCalibrationCheck
from fusioncheck.context import SequenceContext
from fusioncheck.loaders import open_source
from fusioncheck.simulate import SimConfig, simulate
from fusioncheck.simulate.faults import FaultSpec

MAGNITUDES = (0.25, 0.5, 1.0, 2.0)
CONFIG = dataclasses.replace(SimConfig(), write_sweeps=False, write_radar_sweeps=False)
AXIS_OF = {"CAM_FRONT": 0, "CAM_BACK": 0, "CAM_FRONT_LEFT": 1, "CAM_BACK_LEFT": 1, "CAM_FRONT_RIGHT": 2,
           "CAM_BACK_RIGHT": 2}  # fmt: skip


def faulted_spec(magnitude: float) -> FaultSpec:
    faults = {}
    for camera, axis in AXIS_OF.items():
        rpy = [0.0, 0.0, 0.0]
        rpy[axis] = magnitude if camera.startswith("CAM_FRONT") else -magnitude
        faults[camera] = {"rotation_deg": rpy}
    return FaultSpec.from_dict({"camera_calibration": faults})


def rows_of(root: Path) -> list[dict]:
    source = open_source(root)
    rows = []
    for name in source.sequence_names():
        output = CameraCalibrationCheck().run(SequenceContext(source, source.load_sequence(name)))
        rows.extend(output.sections["calibration"])
    return rows


def main() -> int:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        clean_rows = []
        for seed in range(seeds):
            out = Path(tmp) / f"clean-{seed}"
            simulate(out, scenes=1, seed=100 + seed, faults=FaultSpec(), config=CONFIG)
            clean_rows += rows_of(out)
        judged = [r for r in clean_rows if r["status"] != "not_estimable"]
        alarms = sum(r["status"] == "suspect" for r in judged)
        print(f"clean cameras: {alarms}/{len(judged)} suspect (false alarms), "
              f"{len(clean_rows) - len(judged)} not estimable")  # fmt: skip
        for magnitude in MAGNITUDES:
            found, total, errors, per_axis = 0, 0, [], {0: [0, 0], 1: [0, 0], 2: [0, 0]}
            for seed in range(seeds):
                out = Path(tmp) / f"m{magnitude}-{seed}"
                spec = faulted_spec(magnitude)
                simulate(out, scenes=1, seed=100 + seed, faults=spec, config=CONFIG)
                for row in rows_of(out):
                    if row["status"] == "not_estimable":
                        continue
                    axis = AXIS_OF[row["sensor"]]
                    truth = -spec.camera_calibration[row["sensor"]].rotation_deg[axis]
                    total += 1
                    per_axis[axis][1] += 1
                    if row["status"] == "suspect":
                        found += 1
                        per_axis[axis][0] += 1
                    errors.append(abs(row["correction"]["rotation_deg"][axis] - truth))
            e = np.array(errors)
            axes = ", ".join(
                f"{n} {per_axis[a][0]}/{per_axis[a][1]}" for a, n in enumerate(("roll", "pitch", "yaw"))
            )
            rate = found / max(total, 1)
            print(f"{magnitude:4.2f} deg: detected {found}/{total} ({rate:.0%}; {axes}); "
                  f"within 0.2 deg: {np.mean(e <= 0.2):.0%}, median err {np.median(e):.2f}")  # fmt: skip
    print(f"wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
