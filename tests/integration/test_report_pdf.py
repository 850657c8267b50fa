"""`survey-pipeline report --out FILE.pdf`: the demo's report printed by headless Chromium, read
back with poppler's pdftotext/pdfinfo: the Eastgate finding, page numbers on every page, table
headers repeated on the pages a table continues onto; a clear message when Chromium is missing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from survey_pipeline.cli import main
from survey_pipeline.demo import FIXTURE_CITY
from survey_pipeline.report.pdf import find_chromium

pytestmark = pytest.mark.skipif(
    find_chromium() is None or not shutil.which("pdftotext") or not shutil.which("pdfinfo"),
    reason="needs chromium and poppler-utils (pdftotext, pdfinfo): make browser-deps")


@pytest.fixture(scope="module")
def demo_pdf(demo_project, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf") / "council-packet.pdf"
    assert main(["report", "--project", str(demo_project), "--out", str(out)]) == 0
    return out


def _pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def test_pdf_has_the_finding_page_numbers_and_repeated_headers(demo_pdf):
    info = subprocess.run(["pdfinfo", str(demo_pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    assert n > 1
    pages = _pages(demo_pdf)
    assert len(pages) == n
    night = json.loads((FIXTURE_CITY / "ground_truth.json").read_text(encoding="utf-8"))["planted"]["night_safety_drop"]
    summary = " ".join(" ".join(p.split()) for p in pages[:3])
    assert f"in {night['name']} fell " in summary  # the finding is on the summary, at the start
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {n}" in page, f"page {i} has no page number"
    # a table that runs onto the next page starts that page with its header row again
    continued = [p for p in pages if p.strip().startswith("Level") and "Estimate" in p.strip().splitlines()[0]]
    assert len(continued) >= 5, "no page repeats its table's header row"


def test_pdf_in_spanish_numbers_pages_in_spanish(demo_project, tmp_path):
    out = tmp_path / "informe.pdf"
    assert main(["report", "--project", str(demo_project), "--out", str(out), "--language", "es"]) == 0
    pages = _pages(out)
    assert f"Página 1 de {len(pages)}" in pages[0] and "Page 1 of" not in pages[0]
    assert "bajó" in " ".join(pages[0].split())


def test_pdf_without_chromium_says_what_to_install(demo_project, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SURVEY_PIPELINE_CHROMIUM", str(tmp_path / "no-such-browser"))
    out = tmp_path / "x.pdf"
    assert main(["report", "--project", str(demo_project), "--out", str(out)]) == 2
    msg = capsys.readouterr().err
    assert "Chromium" in msg and "apt-get install chromium" in msg and "Traceback" not in msg
    assert not out.exists() and list(tmp_path.glob("*.pdf")) == []
