"""One module per page: ``layout(data, query, lang)``, ``state``, ``view_data`` (the data behind
the view, also served as a download) and ``register(app, source)`` for its callback."""

from __future__ import annotations

from types import ModuleType

from dash_app.pages import compare, equity, importance, methodology, overview, priorities, trends
from dash_app.pages import map as map_page

PAGES: list[ModuleType] = [overview, priorities, map_page, trends, compare, equity, importance, methodology]


def page_for_path(path: str) -> ModuleType | None:
    path = "/" + (path or "/").strip("/")
    for mod in PAGES:
        if path == mod.PATH:
            return mod
    return None
