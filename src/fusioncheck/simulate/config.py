"""Simulation settings: the full nuScenes-like preset and the small preset for tests and samples."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class LabelNoise:
    """Per-box annotation noise, independent per box (as between human annotators' keyframes).

    Attributes:
        center_m: standard deviation of the box centre per axis (x, y, z), metres.
        size_rel: relative standard deviation of each size axis (0.01 = 1 %).
        yaw_deg: standard deviation of the heading, degrees.
    """

    center_m: float = 0.02
    size_rel: float = 0.01
    yaw_deg: float = 0.5


@dataclass(frozen=True)
class SimConfig:
    """What to simulate and how finely. ``SimConfig()`` is the full nuScenes-like rig.

    Sensor rates: every ``lidar_hz / keyframe_hz``-th LiDAR sweep and every ``camera_hz / keyframe_hz``-th
    camera image is a keyframe, so both ratios must be integers (20/2 and 12/2 as in nuScenes). Radars
    run freely at ``radar_hz``; the scan nearest to each keyframe is that keyframe's radar sample.

    Attributes:
        duration_s: scene length; the scene has ``round(duration_s * keyframe_hz)`` keyframes.
        keyframe_hz: annotated keyframes (nuScenes ``sample``) per second.
        lidar_hz: LiDAR revolutions per second (one sweep per revolution).
        lidar_beams: number of LiDAR beams (rings), evenly spaced over ``lidar_elevation_deg``.
        lidar_azimuth_steps: firings per revolution (all beams of a firing share its time).
        lidar_elevation_deg: lowest and highest beam elevation, degrees (HDL-32E: about -30..+10).
        lidar_range_noise_m: standard deviation of the range noise, metres.
        lidar_max_range_m: returns beyond this range are dropped.
        camera_hz: camera frames per second (global shutter, all six cameras).
        image_width: image width in pixels (intrinsics scale with ``image_width / 1600``).
        image_height: image height in pixels.
        jpeg_quality: JPEG quality 1..100.
        radar_hz: radar scans per second.
        n_objects: objects placed along the road per scene (labelled when the LiDAR sees them).
        write_sweeps: write every LiDAR sweep and camera image; ``False`` writes keyframes only.
        write_radar_sweeps: write every radar scan; ``False`` writes keyframe scans only.
        label_noise: per-box annotation noise of clean labels.
        clutter: static structures (poles, buildings) and radar clutter returns.
        min_annotation_points: an object is annotated at a keyframe when at least this many returns of
            the keyframe LiDAR sweep hit it.
        vegetation: with ``clutter``, also bushes and trees (trunk and crown) on a planting strip between
            the sidewalks and the buildings; never labelled. Off by default (recorded in ``faults.json``
            only when on, so older records stay unchanged).
    """

    duration_s: float = 20.0
    keyframe_hz: float = 2.0
    lidar_hz: float = 20.0
    lidar_beams: int = 32
    lidar_azimuth_steps: int = 1080
    lidar_elevation_deg: tuple[float, float] = (-30.0, 10.0)
    lidar_range_noise_m: float = 0.02
    lidar_max_range_m: float = 70.0
    camera_hz: float = 12.0
    image_width: int = 1600
    image_height: int = 900
    jpeg_quality: int = 90
    radar_hz: float = 13.0
    n_objects: int = 50
    write_sweeps: bool = True
    write_radar_sweeps: bool = True
    label_noise: LabelNoise = field(default_factory=LabelNoise)
    clutter: bool = True
    min_annotation_points: int = 1
    vegetation: bool = False

    def __post_init__(self) -> None:
        problems = []
        if self.keyframe_hz <= 0 or self.duration_s * self.keyframe_hz < 1:
            problems.append("need at least one keyframe (duration_s * keyframe_hz >= 1)")
        for name in ("lidar_hz", "camera_hz"):
            ratio = getattr(self, name) / self.keyframe_hz if self.keyframe_hz > 0 else 0.0
            if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
                problems.append(f"{name} / keyframe_hz must be a whole number >= 1, got {ratio:g}")
        if self.radar_hz <= 0:
            problems.append("radar_hz must be positive")
        if self.lidar_beams < 1 or self.lidar_azimuth_steps < 8:
            problems.append("lidar_beams must be >= 1 and lidar_azimuth_steps >= 8")
        if not self.lidar_elevation_deg[0] < self.lidar_elevation_deg[1] <= 45.0:
            problems.append("lidar_elevation_deg must be (low, high) with low < high <= 45")
        if self.image_width < 16 or self.image_height < 16:
            problems.append("images must be at least 16x16 pixels")
        if not 1 <= self.jpeg_quality <= 100:
            problems.append("jpeg_quality must lie in 1..100")
        if self.n_objects < 0 or self.min_annotation_points < 1:
            problems.append("n_objects must be >= 0 and min_annotation_points >= 1")
        if problems:
            raise ValueError("invalid SimConfig: " + "; ".join(problems))

    @staticmethod
    def small() -> SimConfig:
        """Return the preset for tests and the bundled sample.

        Every reduction from the full rig:

        - ``duration_s`` 5 s instead of 20 s (10 keyframes instead of 40);
        - ``lidar_azimuth_steps`` 540 instead of 1080 (half the horizontal resolution, half the points);
        - images 640x360 instead of 1600x900 (intrinsics scaled by 0.4), JPEG quality 85 instead of 90;
        - ``n_objects`` 25 instead of 50 (the shorter scene covers less road);
        - ``write_sweeps`` off: only keyframe LiDAR sweeps and camera images are written (radar scans,
          being tiny, are all written).

        Beams, rates, range, noise, label noise and clutter are those of the full rig.
        """
        return replace(
            SimConfig(),
            duration_s=5.0,
            lidar_azimuth_steps=540,
            image_width=640,
            image_height=360,
            jpeg_quality=85,
            n_objects=25,
            write_sweeps=False,
        )

    @property
    def keyframes(self) -> int:
        """Keyframes per scene."""
        return round(self.duration_s * self.keyframe_hz)

    @property
    def lidar_sweeps_per_keyframe(self) -> int:
        """LiDAR sweeps from one keyframe to the next."""
        return round(self.lidar_hz / self.keyframe_hz)

    @property
    def camera_frames_per_keyframe(self) -> int:
        """Camera frames from one keyframe to the next."""
        return round(self.camera_hz / self.keyframe_hz)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every field (recorded in ``faults.json``)."""
        d = asdict(self)
        d["lidar_elevation_deg"] = list(self.lidar_elevation_deg)
        if not self.vegetation:
            del d["vegetation"]
        return d
