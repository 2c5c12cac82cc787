"""``simulate()``: scenes in, a nuScenes dataroot with known faults out.

**Timeline of a scene** (``t0`` = the first keyframe, all stamps integer microseconds):

- LIDAR_TOP sweeps every ``1 / lidar_hz`` from ``t0`` to the last keyframe; every
  ``lidar_hz / keyframe_hz``-th sweep is a keyframe, and the sample's timestamp is that sweep's.
- Each camera fires when the LiDAR beam crosses its optical axis (see ``lidar``), every
  ``1 / camera_hz``; every ``camera_hz / keyframe_hz``-th image is the keyframe image. Camera stamps
  therefore precede the sample stamp by 1..45 ms (at 20 Hz), as in nuScenes.
- Each radar scans every ``1 / radar_hz`` with its own phase; the scan nearest to a sample is its
  keyframe scan.
- Every sample_data (sweeps too) has an ego pose at its own timestamp (token = the sample_data token,
  as in nuScenes) and a ``sample_token``: its own sample for keyframes; for other captures the sample
  that follows closest in time (the nuScenes schema), or the last sample for captures after it.
- ``prev``/``next`` chain the written sample_data of each channel in time.

Each scene has its own log (``log.logfile`` = the file-name prefix), all logs share one blank map.
Scenes are named ``sim-<seed>-<index>``; scene ``i`` starts at 2020-09-13 12:26:40 UTC + ``seed mod
1000`` days + ``i`` hours.

**faults.json** (always written, also for clean runs)::

    format, format_version          "fusioncheck-sim-faults", 1
    seed, version, scenes[]         the seed, the table folder name, the scene names
    config{}                        SimConfig.to_dict()
    spec{}                          FaultSpec.to_dict() (what was asked)
    clean                           true when nothing was injected
    label_time_offset_ms            the labels' time offset (0 when clean)
    stream_time_offsets{}           only when injected: stream -> {offset_ms, drift_ms_per_s} (offset at
                                    the first keyframe, drift per second after it; see stream_clocks)
    shrink[]                        {class, axis, factor, annotation_tokens[]} per shrunk class and axis
    deleted[]                       per deleted box: annotation_token (never written), instance_token,
                                    instance_kept, unit, scene, sample_token, timestamp_us, class,
                                    object_index, translation/size (w,l,h)/rotation it would have had,
                                    true_center_m, true_size_lwh_m, true_yaw_rad, velocity_mps,
                                    num_lidar_pts (in the would-be box), num_lidar_pts_true_box,
                                    num_radar_pts, num_object_lidar_pts (returns on the object itself)
    radar_faults[]                  only when radar faults were asked for: per written box of a faulted
                                    object: annotation_token, instance_token, scene, timestamp_us, class,
                                    object_index, kind (heading_flipped | velocity_zeroed), speed_mps,
                                    moving (at that keyframe), num_radar_pts
    ghosts[]                        per ghost box: annotation_token, instance_token, scene, sample_token,
                                    timestamp_us, class, translation, size (w,l,h), rotation,
                                    num_object_lidar_pts (0), num_lidar_pts, num_radar_pts,
                                    visible_fraction (share of 15 box sample points in line of
                                    sight), lidar_beams_crossing (beams of the keyframe sweep that
                                    pass through or end in the box: what a solid object would stop)
    annotations{token: ...}         ground truth of every written box: scene, sample_token, timestamp_us,
                                    class, object_index, instance_token, ghost, true_center_m,
                                    true_size_lwh_m, true_yaw_rad (object state at the sample time;
                                    null for ghosts), velocity_mps, speed_mps, moving,
                                    labelled_center_m (true centre at stamp + offset),
                                    label_time_offset_ms, shrink{axis: factor}, written_size_lwh_m,
                                    num_object_lidar_pts, num_lidar_pts, num_radar_pts, visible_fraction

Sizes named ``*_lwh_m`` are (length, width, height); ``size`` fields copy the table's (width, length,
height) order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.errors import PolicyError
from fusioncheck.geometry.se3 import SE3
from fusioncheck.simulate.camera import encode_jpeg, render_image
from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.determinism import make_rng, make_token
from fusioncheck.simulate.faults import AXES, FaultSpec
from fusioncheck.simulate.labels import KeyframeData, SceneLabels, annotate_scene
from fusioncheck.simulate.lidar import LidarModel, SimulatedSweep, simulate_sweep
from fusioncheck.simulate.nuscenes_writer import POINT_TIMES_DIR, VERSION, NuScenesWriter, sensor_token
from fusioncheck.simulate.radar import encode_pcd, simulate_scan
from fusioncheck.simulate.radar_faults import apply_radar_faults, choose_radar_faults, radar_fault_records
from fusioncheck.simulate.rig import (
    ALL_CHANNELS,
    CAMERA_CHANNELS,
    LIDAR_CHANNEL,
    RADAR_CHANNELS,
    CameraModel,
    RadarModel,
    cameras,
    ego_from_lidar,
    radars,
)
from fusioncheck.simulate.world import World, build_world

BASE_TIME_US = 1_600_000_000_000_000
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
FAULTS_FILE = "faults.json"


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` wrote.

    Attributes:
        out_dir: the dataroot.
        version: the table folder name (``v1.0-fusioncheck-sim``).
        scenes: scene names, in order.
        keyframes: samples written (all scenes).
        boxes: sample_annotations written (all scenes, ghosts included).
        sweeps: channel -> sample_data written (keyframes and sweeps, all scenes).
        faults: the content of ``faults.json``.
    """

    out_dir: Path
    version: str
    scenes: tuple[str, ...]
    keyframes: int
    boxes: int
    sweeps: dict[str, int]
    faults: dict[str, Any]

    @property
    def faults_path(self) -> Path:
        """Path of ``faults.json``."""
        return self.out_dir / FAULTS_FILE


@dataclass(frozen=True)
class _Capture:
    index: int
    timestamp_us: int
    is_key_frame: bool
    sample: int


def _schedule(
    config: SimConfig, t0_us: int, lidar: LidarModel, cams: list[CameraModel], seed: int, scene_index: int
) -> dict[str, list[_Capture]]:
    """Plan the captures of every channel, in time order."""
    k = config.keyframes
    lidar_period_us = round(1e6 / config.lidar_hz)
    per_kf = config.lidar_sweeps_per_keyframe
    sample_us = np.array([t0_us + i * per_kf * lidar_period_us for i in range(k)], dtype=np.int64)

    def attach(ts: int) -> int:
        return min(int(np.searchsorted(sample_us, ts, side="left")), k - 1)

    out: dict[str, list[_Capture]] = {}
    out[LIDAR_CHANNEL] = [
        _Capture(
            j,
            t0_us + j * lidar_period_us,
            j % per_kf == 0,
            j // per_kf if j % per_kf == 0 else attach(t0_us + j * lidar_period_us),
        )
        for j in range((k - 1) * per_kf + 1)
    ]
    cam_per_kf = config.camera_frames_per_keyframe
    for cam in cams:
        delay_us = round(lidar.crossing_offset_s(cam.yaw_rad) * 1e6)
        caps = []
        for j in range((k - 1) * cam_per_kf + 1):
            ts = t0_us + delay_us + round(j * 1e6 / config.camera_hz)
            key = j % cam_per_kf == 0
            caps.append(_Capture(j, ts, key, j // cam_per_kf if key else attach(ts)))
        out[cam.channel] = caps
    radar_period_us = round(1e6 / config.radar_hz)
    for channel in RADAR_CHANNELS:
        phase = int(make_rng(seed, "radar-phase", scene_index, channel).integers(radar_period_us))
        first = -((radar_period_us // 2 + phase) // radar_period_us)
        stamps = []
        m = first
        while True:
            ts = t0_us + phase + m * radar_period_us
            if ts > sample_us[-1] + radar_period_us // 2:
                break
            if ts >= t0_us - radar_period_us // 2:
                stamps.append(ts)
            m += 1
        stamps_arr = np.array(stamps, dtype=np.int64)
        keys = {int(np.argmin(np.abs(stamps_arr - s))): i for i, s in enumerate(sample_us)}
        out[channel] = [
            _Capture(j, int(ts), j in keys, keys[j] if j in keys else attach(int(ts)))
            for j, ts in enumerate(stamps)
        ]
    return out


def _pose_record(token: str, timestamp_us: int, pose: SE3) -> dict[str, Any]:
    return {
        "token": token,
        "timestamp": int(timestamp_us),
        "rotation": [float(v) for v in pose.quat_wxyz],
        "translation": [float(v) for v in pose.translation],
    }


def _calibration_record(
    token: str, channel: str, ego_from_sensor: SE3, matrix: np.ndarray | None
) -> dict[str, Any]:
    return {
        "token": token,
        "sensor_token": sensor_token(channel),
        "translation": [float(v) for v in ego_from_sensor.translation],
        "rotation": [float(v) for v in ego_from_sensor.quat_wxyz],
        "camera_intrinsic": [] if matrix is None else [[float(v) for v in row] for row in matrix],
    }


@dataclass
class _SceneOutput:
    name: str
    labels: SceneLabels
    keyframes: int
    written: dict[str, int]
    radar_faults: list[dict[str, Any]]


def _simulate_scene(
    writer: NuScenesWriter,
    config: SimConfig,
    faults: FaultSpec,
    seed: int,
    scene_index: int,
    map_logs: list[str],
    progress: Any,
    image_boxes: list[dict[str, Any]] | None = None,
) -> _SceneOutput:
    world: World = build_world(config, seed, scene_index)
    radar_faulted = choose_radar_faults(world, config, faults.radar, seed, scene_index)
    t0_us = BASE_TIME_US + (seed % 1000) * DAY_US + scene_index * HOUR_US
    start = datetime.fromtimestamp(t0_us / 1e6, tz=UTC)
    logfile = f"fcsim-{start:%Y-%m-%d-%H-%M-%S}+0000"
    name = f"sim-{seed}-{scene_index:04d}"
    log_token = make_token(seed, "log", scene_index)
    scene_token = make_token(seed, "scene", scene_index)
    map_logs.append(log_token)
    writer.add(
        "log",
        {"token": log_token, "logfile": logfile, "vehicle": "fcsim-ego", "date_captured": f"{start:%Y-%m-%d}",
         "location": "fusioncheck-sim-town"},
    )  # fmt: skip

    lidar = LidarModel.from_config(config, ego_from_lidar())
    cams = cameras(config)
    rads = radars()
    cam_by_channel = {c.channel: c for c in cams}
    radar_by_channel = {r.channel: r for r in rads}
    schedule = _schedule(config, t0_us, lidar, cams, seed, scene_index)
    k = config.keyframes
    sample_tokens = [make_token(seed, "sample", scene_index, i) for i in range(k)]
    sample_us = [cap.timestamp_us for cap in schedule[LIDAR_CHANNEL] if cap.is_key_frame]

    calibration: dict[str, str] = {}
    for channel in ALL_CHANNELS:
        token = make_token(seed, "calibrated_sensor", scene_index, channel)
        calibration[channel] = token
        if channel == LIDAR_CHANNEL:
            writer.add("calibrated_sensor", _calibration_record(token, channel, lidar.ego_from_lidar, None))
        elif channel in cam_by_channel:
            cam = cam_by_channel[channel]
            writer.add(
                "calibrated_sensor",
                _calibration_record(
                    token, channel, faults.stated_camera_extrinsic(channel, cam.ego_from_camera), cam.matrix
                ),
            )
        else:
            writer.add(
                "calibrated_sensor",
                _calibration_record(token, channel, radar_by_channel[channel].ego_from_radar, None),
            )

    camera_keyframes: list[tuple[str, CameraModel, float, int]] = []
    sweeps: dict[int, SimulatedSweep] = {}
    radar_points: dict[int, list[np.ndarray]] = {i: [] for i in range(k)}
    written: dict[str, int] = {}
    for channel in ALL_CHANNELS:
        if channel == LIDAR_CHANNEL or channel in CAMERA_CHANNELS:
            write_all = config.write_sweeps
        else:
            write_all = config.write_radar_sweeps
        captures = [c for c in schedule[channel] if c.is_key_frame or write_all]
        tokens = [make_token(seed, "sample_data", scene_index, channel, c.index) for c in captures]
        written[channel] = len(captures)
        for n, cap in enumerate(captures):
            t_s = (cap.timestamp_us - t0_us) * 1e-6
            folder = "samples" if cap.is_key_frame else "sweeps"
            stem = f"{folder}/{channel}/{logfile}__{channel}__{cap.timestamp_us}"
            if channel == LIDAR_CHANNEL:
                sweep = simulate_sweep(world, lidar, t_s, make_rng(seed, "lidar", scene_index, cap.index))
                filename, fileformat, width, height = f"{stem}.pcd.bin", "pcd", 0, 0
                writer.write_file(filename, sweep.points.tobytes())
                writer.write_array(f"{POINT_TIMES_DIR}/{tokens[n]}.npy", sweep.times_s)
                if cap.is_key_frame:
                    sweeps[cap.sample] = sweep
            elif channel in cam_by_channel:
                cam = cam_by_channel[channel]
                filename, fileformat, width, height = f"{stem}.jpg", "jpg", cam.width_px, cam.height_px
                t_world = t_s + faults.clock(channel).offset_s(t_s)
                image = render_image(world, cam, t_world)
                writer.write_file(filename, encode_jpeg(image, config.jpeg_quality))
                if cap.is_key_frame:
                    camera_keyframes.append((tokens[n], cam, t_world, cap.sample))
            else:
                radar: RadarModel = radar_by_channel[channel]
                t_world = t_s + faults.clock(channel).offset_s(t_s)
                records, owners = simulate_scan(
                    world,
                    radar,
                    t_world,
                    make_rng(seed, "radar", scene_index, channel, cap.index),
                    config.clutter,
                )
                records = apply_radar_faults(records, owners, radar_faulted)
                filename, fileformat, width, height = f"{stem}.pcd", "pcd", 0, 0
                writer.write_file(filename, encode_pcd(records))
                if cap.is_key_frame:
                    pose = world.global_from_ego(t_world).compose(radar.ego_from_radar)
                    xyz = np.stack([records["x"], records["y"], records["z"]], 1).astype(np.float64)
                    radar_points[cap.sample].append(pose.transform_points(xyz))
            writer.add("ego_pose", _pose_record(tokens[n], cap.timestamp_us, world.global_from_ego(t_s)))
            writer.add(
                "sample_data",
                {
                    "token": tokens[n],
                    "sample_token": sample_tokens[cap.sample],
                    "ego_pose_token": tokens[n],
                    "calibrated_sensor_token": calibration[channel],
                    "timestamp": int(cap.timestamp_us),
                    "fileformat": fileformat,
                    "is_key_frame": bool(cap.is_key_frame),
                    "height": int(height),
                    "width": int(width),
                    "filename": filename,
                    "prev": tokens[n - 1] if n > 0 else "",
                    "next": tokens[n + 1] if n + 1 < len(tokens) else "",
                },
            )
            progress.update(1)

    keyframes = [
        KeyframeData(
            i,
            sample_tokens[i],
            sample_us[i],
            (sample_us[i] - t0_us) * 1e-6,
            sweeps[i],
            np.concatenate(radar_points[i]) if radar_points[i] else np.zeros((0, 3)),
        )
        for i in range(k)
    ]
    labels = annotate_scene(world, config, faults, seed, scene_index, name, keyframes)
    if image_boxes is not None:
        image_boxes.extend(_image_boxes(world, labels, camera_keyframes, sample_tokens, seed))
    for i in range(k):
        writer.add(
            "sample",
            {
                "token": sample_tokens[i],
                "timestamp": int(sample_us[i]),
                "prev": sample_tokens[i - 1] if i > 0 else "",
                "next": sample_tokens[i + 1] if i + 1 < k else "",
                "scene_token": scene_token,
            },
        )
    for record in labels.annotations:
        writer.add("sample_annotation", record)
    for record in labels.instances:
        writer.add("instance", record)
    writer.add(
        "scene",
        {"token": scene_token, "log_token": log_token, "nbr_samples": k,
         "first_sample_token": sample_tokens[0], "last_sample_token": sample_tokens[-1], "name": name,
         "description": world.description},
    )  # fmt: skip
    return _SceneOutput(name, labels, k, written, radar_fault_records(labels.truth, radar_faulted))


def _image_boxes(
    world: World,
    labels: Any,
    camera_keyframes: list[tuple[str, CameraModel, float, int]],
    sample_tokens: list[str],
    seed: int,
) -> list[dict[str, Any]]:
    """Return nuImages-style ``object_ann`` records: true 2D boxes of labelled objects in keyframe images.

    The box is the projection of the object's true 3D box at the image's own time (clipped to the image),
    as a careful human would draw it; ``instance_token`` links it to the object's track.
    """
    from fusioncheck.checks.box_projection import project_boxes
    from fusioncheck.geometry.boxes import yaw_boxes
    from fusioncheck.scene.sensors import CameraIntrinsics
    from fusioncheck.simulate.taxonomy import category_token

    by_sample: dict[str, list[dict[str, Any]]] = {}
    for token, truth in labels.truth.items():
        if not truth["ghost"]:
            by_sample.setdefault(truth["sample_token"], []).append({"token": token, **truth})
    records = []
    for sd_token, cam, t_s, sample_index in camera_keyframes:
        objects = sorted(by_sample.get(sample_tokens[sample_index], []), key=lambda r: r["object_index"])
        if not objects:
            continue
        index = [r["object_index"] for r in objects]
        centers, yaws = world.object_poses(np.array([t_s]))
        sizes = np.array([r["true_size_lwh_m"] for r in objects])
        centre = centers[0, index].copy()
        centre[:, 2] = sizes[:, 2] / 2.0
        camera_from_global = (world.global_from_ego(t_s) @ cam.ego_from_camera).inverse()
        from fusioncheck.geometry.boxes import transform_boxes

        boxes = transform_boxes(yaw_boxes(centre, sizes, yaws[0, index]), camera_from_global)
        intrinsics = CameraIntrinsics(cam.matrix, width_px=cam.width_px, height_px=cam.height_px)
        projected = project_boxes(boxes, intrinsics, cam.width_px, cam.height_px)
        for k, r in enumerate(objects):
            if not projected.in_image[k] or projected.truncation[k] > 0.9:
                continue
            records.append({
                "token": make_token(seed, "object_ann", sd_token, r["object_index"]),
                "sample_data_token": sd_token,
                "category_token": category_token(r["class"]),
                "instance_token": r["instance_token"],
                "bbox": [round(float(v), 2) for v in projected.bbox_px[k]],
            })  # fmt: skip
    return records


def _frames_per_scene(config: SimConfig) -> int:
    k = config.keyframes
    lidar = (k - 1) * config.lidar_sweeps_per_keyframe + 1 if config.write_sweeps else k
    cams = ((k - 1) * config.camera_frames_per_keyframe + 1 if config.write_sweeps else k) * len(
        CAMERA_CHANNELS
    )
    radar_scans = round(((k - 1) / config.keyframe_hz + 1 / config.radar_hz) * config.radar_hz)
    rads = (radar_scans if config.write_radar_sweeps else k) * len(RADAR_CHANNELS)
    return lidar + cams + rads


class _NoProgress:
    def update(self, n: int) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""


def simulate(
    out_dir: Path,
    scenes: int,
    seed: int,
    faults: FaultSpec | None = None,
    config: SimConfig | None = None,
    progress: bool = False,
    image_boxes: bool = False,
) -> SimulationResult:
    """Simulate ``scenes`` scenes into the nuScenes dataroot ``out_dir`` with the given faults.

    The output is byte-identical for the same arguments. ``out_dir`` may exist but must not already hold
    a simulation (its ``v1.0-fusioncheck-sim`` folder or ``faults.json``). With ``image_boxes`` the
    simulator also writes ``<version>/object_ann.json``: nuImages-style true 2D boxes of the labelled
    objects in every keyframe image (see :func:`_image_boxes`), which ``camera_projection`` compares the
    3D labels with.

    Raises:
        PolicyError: invalid arguments or an ``out_dir`` that already holds a simulation.
    """
    if isinstance(scenes, bool) or not isinstance(scenes, int) or scenes < 1:
        raise PolicyError(f"scenes must be a positive whole number, got {scenes!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise PolicyError(f"seed must be a non-negative whole number, got {seed!r}")
    seed = int(seed)
    faults = FaultSpec() if faults is None else faults
    config = SimConfig() if config is None else config
    out = Path(out_dir)
    for existing in (out / VERSION, out / FAULTS_FILE):
        if existing.exists():
            raise PolicyError(f"{out}: already holds a simulation ({existing.name}); choose an empty folder")
    out.mkdir(parents=True, exist_ok=True)

    writer = NuScenesWriter(out)
    modality = {
        LIDAR_CHANNEL: "lidar",
        **dict.fromkeys(CAMERA_CHANNELS, "camera"),
        **dict.fromkeys(RADAR_CHANNELS, "radar"),
    }
    writer.add_taxonomy({ch: modality[ch] for ch in ALL_CHANNELS})
    bar: Any = _NoProgress()
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=scenes * _frames_per_scene(config), unit="file", desc="simulate", disable=None)
    map_logs: list[str] = []
    boxes_2d: list[dict[str, Any]] | None = [] if image_boxes else None
    outputs = [
        _simulate_scene(writer, config, faults, seed, i, map_logs, bar, boxes_2d) for i in range(scenes)
    ]
    bar.close()
    map_token = make_token(seed, "map")
    filename = writer.write_blank_map(map_token)
    writer.add(
        "map",
        {"category": "semantic_prior", "token": map_token, "filename": filename, "log_tokens": map_logs},
    )
    writer.write_tables()
    if boxes_2d is not None:  # nuImages-style 2D boxes, only when asked for (older outputs stay identical)
        writer.write_file(
            f"{VERSION}/object_ann.json", (json.dumps(boxes_2d, indent=1) + "\n").encode("utf-8")
        )

    record = _fault_record(seed, config, faults, outputs)
    (out / FAULTS_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    sweeps = {ch: sum(o.written[ch] for o in outputs) for ch in ALL_CHANNELS}
    return SimulationResult(
        out_dir=out,
        version=VERSION,
        scenes=tuple(o.name for o in outputs),
        keyframes=sum(o.keyframes for o in outputs),
        boxes=sum(len(o.labels.annotations) for o in outputs),
        sweeps=sweeps,
        faults=record,
    )


def _fault_record(
    seed: int, config: SimConfig, faults: FaultSpec, outputs: list[_SceneOutput]
) -> dict[str, Any]:
    truth: dict[str, dict[str, Any]] = {}
    for o in outputs:
        truth.update(o.labels.truth)
    shrink = []
    for category in sorted(faults.shrink):
        factors = faults.shrink_factors(category)
        for axis, factor in zip(AXES, factors, strict=True):
            if factor != 0.0:
                tokens = [t for t, r in truth.items() if r["class"] == category and not r["ghost"]]
                shrink.append(
                    {"class": category, "axis": axis, "factor": factor, "annotation_tokens": tokens}
                )
    record: dict[str, Any] = {
        "format": "fusioncheck-sim-faults",
        "format_version": 1,
        "seed": seed,
        "version": VERSION,
        "scenes": [o.name for o in outputs],
        "config": config.to_dict(),
        "spec": faults.to_dict(),
        "clean": faults.is_clean,
        "label_time_offset_ms": float(faults.label_time_offset_ms),
        **(
            {"stream_time_offsets": faults.to_dict()["stream_time_offsets"]}
            if faults.stream_time_offsets
            else {}
        ),
        "shrink": shrink,
        "deleted": [d for o in outputs for d in o.labels.deleted],
        "ghosts": [g for o in outputs for g in o.labels.ghosts],
        "annotations": truth,
        **_calibration_fault_record(faults, outputs),
    }
    label_faults = [r for o in outputs for r in o.labels.label_faults]
    if label_faults:  # only then: simulations without these faults stay byte-identical
        record["label_faults"] = label_faults
    if faults.radar.active:  # only then, so that runs without radar faults write the same record as before
        record["radar_faults"] = [r for o in outputs for r in o.radar_faults]
    return record


def _calibration_fault_record(faults: FaultSpec, outputs: list[_SceneOutput]) -> dict[str, Any]:
    """Return faults.json's ``camera_calibration``: per scene and faulted camera, error and correction.

    Empty (no key at all) without calibration faults, so that older fault records stay byte-identical.
    """
    if not faults.camera_calibration:
        return {}
    rows = []
    for o in outputs:
        for channel, fault in sorted(faults.camera_calibration.items()):
            rows.append({
                "scene": o.name,
                "sensor": channel,
                "rotation_deg": list(fault.rotation_deg),
                "translation_m": list(fault.translation_m),
                "convention": "stated = true @ E (camera frame); expected correction = E^-1",
            })  # fmt: skip
    return {"camera_calibration": rows}
