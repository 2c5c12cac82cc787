"""Accuracy of the missing-box and radar checks over many simulated seeds (the issue-6 numbers).

For each seed three small one-scene logs are simulated (with clutter: poles, buildings, and bushes and
trees unless ``--no-vegetation``):
deleted single boxes (10 %), deleted whole tracks (10 %), and a clean log (with radar faults when
``--radar`` is given the first two also carry heading flips / zeroed velocities). Then:

- ``unlabeled_object``: recall on deleted boxes with >= 20 LiDAR points (a finding of score >= 0.5 at the
  box's keyframe within its footprint + 0.5 m), precision among all findings of score >= 0.5 (a finding
  is true when it lies on any deleted box), false findings per 100 boxes on the clean logs.
- ``radar_velocity_mismatch``: recall on the boxes whose radar fault was injected on a moving object
  (faults.json ``radar_faults[]``), false findings per 100 boxes on the clean logs.
- ``radar_unlabeled_object``: recall on deleted moving boxes with radar returns, false findings per 100
  boxes on the clean logs.

Usage: ``python scripts/accuracy_missing.py [--seeds 10] [--first 1] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.checks.base import Finding
from fusioncheck.loaders.nuscenes import NuScenesSource
from fusioncheck.pipeline import check_sequence
from fusioncheck.policy import Policy
from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.faults import FaultSpec
from fusioncheck.simulate.simulation import simulate

CHECKS = ("unlabeled_object", "radar_velocity_mismatch", "radar_unlabeled_object", "empty_box")


def run_log(root: Path) -> tuple[list[Finding], int, dict[str, Any], dict[str, Any]]:
    """Findings of every sequence of ``root``, the number of boxes, faults.json, and side facts.

    Side facts: ``support`` (annotation token -> radar_support row), ``origin`` (keyframe timestamp ->
    LiDAR x-y in the global frame), ``statistics`` (per sequence).
    """
    source = NuScenesSource(str(root))
    policy = Policy.default()
    findings: list[Finding] = []
    boxes = 0
    side: dict[str, Any] = {"support": {}, "origin": {}, "statistics": []}
    for name in source.sequence_names():
        result = check_sequence(source, name, policy)
        if result.error:
            raise RuntimeError(result.error)
        findings.extend(result.findings)
        boxes += result.annotations
        side["support"].update({r["annotation"]: r for r in result.sections.get("radar_support", [])})
        side["statistics"].append(result.statistics)
        sequence = source.load_sequence(name)
        for kf in sequence.keyframes:
            sample = kf.samples["LIDAR_TOP"]
            sensor = sequence.sensors["LIDAR_TOP"]
            side["origin"][kf.timestamp_us] = sample.global_from_ego.compose(
                sensor.ego_from_sensor
            ).translation[:2]
    faults = json.loads((root / "faults.json").read_text())
    for d in faults["deleted"]:
        d["moving"] = bool(np.linalg.norm(d["velocity_mps"][:2]) > 0.5)
        d["range_m"] = float(
            np.hypot(*(np.asarray(d["true_center_m"][:2]) - side["origin"][d["timestamp_us"]]))
        )
    return findings, boxes, faults, side


def on_box(f: Finding, record: dict[str, Any], margin_m: float = 0.5) -> bool:
    """True when finding ``f`` lies at ``record``'s keyframe within its true footprint + ``margin_m``."""
    if f.position_m is None or f.timestamp_us != record["timestamp_us"]:
        return False
    d = np.asarray(f.position_m[:2]) - np.asarray(record["true_center_m"][:2])
    yaw = record["true_yaw_rad"]
    along = abs(d[0] * np.cos(yaw) + d[1] * np.sin(yaw))
    across = abs(-d[0] * np.sin(yaw) + d[1] * np.cos(yaw))
    length, width = record["true_size_lwh_m"][:2]
    return bool(along <= length / 2 + margin_m and across <= width / 2 + margin_m)


def score_deleted(findings: list[Finding], faults: dict[str, Any]) -> dict[str, Any]:
    """Recall / precision of ``unlabeled_object`` against ``faults['deleted']``."""
    found = [f for f in findings if f.check == "unlabeled_object" and f.score >= 0.5]
    deleted = faults["deleted"]
    hit = [any(on_box(f, d) for f in found) for d in deleted]
    true = [any(on_box(f, d) for d in deleted) for f in found]
    eligible = [h for h, d in zip(hit, deleted, strict=True) if d["num_lidar_pts"] >= 20]
    groups: dict[str, list[int]] = {}
    for h, d in zip(hit, deleted, strict=True):
        if d["num_lidar_pts"] < 20:
            continue
        key = f"{'moving' if d['moving'] else 'static'}_{'near' if d['range_m'] < 25 else 'far'}"
        groups.setdefault(key, [0, 0])
        groups[key][0] += int(h)
        groups[key][1] += 1
    return {
        "groups_20pts": groups,
        "deleted": len(deleted),
        "deleted_20pts": len(eligible),
        "found_20pts": int(sum(eligible)),
        "findings": len(found),
        "true_findings": int(sum(true)),
        "missed": [
            {k: d.get(k) for k in ("class", "num_lidar_pts", "unit", "moving", "range_m")}
            for h, d in zip(hit, deleted, strict=True)
            if not h and d["num_lidar_pts"] >= 20
        ],
    }


def score_radar(findings: list[Finding], faults: dict[str, Any], support: dict[str, Any]) -> dict[str, Any]:
    """Recall of ``radar_velocity_mismatch`` on radar-faulted moving boxes, ``radar_unlabeled_object``
    on moving objects whose whole track was deleted and that the radar saw at that keyframe.

    A faulted box counts as *seen* when the radar associated >= 3 returns from >= 2 scans with it (the
    check's own evaluability rule); recall is given over seen boxes and over all faulted moving boxes.
    """
    mismatch = {f.annotation for f in findings if f.check == "radar_velocity_mismatch" and f.score >= 0.5}
    faulted = [r for r in faults.get("radar_faults", []) if r.get("moving")]
    seen = [
        r for r in faulted
        if support.get(r["annotation_token"], {}).get("returns", 0) >= 3
        and support.get(r["annotation_token"], {}).get("scans", 0) >= 2
    ]  # fmt: skip
    radar_only = [f for f in findings if f.check == "radar_unlabeled_object" and f.score >= 0.5]
    moving_deleted = [
        d for d in faults["deleted"] if d["moving"] and d["num_radar_pts"] >= 1 and not d["instance_kept"]
    ]
    hit = [any(_near(f, d, 2.5) for f in radar_only) for d in moving_deleted]
    true_radar_only = [any(_near(f, d, 2.5) for d in faults["deleted"]) for f in radar_only]
    return {
        "radar_faulted_moving": len(faulted),
        "radar_faults_found": sum(r["annotation_token"] in mismatch for r in faulted),
        "radar_faulted_seen": len(seen),
        "radar_faults_seen_found": sum(r["annotation_token"] in mismatch for r in seen),
        "mismatch_findings": len(mismatch),
        "mismatch_true": sum(1 for r in faults.get("radar_faults", []) if r["annotation_token"] in mismatch),
        "moving_deleted_with_radar": len(moving_deleted),
        "radar_only_found": int(sum(hit)),
        "radar_only_findings": len(radar_only),
        "radar_only_true": int(sum(true_radar_only)),
    }


def _near(f: Finding, record: dict[str, Any], margin_m: float) -> bool:
    """True when ``f`` lies within ``margin_m`` of the deleted box around ``f``'s time (it moves)."""
    if f.position_m is None or f.timestamp_us is None:
        return False
    dt = 1e-6 * (f.timestamp_us - record["timestamp_us"])
    if abs(dt) > 1.0:
        return False
    center = np.asarray(record["true_center_m"][:2]) + dt * np.asarray(record["velocity_mps"][:2])
    reach = record["true_size_lwh_m"][0] / 2 + margin_m
    return bool(np.hypot(*(np.asarray(f.position_m[:2]) - center)) <= reach)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--radar", action="store_true", help="inject radar faults in the faulty logs")
    parser.add_argument("--no-vegetation", action="store_true", help="clutter without bushes and trees")
    args = parser.parse_args()
    config = replace(SimConfig.small(), vegetation=not args.no_vegetation)
    radar = {"radar": {"fraction": 0.3}} if args.radar else {}
    specs = {
        "delete_box": FaultSpec.from_dict({"delete": {"fraction": 0.1}, **radar}),
        "delete_track": FaultSpec.from_dict({"delete": {"fraction": 0.1, "unit": "track"}, **radar}),
        "clean": FaultSpec(),
    }
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first, args.first + args.seeds):
            for kind, spec in specs.items():
                root = Path(tmp) / f"{kind}-{seed}"
                simulate(root, 1, seed, spec, config)
                findings, boxes, faults, side = run_log(root)
                row: dict[str, Any] = {"seed": seed, "kind": kind, "boxes": boxes}
                radar_stats = [s.get("radar_agreement", {}) for s in side["statistics"]]
                row["radar_association_rate"] = [s.get("association_rate") for s in radar_stats]
                row["per_check"] = {c: sum(f.check == c and f.score >= 0.5 for f in findings) for c in CHECKS}
                if kind != "clean":
                    row |= score_deleted(findings, faults)
                    row |= score_radar(findings, faults, side["support"])
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "missed"}), flush=True)
    faulty = [r for r in rows if r["kind"] != "clean"]
    clean = [r for r in rows if r["kind"] == "clean"]
    clean_boxes = sum(r["boxes"] for r in clean)
    summary = {
        "seeds": args.seeds,
        "unlabeled_recall_20pts": sum(r["found_20pts"] for r in faulty)
        / max(1, sum(r["deleted_20pts"] for r in faulty)),
        "unlabeled_precision": sum(r["true_findings"] for r in faulty)
        / max(1, sum(r["findings"] for r in faulty)),
        "radar_fault_recall_all_moving": sum(r["radar_faults_found"] for r in faulty)
        / max(1, sum(r["radar_faulted_moving"] for r in faulty)),
        "radar_fault_recall_seen": sum(r["radar_faults_seen_found"] for r in faulty)
        / max(1, sum(r["radar_faulted_seen"] for r in faulty)),
        "radar_mismatch_precision": sum(r["mismatch_true"] for r in faulty)
        / max(1, sum(r["mismatch_findings"] for r in faulty)),
        "unlabeled_groups_20pts": {
            g: [sum(r["groups_20pts"].get(g, [0, 0])[i] for r in faulty) for i in (0, 1)]
            for g in ("moving_near", "moving_far", "static_near", "static_far")
        },
        "radar_only_recall": sum(r["radar_only_found"] for r in faulty)
        / max(1, sum(r["moving_deleted_with_radar"] for r in faulty)),
        "radar_only_precision": sum(r["radar_only_true"] for r in faulty)
        / max(1, sum(r["radar_only_findings"] for r in faulty)),
        "clean_boxes": clean_boxes,
        "clean_false_per_100_boxes": {
            c: round(100 * sum(r["per_check"][c] for r in clean) / max(1, clean_boxes), 3) for c in CHECKS
        },
        "missed": [m | {"seed": r["seed"], "kind": r["kind"]} for r in faulty for m in r["missed"]],
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
