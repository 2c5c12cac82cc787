"""Fault specification: which label faults the simulator injects, read from a JSON file.

Format (every key optional; an empty object ``{}`` is a clean run)::

    {
      "shrink": {"vehicle.car": {"length": -0.15, "width": -0.05}, "human.pedestrian.adult": {"height": 0.1}},
      "delete": {"fraction": 0.1, "unit": "box"},
      "ghost": 3,
      "label_time_offset_ms": 50,
      "radar": {"fraction": 0.3},
      "stream_time_offsets": {"CAM_FRONT": 30, "RADAR_FRONT": {"offset_ms": -20, "drift_ms_per_s": 0.5}}
    }

- ``shrink``: nuScenes category -> axis (``length``, ``width``, ``height``) -> relative size change
  (``-0.15`` = 15 % smaller, ``+0.1`` = 10 % larger; must be > -1). Applied to every box of the class:
  written size = true size x (1 + factor) x (1 + label noise). Length and width shrink about the box
  centre; height keeps the box bottom on the ground.
- ``delete``: ``{"fraction": f}`` (0..1) or ``{"count": n}``, per scene, optional ``"unit"``: ``"box"``
  (default: single boxes) or ``"track"`` (whole tracks: every box of an instance).
- ``ghost``: boxes without an object added per scene (an integer, or ``{"count": n}``), each at a random
  keyframe, 5..50 m from the LiDAR, on a lane, bike lane, parking bay or sidewalk as suits its class,
  clear of every object, clutter structure, the ego and other ghosts, and holding no LiDAR return other
  than ground returns. A ghost for which no such place is found in 200 tries is skipped (``faults.json``
  lists the ghosts actually added).
- ``label_time_offset_ms``: every box is drawn where its object was at ``timestamp + offset`` (the
  DESIGN.md sign convention: +50 means the boxes show the world 50 ms after their stamp).
- ``size_noise``: nuScenes category -> relative standard deviation of extra per-box size noise (each
  axis independently), on top of ``shrink`` and the clean label noise: ``{"vehicle.car": 0.03}``.
- ``size_jitter``: ``{"fraction": f, "magnitude": m}``: a fraction ``f`` of the boxes of tracks with at
  least 3 boxes get one axis (height for pedestrians) scaled by ``1 ± m`` (random sign), single frames.
- ``duplicate``: boxes per scene copied as a second annotation of the same object (a new one-box
  track), moved by up to 10 % of its smaller footprint side, turned by up to 3 degrees, resized by up
  to ±3 %: 3D IoU > 0.5.
- ``heading_flip``: boxes per scene (inside tracks of at least 3 boxes) whose yaw is turned by 180°.

The last four are written to ``faults.json`` under ``label_faults`` (one record per affected box) and
appear in the spec only when active, so that fault files and simulations without them are unchanged.
- ``camera_calibration``: camera channel -> ``{"rotation_deg": [roll, pitch, yaw], "translation_m":
  [forward, left, up]}`` (each optional, default zeros). Images are rendered with the true extrinsic, but
  ``calibrated_sensor`` states ``ego_from_camera_true @ E``, with ``E`` the rotation vector
  ``roll, pitch, yaw`` about the camera's forward (z), left (-x) and up (-y) axes followed by the
  translation (``fusioncheck.checks.calibration_search`` convention): the correction that fixes the
  stated extrinsic is ``E^-1``. Default: no camera faulted.
- ``shift``: ``{"fraction": f, "lateral_m": d}``: a fraction ``f`` (0..1) of the (non-ghost) boxes is
  moved sideways by ``d`` metres (to the box's left, perpendicular to its heading). Default: none.

- ``radar``: radar faults on moving objects, per scene: ``{"fraction": f}`` (0..1) of the objects that
  move during the scene or ``{"count": n}``. The chosen objects alternate between two kinds:
  ``heading_flipped`` (every radar return of the object carries the Doppler of the object driving the
  opposite way) and ``velocity_zeroed`` (its returns show no motion, as for a parked object). The
  labels are untouched: labelled motion and radar disagree, which is what ``radar_velocity_mismatch``
  must find. Default: none.
- ``stream_time_offsets``: per stream (``labels``, a camera or radar channel) a constant offset and a
  drifting clock (see :mod:`fusioncheck.simulate.stream_clocks`); default none.

Unknown keys at any level raise :class:`~fusioncheck.errors.PolicyError` naming the key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fusioncheck.errors import PolicyError
from fusioncheck.geometry.se3 import SE3
from fusioncheck.simulate.rig import CAMERA_CHANNELS
from fusioncheck.simulate.stream_clocks import StreamClock, parse_stream_clocks
from fusioncheck.simulate.taxonomy import CATEGORY_NAMES

AXES: tuple[str, ...] = ("length", "width", "height")
_TOP_KEYS = (
    "shrink",
    "delete",
    "ghost",
    "label_time_offset_ms",
    "camera_calibration",
    "shift",
    "radar",
    "stream_time_offsets",
)
_SHIFT_KEYS = ("fraction", "lateral_m")
_CALIBRATION_KEYS = ("rotation_deg", "translation_m")
#: Camera-frame unit vectors of the calibration fault's axes: forward (z), left (-x), up (-y).
_CAMERA_AXES = ((0.0, 0.0, 1.0), (-1.0, 0.0, 0.0), (0.0, -1.0, 0.0))
_RADAR_KEYS = ("fraction", "count")
#: Kinds of radar fault, assigned in turn to the chosen objects.
RADAR_FAULT_KINDS: tuple[str, ...] = ("heading_flipped", "velocity_zeroed")
_LABEL_FAULT_KEYS = ("size_noise", "size_jitter", "duplicate", "heading_flip")
_JITTER_KEYS = ("fraction", "magnitude")
_DELETE_KEYS = ("fraction", "count", "unit")
_DELETE_UNITS = ("box", "track")


@dataclass(frozen=True)
class DeleteSpec:
    """Boxes to delete per scene: a ``fraction`` of them or a ``count``, as single boxes or whole tracks.

    Attributes:
        fraction: 0..1 of the scene's boxes (unit box) or tracks (unit track).
        count: number of boxes or tracks (used when ``fraction`` is 0).
        unit: ``"box"`` or ``"track"``.
    """

    fraction: float = 0.0
    count: int = 0
    unit: str = "box"

    @property
    def active(self) -> bool:
        """True when anything is deleted."""
        return self.fraction > 0.0 or self.count > 0


@dataclass(frozen=True)
class JitterSpec:
    """Single-frame size jitter inside tracks.

    Attributes:
        fraction: 0..1 of the eligible boxes (tracks of >= 3 boxes) that are jittered.
        magnitude: relative size change of the jittered axis (0 < m < 1), sign random.
    """

    fraction: float = 0.0
    magnitude: float = 0.1

    @property
    def active(self) -> bool:
        """True when any box is jittered."""
        return self.fraction > 0.0


@dataclass(frozen=True)
class CameraCalibrationFault:
    """An error of one camera's stated extrinsic (see the module docstring for the convention).

    Attributes:
        rotation_deg: ``(roll, pitch, yaw)`` degrees about the camera's forward, left and up axes.
        translation_m: ``(forward, left, up)`` metres.
    """

    rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    translation_m: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        for name in _CALIBRATION_KEYS:
            value = getattr(self, name)
            if len(value) != 3 or not all(math.isfinite(v) for v in value):
                raise PolicyError(f"camera_calibration.{name} must be 3 finite numbers, got {value}")
        if max(abs(v) for v in self.rotation_deg) > 30.0 or max(abs(v) for v in self.translation_m) > 5.0:
            raise PolicyError("camera_calibration: rotation within +-30 deg and translation within +-5 m")

    def error_transform(self) -> SE3:
        """``E``: the camera-frame motion with ``stated = true @ E``."""
        axes = np.array(_CAMERA_AXES)
        rotvec = np.radians(np.asarray(self.rotation_deg, dtype=np.float64)) @ axes
        rotation, _ = cv2.Rodrigues(rotvec.reshape(3, 1))
        return SE3(
            np.asarray(rotation, dtype=np.float64), np.asarray(self.translation_m, dtype=np.float64) @ axes
        )


@dataclass(frozen=True)
class RadarFaultSpec:
    """Moving objects whose radar Doppler is faulted, per scene: a ``fraction`` of them or a ``count``.

    Attributes:
        fraction: 0..1 of the objects that move during the scene.
        count: number of such objects (used when ``fraction`` is 0).
    """

    fraction: float = 0.0
    count: int = 0

    @property
    def active(self) -> bool:
        """True when any object is faulted."""
        return self.fraction > 0.0 or self.count > 0


@dataclass(frozen=True)
class FaultSpec:
    """Label faults to inject (see the module docstring for the JSON format).

    Attributes:
        shrink: category -> axis -> relative size change.
        delete: boxes to delete.
        ghost: ghost boxes to add per scene.
        label_time_offset_ms: time offset of every label, milliseconds.
        size_noise: category -> relative standard deviation of extra per-box size noise.
        size_jitter: single-frame size jitter along tracks.
        duplicate: duplicated boxes per scene.
        heading_flip: boxes per scene turned by 180 degrees.
        radar: moving objects whose radar returns carry a wrong Doppler.
        stream_time_offsets: stream -> clock fault (constant offset, drift); empty = none.
    """

    shrink: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    delete: DeleteSpec = field(default_factory=DeleteSpec)
    ghost: int = 0
    label_time_offset_ms: float = 0.0
    camera_calibration: Mapping[str, CameraCalibrationFault] = field(default_factory=dict)
    shift_fraction: float = 0.0
    shift_lateral_m: float = 0.0
    radar: RadarFaultSpec = field(default_factory=RadarFaultSpec)
    stream_time_offsets: Mapping[str, StreamClock] = field(default_factory=dict)
    size_noise: Mapping[str, float] = field(default_factory=dict)
    size_jitter: JitterSpec = field(default_factory=JitterSpec)
    duplicate: int = 0
    heading_flip: int = 0

    def __post_init__(self) -> None:
        if not (0.0 <= self.shift_fraction <= 1.0) or not (math.isfinite(self.shift_lateral_m)):
            raise PolicyError(f"shift: fraction must lie in 0..1 and lateral_m be finite, got "
                              f"{self.shift_fraction}, {self.shift_lateral_m}")  # fmt: skip
        _validate_shrink(self.shrink, "shrink")
        if not (0.0 <= self.delete.fraction <= 1.0):
            raise PolicyError(f"delete.fraction must lie in 0..1, got {self.delete.fraction}")
        if self.delete.count < 0:
            raise PolicyError(f"delete.count must be >= 0, got {self.delete.count}")
        if self.delete.fraction > 0 and self.delete.count > 0:
            raise PolicyError("delete: give either 'fraction' or 'count', not both")
        if self.delete.unit not in _DELETE_UNITS:
            raise PolicyError(f"delete.unit must be one of {list(_DELETE_UNITS)}, got {self.delete.unit!r}")
        if not (0.0 <= self.radar.fraction <= 1.0) or self.radar.count < 0:
            raise PolicyError(
                "radar: fraction must lie in 0..1 and count be >= 0, "
                f"got {self.radar.fraction}, {self.radar.count}"
            )
        if self.radar.fraction > 0 and self.radar.count > 0:
            raise PolicyError("radar: give either 'fraction' or 'count', not both")
        if self.ghost < 0:
            raise PolicyError(f"ghost must be >= 0, got {self.ghost}")
        if not math.isfinite(self.label_time_offset_ms) or abs(self.label_time_offset_ms) > 10_000:
            raise PolicyError(
                f"label_time_offset_ms must be finite and within +-10000, got {self.label_time_offset_ms}"
            )
        for category, sd in self.size_noise.items():
            if category not in CATEGORY_NAMES:
                raise PolicyError(f"unknown key {category!r} in 'size_noise' (not a nuScenes category)")
            if not math.isfinite(sd) or not 0.0 <= sd < 0.5:
                raise PolicyError(f"'size_noise.{category}' must lie in 0..0.5, got {sd}")
        if not 0.0 <= self.size_jitter.fraction <= 1.0:
            raise PolicyError(f"size_jitter.fraction must lie in 0..1, got {self.size_jitter.fraction}")
        if not 0.0 < self.size_jitter.magnitude < 1.0:
            raise PolicyError(f"size_jitter.magnitude must lie in (0, 1), got {self.size_jitter.magnitude}")
        if self.duplicate < 0 or self.heading_flip < 0:
            raise PolicyError("duplicate and heading_flip must be >= 0")

    @property
    def has_label_faults(self) -> bool:
        """True when a per-box label fault of :mod:`fusioncheck.simulate.label_faults` is active."""
        return (
            any(sd > 0.0 for sd in self.size_noise.values())
            or self.size_jitter.active
            or self.duplicate > 0
            or self.heading_flip > 0
        )

    @property
    def is_clean(self) -> bool:
        """True when no fault is injected."""
        return (
            not any(f != 0.0 for axes in self.shrink.values() for f in axes.values())
            and not self.delete.active
            and self.ghost == 0
            and self.label_time_offset_ms == 0.0
            and not self.has_label_faults
            and not self.camera_calibration
            and not (self.shift_fraction > 0.0 and self.shift_lateral_m != 0.0)
            and not self.radar.active
            and all(c.is_clean for c in self.stream_time_offsets.values())
        )

    def stated_camera_extrinsic(self, channel: str, ego_from_camera: SE3) -> SE3:
        """Return the extrinsic to write for ``channel``: the true one, or ``true @ E`` when faulted."""
        fault = self.camera_calibration.get(channel)
        return ego_from_camera if fault is None else ego_from_camera @ fault.error_transform()

    def clock(self, stream: str) -> StreamClock:
        """Return the clock fault of ``stream`` (a clean clock when none is injected)."""
        return self.stream_time_offsets.get(stream, StreamClock())

    def label_offset_s(self, scene_time_s: float) -> float:
        """Return the labels' total time offset in seconds at ``scene_time_s`` after the first keyframe."""
        return self.label_time_offset_ms * 1e-3 + self.clock("labels").offset_s(scene_time_s)

    def shrink_factors(self, category: str) -> tuple[float, float, float]:
        """Relative change ``(length, width, height)`` for ``category`` (zeros when not shrunk)."""
        axes = self.shrink.get(category, {})
        return (float(axes.get("length", 0.0)), float(axes.get("width", 0.0)), float(axes.get("height", 0.0)))

    def to_dict(self) -> dict[str, Any]:
        """Return the spec in its JSON form."""
        delete: dict[str, Any] = {"unit": self.delete.unit}
        if self.delete.count > 0:
            delete["count"] = self.delete.count
        else:
            delete["fraction"] = self.delete.fraction
        out: dict[str, Any] = {
            "shrink": {c: {a: float(v) for a, v in axes.items()} for c, axes in sorted(self.shrink.items())},
            "delete": delete,
            "ghost": self.ghost,
            "label_time_offset_ms": float(self.label_time_offset_ms),
        }
        # Written only when active: specs without them serialise exactly as before.
        if any(sd > 0.0 for sd in self.size_noise.values()):
            out["size_noise"] = {c: float(v) for c, v in sorted(self.size_noise.items())}
        if self.size_jitter.active:
            out["size_jitter"] = {
                "fraction": float(self.size_jitter.fraction),
                "magnitude": float(self.size_jitter.magnitude),
            }
        if self.duplicate:
            out["duplicate"] = self.duplicate
        if self.heading_flip:
            out["heading_flip"] = self.heading_flip
        if self.shift_fraction > 0.0:  # written only when set, so that older fault records stay identical
            out["shift"] = {"fraction": self.shift_fraction, "lateral_m": self.shift_lateral_m}
        if self.camera_calibration:  # written only when set, so that older fault records stay identical
            out["camera_calibration"] = {
                ch: {"rotation_deg": list(f.rotation_deg), "translation_m": list(f.translation_m)}
                for ch, f in sorted(self.camera_calibration.items())
            }
        if self.radar.active:  # only then: fault records of runs without radar faults stay unchanged
            r = self.radar
            out["radar"] = {"count": r.count} if r.count else {"fraction": r.fraction}
        if self.stream_time_offsets:  # only when set, so that older fault records stay byte-identical
            out["stream_time_offsets"] = {k: c.to_dict() for k, c in sorted(self.stream_time_offsets.items())}
        return out

    @staticmethod
    def from_dict(data: object, source: str = "fault spec") -> FaultSpec:
        """Parse the JSON form; raises :class:`PolicyError` naming ``source`` and the offending key."""
        if not isinstance(data, Mapping):
            raise PolicyError(f"{source}: expected a JSON object at the top level")
        _reject_unknown(data, _TOP_KEYS + _LABEL_FAULT_KEYS, source, "")
        shrink_raw = data.get("shrink", {})
        if not isinstance(shrink_raw, Mapping):
            raise PolicyError(f"{source}: 'shrink' must be an object of category -> axis -> factor")
        shrink: dict[str, dict[str, float]] = {}
        for category, axes in shrink_raw.items():
            if category not in CATEGORY_NAMES:
                raise PolicyError(f"{source}: unknown key {category!r} in 'shrink' (not a nuScenes category)")
            if not isinstance(axes, Mapping):
                raise PolicyError(f"{source}: 'shrink.{category}' must be an object of axis -> factor")
            _reject_unknown(axes, AXES, source, f"shrink.{category}")
            shrink[category] = {
                axis: _number(v, source, f"shrink.{category}.{axis}") for axis, v in axes.items()
            }
        delete_raw = data.get("delete", {})
        if not isinstance(delete_raw, Mapping):
            raise PolicyError(f"{source}: 'delete' must be an object like {{\"fraction\": 0.1}}")
        _reject_unknown(delete_raw, _DELETE_KEYS, source, "delete")
        delete = DeleteSpec(
            fraction=_number(delete_raw.get("fraction", 0.0), source, "delete.fraction"),
            count=_integer(delete_raw.get("count", 0), source, "delete.count"),
            unit=str(delete_raw.get("unit", "box")),
        )
        ghost_raw = data.get("ghost", 0)
        if isinstance(ghost_raw, Mapping):
            _reject_unknown(ghost_raw, ("count",), source, "ghost")
            ghost_raw = ghost_raw.get("count", 0)
        ghost = _integer(ghost_raw, source, "ghost")
        offset = _number(data.get("label_time_offset_ms", 0.0), source, "label_time_offset_ms")
        noise_raw = data.get("size_noise", {})
        if not isinstance(noise_raw, Mapping):
            raise PolicyError(f"{source}: 'size_noise' must be an object of category -> relative sd")
        size_noise = {c: _number(v, source, f"size_noise.{c}") for c, v in noise_raw.items()}
        jitter_raw = data.get("size_jitter", {})
        if not isinstance(jitter_raw, Mapping):
            raise PolicyError(f"{source}: 'size_jitter' must be an object like {{\"fraction\": 0.05}}")
        _reject_unknown(jitter_raw, _JITTER_KEYS, source, "size_jitter")
        jitter = JitterSpec(
            fraction=_number(jitter_raw.get("fraction", 0.0), source, "size_jitter.fraction"),
            magnitude=_number(jitter_raw.get("magnitude", 0.1), source, "size_jitter.magnitude"),
        )
        duplicate = _integer(data.get("duplicate", 0), source, "duplicate")
        heading_flip = _integer(data.get("heading_flip", 0), source, "heading_flip")
        calibration_raw = data.get("camera_calibration", {})
        if not isinstance(calibration_raw, Mapping):
            raise PolicyError(f"{source}: 'camera_calibration' must be an object of camera channel -> fault")
        calibration: dict[str, CameraCalibrationFault] = {}
        for channel, fault in calibration_raw.items():
            where = f"camera_calibration.{channel}"
            if channel not in CAMERA_CHANNELS:
                raise PolicyError(f"{source}: unknown key {channel!r} in 'camera_calibration' (cameras: "
                                  f"{', '.join(CAMERA_CHANNELS)})")  # fmt: skip
            if not isinstance(fault, Mapping):
                raise PolicyError(f"{source}: '{where}' must be an object with rotation_deg / translation_m")
            _reject_unknown(fault, _CALIBRATION_KEYS, source, where)
            vectors = []
            for key in _CALIBRATION_KEYS:
                raw = fault.get(key, [0.0, 0.0, 0.0])
                if not isinstance(raw, list) or len(raw) != 3:
                    raise PolicyError(f"{source}: '{where}.{key}' must be a list of 3 numbers, got {raw!r}")
                vectors.append(tuple(_number(v, source, f"{where}.{key}") for v in raw))
            try:
                calibration[channel] = CameraCalibrationFault(vectors[0], vectors[1])  # type: ignore[arg-type]
            except PolicyError as exc:
                raise PolicyError(f"{source}: {exc}") from None
        shift_raw = data.get("shift", {})
        if not isinstance(shift_raw, Mapping):
            raise PolicyError(
                f'{source}: \'shift\' must be an object like {{"fraction": 0.1, "lateral_m": 0.5}}'
            )
        _reject_unknown(shift_raw, _SHIFT_KEYS, source, "shift")
        shift_fraction = _number(shift_raw.get("fraction", 0.0), source, "shift.fraction")
        shift_lateral = _number(shift_raw.get("lateral_m", 0.0), source, "shift.lateral_m")
        radar_raw = data.get("radar", {})
        if not isinstance(radar_raw, Mapping):
            raise PolicyError(f"{source}: 'radar' must be an object like {{\"fraction\": 0.3}}")
        _reject_unknown(radar_raw, _RADAR_KEYS, source, "radar")
        radar = RadarFaultSpec(
            fraction=_number(radar_raw.get("fraction", 0.0), source, "radar.fraction"),
            count=_integer(radar_raw.get("count", 0), source, "radar.count"),
        )
        clocks = parse_stream_clocks(data.get("stream_time_offsets", {}), source)
        try:
            return FaultSpec(
                shrink,
                delete,
                ghost,
                offset,
                camera_calibration=calibration,
                shift_fraction=shift_fraction,
                shift_lateral_m=shift_lateral,
                radar=radar,
                stream_time_offsets=clocks,
                size_noise=size_noise,
                size_jitter=jitter,
                duplicate=duplicate,
                heading_flip=heading_flip,
            )
        except PolicyError as exc:
            raise PolicyError(f"{source}: {exc}") from None


def _validate_shrink(shrink: Mapping[str, Mapping[str, float]], where: str) -> None:
    for category, axes in shrink.items():
        if category not in CATEGORY_NAMES:
            raise PolicyError(f"unknown key {category!r} in '{where}' (not a nuScenes category)")
        for axis, factor in axes.items():
            if axis not in AXES:
                raise PolicyError(f"unknown key {axis!r} in '{where}.{category}' (axes: {', '.join(AXES)})")
            if not math.isfinite(factor) or factor <= -1.0:
                raise PolicyError(f"'{where}.{category}.{axis}' must be a finite number > -1, got {factor}")


def _reject_unknown(data: Mapping[str, Any], known: tuple[str, ...], source: str, where: str) -> None:
    for key in data:
        if key not in known:
            place = f" in '{where}'" if where else ""
            raise PolicyError(f"{source}: unknown key {key!r}{place} (known: {', '.join(known)})")


def _number(value: object, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"{source}: '{key}' must be a number, got {value!r}")
    return float(value)


def _integer(value: object, source: str, key: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or float(value) != int(value)
    ):
        raise PolicyError(f"{source}: '{key}' must be a whole number, got {value!r}")
    return int(value)


def load_fault_spec(path: Path) -> FaultSpec:
    """Read a fault spec JSON file; raises :class:`PolicyError` naming the file and what is wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{p}: cannot read fault spec: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{p}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return FaultSpec.from_dict(data, source=str(p))
