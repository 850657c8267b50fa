"""Requests that are not what the dashboard's own pages send get a 4xx answer, never a 500.

- ``/_dash-update-component``: the body is checked against the shape Dash's renderer sends
  (an object naming a registered callback's ``output``, with ``inputs``/``state`` lists of
  ``{id, property, value}``; values of the kinds the dashboard's controls hold) before Dash
  dispatches it; anything else is answered ``400`` with a one-line reason.
- ``/_dash-component-suites/<package>/<file>``: a file that is not there (an unknown package, a
  wrong version or fingerprint) is ``404``, not an exception.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import flask

__all__ = ["callback_body_problem", "install_guards"]

_log = logging.getLogger(__name__)
_SCALAR = (str, int, float, bool, type(None))
# properties whose values are free-form JSON (stores, the grid's column definitions)
_FREE = {"data", "columnDefs", "columnState", "rowData"}
_TEXT = {"pathname", "search", "hash", "href"}


def _id_ok(v: Any) -> bool:
    if isinstance(v, str):
        return len(v) <= 200
    return isinstance(v, dict) and len(v) <= 8 and all(
        isinstance(k, str) and isinstance(x, _SCALAR) and not isinstance(x, float) for k, x in v.items())


def _value_ok(prop: str, v: Any) -> bool:
    if prop in _FREE:
        return True
    if prop == "id":
        return v is None or _id_ok(v)
    if prop in _TEXT:
        return v is None or (isinstance(v, str) and len(v) <= 8192)
    if isinstance(v, list):
        return len(v) <= 1000 and all(isinstance(x, _SCALAR) for x in v)
    return isinstance(v, _SCALAR)


def _entries_problem(entries: Any, name: str) -> str | None:
    if not isinstance(entries, list):
        return f"'{name}' must be a list"
    for e in entries:
        if isinstance(e, list):  # pattern-matching (ALL) inputs: a list of entries
            problem = _entries_problem(e, name)
            if problem:
                return problem
            continue
        if not isinstance(e, dict) or not _id_ok(e.get("id")) or not isinstance(e.get("property"), str):
            return f"each entry of '{name}' needs an 'id' and a 'property'"
        if not _value_ok(e["property"], e.get("value")):
            return f"'{name}': a value of the wrong kind for '{e['property']}'"
    return None


def callback_body_problem(body: Any, callbacks: dict) -> str | None:
    """Why ``body`` is not a callback request of this app (None when it is well formed)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callbacks:
        return "'output' must name one of the dashboard's callbacks"
    outputs = body.get("outputs")
    multi = output.startswith("..")
    if multi and not (isinstance(outputs, list) and len(outputs) == output.count("...") + 1):
        return "'outputs' must list the callback's outputs"
    if not multi and not isinstance(outputs, dict | list):
        return "'outputs' must be an object or a list"
    for o in outputs if isinstance(outputs, list) else [outputs]:
        for e in o if isinstance(o, list) else [o]:
            if not isinstance(e, dict) or not _id_ok(e.get("id")) or not isinstance(e.get("property"), str):
                return "each of 'outputs' needs an 'id' and a 'property'"
    declared = callbacks[output]
    for key in ("inputs", "state"):
        entries = body.get(key, [] if key == "state" else None)
        problem = _entries_problem(entries, key)
        if problem:
            return problem
        deps = declared.get(key, [])
        if len(entries) != len(deps):
            return f"'{key}' must have the callback's {len(deps)} entries"
        for entry, dep in zip(entries, deps, strict=True):
            wildcard = '["ALL"]' in str(dep.get("id", ""))  # pattern-matching: a list of matches
            if wildcard != isinstance(entry, list) or (not wildcard and entry.get("property") != dep.get("property")):
                return f"'{key}' does not match the callback's {key}"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of strings"
    return None


def _bad_request(message: str) -> flask.Response:
    resp = flask.jsonify({"error": f"malformed callback request: {message}"})
    resp.status_code = 400
    return resp


def install_guards(app: dash.Dash) -> None:
    """Wrap the callback and component-suite routes of ``app`` (see the module's docstring)."""
    server = app.server
    prefix = app.config.routes_pathname_prefix
    dispatch_endpoint = prefix + "_dash-update-component"
    dispatch = server.view_functions[dispatch_endpoint]

    def guarded_dispatch(*args: Any, **kwargs: Any):
        body = flask.request.get_json(silent=True)
        problem = callback_body_problem(body, app.callback_map)
        if problem:
            return _bad_request(problem)
        return dispatch(*args, **kwargs)

    server.view_functions[dispatch_endpoint] = guarded_dispatch

    for endpoint, view in list(server.view_functions.items()):
        if "_dash-component-suites" not in endpoint:
            continue

        def guarded_suite(*args: Any, _view=view, **kwargs: Any):
            try:
                return _view(*args, **kwargs)
            except (OSError, KeyError, ValueError, AttributeError, dash.exceptions.DashException) as exc:
                _log.info("component suite not found: %s (%s)", flask.request.path, type(exc).__name__)
                flask.abort(404)

        server.view_functions[endpoint] = guarded_suite
