"""The command line: exit codes, report.json against its schema, the summary."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from fusioncheck.cli import EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE, main
from fusioncheck.report.builder import validate_report


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["fusioncheck", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.realdata
def test_run_on_real_dataroot_writes_valid_report(monkeypatch, capsys, tmp_path, nuscenes_dataroots):
    root = next(r for r in nuscenes_dataroots if r.name == "mmdet3d-nuscenes")
    code, out, _ = run_cli(monkeypatch, capsys, "run", str(root), "--out", str(tmp_path))
    assert code == EXIT_OK
    report = json.loads((tmp_path / "report.json").read_text())
    validate_report(report)
    assert report["verdict"] == "not_gated"
    assert report["sequences"][0]["annotations"] == 68
    assert sum(c["annotations"] for c in report["classes"].values()) == 68
    assert "verdict: not_gated" in out
    assert "1 sequence(s), 1 keyframes, 68 boxes" in out
    # Every box is either evaluated for emptiness or out of range; rates are fractions.
    for cls in report["classes"].values():
        assert all(0.0 <= r <= 1.0 for r in cls["rates"].values())


@pytest.mark.realdata
def test_unreadable_sequence_is_recorded_and_exit_3(monkeypatch, capsys, tmp_path, nuscenes_dataroots):
    src = next(r for r in nuscenes_dataroots if r.name == "mmdet3d-nuscenes")
    root = tmp_path / "broken"
    root.mkdir()
    shutil.copytree(src / "v1.0-fusioncheck", root / "v1.0-fusioncheck")
    (root / "samples").mkdir()
    for channel in (src / "samples").iterdir():
        if channel.name != "LIDAR_TOP":  # the LiDAR file is missing
            (root / "samples" / channel.name).symlink_to(channel)
    out_dir = tmp_path / "out"
    code, _, _ = run_cli(monkeypatch, capsys, "run", str(root), "--out", str(out_dir))
    assert code == EXIT_UNREADABLE
    report = json.loads((out_dir / "report.json").read_text())
    validate_report(report)
    error = report["sequences"][0]["error"]
    assert "LIDAR_TOP" in error and ".pcd.bin" in error


def test_missing_input_exits_3_and_names_it(monkeypatch, capsys, tmp_path):
    code, out, _ = run_cli(
        monkeypatch, capsys, "run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")
    )
    assert code == EXIT_UNREADABLE
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert "nowhere" in report["inputs"][0]["error"]
    assert "nowhere" in out


def test_bad_policy_exits_2_naming_the_key(monkeypatch, capsys, tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text("[checks.box_fit]\nbogus = 1\n")
    code, _, err = run_cli(monkeypatch, capsys, "run", str(tmp_path), "--policy", str(policy))
    assert code == EXIT_USAGE
    assert "checks.box_fit.bogus" in err


def test_usage_error_exits_2(monkeypatch, capsys):
    code, _, _ = run_cli(monkeypatch, capsys, "run")
    assert code == EXIT_USAGE


def test_version(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "--version")
    assert code == EXIT_OK and "fusioncheck" in out


def test_schema_rejects_a_broken_report():
    import jsonschema

    report = json.loads(Path(__file__).with_name("report_minimal.json").read_text())
    validate_report(report)
    report["findings"][0]["score"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        validate_report(report)
    del report["verdict"]
    with pytest.raises(jsonschema.ValidationError):
        validate_report(report)
