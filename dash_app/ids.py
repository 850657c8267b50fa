"""Component ids of the dashboard, in one place (no literal ids scattered in pages).

Filters use pattern-matching ids ``{"type": FILTER, "name": <query key>, "page": <page>}`` so one
callback can mirror every filter on screen into the URL query string.
"""

from __future__ import annotations

URL = "url"
SHELL = "shell"
RENDERED = "rendered-view"
SYNCED = "synced-search"
HTML_LANG = "html-lang"
DOWNLOAD = "download"
CONTENT = "page-content"
MAIN = "main"
SKIP_LINK = "skip-link"
NAV = "nav"

OVERVIEW_CARDS = "overview-cards"
COMPARE_BENCHMARKS = "compare-benchmarks"
OVERVIEW_FINDINGS = "overview-findings"

FILTER = "filter"
DOWNLOAD_BUTTON = "download-button"
VIEW = "view"  # page output containers


def filter_id(page: str, name: str) -> dict[str, str]:
    """The id of the filter control ``name`` (a URL query key) on ``page``."""
    return {"type": FILTER, "name": name, "page": page}


def download_id(page: str, fmt: str) -> dict[str, str]:
    """The id of a page's download button for ``fmt`` ("csv" or "xlsx")."""
    return {"type": DOWNLOAD_BUTTON, "page": page, "fmt": fmt}


def view_id(page: str) -> str:
    """The id of the container a page's callback fills with its figure and table."""
    return f"{page}-view"


def graph_id(page: str) -> str:
    return f"{page}-graph"


def table_id(page: str) -> str:
    return f"{page}-table"


def grid_id(page: str) -> str:
    return f"{page}-grid"


def section_table_id(page: str, section: str) -> str:
    return f"{page}-{section}"


def grid_toggle_id(page: str) -> str:
    """The "show every column" switch of a page's grid (shown on narrow screens)."""
    return f"{page}-grid-all-columns"
