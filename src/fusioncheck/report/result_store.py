"""Per-sequence result files: one JSON file per checked sequence, written as soon as it is done.

A batch run streams every :class:`~fusioncheck.pipeline.SequenceResult` to ``OUT/sequences/<key>.json``
the moment it arrives, then merges the files into ``report.json``. A killed run therefore loses at most
the sequences that were being checked, and ``--resume`` reuses every file whose fingerprint (inputs,
policy, tool version; see :mod:`fusioncheck.fingerprint`) matches the current run.

File format (``format`` = ``fusioncheck-sequence-result``, ``format_version`` = 1)::

    task{path, format, sequence}   which sequence of which input
    fingerprint                    hex digest of inputs + policy + tool (None: never reused)
    tool{name, version}
    result{...}                    the SequenceResult (findings, tallies, sections, ... as JSON)

Files are written to a temporary name and renamed, so a file that exists is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fusioncheck import __version__
from fusioncheck.checks.base import ClassTally, Finding, Severity
from fusioncheck.pipeline import SequenceResult

FORMAT = "fusioncheck-sequence-result"
FORMAT_VERSION = 1
SEQUENCES_DIR = "sequences"


def result_to_json(result: SequenceResult) -> dict[str, Any]:
    """Return a sequence result as a JSON-ready dictionary (inverse: :func:`result_from_json`)."""
    return {
        "name": result.name,
        "dataroot": result.dataroot,
        "frames": result.frames,
        "annotations": result.annotations,
        "class_counts": result.class_counts,
        "findings": [_finding_to_json(f) for f in result.findings],
        "tallies": {
            c: {"evaluated": t.evaluated, "flagged": t.flagged} for c, t in sorted(result.tallies.items())
        },
        "notes": result.notes,
        "statistics": result.statistics,
        "sections": result.sections,
        "class_samples": result.class_samples,
        "plots": result.plots,
        "error": result.error,
        "seconds": result.seconds,
    }


def result_from_json(data: dict[str, Any]) -> SequenceResult:
    """Rebuild a :class:`SequenceResult` from :func:`result_to_json` output."""
    return SequenceResult(
        name=data["name"],
        dataroot=data["dataroot"],
        frames=int(data["frames"]),
        annotations=int(data["annotations"]),
        class_counts={k: int(v) for k, v in data["class_counts"].items()},
        findings=[_finding_from_json(f) for f in data["findings"]],
        tallies={c: ClassTally(dict(t["evaluated"]), dict(t["flagged"])) for c, t in data["tallies"].items()},
        notes=list(data["notes"]),
        statistics=data["statistics"],
        sections=data["sections"],
        class_samples=data["class_samples"],
        plots=list(data["plots"]),
        error=data["error"],
        seconds=float(data["seconds"]),
    )


def normalise(result: SequenceResult) -> SequenceResult:
    """Return ``result`` as it reads back from its file (tuples become lists, and so on).

    A run merges results in this form whether they were computed now or resumed from files, so that a
    resumed run's report equals an uninterrupted run's.
    """
    return result_from_json(json.loads(json.dumps(result_to_json(result), allow_nan=False)))


def _finding_to_json(f: Finding) -> dict[str, Any]:
    return {
        "check": f.check,
        "severity": f.severity.value,
        "sequence": f.sequence,
        "score": f.score,
        "message": f.message,
        "annotation": f.annotation,
        "instance": f.instance,
        "sensor": f.sensor,
        "timestamp_us": f.timestamp_us,
        "category": f.category,
        "position_m": None if f.position_m is None else list(f.position_m),
        "values": f.values,
    }


def _finding_from_json(d: dict[str, Any]) -> Finding:
    position = d["position_m"]
    return Finding(
        check=d["check"],
        severity=Severity(d["severity"]),
        sequence=d["sequence"],
        score=float(d["score"]),
        message=d["message"],
        annotation=d["annotation"],
        instance=d["instance"],
        sensor=d["sensor"],
        timestamp_us=d["timestamp_us"],
        category=d["category"],
        position_m=None if position is None else (float(position[0]), float(position[1]), float(position[2])),
        values=d["values"],
    )


def result_key(path: str, sequence: str) -> str:
    """File stem of a sequence's result: readable name plus a digest of input and name (unique)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in sequence)[:80] or "sequence"
    digest = hashlib.sha1(f"{os.path.abspath(path)}\0{sequence}".encode()).hexdigest()[:10]
    return f"{safe}-{digest}"


class ResultStore:
    """The folder of per-sequence result files of one output directory.

    Args:
        out_dir: the run's output folder; files go to ``out_dir/sequences/``.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.folder = self.out_dir / SEQUENCES_DIR

    def path_of(self, path: str, sequence: str) -> Path:
        """Where the result of ``sequence`` of input ``path`` is stored."""
        return self.folder / f"{result_key(path, sequence)}.json"

    def write(
        self, path: str, format_name: str, sequence: str, fingerprint: str | None, result: SequenceResult
    ) -> Path:
        """Write one result atomically (temporary file, then rename); returns the file's path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_of(path, sequence)
        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tool": {"name": "fusioncheck", "version": __version__},
            "task": {"path": path, "format": format_name, "sequence": sequence},
            "fingerprint": fingerprint,
            "result": result_to_json(result),
        }
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload, allow_nan=False) + "\n", encoding="utf-8")
        tmp.replace(target)
        return target

    def read(self, path: str, sequence: str, fingerprint: str | None) -> SequenceResult | None:
        """Return the stored result when it exists, is readable and has this fingerprint; else None."""
        if fingerprint is None:
            return None
        target = self.path_of(path, sequence)
        try:
            payload = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            not isinstance(payload, dict)
            or payload.get("format") != FORMAT
            or payload.get("format_version") != FORMAT_VERSION
            or payload.get("fingerprint") != fingerprint
        ):
            return None
        try:
            return result_from_json(payload["result"])
        except (KeyError, TypeError, ValueError):
            return None

    def files(self) -> Iterator[Path]:
        """Every result file currently stored."""
        if self.folder.is_dir():
            yield from sorted(self.folder.glob("*.json"))
