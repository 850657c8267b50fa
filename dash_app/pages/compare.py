"""Compare: each area against the rest of the city for one indicator and wave, with the
multiple-comparison-adjusted significance; a sortable dash-ag-grid table with CSV export."""

from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from dash_app import ids
from dash_app.data import Results
from dash_app.i18n import LEVELS, reason_text, t, wave_label
from dash_app.pages._common import (
    fmt_change,
    fmt_row,
    headline_statistic,
    indicator_control,
    indicator_state,
    indicator_title,
    level_control,
    only_statistic,
    pick,
    shown_for,
    wave_control,
    wave_state,
)
from survey_pipeline.i18n import N_, number_separators
from survey_pipeline.results.sentences import benchmark_sentence
from survey_pipeline.results.tables import benchmark_rows

PAGE = "compare"
PATH = "/compare"
FILTERS = ["wave", "indicator", "level"]


def _levels(data: Results) -> list[str]:
    return [lv for lv in data.levels() if lv != "city"]


def state(data: Results, q: dict) -> dict:
    levels = _levels(data)
    return {"wave": wave_state(data, q), "indicator": indicator_state(data, q),
            "level": pick(q.get("level"), levels, "neighborhood" if "neighborhood" in levels else levels[0])}


def view_data(data: Results, st: dict, lang: str) -> pd.DataFrame:
    stat = headline_statistic(data, st["indicator"])
    e = shown_for(data, st["wave"], st["indicator"], stat)  # direct where reliable, else modeled
    e = e[e["group_dim"] == "all"]
    areas = e[e["area_level"] == st["level"]]
    city = e[e["area_level"] == "city"]
    c = only_statistic(data.part("comparisons", ("kind", "wave", "indicator"),
                                 ("area_vs_rest", st["wave"], st["indicator"])), stat)
    city_txt = fmt_row(city.iloc[0], stat, lang) if not city.empty else "–"
    cmp_ = c[(c["area_level"] == st["level"]) & (c["group_dim"] == "all")] if not c.empty else c
    by_area = {d["area"]: d for d in cmp_.to_dict("records")} if not cmp_.empty else {}
    rows = []
    for r in areas.to_dict("records"):
        sup = r["reliability"] == "suppress"
        modeled = bool(r["modeled"])
        # a modeled number is never tested against the rest of the city (the comparisons are
        # of direct estimates; a test on the model's own uncertainty is not done)
        d = None if modeled else by_area.get(r["area"])
        if modeled and not sup:
            mark, diff, padj, diff_val = t("not tested (modeled number)", lang), "–", None, None
        elif sup or d is None:
            mark, diff, padj, diff_val = "–", "–", None, None
        else:
            diff, padj, diff_val = fmt_change(d, stat, lang), float(d["p_adj"]), float(d["estimate"])
            mark = (t("▲ higher", lang) if d["estimate"] > 0 else t("▼ lower", lang)) if bool(d["significant"]) else t("– no clear difference", lang)
        rows.append({
            "area": data.area_name(st["level"], r["area"], lang), "code": r["area"],
            "estimate_value": None if sup else float(r["estimate"]),
            "ci_low": None if sup else float(r["ci_low"]), "ci_high": None if sup else float(r["ci_high"]),
            "estimate_text": t("suppressed", lang) if sup else fmt_row(r, stat, lang) + (" ⚠" if r["reliability"] == "flag" else ""),
            "city": city_txt,
            "difference": diff_val,
            "difference_text": diff, "p_adj": padj, "significance": mark, "n": int(r["n"]),
            "reliability": r["reliability"],
            "method": t("◇ Modeled", lang) if modeled else t("Direct", lang), "modeled": modeled,
            "reason": (t("use with caution", lang) + ": " if r["reliability"] == "flag" else "") + reason_text(r["reliability_reason"], lang),
            "adjust": None if d is None else d.get("adjust"),
        })
    return pd.DataFrame(rows)


# The grid's own words (filter menus); English is the grid's default.
GRID_TEXT = {
    "filterOoo": N_("Filter…"), "equals": N_("Equals"), "notEqual": N_("Does not equal"), "lessThan": N_("Less than"),
    "greaterThan": N_("Greater than"), "lessThanOrEqual": N_("Less than or equal to"),
    "greaterThanOrEqual": N_("Greater than or equal to"), "inRange": N_("Between"), "inRangeStart": N_("From"),
    "inRangeEnd": N_("To"), "contains": N_("Contains"), "notContains": N_("Does not contain"),
    "startsWith": N_("Begins with"), "endsWith": N_("Ends with"), "blank": N_("Blank"), "notBlank": N_("Not blank"),
    "andCondition": N_("AND"), "orCondition": N_("OR"), "empty": N_("Choose one"), "noRowsToShow": N_("No rows to show"),
    "applyFilter": N_("Apply"), "resetFilter": N_("Reset"), "clearFilter": N_("Clear"), "cancelFilter": N_("Cancel"),
    "ariaFilterInput": N_("Filter input"), "ariaFilteringOperator": N_("Filtering operator"),
}


def grid_text(lang: str) -> dict[str, str]:
    """The grid's words in ``lang`` (ag-grid's ``localeText``); none for English, the grid's own."""
    return {} if lang == "en" else {k: t(v, lang) for k, v in GRID_TEXT.items()}


def _decimal_comma(lang: str) -> bool:
    return number_separators(lang)[0] == ","


def number_filter(lang: str) -> dict:
    """A number column's filter that reads numbers as the page writes them: where the locale writes
    a decimal comma (es_ES, vi_VN) "0,05" ("0.05" is read too) and shows the typed value back with
    a comma. A browser's number box would drop the comma, so such a locale types into a text box
    limited to digits, sign and separators."""
    if not _decimal_comma(lang):
        return {}
    return {
        "allowedCharPattern": "\\d\\-\\,\\.",
        # dash-ag-grid evaluates these safely: no globals (String, Number) nor regex literals
        "numberParser": {"function": "params == null || ('' + params).trim() === '' ? null : "
                                     "+(('' + params).indexOf(',') >= 0 ? "
                                     "('' + params).split('.').join('').replace(',', '.') : ('' + params))"},
        "numberFormatter": {"function": "params == null ? null : ('' + params).replace('.', ',')"},
    }


def _columns(lang: str) -> list[dict]:
    """The grid's columns: fit in the page without scrolling sideways (the city's value is in the
    heading, reliability is the row's style and the 'Why' column; the download has every field)."""
    return [
        {"field": "area", "headerName": t("Area", lang), "pinned": "left", "minWidth": 115, "flex": 1},
        {"field": "estimate_text", "headerName": t("{label} (95% CI)", lang, label=t("Estimate", lang)), "minWidth": 165, "flex": 1},
        {"field": "estimate_value", "headerName": t("Estimate", lang), "hide": True},
        {"field": "city", "headerName": t("{label} (95% CI)", lang, label=t("City", lang)), "hide": True},
        {"field": "difference_text", "headerName": t("Difference vs rest of city", lang), "minWidth": 150, "flex": 1,
         "comparator": {"function": "(a, b, na, nb) => (na.data.difference ?? -1e9) - (nb.data.difference ?? -1e9)"}},
        {"field": "p_adj", "headerName": t("Adjusted p", lang), "minWidth": 95, "maxWidth": 120,
         "valueFormatter": {"function": "params.value == null ? '–' : (params.value < 0.0005 ? '<0.001' : "
                                           "params.value.toFixed(3))" + (".replace('.', ',')" if _decimal_comma(lang) else "")},
         "filter": "agNumberColumnFilter", "filterParams": number_filter(lang)},
        {"field": "significance", "headerName": t("Significance", lang), "minWidth": 150, "flex": 1},
        {"field": "n", "headerName": t("n (unweighted)", lang), "type": "numericColumn", "minWidth": 115, "maxWidth": 130,
         "filter": "agNumberColumnFilter", "filterParams": number_filter(lang)},
        {"field": "method", "headerName": t("Source", lang), "minWidth": 100, "maxWidth": 130,
         "headerTooltip": t("◇ Modeled (small-area estimate)", lang),
         "cellClass": {"function": "params.data && params.data.modeled ? 'cell-modeled' : ''"}},
        {"field": "reliability", "headerName": t("Reliability", lang), "hide": True},
        {"field": "modeled", "headerName": "modeled", "hide": True},
        {"field": "reason", "headerName": t("Why", lang), "minWidth": 160, "flex": 2, "tooltipField": "reason",
         "wrapText": True, "autoHeight": True},
    ]


def content(data: Results, st: dict, lang: str) -> list:
    df = view_data(data, st, lang)
    label = indicator_title(data, st["indicator"], lang)
    grid = dag.AgGrid(
        id=ids.grid_id(PAGE), rowData=df.to_dict("records"), columnDefs=_columns(lang),
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "wrapHeaderText": True,
                       "autoHeaderHeight": True},
        dashGridOptions={"domLayout": "autoHeight", "ensureDomOrder": True, "enableCellTextSelection": True,
                         "rowClassRules": {"row-suppressed": "params.data.reliability == 'suppress'",
                                           "row-modeled": "params.data.modeled && params.data.reliability != 'suppress'"},
                         **({"localeText": grid_text(lang)} if lang != "en" else {})},
        csvExportParams={"fileName": f"compare_{st['wave']}_{st['indicator']}.csv"},
        className="ag-theme-quartz compare-grid",
    )
    city = df["city"].iloc[0] if not df.empty else "–"
    stat = headline_statistic(data, st["indicator"])
    bench = [html.P(benchmark_sentence(b, lang), className="benchmark")
             for b in benchmark_rows(data.tables.get("benchmarks"), st["wave"], st["indicator"], stat).to_dict("records")]
    toggle = dcc.Checklist(id=ids.grid_toggle_id(PAGE), options=[{"label": " " + t("Show every column", lang), "value": "all"}],
                           value=[], className="grid-toggle", inputClassName="radio-input")
    modeled = not df.empty and bool((df["modeled"] & df["reliability"].ne("suppress")).any())
    return [html.H2(f"{label} — {t(LEVELS[st['level']], lang)}, {wave_label(st['wave'], lang)}"),
            html.P([html.Strong(f"{t('City', lang)}: {city}. "), t('Each area against the rest of the city; ▲/▼ mark differences that stay significant after adjusting for the many areas compared at once. The intervals are not adjusted, so an interval can miss zero while the difference is still not clear.', lang)], className="intro"),
            *([html.P(t("◇ marks a modeled number (small-area estimate): where an area has too few answers for a reliable number of its own, a model combines its answers with its district, its previous wave and its population. It is shown with its 95% interval and is never tested for significant differences.", lang), id=ids.view_id(PAGE) + "-modeled", className="modeled-note")]
              if modeled else []),
            *([html.Div([html.H3(t("The city against its benchmarks", lang)), *bench], id=ids.COMPARE_BENCHMARKS,
                        className="benchmarks")] if bench else []),
            toggle, grid]


#: What a phone shows of the grid without the toggle: the area and its estimate with the interval.
NARROW_COLUMNS = ("area", "estimate_text")
#: Window width (px) below which the grid starts with NARROW_COLUMNS only (style.css uses the same).
NARROW_PX = 700


def register_callbacks(app, source) -> None:
    """On a narrow screen the grid shows the area, estimate and interval; the toggle shows the rest."""
    extra = [c["field"] for c in _columns("en") if not c.get("hide") and c["field"] not in NARROW_COLUMNS]
    app.clientside_callback(
        f"""function (show, defs) {{
            if (!defs) {{ return window.dash_clientside.no_update; }}
            var extra = {extra!r}, all = (show && show.length > 0) || window.innerWidth >= {NARROW_PX};
            return defs.map(function (d) {{
                return extra.indexOf(d.field) >= 0 ? Object.assign({{}}, d, {{hide: !all}}) : d;
            }});
        }}""",
        Output(ids.grid_id(PAGE), "columnDefs"),
        Input(ids.grid_toggle_id(PAGE), "value"),
        State(ids.grid_id(PAGE), "columnDefs"),
    )


def controls(data: Results, st: dict, lang: str) -> list:
    return [
        wave_control(PAGE, data, st, lang),
        indicator_control(PAGE, data, st, lang),
        level_control(PAGE, _levels(data), st, lang),
    ]
