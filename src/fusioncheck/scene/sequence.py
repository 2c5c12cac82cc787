"""Keyframes and sequences: the unit of work of every check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from fusioncheck.scene.boxes import BoxAnnotation, BoxTrack
from fusioncheck.scene.poses import PoseTrack
from fusioncheck.scene.samples import SensorSample
from fusioncheck.scene.sensors import Modality, Sensor


@dataclass(frozen=True, eq=False)
class Keyframe:
    """An annotated instant: one sample of each sensor and the boxes labelled for it.

    Attributes:
        token: the source's keyframe id (nuScenes ``sample`` token).
        timestamp_us: the keyframe time, microseconds (the time the boxes refer to).
        samples: channel -> the sensor sample attached to this keyframe.
        annotations: the boxes of this keyframe, global frame.
    """

    token: str
    timestamp_us: int
    samples: Mapping[str, SensorSample]
    annotations: tuple[BoxAnnotation, ...]


@dataclass(frozen=True, eq=False)
class Sequence:
    """One driving log excerpt (nuScenes ``scene``): keyframes, every sensor sample, calibration, poses.

    Attributes:
        name: the sequence's name (nuScenes ``scene.name``), unique within a dataroot.
        token: the source's id for it.
        dataroot: the folder the sequence was loaded from (for messages and report inputs).
        sensors: channel -> sensor with calibration. A sequence has one calibration per channel.
        ego_poses: every ego pose of the sequence (all sensors' poses merged), ``global_from_ego``.
        keyframes: annotated keyframes ordered by time.
        samples: channel -> every sample of that channel (keyframes and sweeps) ordered by time.
        description: free text from the source.
    """

    name: str
    token: str
    dataroot: str
    sensors: Mapping[str, Sensor]
    ego_poses: PoseTrack
    keyframes: tuple[Keyframe, ...]
    samples: Mapping[str, tuple[SensorSample, ...]]
    description: str = ""

    def channels(self, modality: Modality) -> list[str]:
        """Channels of one modality, sorted by name."""
        return sorted(c for c, s in self.sensors.items() if s.modality is modality)

    @property
    def annotations(self) -> list[BoxAnnotation]:
        """All boxes of all keyframes, in keyframe order."""
        return [a for kf in self.keyframes for a in kf.annotations]

    @cached_property
    def tracks(self) -> dict[str, BoxTrack]:
        """Instance id -> its track (boxes ordered by time)."""
        by_instance: dict[str, list[BoxAnnotation]] = {}
        for box in self.annotations:
            by_instance.setdefault(box.instance, []).append(box)
        tracks = {}
        for instance, boxes in by_instance.items():
            boxes.sort(key=lambda b: b.timestamp_us)
            tracks[instance] = BoxTrack(instance, boxes[0].category, tuple(boxes))
        return tracks
