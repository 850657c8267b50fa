"""The read-side layering (issue 17, survey_pipeline/results/__init__.py), checked by parsing every
import statement (top level and inside functions) of the shipped modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports, relative imports resolved against ``package``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def offending(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT)
        package = ".".join(rel.with_suffix("").parts[:-1]) if path.name != "__init__.py" else ".".join(rel.parts[:-1])
        for mod in sorted(imported_modules(path, package)):
            if any(mod == f or mod.startswith(f + ".") for f in forbidden):
                bad.append(f"{rel}: imports {mod}")
    return bad


@pytest.mark.parametrize("folder, forbidden", [
    ("dash_app", ("survey_pipeline.report", "survey_pipeline.analysis")),
    ("survey_pipeline/report", ("survey_pipeline.analysis", "dash_app")),
    ("survey_pipeline/results", ("survey_pipeline.analysis", "survey_pipeline.report", "dash_app")),
])
def test_read_side_layers(folder, forbidden):
    assert offending(folder, forbidden) == []


def test_the_check_sees_relative_and_nested_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from ..analysis import sentences\n    import survey_pipeline.report.content\n")
    got = imported_modules(f, "survey_pipeline.results")
    assert "survey_pipeline.analysis" in got and "survey_pipeline.analysis.sentences" in got
    assert "survey_pipeline.report.content" in got
