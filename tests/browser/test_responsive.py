"""Every page of the demo at a phone's width (390×844) and a desktop's (1280×900), in English and
Spanish: no sideways scrolling of the page, every chart's plot area at least 250 px wide, the
grid's extra columns behind a toggle on the phone, ``<html lang>`` following the language.
One server per language; the window is resized, not the browser restarted. Screenshots of every
page and size go to ``artifacts/screenshots/responsive/``."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from dash_app import create_app
from dash_app.pages import PAGES

SIZES = [(390, 844), (1280, 900)]
# what must be on screen before a page is measured
READY = {"overview": "#overview-cards .card", "compare": "#compare-grid .ag-row", "methodology": "#methodology-sample td"}

_MEASURE_JS = """
var plots = Array.from(document.querySelectorAll('.js-plotly-plot')).filter(function (g) { return g._fullLayout; });
return {
  scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
  plots: plots.map(function (g) { return {id: g.parentElement.id || g.id, w: g._fullLayout._size.w,
                                          mode: g._spMode || null}; }),
  lang: document.documentElement.getAttribute('lang'),
  wide: Array.from(document.querySelectorAll('body *')).filter(function (e) {
    var r = e.getBoundingClientRect(); return r.right > window.innerWidth + 1 && r.width > 0 &&
      !e.closest('.ag-root-wrapper, .table-view, .method-section, .js-plotly-plot');
  }).slice(0, 5).map(function (e) { return e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right); }),
  headers: Array.from(document.querySelectorAll('#compare-grid .ag-header-cell')).filter(function (e) {
    return e.offsetWidth > 0; }).map(function (e) { return e.getAttribute('col-id'); })
};
"""


@pytest.fixture(scope="module")
def demo_app(demo_project):
    return create_app(demo_project)


def _measure(driver, page: str, timeout: float = 20) -> dict:
    """The page's measures once its charts are drawn for the window's width (and stable)."""
    end, last = time.time() + timeout, None
    while time.time() < end:
        m = driver.execute_script(_MEASURE_JS)
        want = 2 if page == "map" else (0 if page in ("overview", "compare", "methodology") else 1)
        ready = len(m["plots"]) >= want and all(p["mode"] is not None for p in m["plots"])
        if ready and m == last:
            return m
        last = m
        time.sleep(0.5)
    return last


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_page_fits_phone_and_desktop(dash_duo, demo_app, screenshots_dir, lang):
    out = screenshots_dir / "responsive"
    out.mkdir(parents=True, exist_ok=True)
    dash_duo.start_server(demo_app)
    d = dash_duo.driver
    problems = []
    for width, height in SIZES:
        d.set_window_size(width, height)
        for mod in PAGES:
            d.get(f"{dash_duo.server_url}{mod.PATH}?lang={lang}")
            dash_duo.wait_for_element(READY.get(mod.PAGE, f"#{mod.PAGE}-graph .main-svg"), timeout=20)
            m = _measure(d, mod.PAGE)
            where = f"{mod.PAGE} {lang} {width}px"
            if m["scroll"] > m["inner"]:
                problems.append(f"{where}: page is {m['scroll']} px wide in a {m['inner']} px window {m['wide']}")
            problems += [f"{where}: chart {p['id']} plot area {p['w']:.0f} px" for p in m["plots"] if p["w"] < 250]
            expected = "compact" if width < 600 else "wide"
            problems += [f"{where}: chart {p['id']} drawn {p['mode']}" for p in m["plots"] if p["mode"] != expected]
            if m["lang"] != lang:
                problems.append(f"{where}: <html lang={m['lang']!r}>")
            if mod.PAGE == "compare":
                narrow = width < 600
                if narrow and set(m["headers"]) != {"area", "estimate_text"}:
                    problems.append(f"{where}: grid shows {m['headers']} on a phone")
                if not narrow and len(m["headers"]) < 5:
                    problems.append(f"{where}: grid shows only {m['headers']} on a desktop")
                if narrow:  # the toggle brings the other columns back
                    d.find_element(By.CSS_SELECTOR, ".grid-toggle input").click()
                    end = time.time() + 10
                    while len(d.execute_script(_MEASURE_JS)["headers"]) < 5 and time.time() < end:
                        time.sleep(0.2)
                    if len(d.execute_script(_MEASURE_JS)["headers"]) < 5:
                        problems.append(f"{where}: the toggle did not show every column")
            full = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(width, min(max(height, full + 100), 7000))
            time.sleep(0.4)
            d.save_screenshot(str(out / f"{mod.PAGE}_{lang}_{width}.png"))
            d.set_window_size(width, height)
    assert not problems, "\n".join(problems)
    assert dash_duo.get_logs() == []
