"""Hostile input to the dashboard: malformed callback bodies get 400 (never 500), missing
component files 404, and a crafted area name or label never becomes a link or an image."""

from __future__ import annotations

import copy
import json
import random

import pytest

from dash_app import create_app
from dash_app.figures.common import svg_safe
from dash_app.pages._common import markdown_table, md_escape
from tests.fixtures_results import make_results_project
from tests.unit.dashboard.test_auth import _download_body, _route_body


def _fid(name: str, page: str) -> dict:
    return {"type": "filter", "name": name, "page": page}


def _view_body() -> dict:
    return {"output": "priorities-view.children", "outputs": {"id": "priorities-view", "property": "children"},
            "inputs": [{"id": _fid("wave", "priorities"), "property": "value", "value": "2025-spring"},
                       {"id": _fid("area", "priorities"), "property": "value", "value": "city"},
                       {"id": _fid("order", "priorities"), "property": "value", "value": "rank"}],
            "state": [{"id": _fid("lang", "shell"), "property": "value", "value": "es"}],
            "changedPropIds": [json.dumps(_fid("wave", "priorities"), separators=(",", ":")) + ".value"]}


def _sync_body() -> dict:
    return {"output": "..url.search...synced-search.data..",
            "outputs": [{"id": "url", "property": "search"}, {"id": "synced-search", "property": "data"}],
            "inputs": [[{"id": _fid("wave", "map"), "property": "value", "value": "2025-spring"}]],
            "state": [[{"id": _fid("wave", "map"), "property": "id", "value": _fid("wave", "map")}],
                      {"id": "url", "property": "search", "value": ""}],
            "changedPropIds": []}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return create_app(make_results_project(tmp_path_factory.mktemp("p"))).server.test_client()


JUNK = [None, 0, -1, 1e308, True, "", "x" * 10000, [], [None], [{}], {}, {"a": {"b": [1]}}, "../../etc/passwd",
        "<script>alert(1)</script>", ["district:east", 5], [[["deep"]]]]


def _mutate(body: dict, rng: random.Random) -> object:
    b = copy.deepcopy(body)
    kind = rng.randrange(7)
    if kind == 0:  # drop a key
        b.pop(rng.choice(list(b)), None)
    elif kind == 1:  # a key of the wrong kind
        b[rng.choice(list(b))] = rng.choice(JUNK)
    elif kind in (2, 3):  # an input or state value of the wrong kind
        entries = [e for k in ("inputs", "state") for e in b.get(k, []) for e in (e if isinstance(e, list) else [e])]
        rng.choice(entries)["value"] = rng.choice(JUNK)
    elif kind == 4:  # an id or property of the wrong kind
        entries = [e for k in ("inputs", "state") for e in b.get(k, []) for e in (e if isinstance(e, list) else [e])]
        rng.choice(entries)[rng.choice(["id", "property"])] = rng.choice(JUNK)
    elif kind == 5:  # not an object at all
        return rng.choice(JUNK)
    else:  # truncated or byte-flipped JSON text
        text = json.dumps(b)
        cut = rng.randrange(1, len(text))
        return text[:cut] if rng.random() < 0.5 else text[:cut] + chr(rng.randrange(32, 127)) + text[cut + 1:]
    return b


def test_valid_callback_bodies_are_answered(client):
    for body in (_route_body("/map"), _view_body(), _sync_body(), _download_body()):
        assert client.post("/_dash-update-component", json=body).status_code in (200, 204), body["output"]


def test_malformed_callback_bodies_get_400_never_500(client):
    rng = random.Random(19)
    statuses: dict[int, int] = {}
    bases = [_route_body("/map"), _view_body(), _sync_body(), _download_body()]
    for i in range(400):
        body = _mutate(bases[i % len(bases)], rng)
        data = body if isinstance(body, str) else json.dumps(body)
        r = client.post("/_dash-update-component", data=data, content_type="application/json")
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code in (200, 204, 400), (r.status_code, data[:300])
        if r.status_code == 400:
            assert "malformed callback request" in r.get_json()["error"] and "Traceback" not in r.get_data(as_text=True)
    assert statuses.get(400, 0) > 100, statuses  # the mutations mostly break the body


def test_unknown_component_files_are_404(client):
    for path in ("/_dash-component-suites/dash/no-such-file.v3_0_0m1.js", "/_dash-component-suites/no_such_pkg/x.js",
                 "/_dash-component-suites/dash/deps/react@99.9.9.min.js", "/_dash-component-suites/dash/../../setup.py",
                 "/assets/no-such.css"):
        assert client.get(path).status_code == 404, path


def test_crafted_names_never_become_links_or_images():
    evil = '<a href="https://evil.example/">Eastgate</a> ![x](https://evil.example/i.png) [y](http://e.x) www.evil.example'
    chart = svg_safe(evil + "<br><b>ok</b>")
    assert "<a " not in chart and "&lt;a href" in chart and chart.endswith("<br><b>ok</b>")
    assert "<span" not in svg_safe('<span style="x">s</span>') and "<img" not in svg_safe("<img src=x>")
    # rendered by a CommonMark parser (the dashboard's renders client-side): text, no link, no image
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table")
    assert "<a " in parser.render(evil) and "<img" in parser.render(evil)  # what an unescaped name would do
    rendered = parser.render(md_escape(evil + " <https://x.example>"))
    assert "<a " not in rendered and "<img" not in rendered and "evil.example/i.png" in rendered
    import pandas as pd

    html_table = parser.render(markdown_table(pd.DataFrame({"Area": [evil], "n": [3]})))
    assert html_table.count("<tr>") == 2 and "<a " not in html_table and "<img" not in html_table


def test_figures_escape_every_text(tmp_path):
    from dash_app.figures.charts import priorities_figure

    df = pd_frame()
    fig = priorities_figure(df, label_col="label_en", title='<a href="https://x.example">T</a>')
    dumped = fig.to_json()
    assert "<a href" not in dumped and "&lt;a href" in dumped
    assert fig.layout.meta["compact"]["yaxis.ticktext"] and fig.layout.meta["wide"]["height"] == fig.layout.height


def pd_frame():
    import pandas as pd

    return pd.DataFrame({"rank": [1, 2], "rank_low": [1, 1], "rank_high": [2, 2], "department": ["police", "parks"],
                         "label_en": ['<a href="https://evil.example">Noise</a>', "<img src=https://e.x/i.png>"],
                         "estimate": [0.3, 0.2], "ci_low": [0.25, 0.15], "ci_high": [0.35, 0.25], "n": [400, 400],
                         "reliability": ["ok", "ok"], "reliability_reason": [None, None]})
