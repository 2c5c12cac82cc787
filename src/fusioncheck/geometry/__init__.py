"""Geometry: rigid transforms, quaternions, boxes and camera projection."""

from fusioncheck.geometry.se3 import SE3

__all__ = ["SE3"]
