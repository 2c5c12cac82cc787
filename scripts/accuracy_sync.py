"""Sync accuracy over simulator seeds: every stream's offset estimate against the injected clock faults.

For each seed and each injected offset of the issue's grid {-100, -40, -20, 0, +20, +40, +100} ms, one
scene (the small rig, 10 s, 50 objects; keyframe sweeps and images, every radar scan) is simulated with
that offset on the labels, on every camera and on every radar; the sync check then estimates all streams.
Reported per stream kind: runs, not estimable, the error (median, 95th percentile, max), the share within
the issue's bound (labels 5 ms when >= 5 objects move at >= 3 m/s; cameras 10 ms when the ego moves at
>= 5 m/s; radars 15 ms), the interval's coverage of the truth, and at 0 ms the share of intervals that
contain 0.

    python scripts/accuracy_sync.py --seeds 10 --work /tmp/sync-acc [--streams labels,radar,camera]

Simulated logs are kept in ``--work`` and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.checks.sync import SyncCheck
from fusioncheck.context import SequenceContext
from fusioncheck.loaders.nuscenes import NuScenesSource
from fusioncheck.simulate import FaultSpec, SimConfig, simulate
from fusioncheck.simulate.rig import CAMERA_CHANNELS, RADAR_CHANNELS

OFFSETS_MS = (-100.0, -40.0, -20.0, 0.0, 20.0, 40.0, 100.0)
BOUND_MS = {"labels": 5.0, "camera": 10.0, "radar": 15.0}
CONFIG = replace(SimConfig.small(), duration_s=10.0, n_objects=50)


def kind_of(stream: str) -> str:
    if stream == "labels":
        return "labels"
    return "camera" if stream.startswith("CAM") else "radar"


def simulate_run(work: Path, seed: int, offset_ms: float) -> Path:
    out = work / f"seed{seed}_off{offset_ms:+.0f}"
    if (out / "faults.json").exists():
        return out
    clocks = {ch: offset_ms for ch in (*CAMERA_CHANNELS, *RADAR_CHANNELS)} if offset_ms else {}
    spec = FaultSpec.from_dict({"label_time_offset_ms": offset_ms, "stream_time_offsets": clocks})
    simulate(out, 1, seed, spec, CONFIG)
    return out


def conditions(root: Path, context: SequenceContext) -> dict[str, bool]:
    faults = json.loads((root / "faults.json").read_text())
    speeds: dict[str, list[float]] = {}
    for record in faults["annotations"].values():
        speeds.setdefault(record["instance_token"], []).append(record["speed_mps"])
    movers = sum(1 for s in speeds.values() if np.mean(s) >= 3.0)
    poses = context.sequence.ego_poses
    duration_s = (poses.end_us - poses.start_us) * 1e-6
    ego_speed = float(
        np.linalg.norm(poses.translations_m[-1] - poses.translations_m[0]) / max(duration_s, 1e-9)
    )
    return {
        "labels": movers >= 5,
        "camera": ego_speed >= 5.0,
        "radar": True,
        "movers": movers,
        "ego_speed": ego_speed,
    }  # type: ignore[dict-item]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path("/tmp/fusioncheck-sync-accuracy"))
    parser.add_argument("--streams", default="labels,radar,camera")
    parser.add_argument("--offsets", default=",".join(f"{o:g}" for o in OFFSETS_MS))
    parser.add_argument("--out", type=Path, default=None, help="write every row as JSON here")
    args = parser.parse_args()
    kinds = set(args.streams.split(","))
    offsets = [float(v) for v in args.offsets.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    check = SyncCheck(streams=",".join(sorted(kinds)))
    rows: list[dict[str, Any]] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for offset in offsets:
            start = time.perf_counter()
            root = simulate_run(args.work, seed, offset)
            sim_s = time.perf_counter() - start
            source = NuScenesSource(root)
            context = SequenceContext(source, source.load_sequence(source.sequence_names()[0]))
            cond = conditions(root, context)
            start = time.perf_counter()
            estimates = check.estimates(context)
            est_s = time.perf_counter() - start
            for e in estimates:
                kind = kind_of(e.stream)
                if kind not in kinds:
                    continue
                truth = offset
                row = {
                    "seed": seed, "truth_ms": truth, "stream": e.stream, "kind": kind, "status": e.status,
                    "offset_ms": e.offset_ms, "ci95_ms": e.ci95_ms, "support": e.support, "reason": e.reason,
                    "condition": bool(cond[kind]), "movers": cond["movers"], "ego_speed": cond["ego_speed"],
                }  # fmt: skip
                rows.append(row)
            print(
                f"seed {seed} offset {offset:+5.0f}: simulated in {sim_s:5.1f} s, "
                f"estimated in {est_s:5.2f} s; "
                + " ".join(
                    f"{e.stream}={e.offset_ms:+.1f}" if e.offset_ms is not None else f"{e.stream}=n/a"
                    for e in estimates
                ),
                flush=True,
            )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    summarise(rows)
    return 0


def summarise(rows: list[dict[str, Any]]) -> None:
    print()
    print(f"{'kind':8} {'runs':>5} {'cond':>5} {'n/a':>4} {'med':>6} {'p95':>6} {'max':>6} {'within':>7} "
          f"{'cover':>6} {'0 in ci @0':>10}")  # fmt: skip
    for kind in ("labels", "radar", "camera"):
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue
        cond = [r for r in sel if r["condition"]]
        est = [r for r in cond if r["offset_ms"] is not None and r["status"] != "not_estimable"]
        err = np.array([abs(r["offset_ms"] - r["truth_ms"]) for r in est])
        cover = np.mean([r["ci95_ms"][0] <= r["truth_ms"] <= r["ci95_ms"][1] for r in est]) if est else np.nan
        zero = [r for r in est if r["truth_ms"] == 0.0]
        zero_in = np.mean([r["ci95_ms"][0] <= 0.0 <= r["ci95_ms"][1] for r in zero]) if zero else np.nan
        within = np.mean(err <= BOUND_MS[kind]) if err.size else np.nan
        med, p95, worst = (np.median(err), np.percentile(err, 95), err.max()) if err.size else (np.nan,) * 3
        print(
            f"{kind:8} {len(sel):5d} {len(cond):5d} {len(cond) - len(est):4d} "
            f"{med:6.2f} {p95:6.2f} {worst:6.2f} {within:7.1%} {cover:6.1%} {zero_in:10.1%}"
        )
    cams = sorted({r["stream"] for r in rows if r["kind"] == "camera"})
    for stream in cams:
        est = [r for r in rows if r["stream"] == stream and r["condition"] and r["offset_ms"] is not None
               and r["status"] != "not_estimable"]  # fmt: skip
        n_all = sum(1 for r in rows if r["stream"] == stream and r["condition"])
        if est:
            err = np.array([abs(r["offset_ms"] - r["truth_ms"]) for r in est])
            cover = np.mean([r["ci95_ms"][0] <= r["truth_ms"] <= r["ci95_ms"][1] for r in est])
            print(
                f"  {stream:16} estimated {len(est)}/{n_all}  median {np.median(err):5.2f}  "
                f"max {err.max():6.2f}  within 10 ms {np.mean(err <= 10):6.1%}  cover {cover:6.1%}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
