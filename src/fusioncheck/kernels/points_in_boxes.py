"""Points in oriented 3D boxes: per-box counts, per-point box index, shell statistics, local extents.

One pass over the points answers, for every box, how many points it holds, how many lie in a thin shell
around it (points the box *nearly* holds: evidence that it is too small), and how far its points reach
along the box's own axes. Checks such as ``empty_box``, ``undersized_box`` and ``box_height_offset``
read these numbers.

Rules (the reference implementation in :mod:`fusioncheck.kernels.points_in_boxes_reference` follows the
same rules and the tests compare the two for exact equality):

* A point is **inside** box ``j`` when ``|l_x| <= length/2``, ``|l_y| <= width/2`` and
  ``|l_z| <= height/2``, where ``l = R_j^T (p - c_j)`` are its box-local coordinates. The test is
  evaluated in float64 (float32 points are widened exactly) and is **inclusive**: points exactly on a face,
  edge or corner count as inside. The local coordinates are computed as
  ``l_k = (d_x * R[0, k] + d_y * R[1, k]) + d_z * R[2, k]`` with ``d = p - c`` and no fused multiply-add.
* A point is in the **shell** of box ``j`` when it is inside box ``j`` inflated by the margin
  (half-sizes ``size/2 + margin``, same inclusive test), is inside *no* box at all (neither ``j`` nor any
  other), and is eligible (``shell_eligible``; callers use it to leave out ground points). A point can
  lie in the shells of several boxes; it is counted in each.
* A point with a NaN or infinite coordinate is inside no box and in no shell: it is counted nowhere and
  its ``point_box`` / ``point_shell_box`` are ``-1``.
* Boxes must have finite centres, finite non-negative sizes, finite non-negative margins and orthonormal
  rotation matrices (tolerance :data:`ROTATION_TOLERANCE`); anything else raises :class:`ValueError`.

How the kernel is fast (see ``shared/PERFORMANCE.md``): the boxes are binned into a ground-plane (x, y)
grid by the xy bounding rectangle of their inflated box, and the points are scanned once, each point
testing only the boxes of its own cell. The cost is O(points + cells + box-cell pairs + candidate tests),
not O(points x boxes). Cells are about :data:`BASE_CELL_M` wide and grow when the boxes span an area that
would need more than a budget of cells (or box-cell pairs); the budget scales with the number of points
and boxes. The wrapper copies x, y, z once into contiguous ``(3, N)`` rows (one compiled signature per
dtype); a branch-free pass computes every point's cell (it vectorises), then the scan skips points in
empty cells. The count and extent of the box hit last stay in registers while consecutive points hit the
same box, as they do along a LiDAR scan. The kernel runs single-threaded: frames are parallelised across
processes, not inside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba
import numpy as np

from fusioncheck.errors import ShapeError, check_shape
from fusioncheck.typing import BoolArray, FloatArray, Int32Array, IntArray

if TYPE_CHECKING:
    import numpy.typing as npt

    from fusioncheck.scene.boxes import BoxArrays

#: Ground-plane grid cell size the kernel starts from, metres (about a pedestrian's footprint).
BASE_CELL_M = 1.0
#: Fewest and most grid cells the kernel may use; between them the budget is ``N / 2 + 256 M``.
MIN_GRID_CELLS = 1024
MAX_GRID_CELLS = 1 << 20
#: Grid cells granted per box in the cell budget.
GRID_CELLS_PER_BOX = 256
#: Largest accepted ``max |R^T R - I|`` of a box rotation matrix.
ROTATION_TOLERANCE = 1e-6

# Columns of the packed per-box parameter array handed to the kernel: centre (3), rotation (9, row-major,
# columns = box axes), size (3: length, width, height) and shell margin (3), all float64.
_CENTER = 0
_ROTATION = 3
_SIZE = 12
_MARGIN = 15
_N_PARAMS = 18

# Relative padding of the grid rectangles: the rectangle must hold every point the float64 test accepts,
# also for rotation matrices that are orthonormal only to ROTATION_TOLERANCE.
_RECT_PAD_REL = 1e-5
_RECT_PAD_ABS = 1e-9


@dataclass(frozen=True, eq=False)
class PointsInBoxesResult:
    """What :func:`points_in_boxes` finds for ``N`` points and ``M`` boxes.

    Attributes:
        counts: ``(M,)`` int64, number of points inside each box (a point inside two overlapping boxes
            counts in both).
        shell_counts: ``(M,)`` int64, number of points in each box's shell: inside the box inflated by
            the shell margin, inside no box, and eligible.
        point_box: ``(N,)`` int32, the lowest index of a box holding the point, ``-1`` if none.
        point_shell_box: ``(N,)`` int32, the lowest index of a box whose shell holds the point, ``-1`` if
            none (always ``-1`` where ``point_box >= 0``).
        local_min: ``(M, 3)`` float64, metres: minimum of the box-local coordinates (along the box's x, y,
            z axes, relative to its centre) over the box's inside and shell points; NaN rows for boxes
            with neither.
        local_max: ``(M, 3)`` float64, metres: the maximum, likewise.
    """

    counts: IntArray
    shell_counts: IntArray
    point_box: Int32Array
    point_shell_box: Int32Array
    local_min: FloatArray
    local_max: FloatArray


def points_in_boxes(
    points_xyz: npt.ArrayLike,
    boxes: BoxArrays,
    shell_margin_m: float | npt.ArrayLike = 0.0,
    shell_eligible: npt.ArrayLike | None = None,
) -> PointsInBoxesResult:
    """Find which points lie in which boxes, and the points in a shell around each box.

    Args:
        points_xyz: ``(N, C)`` points with ``C >= 3``; the first three columns are x, y, z in metres, in
            the boxes' frame. float32 stays float32 (widened exactly per coordinate inside the kernel);
            any other real dtype is converted to float64.
        boxes: ``M`` boxes in the same frame (centres and sizes in metres, rotation columns = box axes).
        shell_margin_m: how far the shell reaches beyond each face, metres: a scalar, or ``(M, 3)`` per
            box along its x, y, z axes. Non-negative; ``0`` gives empty shells.
        shell_eligible: ``(N,)`` bool, the points that may count in a shell (e.g. not ground); all points
            when ``None``. Does not affect the inside test.

    Returns:
        A :class:`PointsInBoxesResult`; see the module docstring for the exact rules (inclusive faces,
        float64 evaluation, NaN points counted nowhere).

    Raises:
        ShapeError: an input has the wrong shape.
        TypeError: points or ``shell_eligible`` have an unsupported dtype.
        ValueError: a box has a non-finite or negative parameter, a rotation that is not orthonormal, or a
            margin is negative or not finite.
    """
    columns = _point_columns(points_xyz)
    n_points = columns.shape[1]
    params = _box_params(boxes, shell_margin_m)
    eligible = _eligible_mask(shell_eligible, n_points)
    status, counts, shell_counts, point_box, point_shell_box, local_min, local_max = _points_in_boxes_kernel(
        columns, eligible, params
    )
    if status >= 0:
        raise ValueError(_describe_bad_box(params, int(status)))
    return PointsInBoxesResult(counts, shell_counts, point_box, point_shell_box, local_min, local_max)


def warm_up() -> None:
    """Compile (or load from the numba cache) the kernel for float32 and float64 points."""
    boxes = _tiny_boxes()
    for dtype in (np.float32, np.float64):
        points = np.array([[0.0, 0.0, 0.0, 1.0], [0.9, 0.0, 0.0, 1.0], [5.0, 5.0, 5.0, 1.0]], dtype=dtype)
        points_in_boxes(points, boxes, shell_margin_m=0.5, shell_eligible=np.ones(3, dtype=np.bool_))


def kernel_cache_stats() -> dict[str, object]:
    """Numba cache statistics of the kernel in this process: cache path, hits and misses per signature."""
    stats = _points_in_boxes_kernel.stats
    return {
        "cache_path": str(stats.cache_path),
        "cache_hits": int(sum(stats.cache_hits.values())),
        "cache_misses": int(sum(stats.cache_misses.values())),
    }


# --- input preparation (shared with the reference implementation) -------------------------------------


def _point_columns(points_xyz: npt.ArrayLike) -> npt.NDArray[np.floating]:
    """``(3, N)`` C-contiguous x, y, z rows: float32 for float32 input, float64 otherwise (always a copy)."""
    points = np.asarray(points_xyz)
    if points.ndim != 2 or points.shape[1] < 3:
        raise ShapeError("points_xyz", (-1, 3), tuple(points.shape))
    if points.dtype.kind not in "fiu":
        raise TypeError(f"points_xyz: expected a real (float or integer) dtype, got {points.dtype}")
    dtype = np.float32 if points.dtype == np.float32 else np.float64
    columns = np.empty((3, points.shape[0]), dtype=dtype)
    columns[:] = points[:, :3].T
    return columns


def _box_params(boxes: BoxArrays, shell_margin_m: float | npt.ArrayLike) -> FloatArray:
    """Pack centres, rotations, sizes and margins into a fresh ``(M, 18)`` float64 array."""
    centers = np.asarray(boxes.centers_m)
    sizes = np.asarray(boxes.sizes_m)
    rotations = np.asarray(boxes.rotations)
    check_shape("boxes.centers_m", centers, (-1, 3))
    n_boxes = centers.shape[0]
    check_shape("boxes.sizes_m", sizes, (n_boxes, 3))
    check_shape("boxes.rotations", rotations, (n_boxes, 3, 3))
    params = np.empty((n_boxes, _N_PARAMS), dtype=np.float64)
    params[:, _CENTER : _CENTER + 3] = centers
    params[:, _ROTATION : _ROTATION + 9] = rotations.reshape(n_boxes, 9)
    params[:, _SIZE : _SIZE + 3] = sizes
    margin = np.asarray(shell_margin_m, dtype=np.float64)
    if margin.ndim != 0:
        check_shape("shell_margin_m", margin, (n_boxes, 3))
    params[:, _MARGIN : _MARGIN + 3] = margin
    return params


def _eligible_mask(shell_eligible: npt.ArrayLike | None, n_points: int) -> BoolArray:
    """``(N,)`` writable C-contiguous bool mask (all true when ``shell_eligible`` is ``None``)."""
    if shell_eligible is None:
        return np.ones(n_points, dtype=np.bool_)
    mask = np.asarray(shell_eligible)
    if mask.dtype != np.bool_:
        raise TypeError(f"shell_eligible: expected a bool array, got dtype {mask.dtype}")
    check_shape("shell_eligible", mask, (n_points,))
    if not (mask.flags.c_contiguous and mask.flags.writeable):
        mask = mask.copy()
    return mask


def _describe_bad_box(params: FloatArray, index: int) -> str:
    """Say what is wrong with box ``index`` of the packed parameters (the kernel found it invalid)."""
    row = params[index]
    rotation = row[_ROTATION : _ROTATION + 9].reshape(3, 3)
    if not np.all(np.isfinite(row[_CENTER : _CENTER + 3])):
        what = f"centre {row[_CENTER : _CENTER + 3].tolist()} is not finite"
    elif not np.all(np.isfinite(row[_SIZE : _SIZE + 3])) or np.any(row[_SIZE : _SIZE + 3] < 0):
        what = f"size {row[_SIZE : _SIZE + 3].tolist()} must be finite and non-negative"
    elif not np.all(np.isfinite(row[_MARGIN : _MARGIN + 3])) or np.any(row[_MARGIN : _MARGIN + 3] < 0):
        what = f"shell margin {row[_MARGIN : _MARGIN + 3].tolist()} must be finite and non-negative"
    else:
        what = f"rotation {rotation.tolist()} is not orthonormal (tolerance {ROTATION_TOLERANCE})"
    return f"box {index}: {what}"


def _tiny_boxes() -> BoxArrays:
    """Two overlapping unit-ish boxes for warm-up calls."""
    from fusioncheck.scene.boxes import BoxArrays

    centers = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
    sizes = np.array([[2.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    return BoxArrays(centers, sizes, np.stack([np.eye(3), np.eye(3)]))


# --- the numba kernel ------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _first_invalid_box(params: FloatArray) -> int:
    """Index of the first box with a non-finite/negative parameter or a non-orthonormal rotation, else -1."""
    for j in range(params.shape[0]):
        for k in range(_N_PARAMS):
            if not math.isfinite(params[j, k]):
                return j
        for k in range(3):
            if params[j, _SIZE + k] < 0.0 or params[j, _MARGIN + k] < 0.0:
                return j
        for a in range(3):
            for b in range(3):
                dot = 0.0
                for r in range(3):
                    dot += params[j, _ROTATION + 3 * r + a] * params[j, _ROTATION + 3 * r + b]
                expected = 1.0 if a == b else 0.0
                if abs(dot - expected) > ROTATION_TOLERANCE:
                    return j
    return -1


@numba.njit(cache=True)
def _box_geometry(params: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per box: ``(M, 18)`` test parameters and ``(M, 4)`` xy rectangles of the inflated boxes.

    Test parameters: centre (3), rotation row-major (9), half-size (3), inflated half-size (3).
    Rectangles: ``x_min, x_max, y_min, y_max``, metres, padded so that they hold every accepted point.
    """
    m = params.shape[0]
    geometry = np.empty((m, _N_PARAMS), dtype=np.float64)
    rects = np.empty((m, 4), dtype=np.float64)
    for j in range(m):
        for k in range(12):
            geometry[j, k] = params[j, k]
        reach_x = 0.0
        reach_y = 0.0
        for k in range(3):
            half = 0.5 * params[j, _SIZE + k]
            outer = half + params[j, _MARGIN + k]
            geometry[j, 12 + k] = half
            geometry[j, 15 + k] = outer
            reach_x += abs(params[j, _ROTATION + k]) * outer
            reach_y += abs(params[j, _ROTATION + 3 + k]) * outer
        pad_scale = geometry[j, 15] + geometry[j, 16] + geometry[j, 17]
        cx = params[j, _CENTER]
        cy = params[j, _CENTER + 1]
        pad_x = _RECT_PAD_REL * pad_scale + _RECT_PAD_ABS * (1.0 + abs(cx))
        pad_y = _RECT_PAD_REL * pad_scale + _RECT_PAD_ABS * (1.0 + abs(cy))
        rects[j, 0] = cx - reach_x - pad_x
        rects[j, 1] = cx + reach_x + pad_x
        rects[j, 2] = cy - reach_y - pad_y
        rects[j, 3] = cy + reach_y + pad_y
    return geometry, rects


@numba.njit(cache=True)
def _grid_cell_size(
    rects: FloatArray, x0: float, y0: float, width: float, depth: float, budget: int
) -> float:
    """Smallest cell size from ``BASE_CELL_M`` up that keeps cells and box-cell pairs within budget."""
    cell = max(BASE_CELL_M, math.sqrt(width * depth / budget), width / budget, depth / budget)
    while True:
        inv = 1.0 / cell
        nx = int(width * inv) + 1
        ny = int(depth * inv) + 1
        if nx * ny <= budget:
            pairs = 0
            for j in range(rects.shape[0]):
                ix0 = int((rects[j, 0] - x0) * inv)
                ix1 = int((rects[j, 1] - x0) * inv)
                iy0 = int((rects[j, 2] - y0) * inv)
                iy1 = int((rects[j, 3] - y0) * inv)
                pairs += (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
            if pairs <= 4 * budget:
                return cell
        cell *= 1.25


@numba.njit(cache=True)
def _points_in_boxes_kernel(
    columns: npt.NDArray[np.floating], eligible: BoolArray, params: FloatArray
) -> tuple[int, IntArray, IntArray, Int32Array, Int32Array, FloatArray, FloatArray]:
    """Compute everything :func:`points_in_boxes` returns (its numba kernel).

    Args:
        columns: ``(3, N)`` float32 or float64 x, y, z rows, metres, C-contiguous.
        eligible: ``(N,)`` bool, points allowed in shells.
        params: ``(M, 18)`` float64 packed boxes (see ``_box_params``).

    Returns:
        ``(status, counts, shell_counts, point_box, point_shell_box, local_min, local_max)``; ``status`` is
        ``-1``, or the index of the first invalid box (then the other outputs are meaningless).
    """
    n = columns.shape[1]
    m = params.shape[0]
    counts = np.zeros(m, dtype=np.int64)
    shell_counts = np.zeros(m, dtype=np.int64)
    point_box = np.full(n, -1, dtype=np.int32)
    point_shell_box = np.full(n, -1, dtype=np.int32)
    local_min = np.full((m, 3), np.inf)
    local_max = np.full((m, 3), -np.inf)
    status = _first_invalid_box(params)
    if status < 0 and m > 0 and n > 0:
        _scan(
            columns, eligible, params, counts, shell_counts, point_box, point_shell_box, local_min, local_max
        )
    for j in range(m):
        if counts[j] + shell_counts[j] == 0:
            for k in range(3):
                local_min[j, k] = np.nan
                local_max[j, k] = np.nan
    return status, counts, shell_counts, point_box, point_shell_box, local_min, local_max


@numba.njit(cache=True)
def _scan(
    columns: npt.NDArray[np.floating],
    eligible: BoolArray,
    params: FloatArray,
    counts: IntArray,
    shell_counts: IntArray,
    point_box: Int32Array,
    point_shell_box: Int32Array,
    local_min: FloatArray,
    local_max: FloatArray,
) -> None:
    """Bin the boxes into the ground-plane grid, then test each point against the boxes of its cell."""
    n = columns.shape[1]
    m = params.shape[0]
    geometry, rects = _box_geometry(params)

    x0 = rects[0, 0]
    x1 = rects[0, 1]
    y0 = rects[0, 2]
    y1 = rects[0, 3]
    for j in range(1, m):
        x0 = min(x0, rects[j, 0])
        x1 = max(x1, rects[j, 1])
        y0 = min(y0, rects[j, 2])
        y1 = max(y1, rects[j, 3])
    budget = min(MAX_GRID_CELLS, max(MIN_GRID_CELLS, n // 2 + GRID_CELLS_PER_BOX * m))
    cell = _grid_cell_size(rects, x0, y0, x1 - x0, y1 - y0, budget)
    inv_cell = 1.0 / cell
    nx = int((x1 - x0) * inv_cell) + 1
    ny = int((y1 - y0) * inv_cell) + 1
    starts, entries, most_in_cell = _bin_boxes(rects, x0, y0, inv_cell, nx, ny)
    cells = np.empty(n, dtype=np.int32)
    _point_cells(columns, x0, y0, inv_cell, nx, ny, cells)

    # Shell candidates of the current point, kept until we know it is inside no box.
    shell_boxes = np.empty(most_in_cell, dtype=np.int64)
    shell_local = np.empty((most_in_cell, 3), dtype=np.float64)

    # The extent and count of the box hit last live in registers until another box is hit: runs of
    # consecutive points in one box are the rule in a LiDAR scan, and updating memory for each of them
    # would chain every update to the previous one through store-to-load forwarding.
    held = -1
    held_count = 0
    min_x = min_y = min_z = np.inf
    max_x = max_y = max_z = -np.inf

    xs = columns[0]
    ys = columns[1]
    zs = columns[2]
    for i in range(n):
        c = cells[i]
        begin = starts[c]
        end = starts[c + 1]
        if begin == end:
            continue
        x = np.float64(xs[i])
        y = np.float64(ys[i])
        z = np.float64(zs[i])
        first_inside = -1
        n_shell = 0
        for e in range(begin, end):
            j = entries[e]
            dx = x - geometry[j, 0]
            dy = y - geometry[j, 1]
            dz = z - geometry[j, 2]
            lx = dx * geometry[j, 3] + dy * geometry[j, 6] + dz * geometry[j, 9]
            ly = dx * geometry[j, 4] + dy * geometry[j, 7] + dz * geometry[j, 10]
            lz = dx * geometry[j, 5] + dy * geometry[j, 8] + dz * geometry[j, 11]
            ax = abs(lx)
            ay = abs(ly)
            az = abs(lz)
            # Non-short-circuit "&": fewer branches; NaN compares false, so NaN points fail here.
            if not ((ax <= geometry[j, 15]) & (ay <= geometry[j, 16]) & (az <= geometry[j, 17])):
                continue
            if (ax <= geometry[j, 12]) & (ay <= geometry[j, 13]) & (az <= geometry[j, 14]):
                if j != held:
                    if held >= 0:
                        _store_extent(
                            counts,
                            local_min,
                            local_max,
                            held,
                            held_count,
                            min_x,
                            min_y,
                            min_z,
                            max_x,
                            max_y,
                            max_z,
                        )
                    held = j
                    held_count = counts[j]
                    min_x = local_min[j, 0]
                    min_y = local_min[j, 1]
                    min_z = local_min[j, 2]
                    max_x = local_max[j, 0]
                    max_y = local_max[j, 1]
                    max_z = local_max[j, 2]
                held_count += 1
                min_x = min(min_x, lx)
                min_y = min(min_y, ly)
                min_z = min(min_z, lz)
                max_x = max(max_x, lx)
                max_y = max(max_y, ly)
                max_z = max(max_z, lz)
                if first_inside < 0:
                    first_inside = j
            elif first_inside < 0 and eligible[i]:
                shell_boxes[n_shell] = j
                shell_local[n_shell, 0] = lx
                shell_local[n_shell, 1] = ly
                shell_local[n_shell, 2] = lz
                n_shell += 1
        if first_inside >= 0:
            point_box[i] = first_inside
        elif n_shell > 0:
            if held >= 0:
                _store_extent(
                    counts, local_min, local_max, held, held_count, min_x, min_y, min_z, max_x, max_y, max_z
                )
                held = -1
            point_shell_box[i] = shell_boxes[0]
            for s in range(n_shell):
                j = shell_boxes[s]
                shell_counts[j] += 1
                _extend(local_min, local_max, j, shell_local[s, 0], shell_local[s, 1], shell_local[s, 2])
    if held >= 0:
        _store_extent(
            counts, local_min, local_max, held, held_count, min_x, min_y, min_z, max_x, max_y, max_z
        )


@numba.njit(cache=True, inline="always")
def _store_extent(
    counts: IntArray,
    local_min: FloatArray,
    local_max: FloatArray,
    j: int,
    count: int,
    min_x: float,
    min_y: float,
    min_z: float,
    max_x: float,
    max_y: float,
    max_z: float,
) -> None:
    """Write box ``j``'s count and extent back from registers."""
    counts[j] = count
    local_min[j, 0] = min_x
    local_min[j, 1] = min_y
    local_min[j, 2] = min_z
    local_max[j, 0] = max_x
    local_max[j, 1] = max_y
    local_max[j, 2] = max_z


@numba.njit(cache=True)
def _bin_boxes(
    rects: FloatArray, x0: float, y0: float, inv_cell: float, nx: int, ny: int
) -> tuple[Int32Array, Int32Array, int]:
    """Compressed rows of the boxes per cell: ``(starts, entries, most boxes in one cell)``.

    The boxes of cell ``c = iy * nx + ix`` are ``entries[starts[c]:starts[c + 1]]``, in increasing index
    order. Cell ``nx * ny`` is an extra, empty cell where points outside the grid are sent.
    """
    m = rects.shape[0]
    n_cells = nx * ny
    starts = np.zeros(n_cells + 2, dtype=np.int32)
    for j in range(m):
        ix0, ix1, iy0, iy1 = _rect_cells(rects, j, x0, y0, inv_cell)
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                starts[iy * nx + ix] += 1
    # Inclusive prefix sums (the end of each cell), then fill each cell from its end, boxes in
    # decreasing order: afterwards starts[c] is the start of cell c and the boxes are ascending.
    most_in_cell = 0
    total = 0
    for c in range(n_cells + 1):
        most_in_cell = max(most_in_cell, starts[c])
        total += starts[c]
        starts[c] = total
    starts[n_cells + 1] = total
    entries = np.empty(total, dtype=np.int32)
    for j in range(m - 1, -1, -1):
        ix0, ix1, iy0, iy1 = _rect_cells(rects, j, x0, y0, inv_cell)
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                c = iy * nx + ix
                starts[c] -= 1
                entries[starts[c]] = j
    return starts, entries, most_in_cell


@numba.njit(cache=True, inline="always")
def _rect_cells(
    rects: FloatArray, j: int, x0: float, y0: float, inv_cell: float
) -> tuple[int, int, int, int]:
    """First and last grid column and row ``(ix0, ix1, iy0, iy1)`` of box ``j``'s rectangle."""
    return (
        int((rects[j, 0] - x0) * inv_cell),
        int((rects[j, 1] - x0) * inv_cell),
        int((rects[j, 2] - y0) * inv_cell),
        int((rects[j, 3] - y0) * inv_cell),
    )


@numba.njit(cache=True)
def _point_cells(
    columns: npt.NDArray[np.floating],
    x0: float,
    y0: float,
    inv_cell: float,
    nx: int,
    ny: int,
    cells: Int32Array,
) -> None:
    """Write each point's grid cell to ``cells`` (``(N,)``); ``nx * ny`` outside the grid or for NaN.

    Branch-free so that it vectorises: this pass touches every point, the scan after it mostly skips
    points in empty cells.
    """
    xs = columns[0]
    ys = columns[1]
    nx_f = float(nx)
    ny_f = float(ny)
    outside = nx * ny
    for i in range(columns.shape[1]):
        fx = (np.float64(xs[i]) - x0) * inv_cell
        fy = (np.float64(ys[i]) - y0) * inv_cell
        # NaN compares false, so NaN points go to the outside cell.
        ok = (fx >= 0.0) & (fx < nx_f) & (fy >= 0.0) & (fy < ny_f)
        c = int(fy if ok else 0.0) * nx + int(fx if ok else 0.0)
        cells[i] = c if ok else outside


@numba.njit(cache=True, inline="always")
def _extend(local_min: FloatArray, local_max: FloatArray, j: int, lx: float, ly: float, lz: float) -> None:
    """Grow box ``j``'s local extent to hold ``(lx, ly, lz)``."""
    local_min[j, 0] = min(local_min[j, 0], lx)
    local_min[j, 1] = min(local_min[j, 1], ly)
    local_min[j, 2] = min(local_min[j, 2], lz)
    local_max[j, 0] = max(local_max[j, 0], lx)
    local_max[j, 1] = max(local_max[j, 1], ly)
    local_max[j, 2] = max(local_max[j, 2], lz)
