"""`survey-pipeline dashboard`: serve the Dash dashboard of a project's results."""

from __future__ import annotations

from pathlib import Path

import typer

from survey_pipeline.cli._app import app, err, out
from survey_pipeline.errors import SurveyPipelineError


@app.command("dashboard")
def dashboard(
    project: Path = typer.Option(..., "--project", help="The survey project folder (holds warehouse.duckdb)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (loopback by default)."),
    port: int = typer.Option(8050, "--port", min=1, max=65535, help="TCP port."),
    workers: int | None = typer.Option(
        None, "--workers", min=1,
        help="Worker processes of the production server (gunicorn); default: one per CPU core (2 to 8)."),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="Threads per worker process; default: 4."),
    debug: bool = typer.Option(False, "--debug", help="Dash's development server (reloader and dev tools), one process."),
    auth: Path | None = typer.Option(None, "--auth", help="A users file (made by `survey-pipeline users add`): "
                                     "people sign in; viewers see results, analysts also download and see the methodology's detail."),
    proxy_header: str | None = typer.Option(None, "--trust-proxy-header", help="A reverse proxy / single sign-on in front "
                                            "names the signed-in person in this header (e.g. X-Forwarded-User). Listen on 127.0.0.1 only."),
    base_path: str = typer.Option("/", "--base-path", help="URL path to serve under, e.g. /survey/ behind a reverse proxy."),
    certfile: Path | None = typer.Option(None, "--certfile", help="PEM certificate: serve HTTPS directly (with --keyfile)."),
    keyfile: Path | None = typer.Option(None, "--keyfile", help="PEM private key of --certfile."),
) -> None:
    """Serve the dashboard city leaders browse, from the project's results tables.

    Serves with gunicorn: several worker processes, each with a few threads, share the results
    read once at start (and each re-reads them when the store changes). Exits with code 2 when the
    project has no results yet.

    Sign-in is off by default (a local run on 127.0.0.1): with --auth FILE people sign in with a
    name and password, with --trust-proxy-header NAME a proxy in front signs them in
    (docs/deploy-dashboard.md).

    Example: survey-pipeline dashboard --project riverton --port 8050 --workers 2 --threads 4 --auth users.json --base-path /survey/
    """
    from dash_app.auth import AuthConfig, load_users
    from dash_app.serve import serve  # imported here: dash is only needed by this command

    config = None
    if auth is not None or proxy_header is not None:
        if proxy_header is not None and not proxy_header.strip():
            raise SurveyPipelineError("--trust-proxy-header '': the header's name is empty.", rule="proxy-header",
                                      fix="Name the header your proxy sets, e.g. --trust-proxy-header X-Forwarded-User.")
        config = AuthConfig(users=load_users(auth) if auth is not None else {}, proxy_header=proxy_header)
        if proxy_header and host not in ("127.0.0.1", "::1", "localhost"):
            err.print(f"warning: --trust-proxy-header with --host {host}: anyone who reaches this port directly can "
                      f"name themselves in {proxy_header}. Let only the proxy reach it (firewall), or listen on 127.0.0.1.",
                      markup=False)
    # raises ProjectError (exit 2) when there are no results, SurveyPipelineError for bad options
    serve(project, host=host, port=port, workers=workers, threads=threads, debug=debug,
          announce=lambda line: err.print(line, markup=False), auth=config, base_path=base_path,
          certfile=None if certfile is None else str(certfile), keyfile=None if keyfile is None else str(keyfile))


@app.command("users")
def users_cmd(
    action: str = typer.Argument(..., help="add: add a user (or change a user's role and password)."),
    file: Path = typer.Option(..., "--file", help="The users file (JSON; created when missing, readable by you only)."),
    name: str = typer.Option(..., "--name", help="The user's sign-in name."),
    role: str = typer.Option(..., "--role", help="viewer (results) or analyst (also downloads and methodology detail)."),
    password: str | None = typer.Option(None, "--password", help="The password (at least 8 characters); "
                                        "asked for, hidden, when left out."),
) -> None:
    """Manage the people who may sign in to the dashboard (`dashboard --auth FILE`).

    Passwords are stored as salted hashes (werkzeug's scrypt), never as typed.

    Example: survey-pipeline users add --file users.json --name jdoe --role analyst
    """
    from dash_app.auth import add_user

    if action != "add":
        raise SurveyPipelineError(f"users {action!r}: unknown action.", rule="users-action", fix="Use: survey-pipeline users add ...")
    if password is None:
        password = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    new = add_user(file, name, role, password)
    out.print(f"{'added' if new else 'updated'} {name} ({role}) in {file}", markup=False)
