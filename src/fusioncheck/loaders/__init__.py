"""Loaders: one per input format, each a :class:`~fusioncheck.loaders.base.DataSource`.

:func:`open_source` opens a dataset by path, detecting its format unless told; :func:`detect_format` says
which format a path holds. Formats: ``nuscenes`` (a dataroot with a version folder of JSON tables, see
:mod:`fusioncheck.loaders.nuscenes`), ``av2`` (Argoverse 2 sensor logs, :mod:`fusioncheck.loaders.av2`),
``openlabel`` (ASAM OpenLABEL, :mod:`fusioncheck.loaders.openlabel`). Detection (``--format auto``) uses
the layout predicates of :mod:`fusioncheck.loaders.detect`, which also know formats whose loader may be
missing from an installation; opening those says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fusioncheck.errors import InputError
from fusioncheck.loaders.av2 import AV2Source, find_av2_logs
from fusioncheck.loaders.base import DataSource
from fusioncheck.loaders.detect import DETECTED_LAYOUTS, is_kitti_folder, openlabel_files
from fusioncheck.loaders.kitti import KittiSource
from fusioncheck.loaders.nuscenes import TABLES, NuScenesSource, find_version_folders
from fusioncheck.loaders.openlabel import OpenLabelSource

#: Format name -> (detector: path -> bool, opener: path -> DataSource, what the detector looks for).
FORMATS: dict[str, tuple[Callable[[Path], bool], Callable[[Path], DataSource], str]] = {
    "nuscenes": (
        lambda path: bool(find_version_folders(path)),
        NuScenesSource,
        "a nuScenes dataroot: a folder with a version sub-folder (e.g. v1.0-trainval/) holding the "
        f"{len(TABLES)} JSON tables (scene.json, sample.json, sample_data.json, ...)",
    ),
    "kitti": (
        is_kitti_folder,
        KittiSource,
        "a KITTI object or tracking folder: calib/ and velodyne/ (in the folder, training/ or testing/)",
    ),
    "av2": (
        lambda path: bool(find_av2_logs(path)),
        AV2Source,
        "Argoverse 2 sensor logs: a log folder (city_SE3_egovehicle.feather, calibration/) or logs below",
    ),
    "openlabel": (
        lambda path: bool(openlabel_files(path)),
        OpenLabelSource,
        'ASAM OpenLABEL: a .json file starting with {"openlabel": ...}, or a folder holding such files',
    ),
}


def detect_format(path: str | Path) -> str:
    """Name the format of the dataset at ``path`` (e.g. ``"nuscenes"``).

    Raises:
        InputError: the path does not exist, holds no known format (the message says what was looked for)
            or matches several.
    """
    root = Path(path)
    if not root.exists():
        raise InputError("input path does not exist", path=root)
    # Formats registered in FORMATS without a layout predicate in detect.py are tried with their own.
    layout_names = {name for name, _, _ in DETECTED_LAYOUTS}
    layouts = list(DETECTED_LAYOUTS)
    layouts += [(name, entry[0], entry[2]) for name, entry in FORMATS.items() if name not in layout_names]
    found = [name for name, predicate, _ in layouts if predicate(root)]
    if len(found) == 1:
        return found[0]
    if found:
        raise InputError(
            f"the path matches several formats ({', '.join(found)}); choose one with --format", path=root
        )
    looked_for = "; ".join(what for _, _, what in layouts)
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
        if any(name == layout for layout, _, _ in DETECTED_LAYOUTS):
            raise InputError(
                f"the data is in the {name} format, but this installation of fusioncheck has no {name} "
                f"loader (fusioncheck.loaders.{name}); known loaders: {', '.join(FORMATS)}",
                path=path,
            )
        raise InputError(f"unknown format {format!r}; known formats: auto, {', '.join(FORMATS)}", path=path)
    return FORMATS[name][1](Path(path))


__all__ = [
    "FORMATS",
    "AV2Source",
    "DataSource",
    "KittiSource",
    "NuScenesSource",
    "OpenLabelSource",
    "detect_format",
    "open_source",
]
