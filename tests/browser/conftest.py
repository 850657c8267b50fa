"""Browser tests: headless Chromium (Debian's chromium + chromedriver) driven by dash[testing].

``--headless`` is switched on here (``make test`` runs plain ``python -m pytest -q``), with the
Chrome flags a container needs; tests skip when chromium or chromedriver is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
HAVE_BROWSER = bool(CHROMIUM and shutil.which("chromedriver"))


def pytest_configure(config):
    if hasattr(config.option, "headless"):
        config.option.headless = True
    if CHROMIUM and "DASH_TEST_CHROMEPATH" not in os.environ:
        os.environ["DASH_TEST_CHROMEPATH"] = CHROMIUM


def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                 "--disable-extensions", "--disable-default-apps", "--enable-unsafe-swiftshader",
                 "--use-angle=swiftshader"):
        options.add_argument(flag)
    return options


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not HAVE_BROWSER:
                item.add_marker(pytest.mark.skip(reason="chromium and chromedriver are needed (make browser-deps)"))


@pytest.fixture(scope="session")
def results_project(tmp_path_factory):
    from tests.fixtures_results import make_results_project

    return make_results_project(tmp_path_factory.mktemp("results-project"))


@pytest.fixture(scope="session")
def screenshots_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
