"""Score a report against the ground truth of a simulated log (``faults.json``).

Used by the accuracy tests and ``scripts/accuracy_box_fit.py``: for each injected fault type, which findings
recover it (recall), and how many findings land on boxes that carry no fault (false alarms per 100
boxes). Works on the report.json structure, so what is scored is exactly what users get.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Finding types of the box-fit check.
BOX_FIT_CHECKS = ("empty_box", "undersized_box", "oversized_box", "box_height_offset")


@dataclass
class Recall:
    """Recovered / eligible injected faults."""

    eligible: int = 0
    found: int = 0
    missed: list[str] = field(default_factory=list)

    @property
    def value(self) -> float:
        """Recall in 0..1 (NaN when nothing was eligible)."""
        return self.found / self.eligible if self.eligible else float("nan")


def flagged_by_check(report: dict[str, Any]) -> dict[str, set[str]]:
    """Map each finding type to the annotation tokens it flagged."""
    out: dict[str, set[str]] = defaultdict(set)
    for f in report["findings"]:
        if f["annotation"] is not None:
            out[f["check"]].add(f["annotation"])
    return out


def faulty_tokens(faults: dict[str, Any]) -> set[str]:
    """Annotation tokens of boxes that carry an injected fault (shrunk or ghost)."""
    tokens = {t for s in faults["shrink"] for t in s["annotation_tokens"]}
    tokens |= {g["annotation_token"] for g in faults["ghosts"]}
    return tokens


def recall(
    report: dict[str, Any],
    faults: dict[str, Any],
    check: str,
    tokens: set[str],
    eligible: Callable[[str], bool],
) -> Recall:
    """Recall of ``check`` on the injected-fault ``tokens`` that pass ``eligible``."""
    flagged = flagged_by_check(report)[check]
    result = Recall()
    for token in sorted(tokens):
        if eligible(token):
            result.eligible += 1
            if token in flagged:
                result.found += 1
            else:
                result.missed.append(token)
    return result


def false_alarms(
    report: dict[str, Any], faults: dict[str, Any], checks: tuple[str, ...] = BOX_FIT_CHECKS
) -> tuple[int, int]:
    """Count findings of ``checks`` on boxes without an injected fault; return (findings, such boxes)."""
    bad = faulty_tokens(faults)
    clean = {t for t in faults["annotations"] if t not in bad}
    n = sum(1 for f in report["findings"] if f["check"] in checks and f["annotation"] in clean)
    return n, len(clean)
