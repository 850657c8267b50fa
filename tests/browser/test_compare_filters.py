"""The Compare grid's number filters in each language and locale: a reader in Spain (a project that
chose es_ES) types the adjusted p the way the grid shows it ("0,05"), a US Spanish reader "0.05",
and the filter keeps the same rows as "0.05" in English."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dash_app import create_app
from dash_app.app import _use_project_locales
from dash_app.pages import compare

PATH = "/compare?wave=2026-spring&indicator=safe_night&level=neighborhood"


def _rows(dash_duo) -> int:
    return dash_duo.driver.execute_script(
        "return dash_ag_grid.getApi('compare-grid').getDisplayedRowCount();")


def _filter_less_than(dash_duo, text: str) -> list[str]:
    """Open the adjusted-p column's filter as a reader does and type ``text`` as 'less than'."""
    d = dash_duo.driver
    header = d.find_element(By.CSS_SELECTOR, ".ag-header-cell[col-id='p_adj']")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", header)
    btn = header.find_elements(By.CSS_SELECTOR, ".ag-header-cell-filter-button, .ag-header-cell-menu-button")
    d.execute_script("arguments[0].click();", btn[0])
    dash_duo.wait_for_element(".ag-filter select, .ag-filter .ag-picker-field", timeout=10)
    time.sleep(0.3)
    picker = d.find_element(By.CSS_SELECTOR, ".ag-filter .ag-picker-field-wrapper")
    picker.click()
    time.sleep(0.2)
    opts = d.find_elements(By.CSS_SELECTOR, ".ag-select-list .ag-list-item")
    labels = [o.text for o in opts]
    opts[next(i for i, lab in enumerate(labels) if "less" in lab.lower() or "menor" in lab.lower())].click()
    box = d.find_element(By.CSS_SELECTOR, ".ag-filter input.ag-input-field-input:not([type=radio])")
    box.send_keys(text)
    box.send_keys(Keys.TAB)
    time.sleep(0.8)
    return labels


@pytest.mark.parametrize(("lang", "locales", "text"), [("en", None, "0.05"), ("es", None, "0.05"),
                                                      ("es", {"es": "es_ES"}, "0,05"), ("es", {"es": "es_ES"}, "0.05")])
def test_p_value_filter_reads_the_pages_numbers(dash_duo, results_project, lang, locales, text):
    app = create_app(results_project)
    if locales:  # as a survey.toml with [reporting] locales would (the shared project has none)
        _use_project_locales(app.server, locales)
    data = app.results.get()
    st = compare.state(data, {"wave": "2026-spring", "indicator": "safe_night", "level": "neighborhood"})
    df = compare.view_data(data, st, lang)
    want = int((df["p_adj"] < 0.05).sum())
    assert 0 < want < len(df)  # the filter must drop some rows and keep some
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + PATH + f"&lang={lang}")
    dash_duo.wait_for_element("#compare-grid .ag-row", timeout=15)
    time.sleep(0.5)
    assert _rows(dash_duo) == len(df)
    labels = _filter_less_than(dash_duo, text)
    assert ("Menor que" if lang == "es" else "Less than") in labels  # the filter menu speaks the page's language
    assert _rows(dash_duo) == want
    assert dash_duo.get_logs() == []


def test_spanish_download_has_spanish_headers(dash_duo, results_project):
    """The Spanish page's CSV reads back with Spanish headers (English keeps the codes:
    tests/browser/test_dashboard.py::test_downloads_read_back)."""
    import pandas as pd

    dash_duo.start_server(create_app(results_project))
    dash_duo.driver.get(dash_duo.server_url + PATH + "&lang=es")
    dash_duo.wait_for_element("#compare-grid .ag-row", timeout=15)
    folder = Path(dash_duo.download_path)
    dash_duo.driver.find_element(By.XPATH, "//button[normalize-space()='Descargar CSV']").click()
    end = time.time() + 15
    while time.time() < end and not [p for p in folder.glob("*.csv") if not p.name.endswith(".crdownload")]:
        time.sleep(0.1)
    time.sleep(0.3)
    df = pd.read_csv(next(folder.glob("*.csv")), encoding="utf-8-sig")
    assert {"Zona", "Estimación", "IC 95% inferior", "p ajustado", "Significación"} <= set(df.columns)
    assert not {"area", "p_adj", "ci_low"} & set(df.columns) and len(df) == 12
    assert dash_duo.get_logs() == []
