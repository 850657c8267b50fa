"""Modeled (small-area) numbers on the pages: shown only where the direct number is suppressed or
missing, always marked as modeled (legend, hover, source column, downloads, feed), never tested
for a difference, still suppressed when the model is too uncertain; in English and Spanish."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from dash_app import create_app
from dash_app.i18n import t
from dash_app.pages import compare, methodology, trends
from dash_app.pages import map as map_page
from tests.fixtures_results import (
    MODELED_VALUE,
    build_tables,
    make_results_project,
    with_modeled,
    write_store,
)

W = "2026-spring"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = make_results_project(tmp_path_factory.mktemp("modeled"))
    write_store(root / "warehouse.duckdb", with_modeled(build_tables()))
    return create_app(root)


@pytest.fixture(scope="module")
def data(app):
    return app.results.get()


def _figure(parts, i=0):
    return parts[i].children[0].figure


def _texts(component) -> list[str]:
    out = []
    if isinstance(component, str):
        return [component]
    for c in component if isinstance(component, list) else [getattr(component, "children", None)]:
        if c is None:
            continue
        out += _texts(c) if not isinstance(c, str) else [c]
    return out


@pytest.mark.parametrize("lang", ["en", "es"])
def test_map_marks_the_modeled_area_and_keeps_direct_ones(data, lang):
    st = {"wave": W, "indicator": "sat_police_overall", "level": "neighborhood"}
    rows = map_page._rows(data, st, lang)
    by_area = rows.set_index("area")
    assert bool(by_area.loc["12", "modeled"]) and by_area.loc["12", "estimate"] == pytest.approx(MODELED_VALUE)
    # a reliable direct number is never replaced by the model (whose value here is 0.4321 everywhere in 12 only)
    direct = rows[~rows["modeled"]]
    assert len(direct) == 11 and (direct["method"] != "modeled (Fay–Herriot)").all()
    fig = _figure(map_page.content(data, st, lang))
    modeled = [tr for tr in fig.data if tr.name == t("◇ Modeled (small-area estimate)", lang)]
    assert len(modeled) == 1 and modeled[0].showlegend
    assert modeled[0].marker.line.width > 3
    assert len(modeled[0].locations) == 1 and modeled[0].z[0] == pytest.approx(MODELED_VALUE * 100)
    assert t("modeled (small-area estimate)", lang) in modeled[0].text[0] and "35%–51%" in modeled[0].text[0]
    others = [tr for tr in fig.data if tr.name != t("◇ Modeled (small-area estimate)", lang)]
    assert all(t("modeled (small-area estimate)", lang) not in x for tr in others for x in (tr.text or []))
    ranking = _figure(map_page.content(data, st, lang), 1)
    open_marks = [tr for tr in ranking.data if tr.name == t("◇ Modeled (small-area estimate)", lang)]
    assert open_marks and all(str(s).endswith("-open") for s in open_marks[0].marker.symbol)


def test_a_modeled_number_that_is_suppressed_stays_grey(data):
    st = {"wave": W, "indicator": "safe_day", "level": "neighborhood"}
    rows = map_page._rows(data, st, "en").set_index("area")
    assert rows.loc["12", "reliability"] == "suppress" and not bool(rows.loc["12", "modeled"])
    fig = _figure(map_page.content(data, st, "en"))
    assert not [tr for tr in fig.data if tr.name == t("◇ Modeled (small-area estimate)", "en")]
    grey = [tr for tr in fig.data if tr.name == t("suppressed", "en")]
    assert grey and "12" in list(grey[0].locations)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_compare_shows_the_source_and_never_tests_a_modeled_number(data, lang):
    st = {"wave": W, "indicator": "sat_police_overall", "level": "neighborhood"}
    df = compare.view_data(data, st, lang).set_index("code")
    row = df.loc["12"]
    assert row["modeled"] and row["method"] == t("◇ Modeled", lang)
    assert row["estimate_text"].startswith("◇ ") and row["estimate_value"] == pytest.approx(MODELED_VALUE)
    # the fixture's comparisons call 12 significantly different: not for a modeled number
    c = data.comparisons
    assert c[(c["kind"] == "area_vs_rest") & (c["area"] == "12") & (c["wave"] == W) & c["significant"]
             & (c["indicator"] == "sat_police_overall") & (c["group_dim"] == "all")].shape[0] == 1
    assert pd.isna(row["difference"]) and pd.isna(row["p_adj"]) and row["difference_text"] == "–"
    assert row["significance"] == t("not tested (modeled number)", lang)
    assert (df.drop(index="12")["method"] == t("Direct", lang)).all()
    texts = " ".join(_texts(compare.content(data, st, lang)))
    assert t("◇ marks a modeled number (small-area estimate): where an area has too few answers for a reliable number of its own, a model combines its answers with its district, its previous wave and its population. It is shown with its 95% interval and is never tested for significant differences.", lang) in texts


def test_trends_draws_modeled_points_open_with_a_legend_entry(data):
    st = {"indicator": "sat_police_overall", "stat": "share", "areas": ["neighborhood:12", "neighborhood:1"]}
    fig = _figure(trends.content(data, st, "es"))
    twelve = next(tr for tr in fig.data if "12" in str(tr.name) or tr.name == data.area_name("neighborhood", "12"))
    # 2024 and 2026 modeled (direct suppressed), 2025 direct (ok)
    assert list(twelve.marker.symbol) == ["circle-open", "circle", "circle-open"]
    assert t("modeled (small-area estimate)", "es") in twelve.text[0] and t("modeled (small-area estimate)", "es") not in twelve.text[1]
    assert any(tr.name == t("◇ Modeled (small-area estimate)", "es") for tr in fig.data)
    one = next(tr for tr in fig.data if tr.name == data.area_name("neighborhood", "1"))
    assert not hasattr(one.marker, "symbol") or one.marker.symbol is None


def test_downloads_say_which_numbers_are_modeled(app):
    client = app.server.test_client()
    for lang, source, modeled in (("en", t("Source", "en"), t("◇ Modeled (small-area estimate)", "en")),
                                  ("es", t("Source", "es"), t("◇ Modeled (small-area estimate)", "es"))):
        st = {"wave": W, "indicator": "sat_police_overall", "level": "neighborhood"}
        view = map_page.view_data(app.results.get(), st, lang)
        assert source in view.columns
        assert (view[source] == modeled).sum() == 1
    # the results feed: the modeled rows too, each naming its method
    rows = pd.DataFrame(client.get(f"/feed/estimates.json?wave={W}&area_level=neighborhood&group_dim=all"
                                   "&indicator=sat_police_overall").get_json()["rows"])
    assert sorted(rows["method"].str.startswith("modeled").value_counts().tolist()) == [12, 12]
    direct = client.get(f"/feed/estimates.csv?wave={W}&method=modeled (Fay–Herriot)&area=12")
    csv = pd.read_csv(io.BytesIO(direct.data), encoding="utf-8-sig")
    assert set(csv["method"]) == {"modeled (Fay–Herriot)"} and len(csv) > 0
    sup = csv[csv["reliability"] == "suppress"]
    assert len(sup) == 1 and sup["estimate"].isna().all()  # safe_day: the model is too uncertain too


@pytest.mark.parametrize("lang", ["en", "es"])
def test_methodology_says_what_a_modeled_number_is(data, lang):
    texts = " ".join(_texts(methodology.content(data, {"wave": W}, lang)))
    assert t("Small areas. Where a neighborhood or beat has too few answers for a reliable direct estimate, the map, the comparison and the trends show a modeled number (◇, small-area estimate): a Fay–Herriot model combines the area's own answers with its district's estimate, its previous wave and its population make-up, and the areas are adjusted to add up to their district and the city. Its interval comes from the model's mean squared error; a modeled number whose error is over half of it is still suppressed, and modeled numbers never enter the significant changes or differences.", lang) in texts


def test_without_modeled_rows_nothing_is_marked(tmp_path):
    data = create_app(make_results_project(tmp_path)).results.get()
    st = {"wave": W, "indicator": "sat_police_overall", "level": "neighborhood"}
    fig = _figure(map_page.content(data, st, "en"))
    assert not [tr for tr in fig.data if tr.name == t("◇ Modeled (small-area estimate)", "en")]
    assert not compare.view_data(data, st, "en")["modeled"].any()
    texts = " ".join(_texts(methodology.content(data, {"wave": W}, "en")))
    assert t("Small areas. Where a neighborhood or beat has too few answers for a reliable direct estimate, the map, the comparison and the trends show a modeled number (◇, small-area estimate): a Fay–Herriot model combines the area's own answers with its district's estimate, its previous wave and its population make-up, and the areas are adjusted to add up to their district and the city. Its interval comes from the model's mean squared error; a modeled number whose error is over half of it is still suppressed, and modeled numbers never enter the significant changes or differences.", "en") not in texts
