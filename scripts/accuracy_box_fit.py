"""Box-fit accuracy over several simulator seeds: the vertical slice's numbers.

For each seed it simulates two 4-scene logs (small rig): a clean one, and one with cars shrunk by 15 % in
length plus 8 ghost boxes per scene; it checks both with the default policy and scores the reports
against ``faults.json``:

- clean log: box-fit findings per 100 boxes (target <= 1);
- shrunk log: ``undersized_box`` recall on shrunk cars with >= 30 object points (target >= 0.9), and
  box-fit findings per 100 untouched boxes (other classes stay at the clean rate);
- ghosts: ``empty_box`` recall on ghosts that >= 8 beams crossed with >= half of the box in sight.

Usage: ``python scripts/accuracy_box_fit.py --seeds 11 12 13 [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from fusioncheck.accuracy import BOX_FIT_CHECKS, false_alarms, recall
from fusioncheck.policy import Policy
from fusioncheck.report.builder import build_report
from fusioncheck.runner import plan, run_tasks
from fusioncheck.simulate import FaultSpec, SimConfig, simulate


def _check(out: Path, seed: int, faults: FaultSpec | None) -> tuple[dict[str, Any], dict[str, Any]]:
    simulate(out, scenes=4, seed=seed, faults=faults, config=SimConfig.small())
    tasks, inputs = plan([str(out)], "auto")
    report = build_report(run_tasks(tasks, Policy.default(), progress=False), inputs, Policy.default())
    return report, json.loads((out / "faults.json").read_text())


def score_seed(seed: int, work: Path) -> dict[str, Any]:
    """Simulate, check and score the clean and the faulted log of one seed."""
    clean_report, clean_faults = _check(work / f"clean{seed}", seed, None)
    n_clean_findings, n_clean_boxes = false_alarms(clean_report, clean_faults)
    spec = FaultSpec(shrink={"vehicle.car": {"length": -0.15}}, ghost=8)
    report, faults = _check(work / f"shrunk{seed}", seed, spec)
    ann = faults["annotations"]
    shrunk = {t for s in faults["shrink"] for t in s["annotation_tokens"]}
    shrink = recall(report, faults, "undersized_box", shrunk, lambda t: ann[t]["num_object_lidar_pts"] >= 30)
    ghosts = {g["annotation_token"]: g for g in faults["ghosts"]}
    ghost = recall(
        report,
        faults,
        "empty_box",
        set(ghosts),
        lambda t: ghosts[t]["lidar_beams_crossing"] >= 8 and ghosts[t]["visible_fraction"] >= 0.5,
    )
    n_other, n_untouched = false_alarms(report, faults, BOX_FIT_CHECKS)
    return {
        "seed": seed,
        "clean_findings": n_clean_findings,
        "clean_boxes": n_clean_boxes,
        "shrink_found": shrink.found,
        "shrink_eligible": shrink.eligible,
        "untouched_findings": n_other,
        "untouched_boxes": n_untouched,
        "ghost_found": ghost.found,
        "ghost_eligible": ghost.eligible,
    }


def main() -> None:
    """Parse arguments, score every seed, print per-seed rows and the totals."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--json", type=Path, help="also write the rows and totals as JSON")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            row = score_seed(seed, Path(tmp))
            rows.append(row)
            print(json.dumps(row))
    total = {k: sum(r[k] for r in rows) for k in rows[0] if k != "seed"}
    summary = {
        "seeds": args.seeds,
        "clean_findings_per_100_boxes": 100 * total["clean_findings"] / total["clean_boxes"],
        "undersized_recall": total["shrink_found"] / max(total["shrink_eligible"], 1),
        "untouched_findings_per_100_boxes": 100 * total["untouched_findings"] / total["untouched_boxes"],
        "empty_box_recall": total["ghost_found"] / max(total["ghost_eligible"], 1),
        "totals": total,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
