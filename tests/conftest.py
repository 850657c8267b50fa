"""Suite-wide test settings, and the demo project built once per session (``demo_project``).

Property tests explore new random examples on every local run (that is how they find bugs); on CI
(``CI`` set) they run a fixed, derandomized sequence so a landing never depends on luck. A
failure found locally becomes an explicit regression test.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory):
    """The Riverton demo project, built and run once per session (ingest, weight, analyze; no
    deploy files, no dashboard served): a real project folder with a store full of results."""
    from survey_pipeline.demo import build_demo_project
    from survey_pipeline.run import run_project

    root = build_demo_project(tmp_path_factory.mktemp("demo") / "riverton")
    run_project(root)
    return root
