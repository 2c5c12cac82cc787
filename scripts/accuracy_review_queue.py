"""Review queue on a simulated delivery whose rare class carries a large share of the faults.

Simulates SCENES small scenes (seeds 100..) with every vehicle.motorcycle box 30 % too short and every
vehicle.car box 8 % too short, runs the checks, builds the queue (default settings, size 60) and prints,
for each class: share of boxes, share of flagged objects, flagged objects queued (count and fraction).
Compared with a plain top-N-by-score queue of the same size.

    PYTHONPATH=src python scripts/accuracy_review_queue.py [SCENES] [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fusioncheck.loaders import open_source
from fusioncheck.policy import Policy
from fusioncheck.report.builder import InputRecord, build_report
from fusioncheck.report.review_queue import QueueSettings, build_queue, flagged_objects
from fusioncheck.runner import Task, run_tasks
from fusioncheck.simulate import FaultSpec, SimConfig, simulate

SCENES = int(sys.argv[1]) if len(sys.argv) > 1 else 6
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/fusioncheck-accuracy-queue")
RARE = "vehicle.motorcycle"
SIZES = (20, 60)

faults = FaultSpec.from_dict({"shrink": {RARE: {"length": -0.30}, "vehicle.car": {"length": -0.08}}})
if not (OUT / "faults.json").exists():
    simulate(OUT, SCENES, 100, faults, SimConfig.small())
source = open_source(OUT)
policy = Policy.default()
tasks = [Task(str(OUT), "auto", name) for name in source.sequence_names()]
results = run_tasks(tasks, policy, workers=2, progress=False)
report = build_report(results, [InputRecord(str(OUT), "nuscenes")], policy)

boxes = {c: v["annotations"] for c, v in report["classes"].items()}
objects = flagged_objects(report["findings"])
flagged: dict[str, int] = {}
for o in objects:
    flagged[o["finding"]["class"]] = flagged.get(o["finding"]["class"], 0) + 1
total_boxes, total_flagged = sum(boxes.values()), len(objects)
print(f"{SCENES} scenes, {total_boxes} boxes, {total_flagged} flagged objects")
for size in SIZES:
    queue = build_queue(report["findings"], QueueSettings(size=size))
    naive = objects[:size]  # flagged_objects is ordered by score
    print(f"\nqueue size {size} (got {len(queue)}); top-N = a plain queue of the {size} highest scores")
    print(f"{'class':<28} {'boxes %':>8} {'flagged %':>10} {'queued':>7} {'of flagged':>11} {'top-N':>6}")
    for c in sorted(boxes):
        k = flagged.get(c, 0)
        q = sum(1 for i in queue if i["finding"]["class"] == c)
        n = sum(1 for i in naive if i["finding"]["class"] == c)
        share = f"{q / k:.1%}" if k else "-"
        fractions = f"{boxes[c] / total_boxes:>8.1%} {k / max(total_flagged, 1):>10.1%}"
        print(f"{c:<28} {fractions} {q:>7} {share:>11} {n:>6}")
