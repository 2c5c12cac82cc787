"""The scene model: frozen records of sensors, poses, sensor samples, boxes and sequences.

Loaders build it; geometry, kernels and checks read it. Nothing here opens a file.
"""

from fusioncheck.scene.boxes import BoxAnnotation, BoxArrays, BoxState, BoxTrack, boxes_to_arrays
from fusioncheck.scene.poses import PoseTrack
from fusioncheck.scene.samples import CameraImage, LidarSweep, RadarScan, SensorSample
from fusioncheck.scene.sensors import CameraIntrinsics, Modality, Sensor
from fusioncheck.scene.sequence import Keyframe, Sequence

__all__ = [
    "BoxAnnotation",
    "BoxArrays",
    "BoxState",
    "BoxTrack",
    "CameraImage",
    "CameraIntrinsics",
    "Keyframe",
    "LidarSweep",
    "Modality",
    "PoseTrack",
    "RadarScan",
    "Sensor",
    "SensorSample",
    "Sequence",
    "boxes_to_arrays",
]
