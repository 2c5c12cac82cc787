"""projection_mismatch on simulated logs: recall of boxes shifted 0.5 m sideways, false alarms on the rest.

Each seed simulates one small scene with true nuImages-style 2D boxes (``object_ann.json``) and 20 % of
the 3D boxes moved 0.5 m to their left (``shift`` fault). ``camera_projection`` runs on it. Recall counts
shifted boxes that were judged (paired with a 2D box in some camera) at 15-25 m from the ego vehicle
(and, separately, at any range); false alarms count flagged boxes among the judged unshifted ones.

Usage: ``python scripts/accuracy_camera_projection_sim.py [SEEDS]`` (default 5).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fusioncheck.checks.camera_projection import CameraProjectionCheck
from fusioncheck.context import SequenceContext
from fusioncheck.loaders import open_source
from fusioncheck.simulate import SimConfig, simulate
from fusioncheck.simulate.faults import FaultSpec


def main() -> int:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    spec = FaultSpec.from_dict({"shift": {"fraction": 0.2, "lateral_m": 0.5}})
    start = time.perf_counter()
    counts = {"near": [0, 0], "all": [0, 0], "clean": [0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            out = Path(tmp) / f"s{seed}"
            simulate(out, scenes=1, seed=200 + seed, faults=spec, config=SimConfig.small(), image_boxes=True)
            truth = json.loads((out / "faults.json").read_text())["annotations"]
            source = open_source(out)
            for name in source.sequence_names():
                sequence = source.load_sequence(name)
                output = CameraProjectionCheck().run(SequenceContext(source, sequence))
                flagged = {f.annotation for f in output.findings}
                judged = {
                    r["annotation"] for r in output.sections.get("visibility", []) if r["iou"] is not None
                }
                ego = {
                    kf.token: kf.samples["LIDAR_TOP"].global_from_ego.translation for kf in sequence.keyframes
                }
                for token in judged:
                    t = truth[token]
                    hit = token in flagged
                    if t.get("lateral_shift_m"):
                        counts["all"][0] += hit
                        counts["all"][1] += 1
                        distance = float(
                            np.linalg.norm(np.array(t["true_center_m"][:2]) - ego[t["sample_token"]][:2])
                        )
                        if 15.0 <= distance <= 25.0:
                            counts["near"][0] += hit
                            counts["near"][1] += 1
                    else:
                        counts["clean"][0] += hit
                        counts["clean"][1] += 1
    for key, label in (("near", "shifted 0.5 m, 15-25 m away"), ("all", "shifted 0.5 m, any range")):
        found, total = counts[key]
        print(f"recall ({label}): {found}/{total} = {found / max(total, 1):.0%}")
    alarms, clean = counts["clean"]
    print(f"false alarms on unshifted boxes: {alarms}/{clean} = {alarms / max(clean, 1):.1%}")
    print(f"wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
