"""The templates ship inside the package and are found after a non-editable install."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_templates_found_after_non_editable_install(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheel_dir), str(ROOT)], check=True, capture_output=True)
    wheels = list(wheel_dir.glob("survey_pipeline-*.whl"))
    assert len(wheels) == 1
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheels[0])], check=True, capture_output=True)
    paths = [str(target), sysconfig.get_paths()["purelib"]]
    code = (
        f"import sys, json; sys.path[:0] = {paths!r}; import survey_pipeline as sp; "
        "print(json.dumps([str(sp.instrument.templates_dir()), sp.list_templates()]))"
    )
    res = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    where, names = json.loads(res.stdout)
    assert where.startswith(str(target)), where
    assert {"resident", "partner", "agency_self_assessment"} <= set(names)
