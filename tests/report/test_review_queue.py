"""The review queue: stratified sample, per-class minimum, rare classes not starved, ordering, CSV."""

from __future__ import annotations

import csv
import json

import numpy as np

from fusioncheck.report.review_queue import (
    QueueSettings,
    build_queue,
    flagged_objects,
    range_band,
    write_review_queue,
)


def delivery_findings(seed: int = 0) -> tuple[list[dict], int]:
    """A delivery of 5000 boxes: a rare class holds 1 % of the boxes (50) and 20 % of the faults.

    200 flagged objects: 160 in the common classes with high scores (large objects, many points), 40 of the
    rare class with lower scores (small, few points): a plain top-N queue never reaches them.
    """
    rng = np.random.default_rng(seed)
    findings = []
    classes = ["vehicle.car"] * 100 + ["human.pedestrian.adult"] * 40 + ["movable_object.trafficcone"] * 20
    for i, category in enumerate(classes):
        findings.append(
            finding(category, f"c{i}", float(rng.uniform(0.8, 1.0)), float(rng.uniform(3, 70)), rng)
        )
    for i in range(40):
        findings.append(
            finding(
                "vehicle.motorcycle", f"m{i}", float(rng.uniform(0.3, 0.7)), float(rng.uniform(3, 70)), rng
            )
        )
    # A second finding on some objects: still one object each.
    findings.append({**findings[0], "check": "box_height_offset", "score": 0.5})
    return findings, 40


def finding(category: str, token: str, score: float, range_m: float, rng) -> dict:
    check = str(rng.choice(["undersized_box", "empty_box", "oversized_box"]))
    return {
        "check": check,
        "severity": "warning",
        "sequence": f"seq-{rng.integers(0, 20)}",
        "annotation": token,
        "instance": "i" + token,
        "sensor": "LIDAR_TOP",
        "timestamp_us": int(rng.integers(0, 10**6)),
        "class": category,
        "score": round(score, 4),
        "position_m": [1.0, 2.0, 0.5],
        "message": "m",
        "values": {"range_m": round(range_m, 2)},
    }


def test_rare_class_gets_at_least_ten_percent_of_its_flagged_objects():
    findings, rare_flagged = delivery_findings()
    size = 30
    queue = build_queue(findings, QueueSettings(size=size))
    rare = [q for q in queue if q["finding"]["class"] == "vehicle.motorcycle"]
    assert len(rare) / rare_flagged >= 0.10
    assert len(rare) == 5  # max(5, ceil(10 % of 40)) = 5
    # A plain top-N by score would have starved it completely.
    naive = sorted(flagged_objects(findings), key=lambda o: -o["finding"]["score"])[:size]
    assert not [o for o in naive if o["finding"]["class"] == "vehicle.motorcycle"]
    # Every class gets its minimum; the queue is the asked size; ordered by score.
    counts = {}
    for q in queue:
        counts[q["finding"]["class"]] = counts.get(q["finding"]["class"], 0) + 1
    assert counts["vehicle.car"] >= 10 and counts["human.pedestrian.adult"] >= 5
    assert counts["movable_object.trafficcone"] >= 5
    assert len(queue) == size
    scores = [q["finding"]["score"] for q in queue]
    assert scores == sorted(scores, reverse=True)


def test_minimum_is_spread_over_strata_and_objects_are_deduplicated():
    findings, _ = delivery_findings(seed=3)
    queue = build_queue(findings, QueueSettings(size=0, min_fraction=0.1, min_count=5))
    rare = [q for q in queue if q["finding"]["class"] == "vehicle.motorcycle"]
    strata = {(range_band(q["range_m"]), q["finding"]["check"]) for q in rare}
    assert len(strata) == 5  # 5 picks, 12 strata available: no stratum twice before all have one
    assert len({(q["finding"]["sequence"], q["finding"]["annotation"]) for q in queue}) == len(queue)
    # Minimums exceed size 0: they win; car's minimum is ceil(10 % of 100) = 10.
    assert sum(q["finding"]["class"] == "vehicle.car" for q in queue) == 10
    assert len(flagged_objects(findings)) == 200
    c0 = next(o for o in flagged_objects(findings) if o["finding"]["annotation"] == "c0")
    assert c0["other_checks"] == ["box_height_offset"] or c0["finding"]["check"] == "box_height_offset"


def test_range_bands():
    assert [range_band(r) for r in (None, 0.0, 19.99, 20.0, 45.0, 60.0, 200.0)] == [
        "unknown",
        "0-20 m",
        "0-20 m",
        "20-40 m",
        "40-60 m",
        ">=60 m",
        ">=60 m",
    ]


def test_csv_rows_link_plots_and_skip_stream_findings(tmp_path):
    findings, _ = delivery_findings()
    findings.append({**findings[1], "class": None, "annotation": None, "check": "sync_offset", "score": 1.0})
    plot = tmp_path / "plots" / "seq-1" / "undersized_box_bev.png"
    report = {
        "findings": findings,
        "sequences": [{"name": f"seq-{i}", "plots": [str(plot)] if i == 1 else []} for i in range(20)],
    }
    path = write_review_queue(report, tmp_path, QueueSettings(size=25))
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 25 and [int(r["rank"]) for r in rows] == list(range(1, 26))
    assert all(r["check"] != "sync_offset" for r in rows)
    linked = [r for r in rows if r["sequence"] == "seq-1"]
    assert all(r["plot"] == "plots/seq-1/undersized_box_bev.png" for r in linked)
    assert all(r["plot"] == "" for r in rows if r["sequence"] != "seq-1")
    json.dumps(rows)
