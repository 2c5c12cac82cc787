"""Which format a path holds: one predicate per layout, looking at names and a few bytes only.

Detection never imports a format's loader (nor pyarrow), so it also names formats whose loader is not
installed; :func:`fusioncheck.loaders.open_source` then says so. Each predicate accepts the dataset's
root as a user would pass it:

``nuscenes``
    a folder with a version sub-folder (``v1.0-*``) holding nuScenes JSON tables.
``kitti``
    a folder with ``calib/`` and ``velodyne/`` (object or tracking layout; labels in ``label_2/`` or
    ``label_02/`` are optional), or a KITTI root whose ``training/`` or ``testing/`` sub-folder is one.
``av2``
    an Argoverse 2 log folder (``city_SE3_egovehicle.feather`` and ``calibration/``) or a folder with
    such logs up to three levels down (``sensor/val/<log>``).
``openlabel``
    a ``.json`` file whose top-level key is ``"openlabel"``, or a folder holding such files directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fusioncheck.loaders.av2 import find_av2_logs
from fusioncheck.loaders.nuscenes import find_version_folders

#: Bytes read from the start of a ``.json`` file to tell whether it is OpenLABEL.
_SNIFF_BYTES = 4096
_OPENLABEL_START = re.compile(rb'^\s*\{\s*"openlabel"\s*:')


def is_kitti_folder(path: Path) -> bool:
    """Tell whether ``path`` holds the KITTI object or tracking layout (itself or training/, testing/).

    ``calib/`` and ``velodyne/`` mark it (labels ``label_2/``/``label_02/`` are optional: the testing split
    has none), the same rule as the KITTI loader's, so that ``--format auto`` finds what it opens.
    """
    if not path.is_dir():
        return False
    return any(
        (folder / "calib").is_dir() and (folder / "velodyne").is_dir()
        for folder in (path, path / "training", path / "testing")
    )


def is_openlabel_file(path: Path) -> bool:
    """Tell whether ``path`` is a ``.json`` file whose first key is ``"openlabel"``."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError:
        return False
    return _OPENLABEL_START.match(head.lstrip(b"\xef\xbb\xbf")) is not None


def openlabel_files(path: Path) -> list[Path]:
    """List the OpenLABEL files at ``path``: itself if it is one, else those directly in the folder."""
    if path.is_file():
        return [path] if is_openlabel_file(path) else []
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if is_openlabel_file(p))


#: (format name, predicate on a path, what the predicate looks for), in the order they are tried.
DETECTED_LAYOUTS: list[tuple[str, Callable[[Path], bool], str]] = [
    (
        "nuscenes",
        lambda path: bool(find_version_folders(path)),
        "nuScenes: a folder with a version sub-folder (e.g. v1.0-trainval/) holding the 13 JSON tables "
        "(scene.json, sample.json, sample_data.json, ...)",
    ),
    (
        "kitti",
        is_kitti_folder,
        "KITTI: a folder (or its training/ or testing/) with calib/ and velodyne/",
    ),
    (
        "av2",
        lambda path: bool(find_av2_logs(path)),
        "Argoverse 2: a log folder with city_SE3_egovehicle.feather and calibration/, or logs below it",
    ),
    (
        "openlabel",
        lambda path: bool(openlabel_files(path)),
        'OpenLABEL: a .json file starting with {"openlabel": ...}, or a folder holding such files',
    ),
]


def matching_layouts(path: Path) -> list[str]:
    """Names of every layout whose predicate accepts ``path``, in :data:`DETECTED_LAYOUTS` order."""
    return [name for name, predicate, _ in DETECTED_LAYOUTS if predicate(path)]
