"""`survey-pipeline dashboard`: a clear error (exit 2) when the project has no results yet or an
option is wrong; served by gunicorn workers, it answers over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from survey_pipeline.cli import main
from tests.fixtures_results import make_results_project

REPO = Path(__file__).resolve().parents[2]


def test_dashboard_without_results_exits_2(tmp_path, capsys):
    rc = main(["dashboard", "--project", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "no results" in err or "no store" in err
    assert f"survey-pipeline run --project {tmp_path}" in err.replace("\n", "")


def test_dashboard_app_builds_for_a_results_project(tmp_path):
    from dash_app import create_app

    app = create_app(make_results_project(tmp_path / "p"))
    client = app.server.test_client()
    page = client.get("/map?lang=es")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn" not in html.lower() and "googleapis" not in html
    assert client.get("/_dash-layout").status_code == 200


def test_workers_below_one_are_refused(tmp_path, capsys):
    rc = main(["dashboard", "--project", str(tmp_path), "--workers", "0"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--workers" in err and "greater than or equal to 1" in err


def test_debug_with_workers_is_refused(tmp_path, capsys):
    root = make_results_project(tmp_path / "p")
    rc = main(["dashboard", "--project", str(root), "--debug", "--threads", "2"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--debug" in err and "do not apply" in err and "Serving" not in err


def test_a_port_in_use_is_one_clear_message(tmp_path, capsys):
    root = make_results_project(tmp_path / "p")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        rc = main(["dashboard", "--project", str(root), "--port", str(s.getsockname()[1])])
    assert rc == 2
    err = capsys.readouterr().err
    assert "the port is in use" in err and "--port" in err and "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_command_serves_the_dashboard_with_workers(tmp_path):
    root = make_results_project(tmp_path / "p")
    port = _free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from survey_pipeline.cli import main; sys.exit(main())",
             "dashboard", "--project", str(root), "--port", str(port), "--workers", "2", "--threads", "2"],
            env=env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=5) as r:
                    status, page = r.status, r.read().decode()
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.2)
        assert status == 200 and "_dash-config" in page
        shapes = json.loads(urllib.request.urlopen(url + "/_dashboard/areas.geojson", timeout=5).read())
        assert shapes["features"]
        assert "gunicorn, 2 workers x 2 threads" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # a clean stop: every process finalises what it inherited (no binding leak reports, no traceback)
    assert "leaked" not in log.read_text() and "Traceback" not in log.read_text()


def test_sign_in_options_are_checked(tmp_path, capsys):
    root = make_results_project(tmp_path / "p")
    assert main(["dashboard", "--project", str(root), "--auth", str(tmp_path / "none.json")]) == 2
    assert "no such users file" in capsys.readouterr().err
    assert main(["dashboard", "--project", str(root), "--certfile", str(tmp_path / "c.pem")]) == 2
    assert "--certfile and --keyfile go together" in capsys.readouterr().err
    assert main(["dashboard", "--project", str(root), "--base-path", "/a b/"]) == 2
    assert "--base-path" in capsys.readouterr().err


@pytest.mark.slow
def test_sign_in_works_across_gunicorn_workers(tmp_path):
    """A session made by one worker is honoured by the others (the key is made before the fork),
    under --base-path; without it every route answers 401 or redirects."""
    import http.client

    root = make_results_project(tmp_path / "p")
    users = tmp_path / "users.json"
    assert main(["users", "add", "--file", str(users), "--name", "ana", "--role", "analyst", "--password", "analyst-pass-1"]) == 0
    port = _free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from survey_pipeline.cli import main; sys.exit(main())",
             "dashboard", "--project", str(root), "--port", str(port), "--workers", "2", "--threads", "1",
             "--auth", str(users), "--base-path", "/survey/"], env=env, stdout=fh, stderr=subprocess.STDOUT)

    def get(path: str, cookie: str | None = None, body: bytes | None = None, ctype: str | None = None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {**({"Cookie": cookie} if cookie else {}), **({"Content-Type": ctype} if ctype else {})}
        c.request("POST" if body is not None else "GET", path, body=body, headers=headers)
        r = c.getresponse()
        out = (r.status, r.getheader("Location"), r.getheader("Set-Cookie"), r.read())
        c.close()
        return out

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, *_ = get("/survey/_auth/sign-in")
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.2)
        assert status == 200
        status, location, *_ = get("/survey/map")
        assert status == 302 and location.startswith("/survey/_auth/sign-in?next=")
        assert get("/survey/_dashboard/areas.geojson")[0] == 401
        status, location, cookie, _ = get("/survey/_auth/sign-in", body=b"name=ana&password=analyst-pass-1&next=/survey/map",
                                          ctype="application/x-www-form-urlencoded")
        assert status == 303 and location == "/survey/map" and "Path=/survey/" in cookie
        cookie = cookie.split(";", 1)[0]
        # many requests: both workers answer some of them, each accepts the other's session
        assert all(get("/survey/_dashboard/areas.geojson", cookie)[0] == 200 for _ in range(12))
        assert get("/survey/feed/estimates.json?limit=1", cookie)[0] == 200
        assert "sign-in for 1 users" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "Traceback" not in log.read_text()
