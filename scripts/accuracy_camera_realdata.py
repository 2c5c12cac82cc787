"""Camera checks on every real excerpt: calibration status per camera, and KITTI 2D/3D agreement.

Runs ``camera_calibration`` on every sequence of ``../shared/realdata/nuscenes/*`` and
``../shared/realdata/kitti`` (all published calibrations: expected ``ok``), and ``camera_projection`` on
KITTI (projected 3D boxes vs the human ``label_2`` 2D boxes: IoU distribution, mismatches).

Usage: ``python scripts/accuracy_camera_realdata.py [REALDATA_ROOT]``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from fusioncheck.checks.camera_calibration import CameraCalibrationCheck
from fusioncheck.checks.camera_projection import CameraProjectionCheck
from fusioncheck.context import SequenceContext
from fusioncheck.loaders import open_source


def main() -> int:
    default = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    start = time.perf_counter()
    statuses: dict[str, int] = {}
    for dataroot in [*sorted((root / "nuscenes").glob("*")), root / "kitti"]:
        source = open_source(dataroot)
        for name in source.sequence_names():
            output = CameraCalibrationCheck().run(SequenceContext(source, source.load_sequence(name)))
            for row in output.sections.get("calibration", []):
                statuses[row["status"]] = statuses.get(row["status"], 0) + 1
                rot = (row["correction"] or {}).get("rotation_deg")
                print(f"{dataroot.name}/{name} {row['sensor']}: {row['status']} correction {rot} "
                      f"prominence {row.get('prominence')} points {row['points']} "
                      f"{row['reason'] or ''}")  # fmt: skip
    print(f"calibration statuses: {statuses}")
    source = open_source(root / "kitti")
    ious, findings = [], 0
    for name in source.sequence_names():
        output = CameraProjectionCheck().run(SequenceContext(source, source.load_sequence(name)))
        findings += len(output.findings)
        ious += [r["iou"] for r in output.sections.get("visibility", []) if r["iou"] is not None]
    print(f"KITTI projected vs 2D boxes: {len(ious)} pairs, median IoU {np.median(ious):.3f}, "
          f"min {np.min(ious):.3f}, projection_mismatch findings {findings}")  # fmt: skip
    print(f"wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
