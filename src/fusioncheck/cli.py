"""Command line: ``fusioncheck run | gate | report | compare | simulate | convert | bench``.

Exit codes (DESIGN.md): 0 pass or not gated, 1 gate failed, 2 usage or policy error, 3 unreadable input.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from fusioncheck import __version__
from fusioncheck.errors import FusioncheckError, InputError, PolicyError

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fusioncheck")
def cli() -> None:
    """Check 3D box labels of driving logs against their LiDAR, camera and radar data."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--format",
    "format_name",
    default="auto",
    show_default=True,
    help="Input format: auto, nuscenes, kitti, av2, openlabel.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=str),
    help="TOML policy: checks, parameters and [[gate.rule]] tables (then the run is gated).",
)
@click.option(
    "--out", "out_dir", default="fusioncheck-out", show_default=True, type=click.Path(path_type=Path)
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1), help="Processes (one per core)."
)
@click.option(
    "--engine",
    default="local",
    show_default=True,
    type=click.Choice(["local", "ray"]),
    help="local: this machine (process pool); ray: Ray tasks (pip install 'fusioncheck[ray]').",
)
@click.option("--ray-address", default=None, help="Ray cluster address (default: start Ray locally).")
@click.option(
    "--resume",
    is_flag=True,
    help="Reuse OUT/sequences/ results of the same inputs, policy and tool version (after a killed run).",
)
@click.option("--plots", is_flag=True, help="Draw each check's diagnostic plots into OUT/plots/.")
@click.option("--html", "html_report", is_flag=True, help="Write OUT/index.html and a page per sequence.")
@click.option(
    "--review-plots",
    default=50,
    show_default=True,
    type=click.IntRange(0),
    help="With --plots: crop plots of the first N objects of the review queue (by score).",
)
@click.option(
    "--queue-size",
    default=200,
    show_default=True,
    type=click.IntRange(0),
    help="Rows of OUT/review_queue.csv (each class still gets at least 10 % and 5 of its flagged objects).",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on when stderr is a terminal)."
)
@click.option("--quiet", is_flag=True, help="Do not print the summary.")
def run(
    paths: tuple[str, ...],
    format_name: str,
    policy_path: str | None,
    out_dir: Path,
    workers: int,
    engine: str,
    ray_address: str | None,
    resume: bool,
    plots: bool,
    html_report: bool,
    review_plots: int,
    queue_size: int,
    progress: bool | None,
    quiet: bool,
) -> None:
    """Check every sequence of the dataroots PATHS and write OUT/report.json.

    Each sequence's result is written to OUT/sequences/ as soon as it is done; after an interrupted
    run, the same command with --resume checks only what is missing.
    """
    from fusioncheck.gate import Gate, apply_gate, format_gate
    from fusioncheck.policy import Policy
    from fusioncheck.report.builder import build_report, write_report
    from fusioncheck.report.junit import write_junit
    from fusioncheck.report.result_store import ResultStore
    from fusioncheck.report.review_queue import QueueSettings, write_review_queue
    from fusioncheck.report.summary import format_summary
    from fusioncheck.runner import plan, run_batch

    start = time.perf_counter()
    policy = Policy.load(policy_path) if policy_path else Policy.default()
    gate = Gate.load(policy_path) if policy_path else Gate()
    plot_dir = out_dir.absolute() / "plots" if plots else None
    tasks, inputs = plan(list(paths), format_name)
    store = ResultStore(out_dir)
    try:
        outcome = run_batch(
            tasks,
            policy,
            workers=workers,
            engine=engine,
            ray_address=ray_address,
            store=store,
            resume=resume,
            plot_dir=plot_dir,
            progress=progress,
        )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: finished sequences are kept in {store.folder}; run again with --resume", err=True
        )
        raise
    report = build_report(outcome.results, inputs, policy)
    verdict = apply_gate(report, gate)
    path = write_report(report, out_dir)
    write_junit(report, out_dir)
    settings = QueueSettings(size=queue_size)
    object_plots = None
    if plot_dir is not None:
        from fusioncheck.report.review_plots import draw_review_plots
        from fusioncheck.report.review_queue import build_queue

        queue = build_queue(report["findings"], settings)
        object_plots, plot_notes = draw_review_plots(report, queue, plot_dir, limit=review_plots)
        for note in plot_notes:
            click.echo(f"note: {note}", err=True)
    write_review_queue(report, out_dir, settings, link_pages=html_report, object_plots=object_plots)
    if html_report:
        from fusioncheck.report.html import write_html

        write_html(report, out_dir)
    if not quiet:
        click.echo(format_summary(report, str(path)))
        if gate.rules:
            click.echo(format_gate(verdict))
        click.echo(
            f"done in {time.perf_counter() - start:.1f} s: {outcome.computed} sequence(s) checked, "
            f"{outcome.resumed} resumed"
        )
    unreadable = any(i.error for i in inputs) or any(r.error for r in outcome.results)
    sys.exit(_exit_code(verdict.verdict, unreadable))


def _exit_code(verdict: str, unreadable: bool) -> int:
    """DESIGN.md's exit codes: a failed gate (1) outranks unreadable input (3)."""
    if verdict == "fail":
        return EXIT_GATE_FAILED
    return EXIT_UNREADABLE if unreadable else EXIT_OK


@cli.command()
@click.argument("report_path", type=click.Path(path_type=Path))
@click.option(
    "--policy",
    "policy_path",
    required=True,
    type=click.Path(path_type=str),
    help="TOML policy with [[gate.rule]] tables.",
)
@click.option("--quiet", is_flag=True, help="Print only the verdict line.")
def gate(report_path: Path, policy_path: str, quiet: bool) -> None:
    """Gate an existing REPORT_PATH (report.json) against a policy; rewrite it and report.junit.xml.

    Exit codes as for run: 0 pass, 1 failed, 2 bad policy, 3 unreadable report (or a report that records
    unreadable inputs, when the gate passes).
    """
    import jsonschema

    from fusioncheck.gate import Gate, apply_gate, format_gate
    from fusioncheck.policy import Policy
    from fusioncheck.report.builder import validate_report, write_report
    from fusioncheck.report.junit import write_junit

    Policy.load(policy_path)  # the whole file is validated, not only its [gate] section
    rules = Gate.load(policy_path)
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        validate_report(report)
    except OSError as exc:
        raise InputError(f"cannot read report: {exc.strerror}", path=report_path) from exc
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}", path=report_path) from exc
    except jsonschema.ValidationError as exc:
        raise InputError(f"not a fusioncheck report.json: {exc.message}", path=report_path) from exc
    result = apply_gate(report, rules)
    write_report(report, report_path.parent)
    junit = write_junit(report, report_path.parent)
    if (report_path.parent / "index.html").is_file():  # keep an existing HTML report in step
        from fusioncheck.report.html import write_html

        write_html(report, report_path.parent)
    click.echo(format_gate(result) if not quiet else f"gate: {result.verdict}")
    if not quiet:
        click.echo(f"report: {report_path}  junit: {junit}")
    unreadable = any(i.get("error") for i in report["inputs"]) or any(s["error"] for s in report["sequences"])
    sys.exit(_exit_code(result.verdict, unreadable))


@cli.command(name="report")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--embed-images", is_flag=True, help="Embed plots in the pages as data: URIs.")
@click.option("--queue-size", default=200, show_default=True, type=click.IntRange(0))
def report_command(out_dir: Path, embed_images: bool, queue_size: int) -> None:
    """Write the HTML report and review_queue.csv of OUT_DIR/report.json (from run, maybe re-gated)."""
    import jsonschema

    from fusioncheck.report.builder import validate_report
    from fusioncheck.report.html import write_html
    from fusioncheck.report.review_queue import QueueSettings, write_review_queue

    path = out_dir / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        validate_report(report)
    except OSError as exc:
        raise InputError(f"cannot read report: {exc.strerror}", path=path) from exc
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}", path=path) from exc
    except jsonschema.ValidationError as exc:
        raise InputError(f"not a fusioncheck report.json: {exc.message}", path=path) from exc
    write_review_queue(report, out_dir, QueueSettings(size=queue_size), link_pages=True)
    index = write_html(report, out_dir, embed_images=embed_images)
    click.echo(f"wrote {index} and {len(report['sequences'])} sequence page(s)")


@cli.command()
@click.argument("a_path", type=click.Path(path_type=str))
@click.argument("b_path", type=click.Path(path_type=str))
@click.option("--format", "format_name", default="auto", show_default=True, help="Input format of both.")
@click.option(
    "--out", "out_dir", default="fusioncheck-compare", show_default=True, type=click.Path(path_type=Path)
)
@click.option("--min-iou", default=0.1, show_default=True, type=click.FloatRange(0.0, 1.0))
@click.option("--max-center-m", default=1.0, show_default=True, type=click.FloatRange(0.0))
@click.option("--disagreement-iou", default=0.5, show_default=True, type=click.FloatRange(0.0, 1.0))
@click.option("--disagreement-yaw-deg", default=15.0, show_default=True, type=click.FloatRange(0.0))
def compare(
    a_path: str,
    b_path: str,
    format_name: str,
    out_dir: Path,
    min_iou: float,
    max_center_m: float,
    disagreement_iou: float,
    disagreement_yaw_deg: float,
) -> None:
    """Compare the labels of A (reference: gold standard or annotator 1) and B; write OUT/compare.json.

    Boxes are matched per keyframe and class (Hungarian on 3D IoU, centre distance for small objects);
    prints per-class agreement and writes missing_box / extra_box / box_disagreement findings.
    """
    from fusioncheck.compare import CompareSettings, compare_sources, format_compare
    from fusioncheck.loaders import open_source
    from fusioncheck.report.compare_output import write_compare

    settings = CompareSettings(min_iou, max_center_m, disagreement_iou, disagreement_yaw_deg)
    result = compare_sources(open_source(a_path, format_name), open_source(b_path, format_name), settings)
    path = write_compare(result, out_dir)
    click.echo(format_compare(result))
    click.echo(f"compare: {path}")


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--scenes", default=2, show_default=True, type=click.IntRange(1), help="Number of scenes.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (output is deterministic).")
@click.option(
    "--faults", "faults_path", type=click.Path(exists=True, path_type=Path), help="Fault spec (JSON)."
)
@click.option("--small", is_flag=True, help="Short scenes and small images (tests, the bundled sample).")
@click.option(
    "--image-boxes", is_flag=True, help="Also write true 2D boxes (nuImages-style object_ann.json)."
)
def simulate(
    out_dir: Path, scenes: int, seed: int, faults_path: Path | None, small: bool, image_boxes: bool
) -> None:
    """Write a simulated nuScenes-layout log to OUT_DIR, with OUT_DIR/faults.json of injected faults."""
    from fusioncheck.simulate import SimConfig, load_fault_spec
    from fusioncheck.simulate import simulate as run_simulation

    faults = load_fault_spec(faults_path) if faults_path else None
    config = SimConfig.small() if small else SimConfig()
    start = time.perf_counter()
    result = run_simulation(
        out_dir,
        scenes=scenes,
        seed=seed,
        faults=faults,
        config=config,
        progress=sys.stderr.isatty(),
        image_boxes=image_boxes,
    )
    click.echo(
        f"wrote {len(result.scenes)} scene(s), {result.keyframes} keyframes, {result.boxes} boxes "
        f"to {out_dir} "
        f"in {time.perf_counter() - start:.1f} s (injected faults: {result.faults_path})"
    )


@cli.command()
@click.argument("src", type=click.Path(path_type=str))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option(
    "--to", "target", required=True, type=click.Choice(["nuscenes", "openlabel"]), help="Output format."
)
@click.option("--format", "format_name", default="auto", show_default=True, help="Input format (or auto).")
@click.option(
    "--cuboid-form",
    default="quaternion",
    show_default=True,
    type=click.Choice(["quaternion", "euler"]),
    help="OpenLABEL cuboids: the 10-value quaternion or the 9-value Euler form.",
)
@click.option(
    "--all-ego-poses/--sample-ego-poses",
    default=True,
    show_default=True,
    help="OpenLABEL: a frame for every ego pose of the source, or only at the sensor samples.",
)
def convert(
    src: str, dst: Path, target: str, format_name: str, cuboid_form: str, all_ego_poses: bool
) -> None:
    """Convert the dataset at SRC (any supported format) to DST in the nuScenes layout or OpenLABEL."""
    from fusioncheck.convert.nuscenes_writer import write_nuscenes
    from fusioncheck.convert.openlabel_writer import write_openlabel
    from fusioncheck.loaders import open_source

    start = time.perf_counter()
    source = open_source(src, format_name)
    names = source.sequence_names()
    if target == "nuscenes":
        written = str(write_nuscenes(source, dst))
    else:
        written = ", ".join(
            str(p) for p in write_openlabel(source, dst, cuboid_form=cuboid_form, all_ego_poses=all_ego_poses)
        )
    click.echo(
        f"converted {len(names)} sequence(s) from {source.format_name} to {target}: {written} "
        f"in {time.perf_counter() - start:.1f} s"
    )


@cli.command()
@click.argument(
    "what",
    type=click.Choice(["kernels", "pipeline", "calibration", "loaders", "discovery", "sync", "size"]),
    default="kernels",
)
@click.option(
    "--repeats",
    default=None,
    type=click.IntRange(1),
    help="Repetitions (default: kernels, loaders, discovery 20; calibration 5; sync, pipeline 3).",
)
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path), help="Also write the raw results as JSON."
)
@click.option(
    "--data",
    "data_dir",
    default=None,
    type=click.Path(path_type=Path),
    help="pipeline: folder of the simulated scenes (made once, then reused; default: a temporary folder).",
)
@click.option("--scenes", default=4, show_default=True, type=click.IntRange(1), help="pipeline: scenes.")
def bench(what: str, repeats: int | None, json_path: Path | None, data_dir: Path | None, scenes: int) -> None:
    """Measure fusioncheck side by side with what users would otherwise run (medians, ratios).

    kernels: points-in-boxes against nuscenes-devkit-style loops, open3d and numpy. pipeline: the whole
    run on nuScenes-scale simulated scenes against the I/O floor, on 1 and 2 workers. calibration: the
    edge-alignment scoring against OpenCV projection. loaders: AV2 and OpenLABEL against the same data in
    the nuScenes layout. discovery: LiDAR clustering (numba grid vs open3d DBSCAN) and radar association.
    sync: the time-offset objectives (numba vs numpy / OpenCV loops).
    size: the box-fit check with and without its size statistics, CPU ms per keyframe.
    """
    result: dict[str, object]
    if what == "pipeline":
        import tempfile

        from fusioncheck.bench.pipeline import format_pipeline_bench, run_pipeline_bench

        with tempfile.TemporaryDirectory(prefix="fusioncheck-bench-data-") as tmp:
            folder = data_dir if data_dir is not None else Path(tmp)
            result = run_pipeline_bench(folder, scenes=scenes, repeats=repeats or 3)
        click.echo(format_pipeline_bench(result))
    elif what == "sync":
        from fusioncheck.bench.sync import format_sync_bench, run_sync_bench

        result = run_sync_bench(repeats=min(repeats or 3, 3))
        click.echo(format_sync_bench(result))
    elif what == "size":
        from fusioncheck.bench.size_bias import format_size_bench, run_size_bench

        result = run_size_bench(repeats=repeats or 5)
        click.echo(format_size_bench(result))
    elif what == "discovery":
        from fusioncheck.bench.discovery import format_discovery_bench, run_discovery_bench

        result = run_discovery_bench(repeats=repeats or 20)
        click.echo(format_discovery_bench(result))
    elif what == "loaders":
        from fusioncheck.bench.loaders import format_loaders_bench, run_loaders_bench

        result = run_loaders_bench(repeats=repeats or 20)
        click.echo(format_loaders_bench(result))
    elif what == "calibration":
        from fusioncheck.bench.calibration import format_calibration_bench, run_calibration_bench

        result = run_calibration_bench(repeats=min(repeats or 5, 5))
        click.echo(format_calibration_bench(result))
    else:
        from fusioncheck.bench.points_in_boxes import format_points_in_boxes_bench, run_points_in_boxes_bench

        result = run_points_in_boxes_bench(repeats=repeats or 20)
        click.echo(format_points_in_boxes_bench(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")


def main() -> None:
    """Entry point: turn fusioncheck's own errors into one-line messages and exit codes."""
    try:
        cli.main(standalone_mode=False)
        sys.exit(EXIT_OK)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except PolicyError as exc:
        click.echo(f"fusioncheck: policy error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except InputError as exc:
        click.echo(f"fusioncheck: unreadable input: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    except FusioncheckError as exc:
        click.echo(f"fusioncheck: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
