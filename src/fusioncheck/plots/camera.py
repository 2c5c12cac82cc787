"""Camera plots: projected boxes and LiDAR points on an image; the calibration objective."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fusioncheck.checks.calibration_search import SearchResult

#: Box outline colours by finding (matplotlib colour names).
STATUS_COLOURS = {"ok": "lime", "projection_mismatch": "red", "unmatched": "orange", "2d": "cyan"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_calibration_curves(result: SearchResult, row: dict[str, Any], path: Path) -> Path:
    """Plot the edge objective along roll, pitch and yaw around the stated extrinsic (0 = as stated).

    Args:
        result: a search run with ``curves=True``.
        row: the camera's ``calibration`` report row (status, correction).
        path: the PNG to write.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
    correction = (row.get("correction") or {}).get("rotation_deg", [0.0, 0.0, 0.0])
    for ax, (name, (offsets, scores)), best in zip(
        axes, result.objective_curves.items(), correction, strict=False
    ):
        ax.plot(offsets, scores, color="black", lw=1.2)
        ax.axvline(0.0, color="grey", ls="--", lw=0.8, label="stated")
        # The objective is a function of the camera-frame motion C; the reported correction is C^-1.
        ax.axvline(-best, color="red", lw=0.8, label="best")
        ax.set_xlabel(f"{name} offset (deg)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("edge alignment (weighted, local-mean removed)")
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"{row['sensor']}: {row['status']}  correction roll/pitch/yaw {np.round(correction, 2).tolist()} deg"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_projection(context: Any, output: Any, out_dir: Path) -> list[Path]:
    """Per camera, the image with the most ``projection_mismatch`` findings (else the first image).

    Draws the projected 3D boxes (green: agree with their 2D box, red: ``projection_mismatch``, orange:
    not judged or no 2D box), the human 2D boxes (cyan, dashed) and the reference LiDAR sweep coloured by
    depth (near = yellow, far = purple).
    """
    import cv2

    from fusioncheck.geometry.camera import project_points
    from fusioncheck.scene.sensors import Modality

    plt = _pyplot()
    sequence = context.sequence
    rows = output.sections.get("visibility", [])
    flagged = {(f.annotation, f.sensor, f.timestamp_us) for f in output.findings}
    paths: list[Path] = []
    lidar = context.reference_lidar
    for camera in sequence.channels(Modality.CAMERA):
        cam_rows = [r for r in rows if r["sensor"] == camera]
        if not cam_rows:
            continue
        counts: dict[int, int] = {}
        for r in cam_rows:
            counts[r["timestamp_us"]] = counts.get(r["timestamp_us"], 0) + int(
                (r["annotation"], camera, r["timestamp_us"]) in flagged
            )
        stamp = max(counts, key=lambda t: (counts[t], -t))
        keyframe = next(
            (
                kf
                for kf in sequence.keyframes
                if kf.samples.get(camera) is not None and kf.samples[camera].timestamp_us == stamp
            ),
            None,
        )
        if keyframe is None:
            continue
        sample = keyframe.samples[camera]
        image = context.source.read_image(sample)
        sensor = sequence.sensors[camera]
        fig, ax = plt.subplots(figsize=(12, 12 * image.pixels.shape[0] / image.pixels.shape[1] + 0.6))
        ax.imshow(cv2.cvtColor(image.pixels, cv2.COLOR_BGR2RGB))
        if lidar is not None and lidar in keyframe.samples:
            lidar_sample = keyframe.samples[lidar]
            sweep = context.read_lidar(lidar_sample)
            camera_from_lidar = (
                sensor.ego_from_sensor.inverse() @ sample.global_from_ego.inverse()
                @ lidar_sample.global_from_ego
                @ sequence.sensors[lidar].ego_from_sensor
            )  # fmt: skip
            uv, depth, valid = project_points(
                camera_from_lidar.transform_points(sweep.xyz.astype(np.float64)), sensor.intrinsics
            )
            h, w = image.pixels.shape[:2]
            keep = valid & (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
            ax.scatter(
                uv[keep, 0], uv[keep, 1], c=np.minimum(depth[keep], 60.0), cmap="plasma_r", s=1.5, lw=0
            )
        for b in context.source.image_boxes(sample):
            u0, v0, u1, v1 = b.bbox_px
            ax.add_patch(plt.Rectangle((u0, v0), u1 - u0, v1 - v0, fill=False, ec="cyan", ls="--", lw=1))
        for r in cam_rows:
            if r["timestamp_us"] != stamp:
                continue
            key = (r["annotation"], camera, stamp)
            colour = STATUS_COLOURS["projection_mismatch"] if key in flagged else (
                STATUS_COLOURS["ok"] if r["iou"] is not None else STATUS_COLOURS["unmatched"]
            )  # fmt: skip
            u0, v0, u1, v1 = r["bbox_px"]
            ax.add_patch(plt.Rectangle((u0, v0), u1 - u0, v1 - v0, fill=False, ec=colour, lw=1.5))
            label = r["class"] if r["iou"] is None else f"{r['class']} {r['iou']:.2f}"
            ax.text(u0, v0 - 2, label, color=colour, fontsize=7)
        ax.set_axis_off()
        ax.set_title(
            f"{sequence.name} {camera} t={stamp} us: projected boxes (green ok, red mismatch), "
            "2D boxes (cyan)"
        )
        fig.tight_layout()
        path = out_dir / f"projection_{camera}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths
