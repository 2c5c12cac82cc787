"""Write ``compare.json`` (the result of ``fusioncheck compare``; format: :mod:`fusioncheck.compare`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_compare(result: dict[str, Any], out_dir: Path) -> Path:
    """Write ``out_dir/compare.json`` atomically; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "compare.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
