"""The HTML report: structure (always), links and images resolve, and it renders in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from fusioncheck.cli import main
from fusioncheck.report.builder import validate_report
from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
VOID = {"meta", "img", "br", "hr", "link", "input"}


class Structure(HTMLParser):
    """Collects links and images and checks that every tag is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a":
            self.links.append(a["href"])
        if tag == "img":
            self.images.append(a["src"])
            if not a.get("alt"):
                self.errors.append("img without alt")
        if tag == "script" or tag == "link":
            self.scripts += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def parse(path: Path) -> Structure:
    s = Structure()
    s.feed(path.read_text(encoding="utf-8"))
    s.close()
    assert not s.errors, (path, s.errors)
    assert not s.stack, (path, s.stack)
    return s


def expected_images(report: dict) -> int:
    """Images the sequence pages must show: 3 review crops and every plot the checks drew."""
    return 3 + sum(len(sequence.get("plots", [])) for sequence in report["sequences"])


def invoke(*args: str) -> int:
    """Run the CLI in-process; returns its exit code."""
    old = sys.argv
    sys.argv = ["fusioncheck", *args]
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = old
    return 0


@pytest.fixture(scope="module")
def html_run(tmp_path_factory):
    """The sample, run with the default policy, --plots (3 review crops) and --html."""
    out = tmp_path_factory.mktemp("html") / "out"
    code = invoke(
        "run",
        str(REPO_ROOT / "data" / "sample"),
        "--out",
        str(out),
        "--policy",
        str(REPO_ROOT / "calib" / "default_policy.toml"),
        "--workers",
        "2",
        "--plots",
        "--review-plots",
        "3",
        "--html",
        "--no-progress",
        "--quiet",
    )
    assert code == 1  # the sample fails the default gate
    return out


def test_pages_are_well_formed_and_every_link_and_image_resolves(html_run):
    out = html_run
    report = json.loads((out / "report.json").read_text())
    validate_report(report)
    index = parse(out / "index.html")
    assert index.scripts == 0  # self-contained: nothing to fetch, nothing to run
    text = (out / "index.html").read_text()
    assert "FAIL" in text and "undersized boxes" in text and "vehicle.car" in text
    pages = [link for link in index.links if link.startswith("pages/")]
    assert len(pages) == len(report["sequences"]) == 2
    for link in index.links:
        assert (out / unquote(link)).is_file(), link
    images = 0
    for page in pages:
        s = parse(out / page)
        assert s.scripts == 0
        for src in s.images:
            assert not src.startswith(("http:", "https:", "//"))
            assert (out / page).parent.joinpath(unquote(src)).resolve().is_file(), src
        images += len(s.images)
        body = (out / page).read_text()
        name = Path(page).stem
        n = sum(f["sequence"] == name for f in report["findings"])
        assert f"Findings ({n})" in body
    # The three review crops and every plot the checks drew.
    assert images == expected_images(report) > 3
    # The queue links the crops (relative to the output folder).
    queue = (out / "review_queue.csv").read_text()
    assert queue.count("plots/review/") == 3


def test_embedded_images_make_pages_single_files(html_run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(html_run, out)
    # Re-gating with a policy the sample passes (warnings only) refreshes the HTML verdict too.
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(
        '[[gate.rule]]\nmetric = "classes.*.rates.undersized_box"\nmax = 0.1\nseverity = "warning"\n'
    )
    assert invoke("gate", str(out / "report.json"), "--policy", str(lenient)) == 0
    assert '<span class="verdict pass">PASS</span>' in (out / "index.html").read_text()
    assert invoke("report", str(out), "--embed-images") == 0
    shutil.rmtree(out / "plots")
    srcs = [src for p in (out / "pages").glob("*.html") for src in parse(p).images]
    report = json.loads((out / "report.json").read_text())
    assert len(srcs) == expected_images(report)
    assert all(src.startswith("data:image/png;base64,") for src in srcs)


PROBE = (
    '<script>window.addEventListener("load",()=>{const b=[...document.images]'
    '.filter(i=>!i.complete||i.naturalWidth===0).map(i=>i.getAttribute("src"));'
    'document.body.setAttribute("data-images",document.images.length);'
    'document.body.setAttribute("data-broken",JSON.stringify(b));});</script></body>'
)


def render(page: Path) -> tuple[int, list[str], list[str]]:
    """Open ``page`` in headless Chromium: (images, broken image sources, console messages)."""
    probe = page.with_name(f"_probe_{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    try:
        proc = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--enable-logging=stderr",
                "--v=1",
                "--virtual-time-budget=5000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        probe.unlink()
    import re

    body = re.search(r'<body data-images="(\d+)" data-broken="([^"]*)"', proc.stdout)
    assert body, proc.stdout[-2000:]
    broken = json.loads(body.group(2).replace("&quot;", '"'))
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return int(body.group(1)), broken, console


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_headless_chromium_sees_no_broken_image_and_no_console_error(html_run, tmp_path):
    images = 0
    for page in [html_run / "index.html", *sorted((html_run / "pages").glob("*.html"))]:
        n, broken, console = render(page)
        assert broken == [], page
        assert console == [], console
        images += n
    assert images == expected_images(json.loads((html_run / "report.json").read_text()))
    # The probe does see a broken image.
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="missing.png" alt="x"></body></html>')
    n, broken, _ = render(bad)
    assert n == 1 and broken == ["missing.png"]
