"""Decoding camera image files for any loader, optionally at reduced resolution."""

from __future__ import annotations

import cv2

from fusioncheck.errors import InputError
from fusioncheck.scene.samples import CameraImage, SensorSample

#: ``read_image`` scale -> OpenCV reduced-decode flags (colour, grey).
IMREAD_FLAGS: dict[float, tuple[int, int]] = {
    1.0: (cv2.IMREAD_COLOR, cv2.IMREAD_GRAYSCALE),
    0.5: (cv2.IMREAD_REDUCED_COLOR_2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
    0.25: (cv2.IMREAD_REDUCED_COLOR_4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
    0.125: (cv2.IMREAD_REDUCED_COLOR_8, cv2.IMREAD_REDUCED_GRAYSCALE_8),
}


def decode_image(
    sample: SensorSample, scale: float = 1.0, grey: bool = False, table: str = ""
) -> CameraImage:
    """Decode ``sample.path`` at ``scale`` (1, 0.5, 0.25 or 0.125; decoded reduced, not resized).

    Returns:
        ``pixels`` ``(H, W, 3)`` uint8 BGR, or ``(H, W)`` uint8 when ``grey``.

    Raises:
        ValueError: an unsupported ``scale``.
        InputError: missing or undecodable file, or an image whose size disagrees with the sample's
            ``width_px``/``height_px`` (when known). ``table`` names the source's record kind in messages.
    """
    flags = IMREAD_FLAGS.get(float(scale))
    if flags is None:
        raise ValueError(f"scale must be one of {sorted(IMREAD_FLAGS)}, got {scale}")
    if not sample.path.is_file():
        raise InputError("image file missing", path=sample.path, table=table or None, record=sample.token)
    pixels = cv2.imread(str(sample.path), flags[1] if grey else flags[0])
    if pixels is None:
        raise InputError(
            "image could not be decoded", path=sample.path, table=table or None, record=sample.token
        )
    if sample.width_px > 0 and sample.height_px > 0:
        want_w, want_h = sample.width_px * scale, sample.height_px * scale
        got_h, got_w = pixels.shape[:2]
        if abs(got_w - want_w) > 1 or abs(got_h - want_h) > 1:
            raise InputError(
                f"image is {got_w}x{got_h} px at scale {scale}, but the calibration says "
                f"{sample.width_px}x{sample.height_px} (expected about {want_w:g}x{want_h:g})",
                path=sample.path,
                table=table or None,
                record=sample.token,
            )
    return CameraImage(sample, pixels, float(scale))
