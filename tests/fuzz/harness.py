"""Ingest malformed exports into a project that already holds a good wave, and judge each one.

The property (issue 19): an ingest either succeeds with rows in = kept + quarantined (and, where
the generator knows how many responses the file holds, that many rows in), or raises a
``SurveyPipelineError`` that names the file, the rule and the fix, with every table of the store
unchanged (row count and the sum of row hashes of each table). Any other exception is a failure.
Either way no planted e-mail or phone number, and no e-mail pattern, is anywhere in the store.

``python -m tests.fuzz.harness`` (``make fuzz``) runs the whole corpus in a worker process whose
peak resident memory is reset and read for every case (Linux ``/proc/self/clear_refs`` and
``VmHWM``), with an address-space limit and a time limit per case, and prints a table by family.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.fuzz import corpus

WAVE = "fuzz"
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"


@dataclass
class Result:
    name: str
    family: str
    outcome: str  # ok | refused | failure
    detail: str
    seconds: float
    peak_mb: float | None = None


# ------------------------------------------------------------------------------------ store


def store_fingerprint(store_path: Path) -> dict[str, tuple]:
    """Row count and the sum of row hashes of every table of the store."""
    import duckdb

    if not store_path.exists():
        return {}
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        return {t: tuple(con.execute(f'SELECT count(*), sum(hash(x)) FROM "{t}" x').fetchone()) for t in tables}
    finally:
        con.close()


def identifiers_in_store(store_path: Path, planted: list[str], wave: str | None = None) -> list[str]:
    """Where an e-mail pattern, a planted e-mail or phone (as typed, or its digits) is in the store's text.

    One query per table over all its text columns joined. ``wave``: only the rows of that wave in
    the tables that have a ``wave`` column (the rest was checked before).
    """
    import duckdb

    digits = sorted({re.sub(r"\D", "", p) for p in planted if "@" not in p})
    found = []
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        cols: dict[str, list[str]] = {}
        for t, c in con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                "WHERE table_schema = 'main' AND data_type = 'VARCHAR' ORDER BY 1, ordinal_position").fetchall():
            cols.setdefault(t, []).append(c)
        for t, cs in cols.items():
            joined = "concat_ws(' | ', " + ", ".join(f'"{c}"' for c in cs) + ")"
            checks = ["bool_or(regexp_matches(s, ?))"] + ["bool_or(contains(s, ?))"] * len(planted) + \
                ["bool_or(contains(d, ?))"] * len(digits)
            q = (f"SELECT {', '.join(checks)} FROM (SELECT {joined} AS s, "
                 f"regexp_replace({joined}, '\\D', '', 'g') AS d FROM \"{t}\")")
            params = [EMAIL, *planted, *digits]
            if wave is not None and "wave" in cs:
                q = q[:-1] + " WHERE wave = ?)"
                params.append(wave)
            hits = con.execute(q, params).fetchone()
            labels = ["an e-mail"] + [repr(p) for p in planted] + [f"phone digits {d}" for d in digits]
            found += [f"{lab} in {t}" for lab, hit in zip(labels, hits, strict=True) if hit]
    finally:
        con.close()
    return found


# ---------------------------------------------------------------------------------- project


@dataclass
class Template:
    """The project every case is ingested into (a copy of it), what its store holds, and what each
    base file stores when ingested intact (the values a misaligned row would not have)."""

    path: Path
    fingerprint: dict
    reference: dict[str, dict[str, set]]


def build_template(root: Path) -> Template:
    """A project holding one good wave (the Qualtrics base), its store's fingerprint, and the
    reference values of every base."""
    from survey_pipeline.ingest.pipeline import ingest
    from survey_pipeline.project import init_project

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    bases = corpus.load_bases()
    files = {}
    for name, b in bases.items():
        files[name] = root / f"{name}.csv"
        files[name].write_bytes((b"\xef\xbb\xbf" if b.bom else b"") + b.text.encode("utf-8"))
    proj_dir = root / "project"
    init_project(proj_dir, instrument="resident", areas=corpus.FIXTURE / "areas.csv")
    s = ingest(proj_dir, files[corpus.GOOD_BASE], "2024-spring", mode="web")
    assert s.rows_kept > 0, s
    store = _store_path(proj_dir)
    leaks = identifiers_in_store(store, list(corpus.EMAILS + corpus.PHONES))
    assert not leaks, f"the good wave's store holds identifiers: {leaks}"
    fingerprint = store_fingerprint(store)
    reference = {}
    for name, f in files.items():
        ref_dir = root / f"ref-{name}"
        init_project(ref_dir, instrument="resident", areas=corpus.FIXTURE / "areas.csv")
        got = ingest(ref_dir, f, WAVE, mode="web")
        assert got.rows_read == corpus.BASE_ROWS, (name, got.rows_read)
        reference[name] = _stored_values(_store_path(ref_dir))
        shutil.rmtree(ref_dir)
    return Template(proj_dir, fingerprint, reference)


def _stored_values(store: Path) -> dict[str, set]:
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        out = {}
        for col in ("status_raw", "survey_language", "platform_response_id"):
            out[col] = {r[0] for r in con.execute(f"SELECT DISTINCT {col} FROM responses WHERE wave = ?", [WAVE]).fetchall()}
        return out
    finally:
        con.close()


_INSTRUMENTS: dict[str, object] = {}


def _instrument(template: Path):
    if str(template) not in _INSTRUMENTS:
        from survey_pipeline.project import Project

        _INSTRUMENTS[str(template)] = Project.load(template).instrument_model
    return _INSTRUMENTS[str(template)]


def _store_path(proj_dir: Path) -> Path:
    from survey_pipeline.project import Project

    return Project.load(proj_dir).store_path


def run_case(tpl: Template, case: corpus.Case, work: Path) -> Result:
    """Ingest ``case`` into a copy of the template project and judge it against the property."""
    from survey_pipeline.errors import SurveyPipelineError
    from survey_pipeline.ingest.pipeline import ingest
    from survey_pipeline.project import Project

    proj_dir = work / case.name
    shutil.copytree(tpl.path, proj_dir)
    t0 = time.perf_counter()
    try:
        proj = Project.load(proj_dir)
        proj.__dict__["instrument_model"] = _instrument(tpl.path)  # parsed once (a cached property)
        store = proj.store_path
        try:
            s = ingest(proj, case.path, WAVE, mode="web", platform=case.platform)
        except SurveyPipelineError as exc:
            secs = time.perf_counter() - t0
            text = exc.render()
            problems = []
            if not (exc.file or any(p.file for p in exc.problems)) and str(case.path) not in text:
                problems.append("no file named")
            if not (exc.rule or any(p.rule for p in exc.problems)):
                problems.append("no rule")
            if not (exc.fix or any(p.fix for p in exc.problems)):
                problems.append("no fix")
            if store_fingerprint(store) != tpl.fingerprint:
                problems.append("store changed")
            if problems:
                return Result(case.name, case.family, "failure", f"refused but {', '.join(problems)}: {text[:300]}", secs)
            return Result(case.name, case.family, "refused", f"[{exc.rule}] {str(exc)[:200]}", secs)
        except Exception as exc:
            secs = time.perf_counter() - t0
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            return Result(case.name, case.family, "failure",
                          f"{type(exc).__name__}: {str(exc)[:200]} at {Path(tb.filename).name}:{tb.lineno}", secs)
        secs = time.perf_counter() - t0
        problems = []
        if s.status == "loaded":
            if s.rows_read != s.rows_kept + s.rows_quarantined:
                problems.append(f"rows in {s.rows_read} != kept {s.rows_kept} + quarantined {s.rows_quarantined}")
            import duckdb

            con = duckdb.connect(str(store), read_only=True)
            try:
                n_resp = con.execute("SELECT count(*) FROM responses WHERE wave = ?", [WAVE]).fetchone()[0]
                n_q = con.execute("SELECT count(*) FROM quarantine WHERE wave = ?", [WAVE]).fetchone()[0]
            finally:
                con.close()
            if n_resp + n_q != s.rows_read:
                problems.append(f"store holds {n_resp} + {n_q} rows for {s.rows_read} read")
            if case.expect_rows is not None and s.rows_read != case.expect_rows:
                problems.append(f"silent loss: {s.rows_read} rows read of the file's {case.expect_rows}")
            if case.must_refuse:
                problems.append("loaded, but this file must be refused")
            got = _stored_values(store)
            ref = tpl.reference[case.base]
            checks = ["status_raw"] + (["survey_language", "platform_response_id"] if case.family in corpus.ALIGNMENT else [])
            for col in checks:
                # a value the mangling changed in place is the file's own value, not a shifted one:
                # a cell with U+FFFD (a damaged cell the reader reported), a flipped letter case
                # ('Normal'), a quote inside an unquoted cell (literal content); compared loosely
                def loose(v) -> str:
                    return str(v).casefold().replace('"', "")
                known = {loose(v) for v in ref[col] if v is not None}
                extra = sorted(str(v) for v in got[col] - ref[col]
                               if v is not None and "\ufffd" not in str(v) and loose(v) not in known)
                if extra:
                    problems.append(f"{col} holds values the file does not have there: {extra[:3]}")
        problems += identifiers_in_store(store, case.planted, WAVE)
        if problems:
            return Result(case.name, case.family, "failure", "; ".join(problems), secs)
        return Result(case.name, case.family, "ok",
                      f"{s.status}: {s.rows_read} in, {s.rows_kept} kept, {s.rows_quarantined} quarantined", secs)
    finally:
        shutil.rmtree(proj_dir, ignore_errors=True)


# ------------------------------------------------------------------------- the full corpus


def _peak_reset() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_mb() -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _worker(conn, tpl: Template, work: str, limit_gb: float) -> None:  # pragma: no cover
    import resource

    lim = int(limit_gb * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    while True:
        msg = conn.recv()
        if msg is None:
            return
        case = corpus.Case(**msg)
        with contextlib.suppress(OSError):
            _peak_reset()
        try:
            res = run_case(tpl, case, Path(work))
        except BaseException as exc:
            res = Result(case.name, case.family, "failure", f"harness: {type(exc).__name__}: {exc}", 0.0)
        res.peak_mb = _peak_mb()
        conn.send(asdict(res))


def run_all(cases: list[corpus.Case], tpl: Template, work: Path, *, timeout: float = 120.0,
            limit_gb: float = 8.0, log=print, results_file: Path | None = None) -> list[Result]:  # pragma: no cover - make fuzz
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    results: list[Result] = []
    proc = parent = None

    def start():
        a, b = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(b, tpl, str(work), limit_gb), daemon=True)
        p.start()
        return p, a

    for n, case in enumerate(cases, 1):
        if proc is None or not proc.is_alive():
            proc, parent = start()
        d = asdict(case)
        d["path"] = str(case.path)
        parent.send(d)
        t0 = time.perf_counter()
        if parent.poll(timeout):
            try:
                res = Result(**parent.recv())
            except EOFError:
                res = Result(case.name, case.family, "failure", "worker died (killed: memory?)", time.perf_counter() - t0)
                proc = None
        else:
            proc.kill()
            proc.join()
            proc = None
            res = Result(case.name, case.family, "failure", f"timeout after {timeout:.0f} s", timeout)
        results.append(res)
        if results_file is not None:
            with open(results_file, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(asdict(res)) + "\n")
        if res.outcome == "failure":
            log(f"FAIL {res.name}: {res.detail}")
        if n % 100 == 0:
            log(f"... {n}/{len(cases)}")
    if proc is not None and proc.is_alive():
        parent.send(None)
        proc.join(5)
    return results


def summary_table(results: list[Result]) -> str:
    fams: dict[str, list[Result]] = {}
    for r in results:
        fams.setdefault(r.family, []).append(r)
    lines = [f"{'family':<18} {'cases':>5} {'ok':>5} {'refused':>7} {'failures':>8} {'max peak MB':>11} {'time s':>8}"]
    tot = [0, 0, 0, 0, 0.0, 0.0]
    for fam, rs in fams.items():
        peak = max((r.peak_mb or 0.0) for r in rs)
        row = [len(rs), sum(r.outcome == "ok" for r in rs), sum(r.outcome == "refused" for r in rs),
               sum(r.outcome == "failure" for r in rs), peak, sum(r.seconds for r in rs)]
        lines.append(f"{fam:<18} {row[0]:>5} {row[1]:>5} {row[2]:>7} {row[3]:>8} {row[4]:>11.0f} {row[5]:>8.1f}")
        tot = [a + b for a, b in zip(tot[:4], row[:4], strict=True)] + [max(tot[4], peak), tot[5] + row[5]]
    lines.append(f"{'total':<18} {tot[0]:>5} {tot[1]:>5} {tot[2]:>7} {tot[3]:>8} {tot[4]:>11.0f} {tot[5]:>8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - make fuzz
    ap = argparse.ArgumentParser(description="Run the fuzz corpus of malformed exports (issue 19).")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--sample", type=int, default=0, help="run about this many cases (0: all)")
    ap.add_argument("--family", action="append", help="only these families")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    ap.add_argument("--limit-gb", type=float, default=8.0, help="address-space limit of the worker")
    ap.add_argument("--keep", help="write the corpus here and keep it")
    ap.add_argument("--results", help="append each case's result to this JSON-lines file as it is judged")
    ap.add_argument("--summarize", nargs="+", help="only print the table of these results files")
    args = ap.parse_args(argv)
    if args.summarize:
        rows = [Result(**json.loads(line)) for f in args.summarize for line in Path(f).read_text().splitlines() if line]
        print(summary_table(rows))
        return 1 if any(r.outcome == "failure" for r in rows) else 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sp-fuzz-") as tmp:
        tmp = Path(tmp)
        out = Path(args.keep) if args.keep else tmp / "corpus"
        plan = corpus.sample_plan(args.sample, args.seed) if args.sample else None
        if args.family:
            plan = {f: (plan or {f: list(range(corpus.FAMILIES[f]))})[f] for f in args.family}
        cases = corpus.generate(out, args.seed, only=plan)
        print(f"{len(cases)} cases generated in {time.perf_counter() - t0:.0f} s", flush=True)
        tpl = build_template(tmp / "template")
        work = tmp / "work"
        work.mkdir()
        results = run_all(cases, tpl, work, timeout=args.timeout, limit_gb=args.limit_gb,
                          log=lambda m: print(m, flush=True), results_file=Path(args.results) if args.results else None)
    print(summary_table(results))
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    return 1 if any(r.outcome == "failure" for r in results) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
