"""The dashboard factory: ``create_app(project)`` builds a single-page Dash app.

One router callback renders the page named by the URL path from the URL query string; one
callback mirrors every filter on screen back into the query string, so a view can be shared and
reloaded; one callback serves downloads. Every page registers its own view callback on the app
instance given to it: nothing is registered at import time, so apps do not leak into each other.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
import flask
from dash import ALL, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dash_app import ids
from dash_app.auth import AuthConfig, current_role, install_auth
from dash_app.data import ResultsSource
from dash_app.export import to_csv_bytes, to_xlsx_bytes
from dash_app.feed import register_feed
from dash_app.figures.charts import prepare_geojson
from dash_app.harden import install_guards
from dash_app.i18n import LANGS, PAGE_TITLES, download_headers, t
from dash_app.pages import PAGES, page_for_path
from dash_app.pages._common import language_control, page_layout, pick, register_page
from survey_pipeline.i18n import project_locales, use_locales

__all__ = ["create_app", "warm_up"]

_log = logging.getLogger(__name__)
SHARED_KEYS = ("lang", "wave", "indicator")
GEOJSON_PATH = "_dashboard/areas.geojson"  # under the app's path prefix


def parse_query(search: str | None) -> dict[str, str]:
    return dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=False))


def build_query(values: dict[str, Any]) -> str:
    items = []
    for k in sorted(values):
        v = values[k]
        if v is None or v == []:
            continue
        items.append((k, ",".join(map(str, v)) if isinstance(v, list) else str(v)))
    return "?" + urlencode(items) if items else ""


def _nav(path: str, q: dict[str, str], lang: str, prefix: str = "/") -> html.Nav:
    shared = {k: q[k] for k in SHARED_KEYS if k in q}
    links = []
    for mod in PAGES:
        current = path == mod.PATH
        links.append(html.Li(dcc.Link(t(PAGE_TITLES[mod.PAGE], lang), href=prefix + mod.PATH.lstrip("/") + build_query(shared),
                                      className="nav-link" + (" current" if current else ""),
                                      title=t(PAGE_TITLES[mod.PAGE], lang) + (" ✓" if current else ""))))
    return html.Nav(html.Ul(links), id=ids.NAV, className="nav", **{"aria-label": t("Pages", lang)})


def _shell(source: ResultsSource, path: str, q: dict[str, str], lang: str, prefix: str = "/") -> list:
    """The page at ``path`` (relative to the app's ``prefix``: "/", "/priorities"...)."""
    data = source.get()
    mod = page_for_path(path)
    if mod is None:
        body = [html.H1(t("Page not found.", lang))]
    else:  # a page's layout depends only on its normalised state, the language and the role: cache it
        st = mod.state(data, q)
        key = ("layout", mod.PAGE, lang, current_role(), tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                                                                      for k, v in st.items())))
        body = data.lru(key, lambda: page_layout(mod, data, q, lang))
    return [
        html.A(t("Skip to main content", lang), href="#" + ids.MAIN, className="skip-link", id=ids.SKIP_LINK),
        html.Header(className="header", children=[
            html.Div(t("Community survey results", lang), className="site-title"),
            language_control(lang),
        ]),
        _nav(path, q, lang, prefix),
        html.Main(body, id=ids.MAIN, tabIndex="-1", className="main", lang=lang),
    ]


def _serve_shapes(app: dash.Dash, source: ResultsSource) -> None:
    """Serve the area shapes (features keyed by area code, as the maps use them) at GEOJSON_PATH.

    Maps reference this URL instead of carrying the shapes in every response; plotly fetches it
    once per page and keeps it. The URL carries a content version, so a versioned response can be
    cached for good."""

    def shapes() -> flask.Response:
        data = source.get()
        if not data.geojson or not data.geojson_url:
            flask.abort(404)
        body = data.memo("geojson_body", lambda: json.dumps(
            data.memo("geojson", lambda: prepare_geojson(data.geojson))[0], separators=(",", ":")).encode())
        resp = flask.Response(body, mimetype="application/geo+json")
        current = flask.request.args.get("v") == data.geojson_url.rsplit("?v=", 1)[-1]
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable" if current else "no-cache"
        return resp

    app.server.add_url_rule(app.config.routes_pathname_prefix + GEOJSON_PATH, "dashboard_areas_geojson", shapes)


class _Dash(dash.Dash):
    """Dash with ``<html lang>`` following the page language (the ``lang`` query key) in the page
    as served; a clientside callback keeps it in step when the language is switched on screen."""

    def interpolate_index(self, **kwargs: Any) -> str:
        page = super().interpolate_index(**kwargs)
        lang = pick(flask.request.args.get("lang") if flask.has_request_context() else None, list(LANGS), "en")
        return page.replace("<html>", f'<html lang="{lang}">', 1)


def normalise_base_path(base_path: str | None) -> str:
    """``/survey/`` from "survey", "/survey" or "/survey/"; "/" for none. Letters, digits and
    - _ . ~ only, so the prefix is safe in URLs and cookies."""
    from survey_pipeline.errors import SurveyPipelineError

    parts = [p for p in (base_path or "/").split("/") if p]
    for part in parts:
        if not all(c.isalnum() or c in "-_.~" for c in part) or part in (".", ".."):
            raise SurveyPipelineError(f"--base-path {base_path!r}: {part!r} is not a plain path segment.",
                                      rule="base-path", fix="Use letters, digits and - _ . ~, for example --base-path /survey/.")
    return "/" + "".join(p + "/" for p in parts)


def _relative(pathname: str | None, prefix: str) -> str:
    path = pathname or "/"
    if prefix != "/" and path.startswith(prefix.rstrip("/")):
        path = path[len(prefix.rstrip("/")):]
    return "/" + path.strip("/")


def _use_project_locales(server, locales: dict[str, str]) -> None:
    """Every request of the dashboard writes numbers in the project's locales (survey.toml
    ``[reporting] locales``: ``{es = "es_ES"}``; default en_US, es_US)."""
    if not locales:
        return

    @server.before_request
    def _enter() -> None:
        block = use_locales(locales)
        block.__enter__()
        flask.g.survey_pipeline_locales = block

    @server.teardown_request
    def _exit(_exc: BaseException | None) -> None:
        block = flask.g.pop("survey_pipeline_locales", None)
        if block is not None:
            block.__exit__(None, None, None)


def create_app(project: Any, *, title: str = "Community survey results", auth: AuthConfig | None = None,
               base_path: str | None = None) -> dash.Dash:
    """Build the dashboard for a project.

    Parameters
    ----------
    project
        A project folder containing ``warehouse.duckdb`` (and optionally ``areas.geojson`` or a
        ``survey.toml`` naming it), or an object with ``.store_path`` such as
        ``survey_pipeline.project.Project``.

    Raises
    ------
    survey_pipeline.errors.ProjectError
        When the project has no results yet.

    ``auth``: who may sign in (:mod:`dash_app.auth`; off when None). ``base_path``: the URL path
    the dashboard is served under (``/survey/`` behind a reverse proxy; default ``/``).
    """
    prefix = normalise_base_path(base_path)
    app = _Dash(
        __name__, title=title, serve_locally=True, external_stylesheets=[], external_scripts=[],
        suppress_callback_exceptions=True, update_title=None,
        assets_folder=str(__import__("pathlib").Path(__file__).with_name("assets")),
        requests_pathname_prefix=prefix, routes_pathname_prefix=prefix,
    )
    install_auth(app.server, prefix, auth or AuthConfig(), {m.PATH for m in PAGES})
    app.auth = auth or AuthConfig()
    source = ResultsSource(project, geojson_route=app.config.requests_pathname_prefix + GEOJSON_PATH)
    _use_project_locales(app.server, project_locales(source.root) if source.root else {})
    _serve_shapes(app, source)
    register_feed(app.server, prefix, source)
    app.layout = html.Div([
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.RENDERED),
        dcc.Store(id=ids.SYNCED),
        dcc.Store(id=ids.HTML_LANG),
        dcc.Download(id=ids.DOWNLOAD),
        html.Div(id=ids.SHELL),
    ])
    app.results = source  # for benchmarks and tests

    @app.callback(
        Output(ids.SHELL, "children"), Output(ids.RENDERED, "data"),
        Input(ids.URL, "pathname"), Input(ids.URL, "search"),
        State(ids.RENDERED, "data"), State(ids.SYNCED, "data"),
    )
    def route(pathname, search, rendered, synced):
        q = parse_query(search)
        lang = pick(q.get("lang"), list(LANGS), "en")
        path = _relative(pathname, prefix)
        key = {"path": path, "lang": lang}
        if rendered == key and (search or "") == (synced or ""):
            raise PreventUpdate  # the search was written by the filters on screen
        return _shell(source, path, q, lang, prefix), key

    @app.callback(
        Output(ids.URL, "search"), Output(ids.SYNCED, "data"),
        Input({"type": ids.FILTER, "name": ALL, "page": ALL}, "value"),
        State({"type": ids.FILTER, "name": ALL, "page": ALL}, "id"),
        State(ids.URL, "search"),
    )
    def sync(values, id_list, search):
        if not id_list or not isinstance(values, list) or len(values) != len(id_list):
            raise PreventUpdate
        new = build_query({i["name"]: v for i, v in zip(id_list, values, strict=True)
                           if isinstance(i, dict) and isinstance(i.get("name"), str)})
        return (dash.no_update if new == (search or "") else new), new

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input({"type": ids.DOWNLOAD_BUTTON, "page": ALL, "fmt": ALL}, "n_clicks"),
        State(ids.URL, "pathname"), State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def download(clicks, pathname, search):
        trig = dash.ctx.triggered_id
        if not trig or not any(c for c in clicks if isinstance(c, int)) or current_role() != "analyst":
            raise PreventUpdate  # viewers see no download buttons, and get nothing when they forge a click
        mod = page_for_path(_relative(pathname, prefix))
        if mod is None or trig["page"] != mod.PAGE:
            raise PreventUpdate
        q = parse_query(search)
        lang = pick(q.get("lang"), list(LANGS), "en")
        data = source.get()
        st = mod.state(data, q)
        df = mod.view_data(data, st, lang)
        df = df.set_axis(download_headers(list(df.columns), lang), axis=1)
        stem = "_".join([mod.PAGE, *[str(st[k]).replace(":", "-").replace(",", "+") for k in mod.FILTERS if st.get(k)]])
        if trig["fmt"] == "xlsx":
            return dcc.send_bytes(to_xlsx_bytes(df, mod.PAGE), f"{stem}.xlsx")
        return dcc.send_bytes(to_csv_bytes(df), f"{stem}.csv")

    app.clientside_callback(
        """function (search) {
            var m = /[?&]lang=([a-z]+)/.exec(search || ""), lang = m && LANGS.indexOf(m[1]) >= 0 ? m[1] : "en";
            document.documentElement.setAttribute("lang", lang);
            return lang;
        }""".replace("LANGS", json.dumps(list(LANGS))),
        Output(ids.HTML_LANG, "data"), Input(ids.URL, "search"),
    )
    for mod in PAGES:
        register_page(app, source, mod)
    install_guards(app)
    return app


def warm_up(app: dash.Dash) -> list[str]:
    """Render every page's default view in every language once, so the first visitors find them
    cached (and a forking server's workers inherit them, with the lazily imported modules).

    Best effort: a view that fails to render is logged and left out (it fails the same way when
    a visitor opens it, as without warming); returns the pages that failed."""
    failed = []
    for mod in PAGES:
        for lang in LANGS:
            try:
                _shell(app.results, mod.PATH, {"lang": lang}, lang)
            except Exception as exc:  # a page's bug must not stop the whole dashboard from serving
                _log.warning("dashboard: the default view of %s (%s) failed to render: %r", mod.PATH, lang, exc)
                failed.append(mod.PAGE)
                break
    return failed
