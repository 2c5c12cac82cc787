"""Accuracy of the track-consistency check against the simulator's label faults.

Per seed: one simulated log with single-frame size jitter (magnitude >= 8 %), duplicated boxes and
heading flips, and one clean log. Reports recall per fault (size_jitter -> size_inconsistent_track,
duplicate -> duplicate_box, heading_flip -> track_jump) and false alarms per 100 tracks on the clean
logs and on the faulty logs (findings on boxes no fault touched, per 100 tracks of the log).

    python scripts/accuracy_track_consistency.py --seeds 10 --out /tmp/track_accuracy
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from fusioncheck.policy import Policy
from fusioncheck.report.builder import build_report
from fusioncheck.runner import plan, run_tasks
from fusioncheck.simulate import FaultSpec, SimConfig, simulate
from fusioncheck.simulate.faults import JitterSpec

CHECKS = ("size_inconsistent_track", "track_jump", "duplicate_box")
EXPECTED = {
    "size_jitter": "size_inconsistent_track",
    "duplicate": "duplicate_box",
    "heading_flip": "track_jump",
}


def run(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    policy = Policy({"track_consistency": {}})
    tasks, inputs = plan([str(root)], "auto")
    report = build_report(run_tasks(tasks, policy, progress=False), inputs, policy)
    return report, json.loads((root / "faults.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=300)
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--magnitude", type=float, default=0.08)
    parser.add_argument("--out", type=Path, default=Path("/tmp/track_accuracy"))
    args = parser.parse_args()
    spec = FaultSpec(size_jitter=JitterSpec(0.1, args.magnitude), duplicate=5, heading_flip=3)
    found = {k: 0 for k in EXPECTED}
    total = {k: 0 for k in EXPECTED}
    false_clean = tracks_clean = false_faulty = tracks_faulty = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for kind, faults in (("faulty", spec), ("clean", None)):
            root = args.out / f"{kind}-{seed}"
            if root.exists():
                shutil.rmtree(root)
            simulate(root, scenes=args.scenes, seed=seed, faults=faults, config=SimConfig.small())
            report, truth = run(root)
            findings = [f for f in report["findings"] if f["check"] in CHECKS]
            tracks = {a["instance_token"] for a in truth["annotations"].values()}
            records = truth.get("label_faults", [])
            touched = {r["annotation_token"] for r in records} | {r.get("duplicate_of") for r in records}
            false = [f for f in findings if f["annotation"] not in touched]
            if kind == "clean":
                false_clean += len(false)
                tracks_clean += len(tracks)
            else:
                false_faulty += len(false)
                tracks_faulty += len(
                    {a["instance_token"] for t, a in truth["annotations"].items() if t not in touched}
                )
                flagged: dict[str, set[str]] = {}
                for f in findings:
                    flagged.setdefault(f["check"], set()).add(f["annotation"])
                for r in records:
                    total[r["fault"]] += 1
                    found[r["fault"]] += r["annotation_token"] in flagged.get(EXPECTED[r["fault"]], set())
            shutil.rmtree(root)
        print(f"seed {seed} done", flush=True)
    print(f"\n{args.seeds} seeds x {args.scenes} small scenes, jitter magnitude {args.magnitude:.0%}")
    for kind, check in EXPECTED.items():
        rate = found[kind] / max(total[kind], 1)
        print(f"{kind:>12} -> {check:<24} recall {found[kind]}/{total[kind]} = {rate:.3f}")
    print(
        f"false alarms: clean logs {false_clean} on {tracks_clean} tracks "
        f"({100 * false_clean / max(tracks_clean, 1):.2f} per 100 tracks); faulty logs, untouched boxes: "
        f"{false_faulty} on {tracks_faulty} ({100 * false_faulty / max(tracks_faulty, 1):.2f} per 100)"
    )


if __name__ == "__main__":
    main()
