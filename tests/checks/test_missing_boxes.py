"""``unlabeled_object`` against the simulator's deleted boxes and against boxes deleted from real data."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fusioncheck.checks.base import Finding
from fusioncheck.checks.lidar_clusters import ClusterParameters, cluster_points
from fusioncheck.checks.missing_boxes import MissingBoxCheck
from fusioncheck.context import SequenceContext
from fusioncheck.geometry import quaternion
from fusioncheck.loaders.nuscenes import NuScenesSource
from fusioncheck.scene.boxes import BoxArrays
from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.faults import FaultSpec
from fusioncheck.simulate.simulation import simulate
from tests.checks.realdata_edit import copy_dataroot, delete_annotations


def run_check(root: Path) -> tuple[list[Finding], int, dict[str, Any]]:
    source = NuScenesSource(root)
    findings: list[Finding] = []
    boxes = 0
    stats: dict[str, Any] = {}
    for name in source.sequence_names():
        sequence = source.load_sequence(name)
        boxes += len(sequence.annotations)
        out = MissingBoxCheck().run(SequenceContext(source, sequence))
        findings.extend(out.findings)
        stats = out.statistics
    return findings, boxes, stats


def within(f: Finding, timestamp_us: int, center: Any, size_lw: Any, yaw: float, margin: float = 0.5) -> bool:
    if f.timestamp_us != timestamp_us or f.position_m is None:
        return False
    d = np.asarray(f.position_m[:2]) - np.asarray(center[:2])
    along = abs(d[0] * np.cos(yaw) + d[1] * np.sin(yaw))
    across = abs(-d[0] * np.sin(yaw) + d[1] * np.cos(yaw))
    return bool(along <= size_lw[0] / 2 + margin and across <= size_lw[1] / 2 + margin)


@pytest.fixture(scope="session")
def deleted_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("missing") / "deleted"
    config = replace(SimConfig.small(), vegetation=True)
    simulate(root, 1, 4, FaultSpec.from_dict({"delete": {"fraction": 0.1}}), config)
    return root


@pytest.fixture(scope="session")
def clean_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("missing") / "clean"
    simulate(root, 1, 3, FaultSpec(), replace(SimConfig.small(), vegetation=True))
    return root


def test_deleted_boxes_are_found_with_precision(deleted_log: Path) -> None:
    findings, _, stats = run_check(deleted_log)
    faults = json.loads((deleted_log / "faults.json").read_text())
    deleted = faults["deleted"]

    def on(f: Finding, d: dict[str, Any]) -> bool:
        return within(f, d["timestamp_us"], d["true_center_m"], d["true_size_lwh_m"], d["true_yaw_rad"])

    eligible = [d for d in deleted if d["num_lidar_pts"] >= 20]
    assert len(eligible) >= 5
    recall = np.mean([any(on(f, d) for f in findings) for d in eligible])
    precision = np.mean([any(on(f, d) for d in deleted) for f in findings])
    assert recall >= 0.8
    assert precision >= 0.6  # bushes and trees: the target is 0.5
    assert all(0.5 <= f.score <= 1.0 and f.check == "unlabeled_object" for f in findings)
    assert stats["labelled_clusters"] > 50 and stats["free_clusters"] > stats["candidates"]


def test_clean_log_with_clutter_raises_at_most_one_per_hundred_boxes(clean_log: Path) -> None:
    findings, boxes, stats = run_check(clean_log)
    # Clutter (poles, buildings, bushes, trees) makes free clusters; the learnt background keeps them out.
    assert stats["free_clusters"] > 200
    assert len(findings) <= boxes / 100


def test_a_lone_car_forms_one_cluster_of_its_shape() -> None:
    rng = np.random.default_rng(0)
    ground = np.c_[rng.uniform(-30, 30, (5000, 2)), rng.normal(0, 0.02, 5000)]
    car = rng.uniform([8, 3, 0.3], [12.5, 5, 1.6], (400, 3))
    clusters = cluster_points(
        np.concatenate([ground, car]),
        np.zeros(3),
        BoxArrays(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3, 3))),
        ClusterParameters(),
    )
    assert len(clusters) == 1
    assert clusters.points[0] >= 300  # a few of the lowest may join the ground
    length, width, top, bottom, intensity = clusters.shape[0]
    assert length == pytest.approx(4.5, abs=0.1) and width == pytest.approx(2.0, abs=0.1)
    assert top == pytest.approx(1.6, abs=0.1) and bottom == pytest.approx(0.3, abs=0.1)
    assert intensity == 0.0  # no intensity given


def test_overhang_does_not_join_or_raise_the_object_beneath() -> None:
    rng = np.random.default_rng(1)
    ground = np.c_[rng.uniform(-30, 30, (5000, 2)), rng.normal(0, 0.02, 5000)]
    car = rng.uniform([8, 3, 0.3], [12.5, 5, 1.6], (400, 3))
    canopy = rng.uniform([6, 1, 4.0], [15, 8, 6.0], (600, 3))  # a tree crown over the car and beyond
    pole = np.c_[rng.normal(-10, 0.05, (1000, 2)), rng.uniform(0.3, 7.0, 1000)]
    clusters = cluster_points(
        np.concatenate([ground, car, canopy, pole]),
        np.zeros(3),
        BoxArrays(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3, 3))),
        ClusterParameters(),
    )
    tops = sorted(np.round(clusters.shape[:, 2], 1))
    assert len(clusters) == 2
    assert tops[0] == pytest.approx(1.6, abs=0.1)  # the car, not lifted to the canopy
    assert tops[1] >= 6.5  # the pole keeps its full height (7 m above z = 0)


@pytest.mark.realdata
def test_real_boxes_deleted_from_pandaset_are_found(realdata: Path, tmp_path: Path) -> None:
    original = (realdata / "nuscenes" / "pandaset-public").resolve()
    if not original.is_dir():
        pytest.skip("pandaset-public excerpt absent")
    root = copy_dataroot(original, tmp_path / "pandaset")
    deleted = delete_annotations(root, fraction=0.1, min_points=20, seed=0)
    source = NuScenesSource(root)
    sequence = source.load_sequence(source.sequence_names()[0])
    stamps = {kf.token: kf.timestamp_us for kf in sequence.keyframes}
    findings = MissingBoxCheck().run(SequenceContext(source, sequence)).findings
    assert len(deleted) >= 30
    found = [
        any(
            within(
                f, stamps[d["sample_token"]], d["translation"], (d["size"][1], d["size"][0]),
                quaternion.yaw_of(np.asarray(d["rotation"])),
            )
            for f in findings
        )
        for d in deleted
    ]  # fmt: skip
    assert np.mean(found) >= 0.7
