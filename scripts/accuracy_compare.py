"""compare: per-class mean errors measured against known jitter, over several seeds.

For each seed: A = the bundled sample minus 2 pedestrian track ends, B = the sample with every car, adult
pedestrian and truck box jittered by random known amounts (tests/test_compare.py's JITTER) minus 3 car
track ends. Prints, per class and quantity, the worst relative error of the measured mean over the seeds,
and the missing/extra counts found vs made.

    PYTHONPATH=src:. python scripts/accuracy_compare.py [SEEDS]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from tests import test_compare as tc

from fusioncheck.compare import compare_sources
from fusioncheck.loaders import open_source

SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
KEYS = ("along", "across", "up", "length", "width", "height", "yaw")
worst: dict[tuple[str, str], float] = {}
found_ok = 0
for seed in range(SEEDS):
    with tempfile.TemporaryDirectory() as tmp:
        a, b, applied, missing, extra = tc.make_jittered(Path(tmp), seed=1000 + seed)
        result = compare_sources(open_source(a), open_source(b))
        for category, jitters in applied.items():
            jitters = [j for j in jitters if j["token"] not in extra]
            stats = result["classes"][category]
            got = {
                **stats["mean_center_offset_box_m"],
                **stats["mean_size_error_rel"],
                "yaw": stats["mean_yaw_error_deg"],
            }
            for key in KEYS:
                want = float(np.mean([j.get(key, 0.0) for j in jitters]))
                err = abs(got[key] - want) / abs(want) if want else abs(got[key])
                worst[(category, key)] = max(worst.get((category, key), 0.0), err)
        made = {("missing_box", t) for t in missing} | {("extra_box", t) for t in extra}
        seen = {(f["check"], f["annotation"]) for f in result["findings"] if f["check"] != "box_disagreement"}
        found_ok += made == seen
print(f"{SEEDS} seeds; missing/extra boxes found exactly in {found_ok}/{SEEDS}")
print("worst relative error of the mean over the seeds (absolute, in m or deg, where nothing was applied)")
print(f"{'class':<24} " + " ".join(f"{k:>8}" for k in KEYS))
for category in tc.JITTER:
    print(f"{category:<24} " + " ".join(f"{worst[(category, k)]:>8.2%}" for k in KEYS))
