"""Serving fast: the shapes are served once and referenced by the maps, text columns are plain
objects, figures built without per-request validation still satisfy plotly's schema, and the
default views are rendered before the first visitor."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import dcc

from dash_app import create_app, ids
from dash_app.app import warm_up
from dash_app.data import ResultsSource
from dash_app.i18n import LANGS
from dash_app.pages import PAGES, page_for_path
from dash_app.serve import serve
from survey_pipeline.errors import SurveyPipelineError
from tests.fixtures_results import make_results_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_results_project(tmp_path_factory.mktemp("p"))


def _graphs(component):
    """Every dcc.Graph inside a component tree (or list of them)."""
    if isinstance(component, list | tuple):
        for c in component:
            yield from _graphs(c)
        return
    if isinstance(component, dcc.Graph):
        yield component
    children = getattr(component, "children", None)
    if children is not None and not isinstance(children, str):
        yield from _graphs(children)


def _map_graph(content) -> dcc.Graph:
    (graph,) = [g for g in _graphs(content) if g.id == ids.graph_id("map")]
    return graph


def test_maps_reference_the_shapes_served_once(project):
    app = create_app(project)
    data = app.results.get()
    assert data.geojson_url.startswith("/_dashboard/areas.geojson?v=")
    client = app.server.test_client()
    r = client.get(data.geojson_url)
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert "immutable" in r.headers["Cache-Control"]
    ids = {f["id"] for f in json.loads(r.data)["features"]}
    mod = page_for_path("/map")
    for level in ("neighborhood", "district"):
        graph = _map_graph(mod.content(data, mod.state(data, {"level": level}), "en"))
        traces = graph.figure.data
        assert traces and all(tr.geojson == data.geojson_url for tr in traces)
        drawn = [loc for tr in traces for loc in tr.locations]
        assert drawn and set(drawn) <= ids and len(drawn) == len(set(drawn))
    # an old version is still answered, but not cached for good
    assert client.get("/_dashboard/areas.geojson?v=old").headers["Cache-Control"] == "no-cache"


def test_without_shapes_maps_embed_nothing_and_the_route_is_404(tmp_path):
    root = make_results_project(tmp_path / "p")
    (root / "areas.geojson").unlink()
    app = create_app(root)
    assert app.results.get().geojson_url is None
    assert app.server.test_client().get("/_dashboard/areas.geojson").status_code == 404


def test_a_source_without_a_route_embeds_the_shapes(project):
    data = ResultsSource(project).get()
    assert data.geojson_url is None
    mod = page_for_path("/map")
    graph = _map_graph(mod.content(data, mod.state(data, {}), "en"))
    assert graph.figure.data and all(isinstance(tr.geojson, dict) for tr in graph.figure.data)


def test_every_figure_satisfies_plotlys_schema(project):
    data = create_app(project).results.get()
    seen = 0
    for mod in PAGES:
        for lang in LANGS:  # every language with a catalog: en, es, vi
            for graph in _graphs(mod.content(data, mod.state(data, {}), lang)):
                go.Figure(graph.figure.to_dict())  # validates: raises on an unknown property or bad value
                seen += 1
    assert seen >= 10


def test_text_columns_are_plain_objects_shared_per_value(project):
    est = ResultsSource(project).get().estimates
    for col in ("wave", "indicator", "area_level", "area", "group_dim", "reliability"):
        assert est[col].dtype == object and all(isinstance(v, str) for v in est[col]), col
    first = est["wave"].iloc[0]
    assert all(v is first for v in est.loc[est["wave"] == first, "wave"])
    reasons = est["reliability_reason"]
    assert reasons.isna().any() and reasons.dropna().map(type).eq(str).all()
    assert pd.isna(reasons[est["reliability"] == "ok"]).all()


def test_warm_up_renders_every_default_view(project):
    app = create_app(project)
    warm_up(app)
    cache = app.results.get()._memo["_lru"]
    pages = {key[1] for key in cache if key[0] == "layout"}
    assert pages == {mod.PAGE for mod in PAGES}
    assert {key[2] for key in cache if key[0] == "layout"} == set(LANGS) == {"en", "es", "vi"}


@pytest.mark.parametrize(("kwargs", "rule"), [
    ({"workers": 0}, "workers-at-least-1"),
    ({"threads": 0}, "threads-at-least-1"),
    ({"debug": True, "workers": 2}, "debug-single-process"),
])
def test_serve_refuses_bad_options_before_reading_anything(tmp_path, kwargs, rule):
    with pytest.raises(SurveyPipelineError) as exc:
        serve(tmp_path / "nowhere", **kwargs)
    assert exc.value.rule == rule and exc.value.fix


def test_warm_up_survives_a_page_that_fails(project, monkeypatch, caplog):
    app = create_app(project)
    trends = page_for_path("/trends")

    def broken(*_a, **_k):
        raise ValueError("cannot reindex on an axis with duplicate labels")

    monkeypatch.setattr(trends, "content", broken)
    assert warm_up(app) == ["trends"]
    assert "/trends" in caplog.text and "duplicate labels" in caplog.text
    pages = {key[1] for key in app.results.get()._memo["_lru"] if key[0] == "layout"}
    assert pages == {mod.PAGE for mod in PAGES} - {"trends"}
