"""Programs of many agencies: member projects run as independent tasks, peer and outside benchmarks.

A program folder holds ``program.toml`` (members, shared indicators, access, executor) and an
optional ``benchmarks.csv``; see :mod:`survey_pipeline.program.config` and docs/program.md.
The program reads only what members published (their results tables), never their responses.
"""

from __future__ import annotations

from .benchmarks import BENCHMARK_COLUMNS, external_benchmarks, peer_benchmarks
from .config import Member, Program, load_program, read_external_benchmarks
from .executor import DaskExecutor, Executor, LocalExecutor, Outcome, make_executor
from .run import ProgramResult, member_fingerprint, read_member_estimates, run_member, run_program

__all__ = [
    "BENCHMARK_COLUMNS",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "Member",
    "Outcome",
    "Program",
    "ProgramResult",
    "external_benchmarks",
    "load_program",
    "make_executor",
    "member_fingerprint",
    "peer_benchmarks",
    "read_external_benchmarks",
    "read_member_estimates",
    "run_member",
    "run_program",
]
