"""Every page of the demo project (the Riverton fixture city run end to end) in headless Chromium:
it opens with its figure and no console errors, a filter changes the data drawn, the shared URL
reloads the same view, and downloads read back. Each page is saved as a screenshot (Overview also
in Spanish) under ``artifacts/screenshots/demo/`` for a person to look at."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from dash_app import create_app
from dash_app.pages import PAGES
from tests.browser.test_dashboard import _check_map_canvas, _wait_file

# page -> (filter key, value to switch to, CSS selector of what must be drawn first)
CHANGES = {
    "overview": ("wave", "2025-spring", "#overview-cards .card"),
    "priorities": ("order", "department", "#priorities-graph .main-svg"),
    "map": ("level", "district", "#map-graph .main-svg"),
    "trends": ("stat", "mean", "#trends-graph .main-svg"),
    "compare": ("level", "district", "#compare-grid .ag-row"),
    "equity": ("group", "race_ethnicity", "#equity-graph .main-svg"),
    "importance": ("wave", "2024-spring", "#importance-graph .main-svg"),
    "comments": ("wave", "2025-spring", "#comments-graph .main-svg"),
    "methodology": ("wave", "2024-spring", "#methodology-sample td"),
}

# What the page shows: the figure's data (not its styling), the grid's rows, the view's text.
_FINGERPRINT_JS = """
var page = arguments[0];
var gd = document.querySelector('#' + page + '-graph .js-plotly-plot');
var fig = gd ? gd.data.map(function (t) {
  return [t.name, Array.from(t.x || []), Array.from(t.y || []), Array.from(t.z || []), t.locations || []];
}) : null;
var rows = Array.from(document.querySelectorAll('#' + page + '-grid .ag-center-cols-container .ag-row'))
  .map(function (r) { return r.textContent; }).sort();
var view = document.getElementById(page + '-view');
return JSON.stringify({fig: fig, rows: rows, text: view ? view.textContent : null});
"""


@pytest.fixture(scope="module")
def demo_app(demo_project):
    return create_app(demo_project)


@pytest.fixture(scope="module")
def demo_shots(screenshots_dir):
    out = screenshots_dir / "demo"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _fingerprint(dash_duo, page: str) -> str:
    return dash_duo.driver.execute_script(_FINGERPRINT_JS, page)


def _settled(dash_duo, page: str, timeout: float = 20) -> str:
    """The view's fingerprint once it has stopped changing (plotly draws after Dash renders)."""
    end, last = time.time() + timeout, None
    while time.time() < end:
        now = _fingerprint(dash_duo, page)
        if now == last:
            return now
        last = now
        time.sleep(0.4)
    return last


def _open(dash_duo, url: str, ready: str) -> None:
    dash_duo.driver.get(url)
    dash_duo.wait_for_element(ready, timeout=20)


def _screenshot(dash_duo, path: Path) -> None:
    """The whole page, not only the window: grow the window to the document's height first."""
    d = dash_duo.driver
    height = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1280, min(max(1000, height + 40), 6000))
    time.sleep(0.5)  # plotly relayouts to the new size
    d.save_screenshot(str(path))
    d.set_window_size(1280, 1000)


@pytest.mark.parametrize("mod", PAGES, ids=[m.PAGE for m in PAGES])
def test_demo_page(dash_duo, demo_app, demo_shots, mod):
    key, value, ready = CHANGES[mod.PAGE]
    dash_duo.start_server(demo_app)
    _open(dash_duo, dash_duo.server_url + mod.PATH, ready)
    before = _settled(dash_duo, mod.PAGE)
    _screenshot(dash_duo, demo_shots / f"{mod.PAGE}.png")
    if mod.PAGE == "map":
        _check_map_canvas(dash_duo, demo_shots / "map_canvas.png", min_share=0.2)  # a square city in a wide map
    assert dash_duo.get_logs() == [], mod.PAGE
    assert dash_duo.driver.find_element(By.TAG_NAME, "h1").text.strip()

    # change one filter: the URL follows and the data drawn changes
    dash_duo.driver.find_element(By.CSS_SELECTOR, f"main input[type=radio][value='{value}']").click()
    end = time.time() + 15
    while f"{key}={value}" not in dash_duo.driver.current_url and time.time() < end:
        time.sleep(0.1)
    url = dash_duo.driver.current_url
    assert f"{key}={value}" in url
    end, after = time.time() + 15, before
    while after == before and time.time() < end:
        time.sleep(0.2)
        after = _settled(dash_duo, mod.PAGE)
    assert after != before, f"{mod.PAGE}: changing {key} to {value} changed nothing"
    _screenshot(dash_duo, demo_shots / f"{mod.PAGE}_{key}-{value}.png")

    # the shared URL gives the same view
    dash_duo.driver.get("about:blank")
    _open(dash_duo, url, ready)
    assert _settled(dash_duo, mod.PAGE) == after, mod.PAGE
    assert dash_duo.driver.find_element(By.CSS_SELECTOR, f"main input[value='{value}']").is_selected()
    assert dash_duo.get_logs() == [], mod.PAGE


def test_demo_overview_in_spanish_and_downloads(dash_duo, demo_app, demo_shots):
    dash_duo.start_server(demo_app)
    _open(dash_duo, dash_duo.server_url + "/?lang=es", "#overview-cards .card")
    dash_duo.wait_for_text_to_equal("h1", "Resumen", timeout=10)
    _settled(dash_duo, "overview")
    _screenshot(dash_duo, demo_shots / "overview_es.png")
    cards = dash_duo.driver.find_element(By.ID, "overview-cards").text
    assert "%" in cards and "punto" in cards and "Primavera 2025" in cards, cards  # shares, changes in points, in Spanish
    assert dash_duo.get_logs() == []

    # the Overview's CSV: the headline rows as shares with their wave change
    folder = Path(dash_duo.download_path)
    _open(dash_duo, dash_duo.server_url + "/?wave=2026-spring", "#overview-cards .card")
    dash_duo.driver.find_element(By.XPATH, "//button[normalize-space()='Download CSV']").click()
    df = pd.read_csv(_wait_file(folder, ".csv"), encoding="utf-8-sig")
    assert set(df["indicator"]) >= {"sat_police_overall", "safe_nbhd_night"}
    shares = df[df["statistic"] == "share"]
    assert len(shares) >= 2 and shares["estimate"].between(0, 1).all()
    assert shares["change"].notna().all() and (shares["wave_ref"] == "2025-spring").all()

    # the Map's CSV: one row per neighborhood with its interval, suppressed rows without a value
    _open(dash_duo, dash_duo.server_url + "/map?wave=2025-spring&indicator=safe_nbhd_night", "#map-graph .main-svg")
    dash_duo.driver.find_element(By.XPATH, "//button[normalize-space()='Download CSV']").click()
    end = time.time() + 15
    while not list(folder.glob("map_*.csv")) and time.time() < end:
        time.sleep(0.1)
    time.sleep(0.3)
    m = pd.read_csv(next(folder.glob("map_*.csv")), encoding="utf-8-sig")
    assert len(m) >= 10 and m["Area"].is_unique
    ok = m[m["Reliability"] != "suppress"]
    assert ok["Estimate"].between(0, 1).all() and (ok["95% CI low"] <= ok["Estimate"]).all()
    assert m.loc[m["Reliability"] == "suppress", "Estimate"].isna().all()
    xlsx_button = dash_duo.driver.find_element(By.XPATH, "//button[normalize-space()='Download Excel']")
    xlsx_button.click()
    end = time.time() + 15
    while not list(folder.glob("map_*.xlsx")) and time.time() < end:
        time.sleep(0.1)
    time.sleep(0.3)
    back = pd.read_excel(io.BytesIO(next(folder.glob("map_*.xlsx")).read_bytes()))
    assert len(back) == len(m)
    assert json.dumps(dash_duo.get_logs()) == "[]"


_MODELED_JS = """
var name = arguments[0], gd = document.querySelector('#map-graph .js-plotly-plot');
var tr = gd ? gd.data.filter(function (t) { return t.name === name; }) : [];
var legend = Array.from(document.querySelectorAll('#map-graph .legendtext')).map(function (e) { return e.textContent; });
return JSON.stringify({n: tr.length ? tr[0].locations.length : 0, text: tr.length ? tr[0].text : [], legend: legend});
"""


@pytest.mark.parametrize("lang", ["en", "es"])
def test_demo_modeled_numbers_are_marked_on_map_and_compare(dash_duo, demo_app, demo_shots, lang):
    """The demo's thin neighborhoods and its beats show modeled (small-area) numbers where the
    direct ones are suppressed: on the map as their own outlined layer with a legend entry and a
    hover saying "modeled" with the interval, in the comparison grid as rows whose source says so."""
    from dash_app.i18n import t

    dash_duo.start_server(demo_app)
    q = f"lang={lang}&wave=2026-spring&indicator=sat_police_overall"
    _open(dash_duo, dash_duo.server_url + f"/map?{q}&level=neighborhood", "#map-graph .main-svg")
    _settled(dash_duo, "map")
    got = json.loads(dash_duo.driver.execute_script(_MODELED_JS, t("◇ Modeled (small-area estimate)", lang)))
    assert got["n"] >= 1, got  # neighborhoods drawn from the model (none if modeled rows were dropped)
    assert t("◇ Modeled (small-area estimate)", lang) in got["legend"], got["legend"]
    assert all(t("modeled (small-area estimate)", lang) in x and "95%" in x for x in got["text"]), got["text"]
    _screenshot(dash_duo, demo_shots / f"map_modeled_{lang}.png")

    _open(dash_duo, dash_duo.server_url + f"/compare?{q}&level=beat", "#compare-grid .ag-row")
    _settled(dash_duo, "compare")
    modeled_rows = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#compare-grid .ag-center-cols-container .row-modeled")
    assert modeled_rows, "no beat row marked as modeled"
    text = dash_duo.driver.find_element(By.ID, "compare-view").text
    assert t("◇ Modeled", lang) in text and t("not tested (modeled number)", lang) in text
    assert dash_duo.driver.find_element(By.ID, "compare-view-modeled").text.startswith("◇")
    _screenshot(dash_duo, demo_shots / f"compare_modeled_{lang}.png")
    assert dash_duo.get_logs() == []
