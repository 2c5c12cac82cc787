"""compare: boxes jittered by known amounts give the right per-class mean errors; deleted boxes are found."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.compare import CompareSettings, compare_sources, match_boxes
from fusioncheck.geometry import quaternion
from fusioncheck.loaders import open_source
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "sample"
VERSION = "v1.0-fusioncheck-sim"

#: class -> (along-box shift m, across shift m, up shift m, length/width/height factors - 1, yaw deg): ranges.
JITTER = {
    "vehicle.car": {"along": (0.2, 0.4), "length": (0.05, 0.15), "yaw": (2.0, 6.0)},
    "human.pedestrian.adult": {"across": (0.05, 0.15), "height": (-0.10, -0.02)},
    "vehicle.truck": {"up": (0.1, 0.3), "width": (0.02, 0.08), "yaw": (-3.0, -1.0)},
}


def copy_dataroot(dst: Path, source: Path = SAMPLE, version: str = VERSION) -> dict[str, list]:
    dst.mkdir()
    for item in source.iterdir():
        if item.name == version:
            shutil.copytree(item, dst / version)
        else:
            (dst / item.name).symlink_to(item)
    return {p.stem: json.loads(p.read_text()) for p in (dst / version).glob("*.json")}


def save(dst: Path, tables: dict[str, list], version: str = VERSION) -> None:
    for name in ("sample_annotation", "instance"):
        (dst / version / f"{name}.json").write_text(json.dumps(tables[name]))


def category_of(tables: dict[str, list]) -> dict[str, str]:
    categories = {c["token"]: c["name"] for c in tables["category"]}
    instances = {i["token"]: categories[i["category_token"]] for i in tables["instance"]}
    return {a["token"]: instances[a["instance_token"]] for a in tables["sample_annotation"]}


def delete_track_ends(tables: dict[str, list], category: str, count: int) -> list[str]:
    """Delete the last box of ``count`` tracks of ``category`` (keeping every prev/next link valid)."""
    cats = category_of(tables)
    by_token = {a["token"]: a for a in tables["sample_annotation"]}
    deleted = []
    for instance in tables["instance"]:
        last = by_token[instance["last_annotation_token"]]
        if cats[last["token"]] != category or not last["prev"] or len(deleted) == count:
            continue
        by_token[last["prev"]]["next"] = ""
        instance["last_annotation_token"] = last["prev"]
        instance["nbr_annotations"] -= 1
        deleted.append(last["token"])
    tables["sample_annotation"] = [a for a in tables["sample_annotation"] if a["token"] not in deleted]
    assert len(deleted) == count
    return deleted


@pytest.fixture(scope="module")
def jittered(tmp_path_factory):
    return make_jittered(tmp_path_factory.mktemp("compare"), seed=7)


def make_jittered(base: Path, seed: int, source: Path = SAMPLE, version: str = VERSION):
    """A = the labels minus 2 pedestrian track ends; B = the labels jittered, minus 3 car track ends."""
    tables_a = copy_dataroot(base / "a", source, version)
    extra = delete_track_ends(tables_a, "human.pedestrian.adult", 2)
    save(base / "a", tables_a, version)

    tables_b = copy_dataroot(base / "b", source, version)
    missing = delete_track_ends(tables_b, "vehicle.car", 3)
    cats = category_of(tables_b)
    rng = np.random.default_rng(seed)
    applied: dict[str, list[dict[str, float]]] = {c: [] for c in JITTER}
    for ann in tables_b["sample_annotation"]:
        spec = JITTER.get(cats[ann["token"]])
        if spec is None:
            continue
        j = {k: float(rng.uniform(*r)) for k, r in spec.items()}
        yaw = float(quaternion.yaw_of(np.array([ann["rotation"]]))[0])
        c, s = math.cos(yaw), math.sin(yaw)
        along, across, up = j.get("along", 0.0), j.get("across", 0.0), j.get("up", 0.0)
        ann["translation"] = [
            ann["translation"][0] + c * along - s * across,
            ann["translation"][1] + s * along + c * across,
            ann["translation"][2] + up,
        ]
        w, length, h = ann["size"]  # nuScenes order: width, length, height
        ann["size"] = [
            w * (1 + j.get("width", 0.0)),
            length * (1 + j.get("length", 0.0)),
            h * (1 + j.get("height", 0.0)),
        ]
        new_yaw = yaw + math.radians(j.get("yaw", 0.0))
        ann["rotation"] = [float(v) for v in quaternion.from_yaw(new_yaw)]
        applied[cats[ann["token"]]].append({**j, "token": ann["token"]})
    save(base / "b", tables_b, version)
    return base / "a", base / "b", applied, missing, extra


def test_per_class_mean_errors_match_the_applied_jitter_within_5_percent(jittered):
    check_against_jitter(*jittered)


@pytest.mark.realdata
def test_real_labels_jittered(realdata, tmp_path):
    """PandaSet's real labels (851 cars, many parked side by side): the same guarantees."""
    root = realdata / "nuscenes" / "pandaset-public"
    if not root.is_dir():
        pytest.skip("pandaset-public not in the real data")
    check_against_jitter(
        *make_jittered(tmp_path, 3, root, "v1.0-fusioncheck"), untouched="vehicle.construction"
    )


def check_against_jitter(a, b, applied, missing, extra, untouched="movable_object.trafficcone"):
    result = compare_sources(open_source(a), open_source(b))
    for category, jitters in applied.items():
        stats = result["classes"][category]
        # The boxes of B whose partner was deleted from A are not matched: they do not count.
        jitters = [j for j in jitters if j["token"] not in extra]
        expected = {
            k: np.mean([j.get(k, 0.0) for j in jitters])
            for k in ("along", "across", "up", "length", "width", "height", "yaw")
        }
        got = {
            **stats["mean_center_offset_box_m"],
            **stats["mean_size_error_rel"],
            "yaw": stats["mean_yaw_error_deg"],
        }
        for key, want in expected.items():
            if want == 0.0:
                assert abs(got[key]) < 1e-5, (category, key, got[key])  # the report rounds to 1e-6
            else:
                assert got[key] == pytest.approx(want, rel=0.05), (category, key)
        assert stats["mean_iou"] < 0.999
    # Untouched classes agree exactly.
    cones = result["classes"][untouched]
    assert cones["matched_rate_a"] == cones["matched_rate_b"] == 1.0
    assert cones["mean_iou"] == pytest.approx(1.0) and cones["mean_center_error_m"] == pytest.approx(
        0.0, abs=1e-9
    )
    # Deleted boxes: exactly those are missing in B / extra in B.
    found = {f["check"]: set() for f in result["findings"]}
    for f in result["findings"]:
        found[f["check"]].add(f["annotation"])
    assert found["missing_box"] == set(missing)
    assert found["extra_box"] == set(extra)
    cars = result["classes"]["vehicle.car"]
    assert cars["boxes_a"] - cars["boxes_b"] == 3 and cars["matched"] == cars["boxes_b"]
    assert cars["matched_rate_a"] == pytest.approx(cars["boxes_b"] / cars["boxes_a"])


def test_disagreements_and_matching_rules():
    from fusioncheck.scene.boxes import BoxAnnotation

    def box(token, x, y, yaw=0.0, size=(4.0, 2.0, 1.5)):
        return BoxAnnotation(
            token,
            "i" + token,
            "vehicle.car",
            "k",
            0,
            np.array([x, y, 1.0]),
            np.array(size),
            quaternion.from_yaw(yaw),
        )

    # The Hungarian match prefers the globally best assignment over greedy nearest.
    a = [box("a0", 0.0, 0.0), box("a1", 3.0, 0.0)]
    b = [box("b0", 1.6, 0.0), box("b1", 4.5, 0.0)]
    pairs, only_a, only_b = match_boxes(a, b, CompareSettings())
    assert sorted((i, j) for i, j, _ in pairs) == [(0, 0), (1, 1)] and not only_a and not only_b
    # Small objects: no overlap, but centres 0.4 m apart still match; 3 m apart do not.
    pole = (0.3, 0.3, 1.0)
    pairs, _, _ = match_boxes([box("p", 0, 0, size=pole)], [box("q", 0.4, 0, size=pole)], CompareSettings())
    assert len(pairs) == 1 and pairs[0][2] == 0.0
    pairs, only_a, only_b = match_boxes(
        [box("p", 0, 0, size=pole)], [box("q", 3, 0, size=pole)], CompareSettings()
    )
    assert not pairs and only_a == [0] and only_b == [0]


def test_compare_cli_writes_compare_json(jittered, tmp_path, monkeypatch, capsys):
    from tests.test_cli import run_cli

    a, b, *_ = jittered
    code, out, _ = run_cli(monkeypatch, capsys, "compare", str(a), str(b), "--out", str(tmp_path))
    assert code == 0
    result = json.loads((tmp_path / "compare.json").read_text())
    assert result["format"] == "fusioncheck-compare"
    assert "vehicle.car" in out and "missing_box 3" in out
