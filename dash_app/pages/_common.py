"""Building blocks shared by the pages: the indicators and their statistics, the filters' state and
controls (wave, indicator, area, level), download buttons, table views, the page frame."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from dash import Input, Output, State, dcc, html

from dash_app import ids
from dash_app.data import Results
from dash_app.figures.common import fmt_ci, fmt_diff, fmt_value
from dash_app.i18n import LANGS, LEVELS, PAGE_TITLES, TOPICS, reason_text, t, wave_label
from survey_pipeline.i18n import fmt_number, language_name, number_separators
from survey_pipeline.results.tables import (  # shared with the reports
    headline_indicators,
    shown_estimates,
)

LEVEL_ORDER = ["city", "district", "neighborhood", "beat"]
MODELED_MARK = "◇"  # a modeled (small-area) number, in text; figures draw open markers and outlines


def dropdown(page: str, key: str, label: str, options: list[dict], value: Any, multi: bool = False,
             wide: bool = False) -> html.Div:
    """A dropdown inside its <label> (the label names the control for assistive technology)."""
    return html.Div(className="control" + (" control-wide" if wide else ""), children=html.Label([
        html.Span(label, className="control-label"),
        dcc.Dropdown(id=ids.filter_id(page, key), options=options, value=value, multi=multi, clearable=False,
                     searchable=True, className="dropdown"),
    ]))


def radios(page: str, key: str, label: str, options: list[dict], value: Any) -> html.Fieldset:
    """Radio buttons in a fieldset with a legend: reachable with Tab and the arrow keys."""
    return html.Fieldset(className="control radios", children=[
        html.Legend(label, className="control-label"),
        dcc.RadioItems(id=ids.filter_id(page, key), options=options, value=value, inline=True,
                       className="radio-items", inputClassName="radio-input", labelClassName="radio-label"),
    ])


def pick(value: Any, allowed: list, default: Any) -> Any:
    """``value`` when allowed, else ``default`` (unknown URL values fall back, never break a page)."""
    return value if value in allowed else default


# --- indicators and their statistics ---------------------------------------------------------
# ``indicators`` has one row per indicator and statistic: an item with a positive answer set has a
# ``share`` row and a ``mean`` row, an index a ``score`` row. A view shows one statistic at a time.

def indicator_ids(data: Results) -> list[str]:
    """Every indicator once, in questionnaire order."""
    return data.memo("indicator_ids", lambda: list(dict.fromkeys(data.indicators["indicator"])))


def statistics(data: Results, indicator: str) -> list[str]:
    """The statistics the results hold for ``indicator`` (``share`` first when there is one)."""
    def make() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for i, s in zip(data.indicators["indicator"], data.indicators["statistic"], strict=True):
            out.setdefault(i, []).append(s)
        return {i: sorted(v, key=lambda s: s != "share") for i, v in out.items()}

    return data.memo("indicator_statistics", make).get(indicator, ["share"])


def headline_statistic(data: Results, indicator: str) -> str:
    """The statistic a page shows first: the share when there is one (what a reader expects: "% satisfied"),
    else the index score or the mean."""
    return statistics(data, indicator)[0]


def only_statistic(df: pd.DataFrame, statistic: str) -> pd.DataFrame:
    """The rows of one statistic (estimate and comparison rows carry a ``statistic`` column)."""
    if df.empty or "statistic" not in df.columns:
        return df
    return df[df["statistic"] == statistic]


def estimates_for(data: Results, wave: str, indicator: str, statistic: str) -> pd.DataFrame:
    """Estimate rows of one wave, indicator and statistic (every area and group)."""
    return only_statistic(data.part("estimates", ("wave", "indicator"), (wave, indicator)), statistic)


def shown_rows(data: Results, direct: pd.DataFrame, keys: tuple[str, ...], values: tuple,
               statistic: str | None = None) -> pd.DataFrame:
    """``direct`` (the direct rows of ``estimates`` where ``keys`` equal ``values``) with the
    modeled rows of the same part: the number shown per area is the direct one where it is
    reliable, else the modeled one (column ``modeled``; :func:`shown_estimates`)."""
    modeled = data.tables.get("estimates_modeled")
    if modeled is None or modeled.empty:
        return direct.assign(modeled=False)
    m = data.part("estimates_modeled", keys, values)
    if statistic is not None:
        m = only_statistic(m, statistic)
    return shown_estimates(pd.concat([direct, m], ignore_index=True)) if len(m) else direct.assign(modeled=False)


def shown_for(data: Results, wave: str, indicator: str, statistic: str) -> pd.DataFrame:
    """:func:`estimates_for` with the modeled rows shown where the direct number is not reliable."""
    return shown_rows(data, estimates_for(data, wave, indicator, statistic), ("wave", "indicator"),
                      (wave, indicator), statistic)


def method_text(modeled: object, lang: str) -> str:
    """Where a shown number comes from, in words: the survey's answers or the small-area model."""
    return t("◇ Modeled (small-area estimate)", lang) if is_true(modeled) else t("Direct (survey answers)", lang)


def is_true(v: object) -> bool:
    """A flag cell as a bool (None and NaN are False)."""
    return v is not None and not (isinstance(v, float) and v != v) and bool(v)


def indicator_definition(data: Results, indicator: str, statistic: str) -> str | None:
    """The results' definition of one indicator and statistic ("share answering 4, 5 ...")."""
    ind = data.indicators
    row = ind[(ind["indicator"] == indicator) & (ind["statistic"] == statistic)]
    return None if row.empty or "definition" not in row.columns else row.iloc[0]["definition"]


def scale_range(definition: object) -> tuple[int, int] | None:
    """The answer scale of a mean or score from its definition ("mean of the 4 items (1-5; ...)")."""
    m = re.search(r"(\d+)\s*[-–]\s*(\d+)", str(definition or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def indicator_title(data: Results, indicator: str, lang: str) -> str:
    """The label with its topic ("Feeling safe · Your neighborhood, at night"): the same label can
    be a serious problem, a top priority and a service ("Noise")."""
    def make() -> dict[str, str]:
        ind = data.indicators.drop_duplicates("indicator")
        return {i: (f"{t(TOPICS[str(tp)], lang)} · {data.indicator_label(i, lang)}"
                    if str(tp) in TOPICS else data.indicator_label(i, lang))
                for i, tp in zip(ind["indicator"], ind["topic"], strict=True)}

    return data.memo(("indicator_titles", lang), make).get(indicator, indicator)


def department_names(data: Results, lang: str) -> dict[str, str]:
    """Department id -> name, from the department roll-up indicators (``priority_dept_<id>``)."""
    def make() -> dict[str, str]:
        ind = data.indicators.drop_duplicates("indicator")
        return {i[len("priority_dept_"):]: data.indicator_label(i, lang)
                for i in ind["indicator"] if str(i).startswith("priority_dept_")}

    return data.memo(("department_names", lang), make)


def department_name(data: Results, dept: object, lang: str) -> str:
    if dept is None or (isinstance(dept, float) and pd.isna(dept)):
        return ""
    return department_names(data, lang).get(str(dept)) or str(dept).replace("_", " ").capitalize()


# --- filters: state and controls --------------------------------------------------------------

def wave_state(data: Results, q: dict) -> str:
    waves = data.waves
    return pick(q.get("wave"), waves, waves[-1])


def indicator_state(data: Results, q: dict) -> str:
    """The asked indicator, else the first headline indicator (satisfaction with police)."""
    inds = indicator_ids(data)
    default = data.memo("default_indicator", lambda: (headline_indicators(data.indicators) or inds)[0])
    return pick(q.get("indicator"), inds, default)


def area_state(data: Results, q: dict, table: str) -> str:
    """The asked area ('city', 'district:east', ...) when ``table`` has it, else the city."""
    def make() -> frozenset:
        if table != "estimates_grouped" and data.tables.get(table, pd.DataFrame()).empty:
            return frozenset({"city"})
        return frozenset(o["value"] for o in area_options(data, table, "en")) or frozenset({"city"})

    return pick(q.get("area"), data.memo(("area_keys", table), make), "city")


def label_column(df: pd.DataFrame, lang: str) -> str:
    """``label_<lang>`` when the table has it, else ``label_en``."""
    return f"label_{lang}" if f"label_{lang}" in df.columns else "label_en"


def wave_options(data: Results, lang: str = "en") -> list[dict]:
    return [{"label": wave_label(w, lang), "value": w} for w in reversed(data.waves)]


def indicator_options(data: Results, lang: str, topics: Iterable[str] | None = None) -> list[dict]:
    ind = data.indicators.drop_duplicates("indicator")
    if topics is not None:
        ind = ind[ind["topic"].isin(list(topics))]
    return [{"label": indicator_title(data, i, lang), "value": i} for i in ind["indicator"]]


def wave_control(page: str, data: Results, st: dict, lang: str) -> html.Fieldset:
    return radios(page, "wave", t("Wave", lang), wave_options(data, lang), st["wave"])


def indicator_control(page: str, data: Results, st: dict, lang: str) -> html.Div:
    return dropdown(page, "indicator", t("Indicator", lang), indicator_options(data, lang), st["indicator"],
                    wide=True)


def area_control(page: str, data: Results, table: str, st: dict, lang: str) -> html.Div:
    """The area dropdown (city, districts, neighborhoods...) for the areas present in ``table``."""
    return dropdown(page, "area", t("Area", lang), area_options(data, table, lang), st["area"])


def level_control(page: str, levels: Iterable[str], st: dict, lang: str) -> html.Fieldset:
    return radios(page, "level", t("Area level", lang), level_options(levels, lang), st["level"])


def area_key(level: str, code: str) -> str:
    return "city" if level == "city" else f"{level}:{code}"


def split_area(key: str) -> tuple[str, str]:
    if key == "city" or ":" not in key:
        return "city", "city"
    level, code = key.split(":", 1)
    return level, code


def area_label(data: Results, level: str, code: str, lang: str) -> str:
    if level == "city":
        return t("City", lang)
    return data.area_name(level, code, lang)


def area_options(data: Results, frame: pd.DataFrame | str, lang: str, levels: Iterable[str] = LEVEL_ORDER) -> list[dict]:
    """Options 'City', 'District: X', 'Neighborhood: Y' for the areas present in ``frame`` (a
    DataFrame, or the name of a results table: then cached per snapshot)."""
    if isinstance(frame, str):
        name = frame
        return data.memo(("area_options", name, lang, tuple(levels)),
                         lambda: area_options(data, _table_for_options(data, name), lang, levels))
    out = []
    present = frame[["area_level", "area"]].drop_duplicates()
    for level in levels:
        codes = sorted(present.loc[present["area_level"] == level, "area"].astype(str),
                       key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))
        for c in codes:
            lab = t("City", lang) if level == "city" else f"{t(LEVELS[level], lang)}: {data.area_name(level, c, lang)}"
            out.append({"label": lab, "value": area_key(level, c)})
    return out


def _table_for_options(data: Results, name: str) -> pd.DataFrame:
    if name == "estimates_grouped":
        e = data.estimates
        return e[e["group_dim"] != "all"]
    return data.tables[name]


def level_options(levels: Iterable[str], lang: str) -> list[dict]:
    return [{"label": t(LEVELS[lv], lang), "value": lv} for lv in levels]


def language_control(lang: str) -> html.Fieldset:
    return radios("shell", "lang", t("Language", lang),
                  [{"label": language_name(code), "value": code} for code in LANGS], lang)


def download_bar(page: str, lang: str) -> html.Div:
    return html.Div(className="downloads", role="group", **{"aria-label": t("Data behind this view", lang)}, children=[
        html.Span(t("Data behind this view", lang) + ":", className="downloads-label"),
        html.Button(t("Download CSV", lang), id=ids.download_id(page, "csv"), className="button", n_clicks=0),
        html.Button(t("Download Excel", lang), id=ids.download_id(page, "xlsx"), className="button", n_clicks=0),
    ])


def table(df: pd.DataFrame, caption: str, table_id: str | None = None, hide_caption: bool = False,
          lang: str = "en") -> html.Table:
    """A plain HTML table: the text alternative of a chart. ``hide_caption`` keeps the caption for
    screen readers only (when a visible heading already says the same)."""
    head = html.Thead(html.Tr([html.Th(c, scope="col") for c in df.columns]))
    body = html.Tbody([html.Tr([html.Td(_cell(v, lang)) for v in row])
                       for row in df.itertuples(index=False)])
    kw = {"id": table_id} if table_id else {}
    cap = html.Caption(caption, className="sr-only" if hide_caption else None)
    return html.Table([cap, head, body], className="data-table", **kw)


def _cell(v: object, lang: str = "en", decimals: int | None = None) -> str:
    """A table cell: a float written by ``lang``'s locale (``decimals`` of them, else as many as it
    has, up to 6), anything else as it is (text the page has already written in ``lang``)."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        if decimals is None:
            decimals = min(6, len(repr(v).split(".")[1])) if "." in repr(v) and "e" not in repr(v) else 0
        return fmt_number(v, lang, decimals)
    return str(v)


def _md_cell(v: object, lang: str = "en") -> str:
    return md_escape(_cell(v, lang, 3))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:&\"'=])")


def md_escape(text: str) -> str:
    """``text`` as literal Markdown text: every ASCII punctuation mark that Markdown (or its GFM
    autolinks: ``www.``, ``http://``) could read as markup is backslash-escaped, line breaks become
    spaces. A crafted area name or label can never become a link, an image the browser fetches,
    or HTML in a table view."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))


def markdown_table(df: pd.DataFrame, lang: str = "en") -> str:
    """``df`` as a GitHub-flavoured Markdown table (rendered client-side as an HTML <table>), its
    numbers written the ``lang`` way."""
    head = "| " + " | ".join(_md_cell(c) for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(_md_cell(v, lang) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def table_view(df: pd.DataFrame, lang: str, page: str) -> html.Details:
    """The chart's data as a table, in a disclosure widget next to the chart (the summary names it).

    Rendered from Markdown: one component instead of one per cell, which keeps large area lists
    (hundreds of neighborhoods or beats) cheap to build and send."""
    return html.Details(className="table-view", children=[
        html.Summary(t("Table view of the chart", lang)),
        dcc.Markdown(markdown_table(df, lang), id=ids.table_id(page), className="data-table-md"),
    ])


def graph(page: str, fig, caption: str, lang: str = "en") -> html.Figure:
    """A chart with its caption; Spanish charts write 0,5 and 1.000 (plotly's ``separators``)."""
    fig.layout.separators = number_separators(lang)
    return html.Figure(className="chart", children=[
        dcc.Graph(id=ids.graph_id(page), figure=fig, config={"displaylogo": False, "responsive": True,
                                                             # only "save as picture": zoom and lasso tools
                                                             # confuse more than they help here
                                                             "modeBarButtons": [["toImage"]]}),
        html.Figcaption(caption, className="caption"),
    ])


def fmt_row(r: pd.Series | dict, stat: str, lang: str) -> str:
    """'62% (58%–66%)', '◇ 62% (50%–73%)' for a modeled number, or 'suppressed: reason'."""
    if r.get("reliability") == "suppress":
        return f"{t('suppressed', lang)}: {reason_text(r.get('reliability_reason'), lang)}".strip(" :")
    if pd.isna(r.get("estimate")):
        return t("no estimate", lang)
    mark = MODELED_MARK + " " if is_true(r.get("modeled")) else ""
    return mark + f"{fmt_value(r['estimate'], stat, lang)} ({fmt_ci(r['ci_low'], r['ci_high'], stat, lang=lang)})"


def fmt_change(r: pd.Series | dict, stat: str, lang: str = "en") -> str:
    """'+3 pts (−2 to +8)': a difference with its 95% interval, percentage points for shares."""
    return (f"{fmt_diff(r['estimate'], stat, t('pts', lang), lang)} "
            f"({fmt_ci(r['ci_low'], r['ci_high'], stat, diff=True, to=t('to', lang), lang=lang)})")


def estimates_view(df: pd.DataFrame, stat: str, lang: str, name_col: str, name_title: str) -> pd.DataFrame:
    """A readable table of estimate rows (the table view and the download share it); with a
    ``modeled`` column (:func:`shown_rows`) a column says where each number comes from."""
    out = pd.DataFrame({
        name_title: df[name_col].to_list(),
        t("Estimate", lang): [None if r == "suppress" else e for e, r in zip(df["estimate"], df["reliability"], strict=True)],
        t("95% CI low", lang): [None if r == "suppress" else v for v, r in zip(df["ci_low"], df["reliability"], strict=True)],
        t("95% CI high", lang): [None if r == "suppress" else v for v, r in zip(df["ci_high"], df["reliability"], strict=True)],
        t("{label} (95% CI)", lang, label=t("Estimate", lang)): [fmt_row(r, stat, lang) for _, r in df.iterrows()],
        t("n (unweighted)", lang): df["n"].to_list(),
        t("Reliability", lang): df["reliability"].to_list(),
        t("Why", lang): [reason_text(r, lang) for r in df["reliability_reason"]],
    })
    if "modeled" in df.columns:
        out.insert(5, t("Source", lang), [method_text(m, lang) for m in df["modeled"]])
    return out


def plain_reasons(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``df`` with its reliability reasons in plain words (for the figures' hover and notes)."""
    if df.empty or "reliability_reason" not in df.columns:
        return df
    return df.assign(reliability_reason=[reason_text(r, lang) for r in df["reliability_reason"]])


def cached_content(data: Results, page: str, st: dict, lang: str, content: Callable) -> list:
    """A page's rendered view for (state, language), cached on the results snapshot."""
    from dash_app.auth import current_role

    key = ("view", page, lang, current_role(),
           tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in st.items())))
    return data.lru(key, lambda: content(data, st, lang))


def register_view(app, source, page: str, filters: list[str], render: Callable) -> None:
    """Register the callback that fills a page's view from its filters (and the language)."""

    @app.callback(
        Output(ids.view_id(page), "children"),
        [Input(ids.filter_id(page, k), "value") for k in filters],
        State(ids.filter_id("shell", "lang"), "value"),
        prevent_initial_call=True,  # the router renders the first view; this follows changes
    )
    def _update(*args):
        *values, lang = args
        lang = pick(lang, list(LANGS), "en")
        data = source.get()
        q = {k: (",".join(map(str, v)) if isinstance(v, list) else v) for k, v in zip(filters, values, strict=True)}
        return render(data, q, lang)


def page_layout(mod, data: Results, q: dict, lang: str) -> list:
    """A page: its title, its controls, the download bar and its (cached) view.

    ``mod`` is a page module with ``PAGE``, ``state``, ``controls`` and ``content``.
    """
    from dash_app.auth import current_role

    st = mod.state(data, q)
    return [html.H1(t(PAGE_TITLES[mod.PAGE], lang)), html.Div(mod.controls(data, st, lang), className="controls"),
            download_bar(mod.PAGE, lang) if current_role() == "analyst" else None,
            html.Div(cached_content(data, mod.PAGE, st, lang, mod.content), id=ids.view_id(mod.PAGE))]


def register_page(app, source, mod) -> None:
    """Register the callback that redraws a page module's view when its filters change, and the
    page's own callbacks (``mod.register_callbacks(app, source)``, when it has any)."""
    register_view(app, source, mod.PAGE, mod.FILTERS,
                  lambda data, q, lang: cached_content(data, mod.PAGE, mod.state(data, q), lang, mod.content))
    extra = getattr(mod, "register_callbacks", None)
    if extra is not None:
        extra(app, source)
