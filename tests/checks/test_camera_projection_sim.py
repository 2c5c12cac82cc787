"""camera_projection against a simulated log with true 2D boxes and labels shifted 0.5 m sideways."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fusioncheck.checks.camera_projection import CameraProjectionCheck
from fusioncheck.context import SequenceContext
from fusioncheck.errors import InputError
from fusioncheck.loaders import open_source
from fusioncheck.loaders.object_ann import read_object_ann
from fusioncheck.simulate import SimConfig, simulate
from fusioncheck.simulate.faults import FaultSpec


@pytest.fixture(scope="module")
def shifted_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("proj") / "sim"
    spec = FaultSpec.from_dict({"shift": {"fraction": 0.2, "lateral_m": 0.5}})
    simulate(out, scenes=1, seed=200, faults=spec, config=SimConfig.small(), image_boxes=True)
    return out


def test_shifted_boxes_are_found_and_clean_ones_are_not(shifted_log: Path) -> None:
    truth = json.loads((shifted_log / "faults.json").read_text())["annotations"]
    source = open_source(shifted_log)
    (name,) = source.sequence_names()
    sequence = source.load_sequence(name)
    output = CameraProjectionCheck().run(SequenceContext(source, sequence))
    judged = {r["annotation"] for r in output.sections["visibility"] if r["iou"] is not None}
    flagged = {f.annotation for f in output.findings}
    shifted = {t for t in judged if truth[t].get("lateral_shift_m")}
    clean = judged - shifted
    assert len(shifted) >= 15 and len(clean) >= 80
    assert len(flagged & shifted) / len(shifted) >= 0.8
    assert len(flagged & clean) <= 1
    # Every simulated 2D box is linked to its 3D box through the instance token.
    sample = sequence.keyframes[0].samples["CAM_FRONT"]
    boxes = source.image_boxes(sample)
    assert boxes and all(b.annotation is not None for b in boxes)


def test_object_ann_errors_name_the_record(shifted_log: Path, tmp_path: Path) -> None:
    source = open_source(shifted_log)
    records = json.loads((source.table_folder / "object_ann.json").read_text())  # type: ignore[attr-defined]
    records[3]["bbox"] = [10, 10, 5, 20]
    bad = tmp_path / "object_ann.json"
    bad.write_text(json.dumps(records))
    with pytest.raises(InputError, match=rf"record {records[3]['token']}: bbox must be finite"):
        read_object_ann(bad, source._tables)  # type: ignore[attr-defined]
    assert read_object_ann(tmp_path / "missing.json", source._tables) == {}  # type: ignore[attr-defined]
