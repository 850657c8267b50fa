"""The dashboard in headless Chromium: every page opens without console errors or requests
leaving localhost, filters change the view and the URL, a shared URL reloads the same view, the
language switches, downloads read back."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dash_app import create_app
from dash_app.pages import PAGES


def _text(dash_duo, element_id: str) -> str | None:
    """The element's text, or None while it is being replaced (re-rendered)."""
    try:
        return dash_duo.driver.find_element(By.ID, element_id).get_attribute("textContent")
    except (StaleElementReferenceException, NoSuchElementException):
        return None


def _open(dash_duo, path: str, view: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element(f"#{view}", timeout=15)
    time.sleep(0.3)


def _wait_url(dash_duo, fragment: str, timeout: float = 10) -> str:
    end = time.time() + timeout
    while time.time() < end:
        if fragment in dash_duo.driver.current_url:
            return dash_duo.driver.current_url
        time.sleep(0.1)
    raise AssertionError(f"URL never contained {fragment!r}: {dash_duo.driver.current_url}")


def _wait_change(fn, old, timeout: float = 10):
    end = time.time() + timeout
    while time.time() < end:
        new = fn()
        if new is not None and new != old:
            return new
        time.sleep(0.1)
    raise AssertionError("the view did not change")


def _click_radio(dash_duo, value: str) -> None:
    dash_duo.driver.find_element(By.CSS_SELECTOR, f"main input[type=radio][value='{value}']").click()


_CANVAS_JS = """
var done = arguments[arguments.length - 1];
var g = document.querySelector('#map-graph .js-plotly-plot');
var m = g._fullLayout.map._subplot.map;
m.once('render', function () {
  var c = m.getCanvas(), gl = c.getContext('webgl2') || c.getContext('webgl');
  var px = new Uint8Array(4), coloured = 0, n = 0;
  for (var i = 1; i < 10; i++) { for (var j = 1; j < 10; j++) {
    gl.readPixels(Math.floor(c.width * i / 10), Math.floor(c.height * j / 10), 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    n++; if (px[0] + px[1] + px[2] < 700) { coloured++; }
  } }
  done([coloured / n, c.toDataURL()]);
});
m.triggerRepaint();
"""


def _check_map_canvas(dash_duo, out: Path, min_share: float = 0.3) -> None:
    """The map draws in WebGL, which headless Chromium leaves out of page screenshots: read the
    map's own canvas, save it, and check the shapes were painted (not a blank white map)."""
    share, url = dash_duo.driver.execute_async_script(_CANVAS_JS)
    out.write_bytes(base64.b64decode(url.split(",", 1)[1]))
    assert share > min_share, f"only {share:.0%} of the map canvas is painted"


@pytest.fixture
def app_server(dash_duo, results_project):
    dash_duo.start_server(create_app(results_project))
    return dash_duo


def test_every_page_opens_cleanly_and_stays_on_localhost(app_server, screenshots_dir):
    dash_duo = app_server
    for mod in PAGES:
        _open(dash_duo, mod.PATH, f"{mod.PAGE}-view")
        time.sleep(3.0 if mod.PAGE == "map" else 0.4)  # let plotly/maplibre draw for the screenshot
        assert dash_duo.driver.find_element(By.TAG_NAME, "h1").text.strip()
        assert "lang=en" in dash_duo.driver.current_url  # the view's filters are in the URL
        dash_duo.driver.save_screenshot(str(screenshots_dir / f"{mod.PAGE}.png"))
        if mod.PAGE == "map":
            _check_map_canvas(dash_duo, screenshots_dir / "map_canvas.png")
        assert dash_duo.get_logs() == [], mod.PAGE
        urls = dash_duo.driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".concat([document.location.href])")
        hosts = {urlparse(u).hostname for u in urls if not u.startswith(("data:", "blob:"))}
        assert hosts <= {"127.0.0.1", "localhost"}, (mod.PAGE, hosts)
    # accessibility basics: the first Tab reaches the skip link to main; labelled controls
    skip = dash_duo.driver.find_element(By.CSS_SELECTOR, "a.skip-link")
    assert skip.get_attribute("href").endswith("#main")
    dash_duo.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert dash_duo.driver.switch_to.active_element.get_attribute("id") == "skip-link"
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, "main fieldset legend")


def test_filters_drive_the_view_and_a_shared_url_reloads_it(app_server):
    dash_duo = app_server
    _open(dash_duo, "/map", "map-view")
    before = _text(dash_duo, "map-table")
    assert "2026-spring" in before and "suppressed" in before  # the thin neighborhood
    _click_radio(dash_duo, "2024-spring")
    url = _wait_url(dash_duo, "wave=2024-spring")
    after = _wait_change(lambda: _text(dash_duo, "map-table"), before)
    assert "2024-spring" in after and "2026-spring" not in after
    _click_radio(dash_duo, "district")
    url = _wait_url(dash_duo, "level=district")
    districts = _wait_change(lambda: _text(dash_duo, "map-table"), after)
    assert "Central" in districts and "Eastgate" not in districts
    # a shared URL gives the same view
    dash_duo.driver.get("about:blank")
    dash_duo.driver.get(url)
    dash_duo.wait_for_element("#map-table", timeout=15)
    assert _text(dash_duo, "map-table") == districts
    assert dash_duo.driver.find_element(By.CSS_SELECTOR, "main input[value='2024-spring']").is_selected()
    # a dropdown filter: priorities for an area
    _open(dash_duo, "/priorities?area=district%3Aeast&wave=2025-spring", "priorities-view")
    text = _text(dash_duo, "priorities-table")
    assert "East" in text and "2025-spring" in text
    _click_radio(dash_duo, "department")
    _wait_url(dash_duo, "order=department")
    assert dash_duo.get_logs() == []


def test_language_switch_keeps_the_filters(app_server, screenshots_dir):
    dash_duo = app_server
    _open(dash_duo, "/equity?group=sex&wave=2025-spring", "equity-view")
    dash_duo.driver.find_element(By.CSS_SELECTOR, "header input[value='es']").click()
    _wait_url(dash_duo, "lang=es")
    dash_duo.wait_for_text_to_equal("h1", "Equidad", timeout=10)
    assert "group=sex" in dash_duo.driver.current_url and "wave=2025-spring" in dash_duo.driver.current_url
    assert "Resumen" in dash_duo.driver.find_element(By.ID, "nav").text
    assert "Todos los residentes" in _text(dash_duo, "equity-table")
    time.sleep(0.4)
    dash_duo.driver.save_screenshot(str(screenshots_dir / "equity_es.png"))
    assert dash_duo.get_logs() == []



def test_dashboard_in_vietnamese(app_server, screenshots_dir):
    """The third language: the switch lists every catalog's language in its own name; the Overview
    renders in Vietnamese with vi_VN numbers (decimal comma) and keeps its filters."""
    dash_duo = app_server
    _open(dash_duo, "/?wave=2026-spring", "overview-view")
    switch = dash_duo.driver.find_element(By.CSS_SELECTOR, "header fieldset").text
    assert "English" in switch and "Español" in switch and "Tiếng Việt" in switch
    dash_duo.driver.find_element(By.CSS_SELECTOR, "header input[value='vi']").click()
    _wait_url(dash_duo, "lang=vi")
    dash_duo.wait_for_text_to_equal("h1", "Tổng quan", timeout=10)
    assert "wave=2026-spring" in dash_duo.driver.current_url
    nav = dash_duo.driver.find_element(By.ID, "nav").text
    assert "Bản đồ" in nav and "Phương pháp" in nav and "Overview" not in nav
    view = dash_duo.driver.find_element(By.ID, "overview-view").text
    assert "Các chỉ số chính của Mùa xuân 2026, toàn thành phố." in view and "KTC 95%" in view
    assert "kể từ Mùa xuân 2025" in view
    card = dash_duo.driver.find_element(By.CSS_SELECTOR, ".card .card-ci").text  # "KTC 95% 55%–63% · n = 1.234"
    assert card.startswith("KTC 95%") and "n = " in card
    assert dash_duo.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    time.sleep(0.4)
    dash_duo.driver.save_screenshot(str(screenshots_dir / "overview_vi.png"))
    assert dash_duo.get_logs() == []

def _wait_file(folder: Path, suffix: str, timeout: float = 15) -> Path:
    end = time.time() + timeout
    while time.time() < end:
        found = [p for p in folder.glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
        if found:
            time.sleep(0.2)
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} downloaded into {folder}")


def test_downloads_read_back(app_server):
    dash_duo = app_server
    _open(dash_duo, "/compare?wave=2026-spring&indicator=safe_night", "compare-view")
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, ".ag-row")  # the grid rendered
    folder = Path(dash_duo.download_path)
    dash_duo.driver.find_element(By.XPATH, "//button[normalize-space()='Download CSV']").click()
    csv = _wait_file(folder, ".csv")
    df = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(df) == 12 and {"area", "estimate_value", "ci_low", "ci_high", "p_adj", "significance"} <= set(df.columns)
    assert df.loc[df["reliability"] == "suppress", "estimate_value"].isna().all()
    dash_duo.driver.find_element(By.XPATH, "//button[normalize-space()='Download Excel']").click()
    xlsx = _wait_file(folder, ".xlsx")
    back = pd.read_excel(io.BytesIO(xlsx.read_bytes()))
    assert len(back) == 12 and "safe_night" in xlsx.name
    assert dash_duo.get_logs() == []
