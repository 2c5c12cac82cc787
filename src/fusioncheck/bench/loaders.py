"""Loading speed of each format against the same data in the nuScenes layout (``fusioncheck bench loaders``).

"Loading a log" is what every run does before checking: open the source, build every sequence's scene
model, and read every LiDAR sweep and radar scan (images are decoded only by checks that look at pixels,
so they are left out). Each format is timed on a conversion of one dataset, next to the nuScenes-layout
copy of the same data written by :mod:`fusioncheck.convert`, in one run, alternating, warm (one untimed
pass first: file cache, the OpenLABEL schema compiled once per process). Reported: median seconds and the
speed ratio ``t_nuscenes / t_format`` (1.0 = as fast; the issue's target is >= 0.8).

Pairs:

- ``openlabel``: the repository's simulated sample (nuScenes) vs its OpenLABEL conversion;
- ``av2``: the real Argoverse 2 excerpt (``../shared/realdata/av2``, when present and pyarrow installed)
  vs its nuScenes conversion;
- ``openlabel (av2)``: the AV2 excerpt's OpenLABEL conversion vs its nuScenes conversion (11,364 boxes),
  both holding the same content (ego poses at the sensor samples only);
- ``openlabel (av2)+``: the same with all 2,392 AV2 ego poses written as frames (content the nuScenes
  copy cannot hold, so that copy does less work: a lower bound of the ratio).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fusioncheck.convert.nuscenes_writer import write_nuscenes
from fusioncheck.convert.openlabel_writer import write_openlabel
from fusioncheck.errors import InputError
from fusioncheck.loaders import open_source
from fusioncheck.scene.sensors import Modality

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE = REPO_ROOT / "data" / "sample"
REALDATA_AV2 = REPO_ROOT.parent / "shared" / "realdata" / "av2"


def load_log(path: Path, format_name: str) -> dict[str, int]:
    """Open ``path``, build every sequence and read every LiDAR and radar file; return what was read."""
    source = open_source(path, format_name)
    boxes = points = files = unreadable = 0
    for name in source.sequence_names():
        sequence = source.load_sequence(name)
        boxes += len(sequence.annotations)
        for channel, samples in sequence.samples.items():
            modality = sequence.sensors[channel].modality
            for sample in samples:
                if modality is Modality.LIDAR:
                    points += source.read_lidar(sample).points.shape[0]
                    files += 1
                elif modality is Modality.RADAR:
                    try:
                        points += source.read_radar(sample).records.shape[0]
                    except InputError:
                        unreadable += 1  # counted alike in both copies (the data are the same files)
                    files += 1
    return {"boxes": boxes, "points": points, "files": files, "unreadable": unreadable}


def _time(path: Path, format_name: str, repeats: int) -> tuple[list[float], dict[str, int]]:
    contents = load_log(path, format_name)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_log(path, format_name)
        times.append(time.perf_counter() - start)
    return times, contents


def _pair(
    name: str, format_path: Path, format_name: str, nuscenes_path: Path, repeats: int
) -> dict[str, Any]:
    format_times: list[float] = []
    nuscenes_times: list[float] = []
    contents: dict[str, dict[str, int]] = {}
    # Alternate so that machine load hits both sides alike.
    for _ in range(repeats):
        t, contents[format_name] = _time(format_path, format_name, 1)
        format_times += t
        t, contents["nuscenes"] = _time(nuscenes_path, "nuscenes", 1)
        nuscenes_times += t
    if contents[format_name] != contents["nuscenes"]:
        raise RuntimeError(f"{name}: the two copies hold different data: {contents}")
    t_format = statistics.median(format_times)
    t_nuscenes = statistics.median(nuscenes_times)
    return {
        "pair": name,
        "format": format_name,
        "contents": contents[format_name],
        "median_s": {format_name: t_format, "nuscenes": t_nuscenes},
        "speed_ratio": t_nuscenes / t_format,
        "repeats": repeats,
    }


def run_loaders_bench(repeats: int = 7, work_dir: Path | None = None) -> dict[str, Any]:
    """Time every available pair (see the module docstring); conversions are written to ``work_dir``."""
    results: list[dict[str, Any]] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        root = Path(tmp)
        sample = open_source(SAMPLE, "nuscenes")
        write_openlabel(sample, root / "sample-openlabel")
        results.append(_pair("openlabel", root / "sample-openlabel", "openlabel", SAMPLE, repeats))
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            skipped.append("av2: pyarrow is not installed")
        else:
            if REALDATA_AV2.is_dir():
                av2 = open_source(REALDATA_AV2, "av2")
                write_nuscenes(av2, root / "av2-nuscenes")
                write_openlabel(av2, root / "av2-openlabel", all_ego_poses=False)
                write_openlabel(av2, root / "av2-openlabel-poses")
                nuscenes = root / "av2-nuscenes"
                results.append(_pair("av2", REALDATA_AV2, "av2", nuscenes, repeats))
                results.append(
                    _pair("openlabel (av2)", root / "av2-openlabel", "openlabel", nuscenes, repeats)
                )
                results.append(
                    _pair("openlabel (av2)+", root / "av2-openlabel-poses", "openlabel", nuscenes, repeats)
                )
            else:
                skipped.append(f"av2: {REALDATA_AV2} not found")
    return {"results": results, "skipped": skipped}


def format_loaders_bench(result: dict[str, Any]) -> str:
    """Return the bench as a table."""
    lines = [
        "loading a log (open + build every sequence + read every LiDAR/radar file), warm medians",
        f"{'pair':<18}{'boxes':>8}{'files':>7}{'format s':>11}{'nuScenes s':>12}{'speed vs nuScenes':>19}",
    ]
    for r in result["results"]:
        t = r["median_s"]
        lines.append(
            f"{r['pair']:<18}{r['contents']['boxes']:>8}{r['contents']['files']:>7}"
            f"{t[r['format']]:>11.4f}{t['nuscenes']:>12.4f}{r['speed_ratio']:>18.2f}x"
        )
    lines += [f"skipped: {s}" for s in result["skipped"]]
    lines.append("target: speed >= 0.80x (issue 8)")
    return "\n".join(lines)
