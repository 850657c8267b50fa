"""`survey-pipeline dashboard`: a clear error (exit 2) when the project has no results yet."""

from __future__ import annotations

from survey_pipeline.cli import main


def test_dashboard_without_results_exits_2(tmp_path, capsys):
    rc = main(["dashboard", "--project", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "no results" in err or "no store" in err
    assert f"survey-pipeline run --project {tmp_path}" in err.replace("\n", "")


def test_dashboard_app_builds_for_a_results_project(tmp_path):
    from dash_app import create_app
    from tests.fixtures_results import make_results_project

    app = create_app(make_results_project(tmp_path / "p"))
    client = app.server.test_client()
    page = client.get("/map?lang=es")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn" not in html.lower() and "googleapis" not in html
    assert client.get("/_dash-layout").status_code == 200
