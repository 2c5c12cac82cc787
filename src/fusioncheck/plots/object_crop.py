"""One flagged object for a reviewer: its LiDAR points around the box, from above and from the side.

Left panel: bird's-eye view (global x/y, metres) of the points within a square around the box, coloured by
height above the box bottom, with the box's footprint and its heading. Right panel: side view in the box's
own frame (along its length vs up), points within the box's width plus a margin, with the box outline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fusioncheck.typing import FloatArray


def draw_object_crop(
    points_global: FloatArray,
    center_m: FloatArray,
    size_lwh_m: FloatArray,
    yaw_rad: float,
    title: str,
    subtitle: str,
    out_path: Path,
    margin_m: float = 3.0,
) -> Path:
    """Draw the crop and write it as a PNG.

    Args:
        points_global: ``(N, 3)`` LiDAR points, metres, global frame (the whole sweep is fine).
        center_m: ``(3,)`` box centre, metres, global frame.
        size_lwh_m: ``(3,)`` box length, width, height, metres.
        yaw_rad: box heading about global z, radians.
        title: first title line (check, class, score).
        subtitle: second line (the finding's message).
        out_path: the PNG to write.
        margin_m: the crop extends this far beyond the box (metres).

    Returns:
        ``out_path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    half = 0.5 * np.asarray(size_lwh_m, dtype=float)
    rel = np.asarray(points_global, dtype=float) - np.asarray(center_m, dtype=float)
    local = np.stack([c * rel[:, 0] + s * rel[:, 1], -s * rel[:, 0] + c * rel[:, 1], rel[:, 2]], axis=1)
    reach = float(np.hypot(half[0], half[1])) + margin_m
    near = (np.abs(rel[:, 0]) <= reach) & (np.abs(rel[:, 1]) <= reach) & (np.abs(rel[:, 2]) <= half[2] + 3.0)
    side = near & (np.abs(local[:, 1]) <= half[1] + 0.5)

    fig, (ax_top, ax_side) = plt.subplots(1, 2, figsize=(9.0, 4.2), dpi=80)
    height = local[near, 2] + half[2]
    ax_top.scatter(
        rel[near, 0], rel[near, 1], c=height, s=3, cmap="viridis", vmin=-0.3, vmax=2 * half[2] + 0.5
    )
    corners = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1], [1, 1]], dtype=float) * half[:2]
    world = np.stack([c * corners[:, 0] - s * corners[:, 1], s * corners[:, 0] + c * corners[:, 1]], axis=1)
    ax_top.plot(world[:, 0], world[:, 1], color="#d62728", lw=1.5)
    ax_top.plot([0, c * half[0]], [0, s * half[0]], color="#d62728", lw=1.0)
    ax_top.set_xlim(-reach, reach)
    ax_top.set_ylim(-reach, reach)
    ax_top.set_aspect("equal")
    ax_top.set_xlabel("global x - box x (m)")
    ax_top.set_ylabel("global y - box y (m)")
    ax_top.set_title(f"from above: {int(near.sum())} points", fontsize=9)

    ax_side.scatter(local[side, 0], local[side, 2], s=3, color="#1f4e79")
    ax_side.plot(
        [half[0], -half[0], -half[0], half[0], half[0]],
        [half[2], half[2], -half[2], -half[2], half[2]],
        color="#d62728",
        lw=1.5,
    )
    ax_side.set_xlim(-half[0] - margin_m, half[0] + margin_m)
    ax_side.set_ylim(-half[2] - 1.0, half[2] + 1.5)
    ax_side.set_aspect("equal")
    ax_side.set_xlabel("along the box (m, front = +)")
    ax_side.set_ylabel("up (m)")
    ax_side.set_title(f"from the side: {int(side.sum())} points within the width + 0.5 m", fontsize=9)
    fig.suptitle(f"{title}\n{subtitle}", fontsize=9)
    fig.tight_layout()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path)
    plt.close(fig)
    return out_path
