"""The figure builders are pure functions of results tables: traces, intervals, suppression, palette."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dash_app.export import neutralise, to_csv_bytes, to_xlsx_bytes
from dash_app.figures import (
    BAND_COLORS,
    OKABE_ITO,
    SUPPRESSED_COLOR,
    equity_figure,
    importance_satisfaction_figure,
    map_figure,
    priorities_figure,
    trends_figure,
)
from dash_app.figures.charts import map_view, place_labels
from tests.fixtures_results import areas_geojson, build_tables


@pytest.fixture(scope="module")
def tables():
    return build_tables()


def _est(tables, **kw):
    e = tables["estimates"]
    m = pd.Series(True, index=e.index)
    for k, v in kw.items():
        m &= e[k] == v
    return e[m]


def test_priorities_dots_carry_their_intervals(tables):
    p = tables["priorities"]
    d = p[(p.wave == "2026-spring") & (p.area_level == "city")]
    fig = priorities_figure(d)
    xs = np.concatenate([np.asarray(t.x, dtype=float) for t in fig.data])
    plus = np.concatenate([np.asarray(t.error_x.array, dtype=float) for t in fig.data])
    assert len(xs) == len(d) == 8
    row = d.sort_values("rank").iloc[0]
    trace = next(t for t in fig.data if f"1. {row.label_en}" in list(t.y))
    i = list(trace.y).index(f"1. {row.label_en}")
    assert trace.x[i] == pytest.approx(row.estimate * 100)
    assert trace.error_x.array[i] == pytest.approx((row.ci_high - row.estimate) * 100)
    assert trace.error_x.arrayminus[i] == pytest.approx((row.estimate - row.ci_low) * 100)
    assert (plus > 0).all()
    assert all(t.marker.color in OKABE_ITO for t in fig.data)


def test_priorities_grouped_by_department_keeps_departments_together(tables):
    p = tables["priorities"]
    d = p[(p.wave == "2026-spring") & (p.area_level == "city")]
    fig = priorities_figure(d, by_department=True)
    order = list(fig.layout.yaxis.categoryarray)
    depts = [y.split(" · ")[0] for y in order]
    # each department appears in one contiguous block
    assert len([k for k, g in __import__("itertools").groupby(depts)]) == len(set(depts))


def test_priorities_suppressed_rows_are_named_not_drawn(tables):
    p = tables["priorities"]
    d = p[(p.wave == "2026-spring") & (p.area == "12")].copy()
    assert (d.reliability == "suppress").all()
    fig = priorities_figure(d)
    assert sum(len(t.x) for t in fig.data) == 0
    assert len(fig.layout.annotations) == len(d)
    assert all("suppressed" in a.text and "fewer than 30" in a.text for a in fig.layout.annotations)


def test_map_is_offline_and_greys_suppressed_areas(tables):
    d = _est(tables, wave="2026-spring", indicator="sat_police_overall", area_level="neighborhood", group_dim="all")
    assert (d.reliability == "suppress").sum() == 1  # the fixture's thin neighborhood 12
    fig = map_figure(d, areas_geojson(), level="neighborhood", statistic="share", label="Satisfied")
    assert all(isinstance(t, go.Choroplethmap) for t in fig.data)
    assert fig.layout.map.style == "white-bg"
    values, grey = fig.data
    assert len(values.locations) == 11 and list(grey.locations) == ["12"]
    assert grey.colorscale[0][1] == SUPPRESSED_COLOR and grey.showscale is False
    assert "fewer than 30" in grey.text[0]
    row = d[d.area == "9"].iloc[0]
    i = list(values.locations).index("9")
    assert values.z[i] == pytest.approx(row.estimate * 100)
    assert f"{row.ci_low * 100:.0f}%" in values.text[i]


def test_map_district_level_colours_neighborhoods_by_their_district(tables):
    d = _est(tables, wave="2026-spring", indicator="safe_night", area_level="district", group_dim="all")
    fig = map_figure(d, areas_geojson(), level="district", statistic="share", label="Safe")
    z = dict(zip(fig.data[0].locations, fig.data[0].z, strict=True))
    central = d[d.area == "central"].estimate.iloc[0] * 100
    assert [z[c] for c in ("1", "2", "3", "4")] == pytest.approx([central] * 4)


def test_map_view_fits_the_shapes():
    v = map_view(areas_geojson())
    assert v["center"]["lon"] == pytest.approx(-89.64) and 9 < v["zoom"] < 14


def test_map_without_shapes_says_so():
    fig = map_figure(pd.DataFrame(), None, level="neighborhood", statistic="share", label="x", no_map_text="no shapes")
    assert fig.layout.annotations[0].text == "no shapes"


def test_trends_have_bands_and_a_bold_city_line(tables):
    e = _est(tables, indicator="safe_night", group_dim="all")
    d = e[e.area.isin(["city", "9", "12"]) & e.area_level.isin(["city", "neighborhood"])]
    fig = trends_figure(d, areas=["9", "12"], area_names={"9": "Eastgate", "12": "Brookside"}, statistic="share",
                        label="Safe", waves=["2024-spring", "2025-spring", "2026-spring"])
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    bands = [t for t in fig.data if t.fill == "toself"]
    city = next(t for t in lines if t.name == "City")
    assert city.line.width > max(t.line.width for t in lines if t.name != "City")
    assert city.line.color == "#000000"
    assert len(bands) == 1 and bands[0].legendgroup == "city"  # areas carry error bars instead
    # Brookside (12) is suppressed in the first and last waves: gaps, no values, no interval
    brook = next(t for t in lines if t.name == "Brookside")
    assert np.isnan(brook.y[0]) and np.isnan(brook.y[2]) and not np.isnan(brook.y[1])
    assert np.isnan(brook.error_y.array[0]) and brook.error_y.array[1] > 0
    assert "suppressed" in brook.text[0]
    # the areas are nudged apart around each wave, the city sits on it
    east = next(t for t in lines if t.name == "Eastgate")
    assert list(city.x) == [0, 1, 2] and east.x[0] != brook.x[0] and abs(east.x[0]) < 0.2
    assert list(fig.layout.xaxis.ticktext) == ["2024-spring", "2025-spring", "2026-spring"]
    c = d[(d.area == "city") & (d.wave == "2026-spring")].iloc[0]
    band = next(t for t in bands if t.legendgroup == "city")
    assert max(band.y) == pytest.approx(c.ci_high * 100) or c.ci_high * 100 in band.y


def test_equity_marks_suppressed_groups_and_draws_reference(tables):
    e = _est(tables, wave="2026-spring", indicator="sat_police_overall", area_level="district", area="east")
    d = e[e.group_dim == "race_ethnicity"]
    ref = e[e.group_dim == "all"].iloc[0]
    fig = equity_figure(d, groups=list(d.group), statistic="share", label="Satisfied", reference=ref)
    pts = fig.data[0]
    assert "other" not in list(pts.y) and len(pts.y) == 3
    assert any("suppressed" in a.text for a in fig.layout.annotations)
    assert any(s.x0 == pytest.approx(ref.estimate * 100) for s in fig.layout.shapes if s.type == "line")
    r = d[d.group == "black"].iloc[0]
    i = list(pts.y).index("black")
    assert pts.error_x.arrayminus[i] == pytest.approx((r.estimate - r.ci_low) * 100)


def test_importance_satisfaction_bands_and_curves(tables):
    s = tables["importance_satisfaction"]
    d = s[(s.wave == "2026-spring") & (s.area_level == "city")]
    fig = importance_satisfaction_figure(d)
    pts = [t for t in fig.data if t.mode == "markers"]
    assert sum(len(t.x) for t in pts) == len(d)
    for t in pts:
        assert t.marker.color == BAND_COLORS[t.name]
    # every service is named once, as an annotation placed clear of the others
    names = [a.text for a in fig.layout.annotations if not a.text.startswith("I–S")]
    assert sorted(names) == sorted(d["label_en"])
    curves = [t for t in fig.data if t.mode == "lines"]
    assert curves
    for c in curves:  # I-S = cut: importance x (1 - satisfaction) = cut along each curve
        cut = float(c.name.split("= ")[1])
        assert np.allclose(np.asarray(c.y) / 100 * (1 - np.asarray(c.x) / 100), cut)
    # the axes span the services, not 0-100, so a cluster spreads out
    lo, hi = fig.layout.xaxis.range
    assert lo <= (d["satisfaction"] - 1.96 * d["satisfaction_se"]).min() * 100
    assert hi >= (d["satisfaction"] + 1.96 * d["satisfaction_se"]).max() * 100 and hi - lo < 100


def test_place_labels_keeps_a_tight_cluster_readable():
    x = np.array([57.0, 57.5, 58.0, 58.2, 58.6, 60.0])
    y = np.array([20.0, 20.3, 19.8, 20.1, 20.4, 18.0])
    texts = ["Trash collection and recycling", "Libraries", "Maintenance of streets and sidewalks",
             "Enforcement of property codes", "Police services", "Street lighting"]
    xr, yr = [30.0, 80.0], [0.0, 50.0]
    offs = place_labels(x, y, texts, xr, yr)
    px = (x - xr[0]) / (xr[1] - xr[0]) * 1000 + [o[0] for o in offs]
    py = (yr[1] - y) / (yr[1] - yr[0]) * 420 + [o[1] for o in offs]
    boxes = [(a - (7 * len(t) + 6) / 2, b - 8, a + (7 * len(t) + 6) / 2, b + 8) for a, b, t in zip(px, py, texts, strict=True)]
    for i in range(len(boxes)):
        for j in range(i):
            a, b = boxes[i], boxes[j]
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (texts[i], texts[j])


def test_palette_is_okabe_ito():
    assert OKABE_ITO[:7] == ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]


def test_exports_neutralise_formulas():
    df = pd.DataFrame({"a": ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "fine"], "n": [-1.5, 2.0, 3.0, 4.0, 5.0]})
    out = neutralise(df)
    assert list(out["a"]) == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "fine"]
    assert list(out["n"]) == [-1.5, 2.0, 3.0, 4.0, 5.0]
    csv = to_csv_bytes(df).decode("utf-8-sig")
    assert "'=1+1" in csv and "\n=1+1" not in csv
    back = pd.read_excel(__import__("io").BytesIO(to_xlsx_bytes(df)))
    assert back["a"].iloc[0] == "'=1+1"


def test_downloads_write_a_list_cell_as_one_text():
    # Overview's view holds each card's benchmark sentences as a list: openpyxl refused the row
    df = pd.DataFrame({"indicator": ["safe"], "benchmarks": [["Program median 61%", "=Gallup 2024"]],
                       "none": [[]]})
    back = pd.read_excel(__import__("io").BytesIO(to_xlsx_bytes(df)))
    assert back["benchmarks"].iloc[0] == "Program median 61%; =Gallup 2024"
    csv = to_csv_bytes(df).decode("utf-8-sig")
    assert "Program median 61%; =Gallup 2024" in csv and "[" not in csv


def test_map_matches_area_codes_written_as_slugs(tables):
    d = _est(tables, wave="2026-spring", indicator="safe_night", area_level="neighborhood", group_dim="all").copy()
    d["area"] = d["area"].map({"1": "downtown", "2": "old_town"})
    d = d.dropna(subset=["area"])
    fig = map_figure(d, areas_geojson(), level="neighborhood", statistic="share", label="Safe")
    assert sorted(fig.data[0].locations) == ["1", "2"]


def test_map_colour_range_is_never_narrower_than_20_points(tables):
    d = _est(tables, wave="2026-spring", indicator="sat_police_overall", area_level="district", group_dim="all")
    fig = map_figure(d, areas_geojson(), level="district", statistic="share", label="Satisfied")
    tr = fig.data[0]
    assert tr.zmax - tr.zmin == pytest.approx(20.0)
    assert tr.zmin <= min(tr.z) and tr.zmax >= max(tr.z)


def test_importance_satisfaction_leaves_out_suppressed_services_and_names_them(tables):
    s = tables["importance_satisfaction"]
    d = s[(s.wave == "2026-spring") & (s.area_level == "city")].copy()
    d["reliability"] = ["suppress" if i == 0 else "ok" for i in range(len(d))]
    gone = d["label_en"].iloc[0]
    fig = importance_satisfaction_figure(d, suppressed_text="Not shown")
    drawn = [x for t in fig.data if t.mode == "markers" for x in t.text]
    assert gone not in drawn and len(drawn) == len(d) - 1
    assert any(a.text == f"Not shown: {gone}" for a in fig.layout.annotations)
    d["reliability"] = "suppress"  # nothing reliable: no chart, the names are said
    assert gone in importance_satisfaction_figure(d, suppressed_text="Not shown").layout.annotations[0].text


def _layout_value(layout: dict, path: str):
    node = layout
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def test_every_figure_carries_a_compact_layout_for_phones(tables):
    """``layout.meta``: relayout updates for a narrow container and the designed values of the same
    attributes (what assets/responsive.js switches between)."""
    p = tables["priorities"]
    e = tables["estimates"]
    city = e[(e.indicator == "sat_police_overall") & (e.group_dim == "all")]
    figs = {
        "priorities": priorities_figure(p[(p.wave == "2026-spring") & (p.area_level == "city")], title="Priorities — City"),
        "trends": trends_figure(city, areas=["city"], area_names={}, statistic="share", label="Satisfied",
                                waves=["Spring 2024", "Spring 2025", "Spring 2026"], title="A long title " * 4),
        "importance": importance_satisfaction_figure(tables["importance_satisfaction"].query(
            "wave == '2026-spring' and area_level == 'city'")),
    }
    for name, fig in figs.items():
        layout = fig.to_plotly_json()["layout"]
        meta = layout["meta"]
        assert set(meta["compact"]) == set(meta["wide"]), name
        for key, value in meta["wide"].items():
            assert value == _layout_value({k: v for k, v in layout.items() if k != "meta"}, key), (name, key)
        assert meta["compact"]["margin.l"] < 10 and meta["narrow_px"] == 600
    # titles wrap, legends go below the chart, category labels wrap without breaking words
    tr = figs["trends"].layout.meta["compact"]
    assert tr["title.text"].count("<br>") >= 1 and tr["xaxis.ticktext"] == ["Spring<br>2024", "Spring<br>2025", "Spring<br>2026"]
    pr = figs["priorities"].layout.meta["compact"]
    assert pr["legend.yref"] == "container" and pr["legend.y"] == 0 and pr["legend.yanchor"] == "bottom"
    assert all(len(line) <= 12 or " " not in line for t in pr["yaxis.ticktext"] for line in t.split("<br>"))
    assert pr["height"] > figs["priorities"].layout.height - 200
    imp = figs["importance"].layout.meta["compact"]["annotations"]
    assert all(len(a["text"]) <= 16 for a in imp if a["font"]["color"] == "#1A1A1A")  # point labels cut to fit


def _drivers(tables, wave="2026-spring", area="city"):
    d = tables["drivers"]
    return d[(d.wave == wave) & (d.area == area)]


def test_drivers_figure_one_panel_per_outcome_with_intervals(tables):
    from dash_app.figures import drivers_figure

    d = _drivers(tables)
    fig = drivers_figure(d, outcome_labels={"sat_police_overall": "Satisfied with police", "trust_overall": "Trust"})
    go.Figure(fig.to_dict())  # plotly's schema
    assert len(fig.data) == 2 and {tr.yaxis for tr in fig.data} == {"y", "y2"}
    trust = next(tr for tr in fig.data if tr.name == "Trust")
    rows = d[d.outcome == "trust_overall"]
    assert list(trust.text) == rows["label_en"].tolist()
    assert np.allclose(trust.y, rows["coefficient"] * 100) and np.allclose(trust.x, rows["satisfaction"] * 100)
    assert np.allclose(np.asarray(trust.error_y.array) + trust.y, rows["ci_high"] * 100)
    assert np.allclose(trust.y - np.asarray(trust.error_y.arrayminus), rows["ci_low"] * 100)
    # the planted driver of trust (police response) is the highest dot, filled (significant)
    top = int(np.argmax(trust.y))
    assert trust.text[top] == "Police response" and trust.marker.color[top] != "white"
    assert sum(c == "white" for c in trust.marker.color) == 3
    titles = [a.text for a in fig.layout.annotations]
    assert any("Trust" in x and "n = 900" in x for x in titles)
    assert any(s.y0 == 0 and s.line.dash == "dash" for s in fig.layout.shapes)  # the no-association line


def test_drivers_figure_suppressed_model_is_named_not_drawn(tables):
    from dash_app.figures import drivers_figure

    d = _drivers(tables, area="east")
    assert (d.reliability == "suppress").all()
    fig = drivers_figure(d, no_data="No model", suppressed_text="Not shown")
    assert not fig.data
    text = fig.layout.annotations[0].text
    assert text.startswith("No model") and "60 complete cases" in text
    mixed = pd.concat([_drivers(tables)[lambda x: x.outcome == "trust_overall"], d[d.outcome == "sat_police_overall"]])
    fig = drivers_figure(mixed, suppressed_text="Not shown")
    assert len(fig.data) == 1 and any(a.text.startswith("Not shown: sat_police_overall") for a in fig.layout.annotations)
    assert drivers_figure(d.iloc[0:0], no_data="Nothing").layout.annotations[0].text == "Nothing"
