"""Per-stream clock faults of the simulator: a constant time offset and a slowly drifting clock.

A stream (``labels``, a camera or a radar channel) with clock ``(offset_ms, drift_ms_per_s)`` shows the
world as it was at ``stamp + offset(t)``, where ``offset(t) = offset_ms + drift_ms_per_s * (t - t0)`` and
``t0`` is the scene's first keyframe (the DESIGN.md sign: +50 means the data show the world 50 ms after
their stamp). The stamps themselves, and the ego poses written for them, stay on the reference clock: the
sensor data are what is late or early, as with a mis-synchronised trigger or clock.

In a fault spec (``stream_time_offsets``): channel -> ``{"offset_ms": x, "drift_ms_per_s": y}`` or a bare
number (a constant offset). ``labels`` adds to ``label_time_offset_ms``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fusioncheck.errors import PolicyError
from fusioncheck.simulate.rig import CAMERA_CHANNELS, RADAR_CHANNELS

#: Streams that may carry a clock fault.
CLOCK_STREAMS: tuple[str, ...] = ("labels", *CAMERA_CHANNELS, *RADAR_CHANNELS)
_KEYS = ("offset_ms", "drift_ms_per_s")


@dataclass(frozen=True)
class StreamClock:
    """A stream's clock error.

    Attributes:
        offset_ms: offset at the scene's first keyframe, ms.
        drift_ms_per_s: change of the offset per second of scene time, ms/s.
    """

    offset_ms: float = 0.0
    drift_ms_per_s: float = 0.0

    def __post_init__(self) -> None:
        for name in _KEYS:
            value = getattr(self, name)
            if not math.isfinite(value) or abs(value) > 10_000:
                raise PolicyError(f"stream clock {name} must be finite and within +-10000, got {value}")

    def offset_s(self, scene_time_s: float) -> float:
        """Return the offset in seconds at ``scene_time_s`` seconds after the scene's first keyframe."""
        return (self.offset_ms + self.drift_ms_per_s * scene_time_s) * 1e-3

    @property
    def is_clean(self) -> bool:
        """True when the clock is right."""
        return self.offset_ms == 0.0 and self.drift_ms_per_s == 0.0

    def to_dict(self) -> dict[str, float]:
        """JSON form."""
        return {"offset_ms": float(self.offset_ms), "drift_ms_per_s": float(self.drift_ms_per_s)}


def parse_stream_clocks(data: object, source: str) -> dict[str, StreamClock]:
    """Parse the ``stream_time_offsets`` object of a fault spec (errors name ``source`` and the key)."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"{source}: 'stream_time_offsets' must be an object of stream -> clock")
    out: dict[str, StreamClock] = {}
    for stream, value in data.items():
        where = f"stream_time_offsets.{stream}"
        if stream not in CLOCK_STREAMS:
            raise PolicyError(f"{source}: unknown stream {stream!r} in 'stream_time_offsets' "
                              f"(known: {', '.join(CLOCK_STREAMS)})")  # fmt: skip
        fields: dict[str, Any]
        if isinstance(value, int | float) and not isinstance(value, bool):
            fields = {"offset_ms": value}
        elif isinstance(value, Mapping):
            unknown = [k for k in value if k not in _KEYS]
            if unknown:
                raise PolicyError(
                    f"{source}: unknown key {unknown[0]!r} in '{where}' (known: {', '.join(_KEYS)})"
                )
            fields = dict(value)
        else:
            raise PolicyError(f"{source}: '{where}' must be a number or an object with {', '.join(_KEYS)}")
        for key, v in fields.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise PolicyError(f"{source}: '{where}.{key}' must be a number, got {v!r}")
        try:
            out[stream] = StreamClock(
                float(fields.get("offset_ms", 0.0)), float(fields.get("drift_ms_per_s", 0.0))
            )
        except PolicyError as exc:
            raise PolicyError(f"{source}: '{where}': {exc}") from None
    return out
