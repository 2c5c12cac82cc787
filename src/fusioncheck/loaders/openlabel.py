"""Reader of ASAM OpenLABEL 1.0 files (JSON) and the sensor files they reference, into the scene model.

One OpenLABEL file is one sequence, named by its ``metadata.name`` when the file starts with it (read from
the first 4 KB, so listing a folder's sequences parses no file), else by the file name without ``.json``.
The source's path is a file or a folder holding such files. What is read and how (``docs/openlabel.md``
has the full profile):

- **Validation**: each file is checked against the OpenLABEL 1.0.0 JSON Schema (vendored in
  ``fusioncheck/resources``) before it is used; a violation raises an :class:`InputError` naming the JSON
  path of the offending value and the rule it breaks.
- **Coordinate systems**: a tree by ``parent``; ``pose_wrt_parent`` is the transform taking points from the
  child to the parent (``parent_from_child``), given as ``matrix4x4``, ``quaternion`` (x, y, z, w) +
  ``translation``, or ``euler_angles`` + ``sequence`` (default ``ZYX``) + ``translation``. The root is the
  global frame. The **ego frame** is the deepest common ancestor of the stream coordinate systems that is
  not itself a sensor's; per-frame ``frame_properties.transforms`` (by ``src``/``dst``, either direction)
  override static poses of the edges between the ego frame and the root, giving the ego pose per frame.
  Per-frame transforms below the ego frame (moving sensor calibration) are refused.
- **Streams**: ``camera`` (``intrinsics_pinhole``: ``camera_matrix`` 3x4 whose last column must be 0,
  ``distortion_coeffs`` OpenCV order), ``lidar`` and ``radar``; each needs a coordinate system of the same
  name. Fisheye and custom intrinsics are refused. ``gps_imu``/``other`` streams carry nothing fusioncheck
  checks and are ignored.
- **Frames**: ``frame_properties.timestamp`` in seconds (a number, Unix time) or an ISO 8601 string. A
  frame's ``streams`` give each sensor's data file (``uri``, relative to the OpenLABEL file's folder) and
  its own time (``stream_properties.sync.timestamp``, default the frame's); vehicle poses are interpolated
  between frames (and extrapolated up to :data:`POSE_EXTRAPOLATION_US` beyond the first and last). Every
  frame is an annotated keyframe unless its ``frame_properties.fusioncheck.keyframe`` is ``false``
  (fusioncheck's writer marks frames it adds for sweeps and ego poses that way).
- **Cuboids** (``object_data.cuboid``, per frame, or static in ``objects`` for the object's frame
  intervals): ``val`` of 10 values ``(x, y, z, qx, qy, qz, qw, sx, sy, sz)`` or 9 values
  ``(x, y, z, rx, ry, rz, sx, sy, sz)`` with ``R = R_Z(rz) R_Y(ry) R_X(rx)``; centre at the box's centre;
  ``sx, sy, sz`` along the box's own x, y, z = (length, width, height). In ``coordinate_system`` (of the
  cuboid, else of its object; required when the file has several). The object's uid is its track; the
  instance id is the object's ``name`` when names are unique in the file, else its uid; the class is the
  object's ``type``.
- **Sensor files**: LiDAR ``.pcd`` (fields ``x y z`` and any others), ``.pcd.bin`` (nuScenes float32 x, y,
  z, intensity, ring) or ``.bin`` (KITTI float32 x, y, z, intensity); radar ``.pcd`` (nuScenes fields);
  images any format OpenCV reads. Points are in the stream's coordinate system.

fusioncheck extensions (all optional, ignored by other tools): ``frame_properties.fusioncheck``
``{keyframe, token}``; per-frame ``stream_properties.fusioncheck`` ``{token, point_times_uri}`` (per-point
LiDAR times, ``.npy`` float32 seconds relative to the sample time); cuboid ``attributes``: ``text``
``token``, ``attribute`` (repeatable), ``visibility``; ``num`` ``num_lidar_pts``, ``num_radar_pts``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from fusioncheck.errors import InputError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.euler import euler_to_matrix, is_valid_sequence
from fusioncheck.geometry.se3 import SE3
from fusioncheck.loaders.base import DataSource
from fusioncheck.loaders.detect import openlabel_files
from fusioncheck.loaders.images import decode_image
from fusioncheck.loaders.pcd import read_lidar_bin, read_pcd, read_radar_pcd
from fusioncheck.scene.boxes import BoxAnnotation
from fusioncheck.scene.poses import PoseTrack, same_time_poses
from fusioncheck.scene.samples import CameraImage, LidarSweep, RadarScan, SensorSample
from fusioncheck.scene.sensors import CameraIntrinsics, Modality, Sensor
from fusioncheck.scene.sequence import Keyframe, Sequence
from fusioncheck.typing import FloatArray

#: The schema file in ``fusioncheck/resources``.
SCHEMA_RESOURCE = "openlabel_schema-1.0.0.json"
#: A sample may lie this far (microseconds) before the first or after the last frame; its vehicle pose is
#: then extrapolated from the two nearest frames (constant velocity, constant orientation).
POSE_EXTRAPOLATION_US = 100_000
#: Stream types and the modality they become; other types are ignored.
STREAM_MODALITIES: dict[str, Modality] = {
    "camera": Modality.CAMERA,
    "lidar": Modality.LIDAR,
    "radar": Modality.RADAR,
}

Json = dict[str, Any]


@cache
def openlabel_schema() -> Json:
    """Return the vendored OpenLABEL 1.0.0 JSON Schema (parsed once)."""
    text = (Path(__file__).resolve().parents[1] / "resources" / SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: Json = json.loads(text)
    return schema


@cache
def _fast_validator() -> Any:
    """Compile the schema with fastjsonschema (~30x faster than jsonschema), once per process."""
    import fastjsonschema

    return fastjsonschema.compile(openlabel_schema())


def schema_violations(document: object, limit: int = 5) -> list[str]:
    """Describe up to ``limit`` schema violations of ``document`` (empty when it is valid OpenLABEL 1.0).

    Each line names the JSON path of the offending value and the broken rule. A valid document is
    confirmed by the compiled validator alone; an invalid one is described by jsonschema, whose messages
    say more.
    """
    import fastjsonschema

    try:
        _fast_validator()(document)
        return []
    except fastjsonschema.JsonSchemaValueException:
        pass
    import jsonschema

    validator = jsonschema.Draft7Validator(openlabel_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for error in errors[:limit]:
        # For oneOf/anyOf, the deepest sub-error that is not a bare type mismatch says the most (a cuboid
        # "val" of 11 numbers: "is too long" rather than "is not of type 'null'").
        candidates = list(error.context) if error.context else [error]
        best = min(candidates, key=lambda e: (-len(e.absolute_path), e.validator == "type"))
        message = best.message if len(best.message) <= 300 else best.message[:297] + "..."
        out.append(f"{json_path(best.absolute_path)}: {message}")
    if len(errors) > limit:
        out.append(f"... and {len(errors) - limit} more")
    return out


def json_path(parts: Iterable[object]) -> str:
    """Dotted JSON path of a value: ``$.openlabel.frames.0.objects.3.object_data.cuboid[0].val``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def parse_timestamp_us(value: object) -> int:
    """OpenLABEL timestamp -> integer microseconds: seconds (number) or an ISO 8601 string.

    Raises:
        ValueError: anything else, or an ISO string without a time zone.
    """
    if isinstance(value, bool):
        raise ValueError(f"timestamp must be seconds or an ISO 8601 string, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"timestamp {value} is not finite")
        return round(value * 1_000_000)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return parse_timestamp_us(number)
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"timestamp {value!r} is neither seconds nor ISO 8601") from None
        if moment.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no time zone (add Z or +00:00)")
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        delta = moment - epoch
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise ValueError(f"timestamp must be seconds or an ISO 8601 string, got {type(value).__name__}")


class OpenLabelSource(DataSource):
    """ASAM OpenLABEL files: one file per sequence (see the module docstring).

    Args:
        path: an OpenLABEL ``.json`` file or a folder holding such files.
        validate: check each file against the OpenLABEL JSON Schema when its sequence is loaded.

    Raises:
        InputError: no OpenLABEL file at ``path``, or two files with one sequence name.
    """

    format_name = "openlabel"

    def __init__(self, path: str | Path, validate: bool = True) -> None:
        base = Path(path).absolute()
        if not base.exists():
            raise InputError("input path does not exist", path=base)
        files = openlabel_files(base)
        if not files:
            raise InputError('no OpenLABEL file (a .json file starting with {"openlabel": ...})', path=base)
        self._root = base
        self.validate = validate
        self._files: dict[str, Path] = {}
        # (sample token, data file) -> its per-point-times file (fusioncheck extension), filled as sequences
        # are built; the data file tells apart samples of different files that share a token.
        self._point_times: dict[tuple[str, Path], Path] = {}
        for file in files:
            name = metadata_name(file) or file.name.removesuffix(".json")
            if name in self._files:
                raise InputError(f"sequence name {name!r} is also used by {self._files[name]}", path=file)
            self._files[name] = file

    @property
    def root(self) -> str:
        """The file or folder the source was opened on."""
        return str(self._root)

    def sequence_names(self) -> list[str]:
        """Sequence names, in file-name order."""
        return list(self._files)

    def file_of(self, name: str) -> Path:
        """Return the OpenLABEL file of sequence ``name``."""
        file = self._files.get(name)
        if file is None:
            raise InputError(
                f"unknown sequence {name!r}; available: {', '.join(self._files)}", path=self._root
            )
        return file

    def load_sequence(self, name: str) -> Sequence:
        """Parse, validate and build one file's sequence (sensor files are not read).

        Raises:
            InputError: schema violations (with JSON paths) or any unsupported or inconsistent content.
        """
        file = self.file_of(name)
        document = _read_json(file)
        if self.validate:
            violations = schema_violations(document)
            if violations:
                raise InputError(
                    "not valid ASAM OpenLABEL 1.0.0 (JSON Schema): " + "; ".join(violations), path=file
                )
        builder = _Builder(file, document, name)
        sequence = builder.build()
        self._point_times.update(builder.point_times)
        return sequence

    def read_lidar(self, sample: SensorSample) -> LidarSweep:
        """Read a LiDAR file (``.pcd``, ``.pcd.bin`` or ``.bin``); points in the stream's frame."""
        if sample.modality is not Modality.LIDAR:
            raise ValueError(f"sample {sample.token} is not a LiDAR sample")
        path = sample.path
        name = path.name.lower()
        try:
            if name.endswith(".pcd.bin"):
                points = read_lidar_bin(path, columns=5)
                columns: tuple[str, ...] = ("x", "y", "z", "intensity", "ring")
            elif name.endswith(".bin"):
                points = read_lidar_bin(path, columns=4)
                columns = ("x", "y", "z", "intensity")
            elif name.endswith(".pcd"):
                records = read_pcd(path)
                fields = records.dtype.names or ()
                missing = [f for f in ("x", "y", "z") if f not in fields]
                if missing:
                    raise InputError(f"point cloud has no field(s) {', '.join(missing)}", path=path)
                columns = ("x", "y", "z", *(f for f in fields if f not in ("x", "y", "z")))
                points = np.stack([records[f].astype(np.float32) for f in columns], axis=1)
            else:
                raise InputError("LiDAR file is not .pcd, .pcd.bin or .bin", path=path)
        except InputError as error:
            raise InputError(error.message, path=error.path, record=sample.token) from error
        times_path = self._point_times.get((sample.token, sample.path))
        times = None if times_path is None else _read_point_times(times_path, sample, points.shape[0])
        return LidarSweep(sample, np.ascontiguousarray(points, dtype=np.float32), times, columns)

    def read_radar(self, sample: SensorSample) -> RadarScan:
        """Read a radar ``.pcd`` scan with the nuScenes radar fields."""
        if sample.modality is not Modality.RADAR:
            raise ValueError(f"sample {sample.token} is not a radar sample")
        if not sample.path.is_file():
            raise InputError("sensor file missing", path=sample.path, record=sample.token)
        return RadarScan(sample, read_radar_pcd(sample.path))

    def read_image(self, sample: SensorSample, scale: float = 1.0, grey: bool = False) -> CameraImage:
        """Decode a camera image at ``scale`` 1, 0.5, 0.25 or 0.125."""
        if sample.modality is not Modality.CAMERA:
            raise ValueError(f"sample {sample.token} is not a camera sample")
        return decode_image(sample, scale, grey)


#: ``{"openlabel": {"metadata": {... "name": "<name>" ...}`` at the start of a file (no nested object before
#: the name), as fusioncheck's writer and most tools lay it out.
_METADATA_NAME = re.compile(
    rb'^\s*\{\s*"openlabel"\s*:\s*\{\s*"metadata"\s*:\s*\{[^{}]*?"name"\s*:\s*("(?:[^"\\]|\\.)*")'
)


def metadata_name(file: Path) -> str | None:
    """``metadata.name`` when it stands at the start of the file (read from its first 4 KB), else None."""
    try:
        with file.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    match = _METADATA_NAME.match(head.lstrip(b"\xef\xbb\xbf"))
    if match is None:
        return None
    try:
        name = json.loads(match.group(1).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return name if isinstance(name, str) and name else None


def _read_json(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"unreadable: {err}", path=file) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"malformed JSON at line {err.lineno} column {err.colno} (char {err.pos}): {err.msg}", path=file
        ) from None


def _read_point_times(times_path: Path, sample: SensorSample, n_points: int) -> np.ndarray:
    """Load a sweep's per-point times (``.npy``, float seconds relative to the sample time)."""
    try:
        times = np.load(times_path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise InputError(f"unreadable per-point times: {err}", path=times_path, record=sample.token) from None
    if (
        times.ndim != 1
        or times.shape[0] != n_points
        or times.dtype.kind != "f"
        or not np.all(np.isfinite(times))
    ):
        raise InputError(
            f"per-point times hold {times.shape} {times.dtype}; the sweep {sample.path.name} has {n_points} "
            "points (expected finite float seconds, one per point)",
            path=times_path,
            record=sample.token,
        )
    return times.astype(np.float32)


@dataclass
class _CoordinateSystem:
    name: str
    parent: str
    kind: str
    pose: SE3 | None  # parent_from_child


class _Builder:
    """Builds the :class:`Sequence` of one parsed OpenLABEL document (one use)."""

    def __init__(self, file: Path, document: Json, name: str) -> None:
        self.file = file
        self.folder = file.parent
        self.name = name
        if not isinstance(document, dict) or not isinstance(document.get("openlabel"), dict):
            self._fail("$", 'the top level must be an object {"openlabel": {...}}')
        self.doc: Json = document["openlabel"]
        self.point_times: dict[tuple[str, Path], Path] = {}

    def _fail(self, where: str, message: str) -> NoReturn:
        raise InputError(message, path=self.file, record=where)

    def _object(self, value: object, where: str) -> Json:
        """``value`` when it is a JSON object, ``{}`` when absent; anything else is refused."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._fail(where, f"expected an object, got {type(value).__name__} {value!r:.60}")
        return value

    # ------------------------------------------------------------------ structure

    def build(self) -> Sequence:
        self.cs = self._coordinate_systems()
        self.streams = self._streams()
        self._link_roots()
        self.ego = self._ego_frame()
        self.below_ego = set(self.cs) - set(self._chain(self.ego))
        frames = self._frames()
        sensors = {
            name: self._sensor(name, modality, props) for name, (modality, props) in self.streams.items()
        }
        poses = self._pose_track(frames)
        samples, keyframe_samples = self._samples(frames, poses, sensors)
        keyframes = self._keyframes(frames, keyframe_samples)
        return Sequence(
            name=self.name,
            token=self.name,
            dataroot=str(self.file),
            sensors=dict(sorted((c, sensors[c]) for c in samples)),
            ego_poses=poses,
            keyframes=keyframes,
            samples=dict(sorted(samples.items())),
            description=str(self.doc.get("metadata", {}).get("comment", "")),
        )

    def _coordinate_systems(self) -> dict[str, _CoordinateSystem]:
        raw = self.doc.get("coordinate_systems", {})
        out: dict[str, _CoordinateSystem] = {}
        for name, body in raw.items():
            where = f"$.openlabel.coordinate_systems.{name}"
            pose = None
            if body.get("pose_wrt_parent") is not None:
                pose = self._transform(body["pose_wrt_parent"], f"{where}.pose_wrt_parent")
            out[name] = _CoordinateSystem(name, body.get("parent", ""), str(body.get("type", "")), pose)
        for system in out.values():
            if system.parent and system.parent not in out:
                self._fail(
                    f"$.openlabel.coordinate_systems.{system.name}",
                    f"parent {system.parent!r} is not a coordinate system of the file",
                )
            seen = {system.name}
            current = system
            while current.parent:
                if current.parent in seen:
                    self._fail(f"$.openlabel.coordinate_systems.{system.name}", "parents form a cycle")
                seen.add(current.parent)
                current = out[current.parent]
        return out

    def _link_roots(self) -> None:
        """Join a second root tree (the vehicle's, as VCD writes it) under the world root.

        Files may declare the world and the vehicle frame both as roots and give their relation per frame
        only (a ``frame_properties.transforms`` entry between them). The root whose tree holds no stream is
        the world; the vehicle's root is made its child, with no static pose.
        """
        roots = [s.name for s in self.cs.values() if not s.parent]
        if len(roots) <= 1:
            return
        stream_roots = {self._chain(name)[-1] for name in self.streams}
        world = [r for r in roots if r not in stream_roots]
        if len(stream_roots) != 1 or len(world) != 1 or len(roots) != 2:
            self._fail(
                "$.openlabel.coordinate_systems",
                f"several root coordinate systems ({', '.join(roots)}): fusioncheck accepts one, or two when "
                "one holds no stream (the world) and the other holds every stream (the vehicle)",
            )
        (vehicle_root,) = stream_roots
        self.cs[vehicle_root].parent = world[0]

    def _chain(self, name: str) -> list[str]:
        """``name`` and its ancestors up to the root."""
        chain = [name]
        while self.cs[chain[-1]].parent:
            chain.append(self.cs[chain[-1]].parent)
        return chain

    def _streams(self) -> dict[str, tuple[Modality, Json]]:
        out: dict[str, tuple[Modality, Json]] = {}
        for name, body in self.doc.get("streams", {}).items():
            kind = body.get("type")
            modality = STREAM_MODALITIES.get(kind) if isinstance(kind, str) else None
            if modality is None:
                continue
            if name not in self.cs:
                self._fail(
                    f"$.openlabel.streams.{name}",
                    f"{kind} stream {name!r} has no coordinate system of the same name; fusioncheck needs "
                    "one to place its data",
                )
            out[name] = (modality, body.get("stream_properties") or {})
        if not out:
            self._fail("$.openlabel.streams", "no camera, lidar or radar stream")
        return out

    def _ego_frame(self) -> str:
        """Name the deepest common ancestor of the stream frames that is not a stream's own frame."""
        chains = [list(reversed(self._chain(name))) for name in self.streams]
        common: list[str] = []
        for level in zip(*chains, strict=False):
            if len(set(level)) != 1:
                break
            common.append(level[0])
        while common and (common[-1] in self.streams or self.cs[common[-1]].kind == "sensor_cs"):
            common.pop()
        if not common:
            self._fail(
                "$.openlabel.coordinate_systems",
                "cannot tell the vehicle frame: the stream coordinate systems share no ancestor that is "
                "not itself a sensor's",
            )
        return common[-1]

    # ------------------------------------------------------------------ transforms

    def _transform(self, data: Json, where: str) -> SE3:
        """``transform_data`` -> SE3 (``parent_from_child`` for poses, ``dst_from_src`` for transforms)."""
        if "matrix4x4" in data:
            values = data["matrix4x4"]
            if len(values) != 16:
                self._fail(f"{where}.matrix4x4", f"expected 16 values, got {len(values)}")
            m = np.asarray(values, dtype=np.float64).reshape(4, 4)
            if not np.all(np.isfinite(m)) or not np.allclose(m[3], [0.0, 0.0, 0.0, 1.0]):
                self._fail(f"{where}.matrix4x4", "last row must be 0 0 0 1 and all values finite")
            r = m[:3, :3]
            if not np.allclose(r @ r.T, np.eye(3), atol=1e-4) or np.linalg.det(r) < 0:
                self._fail(f"{where}.matrix4x4", "the 3x3 part is not a rotation (scale or shear is refused)")
            # Re-orthonormalise within the tolerance just checked, so round-off in files does not accumulate.
            return SE3(quaternion.to_matrix(quaternion.from_matrix(r)), m[:3, 3])
        translation_list = data.get("translation", [])
        if len(translation_list) != 3 or not all(math.isfinite(v) for v in translation_list):
            self._fail(f"{where}.translation", "expected 3 finite numbers")
        if "quaternion" in data:
            # Plain floats: one transform per frame, and numpy's per-call cost would dominate.
            x, y, z, w = (float(v) for v in data["quaternion"])
            norm = math.sqrt(w * w + x * x + y * y + z * z)
            if not abs(norm - 1.0) <= quaternion.UNIT_NORM_TOLERANCE:
                self._fail(f"{where}.quaternion", f"{[x, y, z, w]} (x, y, z, w) is not of unit norm")
            w, x, y, z = w / norm, x / norm, y / norm, z / norm
            rotation = np.array(
                [
                    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
                ]
            )
            return SE3(rotation, np.array(translation_list, dtype=np.float64))
        translation = np.asarray(translation_list, dtype=np.float64)
        if "euler_angles" in data:
            sequence = data.get("sequence", "ZYX")
            if not isinstance(sequence, str) or not is_valid_sequence(sequence.upper()):
                self._fail(f"{where}.sequence", f"unsupported Euler sequence {sequence!r} (three of X, Y, Z)")
            angles = np.asarray(data["euler_angles"], dtype=np.float64)
            if not np.all(np.isfinite(angles)):
                self._fail(f"{where}.euler_angles", "angles must be finite")
            return SE3(euler_to_matrix(angles, sequence.upper()), translation)
        self._fail(
            where, "a transform needs matrix4x4, quaternion + translation or euler_angles + translation"
        )

    def _frame_transforms(self, frame_id: int, props: Json) -> dict[tuple[str, str], SE3]:
        """Per-frame edges ``(child, parent) -> parent_from_child`` from ``frame_properties.transforms``."""
        out: dict[tuple[str, str], SE3] = {}
        below_ego = self.below_ego
        for key, body in (props.get("transforms") or {}).items():
            where = f"$.openlabel.frames.{frame_id}.frame_properties.transforms.{key}"
            src, dst = body["src"], body["dst"]
            for name in (src, dst):
                if name not in self.cs:
                    self._fail(where, f"coordinate system {name!r} is not declared")
            dst_from_src = self._transform(body["transform_src_to_dst"], f"{where}.transform_src_to_dst")
            if self.cs[src].parent == dst:
                child, parent, pose = src, dst, dst_from_src
            elif self.cs[dst].parent == src:
                child, parent, pose = dst, src, dst_from_src.inverse()
            else:
                self._fail(
                    where, f"transforms only between a coordinate system and its parent ({src} -> {dst})"
                )
            if child in below_ego:
                self._fail(
                    where,
                    f"per-frame transform of {child!r}, below the vehicle frame {self.ego!r}: fusioncheck "
                    "needs one calibration per sensor and sequence",
                )
            out[(child, parent)] = pose
        return out

    def _root_from(self, name: str, dynamic: dict[tuple[str, str], SE3], where: str) -> SE3:
        """Transform from coordinate system ``name`` to the root at one frame (per-frame edges first)."""
        result: SE3 | None = None
        for child in self._chain(name)[:-1]:
            parent = self.cs[child].parent
            edge = dynamic.get((child, parent)) or self.cs[child].pose
            if edge is None:
                self._fail(
                    where, f"no pose of {child!r} in {parent!r} (neither pose_wrt_parent nor a transform)"
                )
            result = edge if result is None else edge @ result
        return SE3.identity() if result is None else result

    # ------------------------------------------------------------------ frames

    def _frames(self) -> list[_Frame]:
        frames_raw = self.doc.get("frames") or {}
        if not frames_raw:
            self._fail("$.openlabel.frames", "no frames")
        out = []
        for key in sorted(frames_raw, key=int):
            body = frames_raw[key]
            frame_id = int(key)
            where = f"$.openlabel.frames.{key}"
            props = body.get("frame_properties") or {}
            if "timestamp" not in props:
                self._fail(f"{where}.frame_properties", "frame has no timestamp; fusioncheck needs time")
            try:
                t_us = parse_timestamp_us(props["timestamp"])
            except ValueError as err:
                self._fail(f"{where}.frame_properties.timestamp", str(err))
            extension = self._object(props.get("fusioncheck"), f"{where}.frame_properties.fusioncheck")
            keyframe = extension.get("keyframe", True)
            token = extension.get("token") or f"{self.name}:{frame_id}"
            dynamic = self._frame_transforms(frame_id, props)
            global_from_ego = self._root_from(self.ego, dynamic, f"{where}.frame_properties.transforms")
            out.append(
                _Frame(frame_id, t_us, bool(keyframe), str(token), props.get("streams") or {}, dynamic,
                       global_from_ego, body.get("objects") or {})
            )  # fmt: skip
        return out

    def _pose_track(self, frames: list[_Frame]) -> PoseTrack:
        times = np.array([f.timestamp_us for f in frames], dtype=np.int64)
        translations = np.stack([f.global_from_ego.translation for f in frames])
        quats = np.stack([f.global_from_ego.quat_wxyz for f in frames])
        _, _, conflict = same_time_poses(times, translations, quats)
        if conflict is not None:
            i, j = frames[conflict.first].frame_id, frames[conflict.second].frame_id
            self._fail(
                f"$.openlabel.frames.{j}",
                f"frames {i} and {j} share timestamp {conflict.timestamp_us} us but their vehicle poses "
                f"{conflict.describe()}",
            )
        return PoseTrack.from_unsorted(times, translations, quats)

    # ------------------------------------------------------------------ sensors and samples

    def _sensor(self, name: str, modality: Modality, props: Json) -> Sensor:
        where = f"$.openlabel.streams.{name}"
        ego_from_sensor = self._static_ego_from(name, where)
        intrinsics = None
        if modality is Modality.CAMERA:
            if "intrinsics_fisheye" in props or "intrinsics_custom" in props:
                kind = "intrinsics_fisheye" if "intrinsics_fisheye" in props else "intrinsics_custom"
                self._fail(
                    f"{where}.stream_properties.{kind}",
                    f"camera {name}: {kind} is not supported; fusioncheck's camera model is a pinhole with "
                    "OpenCV distortion (intrinsics_pinhole)",
                )
            pinhole = props.get("intrinsics_pinhole")
            if not isinstance(pinhole, dict) or "camera_matrix" not in pinhole:
                self._fail(
                    f"{where}.stream_properties", f"camera {name} has no intrinsics_pinhole.camera_matrix"
                )
            at = f"{where}.stream_properties.intrinsics_pinhole"
            # The published schema does not check stream_properties (see docs/openlabel.md): check here.
            matrix_values = pinhole["camera_matrix"]
            if not _numbers(matrix_values, 12):
                self._fail(f"{at}.camera_matrix", f"expected 12 finite numbers (3x4), got {matrix_values!r}")
            distortion_values = pinhole.get("distortion_coeffs") or []
            if not _numbers(distortion_values, None):
                self._fail(
                    f"{at}.distortion_coeffs", f"expected a list of numbers, got {distortion_values!r}"
                )
            for key in ("width_px", "height_px"):
                size = pinhole.get(key, 0)
                if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                    self._fail(f"{at}.{key}", f"expected a non-negative integer, got {size!r}")
            p = np.asarray(matrix_values, dtype=np.float64).reshape(3, 4)
            if np.any(p[:, 3] != 0.0):
                self._fail(
                    f"{where}.stream_properties.intrinsics_pinhole.camera_matrix",
                    "the 4th column of the 3x4 camera matrix is not zero (a projection with a translation); "
                    "put the translation in the coordinate system's pose instead",
                )
            distortion = [float(v) for v in distortion_values]
            if len(distortion) > 8:
                if any(v != 0.0 for v in distortion[8:]):
                    self._fail(
                        f"{where}.stream_properties.intrinsics_pinhole.distortion_coeffs",
                        "thin-prism or tilt coefficients (beyond k6) are not supported",
                    )
                distortion = distortion[:8]
            if len(distortion) in (6, 7):
                distortion = distortion + [0.0] * (8 - len(distortion))
            try:
                intrinsics = CameraIntrinsics(
                    p[:, :3],
                    np.asarray(distortion),
                    int(pinhole.get("width_px", 0)),
                    int(pinhole.get("height_px", 0)),
                )
            except ValueError as err:
                self._fail(f"{where}.stream_properties.intrinsics_pinhole", f"camera {name}: {err}")
        return Sensor(name, modality, ego_from_sensor, intrinsics, name)

    def _static_ego_from(self, name: str, where: str) -> SE3:
        chain = self._chain(name)
        if self.ego not in chain:
            self._fail(where, f"coordinate system {name!r} is not below the vehicle frame {self.ego!r}")
        result = SE3.identity()
        for child in chain[: chain.index(self.ego)]:
            pose = self.cs[child].pose
            if pose is None:
                self._fail(
                    f"$.openlabel.coordinate_systems.{child}",
                    f"{child!r} has no pose_wrt_parent (calibration)",
                )
            result = pose @ result
        return result

    def _samples(
        self, frames: list[_Frame], poses: PoseTrack, sensors: dict[str, Sensor]
    ) -> tuple[dict[str, tuple[SensorSample, ...]], dict[int, dict[str, SensorSample]]]:
        keyframe_times = np.array([f.timestamp_us for f in frames if f.keyframe], dtype=np.int64)
        keyframe_tokens = [f.token for f in frames if f.keyframe]
        if keyframe_times.size == 0:
            self._fail(
                "$.openlabel.frames", "no keyframe (every frame is marked fusioncheck.keyframe = false)"
            )
        by_channel: dict[str, list[SensorSample]] = {}
        keyframe_samples: dict[int, dict[str, SensorSample]] = {}
        # A sample stamped at a frame's time takes that frame's pose as is (no interpolation needed).
        frame_pose: dict[int, SE3] = {}
        for frame in frames:
            frame_pose.setdefault(frame.timestamp_us, frame.global_from_ego)
        for frame in frames:
            for channel, body in frame.streams.items():
                where = f"$.openlabel.frames.{frame.frame_id}.frame_properties.streams.{channel}"
                if channel not in sensors:
                    if channel in self.doc.get("streams", {}):
                        continue  # a gps_imu/other stream
                    self._fail(where, f"stream {channel!r} is not declared in openlabel.streams")
                uri = body.get("uri", "")
                if not uri:
                    continue
                props = self._object(body.get("stream_properties"), f"{where}.stream_properties")
                sync = self._object(props.get("sync"), f"{where}.stream_properties.sync")
                t_us = frame.timestamp_us
                if "timestamp" in sync:
                    try:
                        t_us = parse_timestamp_us(sync["timestamp"])
                    except ValueError as err:
                        self._fail(f"{where}.stream_properties.sync.timestamp", str(err))
                if not (
                    poses.start_us - POSE_EXTRAPOLATION_US <= t_us <= poses.end_us + POSE_EXTRAPOLATION_US
                ):
                    self._fail(
                        where,
                        f"sample time {t_us} us lies more than {POSE_EXTRAPOLATION_US} us outside the "
                        f"frames' vehicle poses ({poses.start_us}..{poses.end_us} us)",
                    )
                extension = self._object(props.get("fusioncheck"), f"{where}.stream_properties.fusioncheck")
                token = str(extension.get("token") or f"{channel}:{frame.frame_id}")
                path = self.folder / uri
                if frame.keyframe:
                    keyframe_token = frame.token
                else:
                    k = int(np.argmin(np.abs(keyframe_times - t_us)))
                    keyframe_token = keyframe_tokens[k]
                intrinsics = sensors[channel].intrinsics
                sample = SensorSample(
                    token=token,
                    channel=channel,
                    modality=sensors[channel].modality,
                    timestamp_us=t_us,
                    path=path,
                    global_from_ego=frame_pose.get(t_us) or _pose_at(poses, t_us),
                    is_keyframe=frame.keyframe,
                    keyframe_token=keyframe_token,
                    width_px=intrinsics.width_px if intrinsics else 0,
                    height_px=intrinsics.height_px if intrinsics else 0,
                )
                if extension.get("point_times_uri"):
                    self.point_times[(token, path)] = self.folder / str(extension["point_times_uri"])
                by_channel.setdefault(channel, []).append(sample)
                if frame.keyframe:
                    keyframe_samples.setdefault(frame.frame_id, {})[channel] = sample
        samples: dict[str, tuple[SensorSample, ...]] = {}
        for channel, items in by_channel.items():
            items.sort(key=lambda s: s.timestamp_us)
            for a, b in itertools.pairwise(items):
                if a.timestamp_us == b.timestamp_us:
                    self._fail(
                        f"$.openlabel.streams.{channel}",
                        f"two {channel} samples at {a.timestamp_us} us ({a.token}, {b.token})",
                    )
            samples[channel] = tuple(items)
        if not samples:
            self._fail("$.openlabel.frames", "no frame references any sensor data (frame_properties.streams)")
        return samples, keyframe_samples

    # ------------------------------------------------------------------ objects and boxes

    def _keyframes(
        self, frames: list[_Frame], keyframe_samples: dict[int, dict[str, SensorSample]]
    ) -> tuple[Keyframe, ...]:
        """Keyframes with their boxes: cuboids are gathered first, then transformed to global at once."""
        objects = self.doc.get("objects") or {}
        names = [str(o.get("name", "")) for o in objects.values()]
        unique_names = len(set(names)) == len(names) and all(names)
        instance_of = {uid: (str(o["name"]) if unique_names else uid) for uid, o in objects.items()}
        static: dict[str, list[Json]] = {}
        for uid, o in objects.items():
            cuboids = (o.get("object_data") or {}).get("cuboid")
            if cuboids:
                static[uid] = cuboids
        intervals = {uid: o.get("frame_intervals") for uid, o in objects.items()}
        keyframe_list = [f for f in frames if f.keyframe]
        times_seen: set[int] = set()
        gathered: list[tuple[int, str, Json, str]] = []  # (keyframe index, uid, cuboid, where)
        for k, frame in enumerate(keyframe_list):
            if frame.timestamp_us in times_seen:
                self._fail(
                    f"$.openlabel.frames.{frame.frame_id}", f"two keyframes at {frame.timestamp_us} us"
                )
            times_seen.add(frame.timestamp_us)
            for uid, body in frame.objects.items():
                if uid not in objects:
                    self._fail(
                        f"$.openlabel.frames.{frame.frame_id}.objects.{uid}", f"object {uid} is not declared"
                    )
                cuboids = (body.get("object_data") or {}).get("cuboid")
                if cuboids:
                    where = f"$.openlabel.frames.{frame.frame_id}.objects.{uid}.object_data.cuboid"
                    gathered.append((k, uid, self._one_cuboid(uid, cuboids, frame, where), where))
            for uid, cuboids in static.items():
                if uid not in frame.objects and _in_intervals(frame.frame_id, intervals[uid]):
                    where = f"$.openlabel.objects.{uid}.object_data.cuboid"
                    gathered.append((k, uid, self._one_cuboid(uid, cuboids, frame, where), where))
        boxes = self._boxes(gathered, keyframe_list, objects, instance_of)
        per_keyframe: list[list[BoxAnnotation]] = [[] for _ in keyframe_list]
        for (k, *_), box in zip(gathered, boxes, strict=True):
            per_keyframe[k].append(box)
        return tuple(
            Keyframe(
                frame.token,
                frame.timestamp_us,
                dict(sorted(keyframe_samples.get(frame.frame_id, {}).items())),
                tuple(per_keyframe[k]),
            )
            for k, frame in enumerate(keyframe_list)
        )

    def _one_cuboid(self, uid: str, cuboids: list[Json], frame: _Frame, where: str) -> Json:
        if len(cuboids) != 1:
            self._fail(
                where, f"object {uid} has {len(cuboids)} cuboids in frame {frame.frame_id}; expected one"
            )
        val = cuboids[0].get("val")
        if val is None or len(val) not in (9, 10):
            self._fail(f"{where}[0].val", f"cuboid val must hold 9 or 10 numbers, got {val!r}")
        return cuboids[0]

    def _boxes(
        self,
        gathered: list[tuple[int, str, Json, str]],
        keyframes: list[_Frame],
        objects: Json,
        instance_of: dict[str, str],
    ) -> list[BoxAnnotation]:
        n = len(gathered)
        if n == 0:
            return []
        values = np.zeros((n, 10))
        ten = np.zeros(n, dtype=bool)
        for i, (_, _, cuboid, _) in enumerate(gathered):
            val = cuboid["val"]
            ten[i] = len(val) == 10
            values[i, : len(val)] = val
        bad = np.flatnonzero(~np.all(np.isfinite(values), axis=1))
        if bad.size:
            self._fail(f"{gathered[bad[0]][3]}[0].val", "cuboid values must be finite")
        centers = values[:, :3]
        sizes = np.where(ten[:, None], values[:, 7:10], values[:, 6:9])
        bad = np.flatnonzero(np.any(sizes <= 0, axis=1))
        if bad.size:
            self._fail(
                f"{gathered[bad[0]][3]}[0].val",
                f"cuboid size (sx, sy, sz) {sizes[bad[0]].tolist()} has a non-positive value",
            )
        quats = np.empty((n, 4))
        quats[ten] = values[ten][:, [6, 3, 4, 5]]
        norms = np.linalg.norm(quats[ten], axis=1)
        bad = np.flatnonzero(np.abs(norms - 1.0) > quaternion.UNIT_NORM_TOLERANCE)
        if bad.size:
            i = int(np.flatnonzero(ten)[bad[0]])
            self._fail(
                f"{gathered[i][3]}[0].val",
                f"quaternion (qx, qy, qz, qw) {values[i, 3:7].tolist()} is not of unit norm",
            )
        euler = ~ten
        if np.any(euler):
            rx, ry, rz = values[euler, 3], values[euler, 4], values[euler, 5]
            quats[euler] = quaternion.multiply(
                quaternion.multiply(_axis_quat(rz, 3), _axis_quat(ry, 2)), _axis_quat(rx, 1)
            )
        # Each cuboid's coordinate system -> global at its keyframe, computed once per (system, keyframe).
        cache: dict[tuple[str, int], tuple[FloatArray, FloatArray]] = {}
        rotations = np.empty((n, 4))
        translations = np.empty((n, 3))
        for i, (k, uid, cuboid, where) in enumerate(gathered):
            system = cuboid.get("coordinate_system") or objects[uid].get("coordinate_system") or ""
            if not system:
                if len(self.cs) > 1:
                    self._fail(
                        f"{where}[0]",
                        "cuboid has no coordinate_system (nor has its object) and the file declares several",
                    )
                system = next(iter(self.cs), "")
            key = (system, k)
            pose = cache.get(key)
            if pose is None:
                if system and system not in self.cs:
                    self._fail(
                        f"{where}[0].coordinate_system", f"coordinate system {system!r} is not declared"
                    )
                world_from_cs = (
                    self._root_from(system, keyframes[k].dynamic, f"{where}[0]") if system else SE3.identity()
                )
                pose = cache[key] = (world_from_cs.quat_wxyz, world_from_cs.translation)
            rotations[i], translations[i] = pose
        world_centers = np.einsum("nij,nj->ni", quaternion.to_matrix(rotations), centers) + translations
        world_quats = quaternion.normalize(quaternion.multiply(rotations, quats))
        out = []
        for i, (k, uid, cuboid, _) in enumerate(gathered):
            texts, numbers = _attributes(cuboid.get("attributes") or {})
            frame = keyframes[k]
            out.append(
                BoxAnnotation(
                    token=texts.get("token", [f"{uid}:{frame.frame_id}"])[0],
                    instance=instance_of[uid],
                    category=str(objects[uid]["type"]),
                    keyframe_token=frame.token,
                    timestamp_us=frame.timestamp_us,
                    center_m=world_centers[i],
                    size_m=sizes[i],
                    quat_wxyz=world_quats[i],
                    attributes=tuple(texts.get("attribute", [])),
                    num_lidar_pts=_count(numbers.get("num_lidar_pts")),
                    num_radar_pts=_count(numbers.get("num_radar_pts")),
                    visibility=texts.get("visibility", [None])[0],
                )
            )
        return out


def _axis_quat(angle_rad: FloatArray, axis: int) -> FloatArray:
    """Quaternions ``(N, 4)`` (w, x, y, z) of rotations by ``angle_rad`` about axis 1 = x, 2 = y, 3 = z."""
    q = np.zeros((angle_rad.size, 4))
    q[:, 0] = np.cos(angle_rad / 2)
    q[:, axis] = np.sin(angle_rad / 2)
    return q


@dataclass
class _Frame:
    frame_id: int
    timestamp_us: int
    keyframe: bool
    token: str
    streams: Json
    dynamic: dict[tuple[str, str], SE3]
    global_from_ego: SE3
    objects: Json


def _pose_at(poses: PoseTrack, t_us: int) -> SE3:
    """``global_from_ego`` at ``t_us``: interpolated inside the track, extrapolated just outside it."""
    if poses.covers(t_us):
        return poses.at(t_us)
    end = poses.start_us if t_us < poses.start_us else poses.end_us
    pose = poses.at(end)
    if poses.timestamps_us.size < 2:
        return pose
    velocity = poses.velocity_at(end)
    return SE3(pose.rotation, pose.translation + velocity * (t_us - end) * 1e-6)


def _in_intervals(frame_id: int, intervals: list[Json] | None) -> bool:
    if not intervals:
        return True
    return any(i.get("frame_start", frame_id) <= frame_id <= i.get("frame_end", frame_id) for i in intervals)


def _attributes(attributes: Json) -> tuple[dict[str, list[str]], dict[str, float]]:
    texts: dict[str, list[str]] = {}
    for item in attributes.get("text", []):
        texts.setdefault(str(item.get("name", "")), []).append(str(item.get("val", "")))
    numbers = {str(item.get("name", "")): item.get("val") for item in attributes.get("num", [])}
    return texts, numbers


def _numbers(values: object, count: int | None) -> bool:
    """Tell whether ``values`` is a list of finite numbers (of length ``count`` when given)."""
    return (
        isinstance(values, list)
        and (count is None or len(values) == count)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    )


def _count(value: object) -> int | None:
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value >= 0
        and float(value).is_integer()
    ):
        return int(value)
    return None
