"""The command line on the formats of issue 8: AV2 and OpenLABEL through `run`, bad OpenLABEL -> exit 3."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from fusioncheck.cli import EXIT_OK, EXIT_UNREADABLE, main
from fusioncheck.report.builder import validate_report


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["fusioncheck", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.realdata
def test_run_on_av2_with_auto_detection(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, realdata: Path
) -> None:
    pytest.importorskip("pyarrow")
    root = realdata / "av2"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    code, out, _ = run_cli(monkeypatch, capsys, "run", str(root), "--out", str(tmp_path))
    assert code == EXIT_OK
    assert "1 sequence(s), 156 keyframes, 11364 boxes" in out
    report = json.loads((tmp_path / "report.json").read_text())
    validate_report(report)
    assert report["inputs"][0]["format"] == "av2"
    assert report["sequences"][0]["annotations"] == 11364
    assert "vehicle.car" in report["classes"]


def test_invalid_openlabel_exits_3_naming_the_json_path(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    document = {"openlabel": {"metadata": {"schema_version": "0.9"}, "frames": {"0": {}}}}
    (tmp_path / "bad.json").write_text(json.dumps(document), encoding="utf-8")
    code, _, _ = run_cli(monkeypatch, capsys, "run", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o"))
    assert code == EXIT_UNREADABLE
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["inputs"][0]["format"] == "openlabel"
    (sequence,) = report["sequences"]
    assert "$.openlabel.metadata.schema_version: '0.9' is not one of ['1.0.0']" in sequence["error"]
