"""Sign-in and roles for the dashboard (off unless asked for).

Two ways to know who is asking:

- a **users file** (``dashboard --auth FILE``): names, roles and salted password hashes made by
  ``survey-pipeline users add`` (werkzeug's ``generate_password_hash``, scrypt); people sign in on
  a form and get a signed session cookie (Flask's session, HttpOnly, SameSite=Lax);
- an **upstream proxy's header** (``dashboard --trust-proxy-header X-Forwarded-User``): a reverse
  proxy or single sign-on gateway in front has signed the person in and names them in that header.
  The dashboard must then be reachable only through the proxy (listen on 127.0.0.1). A person
  named in the users file gets its role there, anyone else the proxy lets through is a viewer.

Roles: ``viewer`` sees the results; ``analyst`` also downloads data (CSV/XLSX buttons, the results
feed) and sees the methodology's detail (response-rate, funnel, weighting and reliability tables).
Without sign-in (a local run) everyone is an analyst.

Every request except the sign-in page itself needs a signed-in person: pages are redirected to
the sign-in page, everything else (callbacks, downloads, the GeoJSON, the feed, assets) gets 401.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlparse

import flask
from werkzeug.security import check_password_hash, generate_password_hash

from survey_pipeline.errors import SurveyPipelineError

__all__ = ["ROLES", "AuthConfig", "AuthError", "add_user", "current_role", "install_auth", "load_users"]

ROLES = ("viewer", "analyst")
Role = Literal["viewer", "analyst"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
MIN_PASSWORD = 8
LOGIN_PATH = "_auth/sign-in"
LOGOUT_PATH = "_auth/sign-out"
# checked when the name is unknown, so that a wrong name takes as long as a wrong password
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class AuthError(SurveyPipelineError):
    """A users file or a user's details are not usable."""


@dataclass(frozen=True)
class AuthConfig:
    """Who may use the dashboard: ``users`` (name -> {"role", "hash"}) and/or a trusted header."""

    users: dict[str, dict] = field(default_factory=dict)
    proxy_header: str | None = None
    secure_cookie: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.users) or self.proxy_header is not None


def load_users(path: str | Path) -> dict[str, dict]:
    """The users of a users file (``{"users": {name: {"role": ..., "hash": ...}}}``)."""
    path = Path(path)
    if not path.is_file():
        raise AuthError(f"{path}: no such users file.", file=path, rule="users-file-missing",
                        fix=f"Create it with: survey-pipeline users add --file {path} --name NAME --role analyst")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuthError(f"{path}: not a users file ({exc}).", file=path, rule="users-file-format",
                        fix="Make it with `survey-pipeline users add`; do not edit it by hand.") from exc
    users = raw.get("users") if isinstance(raw, dict) else None
    problems = []
    if not isinstance(users, dict):
        problems.append("it has no 'users' table")
        users = {}
    for name, u in users.items():
        if not isinstance(u, dict) or u.get("role") not in ROLES or not isinstance(u.get("hash"), str):
            problems.append(f"user {name!r} needs a role ({' or '.join(ROLES)}) and a password hash")
    if problems:
        raise AuthError(f"{path}: " + "; ".join(problems) + ".", file=path, rule="users-file-format",
                        fix="Make it with `survey-pipeline users add`; do not edit it by hand.")
    return users


def add_user(path: str | Path, name: str, role: str, password: str) -> bool:
    """Add ``name`` (or replace its role and password) in the users file ``path``; True when new.

    The password is stored only as a salted hash (werkzeug's scrypt); the file is written
    readable by its owner only."""
    path = Path(path)
    if not NAME_RE.match(name or ""):
        raise AuthError(f"user name {name!r}: use 1-64 letters, digits and . _ @ + - (starting with a letter or digit).",
                        file=path, rule="user-name", fix="Pick a plain name such as jdoe or j.doe@city.gov.")
    if role not in ROLES:
        raise AuthError(f"role {role!r} is not known.", file=path, rule="user-role", fix="Use --role viewer or --role analyst.")
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"the password of {name!r} is shorter than {MIN_PASSWORD} characters.", file=path,
                        rule="password-length", fix=f"Use a password of at least {MIN_PASSWORD} characters.")
    users = load_users(path) if path.exists() else {}
    new = name not in users
    users[name] = {"role": role, "hash": generate_password_hash(password)}
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"users": users}, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)
    return new


def current_role() -> Role:
    """The role of the person behind the current request (``analyst`` when sign-in is off or
    outside a request)."""
    if not flask.has_request_context():
        return "analyst"
    return flask.g.get("survey_role", "analyst")


def _login_page(action: str, next_url: str, error: str | None) -> str:
    msg = f'<p role="alert" class="error">{escape(error)}</p>' if error else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Community survey results</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem;color:#1A1A1A}}
label{{display:block;margin:.8rem 0 .2rem;font-weight:600}}input{{width:100%;padding:.5rem;font:inherit}}
button{{margin-top:1rem;padding:.5rem 1rem;font:inherit;background:#12355B;color:#fff;border:0;border-radius:4px}}
.error{{color:#8A3B00;font-weight:600}}</style></head>
<body><main><h1>Sign in</h1>{msg}
<form method="post" action="{escape(action)}"><input type="hidden" name="next" value="{escape(next_url)}">
<label for="name">Name</label><input id="name" name="name" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></main></body></html>"""


def install_auth(server: flask.Flask, prefix: str, config: AuthConfig, page_paths: set[str]) -> None:
    """Close every route of ``server`` (under ``prefix``) to people not signed in, and add the
    sign-in and sign-out routes. ``page_paths``: the dashboard's page paths (redirected to the
    sign-in page rather than answered 401)."""
    if not config.enabled:
        return
    server.secret_key = server.secret_key or secrets.token_bytes(32)  # built before gunicorn forks: shared
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=config.secure_cookie, SESSION_COOKIE_PATH=prefix)
    login_url, logout_url = prefix + LOGIN_PATH, prefix + LOGOUT_PATH

    def _safe_next(url: str | None) -> str:
        u = urlparse(url or "")
        if u.scheme or u.netloc or not (url or "").startswith(prefix):
            return prefix  # only back into the dashboard, never to another site
        return url

    def sign_in():
        if config.users and flask.request.method == "POST":
            name = flask.request.form.get("name", "")
            password = flask.request.form.get("password", "")
            user = config.users.get(name)
            ok = check_password_hash(user["hash"] if user else _DUMMY_HASH, password) and user is not None
            if ok:
                flask.session.clear()
                flask.session["user"] = name
                return flask.redirect(_safe_next(flask.request.form.get("next")), code=303)
            return flask.Response(_login_page(login_url, flask.request.form.get("next", prefix),
                                              "Wrong name or password."), status=401, mimetype="text/html")
        return flask.Response(_login_page(login_url, flask.request.args.get("next", prefix), None), mimetype="text/html")

    def sign_out():
        flask.session.clear()
        return flask.redirect(login_url if config.users else prefix, code=303)

    server.add_url_rule(login_url, "survey_sign_in", sign_in, methods=["GET", "POST"])
    server.add_url_rule(logout_url, "survey_sign_out", sign_out, methods=["GET", "POST"])

    @server.before_request
    def _require_sign_in():
        path = flask.request.path
        if path in (login_url, logout_url):
            return None
        name = role = None
        if config.proxy_header:
            name = (flask.request.headers.get(config.proxy_header) or "").strip() or None
            if name:
                role = config.users.get(name, {}).get("role", "viewer")
        if name is None and config.users:
            name = flask.session.get("user")
            role = config.users.get(name, {}).get("role") if name else None
            if role is None:
                name = None
        if name is None:
            rel = "/" + path[len(prefix):].strip("/") if path.startswith(prefix) else path
            if flask.request.method == "GET" and rel in page_paths and config.users:
                target = path + (("?" + flask.request.query_string.decode("latin-1")) if flask.request.query_string else "")
                return flask.redirect(f"{login_url}?next={quote(target, safe='')}", code=302)
            resp = flask.jsonify({"error": "sign-in required"})
            resp.status_code = 401
            if config.users:
                resp.headers["WWW-Authenticate"] = f'FormBased realm="survey", location="{login_url}"'
            return resp
        flask.g.survey_user = name
        flask.g.survey_role = role
        return None
