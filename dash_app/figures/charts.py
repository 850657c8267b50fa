"""Pure figure builders: functions of results-table DataFrames that return a plotly Figure.

Every number drawn carries its 95% interval (error bars or bands); suppressed cells are never drawn
as values: they are greyed (maps) or marked "suppressed" with the reason (charts).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dash_app.figures.common import (
    CITY_COLOR,
    OKABE_ITO,
    SEQUENTIAL,
    SUPPRESSED_COLOR,
    axis_title,
    empty_figure,
    figure,
    fmt_ci,
    fmt_value,
    scale,
    wrap,
    wrapped_ticks,
)

__all__ = ["BAND_COLORS", "drivers_figure", "equity_figure", "importance_satisfaction_figure", "map_figure",
           "priorities_figure", "rgba", "trends_figure"]

BAND_COLORS = {"highest": "#D55E00", "high": "#E69F00", "medium": "#0072B2", "low": "#009E73"}
BAND_ORDER = ["highest", "high", "medium", "low"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "circle-open", "square-open", "diamond-open", "triangle-down"]
MIN_SPAN = {"share": 20.0, "mean": 0.8, "score": 0.8}  # narrowest colour range of a map, in axis units
# plotly >= 5.24 draws maps with MapLibre (Choroplethmap); older releases only have the Mapbox
# trace, which also works offline with the "white-bg" style (no tiles, no token).
MAP_TRACE, MAP_LAYOUT = ("choroplethmap", "map") if hasattr(go, "Choroplethmap") else ("choroplethmapbox", "mapbox")


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _suppressed(df: pd.DataFrame) -> pd.Series:
    return df["reliability"].eq("suppress") if "reliability" in df.columns else pd.Series(False, index=df.index)


def _hover_value(r, statistic: str) -> str:
    return f"{fmt_value(r['estimate'], statistic)} (95% CI {fmt_ci(r['ci_low'], r['ci_high'], statistic)})"


def priorities_figure(df: pd.DataFrame, *, label_col: str = "label_en", by_department: bool = False,
                      department_labels: dict[str, str] | None = None, title: str | None = None,
                      axis_label: str = "Share naming it a top problem", suppressed_text: str = "suppressed",
                      no_data: str = "No data", rank_label: str = "rank range") -> go.Figure:
    """Ranked problems as dots with 95% intervals, coloured by owning department.

    ``df``: rows of ``priorities`` for one wave and area. With ``by_department`` the problems are
    grouped under their department (departments ordered by their top problem), else ranked.
    """
    if df.empty:
        return empty_figure(no_data)
    dl = department_labels or {}
    d = df.copy()
    d["_dept"] = d["department"].fillna("other")
    d["_sup"] = _suppressed(d)
    if by_department:
        top = d.groupby("_dept")["rank"].min().sort_values()
        d["_dorder"] = d["_dept"].map({k: i for i, k in enumerate(top.index)})
        d = d.sort_values(["_dorder", "rank"])
        d["_y"] = [f"{dl.get(dep, dep)} · {lab}" for dep, lab in zip(d["_dept"], d[label_col], strict=True)]
    else:
        d = d.sort_values("rank")
        d["_y"] = [f"{int(r)}. {lab}" for r, lab in zip(d["rank"], d[label_col], strict=True)]
    traces = []
    for i, dep in enumerate(dict.fromkeys(d["_dept"])):
        s = d[(d["_dept"] == dep) & ~d["_sup"]]
        if s.empty:
            continue
        color = OKABE_ITO[i % (len(OKABE_ITO) - 1)]  # 7 colours; the symbol tells the 8th department apart
        traces.append({
            "type": "scatter", "x": (s["estimate"] * 100).to_numpy(), "y": s["_y"].tolist(), "mode": "markers",
            "name": dl.get(dep, dep), "marker": {"color": color, "size": 11, "symbol": SYMBOLS[i % len(SYMBOLS)],
                                                 "line": {"color": "white", "width": 1}},
            "error_x": {"type": "data", "symmetric": False, "array": ((s["ci_high"] - s["estimate"]) * 100).to_numpy(),
                        "arrayminus": ((s["estimate"] - s["ci_low"]) * 100).to_numpy(), "color": color,
                        "thickness": 2, "width": 4},
            "customdata": np.stack([s["ci_low"] * 100, s["ci_high"] * 100, s["rank_low"], s["rank_high"], s["n"]], axis=-1),
            "hovertemplate": "%{y}<br>%{x:.0f}% (95% CI %{customdata[0]:.0f}–%{customdata[1]:.0f}%)"
                             f"<br>{rank_label} %{{customdata[2]:.0f}}–%{{customdata[3]:.0f}}; n=%{{customdata[4]:.0f}}<extra></extra>",
        })
    return ranked_shares_figure(traces, d, title=title, axis_label=axis_label, suppressed_text=suppressed_text,
                                row_height=44)


def ranked_shares_figure(traces: list[dict], d: pd.DataFrame, *, title: str | None, axis_label: str,
                         suppressed_text: str, row_height: int) -> go.Figure:
    """Horizontal shares in percent, one row per ``d["_y"]`` in its order (top first): the rows
    ``d["_sup"]`` marks suppressed carry their ``reliability_reason`` as a note instead of a value;
    the x axis runs from 0 past the highest upper bound; on a phone the labels wrap (priorities,
    comment themes)."""
    notes = [{"x": 0, "y": y, "xref": "x", "yref": "y", "xanchor": "left", "showarrow": False,
              "text": f"{suppressed_text}: {reason or ''}", "font": {"color": "#595959", "size": 12}}
             for y, reason in zip(d.loc[d["_sup"], "_y"], d.loc[d["_sup"], "reliability_reason"], strict=True)]
    hi = float(np.nanmax(d.loc[~d["_sup"], "ci_high"])) if (~d["_sup"]).any() else 1.0
    layout = {"annotations": notes,
              "yaxis": {"categoryorder": "array", "categoryarray": d["_y"].tolist(), "autorange": "reversed"},
              "xaxis": {"range": [0, min(100, math.ceil(hi * 10) * 10 + 5)], "title": {"text": f"{axis_label} (%)"},
                        "showgrid": True, "gridcolor": "#E5E5E5"}}
    cats = d["_y"].tolist()
    lines = sum(wrap(c, 12).count("<br>") + 1 for c in cats)
    compact = {**wrapped_ticks("yaxis", cats, 12), "height": max(320, 26 * len(d) + 14 * lines + 110)}
    return figure(traces, layout, title, height=max(320, row_height * len(d) + 110), compact=compact)


def _feature_key(props: dict) -> list[str]:
    keys = []
    for k in ("code", "slug", "name", "id"):
        v = props.get(k)
        if v is not None:
            keys.append(str(v))
            keys.append(str(v).lower())
    if props.get("name"):  # "Old Town" also matches the area code "old_town"
        keys.append("_".join(str(props["name"]).lower().split()))
    return keys


def prepare_geojson(geojson: dict) -> tuple[dict, pd.DataFrame]:
    """A copy of ``geojson`` with each feature's ``id`` set to a string key, and a table of features
    (fid, keys, name, district) for matching area codes to shapes."""
    feats, rows = [], []
    for i, f in enumerate(geojson.get("features", [])):
        props = f.get("properties") or {}
        fid = str(props.get("code", f.get("id", i)))
        feats.append({**f, "id": fid})
        rows.append({"fid": fid, "keys": set(_feature_key(props)) | {fid}, "name": props.get("name") or fid,
                     "district": None if props.get("district") is None else str(props["district"])})
    return {"type": "FeatureCollection", "features": feats}, pd.DataFrame(rows)


def _bounds(geojson: dict) -> tuple[float, float, float, float]:
    xs, ys = [], []

    def walk(c):
        if isinstance(c, list | tuple) and c and isinstance(c[0], int | float):
            xs.append(c[0])
            ys.append(c[1])
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)

    for f in geojson.get("features", []):
        walk((f.get("geometry") or {}).get("coordinates", []))
    return (min(xs), min(ys), max(xs), max(ys)) if xs else (-180, -60, 180, 75)


def map_view(geojson: dict, width: int = 900, height: int = 500) -> dict:
    """Centre and zoom that fit the shapes in a map of ``width`` x ``height`` pixels."""
    x0, y0, x1, y1 = _bounds(geojson)
    lon_span = max(x1 - x0, 1e-6)
    lat_span = max(y1 - y0, 1e-6) / math.cos(math.radians((y0 + y1) / 2))
    zoom = min(math.log2(360 * width / (512 * lon_span)), math.log2(360 * height / (512 * lat_span))) - 0.35
    return {"center": {"lon": (x0 + x1) / 2, "lat": (y0 + y1) / 2}, "zoom": round(zoom, 2)}


def map_figure(est: pd.DataFrame, geojson: dict | None, *, level: str, statistic: str, label: str,
               area_names: dict[str, str] | None = None, title: str | None = None,
               suppressed_text: str = "suppressed", no_data_text: str = "no estimate",
               no_map_text: str = "No area shapes (areas.geojson) in this project",
               prepared: tuple[dict, pd.DataFrame] | None = None, geojson_url: str | None = None,
               view: dict | None = None, modeled_text: str = "◇ Modeled (small-area estimate)",
               modeled_hover: str = "modeled (small-area estimate)") -> go.Figure:
    """Choropleth of one indicator by area, offline (``go.Choroplethmap``, ``map_style="white-bg"``).

    ``est``: estimate rows of one wave, indicator and level (group ``all``). At district level the
    neighborhood shapes are coloured by their district's value (shapes carry a ``district``
    property). Suppressed and missing areas are drawn grey with the reason on hover.
    ``prepared``: ``prepare_geojson(geojson)`` computed once by the caller (it is the same for every
    call on one results snapshot). ``geojson_url``: where the browser can fetch the prepared
    shapes (features with ``id`` = their key): each trace references it instead of carrying its
    shapes. ``view``: ``map_view`` of the prepared shapes, computed once by the caller.
    Rows with ``modeled`` true (a small-area estimate shown where the direct one is not reliable)
    are coloured on the same scale in a trace of their own, outlined in black, named
    ``modeled_text`` in the legend and ``modeled_hover`` on hover.
    """
    if not geojson or not geojson.get("features"):
        return empty_figure(no_map_text)
    gj, feats = prepared if prepared is not None else prepare_geojson(geojson)
    names = area_names or {}
    by_code = {str(r["area"]): r for r in est.to_dict("records")}
    lookup = {}
    for code in by_code:
        lookup[code] = code
        lookup[code.lower()] = code
    rows = []
    for f in feats.to_dict("records"):
        if level == "district":
            code = None if f["district"] is None else lookup.get(f["district"], lookup.get(f["district"].lower()))
            area_label = names.get(code, (f["district"] or "").replace("_", " ").title())
            shape_label = f"{area_label} ({f['name']})"
        else:
            code = next((lookup[k] for k in f["keys"] if k in lookup), None)
            shape_label = names.get(code, f["name"]) if code else f["name"]
        r = by_code.get(code) if code else None
        rows.append({"fid": f["fid"], "label": shape_label, "row": r})
    k = scale(statistic)
    ok = [x for x in rows if x["row"] is not None and x["row"]["reliability"] != "suppress"]
    grey = [x for x in rows if x not in ok]
    traces = []
    by_fid = {f["id"]: f for f in gj["features"]}

    def subset(items):  # each trace carries only its own shapes (or references them all)
        return geojson_url or {"type": "FeatureCollection", "features": [by_fid[x["fid"]] for x in items]}

    def modeled(x) -> bool:
        v = x["row"].get("modeled")
        return v is not None and not (isinstance(v, float) and v != v) and bool(v)

    if ok:
        z = [x["row"]["estimate"] * k for x in ok]
        # colour range at least MIN_SPAN wide: a 1-point spread must not look like a 50-point one
        span = MIN_SPAN.get(statistic, MIN_SPAN["mean"])
        mid, width = (max(z) + min(z)) / 2, max(max(z) - min(z), span)
        zmin, zmax = mid - width / 2, mid + width / 2
        if statistic == "share":
            zmin, zmax = max(0.0, zmin), min(100.0, zmax)
        direct = [x for x in ok if not modeled(x)]
        model = [x for x in ok if modeled(x)]

        def text(items, mark: str = "") -> list[str]:
            return [f"<b>{mark}{x['label']}</b><br>" + (f"{modeled_hover}: " if mark else "")
                    + f"{_hover_value(x['row'], statistic)}<br>n={int(x['row']['n'])}"
                    + (f"<br>⚠ {x['row']['reliability_reason']}" if x["row"]["reliability"] == "flag" else "")
                    for x in items]

        bar = {"title": {"text": "%" if statistic == "share" else ""}, "thickness": 14}
        if direct:
            traces.append({
                "type": MAP_TRACE, "geojson": subset(direct), "locations": [x["fid"] for x in direct],
                "z": [x["row"]["estimate"] * k for x in direct], "zmin": zmin, "zmax": zmax, "colorscale": SEQUENTIAL,
                "marker": {"line": {"color": "white", "width": 1.5}, "opacity": 0.9}, "text": text(direct),
                "hovertemplate": "%{text}<extra></extra>", "name": label, "colorbar": bar,
            })
        if model:
            # same colours, a heavy black outline and a legend entry: a modeled number is never
            # mistaken for a direct one
            traces.append({
                "type": MAP_TRACE, "geojson": subset(model), "locations": [x["fid"] for x in model],
                "z": [x["row"]["estimate"] * k for x in model], "zmin": zmin, "zmax": zmax,
                "colorscale": SEQUENTIAL, "showscale": not direct, "colorbar": bar,
                "marker": {"line": {"color": "#1A1A1A", "width": 3.5}, "opacity": 0.75},
                "text": text(model, "◇ "), "hovertemplate": "%{text}<extra></extra>", "name": modeled_text,
                "showlegend": True,
            })
    if grey:
        text = [f"<b>{x['label']}</b><br>" + (f"{suppressed_text}: {x['row']['reliability_reason']}"
                                             if x["row"] is not None else no_data_text) for x in grey]
        traces.append({
            "type": MAP_TRACE, "geojson": subset(grey), "locations": [x["fid"] for x in grey],
            "z": [0] * len(grey),
            "colorscale": [[0, SUPPRESSED_COLOR], [1, SUPPRESSED_COLOR]], "showscale": False,
            "marker": {"line": {"color": "#6E6E6E", "width": 1.5}, "opacity": 0.85}, "text": text,
            "hovertemplate": "%{text}<extra></extra>", "name": suppressed_text,
        })
    layout = {MAP_LAYOUT: {"style": "white-bg", **(view or map_view(gj))}, "margin": {"l": 0, "r": 0, "t": 50 if title else 10, "b": 0},
              # the modeled layer's entry inside the map, bottom left (above it would cover the title)
              "legend": {"yanchor": "bottom", "y": 0.01, "xanchor": "left", "x": 0.01,
                         "bgcolor": "rgba(255,255,255,0.85)"}}
    return figure(traces, layout, title, height=540)


def trends_figure(est: pd.DataFrame, *, areas: list[str], area_names: dict[str, str], statistic: str,
                  label: str, waves: list[str], title: str | None = None, city_label: str = "City",
                  no_data: str = "No data", suppressed_text: str = "suppressed",
                  no_estimate_text: str = "no estimate", modeled_text: str = "◇ Modeled (small-area estimate)",
                  modeled_hover: str = "modeled (small-area estimate)") -> go.Figure:
    """An indicator over waves: the city as a bold black line with its 95% band, each chosen area
    as a line with 95% error bars, nudged sideways so that overlapping intervals stay readable
    (several overlapping bands blend into one grey mass).

    ``est``: estimate rows of one indicator (group ``all``) for the city and ``areas``. Suppressed
    points are left out of lines and intervals (gaps), never drawn as values. Points with
    ``modeled`` true (small-area estimates) are open markers, ``modeled_hover`` on hover, and the
    legend has a ``modeled_text`` entry.
    """
    if est.empty:
        return empty_figure(no_data)
    k = scale(statistic)
    traces = []
    any_modeled = False
    shown = [a for a in areas if a != "city"]
    step = min(0.06, 0.4 / max(len(shown), 1))
    series = [(a, OKABE_ITO[i % (len(OKABE_ITO) - 1)], 2.5, area_names.get(a, a), (i - (len(shown) - 1) / 2) * step)
              for i, a in enumerate(shown)]
    series.append(("city", CITY_COLOR, 5, city_label, 0.0))
    pos = np.arange(len(waves), dtype=float)
    for area, color, width, name, nudge in series:
        s = est[est["area"] == area].set_index("wave").reindex(waves)
        sup = s["reliability"].eq("suppress")
        y = s["estimate"].where(~sup) * k
        lo = s["ci_low"].where(~sup) * k
        hi = s["ci_high"].where(~sup) * k
        keep = y.notna().to_numpy()
        x = pos + nudge
        if area == "city" and keep.sum() >= 1:
            xs = list(x[keep])
            traces.append({"type": "scatter", "x": xs + xs[::-1], "y": list(hi[keep]) + list(lo[keep])[::-1],
                           "fill": "toself", "mode": "lines", "line": {"width": 0},
                           "fillcolor": rgba(color, 0.14), "hoverinfo": "skip",
                           "showlegend": False, "name": f"{name} 95% CI", "legendgroup": area})
        mod = (s["modeled"].where(s["modeled"].notna(), False).astype(bool).to_numpy() & keep
               if "modeled" in s.columns else np.zeros(len(s), dtype=bool))
        any_modeled = any_modeled or bool(mod.any())
        hover = [f"{w}: " + (((f"◇ {modeled_hover}: " if m else "") + _hover_value(r, statistic) + f"; n={int(r['n'])}")
                             if not su and pd.notna(r["estimate"])
                             else (f"{suppressed_text}: {r['reliability_reason']}" if su else no_estimate_text))
                 for w, (_, r), su, m in zip(waves, s.iterrows(), sup, mod, strict=True)]
        trace = {"type": "scatter", "x": x, "y": y.to_numpy(), "mode": "lines+markers",
                 "name": name, "legendgroup": area, "line": {"color": color, "width": width},
                 "marker": {"size": 9 if area == "city" else 7,
                            **({"symbol": ["circle-open" if m else "circle" for m in mod], "size": 10,
                                "line": {"width": 2}} if mod.any() else {})},
                 "text": hover, "connectgaps": False,
                 "hovertemplate": f"<b>{name}</b><br>%{{text}}<extra></extra>"}
        if area != "city":
            trace["error_y"] = {"type": "data", "symmetric": False, "array": (hi - y).to_numpy(),
                                "arrayminus": (y - lo).to_numpy(), "color": color, "thickness": 1.5, "width": 3}
        traces.append(trace)
    if any_modeled:  # a legend entry for the open markers
        traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": modeled_text,
                       "marker": {"symbol": "circle-open", "size": 10, "color": "#595959", "line": {"width": 2}},
                       "hoverinfo": "skip", "showlegend": True})
    layout = {"xaxis": {"tickmode": "array", "tickvals": pos.tolist(), "ticktext": list(waves),
                        "range": [-0.35, len(waves) - 0.65]},
              "yaxis": {"title": {"text": axis_title(label, statistic)}, "showgrid": True, "gridcolor": "#E5E5E5"}}
    compact = {"xaxis.ticktext": [wrap(w, 9) for w in waves], "xaxis.tickfont.size": 12}
    return figure(traces, layout, title, height=460, compact=compact)


def equity_figure(est: pd.DataFrame, *, groups: list[str], statistic: str, label: str,
                  reference: pd.Series | None = None, title: str | None = None,
                  reference_label: str = "All residents", suppressed_text: str = "suppressed",
                  group_labels: dict[str, str] | None = None, no_data: str = "No data",
                  modeled_text: str = "◇ Modeled (small-area estimate)",
                  modeled_hover: str = "modeled (small-area estimate)") -> go.Figure:
    """An indicator by demographic group: dots with 95% intervals, the all-residents value as a
    dashed reference line with its band; suppressed groups are named with the reason, no value.
    Rows with ``modeled`` true (small-area estimates; the map's ranking of areas) are open
    markers in a trace of their own, named ``modeled_text`` in the legend."""
    if est.empty:
        return empty_figure(no_data)
    gl = group_labels or {}
    k = scale(statistic)
    d = est.set_index("group").reindex(groups).reset_index()
    d["_y"] = [gl.get(g, g) for g in d["group"]]
    sup = d["reliability"].eq("suppress") | d["estimate"].isna()
    s = d[~sup]
    shapes, notes = [], []
    if reference is not None:
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": reference["ci_low"] * k,
                       "x1": reference["ci_high"] * k, "y0": 0, "y1": 1, "fillcolor": rgba(CITY_COLOR, 0.08),
                       "line": {"width": 0}, "layer": "below"})
        x_ref = reference["estimate"] * k
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x_ref, "x1": x_ref, "y0": 0, "y1": 1,
                       "line": {"color": CITY_COLOR, "dash": "dash", "width": 2}})
        notes.append({"x": x_ref, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom", "showarrow": False,
                      "text": f"{reference_label}: {fmt_value(reference['estimate'], statistic)}"})
    mod = s["modeled"].fillna(False).astype(bool) if "modeled" in s.columns else pd.Series(False, index=s.index)
    traces = []
    for part, is_mod in ((s[~mod], False), (s[mod], True)):
        if part.empty:
            continue
        traces.append({
            "type": "scatter", "x": (part["estimate"] * k).to_numpy(), "y": part["_y"].tolist(), "mode": "markers",
            "name": modeled_text if is_mod else label,
            "marker": {"color": OKABE_ITO[0], "size": 12,
                       "symbol": [("diamond" if r == "flag" else "circle") + ("-open" if is_mod else "")
                                  for r in part["reliability"]], **({"line": {"width": 2}} if is_mod else {})},
            "error_x": {"type": "data", "symmetric": False,
                        "array": ((part["ci_high"] - part["estimate"]) * k).to_numpy(),
                        "arrayminus": ((part["estimate"] - part["ci_low"]) * k).to_numpy(), "color": OKABE_ITO[0],
                        "thickness": 2},
            "text": [(f"◇ {modeled_hover}: " if is_mod else "") + _hover_value(r, statistic) + f"; n={int(r['n'])}"
                     + (f"<br>⚠ {r['reliability_reason']}" if r["reliability"] == "flag" else "")
                     for _, r in part.iterrows()],
            "hovertemplate": "%{y}: %{text}<extra></extra>", "showlegend": is_mod,
        })
    lo_axis = float(np.nanmin(s["ci_low"])) * k if not s.empty else 0
    notes += [{"x": 0.0, "xref": "paper", "y": y, "yref": "y", "xanchor": "left", "showarrow": False,
               "text": f"{suppressed_text}: {reason or ''}", "font": {"color": "#595959", "size": 12}}
              for y, reason in zip(d.loc[sup, "_y"], d.loc[sup, "reliability_reason"], strict=True)]
    layout = {"shapes": shapes, "annotations": notes,
              "yaxis": {"categoryorder": "array", "categoryarray": d["_y"].tolist(), "autorange": "reversed"},
              "xaxis": {"title": {"text": axis_title(label, statistic)}, "showgrid": True, "gridcolor": "#E5E5E5",
                        "rangemode": "normal" if lo_axis > 0 else "tozero"}}
    cats = d["_y"].tolist()
    compact = wrapped_ticks("yaxis", cats, 14)
    return figure(traces, layout, title, height=max(300, 60 * len(d) + 120), compact=compact)


def _axis_range(lo: float, hi: float, pad: float = 6.0, floor: float = 0.0, ceil: float = 100.0) -> list[float]:
    """A range in 5-point steps around [lo, hi] with some room for labels, inside [floor, ceil]."""
    return [max(floor, math.floor((lo - pad) / 5) * 5), min(ceil, math.ceil((hi + pad) / 5) * 5)]


def place_labels(x: np.ndarray, y: np.ndarray, texts: list[str], xr: list[float], yr: list[float],
                 width: float = 1000.0, height: float = 420.0, char_px: float = 7.0,
                 slack: float = 40.0) -> list[tuple[float, float]]:
    """Pixel offsets (dx, dy; dy down) for point labels so that no two labels overlap and no label
    covers a marker: the first free spot among candidates around each point, nearest first.

    A greedy version of the usual label placement ("repel"): points are placed in the order given
    (put the most important first), each label a box of about ``char_px`` px per character by 16 px.
    """
    px = (np.asarray(x, float) - xr[0]) / (xr[1] - xr[0]) * width
    py = (yr[1] - np.asarray(y, float)) / (yr[1] - yr[0]) * height
    boxes: list[tuple[float, float, float, float]] = [(a - 8, b - 8, a + 8, b + 8) for a, b in zip(px, py, strict=True)]
    out = []
    for i, text in enumerate(texts):
        w, h = char_px * len(text) + 6, 16.0
        cands = [(0, -16), (0, 16), (w / 2 + 12, 0), (-w / 2 - 12, 0)]
        cands += [(dx, dy) for step in (2, 3, 4, 5, 6) for dy in (-16 * step, 16 * step)
                  for dx in (0, w / 2 + 12, -w / 2 - 12)]
        best = cands[0]
        for dx, dy in cands:
            cx, cy = px[i] + dx, py[i] + dy
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if box[0] < -slack or box[2] > width + slack or box[1] < -10 or box[3] > height + 10:
                continue
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
                best = (dx, dy)
                boxes.append(box)
                break
        else:
            boxes.append((px[i] - w / 2, py[i] - 24, px[i] + w / 2, py[i] - 8))
        out.append(best)
    return out


def importance_satisfaction_figure(df: pd.DataFrame, *, label_col: str = "label_en", title: str | None = None,
                                   band_labels: dict[str, str] | None = None,
                                   x_title: str = "Satisfaction (%)", y_title: str = "Importance (%)",
                                   no_data: str = "No data",
                                   suppressed_text: str = "Not shown (too few answers)") -> go.Figure:
    """The importance–satisfaction quadrant chart: services by satisfaction (x) and importance (y)
    with 95% error bars, coloured by I–S priority band, the band boundaries (I–S = importance x
    (1 - satisfaction) = .05, .10, .20) as dotted curves and the means as quadrant lines.

    The axes span the services (not 0–100), and each service's name is placed where it covers no
    other name or marker, with a thin leader line when it had to move away (``place_labels``).
    Services whose ``reliability`` is ``suppress`` are not drawn; a note under the chart names them.
    """
    sup = df["reliability"].eq("suppress") if "reliability" in df.columns else pd.Series(False, index=df.index)
    hidden = df.loc[sup, label_col].astype(str).tolist()
    df = df[~sup]
    if df.empty:
        return empty_figure(no_data + (f" {suppressed_text}: {', '.join(hidden)}" if hidden else ""))
    bl = band_labels or {}
    d = df.assign(_band=df["band"].map({b: i for i, b in enumerate(BAND_ORDER)})).sort_values(["_band", "is_score"],
                                                                                           ascending=[True, False])
    sx, sy = d["satisfaction"] * 100, d["importance"] * 100
    xr = _axis_range(float((sx - d["satisfaction_se"] * 196).min()), float((sx + d["satisfaction_se"] * 196).max()), 10)
    yr = _axis_range(float((sy - d["importance_se"] * 196).min()), float((sy + d["importance_se"] * 196).max()), 8)
    traces, notes = [], []
    sat = np.linspace(max(xr[0], 0.0) / 100, min(xr[1], 99.0) / 100, 200)
    for cut in (0.05, 0.10, 0.20):
        imp = cut / (1 - sat)
        keep = (imp * 100 <= yr[1]) & (imp * 100 >= yr[0])
        if not keep.any():
            continue
        traces.append({"type": "scatter", "x": sat[keep] * 100, "y": imp[keep] * 100, "mode": "lines",
                       "hoverinfo": "skip", "line": {"color": "#8C8C8C", "dash": "dot", "width": 1},
                       "showlegend": False, "name": f"I-S = {cut:.2f}"})
        x_end = float(sat[keep][-1]) * 100
        at_right = x_end > xr[1] - 0.08 * (xr[1] - xr[0])  # the curve leaves through the right edge
        notes.append({"x": x_end, "y": float(imp[keep][-1]) * 100, "text": f"I–S {cut:.2f}",
                      "showarrow": False, "xanchor": "right" if at_right else "left", "yanchor": "bottom",
                      "font": {"size": 11, "color": "#595959"}})
    for band in BAND_ORDER:
        s = d[d["band"] == band]
        if s.empty:
            continue
        traces.append({
            "type": "scatter", "x": (s["satisfaction"] * 100).to_numpy(), "y": (s["importance"] * 100).to_numpy(),
            "mode": "markers", "name": bl.get(band, band), "text": s[label_col].tolist(),
            "marker": {"color": BAND_COLORS[band], "size": 13, "line": {"color": "white", "width": 1}},
            "error_x": {"type": "data", "array": (s["satisfaction_se"] * 196).to_numpy(), "color": BAND_COLORS[band],
                        "thickness": 1},
            "error_y": {"type": "data", "array": (s["importance_se"] * 196).to_numpy(), "color": BAND_COLORS[band],
                        "thickness": 1},
            "customdata": np.stack([s["is_score"]], axis=-1),
            "hovertemplate": f"<b>%{{text}}</b><br>{x_title.replace(' (%)', '')}: %{{x:.0f}}%"
                             f"<br>{y_title.replace(' (%)', '')}: %{{y:.0f}}%"
                             "<br>I–S score %{customdata[0]:.3f}<extra></extra>",
        })
    texts = d[label_col].astype(str).tolist()
    labels = _point_labels(sx, sy, texts, xr, yr, 1000.0, 420.0, 12)
    # a phone-wide chart: labels cut to 16 characters (the hover has the whole name), placed for ~300 px
    short = [x if len(x) <= 16 else x[:15].rstrip() + "…" for x in texts]
    small_labels = _point_labels(sx, sy, short, xr, yr, 300.0, 330.0, 10, char_px=5.5)
    mx, my = float(df["satisfaction"].mean()) * 100, float(df["importance"].mean()) * 100
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": mx, "x1": mx, "y0": 0, "y1": 1,
               "line": {"color": "#595959", "width": 1}},
              {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": my, "y1": my,
               "line": {"color": "#595959", "width": 1}}]
    if hidden:
        notes.append({"x": 0, "y": -0.16, "xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "top",
                      "showarrow": False, "align": "left", "font": {"size": 12, "color": "#595959"},
                      "text": f"{suppressed_text}: {', '.join(hidden)}"})
    small_notes = [{**a, "font": {**a["font"], "size": 10}} for a in notes]
    if hidden:
        small_notes[-1] = {**small_notes[-1], "text": wrap(small_notes[-1]["text"], 44), "y": -0.2}
    layout = {"shapes": shapes, "annotations": notes + labels, "xaxis": {"range": xr, "title": {"text": x_title}},
              "yaxis": {"range": yr, "title": {"text": y_title}}, "margin": {"b": 90 if hidden else 40}}
    compact = {"annotations": small_notes + small_labels, "height": 560 if hidden else 520,
               "xaxis.tickfont.size": 12, "yaxis.tickfont.size": 12}
    return figure(traces, layout, title, height=620 if hidden else 600, compact=compact)


def _point_labels(sx: pd.Series, sy: pd.Series, texts: list[str], xr: list[float], yr: list[float],
                  width: float, height: float, size: int, char_px: float = 7.0) -> list[dict]:
    """Annotations naming each point, placed by :func:`place_labels` for a plot of ``width`` x ``height`` px."""
    out = []
    spots = place_labels(sx.to_numpy(), sy.to_numpy(), texts, xr, yr, width, height, char_px=char_px,
                         slack=40.0 if width >= 600 else 0.0)
    for (dx, dy), xv, yv, text in zip(spots, sx, sy, texts, strict=True):
        far = abs(dy) > 16 or (dx != 0 and dy != 0)
        out.append({"x": float(xv), "y": float(yv), "text": text, "font": {"size": size, "color": "#1A1A1A"},
                    "showarrow": far, "ax": dx, "ay": dy, "arrowwidth": 1, "arrowcolor": "#8C8C8C",
                    "arrowhead": 0, "standoff": 7, **({} if far else {"xshift": dx, "yshift": -dy})})
    return out


def drivers_figure(df: pd.DataFrame, *, label_col: str = "label_en", outcome_labels: dict[str, str] | None = None,
                   title: str | None = None, x_title: str = "Satisfied with the service (%)",
                   y_title: str = "Importance: difference in the outcome (points)", no_data: str = "No data",
                   suppressed_text: str = "Not shown (too few answers)", n_text: str = "n = {n}",
                   to: str = "to", p_text: str = "Adjusted p", ci_text: str = "95% CI") -> go.Figure:
    """The key-driver chart (rows of the ``drivers`` table for one wave and area): one panel per
    outcome, each driver at its share satisfied (x) and its coefficient in percentage points (y,
    the model's importance) with its 95% interval; a dashed line at 0 (no association). Filled
    markers: the adjusted p-value is below 0.05. A model whose rows are ``suppress`` is not drawn;
    a note names the outcome and why.
    """
    if df.empty:
        return empty_figure(no_data)
    labels = outcome_labels or {}
    outcomes = list(dict.fromkeys(df["outcome"]))
    sup = df["reliability"].eq("suppress")
    shown = [o for o in outcomes if not sup[df["outcome"] == o].all()]
    hidden = [o for o in outcomes if o not in shown]
    notes = [{"x": 0, "y": -0.08, "xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "top",
              "showarrow": False, "align": "left", "font": {"size": 12, "color": "#595959"},
              "text": wrap(f"{suppressed_text}: " + "; ".join(
                  f"{labels.get(o, o)} ({df.loc[df['outcome'] == o, 'reliability_reason'].iloc[0]})" for o in hidden), 110)}
             ] if hidden else []
    if not shown:
        return empty_figure(no_data + (f" {notes[0]['text']}" if notes else ""))
    k = len(shown)
    gap = 0.17
    height = (1 - gap * (k - 1)) / k
    traces, layout, names = [], {}, []
    for i, o in enumerate(shown):
        d = df[(df["outcome"] == o) & ~sup]
        ax = "" if i == 0 else str(i + 1)
        top = 1 - i * (height + gap)
        x, y = d["satisfaction"] * 100, d["coefficient"] * 100
        lo, hi = d["ci_low"] * 100, d["ci_high"] * 100
        sig = d["p_adj"] < 0.05
        color = OKABE_ITO[i % len(OKABE_ITO)]
        traces.append({
            "type": "scatter", "xaxis": f"x{ax}", "yaxis": f"y{ax}", "x": x.to_numpy(), "y": y.to_numpy(),
            "mode": "markers", "text": d[label_col].astype(str).tolist(), "showlegend": False, "name": labels.get(o, o),
            "marker": {"color": [color if s else "white" for s in sig], "size": 12, "line": {"color": color, "width": 2}},
            "error_y": {"type": "data", "symmetric": False, "array": (hi - y).to_numpy(), "arrayminus": (y - lo).to_numpy(),
                        "color": color, "thickness": 1},
            "customdata": np.stack([lo, hi, d["p_adj"]], axis=-1),
            "hovertemplate": f"<b>%{{text}}</b><br>{x_title.replace(' (%)', '')}: %{{x:.0f}}%"
                             f"<br>{y_title}: %{{y:+.1f}} ({ci_text} %{{customdata[0]:+.1f}} {to} %{{customdata[1]:+.1f}})"
                             f"<br>{p_text} %{{customdata[2]:.3f}}<extra></extra>",
        })
        ylo, yhi = float(min(lo.min(), 0.0)), float(max(hi.max(), 0.0))
        pad = 0.1 * (yhi - ylo or 1.0)
        xlo, xhi = float(x.min()), float(x.max())
        layout[f"xaxis{ax}"] = {**_AXIS_LIKE, "domain": [0, 1], "anchor": f"y{ax}",
                                "range": [max(0.0, xlo - 8), min(100.0, xhi + 8)], "title": {"text": x_title}}
        layout[f"yaxis{ax}"] = {**_AXIS_LIKE, "domain": [max(top - height, 0.0), top], "anchor": f"x{ax}",
                                "range": [ylo - pad, yhi + 2 * pad], "title": {"text": wrap(y_title, 30)}}
        # the services' names where they cover no other name or marker (as on the I-S chart)
        xr, yr = layout[f"xaxis{ax}"]["range"], layout[f"yaxis{ax}"]["range"]
        for a in _point_labels(x.reset_index(drop=True), y.reset_index(drop=True), d[label_col].astype(str).tolist(),
                               xr, yr, 1000.0, 250.0, 11):
            names.append({**a, "xref": f"x{ax}", "yref": f"y{ax}"})
        n = int(d["n"].iloc[0])
        notes.append({"x": 0, "y": top, "xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "bottom",
                      "showarrow": False, "font": {"size": 13},
                      "text": f"<b>{labels.get(o, o)}</b> · {n_text.format(n=n)} · R² {float(d['r2'].iloc[0]):.2f}"})
        layout.setdefault("shapes", []).append({"type": "line", "xref": f"x{ax} domain", "yref": f"y{ax}", "x0": 0, "x1": 1,
                                                "y0": 0, "y1": 0, "line": {"color": "#595959", "width": 1, "dash": "dash"}})
    layout["annotations"] = notes + names
    layout["margin"] = {"b": 90 if hidden else 50}
    return figure(traces, layout, title, height=120 + 340 * k + (40 if hidden else 0))


_AXIS_LIKE = {"showline": True, "linecolor": "#444444", "ticks": "outside", "tickcolor": "#444444", "zeroline": False,
              "automargin": True}
