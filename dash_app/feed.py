"""The results feed: read-only JSON and CSV of the published results tables, for Power BI, Excel,
Tableau or an open-data portal.

``GET <base>feed/<table>.<json|csv>?wave=2026-spring&area_level=neighborhood&indicator=a,b``

- ``table``: ``estimates``, ``comparisons`` or ``priorities`` (the tables the pages show);
- filters: any of :data:`FILTERS` present in the table, each one value or several separated by
  commas (exact match); an unknown filter or table is refused with 400, never ignored;
- ``limit`` and ``offset`` page through a large table (rows in a stable order);
- ``estimates`` holds the direct rows and the modeled (small-area) rows of neighborhoods and
  beats, each with its ``method`` (``modeled (Fay–Herriot)`` for a modeled row; filter with
  ``method=``); the pages show a modeled number only where the direct one is suppressed or
  missing, marked as modeled;
- suppression as on the pages: a row whose reliability is ``suppress`` keeps its labels, ``n``
  and the reason, and carries no estimate, interval, standard error, test or finding;
- no responses, no open text, nothing about a person: the feed reads the results snapshot the
  pages read (``dash_app.data``), which never loads responses.

Behind the same sign-in as the pages (:mod:`dash_app.auth`); a download, so analysts only when
sign-in is on. CSV text cells that a spreadsheet would run as formulas are neutralised.
"""

from __future__ import annotations

import json
import math

import flask
import numpy as np
import pandas as pd

from dash_app.data import ResultsSource
from survey_pipeline.safe import neutralise

__all__ = ["FEED_PATH", "FILTERS", "TABLES", "feed_frame", "register_feed"]

FEED_PATH = "feed"
TABLES = ("estimates", "comparisons", "priorities")
FILTERS = ("wave", "wave_ref", "area_level", "area", "group_dim", "group", "indicator", "statistic", "kind",
           "reliability", "problem", "department", "method")
#: Columns a suppressed row never carries (everything computed from too few answers).
SUPPRESSED_EMPTY = ("estimate", "se", "ci_low", "ci_high", "df", "n_eff", "deff", "t", "p", "p_adj", "significant",
                    "finding", "rank", "rank_low", "rank_high", "n_dont_know")
MAX_LIMIT = 1_000_000


class FeedError(ValueError):
    """A feed request that cannot be answered (400 with this message)."""


def feed_frame(table: pd.DataFrame, args: dict[str, str]) -> pd.DataFrame:
    """``table`` filtered by ``args`` (query-string values), paged, with suppressed rows emptied."""
    df = table
    unknown = [k for k in args if k not in (*FILTERS, "limit", "offset")]
    absent = [k for k in args if k in FILTERS and k not in df.columns]
    if unknown or absent:
        allowed = [f for f in FILTERS if f in df.columns]
        raise FeedError(f"unknown filter {', '.join(unknown + absent)}; this table filters by {', '.join(allowed)}, "
                        "limit and offset")
    for key, value in args.items():
        if key in FILTERS:
            wanted = [v for v in str(value).split(",") if v != ""]
            df = df[df[key].astype(str).isin(wanted)]
    sort = [c for c in ("kind", "wave", "area_level", "area", "group_dim", "group", "indicator", "statistic",
                        "rank", "problem") if c in df.columns]
    df = df.sort_values(sort, kind="stable") if sort else df
    try:
        offset = int(args.get("offset", 0))
        limit = int(args.get("limit", MAX_LIMIT))
    except ValueError as exc:
        raise FeedError("limit and offset are whole numbers") from exc
    if offset < 0 or limit < 0 or limit > MAX_LIMIT:
        raise FeedError(f"limit and offset are whole numbers from 0 (limit at most {MAX_LIMIT:,})")
    df = df.iloc[offset:offset + limit].copy()
    if "reliability" in df.columns:
        sup = df["reliability"].eq("suppress").to_numpy()
        if sup.any():
            for col in SUPPRESSED_EMPTY:
                if col in df.columns:
                    df[col] = df[col].astype(object)
                    df.loc[sup, col] = None
    return df.reset_index(drop=True)


def _json_body(df: pd.DataFrame, table: str, args: dict[str, str]) -> bytes:
    # JSON has no NaN or infinity: both become null (a modeled row's value can be infinite)
    records = [{k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in r.items()}
               for r in df.astype(object).where(df.notna(), None).to_dict("records")]

    def default(v):
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, pd.Timestamp):
            return v.isoformat()
        return str(v)

    return json.dumps({"table": table, "filters": args, "count": len(records), "rows": records},
                      default=default, allow_nan=False, ensure_ascii=False).encode("utf-8")


def register_feed(server: flask.Flask, prefix: str, source: ResultsSource) -> None:
    """Serve ``<prefix>feed/<table>.<json|csv>`` from ``source``'s results snapshot."""

    def feed(name: str):
        from dash_app.auth import current_role

        table, _, fmt = name.partition(".")
        if table not in TABLES or fmt not in ("json", "csv"):
            return _error(404, f"no feed {name!r}; feeds: " + ", ".join(f"{t}.json, {t}.csv" for t in TABLES))
        if current_role() != "analyst":
            return _error(403, "the results feed is for analysts (it is a download)")
        args = dict(flask.request.args.items())
        data = source.get()
        try:
            df = feed_frame(_table(data, table), args)
        except FeedError as exc:
            return _error(400, str(exc))
        if fmt == "json":
            resp = flask.Response(_json_body(df, table, args), mimetype="application/json")
        else:
            resp = flask.Response(neutralise(df).to_csv(index=False).encode("utf-8-sig"), mimetype="text/csv")
            resp.headers["Content-Disposition"] = f'attachment; filename="{table}.csv"'
        resp.headers["Cache-Control"] = "no-store" if server.config.get("SESSION_COOKIE_PATH") else "no-cache"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    server.add_url_rule(prefix + FEED_PATH + "/<name>", "survey_results_feed", feed, methods=["GET"])


def _table(data, table: str) -> pd.DataFrame:
    """The rows a feed serves: ``estimates`` with its modeled rows (each row names its ``method``)."""
    frame = data.tables.get(table, pd.DataFrame())
    modeled = data.tables.get("estimates_modeled") if table == "estimates" else None
    if modeled is None or modeled.empty:
        return frame
    return data.memo("feed_estimates", lambda: pd.concat([frame, modeled], ignore_index=True))


def _error(status: int, message: str) -> flask.Response:
    resp = flask.jsonify({"error": message})
    resp.status_code = status
    return resp
