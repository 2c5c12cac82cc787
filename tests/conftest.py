"""Shared fixtures: where the real-data excerpts live, and small helpers used by many tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def realdata_root() -> Path:
    """``../shared/realdata`` beside the checkout (or ``$FUSIONCHECK_REALDATA``)."""
    env = os.environ.get("FUSIONCHECK_REALDATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real-data root; skips the test when it is absent."""
    root = realdata_root()
    if not root.is_dir():
        pytest.skip(f"real data not found at {root}")
    return root


@pytest.fixture(scope="session")
def nuscenes_dataroots(realdata: Path) -> list[Path]:
    """Every nuScenes-layout dataroot under ``realdata/nuscenes``; skips when there is none."""
    roots = sorted(p for p in (realdata / "nuscenes").glob("*") if p.is_dir())
    if not roots:
        pytest.skip("no nuScenes dataroots in the real data")
    return roots
