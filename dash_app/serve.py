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


def _gunicorn(wsgi_app: Any, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    options = {
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


def serve(project: Any, *, host: str = "127.0.0.1", port: int = 8050, workers: int | None = None,
          threads: int | None = None, debug: bool = False,
          announce: Callable[[str], Any] | None = None) -> None:
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
    announce
        Called with one line saying where and how the dashboard is served, once it is ready.

    Raises
    ------
    survey_pipeline.errors.ProjectError
        When the project has no results yet.
    survey_pipeline.errors.SurveyPipelineError
        For fewer than one worker or thread, ``workers``/``threads`` with ``debug``, a port in
        use, or gunicorn on a system without it (Windows).
    """
    if debug and (workers is not None or threads is not None):
        raise SurveyPipelineError(
            "--debug runs Dash's development server in one process: --workers and --threads do not apply.",
            rule="debug-single-process", fix="Drop --workers/--threads, or drop --debug to use the production server.")
    workers = default_workers() if workers is None else workers
    threads = DEFAULT_THREADS if threads is None else threads
    _check_count("workers", workers)
    _check_count("threads", threads)
    if not debug and sys.platform == "win32":
        raise SurveyPipelineError(
            "The production server (gunicorn) needs a POSIX system (Linux, macOS).", rule="no-gunicorn",
            fix="Use --debug (Dash's development server) on Windows, or serve from WSL or Linux.")
    from dash_app.app import create_app, warm_up

    app = create_app(project)  # raises ProjectError when there are no results
    _check_port_free(host, port)
    warm_up(app)
    if announce is not None:
        how = ("Dash's development server (debug)" if debug
               else f"gunicorn, {workers} worker{'s' * (workers > 1)} x {threads} thread{'s' * (threads > 1)}")
        announce(f"Serving {project} on http://{host}:{port}/ with {how} (Ctrl+C to stop)")
    if debug:
        app.run(host=host, port=port, debug=True)
    else:
        # what the workers inherit stays shared: the collector leaves it alone from here on (and
        # gets it back at exit, so everything is finalised: duckdb's bindings check for leaks)
        gc.collect()
        gc.freeze()
        atexit.register(gc.unfreeze)
        _gunicorn(app.server, host, port, workers, threads)
