"""The gate: rules, verdicts, exit codes, gate[] in report.json and report.junit.xml."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from fusioncheck.errors import PolicyError
from fusioncheck.gate import Gate, evaluate, parse_rules
from fusioncheck.report.builder import validate_report
from tests.conftest import REPO_ROOT
from tests.test_cli import run_cli

from .test_batch import env

DEFAULT = REPO_ROOT / "calib" / "default_policy.toml"
STRICT = REPO_ROOT / "calib" / "strict_delivery_policy.toml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fusioncheck", *args], env=env(), capture_output=True, text=True, timeout=300
    )


def test_sample_violates_the_default_policy_exit_1_naming_rules(tmp_path):
    out = tmp_path / "out"
    proc = run(
        "run",
        str(REPO_ROOT / "data" / "sample"),
        "--policy",
        str(DEFAULT),
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-progress",
    )
    assert proc.returncode == 1, proc.stderr
    assert "gate: FAIL" in proc.stdout
    assert "FAIL undersized boxes [vehicle.car]" in proc.stdout  # the sample's cars are 15 % short
    report = json.loads((out / "report.json").read_text())
    validate_report(report)
    assert report["verdict"] == "fail"
    failed = {(r["rule"], r["class"]) for r in report["gate"] if not r["passed"]}
    assert ("undersized boxes", "vehicle.car") in failed
    assert ("undersized boxes", "vehicle.truck") not in failed
    car = next(r for r in report["gate"] if (r["rule"], r["class"]) == ("undersized boxes", "vehicle.car"))
    assert car["value"] == report["classes"]["vehicle.car"]["rates"]["undersized_box"] > 0.5
    # JUnit: one test case per rule and class, failures exactly the failed rows.
    suite = ET.parse(out / "report.junit.xml").getroot().find("testsuite[@name='fusioncheck gate']")
    cases = suite.findall("testcase")
    assert len(cases) == len(report["gate"])
    failing = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert failing == {(r, c) for r, c in failed}
    assert int(suite.get("failures")) == len(failed)

    # Re-gating the same report with the strict policy: more failures, sync/calibration evidence missing.
    strict = run("gate", str(out / "report.json"), "--policy", str(STRICT))
    assert strict.returncode == 1
    assert "label time offset within 20 ms" in strict.stdout
    regated = json.loads((out / "report.json").read_text())
    assert len([r for r in regated["gate"] if not r["passed"]]) > len(failed)


def test_clean_log_passes_the_default_policy(delivery, tmp_path):
    out = tmp_path / "out"
    proc = run(
        "run",
        str(delivery.roots[0]),
        "--policy",
        str(DEFAULT),
        "--out",
        str(out),
        "--workers",
        "2",
        "--no-progress",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "pass"
    assert report["gate"] and all(r["passed"] for r in report["gate"])
    assert "gate: PASS" in proc.stdout


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            '[[gate.rule]]\nmetric = "classes.*.rates.empty_box"\nmax = 0.1\nthreshhold = 3\n',
            "gate.rule[0].threshhold",
        ),
        ("[gate]\nrules = []\n", "gate.rules"),
        ('[[gate.rule]]\nmetric = "classes.*.rates.empty_boxes"\nmax = 0.1\n', "empty_boxes"),
        ('[[gate.rule]]\nmetric = "classes.*.rates.empty_box"\n', "exactly one of"),
        ('[[gate.rule]]\nmetric = "classes.*.rates.empty_box"\nmax = "low"\n', "'max' must be a number"),
        ("[gates]\n", "gates"),
    ],
)
def test_bad_policy_exits_2_naming_the_key(monkeypatch, capsys, tmp_path, text, named):
    policy = tmp_path / "p.toml"
    policy.write_text(text)
    code, _, err = run_cli(
        monkeypatch, capsys, "run", str(tmp_path), "--policy", str(policy), "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert named in err
    assert not (tmp_path / "o").exists()  # rejected before any work
    code, _, err = run_cli(
        monkeypatch, capsys, "gate", str(tmp_path / "report.json"), "--policy", str(policy)
    )
    assert code == 2 and named in err


def test_gate_of_an_unreadable_report_exits_3(monkeypatch, capsys, tmp_path):
    (tmp_path / "report.json").write_text("{not json")
    code, _, err = run_cli(
        monkeypatch, capsys, "gate", str(tmp_path / "report.json"), "--policy", str(DEFAULT)
    )
    assert code == 3 and "report.json" in err


REPORT = {
    "inputs": [{"path": "a", "format": "nuscenes", "error": None}],
    "sequences": [
        {
            "name": "s1",
            "error": None,
            "sync": [{"stream": "labels", "offset_ms": 12.0}, {"stream": "CAM_FRONT", "offset_ms": -31.0}],
            "calibration": [
                {"sensor": "CAM_FRONT", "status": "ok"},
                {"sensor": "RADAR_FRONT", "status": "suspect"},
            ],
        },
        {
            "name": "s2",
            "error": "broken",
            "sync": [{"stream": "labels", "offset_ms": None}],
            "calibration": [],
        },
    ],
    "classes": {
        "car": {
            "rates": {"undersized_box": 0.2},
            "evaluated": {"undersized_box": 50},
            "size_bias": {"length": -0.04},
        },
        "bike": {"rates": {"undersized_box": 0.5}, "evaluated": {"undersized_box": 4}, "size_bias": None},
    },
    "findings": [{"check": "undersized_box"}] * 12,
}


def rules(text: str) -> Gate:
    import tomllib

    return Gate(parse_rules(tomllib.loads(text)["gate"], "test"))


def test_comparators_wildcards_support_and_missing():
    result = evaluate(
        REPORT,
        rules("""
[[gate.rule]]
metric = "classes.*.rates.undersized_box"
max = 0.1
min_support = 10
[[gate.rule]]
metric = "sequences.*.sync.*.offset_ms"
abs_max = 20.0
[[gate.rule]]
metric = "sequences.*.calibration.*.status"
one_of = ["ok"]
[[gate.rule]]
metric = "classes.*.size_bias.length"
classes = ["car", "truck"]
abs_max = 0.05
severity = "warning"
[[gate.rule]]
metric = "run.findings.undersized_box"
min = 12
[[gate.rule]]
metric = "run.sequences_with_errors"
equals = 0
"""),
    )
    by = {(r["metric"], r["subject"]): r for r in result.rows}
    assert not by["classes.*.rates.undersized_box", "car"]["passed"]
    bike = by["classes.*.rates.undersized_box", "bike"]
    assert bike["passed"] and "min_support" in bike["reason"]
    assert by["sequences.*.sync.*.offset_ms", "s1 / labels"]["passed"]
    assert not by["sequences.*.sync.*.offset_ms", "s1 / CAM_FRONT"]["passed"]  # |-31| > 20
    assert not by["sequences.*.sync.*.offset_ms", "s2 / labels"]["passed"]  # null: not estimable
    assert by["sequences.*.calibration.*.status", "s1 / CAM_FRONT"]["passed"]
    assert not by["sequences.*.calibration.*.status", "s1 / RADAR_FRONT"]["passed"]
    assert by["classes.*.size_bias.length", "car"]["passed"]  # |-0.04| <= 0.05
    truck = by["classes.*.size_bias.length", "truck"]
    assert not truck["passed"] and "not in the report" in truck["reason"] and truck["severity"] == "warning"
    assert by["run.findings.undersized_box", None]["passed"]
    assert not by["run.sequences_with_errors", None]["passed"]
    assert result.verdict == "fail"
    assert {r["subject"] for r in result.failed} == {
        "car",
        "s1 / CAM_FRONT",
        "s2 / labels",
        "s1 / RADAR_FRONT",
        None,
    }


def test_warnings_alone_pass_and_no_rules_is_not_gated():
    result = evaluate(
        REPORT,
        rules("""
[[gate.rule]]
metric = "classes.*.rates.undersized_box"
max = 0.1
severity = "warning"
"""),
    )
    assert result.verdict == "pass" and not all(r["passed"] for r in result.rows)
    assert evaluate(REPORT, Gate()).verdict == "not_gated"


def test_stream_filter():
    result = evaluate(
        REPORT,
        rules(
            '[[gate.rule]]\nmetric = "sequences.*.sync.*.offset_ms"\nabs_max = 20.0\nstreams = ["labels"]\n'
        ),
    )
    assert [r["subject"] for r in result.rows] == ["s1 / labels", "s2 / labels"]
    with pytest.raises(PolicyError, match="streams"):
        rules('[[gate.rule]]\nmetric = "classes.*.rates.empty_box"\nmax = 0.1\nstreams = ["labels"]\n')


def test_missing_pass_and_fail():
    fail = evaluate(REPORT, rules('[[gate.rule]]\nmetric = "sequences.*.radar.*.rate"\nmax = 1\n'))
    assert fail.verdict == "fail" and fail.rows[0]["value"] is None
    ok = evaluate(
        REPORT, rules('[[gate.rule]]\nmetric = "sequences.*.radar.*.rate"\nmax = 1\nmissing = "pass"\n')
    )
    assert ok.verdict == "pass"


def test_shipped_policies_load():
    from fusioncheck.policy import Policy

    for path in (DEFAULT, STRICT):
        Policy.load(path)
        assert Gate.load(path).rules
    with pytest.raises(PolicyError, match=r"gate\.rule"):
        parse_rules({"rule": [{"metric": "x.y", "max": 1}]}, "t")
