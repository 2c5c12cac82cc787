"""Build, validate and write ``report.json`` (contract: DESIGN.md; schema: ``report.schema.json``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fusioncheck import __version__
from fusioncheck.checks.base import ClassTally, Finding, class_reducers
from fusioncheck.pipeline import SequenceResult
from fusioncheck.policy import Policy

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class InputRecord:
    """One input path of a run, with its format and, when it could not be opened, the error."""

    path: str
    format: str
    error: str | None = None


def finding_to_json(f: Finding) -> dict[str, Any]:
    """Return a finding as a report.json object."""
    return {
        "check": f.check,
        "severity": f.severity.value,
        "sequence": f.sequence,
        "annotation": f.annotation,
        "instance": f.instance,
        "sensor": f.sensor,
        "timestamp_us": f.timestamp_us,
        "class": f.category,
        "score": f.score,
        "position_m": None if f.position_m is None else [round(v, 3) for v in f.position_m],
        "message": f.message,
        "values": f.values,
    }


def build_report(
    results: Sequence[SequenceResult],
    inputs: Iterable[InputRecord],
    policy: Policy,
    verdict: str = "not_gated",
    gate: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Merge per-sequence results into the report.json structure."""
    tallies: dict[str, ClassTally] = {}
    annotations: dict[str, int] = {}
    samples: dict[str, dict[str, list[Any]]] = {}
    for r in results:
        for category, per_name in r.class_samples.items():
            merged = samples.setdefault(category, {})
            for sample_name, items in per_name.items():
                merged.setdefault(sample_name, []).extend(items)
        for category, tally in r.tallies.items():
            tallies.setdefault(category, ClassTally()).merge(tally)
        for category, n in r.class_counts.items():
            annotations[category] = annotations.get(category, 0) + n
    reducers = class_reducers()
    classes = {}
    for category in sorted(annotations):
        tally = tallies.get(category, ClassTally())
        reduced = {name: reduce(samples.get(category, {})) for name, reduce in sorted(reducers.items())}
        classes[category] = {
            "annotations": annotations[category],
            "size_bias": None,
            **reduced,
            "rates": {
                check: round(tally.flagged.get(check, 0) / n, 6)
                for check, n in sorted(tally.evaluated.items())
                if n > 0
            },
            "evaluated": dict(sorted(tally.evaluated.items())),
            "flagged": {check: tally.flagged.get(check, 0) for check in sorted(tally.evaluated)},
        }
    sequences = []
    for r in results:
        per_check: dict[str, int] = {}
        for f in r.findings:
            per_check[f.check] = per_check.get(f.check, 0) + 1
        sequences.append(
            {
                "name": r.name,
                "input": r.dataroot,
                "frames": r.frames,
                "annotations": r.annotations,
                "classes": r.class_counts,
                **{table: rows for table, rows in sorted(r.sections.items())},
                "sync": r.sections.get("sync", []),
                "calibration": r.sections.get("calibration", []),
                "plots": r.plots,
                "findings_per_check": dict(sorted(per_check.items())),
                "notes": r.notes,
                "statistics": r.statistics,
                "error": r.error,
                "seconds": round(r.seconds, 3),
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "fusioncheck", "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": [{"path": i.path, "format": i.format, "error": i.error} for i in inputs],
        "policy": policy.to_report(),
        "verdict": verdict,
        "sequences": sequences,
        "classes": classes,
        "findings": [finding_to_json(f) for r in results for f in r.findings],
        "gate": list(gate),
    }


@cache
def load_schema() -> dict[str, Any]:
    """Return the report's JSON Schema (shipped in the package)."""
    text = resources.files("fusioncheck.report").joinpath("report.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_report(report: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``report`` violates the schema."""
    import jsonschema

    jsonschema.validate(report, load_schema())


def write_report(report: dict[str, Any], out_dir: Path) -> Path:
    """Validate and write ``out_dir/report.json``; returns its path."""
    validate_report(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
