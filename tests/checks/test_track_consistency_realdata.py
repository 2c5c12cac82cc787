"""duplicate_box on real data: PandaSet labels objects seen by both its LiDARs twice ("sibling" boxes).

The excerpt's ``fusioncheck_source.json`` lists each box's PandaSet uuid and sibling uuid; every flagged
pair must be such a sibling pair (no other box of PandaSet overlaps), and most sibling pairs overlap by
more than 0.5 IoU (siblings are drawn separately, so some differ more).
"""

from __future__ import annotations

import json

import pytest

from fusioncheck.policy import Policy
from fusioncheck.report.builder import build_report
from fusioncheck.runner import plan, run_tasks


def test_pandaset_sibling_boxes_are_the_duplicates_found(realdata):
    root = realdata / "nuscenes" / "pandaset-public"
    if not root.is_dir():
        pytest.skip("pandaset-public excerpt absent")
    source = json.loads((root / "fusioncheck_source.json").read_text())["annotations"]
    token_of = {(a["frame"], a["uuid"]): token for token, a in source.items()}
    siblings = {
        frozenset((token, token_of[(a["frame"], a["sibling_id"])]))
        for token, a in source.items()
        if (a["frame"], a["sibling_id"]) in token_of and token_of[(a["frame"], a["sibling_id"])] != token
    }
    policy = Policy({"track_consistency": {}})
    tasks, inputs = plan([str(root)], "auto")
    report = build_report(run_tasks(tasks, policy, progress=False), inputs, policy)
    found = {
        frozenset((f["annotation"], f["values"]["other_annotation"]))
        for f in report["findings"]
        if f["check"] == "duplicate_box"
    }
    assert len(siblings) >= 200
    assert found <= siblings  # precision 1 (measured: 209 of 209)
    assert len(found) / len(siblings) >= 0.85  # measured: 209 of 235
