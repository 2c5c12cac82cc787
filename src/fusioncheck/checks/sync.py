"""Temporal sync: the time offset of the labels, every camera and every radar against the reference LiDAR.

Each stream gets a row in ``sequences[].sync[]`` (stream, reference, ``offset_ms``, ``ci95_ms``,
support, status ``ok | exceeds | not_estimable``, reason, tolerance). The sign follows DESIGN.md: the
stream shows the world at ``stamp + offset_ms``. A ``sync_offset`` finding is raised when ``|offset|``
exceeds the stream's tolerance (``label_tolerance_ms``, ``camera_tolerance_ms``,
``radar_tolerance_ms``) *and* the 95 % interval lies entirely beyond it. Estimators:
:mod:`fusioncheck.sync.labels`, :mod:`fusioncheck.sync.radar`, :mod:`fusioncheck.sync.camera`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from fusioncheck.checks.base import Check, CheckOutput, Finding, Severity, register
from fusioncheck.context import SequenceContext
from fusioncheck.scene.sensors import Modality
from fusioncheck.sync.camera import CameraSyncSettings, EdgeCache, estimate_camera_offset
from fusioncheck.sync.estimate import (
    STATUS_EXCEEDS,
    STATUS_NOT_ESTIMABLE,
    SearchSettings,
    SyncEstimate,
    judge,
)
from fusioncheck.sync.labels import LabelSyncSettings, estimate_label_offset
from fusioncheck.sync.radar import RadarSyncSettings, estimate_radar_offset


@register
class SyncCheck(Check):
    """Estimate every stream's time offset against the reference LiDAR (see the module docstring)."""

    name = "sync"
    finding_types = ("sync_offset",)
    defaults: ClassVar[dict[str, Any]] = {
        "label_tolerance_ms": 10.0,
        "camera_tolerance_ms": 15.0,
        "radar_tolerance_ms": 25.0,
        "search_range_ms": 250.0,
        "bootstrap": 400,
        "min_moving_tracks": 3,
        "min_camera_frames": 3,
        "min_speed_mps": 1.0,
        "max_ci_width_ms": 80.0,
        "streams": "labels,radar,camera",
    }

    def _search(self, min_support: int) -> SearchSettings:
        p = self.parameters
        return SearchSettings(
            range_ms=p["search_range_ms"],
            bootstrap=p["bootstrap"],
            min_support=min_support,
            max_ci_width_ms=p["max_ci_width_ms"],
        )

    def estimates(self, context: SequenceContext) -> list[SyncEstimate]:
        """Every stream's estimate, judged against its tolerance (labels first, then radars, cameras)."""
        p = self.parameters
        kinds = {k.strip() for k in str(p["streams"]).split(",") if k.strip()}
        unknown = kinds - {"labels", "radar", "camera"}
        if unknown:
            from fusioncheck.errors import PolicyError

            raise PolicyError(f"check sync: unknown stream kind(s) {', '.join(sorted(unknown))} in 'streams'")
        out = []
        labels = estimate_label_offset(
            context, LabelSyncSettings(min_speed_mps=p["min_speed_mps"]), self._search(p["min_moving_tracks"])
        )
        if "labels" in kinds:
            out.append(judge(labels, p["label_tolerance_ms"]))
        radar_settings = RadarSyncSettings(min_speed_mps=p["min_speed_mps"])
        for channel in context.sequence.channels(Modality.RADAR) if "radar" in kinds else []:
            radar = estimate_radar_offset(
                context, channel, labels, radar_settings, self._search(p["min_moving_tracks"])
            )
            out.append(judge(radar, p["radar_tolerance_ms"]))
        cache: EdgeCache = {}
        # Points of moving objects move with their labelled boxes, read where the labels show the world
        # at the sweep's time (the cache holds one label offset for all cameras).
        known = labels.status != STATUS_NOT_ESTIMABLE and labels.offset_ms is not None
        label_offset_ms = float(labels.offset_ms) if known and labels.offset_ms is not None else 0.0
        for channel in context.sequence.channels(Modality.CAMERA) if "camera" in kinds else []:
            camera = estimate_camera_offset(
                context, channel, CameraSyncSettings(), self._search(p["min_camera_frames"]), cache,
                label_offset_ms,
            )  # fmt: skip
            out.append(judge(camera, p["camera_tolerance_ms"]))
        return out

    def run(self, context: SequenceContext) -> CheckOutput:
        """Estimate, report rows, findings for offsets beyond tolerance, notes for what was not estimable."""
        out = CheckOutput()
        estimates = self.estimates(context)
        out.sections["sync"] = [e.to_row() for e in estimates]
        out.statistics["estimates"] = len(estimates)
        for e in estimates:
            if e.status == STATUS_NOT_ESTIMABLE:
                out.notes.append(f"sync: {e.stream} vs {e.reference or 'LiDAR'} not estimable: {e.reason}")
            elif e.status == STATUS_EXCEEDS:
                out.findings.append(self._finding(context, e))
        self._estimates = estimates
        return out

    def _finding(self, context: SequenceContext, e: SyncEstimate) -> Finding:
        assert e.offset_ms is not None and e.ci95_ms is not None  # guaranteed by STATUS_EXCEEDS
        lo, hi = e.ci95_ms
        margin = (lo - e.tolerance_ms) if e.offset_ms > 0 else (-e.tolerance_ms - hi)
        score = min(1.0, 0.5 + 0.5 * margin / max(e.tolerance_ms, 1e-9))
        first = context.sequence.keyframes[0].timestamp_us if context.sequence.keyframes else None
        return Finding(
            check="sync_offset",
            severity=Severity.ERROR,
            sequence=context.sequence.name,
            score=float(max(0.5, score)),
            message=(
                f"{e.stream} is {e.offset_ms:+.1f} ms off {e.reference} (95 % interval {lo:+.1f} .. "
                f"{hi:+.1f} ms, tolerance {e.tolerance_ms:g} ms, support {e.support})"
            ),
            sensor=None if e.stream == "labels" else e.stream,
            timestamp_us=first,
            values={
                "stream": e.stream,
                "reference": e.reference,
                "offset_ms": round(e.offset_ms, 2),
                "ci95_low_ms": round(lo, 2),
                "ci95_high_ms": round(hi, 2),
                "tolerance_ms": e.tolerance_ms,
                "support": e.support,
            },
        )

    def plot(self, context: SequenceContext, output: CheckOutput, out_dir: Path) -> list[Path]:
        """Draw the objective curve of every stream (see :mod:`fusioncheck.plots.sync`)."""
        from fusioncheck.plots.sync import plot_sync_curves

        estimates = getattr(self, "_estimates", None)
        if estimates is None:
            estimates = self.estimates(context)
        return [plot_sync_curves(context.sequence.name, estimates, out_dir / "sync.png")]
