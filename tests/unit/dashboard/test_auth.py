"""Sign-in and roles (``dashboard --auth``, ``--trust-proxy-header``) and ``--base-path``, through
Flask's test client: every route is closed without sign-in and open with it; viewers get no
downloads and no methodology detail; without ``--auth`` nothing changes."""

from __future__ import annotations

import json

import pytest

from dash_app import create_app
from dash_app.auth import AuthConfig, AuthError, add_user, load_users
from survey_pipeline.cli import main
from tests.fixtures_results import make_results_project

ROUTE = "..shell.children...rendered-view.data.."


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_results_project(tmp_path_factory.mktemp("p"))


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    f = tmp_path_factory.mktemp("u") / "users.json"
    add_user(f, "ana", "analyst", "analyst-pass-1")
    add_user(f, "vic", "viewer", "viewer-pass-1")
    return f


@pytest.fixture(scope="module")
def app(project, users_file):
    return create_app(project, auth=AuthConfig(users=load_users(users_file)))


def _route_body(path: str, search: str = "") -> dict:
    return {"output": ROUTE, "outputs": [{"id": "shell", "property": "children"}, {"id": "rendered-view", "property": "data"}],
            "inputs": [{"id": "url", "property": "pathname", "value": path}, {"id": "url", "property": "search", "value": search}],
            "state": [{"id": "rendered-view", "property": "data", "value": None},
                      {"id": "synced-search", "property": "data", "value": None}],
            "changedPropIds": ["url.pathname"]}


def _download_body(page: str = "map") -> dict:
    return {"output": "download.data", "outputs": {"id": "download", "property": "data"},
            "inputs": [[{"id": {"type": "download-button", "page": page, "fmt": "csv"}, "property": "n_clicks", "value": 1}]],
            "state": [{"id": "url", "property": "pathname", "value": f"/{page}"},
                      {"id": "url", "property": "search", "value": ""}],
            "changedPropIds": [json.dumps({"fmt": "csv", "page": page, "type": "download-button"}, separators=(",", ":"))
                               + ".n_clicks"]}


def _sign_in(client, name, password):
    return client.post("/_auth/sign-in", data={"name": name, "password": password, "next": "/map"})


def test_every_route_is_closed_without_sign_in(app):
    c = app.server.test_client()
    for page in ("/", "/priorities", "/map?lang=es", "/methodology"):
        r = c.get(page)
        assert r.status_code == 302 and "/_auth/sign-in?next=" in r.headers["Location"], page
    assert c.post("/_dash-update-component", json=_route_body("/")).status_code == 401
    assert c.post("/_dash-update-component", json=_download_body()).status_code == 401
    assert c.get("/_dashboard/areas.geojson").status_code == 401
    assert c.get("/feed/estimates.json").status_code == 401
    assert c.get("/_dash-layout").status_code == 401
    assert c.get("/_dash-dependencies").status_code == 401
    r = c.get("/_auth/sign-in")
    assert r.status_code == 200 and b'type="password"' in r.data


def test_wrong_password_and_unknown_name_are_refused(app):
    c = app.server.test_client()
    assert _sign_in(c, "ana", "wrong-password").status_code == 401
    assert _sign_in(c, "nobody", "analyst-pass-1").status_code == 401
    assert c.get("/_dashboard/areas.geojson").status_code == 401


def test_analyst_gets_everything(app):
    c = app.server.test_client()
    r = _sign_in(c, "ana", "analyst-pass-1")
    assert r.status_code == 303 and r.headers["Location"] == "/map"
    assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Lax" in r.headers["Set-Cookie"]
    assert c.get("/").status_code == 200
    assert c.get("/_dashboard/areas.geojson").status_code == 200
    shell = c.post("/_dash-update-component", json=_route_body("/map"))
    assert shell.status_code == 200 and b"download-button" in shell.data
    dl = c.post("/_dash-update-component", json=_download_body())
    assert dl.status_code == 200 and b"map_" in dl.data
    meth = c.post("/_dash-update-component", json=_route_body("/methodology")).data
    assert b"methodology-weighting" in meth and b"methodology-sample" in meth
    assert c.get("/feed/priorities.csv").status_code == 200
    c.get("/_auth/sign-out")
    assert c.get("/_dashboard/areas.geojson").status_code == 401


def test_viewer_sees_results_but_no_downloads_or_detail(app):
    c = app.server.test_client()
    assert _sign_in(c, "vic", "viewer-pass-1").status_code == 303
    shell = c.post("/_dash-update-component", json=_route_body("/map"))
    assert shell.status_code == 200 and b"map-graph" in shell.data and b"download-button" not in shell.data
    dl = c.post("/_dash-update-component", json=_download_body())  # a forged click
    assert dl.status_code == 204
    meth = c.post("/_dash-update-component", json=_route_body("/methodology")).data
    assert b"methodology-sample" in meth and b"methodology-weighting" not in meth and b"methodology-sample_funnel" not in meth
    assert c.get("/feed/estimates.json").status_code == 403


def test_proxy_header_signs_in_and_its_absence_is_401(project, users_file):
    app = create_app(project, auth=AuthConfig(users=load_users(users_file), proxy_header="X-Forwarded-User"))
    c = app.server.test_client()
    assert c.get("/_dashboard/areas.geojson").status_code == 401
    assert c.get("/_dashboard/areas.geojson", headers={"X-Forwarded-User": "someone"}).status_code == 200
    # a person the users file does not list is a viewer; one it lists gets its role
    assert c.get("/feed/estimates.json", headers={"X-Forwarded-User": "someone"}).status_code == 403
    assert c.get("/feed/estimates.json?limit=1", headers={"X-Forwarded-User": "ana"}).status_code == 200


def test_without_auth_everything_is_open(project):
    c = create_app(project).server.test_client()
    assert c.get("/").status_code == 200
    assert c.get("/_dashboard/areas.geojson").status_code == 200
    assert b"download-button" in c.post("/_dash-update-component", json=_route_body("/map")).data
    assert b"type=\"password\"" not in c.get("/_auth/sign-in").data  # no sign-in page: the app shell


def test_base_path_serves_under_the_prefix(project):
    app = create_app(project, base_path="survey")
    c = app.server.test_client()
    page = c.get("/survey/priorities?lang=es")
    assert page.status_code == 200 and b'<html lang="es">' in page.data and b'"/survey/_dash-' in page.data
    assert c.get("/priorities").status_code == 404
    assert c.get("/survey/_dashboard/areas.geojson").status_code == 200
    assert c.get("/survey/feed/estimates.json?limit=1").status_code == 200
    shell = c.post("/survey/_dash-update-component", json=_route_body("/survey/priorities"))
    assert shell.status_code == 200
    body = json.dumps(json.loads(shell.data))  # Dash writes "/" as \u002f
    assert "priorities-graph" in body and '"href": "/survey/map' in body


def test_users_add_cli_hashes_and_prompts(tmp_path, monkeypatch):
    f = tmp_path / "users.json"
    assert main(["users", "add", "--file", str(f), "--name", "jdoe", "--role", "analyst", "--password", "long-enough-1"]) == 0
    monkeypatch.setattr("typer.prompt", lambda *a, **k: "prompted-pass-2")
    assert main(["users", "add", "--file", str(f), "--name", "amy", "--role", "viewer"]) == 0
    users = load_users(f)
    assert users["jdoe"]["role"] == "analyst" and users["amy"]["role"] == "viewer"
    text = f.read_text()
    assert "long-enough-1" not in text and "prompted-pass-2" not in text and text.count("scrypt:") == 2
    assert (f.stat().st_mode & 0o077) == 0  # readable by its owner only
    assert main(["users", "add", "--file", str(f), "--name", "x", "--role", "admin", "--password", "long-enough-1"]) == 2
    assert main(["users", "add", "--file", str(f), "--name", "x", "--role", "viewer", "--password", "short"]) == 2
    with pytest.raises(AuthError):
        add_user(f, "../etc", "viewer", "long-enough-1")
