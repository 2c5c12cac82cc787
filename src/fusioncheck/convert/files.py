"""Placing sensor files in a converted dataset: hard links where possible, copies otherwise."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def link_or_copy(source: Path, target: Path) -> None:
    """Make ``target`` hold the bytes of ``source``: a hard link when the file system allows, else a copy.

    Folders are created; an existing ``target`` is replaced.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def safe_name(name: str) -> str:
    """Return ``name`` usable as a file or folder name (letters, digits, ``-_.`` kept; others -> ``_``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"
