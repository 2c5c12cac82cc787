"""The one-screen terminal summary of a run."""

from __future__ import annotations

from typing import Any

_MAX_CLASSES = 12
_TOP_FINDINGS = 8


def format_summary(report: dict[str, Any], out_path: str | None = None) -> str:
    """Plain-text summary of a report.json structure (fits one terminal screen)."""
    lines = []
    seqs = report["sequences"]
    failed = [s for s in seqs if s["error"]]
    frames = sum(s["frames"] for s in seqs)
    boxes = sum(s["annotations"] for s in seqs)
    lines.append(
        f"fusioncheck {report['tool']['version']}: {len(seqs)} sequence(s), {frames} keyframes, {boxes} boxes"
        + (f", {len(failed)} unreadable" if failed else "")
    )
    for i in report["inputs"]:
        if i.get("error"):
            lines.append(f"  input {i['path']}: ERROR {i['error']}")
    for s in failed:
        lines.append(f"  sequence {s['name']} ({s['input']}): ERROR {s['error']}")

    per_check: dict[str, int] = {}
    for f in report["findings"]:
        per_check[f["check"]] = per_check.get(f["check"], 0) + 1
    checks = sorted({c for cls in report["classes"].values() for c in cls.get("evaluated", {})})
    if checks:
        lines.append("")
        lines.append("findings: " + ", ".join(f"{c} {per_check.get(c, 0)}" for c in checks))
        width = max([len(c) for c in list(report["classes"])[:_MAX_CLASSES]] + [5])
        header = f"  {'class':<{width}} {'boxes':>6} " + " ".join(f"{c[:14]:>14}" for c in checks)
        lines.append(header)
        for name, cls in list(report["classes"].items())[:_MAX_CLASSES]:
            cells = []
            for c in checks:
                n = cls.get("evaluated", {}).get(c, 0)
                k = cls.get("flagged", {}).get(c, 0)
                cells.append(f"{f'{k}/{n}' if n else '-':>14}")
            lines.append(f"  {name:<{width}} {cls['annotations']:>6} " + " ".join(cells))
        if len(report["classes"]) > _MAX_CLASSES:
            lines.append(f"  ... {len(report['classes']) - _MAX_CLASSES} more classes in report.json")
        lines.append("  (cells: flagged/evaluated boxes; '-' = not evaluated)")
    top = sorted(report["findings"], key=lambda f: -f["score"])[:_TOP_FINDINGS]
    if top:
        lines.append("")
        lines.append("highest-scoring findings:")
        for f in top:
            lines.append(f"  {f['score']:.2f} {f['check']:<17} {f['sequence']}: {f['message']}")
    notes = [n for s in seqs for n in s["notes"]]
    if notes:
        lines.append("")
        lines.append(f"not checked ({len(notes)} note(s)): {notes[0]}" + (" ..." if len(notes) > 1 else ""))
    lines.append("")
    lines.append(f"verdict: {report['verdict']}" + (f"   report: {out_path}" if out_path else ""))
    return "\n".join(lines)
