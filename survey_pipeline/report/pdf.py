"""The report as a paginated PDF: the HTML report printed by headless Chromium.

The HTML page already prints well (``@media print`` in :mod:`survey_pipeline.report.html`: each
section on a new page, table headers repeated on every page, no table row split across pages).
This adds the page numbers ("Page 3 of 12", in the report's language) as CSS page-margin boxes,
which Chromium draws since version 131, and prints with Chromium's own ``--print-to-pdf``: no
Python dependency, no network, and the PDF says exactly what the HTML report says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from survey_pipeline.errors import SurveyPipelineError
from survey_pipeline.i18n import t
from survey_pipeline.report.content import Report
from survey_pipeline.report.html import render_html

__all__ = ["CHROMIUM_NAMES", "PdfError", "find_chromium", "require_chromium", "write_pdf"]

#: Program names tried, in order, on the PATH (``SURVEY_PIPELINE_CHROMIUM`` overrides them).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge")
INSTALL_HINT = ("Install Chromium (Debian/Ubuntu: sudo apt-get install chromium; macOS: brew install --cask chromium; "
                "Windows: install Google Chrome or Microsoft Edge), or set SURVEY_PIPELINE_CHROMIUM to the browser's "
                "program file. The Excel (.xlsx) and web page (.html) reports need no browser.")


class PdfError(SurveyPipelineError):
    """The PDF report cannot be printed (no Chromium, or Chromium failed)."""


def find_chromium() -> str | None:
    """The Chromium (or Chrome/Edge) program to print with, or None when there is none."""
    override = os.environ.get("SURVEY_PIPELINE_CHROMIUM")
    if override:
        return override if Path(override).is_file() else shutil.which(override)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium(out: str | Path) -> str:
    """The Chromium program, or :class:`PdfError` saying what to install."""
    exe = find_chromium()
    if exe is None:
        raise PdfError(f"{out}: a PDF report is printed with Chromium, which was not found on this computer.",
                       file=out, rule="pdf-needs-chromium", fix=INSTALL_HINT)
    return exe


def print_css(report: Report) -> str:
    """Page-margin boxes with the page number and the report's title (Chromium >= 131)."""
    # TRANSLATORS: the page number box of the PDF: "Page 3 of 12" ({page} and {pages} are counters).
    words = t("Page {page} of {pages}", report.language).replace('"', "")
    before, _, rest = words.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    content = f'"{before}" counter(page) "{middle}" counter(pages)' + (f' "{after}"' if after else "")
    return ("@page { size: landscape; margin: 12mm 12mm 16mm;"
            f" @bottom-right {{ content: {content};"
            " font: 8pt system-ui, sans-serif; color: #555; } }\n")


def write_pdf(report: Report, out: str | Path, *, chromium: str | None = None, timeout: float = 180.0) -> Path:
    """Print ``report`` to the PDF file ``out`` with headless Chromium.

    Raises
    ------
    PdfError
        Chromium is not installed (the message says how to install it), fails, or takes longer
        than ``timeout`` seconds.
    """
    out = Path(out)
    exe = chromium or require_chromium(out)
    page = render_html(report).replace("</style>", print_css(report) + "</style>", 1)
    with tempfile.TemporaryDirectory(prefix="survey-pipeline-pdf-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(page, encoding="utf-8")
        target = Path(tmp) / "report.pdf"
        cmd = [exe, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
               "--disable-extensions", "--disable-background-networking", "--disable-sync",
               "--disable-component-update", "--no-pdf-header-footer", f"--user-data-dir={Path(tmp) / 'profile'}",
               f"--print-to-pdf={target}", src.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"{out}: Chromium ({exe}) did not finish printing within {timeout:.0f} s.", file=out,
                           rule="pdf-timeout", fix="Retry; if it keeps happening, write the .html report and print it "
                                                   "from a browser.") from exc
        except OSError as exc:
            raise PdfError(f"{out}: cannot start Chromium ({exe}): {exc.strerror or exc}.", file=out,
                           rule="pdf-needs-chromium", fix=INSTALL_HINT) from exc
        if proc.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            tail = " ".join((proc.stderr or "").strip().splitlines()[-3:])[-400:]
            raise PdfError(f"{out}: Chromium ({exe}) failed to print the report (exit {proc.returncode}): {tail}",
                           file=out, rule="pdf-print-failed",
                           fix="Check that Chromium starts (chromium --headless --version); or write the .html "
                               "report and print it from a browser.")
        shutil.copyfile(target, out)
    return out
