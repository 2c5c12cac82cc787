"""Loaders: one per input format, each a :class:`~fusioncheck.loaders.base.DataSource`.

:func:`open_source` opens a dataset by path, detecting its format unless told; :func:`detect_format` says
which format a path holds. Formats known so far: ``nuscenes`` (a dataroot with a version folder of JSON
tables, see :mod:`fusioncheck.loaders.nuscenes`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fusioncheck.errors import InputError
from fusioncheck.loaders.base import DataSource
from fusioncheck.loaders.kitti import KittiSource, detect_kitti
from fusioncheck.loaders.nuscenes import TABLES, NuScenesSource, find_version_folders

#: Format name -> (detector: path -> bool, opener: path -> DataSource, what the detector looks for).
FORMATS: dict[str, tuple[Callable[[Path], bool], Callable[[Path], DataSource], str]] = {
    "nuscenes": (
        lambda path: bool(find_version_folders(path)),
        NuScenesSource,
        "a nuScenes dataroot: a folder with a version sub-folder (e.g. v1.0-trainval/) holding the "
        f"{len(TABLES)} JSON tables (scene.json, sample.json, sample_data.json, ...)",
    ),
    "kitti": (
        detect_kitti,
        KittiSource,
        "a KITTI object or tracking folder: calib/ and velodyne/ (in the folder, training/ or testing/)",
    ),
}


def detect_format(path: str | Path) -> str:
    """Name the format of the dataset at ``path`` (e.g. ``"nuscenes"``).

    Raises:
        InputError: the path does not exist or holds no known format (the message says what was looked for).
    """
    root = Path(path)
    if not root.exists():
        raise InputError("input path does not exist", path=root)
    for name, (detector, _, _) in FORMATS.items():
        if detector(root):
            return name
    looked_for = "; ".join(f"{name}: {what}" for name, (_, _, what) in FORMATS.items())
    raise InputError(f"no known dataset format found. Looked for {looked_for}", path=root)


def open_source(path: str | Path, format: str = "auto") -> DataSource:
    """Open the dataset at ``path`` as a :class:`DataSource`.

    Args:
        path: the dataset's root folder.
        format: a format name (``nuscenes``) or ``auto`` to detect it.

    Raises:
        InputError: unknown format name, undetectable format, or unreadable dataset.
    """
    name = detect_format(path) if format == "auto" else format
    if name not in FORMATS:
        raise InputError(f"unknown format {format!r}; known formats: auto, {', '.join(FORMATS)}", path=path)
    return FORMATS[name][1](Path(path))


__all__ = ["FORMATS", "DataSource", "KittiSource", "NuScenesSource", "detect_format", "open_source"]
