"""The report from the dashboard's results fixture: the workbook's sheets, numbers, formats and
suppression, formula neutralising, and the self-contained HTML page."""

from __future__ import annotations

import json
import re
import shutil
from html import escape

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from survey_pipeline.errors import ProjectError, StoreError
from survey_pipeline.report import ReportError, build_report, write_report
from survey_pipeline.report.html import format_value, render_html
from survey_pipeline.report.xlsx import SUPPRESSED_FILL
from survey_pipeline.safe import FORMULA_START
from tests.fixtures_results import NAMES, make_results_project

WAVE = "2026-spring"
SHEETS = ["Summary", "Priorities", "Problems", "Satisfaction", "Safety", "Trust and scales",
          "Importance-satisfaction", "Comments", "Area comparisons", "Methodology"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_results_project(tmp_path_factory.mktemp("report") / "p")


@pytest.fixture(scope="module")
def workbook(project, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "report.xlsx"
    write_report(project, out)
    return load_workbook(out)


@pytest.fixture(scope="module")
def page(project) -> str:
    return render_html(build_report(project))


def store(project, sql: str, *params) -> pd.DataFrame:
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


def sheet_rows(ws) -> pd.DataFrame:
    """A topic sheet (header in row 1) as a frame of cells, until the first empty row."""
    header = [c.value for c in ws[1]]
    rows = []
    for row in ws.iter_rows(min_row=2):
        if all(c.value is None for c in row):
            break
        rows.append(row)
    return pd.DataFrame([list(r) for r in rows], columns=header)


def test_workbook_has_a_sheet_per_topic(workbook):
    assert workbook.sheetnames == SHEETS


def test_topic_numbers_are_the_stores_estimates_as_formatted_numbers(project, workbook):
    cells = sheet_rows(workbook["Satisfaction"])
    est = store(project, "SELECT area_level, area, estimate, ci_low, ci_high, n FROM estimates WHERE wave = ? "
                "AND indicator = 'sat_police_overall' AND statistic = 'share' AND group_dim = 'all' AND method NOT LIKE 'modeled%'", WAVE)
    checked = 0
    for level, area, name in (("city", "city", "City"), ("district", "north", "North"),
                              ("neighborhood", "9", NAMES["9"]), ("neighborhood", "3", NAMES["3"])):
        want = est[(est["area_level"] == level) & (est["area"] == area)].iloc[0]
        row = cells[cells["Area"].map(lambda c: c.value) == name].iloc[0]
        for col, key in (("Estimate", "estimate"), ("CI low", "ci_low"), ("CI high", "ci_high")):
            cell = row[col]
            assert isinstance(cell.value, float) and cell.value == pytest.approx(want[key], abs=1e-12)
            assert cell.number_format == "0.0%"
        assert row["n (answers)"].value == want["n"] and row["n (answers)"].number_format == "#,##0"
        checked += 1
    assert checked == 4
    trust = sheet_rows(workbook["Trust and scales"])
    city = trust[trust["Area"].map(lambda c: c.value) == "City"].iloc[0]
    want = store(project, "SELECT estimate FROM estimates WHERE wave = ? AND indicator = 'index_trust' AND "
                 "area = 'city' AND group_dim = 'all' AND method NOT LIKE 'modeled%'", WAVE)["estimate"].iloc[0]
    assert city["Estimate"].value == pytest.approx(want) and city["Estimate"].number_format == "0.00"


def test_suppressed_rows_are_grey_marked_and_carry_no_number(project, workbook):
    cells = sheet_rows(workbook["Satisfaction"])
    sup = store(project, "SELECT area FROM estimates WHERE wave = ? AND indicator = 'sat_police_overall' AND "
                "statistic = 'share' AND group_dim = 'all' AND reliability = 'suppress' AND method NOT LIKE 'modeled%'", WAVE)
    assert list(sup["area"]) == ["12"]  # the fixture's thin neighborhood
    marked = cells[cells["Reliability"].map(lambda c: c.value) == "suppressed"]
    assert [r["Area"].value for _, r in marked.iterrows()] == [NAMES["12"]]
    row = marked.iloc[0]
    for col in ("Estimate", "CI low", "CI high", "Change since 2025-spring", "Difference vs rest of city"):
        assert row[col].value is None, col
    assert row["Estimate"].fill.fgColor.rgb.endswith(SUPPRESSED_FILL)
    assert "fewer than 30" in row["Note"].value
    shown = cells[cells["Reliability"].map(lambda c: c.value) != "suppressed"]
    assert all(isinstance(r["Estimate"].value, float) for _, r in shown.iterrows())
    legend = [c.value for c in workbook["Summary"]["A"] if isinstance(c.value, str)]
    assert any(v.startswith("Suppressed (grey rows") for v in legend)


def test_sheets_have_frozen_headers_filters_and_widths(workbook):
    for name in ("Priorities", "Satisfaction", "Area comparisons"):
        ws = workbook[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws.column_dimensions["A"].width > 12, name


def test_summary_headline_with_change_and_top_priority(project, workbook):
    ws = workbook["Summary"]
    text = [[c.value for c in row] for row in ws.iter_rows()]
    flat = [v for r in text for v in r if v is not None]
    assert "Fixture City" in flat and WAVE in flat
    start = next(i for i, r in enumerate(text) if r[0] == "Indicator")
    head = list(text[start + 1:start + 4])
    assert [r[0] for r in head] == ["Satisfied with police", "Feels safe at night", "Trust in police (index)"]
    chg = store(project, "SELECT indicator, estimate FROM comparisons WHERE kind = 'wave_change' AND wave = ? "
                "AND area = 'city' AND indicator IN ('sat_police_overall', 'safe_night')", WAVE)
    sat = store(project, "SELECT estimate FROM estimates WHERE wave = ? AND indicator = 'sat_police_overall' "
                "AND area = 'city' AND group_dim = 'all' AND method NOT LIKE 'modeled%'", WAVE)["estimate"].iloc[0]
    assert head[0][1] == pytest.approx(sat)
    assert head[0][5] == pytest.approx(chg.set_index("indicator").loc["sat_police_overall", "estimate"])
    assert head[0][9] in ("yes", "no")
    top = store(project, "SELECT label_en FROM priorities WHERE wave = ? AND area = 'city' ORDER BY rank LIMIT 1", WAVE)
    assert top["label_en"].iloc[0] in flat
    findings = store(project, "SELECT finding FROM comparisons WHERE wave = ? AND finding IS NOT NULL", WAVE)["finding"]
    assert len(findings) and all(f in flat for f in findings)


def test_methodology_has_samples_weighting_rules_and_wording(project, workbook):
    flat = [c.value for row in workbook["Methodology"].iter_rows() for c in row if c.value is not None]
    for title in ("Completed interviews per wave and area", "Weighting diagnostics by wave, citywide",
                  "Response rates (AAPOR)", "Reliability rules", "Indicators and question wording"):
        assert title in flat
    assert "Overall, how satisfied are you with the police in your neighborhood?" in flat
    assert "suppress an estimate with fewer than 30 valid answers" in flat


def test_formula_like_text_is_neutralised(project, tmp_path):
    p = tmp_path / "evil"
    shutil.copytree(project, p)
    con = duckdb.connect(str(p / "warehouse.duckdb"))
    con.execute("""UPDATE indicators SET label_en = '=HYPERLINK("http://evil.example","x")' WHERE indicator = 'safe_day'""")
    con.execute("UPDATE comparisons SET finding = '+1+2 cells' WHERE kind = 'wave_change' AND wave = ? "
                "AND area = 'city' AND indicator = 'safe_day'", [WAVE])
    con.execute("UPDATE comparisons SET reliability = 'ok', significant = true, estimate = 0.9 WHERE kind = "
                "'wave_change' AND wave = ? AND area = 'city' AND indicator = 'safe_day'", [WAVE])
    con.close()
    gj = json.loads((p / "areas.geojson").read_text(encoding="utf-8"))
    gj["features"][0]["properties"]["name"] = "@SUM(A1)"
    (p / "areas.geojson").write_text(json.dumps(gj), encoding="utf-8")
    write_report(p, tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    texts.append(c.value)
    assert not [v for v in texts if v.startswith(FORMULA_START)]
    assert """'=HYPERLINK("http://evil.example","x")""" in texts
    assert "'@SUM(A1)" in texts
    assert "'+1+2 cells" in texts
    html = render_html(build_report(p))
    assert "=HYPERLINK(&quot;http://evil.example&quot;" in html  # shown as escaped text, never a link
    assert not re.search(r"""(?:href|src)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)


def test_html_is_self_contained_and_accessible(page):
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert not re.search(r"""(?:href|src)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    tables = re.findall(r"<table>(.*?)</table>", page, re.S)
    assert len(tables) > 20
    assert all(t.startswith("<caption>") for t in tables)
    assert all('<th scope="col">' in t for t in tables)
    assert '<th scope="row">' in page
    assert "@media print" in page


def test_html_shows_the_headline_numbers(project, page):
    est = store(project, "SELECT indicator, estimate, ci_low, ci_high FROM estimates WHERE wave = ? AND area = 'city' "
                "AND group_dim = 'all' AND method NOT LIKE 'modeled%' AND indicator IN ('sat_police_overall', 'safe_night', 'index_trust')", WAVE)
    summary = page[page.index('<section id="summary"'):page.index("</section>")]
    for r in est.itertuples():
        kind = "num" if r.indicator == "index_trust" else "pct"
        value = format_value(r.estimate, kind)
        assert f">{value}<" in summary or f">{value}<svg" in summary, r
        # the page shows an interval as one "95% CI" cell; the workbook keeps its limits apart
        assert f">{format_value(r.ci_low, kind)} to {format_value(r.ci_high, kind)}<" in summary, r
    assert 'class="suppressed"' in page and "suppressed" in page


def test_spanish_report(project):
    rep = build_report(project, language="es")
    html = render_html(rep)
    assert '<html lang="es">' in html and "Satisfecho con la policía" in html and "Resumen" in html
    sat = store(project, "SELECT estimate FROM estimates WHERE wave = ? AND indicator = 'sat_police_overall' "
                "AND area = 'city' AND group_dim = 'all' AND method NOT LIKE 'modeled%'", WAVE)["estimate"].iloc[0]
    assert format_value(sat, "pct", lang="es") in html and "." in format_value(sat, "pct", lang="es")  # es_US
    assert format_value(sat, "pct", lang="es") == format_value(sat, "pct", lang="en")



def test_vietnamese_report(project):
    """The third language end to end: the report's words, the findings written in Vietnamese from the
    comparison rows, and numbers by vi_VN (decimal comma, "69,3%")."""
    rep = build_report(project, language="vi")
    html = render_html(rep)
    assert '<html lang="vi">' in html and "Tóm tắt" in html and "Báo cáo khảo sát cộng đồng" in html
    assert "Cách đọc báo cáo này" in html and "Được tạo bởi survey-pipeline" in html
    sat = store(project, "SELECT estimate FROM estimates WHERE wave = ? AND indicator = 'sat_police_overall' "
                "AND area = 'city' AND group_dim = 'all' AND method NOT LIKE 'modeled%'", WAVE)["estimate"].iloc[0]
    assert format_value(sat, "pct", lang="vi") in html and "," in format_value(sat, "pct", lang="vi")
    findings = rep.section("summary").bullets
    assert rep.section("summary").bullets_title == "Những phát hiện đáng tin cậy lớn nhất"
    assert findings and all(" kể từ " in f or " so với " in f for f in findings), findings  # vi sentence patterns
    assert not any(w in f for f in findings for w in (" since ", " than ", " desde ", "points"))  # no en/es words

def test_an_earlier_wave_compares_with_its_own_previous_wave(project):
    rep = build_report(project, wave="2025-spring")
    assert rep.wave_ref == "2024-spring"
    titles = [c.title for c in rep.section("satisfaction").tables[0].columns]
    assert "Change since 2024-spring" in titles
    first = build_report(project, wave="2024-spring")
    assert first.wave_ref is None
    assert not any(c.key == "chg" for c in first.section("satisfaction").tables[0].columns)


def test_clear_errors(project, tmp_path):
    with pytest.raises(ReportError, match=r"unknown report format '\.docx'") as exc:
        write_report(project, tmp_path / "r.docx")
    assert ".xlsx" in exc.value.fix and ".html" in exc.value.fix and ".pdf" in exc.value.fix
    with pytest.raises(ProjectError, match="no estimates for wave '1999'") as exc:
        write_report(project, tmp_path / "r.html", wave="1999")
    assert "2026-spring" in exc.value.fix
    with pytest.raises(ProjectError, match="unknown report language"):
        build_report(project, language="fr")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match="no store"):
        write_report(tmp_path / "empty", tmp_path / "r.html")
    with pytest.raises(ReportError, match="does not exist"):
        write_report(project, tmp_path / "missing" / "r.html")
    assert not list(tmp_path.glob("*.html")) and not list(tmp_path.glob(".r.*"))  # nothing half-written


def test_a_store_with_only_indicators_and_estimates(project, tmp_path):
    p = tmp_path / "bare"
    p.mkdir()
    con = duckdb.connect(str(p / "warehouse.duckdb"))
    con.execute(f"ATTACH '{project / 'warehouse.duckdb'}' AS src (READ_ONLY)")
    con.execute("CREATE TABLE indicators AS SELECT * FROM src.indicators")
    con.execute("CREATE TABLE estimates AS SELECT * FROM src.estimates")
    con.close()
    rep = write_report(p, tmp_path / "bare.xlsx")
    assert [s.key for s in rep.sections] == ["summary", "problem_topic", "satisfaction", "safety", "trust",
                                             "comparisons", "methodology"]
    assert rep.section("summary").bullets == ["No reliable difference large enough to report in this wave."]
    wb = load_workbook(tmp_path / "bare.xlsx")
    cells = sheet_rows(wb["Satisfaction"])
    assert "Change since 2025-spring" in cells.columns  # the column is there, empty: no comparisons stored
    assert all(c.value is None for c in cells["Change since 2025-spring"])
    assert "<table>" in render_html(build_report(p))


def test_results_tables_of_another_shape_are_a_clear_error(project, tmp_path):
    p = tmp_path / "old"
    shutil.copytree(project, p)
    con = duckdb.connect(str(p / "warehouse.duckdb"))
    con.execute("ALTER TABLE comparisons DROP COLUMN finding")
    con.close()
    with pytest.raises(StoreError, match="results tables cannot be read") as exc:
        build_report(p)
    assert "survey-pipeline run --project" in exc.value.fix


def test_spanish_report_writes_its_findings_in_spanish(project):
    """The Summary's findings are written in the report's language from the comparison rows: no
    English sentence of the results is left, in any wave."""
    stored = store(project, "SELECT wave, finding FROM comparisons WHERE finding IS NOT NULL AND group_dim = 'all' "
                   "AND reliability <> 'suppress'")
    assert len(stored) >= 3 and stored["wave"].nunique() >= 2
    for wave in stored["wave"].unique():
        en, es = build_report(project, wave=wave), build_report(project, wave=wave, language="es")
        assert set(en.section("summary").bullets) <= set(stored["finding"])
        bullets = es.section("summary").bullets
        assert len(bullets) == len(en.section("summary").bullets) >= 1
        assert not set(bullets) & set(stored["finding"])
        for b in bullets:
            assert "IC 95%" in b and not any(w in b for w in (" since ", " rose ", " fell ", " than ", "95% CI")), b
            assert any(w in b for w in (" subió ", " bajó ", " mayor que ", " menor que ")), b
        html = render_html(es)
        assert all(escape(b) in html for b in bullets)
        assert "Primavera" in html and "Spring 2" not in html  # waves read in Spanish too


def test_districts_are_named_by_the_areas_files_district_label(tmp_path):
    """With a district_label (and district_label_es) in the areas file, the report's tables and its
    findings name the district by it; without one, by its code (the other tests)."""
    root = make_results_project(tmp_path / "named")
    gj = json.loads((root / "areas.geojson").read_text(encoding="utf-8"))
    for f in gj["features"]:
        if f["properties"]["district"] == "north":
            f["properties"].update(district_label="Northside", district_label_es="Zona Norte")
    (root / "areas.geojson").write_text(json.dumps(gj), encoding="utf-8")
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:  # make the north district's largest change a finding
        con.execute("UPDATE comparisons SET finding = 'stored', significant = true, reliability = 'ok', "
                    "estimate = -0.5, ci_low = -0.6, ci_high = -0.4 WHERE kind = 'wave_change' AND area = 'north' "
                    "AND wave = ? AND indicator = 'sat_police_overall' AND group_dim = 'all'", [WAVE])
    finally:
        con.close()
    for lang, name, sentence in (("en", "Northside", None), ("es", "Zona Norte", " en el distrito Zona Norte bajó 50 "
                                                                              "puntos (IC 95% 40 a 60)")):
        rep = build_report(root, language=lang)
        areas = rep.section("satisfaction").tables[0].frame
        assert name in set(areas.loc[areas["area_level"] == "district", "area_text"]), lang
        if sentence:
            assert any(sentence in b for b in rep.section("summary").bullets), rep.section("summary").bullets


def test_methodology_funnel_from_aapor_completes_to_the_responses_analysed(tmp_path):
    from tests.fixtures_results import build_tables, write_store

    tables = build_tables()
    rows = [("start_aapor_completes", 1358), ("excluded_speeder", 30), ("excluded_attention_failed", 45),
            ("added_partials", 18), ("added_other", 0), ("analysed", 1301)]
    tables["diagnostics"] = pd.concat([tables["diagnostics"], pd.DataFrame([
        {"wave": WAVE, "area_level": "city", "area": "city", "kind": "sample_funnel", "metric": m, "value": float(v),
         "detail": None} for m, v in rows])], ignore_index=True)
    root = make_results_project(tmp_path / "f")
    write_store(root / "warehouse.duckdb", tables)
    en = next(tb for tb in build_report(root).section("methodology").tables if tb.key == "funnel")
    assert en.frame["step"].tolist() == ["Complete interviews counted for the response rate (AAPOR)",
                                         "− excluded: failed the attention check", "− excluded: answered too fast",
                                         "+ partial interviews analysed", "= responses analysed"]
    assert en.frame["count"].tolist() == [1358, 45, 30, 18, 1301]
    page = render_html(build_report(root, language="es"))
    assert "= respuestas analizadas</th><td class=\"num\">1,301<" in page  # es_US groups as en_US
    earlier = build_report(root, wave="2025-spring").section("methodology").tables
    assert not any(tb.key == "funnel" for tb in earlier)  # no funnel rows for that wave: no table


@pytest.mark.parametrize(("lang", "caveat"), [("en", "not causes"), ("es", "no causas")])
def test_importance_section_has_the_key_drivers_table(project, lang, caveat):
    rep = build_report(project, language=lang)
    tables = {t.key: t for t in rep.section("importance").tables}
    d = tables["drivers"]
    assert caveat in d.note and "svyglm" in d.note
    f = d.frame
    city = f[(f["area_level"] == "city") & (f["outcome"] == "trust_overall")]
    assert len(city) == 4 and (f["wave"] == WAVE).all()
    first = city.iloc[0]  # by rank: the planted driver of trust first
    assert first["driver"] == "sat_police_response" and first["rank"] == 1
    assert first["coefficient"] > first["ci_low"] > 0
    east = f[f["area"] == "east"]
    assert len(east) == 8 and east["_suppressed"].all() and east["coefficient"].isna().all()
    assert east["note"].str.contains("complete cases").all()


def test_workbook_shows_the_drivers(workbook):
    ws = workbook["Importance-satisfaction"]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "Key drivers of overall satisfaction and trust" in text and "Police response" in text


@pytest.mark.parametrize("lang", ["en", "es", "vi"])
def test_area_tables_mark_modeled_numbers_and_never_test_them(tmp_path, lang):
    """A neighborhood whose direct number is suppressed shows the modeled one, marked ◇ with the
    footnote; its change and its difference from the rest stay empty even though a (leaked)
    significant comparison exists; a modeled number that is itself suppressed stays suppressed."""
    from survey_pipeline.i18n import t
    from tests.fixtures_results import MODELED_VALUE, build_tables, with_modeled, write_store

    root = make_results_project(tmp_path / "p")
    write_store(root / "warehouse.duckdb", with_modeled(build_tables()))
    report = build_report(root, language=lang)
    sec = next(s for s in report.sections if s.key == "satisfaction")
    tb = sec.tables[0]
    df = tb.frame
    rows = df[(df["area_level"] == "neighborhood") & (df["indicator"] == "sat_police_overall")].set_index("area")
    twelve = rows.loc["12"]
    assert twelve["estimate"] == pytest.approx(MODELED_VALUE) and twelve["area_text"].endswith(" ◇")
    assert pd.isna(twelve["rest"]) and pd.isna(twelve["chg"]) and pd.isna(twelve["rest_sig"])
    assert twelve["note"].startswith("◇ " + t("modeled (small-area estimate)", lang))
    assert tb.note == t("◇ Modeled (small-area estimate): where a neighborhood or beat has too few answers for a reliable direct estimate, the number shown comes from a Fay–Herriot model that combines the area's answers with its district's estimate, its previous wave and its population; its interval is the model's. A modeled number is never tested for a change or a difference (those cells stay empty).", lang) and t("◇ Modeled (small-area estimate): where a neighborhood or beat has too few answers for a reliable direct estimate, the number shown comes from a Fay–Herriot model that combines the area's answers with its district's estimate, its previous wave and its population; its interval is the model's. A modeled number is never tested for a change or a difference (those cells stay empty).", lang) in report.sections[0].legend
    others = rows.drop(index="12")
    assert not others["area_text"].str.endswith("◇").any() and others["estimate"].notna().all()
    safety = next(s for s in report.sections if s.key == "safety").tables[0].frame
    day = safety[(safety["area"] == "12") & (safety["indicator"] == "safe_day")].iloc[0]
    assert bool(day["_suppressed"]) and pd.isna(day["estimate"]) and not day["area_text"].endswith("◇")
    html = render_html(report)
    assert escape(t("◇ Modeled (small-area estimate): where a neighborhood or beat has too few answers for a reliable direct estimate, the number shown comes from a Fay–Herriot model that combines the area's answers with its district's estimate, its previous wave and its population; its interval is the model's. A modeled number is never tested for a change or a difference (those cells stay empty).", lang)) in html


@pytest.mark.parametrize("lang", ["en", "es", "vi"])
def test_methodology_counts_the_numbers_shown_modeled_ones_marked(tmp_path, lang):
    """The methodology's reliability counts are those of the numbers shown: a suppressed direct
    number that a reliable modeled one replaces counts once, as the modeled row's ok and marked
    ◇ modeled; a direct number that is ok or flagged stays; a modeled number that is itself
    suppressed leaves the direct row's count as it was."""
    from survey_pipeline.i18n import t
    from tests.fixtures_results import build_tables, with_modeled, write_store

    root = make_results_project(tmp_path / "p")
    tables = with_modeled(build_tables())
    write_store(root / "warehouse.duckdb", tables)
    report = build_report(root, language=lang)
    meth = next(s for s in report.sections if s.key == "methodology")
    cnt = next(tb for tb in meth.tables if tb.key == "reliability_counts").frame
    est = tables["estimates"]
    wave = sorted(est["wave"].unique())[-1]  # the report's wave: the latest
    e = est[(est["wave"] == wave) & (est["group_dim"] == "all")]
    direct = e[~e["method"].str.startswith("modeled")]
    modeled = e[e["method"].str.startswith("modeled")]
    key = ["area_level", "area", "indicator", "statistic"]
    j = direct.merge(modeled, on=key, suffixes=("", "_m"))
    replaced = int(((j["reliability"] == "suppress") & (j["reliability_m"] == "ok")).sum())
    assert replaced > 0
    mark = "◇ " + t("modeled (small-area estimate)", lang)
    assert cnt["count"].sum() == len(direct)  # one per number shown (every modeled row has a direct one)
    got = cnt[cnt["reason"] == mark]
    assert len(got) == 1 and got["reliability"].iloc[0] == "ok" and got["count"].iloc[0] == replaced
    shown_ok = int((direct["reliability"] == "ok").sum()) + replaced
    assert cnt.loc[cnt["reliability"] == "ok", "count"].sum() == shown_ok
    assert cnt.loc[cnt["reliability"] == "suppress", "count"].sum() == int((direct["reliability"] == "suppress").sum()) - replaced
