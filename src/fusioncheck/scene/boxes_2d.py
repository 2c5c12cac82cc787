"""2D boxes drawn by humans on camera images (KITTI ``label_2``, nuImages-style ``object_ann``)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageBox:
    """One axis-aligned 2D box on one camera image.

    Attributes:
        token: the source's record id (KITTI: ``<frame>:<label line>``; nuImages: ``object_ann`` token).
        sample_token: the camera sample (nuScenes ``sample_data`` token) the box was drawn on.
        category: class name as in the source; ``DontCare`` marks a region to ignore (KITTI).
        bbox_px: ``(u_min, v_min, u_max, v_max)`` pixels, original image resolution (pixel centres at
            integer coordinates, as OpenCV and KITTI).
        annotation: the 3D box (``BoxAnnotation.token``) this 2D box belongs to, when the source links them
            (KITTI: the same label line; nuImages: via ``instance_token``); ``None`` when unlinked.
        instance: the object's track id, if the source gives one.
        truncated: fraction of the object outside the image (0..1), when given (KITTI).
        occluded: occlusion level as the source gives it (KITTI: 0 fully visible .. 3 unknown), or ``None``.
    """

    token: str
    sample_token: str
    category: str
    bbox_px: tuple[float, float, float, float]
    annotation: str | None = None
    instance: str | None = None
    truncated: float | None = None
    occluded: int | None = None

    def __post_init__(self) -> None:
        u0, v0, u1, v1 = self.bbox_px
        if not all(math.isfinite(c) for c in self.bbox_px) or u1 < u0 or v1 < v0:
            raise ValueError(
                f"2D box {self.token}: expected finite (u_min, v_min, u_max, v_max), got {self.bbox_px}"
            )

    @property
    def is_dont_care(self) -> bool:
        """True for a region the labellers marked as not to be evaluated (KITTI ``DontCare``)."""
        return self.category == "DontCare"

    @property
    def area_px(self) -> float:
        """Area in square pixels."""
        u0, v0, u1, v1 = self.bbox_px
        return (u1 - u0) * (v1 - v0)
