"""Round trip over several simulated seeds: nuScenes -> OpenLABEL (both cuboid forms) -> nuScenes.

For each seed: simulate a small faulty log (the sample's fault spec), convert it, read every copy back,
and compare boxes (largest centre/size/rotation difference) and the findings of every check (check,
annotation, instance, sensor, time, score to 1e-6). Prints one line per seed and copy; exits 1 on any
difference beyond 1 mm / 0.01 deg or any finding that differs.

With ``--av2`` (default ``../shared/realdata/av2`` when present) the real AV2 excerpt is also converted to
both formats and compared with itself the same way.

    PYTHONPATH=src python scripts/roundtrip_formats.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from fusioncheck.convert.nuscenes_writer import write_nuscenes
from fusioncheck.convert.openlabel_writer import write_openlabel
from fusioncheck.geometry import quaternion
from fusioncheck.loaders import NuScenesSource, OpenLabelSource, open_source
from fusioncheck.loaders.base import DataSource
from fusioncheck.pipeline import check_sequence
from fusioncheck.policy import Policy
from fusioncheck.simulate import SimConfig, simulate
from fusioncheck.simulate.faults import FaultSpec

FAULTS = Path(__file__).resolve().parent / "sample_faults.json"


def findings(source: DataSource, name: str) -> list[tuple[object, ...]]:
    result = check_sequence(source, name, Policy.default())
    if result.error:
        raise RuntimeError(result.error)
    return [
        (f.check, f.annotation, f.instance, f.sensor, f.timestamp_us, round(f.score, 6))
        for f in result.findings
    ]


def compare(original: DataSource, copy: DataSource) -> tuple[float, float, float, int, bool]:
    worst = [0.0, 0.0, 0.0]
    count = 0
    same = True
    for name in original.sequence_names():
        a = {b.token: b for b in original.load_sequence(name).annotations}
        b = {x.token: x for x in copy.load_sequence(name).annotations}
        if a.keys() != b.keys():
            return (np.inf, np.inf, np.inf, 0, False)
        for token, box in a.items():
            other = b[token]
            worst[0] = max(worst[0], float(np.abs(box.center_m - other.center_m).max()))
            worst[1] = max(worst[1], float(np.abs(box.size_m - other.size_m).max()))
            worst[2] = max(
                worst[2], float(np.degrees(quaternion.angle_between(box.quat_wxyz, other.quat_wxyz)))
            )
        fa, fb = findings(original, name), findings(copy, name)
        count += len(fa)
        same &= fa == fb
    return (*worst, count, same)


def report(label: str, centre: float, size: float, angle: float, count: int, same: bool) -> None:
    print(
        f"{label:<36} centre {centre:.2e} m  size {size:.2e} m  rotation {angle:.2e} deg  "
        f"findings {count:3d} {'identical' if same else 'DIFFERENT'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--av2",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared" / "realdata" / "av2",
        help="also convert this AV2 folder (skipped when absent)",
    )
    args = parser.parse_args()
    faults = FaultSpec.from_dict(json.loads(FAULTS.read_text(encoding="utf-8")), str(FAULTS))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            root = Path(tmp) / f"seed{seed}"
            simulate(root / "nuscenes", scenes=1, seed=seed, faults=faults, config=SimConfig.small())
            original = NuScenesSource(root / "nuscenes")
            copies: dict[str, DataSource] = {}
            for form in ("quaternion", "euler"):
                write_openlabel(original, root / f"openlabel-{form}", cuboid_form=form)
                copies[f"openlabel/{form}"] = OpenLabelSource(root / f"openlabel-{form}")
            write_nuscenes(copies["openlabel/euler"], root / "back")
            copies["openlabel/euler -> nuscenes"] = NuScenesSource(root / "back")
            for label, copy in copies.items():
                centre, size, angle, count, same = compare(original, copy)
                ok = centre <= 1e-3 and size <= 1e-3 and angle <= 0.01 and same
                failures += not ok
                report(f"seed {seed} {label}", centre, size, angle, count, same)
        if args.av2.is_dir():
            av2 = open_source(args.av2, "av2")
            write_nuscenes(av2, Path(tmp) / "av2-nuscenes")
            write_openlabel(av2, Path(tmp) / "av2-openlabel")
            for label, copy in (
                ("av2 -> nuscenes", NuScenesSource(Path(tmp) / "av2-nuscenes")),
                ("av2 -> openlabel", OpenLabelSource(Path(tmp) / "av2-openlabel")),
            ):
                centre, size, angle, count, same = compare(av2, copy)
                failures += not (centre <= 1e-3 and size <= 1e-3 and angle <= 0.01 and same)
                report(label, centre, size, angle, count, same)
    print(f"{'all identical' if failures == 0 else f'{failures} copies differ'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
