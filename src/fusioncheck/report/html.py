"""The HTML report: ``index.html`` for the run and one page per sequence, self-contained on disk.

``index.html``: the verdict, the gate table (failed rules first), per-class tables (boxes, flagged /
evaluated per check, size bias), the worst sequences, unreadable inputs, links to report.json,
report.junit.xml and review_queue.csv. ``pages/<sequence>.html``: the sequence's numbers, its sync and
calibration tables, every plot its checks drew (``run --plots``), its findings, notes and error.

No scripts, no fonts, no network: styles are inline, images are files beside the pages referenced by
relative paths (or embedded as ``data:`` URIs with ``embed_images=True``, for a single file to mail).
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import os
from pathlib import Path
from typing import Any

from fusioncheck.report.review_plots import review_plot_path

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d232a;
max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde;
padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #d5d9e0;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f1f3f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:6px 14px;border-radius:4px;font-weight:600;color:#fff}
.pass{background:#2e7d32}.fail{background:#c62828}.not_gated{background:#607080}
tr.failed td{background:#fdecea}tr.warn td{background:#fff6e0}.muted{color:#6b7480}
.err{color:#c62828}img{max-width:100%;border:1px solid #d5d9e0;margin:6px 0}
figure{margin:10px 0}figcaption{font-size:12px;color:#6b7480}
"""

PAGES_DIR = "pages"
MAX_FINDINGS_PER_PAGE = 500
WORST_SEQUENCES = 20


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return _e(value)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def page_names(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """``(input, sequence name)`` -> its page, relative to the output folder (``pages/<name>.html``).

    The page is named after the sequence; names that occur in several inputs get a digest of the input.
    """
    from fusioncheck.report.result_store import result_key

    seqs = report.get("sequences", [])
    counts: dict[str, int] = {}
    for s in seqs:
        counts[s["name"]] = counts.get(s["name"], 0) + 1
    names = {}
    for s in seqs:
        source = s.get("input", "")
        stem = safe_name(s["name"]) if counts[s["name"]] == 1 else result_key(source, s["name"])
        names[(source, s["name"])] = f"{PAGES_DIR}/{stem}.html"
    return names


def safe_name(name: str) -> str:
    """Return ``name`` made usable as a file name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "sequence"


def _table(headers: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _gate_table(report: dict[str, Any]) -> str:
    rows = sorted(report.get("gate", []), key=lambda r: (r["passed"], r.get("severity") != "error"))
    if not rows:
        return '<p class="muted">No gate rules (run with --policy FILE to gate).</p>'
    out = []
    for r in rows:
        css = "" if r["passed"] else ("failed" if r.get("severity", "error") == "error" else "warn")
        out.append(
            f'<tr class="{css}"><td>{"pass" if r["passed"] else "FAIL"}</td><td>{_e(r["rule"])}</td>'
            f"<td>{_e(r.get('subject') or r.get('class') or 'run')}</td>"
            f'<td>{_e(r.get("comparator", ""))}</td><td class="num">{_num(r["value"], 4)}</td>'
            f'<td class="num">{_num(r["threshold"], 4)}</td><td>{_e(r.get("reason") or "")}</td></tr>'
        )
    return _table(["", "rule", "class / subject", "test", "value", "threshold", "note"], out)


def _class_table(report: dict[str, Any]) -> str:
    classes = report.get("classes", {})
    checks = sorted({c for cls in classes.values() for c in cls.get("evaluated", {})})
    rows = []
    for name, cls in classes.items():
        cells = []
        for check in checks:
            n = cls.get("evaluated", {}).get(check, 0)
            k = cls.get("flagged", {}).get(check, 0)
            rate = cls.get("rates", {}).get(check)
            cells.append(
                f'<td class="num">{k}/{n} ({rate:.1%})</td>' if n and rate is not None else "<td>–</td>"
            )
        bias = cls.get("size_bias") or {}
        bias_text = ", ".join(
            f"{axis[0]} {bias[axis]:+.1%}"
            for axis in ("length", "width", "height")
            if bias.get(axis) is not None
        )
        rows.append(
            f'<tr><td>{_e(name)}</td><td class="num">{cls["annotations"]}</td>{"".join(cells)}'
            f"<td>{_e(bias_text) or '–'}</td></tr>"
        )
    return _table(["class", "boxes", *[f"{c} (flagged/evaluated)" for c in checks], "size bias"], rows)


def _severity_weight(report: dict[str, Any]) -> dict[str, float]:
    weight: dict[str, float] = {}
    for f in report.get("findings", []):
        weight[f["sequence"]] = weight.get(f["sequence"], 0.0) + float(f["score"])
    return weight


def _worst_sequences(report: dict[str, Any]) -> str:
    weight = _severity_weight(report)
    pages = page_names(report)
    seqs = sorted(
        report.get("sequences", []), key=lambda s: (s["error"] is None, -weight.get(s["name"], 0.0))
    )
    rows = []
    for s in seqs[:WORST_SEQUENCES]:
        link = pages[(s["input"], s["name"])]
        per_check = ", ".join(f"{k} {v}" for k, v in s.get("findings_per_check", {}).items())
        status = (
            f'<span class="err">ERROR: {_e(s["error"])}</span>' if s["error"] else _e(per_check or "none")
        )
        rows.append(
            f'<tr><td><a href="{_e(link)}">{_e(s["name"])}</a></td><td>{_e(s["input"])}</td>'
            f'<td class="num">{s["frames"]}</td><td class="num">{s["annotations"]}</td>'
            f'<td class="num">{weight.get(s["name"], 0.0):.2f}</td><td>{status}</td></tr>'
        )
    more = len(seqs) - WORST_SEQUENCES
    note = f'<p class="muted">… and {more} more sequences (all have pages).</p>' if more > 0 else ""
    return _table(["sequence", "input", "keyframes", "boxes", "sum of scores", "findings"], rows) + note


def _image(src: Path, page_dir: Path, embed: bool) -> str:
    if embed:
        mime = mimetypes.guess_type(src.name)[0] or "image/png"
        data = base64.b64encode(src.read_bytes()).decode("ascii")
        return f"data:{mime};base64,{data}"
    return Path(os.path.relpath(src, page_dir)).as_posix()


def _rows_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    body = []
    for row in rows:
        cells = []
        for k in keys:
            v = row.get(k)
            text = json.dumps(v) if isinstance(v, dict | list) else _num(v)
            cells.append(f"<td>{_e(text) if isinstance(v, dict | list) else text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return _table(keys, body)


def sequence_page(report: dict[str, Any], seq: dict[str, Any], out_dir: Path, embed: bool = False) -> str:
    """HTML of one sequence's page (written to ``out_dir/sequences/``)."""
    page_dir = out_dir / PAGES_DIR
    parts = [
        '<p><a href="../index.html">← run overview</a></p>',
        f"<h1>{_e(seq['name'])}</h1>",
        f'<p class="muted">{_e(seq["input"])} · {seq["frames"]} keyframes · {seq["annotations"]} boxes · '
        f"{_num(seq.get('seconds'), 2)} s</p>",
    ]
    if seq.get("error"):
        parts.append(f'<p class="err"><b>Could not be checked:</b> {_e(seq["error"])}</p>')
    classes = seq.get("classes") or {}
    if classes:
        parts.append(
            _table(
                ["class", "boxes"],
                [f'<tr><td>{_e(c)}</td><td class="num">{n}</td></tr>' for c, n in classes.items()],
            )
        )
    parts.append("<h2>Time sync</h2>" + _rows_table(seq.get("sync", [])))
    parts.append("<h2>Calibration</h2>" + _rows_table(seq.get("calibration", [])))
    parts.append("<h2>Plots</h2>")
    plots = [Path(p) for p in seq.get("plots", [])]
    shown = 0
    for p in plots:
        path = p if p.is_absolute() else out_dir / p  # the CLI records absolute paths
        if not path.is_file():
            parts.append(f'<p class="err">plot missing: {_e(p)}</p>')
            continue
        shown += 1
        parts.append(
            f'<figure><img src="{_e(_image(path, page_dir, embed))}" alt="{_e(path.stem)}">'
            f"<figcaption>{_e(path.name)}</figcaption></figure>"
        )
    if not shown:
        why = "the checks drew none here" if (out_dir / "plots").is_dir() else "run with --plots to draw them"
        parts.append(f'<p class="muted">No plots ({why}).</p>')
    findings = [f for f in report.get("findings", []) if f["sequence"] == seq["name"]]
    crops = []
    for f in sorted(findings, key=lambda f: -f["score"]):
        crop = review_plot_path(out_dir / "plots", seq["name"], f["annotation"] or "")
        if f["annotation"] and crop.is_file() and crop not in crops:
            crops.append(crop)
    if crops:
        parts.append(f"<h2>Objects to review ({len(crops)})</h2>")
        parts.extend(
            f'<figure><img src="{_e(_image(c, page_dir, embed))}" alt="{_e(c.stem)}">'
            f"<figcaption>{_e(c.stem)}</figcaption></figure>"
            for c in crops
        )
    # Findings name their sequence, not their input: with a name used by several inputs, say so.
    if sum(s["name"] == seq["name"] for s in report.get("sequences", [])) > 1:
        parts.append('<p class="muted">Several inputs have a sequence of this name; findings of all.</p>')
    findings.sort(key=lambda f: -f["score"])
    parts.append(f"<h2>Findings ({len(findings)})</h2>")
    rows = []
    for f in findings[:MAX_FINDINGS_PER_PAGE]:
        pos = f.get("position_m")
        rows.append(
            f'<tr><td class="num">{f["score"]:.2f}</td><td>{_e(f["check"])}</td><td>{_e(f["class"])}</td>'
            f'<td>{_e(f["severity"])}</td><td class="num">{_e(f["timestamp_us"])}</td>'
            f"<td>{_e(f['sensor'])}</td>"
            f"<td>{_e(f['annotation'])}</td>"
            f'<td class="num">{_e(", ".join(f"{v:.1f}" for v in pos) if pos else "")}</td>'
            f"<td>{_e(f['message'])}</td></tr>"
        )
    if rows:
        parts.append(
            _table(
                [
                    "score",
                    "check",
                    "class",
                    "severity",
                    "timestamp µs",
                    "sensor",
                    "annotation",
                    "position m",
                    "message",
                ],
                rows,
            )
        )
        if len(findings) > MAX_FINDINGS_PER_PAGE:
            parts.append(f'<p class="muted">{len(findings) - MAX_FINDINGS_PER_PAGE} more in report.json</p>')
    else:
        parts.append('<p class="muted">none</p>')
    notes = seq.get("notes") or []
    if notes:
        parts.append("<h2>Not checked</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    return _page(f"fusioncheck: {seq['name']}", "\n".join(parts))


def index_page(report: dict[str, Any], out_dir: Path) -> str:
    """HTML of the run overview (``out_dir/index.html``)."""
    verdict = report.get("verdict", "not_gated")
    seqs = report.get("sequences", [])
    errors = [s for s in seqs if s.get("error")]
    links = [
        f'<a href="{name}">{name}</a>'
        for name in ("report.json", "report.junit.xml", "review_queue.csv")
        if (out_dir / name).exists()
    ]
    parts = [
        "<h1>fusioncheck report</h1>",
        f'<p class="muted">fusioncheck {_e(report["tool"]["version"])} · {_e(report.get("created"))} · '
        f"{len(seqs)} sequences · {sum(s['frames'] for s in seqs)} keyframes · "
        f"{sum(s['annotations'] for s in seqs)} boxes · {len(report.get('findings', []))} findings</p>",
        f'<p><span class="verdict {_e(verdict)}">{_e(verdict.replace("_", " ").upper())}</span></p>',
        f"<p>{' · '.join(links)}</p>",
        "<h2>Gate</h2>",
        _gate_table(report),
        "<h2>Classes</h2>",
        _class_table(report),
        "<h2>Worst sequences</h2>",
        _worst_sequences(report),
    ]
    bad_inputs = [i for i in report.get("inputs", []) if i.get("error")]
    if bad_inputs or errors:
        parts.append("<h2>Unreadable</h2><ul>")
        parts.extend(f'<li class="err">{_e(i["path"])}: {_e(i["error"])}</li>' for i in bad_inputs)
        parts.extend(f'<li class="err">{_e(s["name"])}: {_e(s["error"])}</li>' for s in errors)
        parts.append("</ul>")
    return _page("fusioncheck report", "\n".join(parts))


def write_html(report: dict[str, Any], out_dir: Path, embed_images: bool = False) -> Path:
    """Write ``out_dir/index.html`` and ``out_dir/pages/<sequence>.html``; returns the index path."""
    (out_dir / PAGES_DIR).mkdir(parents=True, exist_ok=True)
    pages = page_names(report)
    for seq in report.get("sequences", []):
        page = out_dir / pages[(seq["input"], seq["name"])]
        page.write_text(sequence_page(report, seq, out_dir, embed_images), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(index_page(report, out_dir), encoding="utf-8")
    return index
