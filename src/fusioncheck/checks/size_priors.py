"""Size priors: typical dimensions per class from public dataset statistics, and implausible boxes.

Prior table (``length, width, height`` in metres, nuScenes class names). Every number is a published
per-class mean of a public dataset's training labels:

==============================  ======  =====  =====  ==========================================
class                           length  width  height  source
==============================  ======  =====  =====  ==========================================
vehicle.car                     4.61    1.95   1.72   nuScenes train, [mmdet3d-nus]
vehicle.truck                   6.74    2.46   2.73   nuScenes train, [mmdet3d-nus]
vehicle.trailer                 12.01   2.87   3.82   nuScenes train, [mmdet3d-nus]
vehicle.bus.rigid               11.19   2.94   3.47   nuScenes train, [mmdet3d-nus]
vehicle.construction            6.38    2.73   3.13   nuScenes train, [mmdet3d-ssn]
vehicle.motorcycle              2.10    0.76   1.44   nuScenes train, [mmdet3d-ssn]
vehicle.bicycle                 1.68    0.60   1.27   nuScenes train, [mmdet3d-nus]
human.pedestrian.adult          0.73    0.66   1.76   nuScenes train, [mmdet3d-nus]
movable_object.trafficcone      0.40    0.40   1.06   nuScenes train, [mmdet3d-nus]
movable_object.barrier          0.49    2.49   0.98   nuScenes train, [mmdet3d-nus]
==============================  ======  =====  =====  ==========================================

Cross-checks from other datasets (not used as priors, quoted so that a user of another dataset can
judge the tolerance): KITTI car 3.88 × 1.63 × 1.53, pedestrian 0.84 × 0.66 × 1.76, cyclist 1.76 × 0.60
× 1.74 [kitti-fpn]; Waymo vehicle 4.73 × 2.08 × 1.77, pedestrian 0.91 × 0.84 × 1.74, cyclist 1.81 × 0.84
× 1.77 [mmdet3d-waymo]. KITTI's cars are 16 % shorter than nuScenes' (European compact cars, tighter
boxes): dataset conventions differ by that much, hence the generous class tolerance below.

Sources:

- [mmdet3d-nus] open-mmlab/mmdetection3d, ``configs/_base_/models/hv_pointpillars_fpn_nus.py``: anchor
  sizes set to the nuScenes training-set class means (l, w, h).
- [mmdet3d-ssn] open-mmlab/mmdetection3d, ``configs/ssn/hv_ssn_secfpn_sbn-all_2x16_2x_nus-3d.py``: the
  same statistics for all ten nuScenes detection classes.
- [kitti-fpn] charlesq34/frustum-pointnets, ``models/model_util.py`` ``type_mean_size``: KITTI training
  means.
- [mmdet3d-waymo] open-mmlab/mmdetection3d, ``configs/_base_/models/hv_pointpillars_secfpn_waymo.py``.

Findings (``implausible_box_size``):

- per box: an axis outside ``[lo, hi] × prior`` (class family bounds, :data:`BOUNDS`), or, for classes
  longer than wide, a box wider than long (length and width swapped, or the yaw off by 90°);
- per class and sequence (``annotation`` empty, ``values.level = "class"``, severity info, classes with
  at least ``min_class_boxes`` boxes): the class's median size deviates from the prior by more than
  ``class_tolerance`` (35 %) on an axis — wrong units, swapped axes or a different class convention
  (nuScenes' bicycle mean mixes parked and ridden bicycles: ridden ones are ~30 % taller; aiMotive's
  highway "trucks" are mostly tractor-trailers, 2.5 times nuScenes' mean length).

``classes.<name>.size_prior`` in report.json: the prior, the dataset's own per-class median over the
run, their relative difference per axis, and the number of boxes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from fusioncheck.checks.base import Check, CheckOutput, Finding, Severity, register, register_class_reducer
from fusioncheck.context import SequenceContext
from fusioncheck.scene.boxes import BoxAnnotation

_AXES = ("length", "width", "height")

#: Class -> prior ``(length, width, height)`` metres and the source key (module docstring).
PRIORS: dict[str, tuple[tuple[float, float, float], str]] = {
    "vehicle.car": ((4.61, 1.95, 1.72), "mmdet3d-nus"),
    "vehicle.truck": ((6.74, 2.46, 2.73), "mmdet3d-nus"),
    "vehicle.trailer": ((12.01, 2.87, 3.82), "mmdet3d-nus"),
    "vehicle.bus.rigid": ((11.19, 2.94, 3.47), "mmdet3d-nus"),
    "vehicle.construction": ((6.38, 2.73, 3.13), "mmdet3d-ssn"),
    "vehicle.motorcycle": ((2.10, 0.76, 1.44), "mmdet3d-ssn"),
    "vehicle.bicycle": ((1.68, 0.60, 1.27), "mmdet3d-nus"),
    "human.pedestrian.adult": ((0.73, 0.66, 1.76), "mmdet3d-nus"),
    "movable_object.trafficcone": ((0.40, 0.40, 1.06), "mmdet3d-nus"),
    "movable_object.barrier": ((0.49, 2.49, 0.98), "mmdet3d-nus"),
}

#: Class-name prefix -> per-axis ``(lo, hi)`` factors of the prior a single box may have; first match.
BOUNDS: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = (
    ("vehicle.car", ((0.5, 1.7), (0.6, 1.5), (0.6, 1.7))),
    ("vehicle.bicycle", ((0.5, 1.6), (0.3, 2.5), (0.5, 1.6))),
    ("vehicle.motorcycle", ((0.5, 1.6), (0.4, 2.5), (0.5, 1.6))),
    ("vehicle.", ((0.3, 2.5), (0.5, 1.5), (0.4, 1.6))),
    ("human.", ((0.2, 3.0), (0.2, 3.0), (0.5, 1.3))),
    ("", ((0.25, 4.0), (0.25, 4.0), (0.25, 4.0))),
)

#: Classes that are longer than wide: a box wider than long has its axes swapped.
ELONGATED = ("vehicle.car", "vehicle.truck", "vehicle.trailer", "vehicle.bus", "vehicle.construction",
             "vehicle.motorcycle", "vehicle.bicycle")  # fmt: skip

#: Sample name of per-box sizes handed to the run-level reducer: items ``[length, width, height]``.
SAMPLE_NAME = "box_sizes"
#: Sample name carrying the class name itself (one item per sequence).
CLASS_SAMPLE_NAME = "size_prior_class"


def bounds_of(category: str) -> tuple[tuple[float, float], ...]:
    """Per-axis ``(lo, hi)`` factors of the prior for ``category``."""
    for prefix, bounds in BOUNDS:
        if category.startswith(prefix):
            return bounds
    return BOUNDS[-1][1]


@register
class SizePriorCheck(Check):
    """Box sizes against public per-class priors (module docstring)."""

    name = "size_priors"
    finding_types = ("implausible_box_size",)
    defaults: ClassVar[dict[str, Any]] = {"class_tolerance": 0.35, "min_class_boxes": 10, "swap_margin": 1.1}

    def run(self, context: SequenceContext) -> CheckOutput:
        """Judge every box and every class median of the sequence."""
        out = CheckOutput()
        sequence = context.sequence.name
        by_class: dict[str, list[BoxAnnotation]] = {}
        for box in context.sequence.annotations:
            by_class.setdefault(box.category, []).append(box)
        for category, boxes in sorted(by_class.items()):
            samples = out.class_samples.setdefault(category, {})
            samples[SAMPLE_NAME] = [[round(float(v), 4) for v in b.size_m] for b in boxes]
            samples[CLASS_SAMPLE_NAME] = [category]
            if category not in PRIORS:
                out.tally(category, "implausible_box_size", 0, 0)
                continue
            prior = np.array(PRIORS[category][0])
            for box in boxes:
                verdict = self._judge_box(box, prior)
                out.tally(category, "implausible_box_size", 1, int(verdict is not None))
                if verdict is not None:
                    out.findings.append(self._finding(sequence, box, *verdict))
            self._judge_class(sequence, category, np.stack([b.size_m for b in boxes]), prior, out)
        out.notes.extend(
            f"size_priors: no published prior for class {c}; its boxes were not judged"
            for c in sorted(by_class)
            if c not in PRIORS
        )
        return out

    def _judge_box(self, box: BoxAnnotation, prior: np.ndarray) -> tuple[float, str, dict[str, Any]] | None:
        size = box.size_m
        ratio = size / prior
        if box.category.startswith(ELONGATED) and size[1] > self.parameters["swap_margin"] * size[0]:
            values = {
                "size_m": [round(float(v), 3) for v in size],
                "prior_m": prior.tolist(),
                "kind": "swapped",
            }
            message = (
                f"{box.category} box is wider ({size[1]:.2f} m) than long ({size[0]:.2f} m): length and "
                "width swapped or yaw off by 90°"
            )
            return 0.9, message, values
        worst, excess = -1, 0.0
        for k, (lo, hi) in enumerate(bounds_of(box.category)):
            # Excess in log space, relative to the allowed factor: 0 at the bound, 1 at twice as far.
            e = max(np.log(lo / ratio[k]) / abs(np.log(lo)), np.log(ratio[k] / hi) / abs(np.log(hi)))
            if e > excess:
                worst, excess = k, float(e)
        if worst < 0:
            return None
        lo, hi = bounds_of(box.category)[worst]
        values = {
            "axis": _AXES[worst],
            "size_m": [round(float(v), 3) for v in size],
            "prior_m": prior.tolist(),
            "allowed_m": [round(lo * prior[worst], 3), round(hi * prior[worst], 3)],
            "kind": "out_of_range",
        }
        message = (
            f"{box.category} box {_AXES[worst]} {size[worst]:.2f} m is outside the plausible "
            f"{lo * prior[worst]:.2f}..{hi * prior[worst]:.2f} m (prior {prior[worst]:.2f} m)"
        )
        return 0.5 + 0.5 * min(1.0, excess), message, values

    def _judge_class(
        self, sequence: str, category: str, sizes: np.ndarray, prior: np.ndarray, out: CheckOutput
    ) -> None:
        tolerance = self.parameters["class_tolerance"]
        if sizes.shape[0] < self.parameters["min_class_boxes"]:
            return
        median = np.median(sizes, axis=0)
        deviation = median / prior - 1.0
        worst = int(np.argmax(np.abs(deviation)))
        excess = abs(deviation[worst]) - tolerance
        if excess <= 0:
            return
        out.findings.append(
            Finding(
                check="implausible_box_size",
                severity=Severity.INFO,  # a dataset may define a class differently: information
                sequence=sequence,
                score=round(0.5 + 0.5 * min(1.0, excess / tolerance), 4),
                message=(
                    f"{category} median {_AXES[worst]} {median[worst]:.2f} m deviates "
                    f"{100 * deviation[worst]:+.0f} % from the published prior {prior[worst]:.2f} m "
                    f"({sizes.shape[0]} boxes)"
                ),
                category=category,
                values={
                    "level": "class",
                    "axis": _AXES[worst],
                    "median_m": [round(float(v), 3) for v in median],
                    "prior_m": prior.tolist(),
                    "deviation": [round(float(v), 4) for v in deviation],
                    "boxes": int(sizes.shape[0]),
                    "source": PRIORS[category][1],
                },
            )
        )

    def _finding(
        self, sequence: str, box: BoxAnnotation, score: float, message: str, values: dict[str, Any]
    ) -> Finding:
        return Finding(
            check="implausible_box_size",
            severity=Severity.WARNING,
            sequence=sequence,
            score=round(float(score), 4),
            message=message,
            annotation=box.token,
            instance=box.instance,
            timestamp_us=box.timestamp_us,
            category=box.category,
            position_m=(float(box.center_m[0]), float(box.center_m[1]), float(box.center_m[2])),
            values=values,
        )


def class_size_prior(samples: dict[str, list[Any]]) -> dict[str, Any] | None:
    """Reducer of ``classes.<name>.size_prior``: the prior, the run's median and their relative difference.

    ``samples[SAMPLE_NAME]``: per-box ``[length, width, height]``; ``samples[CLASS_SAMPLE_NAME]``: the class
    name (reducers see one class's samples, not its name).
    """
    sizes = samples.get(SAMPLE_NAME, [])
    names = samples.get(CLASS_SAMPLE_NAME, [])
    if not sizes or not names:
        return None
    category = str(names[0])
    median = np.median(np.array(sizes, dtype=np.float64).reshape(-1, 3), axis=0)
    out: dict[str, Any] = {
        "median_m": dict(zip(_AXES, (round(float(v), 3) for v in median), strict=True)),
        "boxes": len(sizes),
        "prior_m": None,
        "source": None,
        "deviation": None,
    }
    if category in PRIORS:
        prior, source = PRIORS[category]
        out["prior_m"] = dict(zip(_AXES, prior, strict=True))
        out["source"] = source
        out["deviation"] = {
            a: round(float(m / p - 1.0), 4) for a, m, p in zip(_AXES, median, prior, strict=True)
        }
    return out


register_class_reducer("size_prior", class_size_prior)
