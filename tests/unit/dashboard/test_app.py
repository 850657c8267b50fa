"""The factory builds independent apps; the URL query is the whole state of a view."""

from __future__ import annotations

import dash
import pytest

from dash_app import create_app
from dash_app.app import build_query, parse_query
from dash_app.pages import PAGES, page_for_path
from dash_app.pages._common import page_layout
from tests.fixtures_results import make_results_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_results_project(tmp_path_factory.mktemp("p"))


def test_apps_do_not_share_callbacks(project):
    a, b = create_app(project), create_app(project)
    assert a.callback_map and set(a.callback_map) == set(b.callback_map)
    assert a.callback_map is not b.callback_map
    # nothing registered globally (no module-level @callback or register_page)
    assert dash._callback.GLOBAL_CALLBACK_LIST == []
    assert not dash.page_registry


def test_query_round_trip_is_canonical():
    q = build_query({"wave": "2025-spring", "areas": ["district:east", "neighborhood:3"], "lang": "es", "x": None})
    assert q == "?areas=district%3Aeast%2Cneighborhood%3A3&lang=es&wave=2025-spring"
    assert parse_query(q) == {"areas": "district:east,neighborhood:3", "lang": "es", "wave": "2025-spring"}


def test_unknown_url_values_fall_back_to_defaults(project):
    app = create_app(project)
    data = app.results.get()
    mod = page_for_path("/map")
    st = mod.state(data, {"wave": "1999", "indicator": "nope", "level": "galaxy"})
    assert st == {"wave": "2026-spring", "indicator": "sat_police_overall", "level": "neighborhood"}
    st = page_for_path("/trends").state(data, {"areas": "neighborhood:9,bogus"})
    assert st["areas"] == ["neighborhood:9"]
    assert page_for_path("/nowhere") is None


def test_every_page_renders_its_layout_in_both_languages(project):
    app = create_app(project)
    data = app.results.get()
    for mod in PAGES:
        for lang in ("en", "es"):
            layout = page_layout(mod, data, {}, lang)
            assert layout and str(layout[0].children).strip()
        df = mod.view_data(data, mod.state(data, {}), "en")
        assert len(df) > 0, mod.PAGE
