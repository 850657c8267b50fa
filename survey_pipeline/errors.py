"""One exception tree for everything a user can get wrong.

Every error carries structured fields — where (file, line/row, column, question), the rule that was
broken and how to fix it — so the CLI can print one clear message and tests can assert on fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in a user's file: where it is, what rule it breaks, and how to fix it."""

    file: str | None
    rule: str
    message: str
    fix: str
    line: int | None = None
    row: int | None = None
    column: str | None = None
    question: str | None = None
    severity: str = "error"  # "error" or "warning"

    def where(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(str(self.file))
        loc: list[str] = []
        if self.question:
            loc.append(f"question '{self.question}'")
        if self.row is not None:
            loc.append(f"row {self.row}")
        if self.column:
            loc.append(f"column '{self.column}'")
        if self.line is not None:
            loc.append(f"line {self.line}")
        if loc:
            parts.append(", ".join(loc))
        return ": ".join(parts) if parts else "<input>"

    def __str__(self) -> str:
        return f"{self.where()}: [{self.rule}] {self.message} Fix: {self.fix}"


class SurveyPipelineError(Exception):
    """Base of every error the package raises on purpose.

    ``problems`` lists each problem found (validation is lazy: all of them at once).
    """

    def __init__(self, message: str, problems: list[Problem] | None = None, *, file: str | Path | None = None,
                 rule: str | None = None, fix: str | None = None):
        self.problems: list[Problem] = list(problems or [])
        self.file = str(file) if file is not None else None
        self.rule = rule
        self.fix = fix
        super().__init__(message)

    def render(self) -> str:
        """The message a person reads: the summary, then one line per problem."""
        head = str(self)
        if not self.problems:
            if self.rule and f"[{self.rule}]" not in head:
                head = f"{head} [{self.rule}]"
            if self.fix:
                head = f"{head} Fix: {self.fix}"
        if not self.problems:
            return head
        lines = [head] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InstrumentError(SurveyPipelineError):
    """An instrument file is missing, unreadable or invalid."""


class DeployError(SurveyPipelineError):
    """An instrument cannot be exported to the requested format."""


class ImportInstrumentError(InstrumentError):
    """An XLSForm or codebook cannot be turned into an instrument."""


class PlanError(SurveyPipelineError):
    """A sample-size plan cannot be computed from the inputs given."""


class ProjectError(SurveyPipelineError):
    """A survey project folder or its survey.toml is missing or invalid."""


class IngestError(SurveyPipelineError):
    """An export cannot be read, mapped or loaded."""


class StoreError(SurveyPipelineError):
    """The DuckDB store cannot be opened or written."""


class WeightingError(SurveyPipelineError):
    """Weights cannot be computed from the targets given."""


class AnalysisError(SurveyPipelineError):
    """Indicators or comparisons cannot be computed."""


class CommentsError(SurveyPipelineError):
    """Comments cannot be coded, exported for review or their review imported."""


class ProgramError(SurveyPipelineError):
    """A program of many agencies (program.toml, benchmarks.csv, a member's run) cannot go on."""


@dataclass
class ProblemList:
    """Collects problems during lazy validation."""

    file: str | None = None
    items: list[Problem] = field(default_factory=list)

    def add(self, rule: str, message: str, fix: str, **where) -> None:
        self.items.append(Problem(file=where.pop("file", self.file), rule=rule, message=message, fix=fix, **where))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)
