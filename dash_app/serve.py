"""Serving the dashboard: gunicorn worker processes for use, Dash's development server for debugging.

``serve(project, workers=2, threads=4)`` builds the app once (``create_app``: it reads the results
and refuses a project without them), then gunicorn forks ``workers`` processes from it
(``preload_app``: the results snapshot is shared copy-on-write), each answering requests on
``threads`` threads. Several processes are what lets the callbacks use several cores: in one
process every callback runs under the same GIL. Each worker re-reads the results on its own when
the store changes; the store is only ever opened read-only, so any number of them can read it.
"""

from __future__ import annotations

import atexit
import errno
import gc
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from survey_pipeline.errors import SurveyPipelineError

__all__ = ["DEFAULT_THREADS", "default_workers", "serve"]

DEFAULT_THREADS = 4


def default_workers() -> int:
    """One worker process per CPU core (at least 2, at most 8)."""
    return max(2, min(8, os.cpu_count() or 1))


def _check_count(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SurveyPipelineError(
            f"--{name} {value!r}: the dashboard needs at least one {name[:-1]}.", rule=f"{name}-at-least-1",
            fix=f"Pass --{name} 1 or more (for example --{name} {default_workers() if name == 'workers' else DEFAULT_THREADS}).")


def _check_port_free(host: str, port: int) -> None:
    """Fail with one clear message when ``host:port`` cannot be listened on (before forking)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise SurveyPipelineError(f"--host {host}: not an address of this machine ({exc.strerror}).",
                                  rule="host-unknown", fix="Pass --host 127.0.0.1, 0.0.0.0 or an address of this machine.") from exc
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            busy = exc.errno == errno.EADDRINUSE
            raise SurveyPipelineError(
                f"{host}:{port}: cannot listen there ({'the port is in use' if busy else exc.strerror}).",
                rule="port-in-use" if busy else "cannot-listen",
                fix="Pass another --port, or stop the program using this one." if busy
                else "Pass another --host or --port.") from exc


def _gunicorn(wsgi_app: Any, host: str, port: int, workers: int, threads: int,
              tls: tuple[str, str] | None = None) -> None:
    from gunicorn.app.base import BaseApplication

    options = {
        **({"certfile": tls[0], "keyfile": tls[1]} if tls else {}),
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers, "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "preload_app": True,  # the app (and its results snapshot) is built once, then forked
        "timeout": 120, "graceful_timeout": 10, "keepalive": 5,
        "accesslog": None, "errorlog": "-", "loglevel": "warning",
    }

    class _Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return wsgi_app

    _Server().run()


def _waitress(wsgi_app: Any, host: str, port: int, threads: int) -> None:  # pragma: no cover - Windows
    import waitress

    waitress.serve(wsgi_app, host=host, port=port, threads=threads)


def _check_tls(certfile: str | None, keyfile: str | None) -> tuple[str, str] | None:
    if certfile is None and keyfile is None:
        return None
    if not certfile or not keyfile:
        raise SurveyPipelineError("--certfile and --keyfile go together: HTTPS needs the certificate and its key.",
                                  rule="tls-pair", fix="Pass both, or neither (and put a reverse proxy with HTTPS in front).")
    for name, f in (("--certfile", certfile), ("--keyfile", keyfile)):
        if not os.path.isfile(f):
            raise SurveyPipelineError(f"{name} {f}: no such file.", file=f, rule="tls-file-missing",
                                      fix="Pass the PEM files of the server's certificate and private key.")
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise SurveyPipelineError(f"{certfile} / {keyfile}: not a usable certificate and key ({exc}).", file=certfile,
                                  rule="tls-unusable", fix="Pass the PEM certificate (chain) and its matching unencrypted key.") from exc
    return certfile, keyfile


def serve(project: Any, *, host: str = "127.0.0.1", port: int = 8050, workers: int | None = None,
          threads: int | None = None, debug: bool = False,
          announce: Callable[[str], Any] | None = None, auth: Any = None, base_path: str | None = None,
          certfile: str | None = None, keyfile: str | None = None) -> None:
    """Serve the dashboard of ``project`` until interrupted.

    Parameters
    ----------
    project
        A project folder (holding ``warehouse.duckdb``) or a ``survey_pipeline.project.Project``.
    host, port
        Where to listen (loopback by default).
    workers, threads
        Worker processes and threads per process of the production server (gunicorn; default:
        :func:`default_workers` and :data:`DEFAULT_THREADS`). Not allowed with ``debug``.
    debug
        Dash's development server with the reloader and dev tools, in one process.
    auth
        A :class:`dash_app.auth.AuthConfig` (sign-in and roles), or None (open, for a local run).
    base_path
        The URL path served under (``/survey/`` behind a reverse proxy).
    certfile, keyfile
        PEM certificate and key to serve HTTPS directly (gunicorn or the development server).
    announce
        Called with one line saying where and how the dashboard is served, once it is ready.

    Raises
    ------
    survey_pipeline.errors.ProjectError
        When the project has no results yet.
    survey_pipeline.errors.SurveyPipelineError
        For fewer than one worker or thread, ``workers``/``threads`` with ``debug``, a port in
        use, an unusable certificate, or HTTPS on Windows (waitress serves there, without TLS).
    """
    if debug and (workers is not None or threads is not None):
        raise SurveyPipelineError(
            "--debug runs Dash's development server in one process: --workers and --threads do not apply.",
            rule="debug-single-process", fix="Drop --workers/--threads, or drop --debug to use the production server.")
    workers = default_workers() if workers is None else workers
    threads = DEFAULT_THREADS if threads is None else threads
    _check_count("workers", workers)
    _check_count("threads", threads)
    windows = not debug and sys.platform == "win32"
    tls = _check_tls(certfile, keyfile)
    if windows and tls:
        raise SurveyPipelineError("On Windows the dashboard is served by waitress, which has no HTTPS of its own.",
                                  rule="windows-tls", fix="Drop --certfile/--keyfile and put IIS or nginx with HTTPS in "
                                                          "front (docs/deploy-dashboard.md).")
    from dash_app.app import create_app, normalise_base_path, warm_up

    prefix = normalise_base_path(base_path)
    if auth is not None and tls:
        auth = type(auth)(users=auth.users, proxy_header=auth.proxy_header, secure_cookie=True)
    app = create_app(project, auth=auth, base_path=prefix)  # raises ProjectError when there are no results
    _check_port_free(host, port)
    warm_up(app)
    if announce is not None:
        how = ("Dash's development server (debug)" if debug else f"waitress, {threads} threads" if windows
               else f"gunicorn, {workers} worker{'s' * (workers > 1)} x {threads} thread{'s' * (threads > 1)}")
        signin = "" if auth is None or not auth.enabled else (
            f", sign-in by the {auth.proxy_header} header" if auth.proxy_header else f", sign-in for {len(auth.users)} users")
        announce(f"Serving {project} on http{'s' * bool(tls)}://{host}:{port}{prefix} with {how}{signin} (Ctrl+C to stop)")
    if debug:
        app.run(host=host, port=port, debug=True, ssl_context=tls)
    elif windows:  # pragma: no cover - gunicorn needs fork(); waitress serves with threads in one process
        _waitress(app.server, host, port, threads)
    else:
        # what the workers inherit stays shared: the collector leaves it alone from here on (and
        # gets it back at exit, so everything is finalised: duckdb's bindings check for leaks)
        gc.collect()
        gc.freeze()
        atexit.register(gc.unfreeze)
        _gunicorn(app.server, host, port, workers, threads, tls)
