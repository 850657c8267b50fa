"""One module per page: ``PAGE``, ``PATH``, ``FILTERS``, ``state``, ``controls``, ``content`` and
``view_data`` (the data behind the view, also served as a download). The page frame and its
callback are shared: ``_common.page_layout`` and ``_common.register_page``."""

from __future__ import annotations

from types import ModuleType

from dash_app.pages import comments as comments_page
from dash_app.pages import compare, equity, importance, methodology, overview, priorities, trends
from dash_app.pages import map as map_page

PAGES: list[ModuleType] = [overview, priorities, map_page, trends, compare, equity, importance, comments_page,
                             methodology]


def page_for_path(path: str) -> ModuleType | None:
    path = "/" + (path or "/").strip("/")
    for mod in PAGES:
        if path == mod.PATH:
            return mod
    return None
