"""Helpers for tests that alter a copy of a real-data dataroot (the original stays read-only)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

TABLES = "v1.0-fusioncheck"


def copy_dataroot(root: Path, target: Path) -> Path:
    """Copy the tables of ``root`` into ``target``, symlink everything else."""
    target.mkdir(parents=True)
    for entry in root.iterdir():
        if entry.name == TABLES:
            shutil.copytree(entry, target / entry.name)
        else:
            (target / entry.name).symlink_to(entry)
    return target


def delete_annotations(root: Path, fraction: float, min_points: int, seed: int) -> list[dict[str, Any]]:
    """Delete ``fraction`` of the boxes with ``num_lidar_pts >= min_points`` from the copy at ``root``.

    Only boxes with no other box of the same sample within half their length of their centre are
    chosen: PandaSet annotates objects seen by both its LiDARs twice ("sibling boxes"), and deleting one
    of two boxes on the same object leaves the object labelled. The prev/next chains and the instance
    records are mended so the copy stays a valid nuScenes dataroot. Returns the deleted records.
    """
    tables = root / TABLES
    annotations = json.loads((tables / "sample_annotation.json").read_text())
    by_sample: dict[str, list[dict[str, Any]]] = {}
    for a in annotations:
        by_sample.setdefault(a["sample_token"], []).append(a)

    def alone(a: dict[str, Any]) -> bool:
        reach = max(a["size"][:2]) / 2
        return all(
            b is a
            or np.hypot(b["translation"][0] - a["translation"][0], b["translation"][1] - a["translation"][1])
            > reach
            for b in by_sample[a["sample_token"]]
        )

    eligible = [i for i, a in enumerate(annotations) if a["num_lidar_pts"] >= min_points and alone(a)]
    rng = np.random.default_rng(seed)
    chosen = {
        int(i) for i in rng.choice(eligible, size=max(1, round(fraction * len(eligible))), replace=False)
    }
    deleted = [annotations[i] for i in sorted(chosen)]
    gone = {a["token"] for a in deleted}
    by_token = {a["token"]: a for a in annotations}
    kept = [a for a in annotations if a["token"] not in gone]
    for a in kept:
        prev, nxt = a["prev"], a["next"]
        while prev in gone:
            prev = by_token[prev]["prev"]
        while nxt in gone:
            nxt = by_token[nxt]["next"]
        a["prev"], a["next"] = prev, nxt
    (tables / "sample_annotation.json").write_text(json.dumps(kept))
    instances = json.loads((tables / "instance.json").read_text())
    members: dict[str, list[dict[str, Any]]] = {}
    for a in kept:
        members.setdefault(a["instance_token"], []).append(a)
    out = []
    for inst in instances:
        boxes = members.get(inst["token"])
        if not boxes:
            continue
        firsts = [b for b in boxes if not b["prev"]]
        lasts = [b for b in boxes if not b["next"]]
        inst["nbr_annotations"] = len(boxes)
        inst["first_annotation_token"] = firsts[0]["token"]
        inst["last_annotation_token"] = lasts[0]["token"]
        out.append(inst)
    (tables / "instance.json").write_text(json.dumps(out))
    return deleted
