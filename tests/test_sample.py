"""The bundled sample: it is exactly what the simulator writes, and the README's numbers hold on it."""

from __future__ import annotations

import filecmp
import json
import math

import pytest

from fusioncheck.accuracy import false_alarms, recall
from fusioncheck.policy import Policy
from fusioncheck.report.builder import build_report
from fusioncheck.runner import plan, run_tasks
from fusioncheck.simulate import SimConfig, load_fault_spec, simulate
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "sample"


def _all_files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_sample_is_what_make_sample_writes(tmp_path):
    """data/sample holds only data the project generates: regenerating it gives the same bytes."""
    out = tmp_path / "sample"
    spec = load_fault_spec(REPO_ROOT / "scripts" / "sample_faults.json")
    simulate(out, scenes=2, seed=2026, faults=spec, config=SimConfig.small())
    assert _all_files(out) == _all_files(SAMPLE)
    _, mismatch, errors = filecmp.cmpfiles(out, SAMPLE, [str(p) for p in _all_files(SAMPLE)], shallow=False)
    assert not mismatch and not errors


@pytest.fixture(scope="module")
def sample_report():
    tasks, inputs = plan([str(SAMPLE)], "auto")
    results = run_tasks(tasks, Policy.default(), progress=False)
    return build_report(results, inputs, Policy.default()), json.loads((SAMPLE / "faults.json").read_text())


def test_sample_numbers_quoted_in_the_readme(sample_report):
    report, faults = sample_report
    assert [s["error"] for s in report["sequences"]] == [None, None]
    ann = faults["annotations"]
    shrunk = {t for s in faults["shrink"] for t in s["annotation_tokens"]}
    r = recall(report, faults, "undersized_box", shrunk, lambda t: ann[t]["num_object_lidar_pts"] >= 30)
    assert (r.found, r.eligible) == (27, 27)
    ghosts = {g["annotation_token"]: g for g in faults["ghosts"]}
    g = recall(
        report,
        faults,
        "empty_box",
        set(ghosts),
        lambda t: ghosts[t]["lidar_beams_crossing"] >= 8 and ghosts[t]["visible_fraction"] >= 0.5,
    )
    assert (g.found, g.eligible) == (4, 5)
    assert false_alarms(report, faults) == (2, 293)
    # The missing-box check re-finds 4 of the 19 deleted boxes and flags nothing else.
    unlabeled = [f for f in report["findings"] if f["check"] == "unlabeled_object"]
    assert len(faults["deleted"]) == 19 and len(unlabeled) == 4
    for f in unlabeled:  # each finding sits on a deleted box of its keyframe
        near = [
            d
            for d in faults["deleted"]
            if d["timestamp_us"] == f["timestamp_us"]
            and math.dist(d["true_center_m"][:2], f["position_m"][:2]) < 1.5
        ]
        assert near, f
    # The newer checks' false alarms on this fault-free calibration and radar, as the README states.
    checks = ("calibration_suspect", "radar_velocity_mismatch")
    by_check = {c: sum(f["check"] == c for f in report["findings"]) for c in checks}
    assert by_check == {"calibration_suspect": 1, "radar_velocity_mismatch": 1}
