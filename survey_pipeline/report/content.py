"""What a report says, independent of its format: sections of tables built from the results tables.

:func:`build_report` reads the results tables of a project (``docs/results.md``) and returns a
:class:`Report`: a Summary, one section per topic, importance-satisfaction, area comparisons and
Methodology. Each section holds :class:`Table` objects whose frames keep numbers as numbers (shares
as 0..1); the Excel and HTML writers only format them. Suppressed rows carry no estimate, interval
or change (``_suppressed`` is True and the reliability column says so).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from survey_pipeline.errors import ProjectError, StoreError
from survey_pipeline.i18n import N_, fmt_number, languages, project_locales, t, use_locales
from survey_pipeline.report.comments import comments_section
from survey_pipeline.results.funnel import funnel_step_label
from survey_pipeline.results.sentences import (
    Words,
    benchmark_sentence,
    finding_sentence,
    indicator_phrases,
    wave_label,
)
from survey_pipeline.results.tables import (
    LEVEL_ORDER,
    area_names_from_geojson,
    benchmark_rows,
    check_results,
    district_area_names,
    district_names,
    find_areas_geojson,
    funnel_steps,
    headline_indicators,
    headline_statistics,
    is_modeled,
    natural_key,
    read_results_tables,
    shown_estimates,
    wave_order,
)

__all__ = ["Column", "Report", "Section", "Table", "build_report", "report_from_tables"]

STORE_FILE = "warehouse.duckdb"
#: How a column's numbers are shown: ``pct`` shares (0..1), ``pp`` changes of shares, ``num`` scale
#: values, ``stat``/``dstat`` per row by the row's statistic (``_stat``), ``int`` counts, ``p`` p-values.
Kind = Literal["text", "int", "num", "pct", "pct2", "pp", "stat", "dstat", "p"]
#: Topics with a section of their own, in order, and the indicator topics each one shows.
TOPIC_SECTIONS = (("problem_topic", ("problem",)), ("satisfaction", ("satisfaction",)), ("safety", ("safety",)),
                  ("trust", ("trust", "scale")), ("contact", ("contact",)))
#: The words the report picks by a code: section titles, area levels, bands, statistics, reliability.
TITLES = {"problem_topic": N_("Problems"), "satisfaction": N_("Satisfaction"), "safety": N_("Safety"),
          "trust": N_("Trust and scales"), "contact": N_("Police contact")}
LEVEL_WORDS = {"city": N_("City"), "district": N_("District"), "neighborhood": N_("Neighborhood"), "beat": N_("Beat")}
BANDS = {"highest": N_("highest (I-S >= .20)"), "high": N_("high (.10-.20)"), "medium": N_("medium (.05-.10)"),
         "low": N_("low (< .05)")}
STATS = {"share": N_("share"), "score": N_("score"), "mean": N_("mean")}
RELIABILITY = {"flag": N_("interpret with care"), "suppress": N_("suppressed")}
#: The report's names of the weighting diagnostics.
METRIC_WORDS = {"n_eff": N_("Effective n (Kish)"), "deff": N_("Design effect of weighting"),
                "weight_min": N_("Smallest weight"), "weight_max": N_("Largest weight"),
                "weight_ratio": N_("Largest / smallest"), "trimmed": N_("Weights trimmed"),
                "margin_gap": N_("Largest gap to a weighting target (relative)")}
RULES = {"rule_min_n": N_("Suppress with fewer valid answers than"),
         "rule_nchs": N_("NCHS data presentation standards for proportions"),
         "rule_ci": N_("Confidence interval method for shares"), "rule_adjust": N_("Multiple-comparison adjustment")}
MAX_FINDINGS = 10
#: The rows a report shows: estimates for all residents; changes, differences from the rest of the
#: city and findings (not the demographic breakdowns, area pairs or trends).
REPORT_ROWS = {"estimates": "group_dim = 'all'",
               "comparisons": "group_dim = 'all' AND (kind IN ('wave_change', 'area_vs_rest') OR finding IS NOT NULL)"}
_KEYS = ["area_level", "area", "indicator", "statistic"]
_COMP_COLS = {"estimate": "{p}", "ci_low": "{p}_ci_low", "ci_high": "{p}_ci_high", "p_adj": "{p}_p",
              "significant": "{p}_sig", "reliability": "{p}_rel"}


@dataclass
class Column:
    """One column of a table: the frame's column ``key``, its title and how its values are shown."""

    key: str
    title: str
    kind: Kind = "text"


@dataclass
class Table:
    """A titled table. ``frame`` may hold ``_stat`` (the row's statistic) and ``_suppressed`` (bool)."""

    key: str
    title: str
    frame: pd.DataFrame
    columns: list[Column]
    note: str = ""
    split_by: str | None = None  # HTML shows one table per value of this column
    row_header: str | None = None  # the column that names each row (HTML th scope="row")
    split_drop: tuple[str, ...] = ()  # columns the split makes redundant (HTML)


@dataclass
class Section:
    """One sheet of the workbook, one section of the page."""

    key: str
    title: str
    intro: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    bullets_title: str = ""
    legend: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Everything a report shows, in order."""

    title: str
    project: str
    wave: str
    wave_label: str
    wave_ref: str | None
    language: str
    sections: list[Section]
    #: The locale of each language's numbers (survey.toml ``[reporting] locales``; default
    #: :data:`survey_pipeline.i18n.DEFAULT_LOCALES`): the writers format with it.
    locales: dict[str, str] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def _project_info(root: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    """(project name, {wave id: label}, {language: locale}) from survey.toml, tolerant of a missing or
    partial file (check_project has validated it when there is one)."""
    name, labels = root.name, {}
    toml = root / "survey.toml"
    try:
        conf = tomllib.loads(toml.read_text(encoding="utf-8")) if toml.exists() else {}
    except (tomllib.TOMLDecodeError, OSError):
        conf = {}
    proj = conf.get("project")
    if isinstance(proj, dict) and isinstance(proj.get("name"), str):
        name = proj["name"]
    for w in conf.get("waves", []) if isinstance(conf.get("waves"), list) else []:
        if isinstance(w, dict) and isinstance(w.get("id"), str) and isinstance(w.get("label"), str):
            labels[w["id"]] = w["label"]
    return name, labels, project_locales(root)


def build_report(project: str | Path, *, wave: str | None = None, language: str = "en") -> Report:
    """Read a project's results tables and build the report's content.

    Parameters
    ----------
    project
        The survey project folder (holds ``warehouse.duckdb`` and ``survey.toml``).
    wave
        The wave reported on (default: the latest wave with estimates).
    language
        A language with a catalog (``en``, ``es``, ...: :func:`survey_pipeline.i18n.languages`): the
        report's own words and the indicators' labels and wording; its numbers are written in the
        project's locale for it (``[reporting] locales``).

    Raises
    ------
    ProjectError
        No results yet, an unknown wave or an unknown language.
    """
    root = Path(project)
    _check_language(language)
    if (root / "survey.toml").exists():  # a results-only folder may have none
        from survey_pipeline.project import check_project

        check_project(root, require_instrument=False)
    store = root / STORE_FILE
    check_results(store, root)
    try:
        tables = read_results_tables(store, where=REPORT_ROWS, modeled=True)
    except duckdb.Error as exc:
        raise StoreError(f"{store}: the results tables cannot be read ({exc}).", file=store, rule="results-schema",
                         fix=f"Run the analysis again (survey-pipeline run --project {root}) so the results tables "
                             "follow docs/results.md.") from exc
    gj = find_areas_geojson(root)
    try:
        geojson = json.loads(gj.read_text(encoding="utf-8")) if gj else None
    except (OSError, ValueError):
        geojson = None
    name, labels, locales = _project_info(root)
    names = {**area_names_from_geojson(geojson, language), **district_area_names(district_names(root), language)}
    return report_from_tables(tables, project=name, wave=wave, language=language, wave_labels=labels,
                              area_names=names, source=store, locales=locales)


def _check_language(language: str) -> None:
    if language not in languages():
        raise ProjectError(f"unknown report language '{language}'.", rule="unknown-language",
                           fix=f"Use one of: {', '.join(languages())}.")


class _Ctx:
    """The tables of one report and the lookups every section uses."""

    def __init__(self, tables, wave, wave_ref, lang, wave_labels, area_names):
        self.tables, self.wave, self.wave_ref, self.lang = tables, wave, wave_ref, lang
        self.wave_labels, self.area_names = wave_labels, area_names
        ind = tables["indicators"]
        self.ind = ind
        self.stat = headline_statistics(ind)
        self.order = {i: k for k, i in enumerate(dict.fromkeys(ind["indicator"]))}
        lab = f"label_{lang}" if f"label_{lang}" in ind.columns else "label_en"
        self.labels = {}
        for r in ind.itertuples():
            v, en = getattr(r, lab, None), getattr(r, "label_en", None)
            self.labels.setdefault(r.indicator, v if isinstance(v, str) and v else
                                   en if isinstance(en, str) and en else r.indicator)
        self.departments = {i[len("priority_dept_"):]: lbl for i, lbl in self.labels.items()
                            if i.startswith("priority_dept_")}
        est = tables["estimates"]
        mod = is_modeled(est).to_numpy()
        if mod.any():  # the modeled (small-area) rows only where they replace a direct number
            tables = {**tables, "estimates": est[~mod]}
        self.tables = tables
        # the number shown per area: the direct one where reliable, else the modeled one (``modeled``)
        self.est = shown_estimates(est[(est["wave"] == wave) & (est["group_dim"] == "all")])
        comp = tables.get("comparisons", pd.DataFrame())
        self.comp = comp if not comp.empty else pd.DataFrame(columns=["kind", "wave", "group_dim"])
        self.comp_w = self.comp[(self.comp["wave"] == wave) & (self.comp["group_dim"] == "all")]
        self.comp_kind = dict(tuple(self.comp_w.groupby("kind", sort=False))) if len(self.comp_w) else {}
        self._joined: dict[str, pd.DataFrame] = {}
        names = self.area_names
        self.words = Words(labels=indicator_phrases(ind, lang),
                           area_names={c: n for (lv, c), n in names.items() if lv != "district"},
                           district_names={c: n for (lv, c), n in names.items() if lv == "district"},
                           wave_labels={w: self.wl(w) for w in wave_order(tables)}, lang=lang)

    def joinable(self, kind: str, prefix: str) -> pd.DataFrame:
        """This wave's ``kind`` comparisons keyed for a merge, columns renamed with ``prefix`` (made once)."""
        if kind not in self._joined:
            c = self.comp_kind.get(kind, pd.DataFrame(columns=[*_KEYS, *_COMP_COLS]))
            if kind == "wave_change" and self.wave_ref is not None and "wave_ref" in c.columns:
                c = c[c["wave_ref"] == self.wave_ref]
            self._joined[kind] = c[_KEYS + list(_COMP_COLS)].drop_duplicates(_KEYS)
        return self._joined[kind].rename(columns={k: v.format(p=prefix) for k, v in _COMP_COLS.items()})

    def wave_rows(self, table: str) -> pd.DataFrame:
        """A copy of ``table``'s rows of the report's wave (empty when the results lack the table)."""
        df = self.tables.get(table, pd.DataFrame())
        return df[df["wave"] == self.wave].copy() if not df.empty else df

    def wl(self, w: str | None) -> str:
        """A wave as the reader reads it: survey.toml's label in English, translated in Spanish
        ("Spring 2026" -> "Primavera 2026")."""
        if w is None:
            return ""
        return self.wave_labels.get(w, w) if self.lang == "en" else wave_label(w, self.lang, self.wave_labels.get(w))

    def finding(self, r: pd.Series) -> str:
        """A finding in the report's language: the analysis' own sentence in English, else written
        from the comparison row by the same writer (:mod:`survey_pipeline.results.sentences`)."""
        if self.lang == "en" and isinstance(r.get("finding"), str):
            return r["finding"]
        return finding_sentence(r, self.words)

    def area(self, level: str, code: str) -> str:
        if level == "city" or code == "city":
            return t("City", self.lang)
        name = self.area_names.get((level, str(code)))
        return name if name else str(code).replace("_", " ").title() if level == "district" else str(code)

    def dept(self, d: object) -> str:
        if not isinstance(d, str) or not d:
            return ""
        return self.departments.get(d, d.replace("_", " ").capitalize())

    def rel(self, r: object) -> str:
        return t(RELIABILITY[r], self.lang) if r in RELIABILITY else ""

    def yn(self, v: object) -> str:
        if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
            return ""
        return t("yes", self.lang) if bool(v) else t("no", self.lang)

    def sort_areas(self, df: pd.DataFrame, first: list[str] | None = None) -> pd.DataFrame:
        if df.empty:
            return df
        lv = {x: k for k, x in enumerate(LEVEL_ORDER)}
        keys = pd.DataFrame({"_lv": df["area_level"].map(lambda x: lv.get(x, 9)),
                             "_area": df["area"].map(natural_key)}, index=df.index)
        return df.join(keys).sort_values([*(first or []), "_lv", "_area"], kind="stable").drop(columns=["_lv", "_area"])


def report_from_tables(tables: dict[str, pd.DataFrame], *, project: str = "", wave: str | None = None,
                       language: str = "en", wave_labels: dict[str, str] | None = None,
                       area_names: dict[tuple[str, str], str] | None = None, source: Path | None = None,
                       locales: dict[str, str] | None = None) -> Report:
    """The report's content from results tables already read (see :func:`build_report`); numbers
    in the locales ``locales`` (``{"es": "es_ES"}``; default :data:`survey_pipeline.i18n.DEFAULT_LOCALES`)."""
    _check_language(language)
    with use_locales(locales):
        report = _report(tables, project, wave, language, wave_labels, area_names, source)
    report.locales = dict(locales or {})
    return report


def _report(tables: dict[str, pd.DataFrame], project: str, wave: str | None, language: str,
            wave_labels: dict[str, str] | None, area_names: dict[tuple[str, str], str] | None,
            source: Path | None) -> Report:
    waves = wave_order(tables)
    if wave is None:
        wave = waves[-1]
    elif wave not in waves:
        raise ProjectError(f"{source or 'the results'}: no estimates for wave '{wave}'.", file=source,
                           rule="unknown-wave", fix=f"Use one of the analysed waves: {', '.join(waves)}.")
    i = waves.index(wave)
    wave_ref = waves[i - 1] if i > 0 else None
    ctx = _Ctx(tables, wave, wave_ref, language, wave_labels or {}, area_names or {})
    sections = [_summary(ctx, project)]
    pri = _priorities(ctx)
    if pri is not None:
        sections.append(pri)
    for key, topics in TOPIC_SECTIONS:
        s = _topic(ctx, key, topics)
        if s is not None:
            sections.append(s)
    iss = _importance(ctx)
    if iss is not None:
        sections.append(iss)
    cm = comments_section(ctx)
    if cm is not None:
        sections.append(cm)
    sections.append(_comparisons(ctx))
    sections.append(_methodology(ctx))
    return Report(title=t("Community survey report", language), project=project, wave=wave, wave_label=ctx.wl(wave),
                  wave_ref=wave_ref, language=language, sections=sections)


# --- estimates with their change and difference --------------------------------------------------

def _with_comparisons(ctx: _Ctx, est: pd.DataFrame) -> pd.DataFrame:
    """``est`` (one wave, group all) with the change since the previous wave and the difference from
    the rest of the city; numbers of suppressed estimates and comparisons blanked."""
    out = est.copy()
    for kind, prefix in (("wave_change", "chg"), ("area_vs_rest", "rest")):
        c = ctx.joinable(kind, prefix)
        if c.empty:
            for v in _COMP_COLS.values():
                out[v.format(p=prefix)] = None
            continue
        out = out.merge(c, on=_KEYS, how="left")
        bad = out[f"{prefix}_rel"].eq("suppress") | out["reliability"].eq("suppress")
        for v in (f"{prefix}", f"{prefix}_ci_low", f"{prefix}_ci_high", f"{prefix}_p"):
            out[v] = out[v].astype(float).where(~bad)
        out[f"{prefix}_sig"] = [None if b or pd.isna(s) else ctx.yn(s) for b, s in zip(bad, out[f"{prefix}_sig"],
                                                                                     strict=True)]
    if "modeled" in out.columns and out["modeled"].any():
        # a modeled number enters no change or difference: those are tests of direct estimates
        mod = out["modeled"].astype(bool)
        for prefix in ("chg", "rest"):
            for v in (f"{prefix}", f"{prefix}_ci_low", f"{prefix}_ci_high", f"{prefix}_p"):
                out[v] = out[v].astype(float).where(~mod)
            out[f"{prefix}_sig"] = [None if m else v for m, v in zip(mod, out[f"{prefix}_sig"], strict=True)]
    sup = out["reliability"].eq("suppress")
    for v in ("estimate", "ci_low", "ci_high", "se"):
        if v in out.columns:
            out[v] = out[v].astype(float).where(~sup)
    out["_suppressed"] = sup.to_numpy()
    out["_stat"] = out["statistic"]
    out["rel_text"] = out["reliability"].map(ctx.rel)
    out["note"] = out["reliability_reason"].where(out["reliability"] != "ok", None)
    if "modeled" in out.columns:
        shown_mod = out["modeled"].astype(bool) & ~sup
        out["note"] = [f"◇ {t('modeled (small-area estimate)', ctx.lang)}" + (f"; {n.removeprefix('modeled; ')}" if isinstance(n, str) and n
                                                         else "")
                       if m else n for m, n in zip(shown_mod, out["note"], strict=True)]
        out["_modeled"] = shown_mod.to_numpy()
    return out


def _estimate_columns(ctx: _Ctx, first: list[Column], change: bool = True, rest: bool = True) -> list[Column]:
    lang = ctx.lang
    cols = [*first, Column("estimate", t("Estimate", lang), "stat"), Column("ci_low", t("CI low", lang), "stat"), Column("ci_high", t("CI high", lang), "stat"), Column("n", t("n (answers)", lang), "int")]
    if change and ctx.wave_ref is not None:
        cols += [Column("chg", t("Change since {wave}", lang, wave=ctx.wl(ctx.wave_ref)), "dstat"),
                 Column("chg_ci_low", t("Change CI low", lang), "dstat"),
                 Column("chg_ci_high", t("Change CI high", lang), "dstat"),
                 Column("chg_p", t("Adjusted p", lang), "p"), Column("chg_sig", t("Significant", lang))]
    if rest:
        cols += [Column("rest", t("Difference vs rest of city", lang), "dstat"), Column("rest_sig", t("Significant vs rest", lang))]
    return [*cols, Column("rel_text", t("Reliability", lang)), Column("note", t("Note", lang))]


# --- sections ------------------------------------------------------------------------------------

def _legend(ctx: _Ctx) -> list[str]:
    lang = ctx.lang
    modeled = "modeled" in ctx.est.columns and bool((ctx.est["modeled"] & ctx.est["reliability"].ne("suppress")).any())
    return [t("Shares are percentages of valid answers; scores and means are on the item's scale.", lang), t("95% CI (CI low to CI high): the 95% confidence interval of the estimate or change.", lang), t("Change: this wave minus the previous one (percentage points for shares); significant = adjusted p < {p}.", lang, p=fmt_number(0.05, lang, 2)), t("Suppressed (grey rows, no number): too few answers or too imprecise to show; the note says why.", lang),
            t("Interpret with care: shown, but less precise than usual; the note says why.", lang), *([t("◇ Modeled (small-area estimate): where a neighborhood or beat has too few answers for a reliable direct estimate, the number shown comes from a Fay–Herriot model that combines the area's answers with its district's estimate, its previous wave and its population; its interval is the model's. A modeled number is never tested for a change or a difference (those cells stay empty).", lang)] if modeled else [])]


def _summary(ctx: _Ctx, project: str) -> Section:
    lang = ctx.lang
    runs = ctx.tables.get("runs", pd.DataFrame())
    facts = [(t("Project", lang), project), (t("Wave", lang), ctx.wl(ctx.wave)),
             (t("Previous wave", lang), ctx.wl(ctx.wave_ref) if ctx.wave_ref else t("none", lang))]
    if not runs.empty:
        r = runs.iloc[-1]
        if pd.notna(r.get("finished_at")):
            facts.append((t("Results computed", lang), str(pd.Timestamp(r["finished_at"]).strftime("%Y-%m-%d %H:%M %Z")).strip()))
        if isinstance(r.get("instrument"), str):
            facts.append((t("Instrument", lang), f"{r['instrument']} {r.get('instrument_version') or ''}".strip()))
    counts = ctx.est.drop_duplicates(["area_level", "area"])["area_level"].value_counts()
    facts.append((t("Areas", lang), "; ".join(f"{t(LEVEL_WORDS[lv], lang)}: {int(counts[lv])}" for lv in LEVEL_ORDER
                                                     if lv in counts and lv != "city") or "–"))
    heads = headline_indicators(ctx.ind)
    e = ctx.est[(ctx.est["area_level"] == "city") & ctx.est["indicator"].isin(heads)]
    e = e[e["statistic"] == e["indicator"].map(ctx.stat)]
    h = _with_comparisons(ctx, e)
    h = h.assign(_o=h["indicator"].map({i: k for k, i in enumerate(heads)})).sort_values("_o")
    h["label"] = h["indicator"].map(ctx.labels)
    head = Table("headline", t("Headline indicators, citywide", lang), h.reset_index(drop=True),
                 _estimate_columns(ctx, [Column("label", t("Indicator", lang))], rest=False), row_header="label")
    tables = [head]
    bench = _benchmarks(ctx, h)
    if bench is not None:
        tables.append(bench)
    top = _top_priority(ctx)
    if top is not None:
        tables.append(top)
    f = ctx.comp_w
    if "finding" in f.columns:
        f = f[f["finding"].notna() & (f["reliability"] != "suppress")]
        f = f.reindex(f["estimate"].abs().sort_values(ascending=False).index)
        bullets = list(dict.fromkeys(ctx.finding(r) for _, r in f.iterrows()))[:MAX_FINDINGS]
    else:
        bullets = []
    return Section("summary", t("Summary", lang), facts=facts, tables=tables,
                   bullets=bullets or [t("No reliable difference large enough to report in this wave.", lang)],
                   bullets_title=t("Largest reliable findings", lang), legend=[*_legend(ctx), t("Findings: the largest reliable, significant changes, written from the comparisons.", lang)])


def _benchmarks(ctx: _Ctx, head: pd.DataFrame) -> Table | None:
    """The headline indicators against their benchmarks (a program's peers, outside references),
    when the project's results have any (``program run`` publishes them)."""
    rows = []
    for r in head.itertuples():
        for b in benchmark_rows(ctx.tables.get("benchmarks"), ctx.wave, r.indicator, r.statistic).to_dict("records"):
            rows.append({"label": r.label, "benchmark": benchmark_sentence(b, ctx.lang)})
    if not rows:
        return None
    return Table("benchmarks", t("How the city compares", ctx.lang), pd.DataFrame(rows),
                 [Column("label", t("Indicator", ctx.lang)), Column("benchmark", t("Benchmark", ctx.lang))],
                 note=t("Peers: the program's agencies, each one vote; the difference from the program mean is tested with both samples' uncertainty and adjusted for the number of agencies. Outside references are tested only when their standard error is published.", ctx.lang), row_header="label")


def _top_priority(ctx: _Ctx) -> Table | None:
    p = ctx.tables.get("priorities", pd.DataFrame())
    if p.empty:
        return None
    p = p[(p["wave"] == ctx.wave) & (p["area_level"] == "city") & (p["reliability"] != "suppress")]
    if p.empty:
        return None
    top = p.sort_values("rank").iloc[[0]].copy()
    ind = f"priority_{top['problem'].iloc[0]}"
    est = top.assign(indicator=ind, statistic="share", area="city")
    cols = ["area_level", "area", "indicator", "statistic", "estimate", "ci_low", "ci_high", "n", "reliability",
            "reliability_reason"]
    row = _with_comparisons(ctx, est[cols])
    row["label"] = _label_col(top, ctx.lang).to_numpy()
    row["department"] = top["department"].map(ctx.dept).to_numpy()
    row["rank_low"] = top["rank_low"].to_numpy()
    row["rank_high"] = top["rank_high"].to_numpy()
    lang = ctx.lang
    cols = [Column("label", t("Problem", lang)), Column("department", t("Department", lang)),
            Column("estimate", t("Share naming it a top problem", lang), "pct"), Column("ci_low", t("CI low", lang), "pct"),
            Column("ci_high", t("CI high", lang), "pct"), Column("rank_low", t("Rank range from", lang), "int"),
            Column("rank_high", t("Rank range to", lang), "int")]
    if ctx.wave_ref is not None:
        cols += [Column("chg", t("Change since {wave}", lang, wave=ctx.wl(ctx.wave_ref)), "pp"), Column("chg_sig", t("Significant", lang))]
    return Table("top_priority", t("Top priority, citywide", lang), row.reset_index(drop=True), cols, row_header="label")


def _label_col(df: pd.DataFrame, lang: str) -> pd.Series:
    col = f"label_{lang}" if f"label_{lang}" in df.columns else "label_en"
    return df[col].where(df[col].notna() & (df[col].astype(str) != ""), df["label_en"])


def _with_area_names(ctx: _Ctx, df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["level_text"] = df["area_level"].map(lambda x: t(LEVEL_WORDS[x], ctx.lang) if x in LEVEL_WORDS else str(x))
    df["area_text"] = [ctx.area(lv, a) for lv, a in zip(df["area_level"], df["area"], strict=True)]
    if "_modeled" in df.columns:  # a modeled number: the area is marked (the legend says what ◇ means)
        df["area_text"] = [f"{a} ◇" if m else a for a, m in zip(df["area_text"], df["_modeled"], strict=True)]
    return df


def _priorities(ctx: _Ctx) -> Section | None:
    p = ctx.wave_rows("priorities")
    if p.empty:
        return None
    lang = ctx.lang
    p["label"] = _label_col(p, lang)
    p["dept_text"] = p["department"].map(ctx.dept)
    sup = p["reliability"].eq("suppress")
    for v in ("estimate", "ci_low", "ci_high"):
        p[v] = p[v].astype(float).where(~sup)
    for v in ("rank", "rank_low", "rank_high"):
        p[v] = p[v].astype("Float64").where(~sup).astype(object).where(~sup, None)
    p["_suppressed"] = sup.to_numpy()
    p["rel_text"] = p["reliability"].map(ctx.rel)
    p["note"] = p["reliability_reason"].where(p["reliability"] != "ok", None)
    p = _sort_by_area_then(ctx, _with_area_names(ctx, p.assign(_r=p["rank"].astype(float))), "_r")
    cols = [Column("level_text", t("Level", lang)), Column("area_text", t("Area", lang)),
            Column("rank", t("Rank", lang), "int"), Column("rank_low", t("Rank range from", lang), "int"),
            Column("rank_high", t("Rank range to", lang), "int"), Column("label", t("Problem", lang)),
            Column("dept_text", t("Department", lang)), Column("estimate", t("Share naming it a top problem", lang), "pct"),
            Column("ci_low", t("CI low", lang), "pct"), Column("ci_high", t("CI high", lang), "pct"),
            Column("n", t("n (answers)", lang), "int"), Column("rel_text", t("Reliability", lang)),
            Column("note", t("Note", lang))]
    table = Table("priorities", t("Priorities", lang), p.reset_index(drop=True), cols, split_by="area_key",
                  row_header="label", split_drop=("level_text", "area_text"))
    return Section("priorities", t("Priorities", lang), intro=t("What residents want fixed first in {wave}, by area, with 95% intervals and the range of ranks the intervals allow. Each problem is owned by the department that can act.", lang, wave=ctx.wl(ctx.wave)),
                   tables=[table], legend=_legend(ctx))


def _sort_by_area_then(ctx: _Ctx, df: pd.DataFrame, then: str) -> pd.DataFrame:
    lv = {x: k for k, x in enumerate(LEVEL_ORDER)}
    df = df.assign(_lv=df["area_level"].map(lambda x: lv.get(x, 9)), _ak=df["area"].map(natural_key))
    df = df.sort_values(["_lv", "_ak", then], kind="stable").drop(columns=["_lv", "_ak"])
    df["area_key"] = [f"{a}" if lv_ == "city" else f"{a} ({lt})" for a, lv_, lt in
                      zip(df["area_text"], df["area_level"], df["level_text"], strict=True)]
    return df


def _topic(ctx: _Ctx, key: str, topics: tuple[str, ...]) -> Section | None:
    ids = [i for i in ctx.order if ctx.ind.loc[ctx.ind["indicator"] == i, "topic"].iloc[0] in topics]
    e = ctx.est[ctx.est["indicator"].isin(ids)]
    e = e[e["statistic"] == e["indicator"].map(ctx.stat)]
    if e.empty:
        return None
    rows = _with_comparisons(ctx, e)
    rows["label"] = rows["indicator"].map(ctx.labels)
    rows = _with_area_names(ctx, rows)
    lv = {x: k for k, x in enumerate(LEVEL_ORDER)}
    rows = rows.assign(_o=rows["indicator"].map(ctx.order), _lv=rows["area_level"].map(lambda x: lv.get(x, 9)),
                       _ak=rows["area"].map(natural_key))
    rows = rows.sort_values(["_o", "_lv", "_ak"], kind="stable").drop(columns=["_o", "_lv", "_ak"])
    lang = ctx.lang
    title = t(TITLES[key], lang)
    cols = _estimate_columns(ctx, [Column("label", t("Indicator", lang)), Column("level_text", t("Level", lang)),
                                   Column("area_text", t("Area", lang))])
    note = t("◇ Modeled (small-area estimate): where a neighborhood or beat has too few answers for a reliable direct estimate, the number shown comes from a Fay–Herriot model that combines the area's answers with its district's estimate, its previous wave and its population; its interval is the model's. A modeled number is never tested for a change or a difference (those cells stay empty).", lang) if "_modeled" in rows.columns and rows["_modeled"].any() else ""
    table = Table(key, title, rows.reset_index(drop=True), cols, note=note, split_by="label", row_header="area_text")
    return Section(key, title, intro=t("{topic} in {wave}, by area (headline statistic of each indicator, all residents).", lang, topic=title, wave=ctx.wl(ctx.wave)), tables=[table],
                   legend=_legend(ctx))


def _importance(ctx: _Ctx) -> Section | None:
    d = ctx.tables.get("importance_satisfaction", pd.DataFrame())
    if d.empty:
        return None
    d = d[d["wave"] == ctx.wave].copy()
    if d.empty:
        return None
    lang = ctx.lang
    d["label"] = _label_col(d, lang)
    d["dept_text"] = d["department"].map(ctx.dept)
    d["band_text"] = d["band"].map(lambda b: t(BANDS[b], lang) if b in BANDS else b)
    d = _with_area_names(ctx, d)
    d = _sort_by_area_then(ctx, d.assign(_s=-d["is_score"].astype(float)), "_s")
    cols = [Column("level_text", t("Level", lang)), Column("area_text", t("Area", lang)),
            Column("label", t("Service", lang)), Column("dept_text", t("Department", lang)),
            Column("importance", t("Importance", lang), "pct"), Column("importance_se", t("Importance SE", lang), "pct"),
            Column("satisfaction", t("Satisfaction", lang), "pct"),
            Column("satisfaction_se", t("Satisfaction SE", lang), "pct"),
            Column("is_score", t("I-S score", lang), "num"), Column("band_text", t("Priority band", lang))]
    table = Table("importance", t("Importance-satisfaction", lang), d.reset_index(drop=True), cols, split_by="area_key",
                  row_header="label", split_drop=("level_text", "area_text"))
    drivers = _drivers(ctx)
    return Section("importance", t("Importance-satisfaction", lang), intro=t("Services rated important but with lower satisfaction are the highest priorities (ETC Institute importance-satisfaction bands), {wave}.", lang, wave=ctx.wl(ctx.wave)),
                   tables=[table, *([drivers] if drivers is not None else [])])


def _drivers(ctx: _Ctx) -> Table | None:
    """The key drivers of the wave (``drivers`` table), citywide and per district: each outcome's
    drivers by rank, with the coefficient (points), its interval, the adjusted p, the share
    satisfied and n; a suppressed model shows no numbers and says why. The note gives the caveats."""
    d = ctx.wave_rows("drivers")
    if d.empty:
        return None
    lang = ctx.lang
    d["label"] = _label_col(d, lang)
    d["outcome_text"] = d["outcome"].map(lambda o: ctx.labels.get(o, o))
    d["_order"] = d["outcome"].map(lambda o: ctx.order.get(o, 999)) * 100 + d["rank"].fillna(99).astype(float)
    d = _with_area_names(ctx, d)
    d = _sort_by_area_then(ctx, d, "_order")
    sup = d["reliability"].eq("suppress")
    for c in ("coefficient", "ci_low", "ci_high", "p_adj"):
        d[c] = d[c].where(~sup)
    d["_suppressed"] = sup.to_numpy()
    d["rel_text"] = d["reliability"].map(ctx.rel)
    d["note"] = d["reliability_reason"].where(sup, None)
    cols = [Column("level_text", t("Level", lang)), Column("area_text", t("Area", lang)),
            Column("outcome_text", t("Overall rating", lang)), Column("label", t("Service", lang)),
            Column("coefficient", t("Importance (points)", lang), "pp"), Column("ci_low", t("CI low", lang), "pp"),
            Column("ci_high", t("CI high", lang), "pp"), Column("p_adj", t("Adjusted p", lang), "p"),
            Column("satisfaction", t("Satisfaction", lang), "pct"), Column("n", t("n (complete cases)", lang), "int"),
            Column("rel_text", t("Reliability", lang)), Column("note", t("Note", lang))]
    return Table("drivers", t("Key drivers of overall satisfaction and trust", lang), d.reset_index(drop=True), cols, split_by="area_key",
                 row_header="label", split_drop=("level_text", "area_text"), note=t("Importance is the coefficient of a design-based linear probability model (svyglm on the raked weights): how many percentage points more likely residents satisfied with the service are to give the positive overall answer, the other services held equal, with its 95% interval and the p-value adjusted over the services of the model. These are associations among residents, not causes. Only residents who answered the overall question and every service count (complete cases, n); a model needs at least 100 of them and 10 per service.", lang))


def _comparisons(ctx: _Ctx) -> Section:
    lang = ctx.lang
    c = ctx.comp_kind.get("area_vs_rest", pd.DataFrame())
    if not c.empty:
        c = c[c["statistic"] == c["indicator"].map(ctx.stat)]
        heads = set(headline_indicators(ctx.ind))
        keep = c["indicator"].isin(heads) | (c["significant"].fillna(False).astype(bool) & (c["reliability"] != "suppress"))
        c = c[keep].copy()
    if c.empty:
        c = pd.DataFrame(columns=["indicator", "area_level", "area", "statistic", "estimate", "ci_low", "ci_high",
                                  "p_adj", "significant", "reliability", "reliability_reason"])
    sup = c["reliability"].eq("suppress")
    for v in ("estimate", "ci_low", "ci_high", "p_adj"):
        c[v] = c[v].astype(float).where(~sup)
    c["_suppressed"] = sup.to_numpy()
    c["_stat"] = c["statistic"]
    c["sig"] = [None if s else ctx.yn(v) for s, v in zip(sup, c["significant"], strict=True)]
    c["rel_text"] = c["reliability"].map(ctx.rel)
    c["note"] = c["reliability_reason"].where(c["reliability"] != "ok", None)
    c["label"] = c["indicator"].map(ctx.labels)
    c = _with_area_names(ctx, c) if len(c) else c.assign(level_text=[], area_text=[])
    lv = {x: k for k, x in enumerate(LEVEL_ORDER)}
    c = c.assign(_o=c["indicator"].map(ctx.order), _lv=c["area_level"].map(lambda x: lv.get(x, 9)),
                 _ak=c["area"].map(natural_key)).sort_values(["_o", "_lv", "_ak"], kind="stable")
    cols = [Column("label", t("Indicator", lang)), Column("level_text", t("Level", lang)),
            Column("area_text", t("Area", lang)), Column("estimate", t("Difference vs rest", lang), "dstat"),
            Column("ci_low", t("CI low", lang), "dstat"), Column("ci_high", t("CI high", lang), "dstat"),
            Column("p_adj", t("Adjusted p", lang), "p"), Column("sig", t("Significant", lang)),
            Column("rel_text", t("Reliability", lang)), Column("note", t("Note", lang))]
    table = Table("comparisons", t("Area comparisons", lang), c.drop(columns=["_o", "_lv", "_ak"]).reset_index(drop=True),
                  cols, split_by="label", row_header="area_text")
    return Section("comparisons", t("Area comparisons", lang), intro=t("Each area against the rest of the city in {wave}: every area for the headline indicators, and every significant reliable difference for the others (p adjusted for multiple comparisons).", lang, wave=ctx.wl(ctx.wave)),
                   tables=[table], legend=_legend(ctx))


def _diag(ctx: _Ctx, kind: str) -> pd.DataFrame:
    d = ctx.tables.get("diagnostics", pd.DataFrame())
    return d[d["kind"] == kind] if not d.empty else d


def _methodology(ctx: _Ctx) -> Section:
    lang = ctx.lang
    waves = wave_order(ctx.tables)
    tables: list[Table] = []
    facts: list[tuple[str, str]] = []
    s = _diag(ctx, "sample")
    s = s[s["metric"] == "completes"] if not s.empty else s
    if not s.empty:
        wide = s.pivot_table(index=["area_level", "area"], columns="wave", values="value", aggfunc="first").reset_index()
        wide = _with_area_names(ctx, ctx.sort_areas(wide))
        wcols = [w for w in waves if w in wide.columns]
        for w in wcols:
            wide[w] = wide[w].astype(float).round().astype("Int64").astype(object).where(wide[w].notna(), None)
        tables.append(Table("sample", t("Completed interviews per wave and area", lang), wide.reset_index(drop=True),
                            [Column("level_text", t("Level", lang)), Column("area_text", t("Area", lang))]
                            + [Column(w, ctx.wl(w), "int") for w in wcols], row_header="area_text"))
    wdiag = _diag(ctx, "weighting")
    metrics = {"kish_n_eff": ("n_eff", "num"), "deff_weighting": ("deff", "num")}
    if not wdiag.empty:
        a = wdiag[(wdiag["wave"] == ctx.wave) & wdiag["metric"].isin(list(metrics))]
        comp = s[s["wave"] == ctx.wave] if not s.empty else s
        both = pd.concat([a, comp], ignore_index=True)
        if not both.empty:
            wide = both.pivot_table(index=["area_level", "area"], columns="metric", values="value",
                                    aggfunc="first").reset_index()
            wide = _with_area_names(ctx, ctx.sort_areas(wide))
            cols = [Column("level_text", t("Level", lang)), Column("area_text", t("Area", lang))]
            if "completes" in wide.columns:
                cols.append(Column("completes", t("Completes", lang), "int"))
            cols += [Column(m, t(METRIC_WORDS[k], lang), kind) for m, (k, kind) in metrics.items() if m in wide.columns]
            tables.append(Table("weighting_areas", t("Weighting diagnostics by area, {wave}", lang, wave=ctx.wl(ctx.wave)),
                                wide.reset_index(drop=True), cols, row_header="area_text"))
        city = wdiag[wdiag["area_level"] == "city"]
        wm = {"kish_n_eff": "n_eff", "deff_weighting": "deff", "weight_min": "weight_min", "weight_max": "weight_max",
              "weight_ratio": "weight_ratio", "trimmed": "trimmed", "max_margin_error": "margin_gap"}
        rows = []
        for w in waves:
            g = city[city["wave"] == w]
            if g.empty:
                continue
            r = {"wave_text": ctx.wl(w)}
            for m in wm:
                v = g.loc[g["metric"] == m, "value"]
                r[m] = float(v.iloc[0]) if len(v) else None
            notes = [f"{m}: {d}" for m, d in zip(g["metric"], g["detail"], strict=True) if isinstance(d, str) and d]
            r["notes"] = "; ".join(notes) or None
            rows.append(r)
        if rows:
            df = pd.DataFrame(rows)
            cols = [Column("wave_text", t("Wave", lang))] + [
                Column(m, t(METRIC_WORDS[k], lang), {"trimmed": "int", "max_margin_error": "pct2"}.get(m, "num")) for m, k in wm.items()
                if df[m].notna().any()] + [Column("notes", t("Notes", lang))]
            tables.append(Table("weighting_waves", t("Weighting diagnostics by wave, citywide", lang), df, cols, row_header="wave_text"))
    rr = _diag(ctx, "response_rate")
    if not rr.empty:
        wide = rr.pivot_table(index=["wave", "area_level", "area"], columns="metric", values="value",
                              aggfunc="first").reset_index()
        det = rr.drop_duplicates(["wave", "area_level", "area"]).set_index(["wave", "area_level", "area"])["detail"]
        wide["detail"] = [det.get((w, lv, a)) for w, lv, a in zip(wide["wave"], wide["area_level"], wide["area"], strict=True)]
        wide = _with_area_names(ctx, ctx.sort_areas(wide.assign(_wo=wide["wave"].map({w: k for k, w in enumerate(waves)})),
                                                    ["_wo"]))
        wide["wave_text"] = wide["wave"].map(ctx.wl)
        metric_cols = [m for m in ("RR1", "RR2", "RR3", "RR4", "COOP1", "COOP2", "REF1", "CON1") if m in wide.columns]
        metric_cols += sorted(m for m in rr["metric"].unique() if m not in metric_cols)
        tables.append(Table("response_rates", t("Response rates (AAPOR)", lang), wide.reset_index(drop=True),
                            [Column("wave_text", t("Wave", lang)), Column("level_text", t("Level", lang)),
                             Column("area_text", t("Area", lang))] + [Column(m, m, "pct") for m in metric_cols]
                            + [Column("detail", t("Note", lang))], row_header="area_text"))
    else:
        facts.append((t("Response rates (AAPOR)", lang), t("No response rates: no invitations are recorded in survey.toml.", lang)))
    funnel = _funnel(ctx)
    if funnel is not None:
        tables.append(funnel)
    tables += _rules(ctx)
    al = _diag(ctx, "scale_alpha")
    if not al.empty:
        al = al.copy()
        al["wave_text"] = al["wave"].map(ctx.wl)
        al["index_text"] = al["detail"].map(lambda d: ctx.labels.get(d, d) if isinstance(d, str) else "")
        al = al.assign(_wo=al["wave"].map({w: k for k, w in enumerate(waves)})).sort_values(["_wo", "detail"])
        tables.append(Table("alpha", t("Scale reliability (Cronbach's alpha)", lang), al.reset_index(drop=True),
                            [Column("wave_text", t("Wave", lang)), Column("index_text", t("Index", lang)),
                             Column("value", t("Alpha", lang), "num")], row_header="index_text"))
    tables.append(_wording(ctx))
    return Section("methodology", t("Methodology", lang), intro=t("How the numbers were made and how far to trust them.", lang), facts=facts,
                   tables=tables)


def _funnel(ctx: _Ctx) -> Table | None:
    """The wave's completes for the response rate, the quality exclusions, the partial interviews
    added and the responses analysed (``sample_funnel`` diagnostics, :func:`funnel_steps`)."""
    lang = ctx.lang
    steps = funnel_steps(ctx.tables.get("diagnostics", pd.DataFrame()), ctx.wave)
    if not steps:
        return None

    df = pd.DataFrame({"step": [funnel_step_label(s, r, lang) for s, r, _ in steps], "count": [int(v) for _, _, v in steps]})
    return Table("funnel", t("From the response rate's completes to the responses analysed, {wave}", lang, wave=ctx.wl(ctx.wave)), df,
                 [Column("step", t("Step", lang)), Column("count", t("Responses", lang), "int")],
                 note=t("The response rate counts every complete interview (AAPOR); the analysis leaves out those the quality rules exclude (each counted once, under its first reason) and adds the partial interviews it can use.", lang), row_header="step")


def _rules(ctx: _Ctx) -> list[Table]:
    lang = ctx.lang
    rows: list[dict] = []
    runs = ctx.tables.get("runs", pd.DataFrame())
    settings = {}
    if not runs.empty and isinstance(runs["settings"].iloc[-1], str):
        try:
            settings = json.loads(runs["settings"].iloc[-1]).get("analysis", {}) or {}
        except (ValueError, AttributeError):
            settings = {}
    rows.append({"rule": t("Confidence level", lang), "value": "95%"})
    for key, label in (("min_n", "rule_min_n"), ("nchs", "rule_nchs"), ("ci_method", "rule_ci"),
                       ("adjust", "rule_adjust")):
        if key in settings:
            v = settings[key]
            rows.append({"rule": t(RULES[label], lang), "value": ctx.yn(v) if isinstance(v, bool) else str(v)})
    rr = _diag(ctx, "reliability_rule")
    if not rr.empty:
        for r in rr[rr["wave"] == ctx.wave].itertuples():
            if isinstance(r.detail, str) and r.detail:
                rows.append({"rule": r.detail, "value": f"{r.value:g}"})
    out = [Table("rules", t("Reliability rules", lang), pd.DataFrame(rows), [Column("rule", t("Rule", lang)),
                                                                 Column("value", t("Value", lang))], row_header="rule")]
    # the numbers shown (ctx.est: the direct one where reliable, else the modeled one), so that a
    # suppressed direct number replaced by a modeled one counts where it is shown, marked ◇
    e = ctx.est
    if not e.empty:
        reason = e["reliability_reason"].astype(object).where(e["reliability_reason"].notna(), "")
        if "modeled" in e.columns and e["modeled"].any():
            mark = f"◇ {t('modeled (small-area estimate)', lang)}"
            reason = reason.where(~e["modeled"].astype(bool), [
                f"{mark}; {r.removeprefix('modeled; ')}" if r else mark
                for r in reason.where(e["modeled"].astype(bool), "")])
        cnt = (e.assign(reason=reason).groupby(["reliability", "reason"]).size().reset_index(name="count"))
        rank = {"ok": 0, "flag": 1, "suppress": 2}
        cnt = cnt.assign(_r=cnt["reliability"].map(lambda x: rank.get(x, 3))).sort_values(["_r", "count"],
                                                                                         ascending=[True, False])
        cnt["rel_text"] = cnt["reliability"].map(lambda x: ctx.rel(x) or x)
        out.append(Table("reliability_counts", t("Reliability of the estimates for all residents, {wave}", lang, wave=ctx.wl(ctx.wave)),
                         cnt.reset_index(drop=True),
                         [Column("rel_text", t("Reliability", lang)), Column("reason", t("Reason", lang)),
                          Column("count", t("Estimates", lang), "int")], row_header="rel_text"))
    return out


def _wording(ctx: _Ctx) -> Table:
    lang = ctx.lang
    ind = ctx.ind
    ind = ind[ind["statistic"] == ind["indicator"].map(ctx.stat)].copy()
    wcol = f"wording_{lang}" if f"wording_{lang}" in ind.columns else "wording_en"
    ind["label"] = ind["indicator"].map(ctx.labels)
    ind["wording"] = ind[wcol].where(ind[wcol].notna(), ind.get("wording_en"))
    ind["topic_text"] = ind["topic"]
    ind["stat_text"] = ind["statistic"].map(lambda s: t(STATS[s], lang) if s in STATS else s)
    ind["dept_text"] = ind["department"].map(ctx.dept)
    return Table("wording", t("Indicators and question wording", lang), ind.reset_index(drop=True),
                 [Column("indicator", t("Indicator id", lang)), Column("label", t("Indicator", lang)),
                  Column("topic_text", t("Topic", lang)), Column("stat_text", t("Statistic", lang)),
                  Column("dept_text", t("Department", lang)), Column("wording", t("Question wording", lang)),
                  Column("definition", t("Definition", lang))], row_header="label")
