"""Accuracy of the per-class size bias (classes.<name>.size_bias) against simulated ground truth.

For each seed: simulate a clean log, then derive shrunk logs from it by scaling the written car boxes'
length by (1 - s) about their centre in ``sample_annotation.json`` — exactly what the simulator's
``shrink`` fault writes (it only changes the written box; the sweeps are the same, see
``simulate/labels.py``), without simulating the sweeps again. ``tests/checks/test_size_bias_accuracy.py``
checks one seed with the simulator's own fault.

Reports per s: the bias error (estimate - truth) per seed, how often the 95 % interval covers the truth,
and, on the clean logs, how often each estimable class x axis interval contains 0.

    python scripts/accuracy_size_bias.py --seeds 20 --out /tmp/size_bias_accuracy
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.policy import Policy
from fusioncheck.report.builder import build_report
from fusioncheck.runner import plan, run_tasks
from fusioncheck.simulate import SimConfig, simulate

AXES = ("length", "width", "height")
CLASS = "vehicle.car"


def config() -> SimConfig:
    """The small rig with the full rig's horizontal resolution and more objects (denser car boxes)."""
    return replace(SimConfig.small(), lidar_azimuth_steps=1080, n_objects=40)


def size_bias(root: Path) -> dict[str, Any]:
    policy = Policy({"box_fit": {}})
    tasks, inputs = plan([str(root)], "auto")
    report = build_report(run_tasks(tasks, policy, progress=False), inputs, policy)
    return {c: v["size_bias"] for c, v in report["classes"].items() if v["size_bias"]}


def shrink_copy(clean: Path, out: Path, axis: str, s: float) -> None:
    """The clean dataroot with car boxes scaled by (1 - s) on ``axis`` (tables copied, sensors linked)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for entry in clean.iterdir():
        if entry.name.startswith("v1.0-"):
            shutil.copytree(entry, out / entry.name)
        else:
            (out / entry.name).symlink_to(entry.resolve())
    tables = next(out.glob("v1.0-*"))
    categories = {c["token"]: c["name"] for c in json.loads((tables / "category.json").read_text())}
    instances = {
        i["token"]: categories[i["category_token"]]
        for i in json.loads((tables / "instance.json").read_text())
    }
    records = json.loads((tables / "sample_annotation.json").read_text())
    k = {"width": 0, "length": 1, "height": 2}[axis]  # nuScenes stores w, l, h
    for r in records:
        if instances[r["instance_token"]] == CLASS:
            old = r["size"][k]
            r["size"][k] = old * (1.0 - s)
            if axis == "height":  # keep the bottom on the ground, as the simulator does
                r["translation"][2] -= 0.5 * old * s
    (tables / "sample_annotation.json").write_text(json.dumps(records))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--axis", default="length", choices=AXES)
    parser.add_argument("--shrinks", default="0.05,0.10,0.20")
    parser.add_argument("--out", type=Path, default=Path("/tmp/size_bias_accuracy"))
    args = parser.parse_args()
    shrinks = [float(v) for v in args.shrinks.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / f"results_{args.axis}.json"
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if str(seed) in results:
            continue
        start = time.perf_counter()
        clean = args.out / f"clean-{seed}"
        if not (clean / "faults.json").exists():
            if clean.exists():
                shutil.rmtree(clean)
            simulate(clean, scenes=args.scenes, seed=seed, config=config())
        truth = json.loads((clean / "faults.json").read_text())["annotations"]
        true_rel = [
            np.array(a["written_size_lwh_m"]) / np.array(a["true_size_lwh_m"]) - 1.0
            for a in truth.values()
            if a["class"] == CLASS and not a["ghost"]
        ]
        label_bias = np.mean(true_rel, axis=0)  # the clean label noise's own mean (about 0)
        entry: dict[str, Any] = {"clean": size_bias(clean), "label_noise_mean": label_bias.tolist()}
        for s in shrinks:
            # A new folder per log: data sources cache tables by path.
            shrunk = args.out / f"shrunk-{seed}-{s:.2f}"
            shrink_copy(clean, shrunk, args.axis, s)
            k = AXES.index(args.axis)
            entry[f"{s:.2f}"] = {
                "truth": float((1.0 + label_bias[k]) * (1.0 - s) - 1.0),
                "size_bias": size_bias(shrunk).get(CLASS),
            }
            shutil.rmtree(shrunk)
        results[str(seed)] = entry
        results_path.write_text(json.dumps(results, indent=1))
        print(f"seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    summarize(results, args.axis, shrinks)


def summarize(results: dict[str, Any], axis: str, shrinks: list[float]) -> None:
    print(f"\n{len(results)} seeds, class {CLASS}, axis {axis}")
    for s in shrinks:
        errors, covered, support = [], 0, []
        for entry in results.values():
            e = entry[f"{s:.2f}"]
            sb = e["size_bias"]
            if sb is None or sb[axis] is None:
                continue
            errors.append(sb[axis] - e["truth"])
            lo, hi = sb["ci95"][axis]
            covered += lo <= e["truth"] <= hi
            support.append((sb["boxes"][axis], sb["tracks"][axis]))
        err = np.array(errors)
        if err.size == 0:
            print(f"s = {s:.2f}: no estimate")
            continue
        print(
            f"s = {s:.2f}: estimated in {err.size} seeds; |error| max {100 * np.abs(err).max():.2f} pp, "
            f"mean {100 * err.mean():+.2f} pp; within ±2 pp: {np.mean(np.abs(err) <= 0.02):.0%}; "
            f"CI covers truth: {covered}/{err.size} = {covered / err.size:.0%}; "
            f"boxes/tracks median {np.median([b for b, _ in support]):.0f}/"
            f"{np.median([t for _, t in support]):.0f}"
        )
    contains, total = 0, 0
    per: dict[str, list[int]] = {}
    for entry in results.values():
        for category, sb in entry["clean"].items():
            for ax in AXES:
                if sb.get(ax) is None:
                    continue
                lo, hi = sb["ci95"][ax]
                ok = int(lo <= 0.0 <= hi)
                contains += ok
                total += 1
                per.setdefault(f"{category}.{ax}", []).append(ok)
    share = contains / max(total, 1)
    print(f"clean: interval contains 0 in {contains}/{total} = {share:.0%} of classes x axes x seeds")
    for key, oks in sorted(per.items()):
        print(f"   {key}: {sum(oks)}/{len(oks)}")


if __name__ == "__main__":
    main()
