"""The pages on results where an item has two statistics (a share row and a mean row, as the
analysis writes them): every view shows one statistic, the Overview's headline cards are shares
("59% satisfied") and the trust index is a score on its stated scale, Trends offers the mean."""

from __future__ import annotations

import pandas as pd
import pytest

from dash_app import create_app
from dash_app.figures.common import fmt_ci, fmt_diff, fmt_p, fmt_value
from dash_app.i18n import group_label, reason_text, wave_label
from dash_app.pages import compare, equity, overview, trends
from dash_app.pages import map as map_page
from dash_app.pages._common import headline_statistic, indicator_options, scale_range, statistics
from survey_pipeline.i18n import use_locales
from tests.fixtures_results import build_tables, make_results_project, write_store

MEAN_OF = {"sat_police_overall": (1, 5), "safe_night": (1, 4)}


def _with_means(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Add a ``mean`` row next to each share row of two items, in indicators and estimates (the
    mean rows first in estimates, so a page that takes the first row would show the mean)."""
    ind, est = tables["indicators"], tables["estimates"]
    extra_ind = []
    for name, (lo, hi) in MEAN_OF.items():
        row = ind[ind["indicator"] == name].iloc[0].copy()
        row["statistic"], row["definition"] = "mean", f"mean code on the {lo}-{hi} scale among valid answers"
        extra_ind.append(row)
    ind = pd.concat([ind, pd.DataFrame(extra_ind)], ignore_index=True)
    ind["definition"] = ind["definition"].where(ind["indicator"] != "index_trust",
                                                "mean of the 4 items (1-5; reverse-keyed items as 6 - code)")
    means = est[est["indicator"].isin(list(MEAN_OF))].copy()
    means["statistic"] = "mean"
    for c in ("estimate", "ci_low", "ci_high"):
        means[c] = 1 + means[c] * 3  # 1..4: far outside any share
    diag = tables["diagnostics"].copy()  # the trust index hangs together weakly in the last wave
    weak = (diag["kind"] == "scale_alpha") & (diag["wave"] == "2026-spring") & (diag["detail"] == "index_trust")
    diag.loc[weak, "value"] = 0.61
    return dict(tables, indicators=ind, estimates=pd.concat([means, est], ignore_index=True), diagnostics=diag)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = make_results_project(tmp_path_factory.mktemp("means"))
    write_store(root / "warehouse.duckdb", _with_means(build_tables()))
    return create_app(root)


@pytest.fixture(scope="module")
def data(app):
    return app.results.get()


def test_statistics_share_first_and_each_indicator_offered_once(data):
    assert statistics(data, "sat_police_overall") == ["share", "mean"]
    assert headline_statistic(data, "index_trust") == "score"
    values = [o["value"] for o in indicator_options(data, "en")]
    assert len(values) == len(set(values)) and "sat_police_overall" in values
    labels = {o["value"]: o["label"] for o in indicator_options(data, "en")}
    assert labels["safe_night"].startswith("Feeling safe · ")  # the topic tells "Noise" the problem from the priority


def test_overview_cards_are_shares_with_change_in_points_and_trust_on_its_scale(data):
    h = overview.view_data(data, {"wave": "2026-spring"}, "en").set_index("indicator")
    assert list(h.index) == ["sat_police_overall", "safe_night", "index_trust"]
    assert h.loc["sat_police_overall", "statistic"] == "share" and 0 < h.loc["sat_police_overall", "estimate"] < 1
    assert h.loc["safe_night", "statistic"] == "share"
    assert h.loc["index_trust", "statistic"] == "score" and h.loc["index_trust", "scale"] == "1-5"
    c = data.comparisons
    ch = c[(c["kind"] == "wave_change") & (c["indicator"] == "safe_night") & (c["area_level"] == "city")
           & (c["wave"] == "2026-spring")].iloc[0]
    assert h.loc["safe_night", "change"] == pytest.approx(ch["estimate"])
    assert h.loc["safe_night", "p_adj"] == pytest.approx(ch["p_adj"])
    text = str(overview.content(data, {"wave": "2026-spring"}, "en"))
    assert "satisfied" in text and "feel safe" in text and "on a 1–5 scale" in text and "since Spring 2025" in text
    es = str(overview.content(data, {"wave": "2026-spring"}, "es"))
    assert "satisfechos" in es and "en una escala de 1 a 5" in es and "Primavera 2025" in es
    assert "Cronbach's alpha 0.61" in text and "alfa de Cronbach 0.61" in es  # a weak index says so (es_US)
    assert "below 0.70" in text and "menor que 0.70" in es  # the threshold written the reader's way too
    with use_locales({"es": "es_ES"}):  # Spain's decimal comma, when a project picks es_ES
        es_es = str(overview.content(data, {"wave": "2026-spring"}, "es"))
    assert "alfa de Cronbach 0,61" in es_es and "menor que 0,70" in es_es
    assert "Cronbach" not in str(overview.content(data, {"wave": "2025-spring"}, "en"))  # 0.865 that wave
    trust = f"{h.loc['index_trust', 'estimate']:.2f}"
    assert trust in text and trust in es and trust.replace(".", ",") in es_es  # es_US 3.37, es_ES 3,37


def test_views_show_one_statistic(data):
    st = map_page.state(data, {"indicator": "sat_police_overall"})
    m = map_page.view_data(data, st, "en")
    assert m["Area"].is_unique and m["Estimate"].dropna().between(0, 1).all()
    cmp_ = compare.view_data(data, compare.state(data, {"indicator": "safe_night"}), "en")
    assert cmp_["code"].is_unique and cmp_["estimate_value"].dropna().between(0, 1).all()
    eq = equity.view_data(data, equity.state(data, {"indicator": "sat_police_overall", "group": "sex"}), "en")
    assert eq["Group"].is_unique and eq["Estimate"].dropna().between(0, 1).all()


def test_trends_offers_the_mean_of_an_item_and_only_the_score_of_an_index(data):
    st = trends.state(data, {"indicator": "sat_police_overall", "stat": "mean", "areas": "district:east"})
    assert st["stat"] == "mean"
    d = trends.view_data(data, st, "en")
    assert len(d) == 6 and d["Estimate"].dropna().between(1, 4).all()  # city and East, three waves, means only
    assert trends.state(data, {"indicator": "index_trust", "stat": "mean"})["stat"] == "score"
    assert trends.axis_label(data, "sat_police_overall", "mean", "en") == "Average answer (on a 1–5 scale)"


def test_words_a_reader_sees():
    assert wave_label("2026-spring", "en") == "Spring 2026" and wave_label("2026-spring", "es") == "Primavera 2026"
    assert wave_label("2025q3", "en") == "2025 Q3" and wave_label("w7", "en") == "w7"
    assert group_label("age_18_24", "en") == "18–24" and group_label("age_65_plus", "es") == "65+"
    assert group_label("aian", "en") == "American Indian or Alaska Native"
    assert reason_text("CI width 0.05-0.30 and relative CI width > 130%; CI width >= 0.30", "en") == \
        "too uncertain (confidence interval too wide)"
    assert reason_text("fewer than 30 valid answers", "es") == "menos de 30 respuestas"
    assert reason_text(None, "en") == "" and reason_text("something new", "en") == "something new"
    assert scale_range("mean of the 6 items (1-5; reverse-keyed items as 6 - code)") == (1, 5)
    assert fmt_diff(-0.008, "share") == "−1 pt" and fmt_diff(0.12, "share", "puntos") == "+12 puntos"
    assert fmt_diff(0.0004, "share") == "0 pts" and fmt_diff(-0.25, "score") == "−0.25"
    # US Spanish writes numbers as US English does (CLDR es_US); Spain's decimal comma only when chosen
    assert fmt_value(0.583, "share", "es") == "58%" and fmt_ci(0.0306, 0.0317, "mean", lang="es") == "0.03–0.03"
    assert fmt_diff(-0.254, "score", lang="es") == "−0.25" and fmt_p(0.985, "es") == "0.985"
    assert fmt_p(0.0001, "es") == "<0.001"
    with use_locales({"es": "es_ES"}):
        assert fmt_diff(-0.254, "score", lang="es") == "−0,25" and fmt_p(0.985, "es") == "0,985"
        assert fmt_p(0.0001, "es") == "<0,001" and fmt_value(0.583, "share", "es") == "58\u00a0%"
        assert fmt_diff(-0.254, "score", lang="en") == "−0.25"


def test_trends_statistic_choices_follow_the_indicator(app):
    key = next(k for k in app.callback_map if '"name":"stat"' in k and k.endswith(".value.."))
    follow = app.callback_map[key]["callback"].__wrapped__
    assert follow("index_trust", "mean", "en") == ([{"label": "Index score", "value": "score"}], "score")
    opts, value = follow("sat_police_overall", "mean", "es")
    assert [o["value"] for o in opts] == ["share", "mean"] and value == "mean"  # a valid choice is kept


def test_overview_findings_are_for_all_residents(tmp_path):
    """A group's finding (an equity gap) is the Equity page's; the Overview lists all-resident ones."""
    tables = build_tables()
    comp = tables["comparisons"]
    latest = sorted(comp["wave"].unique())[-1]
    row = comp[(comp["wave"] == latest) & (comp["group_dim"] == "all")].iloc[0].copy()
    row["group_dim"], row["group"], row["kind"], row["reliability"] = "tenure", "rent", "group_vs_rest", "ok"
    row["estimate"], row["finding"] = 0.9, "Renters: a huge gap"  # larger than any all-resident finding
    tables["comparisons"] = pd.concat([comp, pd.DataFrame([row])], ignore_index=True)
    root = make_results_project(tmp_path)
    write_store(root / "warehouse.duckdb", tables)
    d = create_app(root).results.get()
    shown = overview._findings(d, latest)
    assert "Renters: a huge gap" not in shown["finding"].tolist()
    assert (shown["group_dim"] == "all").all()


def test_overview_findings_in_spanish_are_the_writers_sentences(data):
    """The Overview's Spanish findings come from the analysis' sentence writer (the report's too):
    Spanish grammar and waves, decimal comma, never the stored English sentence."""
    from survey_pipeline.results.sentences import finding_sentence

    latest = data.waves[-1]
    shown = overview._findings(data, latest)
    assert len(shown) >= 1
    for _, r in shown.iterrows():
        es = overview.finding_text(data, r, "es")
        assert es == finding_sentence(r, overview.sentence_words(data, "es")) and es != r["finding"]
        assert "IC 95%" in es and " since " not in es and " than " not in es
        assert overview.finding_text(data, r, "en") == r["finding"]
    score = {"kind": "wave_change", "wave": latest, "wave_ref": data.waves[-2], "area_level": "city", "area": "city",
             "group_dim": "tenure", "group": "rent", "indicator": "index_trust", "statistic": "score",
             "estimate": -0.25, "ci_low": -0.4, "ci_high": -0.1, "finding": "stored English"}
    assert overview.finding_text(data, score, "es").endswith(
        "entre los inquilinos en la ciudad bajó 0.25 (IC 95% 0.10 a 0.40) desde Primavera 2025")
    with use_locales({"es": "es_ES"}):
        assert overview.finding_text(data, score, "es").endswith("bajó 0,25 (IC 95% 0,10 a 0,40) desde Primavera 2025")


def test_compare_number_filters_read_the_pages_numbers():
    """The adjusted p and n columns filter as numbers; where the locale writes a decimal comma
    (es_ES) the filter box takes "0,05"; US Spanish writes "0.05" and keeps the grid's number box."""
    with use_locales({"es": "es_ES"}):
        cols = {c["field"]: c for c in compare._columns("es")}
    assert cols["p_adj"]["filter"] == "agNumberColumnFilter" and cols["n"]["filter"] == "agNumberColumnFilter"
    fp = cols["p_adj"]["filterParams"]
    assert "," in fp["allowedCharPattern"] and "replace(',', '.')" in fp["numberParser"]["function"]
    assert compare.number_filter("en") == {} and compare.number_filter("es") == {}  # en_US, es_US: 0.05
    assert compare.grid_text("es")["lessThan"] == "Menor que" and compare.grid_text("en") == {}


def test_downloads_have_the_pages_language_headers(app):
    """English downloads keep the column codes (scripts read them); Spanish ones have Spanish
    headers, one per column, and no code or English header left."""
    from dash_app.i18n import download_headers
    from dash_app.pages import PAGES

    data = app.results.get()
    english = {"wave", "ci_low", "p_adj", "estimate", "area", "reliability", "Estimate", "Why", "Wave", "Area"}
    for mod in PAGES:
        st = mod.state(data, {})
        en = list(mod.view_data(data, st, "en").columns)
        assert download_headers(en, "en") == en, mod.PAGE
        es = download_headers(list(mod.view_data(data, st, "es").columns), "es")
        assert len(set(es)) == len(es) and not set(es) & english, (mod.PAGE, es)
        assert not any(" low" in h or " high" in h or "95% CI" in h for h in es), (mod.PAGE, es)
    cols = download_headers(list(compare.view_data(data, compare.state(data, {}), "es").columns), "es")
    assert cols[:3] == ["Zona", "Código de la zona", "Estimación"] and "p ajustado" in cols


def test_methodology_funnel_connects_aapor_completes_to_the_responses_analysed(tmp_path):
    from dash_app.pages import methodology

    tables = build_tables()
    rows = [("start_aapor_completes", 1358), ("excluded_speeder", 30), ("excluded_attention_failed", 45),
            ("excluded_new_rule", 2), ("added_partials", 20), ("added_other", 0), ("analysed", 1301)]
    funnel = pd.DataFrame([{"wave": "2026-spring", "area_level": "city", "area": "city", "kind": "sample_funnel",
                            "metric": m, "value": float(v), "detail": None} for m, v in rows])
    tables["diagnostics"] = pd.concat([tables["diagnostics"], funnel], ignore_index=True)
    root = make_results_project(tmp_path)
    write_store(root / "warehouse.duckdb", tables)
    data = create_app(root).results.get()
    en = methodology._funnel_table(data, "2026-spring", "en")
    assert en["Step"].tolist() == ["Complete interviews counted for the response rate (AAPOR)",
                                   "− excluded: failed the attention check", "− excluded: answered too fast",
                                   "− excluded: new_rule", "+ partial interviews analysed", "= responses analysed"]
    assert en["Responses"].tolist() == ["1,358", "45", "30", "2", "20", "1,301"]
    es = methodology._funnel_table(data, "2026-spring", "es")
    assert es.iloc[0, 0] == "Entrevistas completas contadas en la tasa de respuesta (AAPOR)"
    assert es.iloc[-1, 0] == "= respuestas analizadas"
    page_es = str(methodology.content(data, {"wave": "2026-spring"}, "es"))
    assert "'1,358'" in page_es and "'1,301'" in page_es  # US Spanish groups thousands as US English does
    with use_locales({"es": "es_ES"}):
        page_es = str(methodology.content(data, {"wave": "2026-spring"}, "es"))
    assert "'1.358'" in page_es and "'1.301'" in page_es and "'1,358'" not in page_es  # Spain's way
    assert methodology._funnel_table(data, "2025-spring", "en").empty  # no funnel rows: no table
    page = str(methodology.content(data, {"wave": "2026-spring"}, "en"))
    assert "From the response rate's completes to the responses analysed" in page and "1,358" in page


def _texts(component) -> list:
    """Every string and figure in a component tree."""
    out = []
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        for c in component:
            out += _texts(c)
        return out
    fig = getattr(component, "figure", None)
    if fig is not None:
        out.append(fig)
    children = getattr(component, "children", None)
    return out + (_texts(children) if children is not None else [])


@pytest.mark.parametrize(("lang", "caveat"), [("en", "associations, not causes"), ("es", "asociaciones, no causas")])
def test_importance_page_shows_the_driver_chart_with_its_caveats(data, lang, caveat):
    from dash_app.pages import importance

    st = importance.state(data, {})
    parts = _texts(importance.content(data, st, lang))
    assert any(isinstance(x, str) and caveat in x and "n" in x for x in parts)
    figs = [x for x in parts if not isinstance(x, str)]
    drv = [f for f in figs if any(getattr(tr, "yaxis", None) == "y2" for tr in f.data)]
    assert len(drv) == 1
    trust = next(tr for tr in drv[0].data if tr.yaxis == "y2")
    assert ("IC 95%" in trust.hovertemplate) == (lang == "es") and ("95% CI" in trust.hovertemplate) == (lang == "en")
    assert trust.text[int(max(range(len(trust.y)), key=lambda i: trust.y[i]))] in ("Police response", "Respuesta policial")
    # the east district is too thin for a model: the chart says so and why, in the reader's language
    east = importance.state(data, {"area": "district:east"})
    assert east["area"] == "district:east"
    figs = [x for x in _texts(importance.content(data, east, lang)) if not isinstance(x, str)]
    none_text = "No driver model" if lang == "en" else "No hay modelo"
    why = "only 60 residents answered" if lang == "en" else "solo 60 residentes respondieron"
    assert any(a.text.startswith(none_text) and why in a.text for f in figs for a in f.layout.annotations)


def test_comments_page_without_comment_tables(data):
    # results written before comments were coded: the comment tables are absent or have no columns
    import dataclasses

    import plotly.utils

    from dash_app.pages import comments
    from dash_app.pages._common import page_layout

    bare = dataclasses.replace(data, tables={**{k: v for k, v in data.tables.items() if not k.startswith("comment_")},
                                             "comment_themes": pd.DataFrame()},
                               _memo={})
    st = comments.state(bare, {})
    assert st["theme"] == "all" and comments.view_data(bare, st, "en").empty
    assert comments.feed_rows(bare, st).empty
    import json
    json.dumps(page_layout(comments, bare, {}, "es"), cls=plotly.utils.PlotlyJSONEncoder)
