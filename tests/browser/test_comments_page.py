"""The Comments page on the demo project in headless Chromium, in English and Spanish: theme shares
drawn with intervals, the redacted comment feed, and the small-cell rule (a thin neighborhood, or a
theme few residents wrote about, shows no comment and says why)."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By

from dash_app import create_app

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}")


@pytest.fixture(scope="module")
def comments_app(demo_project):
    return create_app(demo_project)


def _open(dash_duo, path: str, ready: str):
    dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element(ready, timeout=20)
    time.sleep(0.3)
    return dash_duo.driver.find_element(By.ID, "comments-view").text


def test_comments_page_in_both_languages_with_the_small_cell_rule(dash_duo, comments_app, screenshots_dir):
    dash_duo.start_server(comments_app)
    # English, citywide: the chart (one dot per published theme, with error bars) and the feed
    text = _open(dash_duo, "/comments?lang=en&wave=2026-spring", "#comments-feed li")
    dash_duo.wait_for_text_to_equal("h1", "Comments", timeout=10)
    n_dots = dash_duo.driver.execute_script(
        "var gd = document.querySelector('#comments-graph .js-plotly-plot');"
        "return gd._fullData.filter(function (t) { return t.showlegend !== false; })"
        ".reduce(function (a, t) { return a + t.y.length; }, 0);")
    bars = dash_duo.driver.execute_script(
        "var gd = document.querySelector('#comments-graph .js-plotly-plot');"
        "return gd._fullData.filter(function (t) { return t.showlegend !== false; })"
        ".every(function (t) { return t.error_x && t.error_x.array.length === t.y.length; });")
    assert n_dots >= 5 and bars
    items = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#comments-feed li")
    assert 10 <= len(items) <= 50 and "What residents wrote" in text
    assert not EMAIL.search(text) and not PHONE.search(text)
    dash_duo.driver.save_screenshot(str(screenshots_dir / "comments.png"))
    assert dash_duo.get_logs() == []

    # a thin neighborhood: no comment, and the reason
    text = _open(dash_duo, "/comments?lang=en&wave=2026-spring&area=" + quote("neighborhood:Mill Yard"),
                 "#comments-feed-hidden")
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#comments-feed li")
    assert "fewer than 30 residents commented in Mill Yard" in text

    # Spanish, a theme filter: a theme few wrote about is hidden, a common one is shown and tagged
    text = _open(dash_duo, "/comments?lang=es&wave=2026-spring&theme=libraries", "#comments-feed-hidden")
    dash_duo.wait_for_text_to_equal("h1", "Comentarios", timeout=10)
    assert "menos de 30 residentes escribieron" in text
    text = _open(dash_duo, "/comments?lang=es&wave=2026-spring&theme=police_services", "#comments-feed li")
    tags = [e.text for e in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#comments-feed li .tags")]
    assert tags and all("Servicios de policía" in x for x in tags)
    assert "Lo que escribieron los residentes" in text and "Proporción de quienes comentaron" in \
        dash_duo.driver.find_element(By.ID, "comments-graph").text
    dash_duo.driver.save_screenshot(str(screenshots_dir / "comments_es.png"))
    assert dash_duo.get_logs() == []
