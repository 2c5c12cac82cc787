"""Fingerprints of a sequence's inputs, so that ``run --resume`` reuses only results of the same inputs.

A fingerprint is a SHA-256 over: the tool version and a digest of fusioncheck's own source code, the
checks and parameters of the policy, whether plots were asked for, the input's format and path, and
``(path, size, mtime_ns)`` of every file the sequence is read from: its sensor files (every sample of
every channel) and the source's metadata files (for nuScenes: the JSON tables). A missing file enters as
missing. Any edit to a sensor file, a table, the policy's checks or the code gives a new fingerprint.

Gate rules are not part of it: changing thresholds re-gates without re-checking.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path

from fusioncheck import __version__
from fusioncheck.errors import FusioncheckError
from fusioncheck.loaders.base import DataSource
from fusioncheck.policy import Policy


@cache
def code_digest() -> str:
    """SHA-256 (first 16 hex digits) over the package's Python sources, so edits invalidate results."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _stat_line(path: Path) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}\0missing"
    return f"{path}\0{st.st_size}\0{st.st_mtime_ns}"


def metadata_files(source: DataSource) -> list[Path]:
    """Files other than sensor data that a sequence depends on (nuScenes: the version folder's tables)."""
    folder = getattr(source, "table_folder", None)
    root = Path(folder) if folder is not None else Path(source.root)
    return sorted(p for p in root.iterdir() if p.is_file())


def sequence_fingerprint(source: DataSource, name: str, policy: Policy, plots: bool = False) -> str | None:
    """Return the fingerprint of sequence ``name`` of ``source`` under ``policy``.

    Returns None when the sequence cannot be built from its tables (such a result is never reused;
    checking it again reports the same error quickly).
    """
    try:
        sequence = source.load_sequence(name)
    except FusioncheckError:
        return None
    digest = hashlib.sha256()
    header = {
        "tool": __version__,
        "code": code_digest(),
        "checks": {k: dict(v) for k, v in sorted(policy.checks.items())},
        "plots": plots,
        "format": source.format_name,
        "root": source.root,
        "sequence": name,
    }
    digest.update(json.dumps(header, sort_keys=True, default=str).encode())
    for path in metadata_files(source):
        digest.update(_stat_line(path).encode())
    for channel in sorted(sequence.samples):
        for sample in sequence.samples[channel]:
            digest.update(_stat_line(sample.path).encode())
    return digest.hexdigest()
