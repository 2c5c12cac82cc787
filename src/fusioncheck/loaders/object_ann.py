"""Optional nuImages-style 2D boxes of a nuScenes-layout dataroot: ``<version>/object_ann.json``.

Extension fusioncheck honours (ignored by nuScenes tools): a list of records

    {"token": str, "sample_data_token": str, "bbox": [u_min, v_min, u_max, v_max],
     "category_token": str (or "category_name": str), "instance_token": str (optional)}

as in nuImages' ``object_ann`` table (``bbox`` in pixels of the original image, pixel centres at integer
coordinates). With ``instance_token`` the 2D box is linked to that instance's 3D box of the same keyframe
(the ``sample`` of the ``sample_data``); without it, checks pair boxes by class and IoU. fusioncheck's
simulator writes this file when asked (``simulate(..., image_boxes=True)``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fusioncheck.errors import InputError
from fusioncheck.scene.boxes_2d import ImageBox

FILE_NAME = "object_ann.json"


def read_object_ann(
    path: Path, tables: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, tuple[ImageBox, ...]]:
    """Read ``object_ann.json`` (if it exists) into ``sample_data token -> 2D boxes``.

    Args:
        path: the file.
        tables: the dataroot's parsed tables (``category``, ``sample_data``, ``sample_annotation``).

    Raises:
        InputError: unreadable JSON, a record without the required fields, a bad box, or a token that
            names no record (the message names the file and the record).
    """
    if not path.is_file():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"object_ann is not readable JSON: {exc}", path=path) from None
    if not isinstance(records, list):
        raise InputError("object_ann: expected a JSON list of records", path=path)
    categories = {t: r.get("name", "") for t, r in tables["category"].items()}
    annotation_of: dict[tuple[str, str], str] = {
        (r["instance_token"], r["sample_token"]): t
        for t, r in tables["sample_annotation"].items()
        if "instance_token" in r and "sample_token" in r
    }
    out: dict[str, list[ImageBox]] = {}
    for i, r in enumerate(records):
        token = r.get("token", f"#{i}") if isinstance(r, dict) else f"#{i}"
        if not isinstance(r, dict):
            raise InputError("record is not an object", path=path, table="object_ann", record=token)
        sd_token = str(r.get("sample_data_token"))
        sd = tables["sample_data"].get(sd_token)
        if sd is None:
            raise InputError(
                f"sample_data_token {sd_token!r} names no sample_data",
                path=path,
                table="object_ann",
                record=token,
            )
        bbox = r.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox)):
            raise InputError(
                f"bbox must be 4 numbers, got {bbox!r}", path=path, table="object_ann", record=token
            )
        if not all(math.isfinite(v) for v in bbox) or bbox[2] < bbox[0] or bbox[3] < bbox[1]:
            raise InputError(f"bbox must be finite [u_min, v_min, u_max, v_max], got {bbox}", path=path,
                             table="object_ann", record=token)  # fmt: skip
        if "category_token" in r:
            category = categories.get(r["category_token"])
            if category is None:
                raise InputError(f"category_token {r['category_token']!r} names no category", path=path,
                                 table="object_ann", record=token)  # fmt: skip
        elif isinstance(r.get("category_name"), str):
            category = r["category_name"]
        else:
            raise InputError("record needs category_token or category_name", path=path, table="object_ann",
                             record=token)  # fmt: skip
        instance = r.get("instance_token") or None
        annotation = annotation_of.get((instance, sd.get("sample_token", ""))) if instance else None
        out.setdefault(sd_token, []).append(
            ImageBox(
                token=str(token),
                sample_token=sd_token,
                category=category,
                bbox_px=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])),
                annotation=annotation,
                instance=instance,
            )
        )
    return {k: tuple(v) for k, v in out.items()}
