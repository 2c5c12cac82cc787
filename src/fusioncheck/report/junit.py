"""``report.junit.xml``: the gate as JUnit test cases, for CI systems that show test results.

One ``<testsuite name="fusioncheck gate">`` with a test case per gate row (rule x class or subject):
``classname`` = the rule's name, ``name`` = the class or subject; a failed error-severity row carries a
``<failure>`` saying value and threshold, a failed warning row is reported as ``<skipped>`` with the
message (CI shows it, the build does not fail). A second suite, ``fusioncheck inputs``, has one case per
sequence, with an ``<error>`` for each sequence or input that could not be read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from fusioncheck.gate import describe_failure


def junit_xml(report: dict[str, Any]) -> str:
    """Return the JUnit XML text of a report's gate table and unreadable inputs."""
    suites = ET.Element("testsuites", name="fusioncheck")
    gate = ET.SubElement(suites, "testsuite", name="fusioncheck gate")
    failures = 0
    skipped = 0
    for row in report.get("gate", []):
        case = ET.SubElement(
            gate,
            "testcase",
            classname=str(row["rule"]),
            name=str(row.get("subject") or row.get("class") or "run"),
        )
        props = ET.SubElement(case, "properties")
        for key in ("metric", "value", "threshold", "comparator"):
            if key in row:
                ET.SubElement(props, "property", name=key, value=str(row[key]))
        if not row["passed"]:
            message = describe_failure(row)
            if row.get("severity", "error") == "error":
                failures += 1
                ET.SubElement(case, "failure", message=message, type="gate").text = message
            else:
                skipped += 1
                ET.SubElement(case, "skipped", message=f"warning: {message}")
    gate.set("tests", str(len(report.get("gate", []))))
    gate.set("failures", str(failures))
    gate.set("skipped", str(skipped))
    gate.set("errors", "0")

    inputs = ET.SubElement(suites, "testsuite", name="fusioncheck inputs")
    errors = 0
    cases = 0
    for item in report.get("inputs", []):
        if item.get("error"):
            cases += 1
            errors += 1
            case = ET.SubElement(inputs, "testcase", classname="input", name=str(item["path"]))
            ET.SubElement(case, "error", message=str(item["error"]), type="unreadable")
    for seq in report.get("sequences", []):
        cases += 1
        case = ET.SubElement(
            inputs,
            "testcase",
            classname=f"sequence.{seq['input']}",
            name=str(seq["name"]),
            time=f"{seq.get('seconds', 0.0):.3f}",
        )
        if seq.get("error"):
            errors += 1
            ET.SubElement(case, "error", message=str(seq["error"]), type="unreadable")
    inputs.set("tests", str(cases))
    inputs.set("errors", str(errors))
    inputs.set("failures", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_junit(report: dict[str, Any], out_dir: Path) -> Path:
    """Write ``out_dir/report.junit.xml``; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.junit.xml"
    path.write_text(junit_xml(report), encoding="utf-8")
    return path
