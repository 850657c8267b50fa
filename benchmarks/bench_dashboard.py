"""Benchmark: server-side latency of every dashboard callback, serially and under open-loop load.

The dashboard reads the results tables only (docs/results.md; never responses, answers or
open_text: tests/unit/dashboard/test_data.py), so its cost depends on how many areas, groups,
indicators and waves the results hold, not on the raw response count: running the pipeline on a
1,000,000-response program would write results of exactly this shape, and the dashboard would do
the same work on them. Generating them directly takes seconds instead of the pipeline's minutes.
This writes the results store of a large program: 1,000,000 responses over 5 waves (200,000 a
wave) in 20 districts, 200 neighborhoods and 800 beats, 30 indicators, 14 demographic groups at
city and district level (~200k estimate rows, ~275k comparison rows, ~60k priority rows), with a
200-shape GeoJSON.

1. Serial: every callback (the router rendering each page, each page's view callback, the URL
   sync, CSV and XLSX downloads) is posted ``--reps`` times with random filters through Flask's
   test client (server-side time, no network; wall time and this process' CPU time, which other
   jobs on the machine do not inflate).
2. Load: the app served as ``survey-pipeline dashboard`` serves it (gunicorn workers; options
   from ``--server-args``; or ``--server flask``/``waitress`` for comparison) in a subprocess on
   127.0.0.1; ``--clients`` client threads send a random callback each at Poisson arrival times
   (open loop: a request's latency counts from its scheduled time, so a slow server cannot slow
   the arrivals down) for ``--duration`` seconds, at each ``--rate``. The server's and the
   client's CPU use during the run and the load average are recorded with the latencies.

    python benchmarks/bench_dashboard.py [--reps 30] [--clients 50] [--duration 60] [--rate 10,25]
        [--project DIR] [--server-args "--workers 2 --threads 4"]

``--sign-in`` serves with ``--auth`` (a users file made here) and every request carries the
session cookie of a signed-in analyst, as a browser's would (issue 14: the goal holds with
sign-in on). ``--districts N`` makes a smaller program (N districts instead of 20, the same
shape) for a quick run on a busy machine.

Goal (issue 6): p95 under 150 ms and zero errors. Results go to benchmarks/out/dashboard.json.
Run it while nothing else heavy runs: the load test needs every core.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WAVES = [f"{y}-spring" for y in range(2022, 2027)]
N_DISTRICTS, NBHD_PER_DISTRICT, BEATS_PER_NBHD = 20, 10, 4
N_INDICATORS = 30
GROUPS = {"age_group": ["18-24", "25-34", "35-49", "50-64", "65+"], "sex": ["female", "male"],
          "race_ethnicity": ["asian", "black", "hispanic", "white", "other"], "tenure": ["owner", "renter"]}
RESPONSES_PER_WAVE = 200_000


def _areas() -> pd.DataFrame:
    rows = [("city", "city", 1.0)]
    for d in range(N_DISTRICTS):
        rows.append(("district", f"d{d + 1:02d}", 1 / N_DISTRICTS))
        for k in range(NBHD_PER_DISTRICT):
            code = str(d * NBHD_PER_DISTRICT + k + 1)
            rows.append(("neighborhood", code, 1 / (N_DISTRICTS * NBHD_PER_DISTRICT)))
            for b in range(BEATS_PER_NBHD):
                rows.append(("beat", f"{code}-{b + 1}", 1 / (N_DISTRICTS * NBHD_PER_DISTRICT * BEATS_PER_NBHD)))
    return pd.DataFrame(rows, columns=["area_level", "area", "frac"])


def _geojson() -> dict:
    feats = []
    for d in range(N_DISTRICTS):
        for k in range(NBHD_PER_DISTRICT):
            code = d * NBHD_PER_DISTRICT + k + 1
            x0, y0 = -90 + (code - 1) % 20 * 0.02, 40 + (code - 1) // 20 * 0.02
            ring = [[x0, y0], [x0 + 0.02, y0], [x0 + 0.02, y0 + 0.02], [x0, y0 + 0.02], [x0, y0]]
            feats.append({"type": "Feature", "properties": {"code": code, "name": f"Neighborhood {code}",
                                                            "district": f"d{d + 1:02d}"},
                          "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": feats}


def make_large_results(root: Path, seed: int = 1) -> dict[str, int]:
    """Write the large results store, areas.geojson and survey.toml into ``root``."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    topics = ["satisfaction", "safety", "trust", "problem", "scale"]
    ind = pd.DataFrame({
        "indicator": [f"ind_{i:02d}" for i in range(N_INDICATORS)],
        "topic": [topics[i % 5] for i in range(N_INDICATORS)],
        "statistic": ["score" if i % 5 == 4 else "share" for i in range(N_INDICATORS)],
        "variable": [f"q{i}" for i in range(N_INDICATORS)], "department": None,
        "label_en": [f"Indicator {i}" for i in range(N_INDICATORS)],
        "label_es": [f"Indicador {i}" for i in range(N_INDICATORS)],
        "wording_en": [f"Question {i}?" for i in range(N_INDICATORS)],
        "wording_es": [f"¿Pregunta {i}?" for i in range(N_INDICATORS)],
        "definition": "share answering 4 or 5", "higher_is_better": True})
    ind.loc[0, "indicator"], ind.loc[1, "indicator"], ind.loc[2, "indicator"] = "sat_police_overall", "safe_night", "index_trust"
    ind.loc[2, "topic"] = "trust"
    areas = _areas()
    base = areas.merge(pd.DataFrame({"wave": WAVES}), how="cross").merge(ind[["indicator", "statistic"]], how="cross")
    base["group_dim"], base["group"] = "all", "all"
    grp = [(d, g, 1 / len(gs)) for d, gs in GROUPS.items() for g in gs]
    g = areas[areas.area_level.isin(["city", "district"])].merge(pd.DataFrame({"wave": WAVES}), how="cross") \
        .merge(ind[["indicator", "statistic"]], how="cross").merge(
            pd.DataFrame(grp, columns=["group_dim", "group", "gfrac"]), how="cross")
    g["frac"] = g["frac"] * g.pop("gfrac")
    est = pd.concat([base, g], ignore_index=True)
    n = np.maximum((est["frac"].to_numpy() * RESPONSES_PER_WAVE * rng.uniform(0.05, 0.2, len(est))).astype(int), 5)
    share = est["statistic"].eq("share").to_numpy()
    p = np.where(share, rng.uniform(0.2, 0.8, len(est)), rng.uniform(2.5, 4.2, len(est)))
    se = np.where(share, np.sqrt(p * (1 - p) / n * 1.4), 0.9 / np.sqrt(n))
    lo = np.where(share, np.clip(p - 1.96 * se, 0, 1), p - 1.96 * se)
    hi = np.where(share, np.clip(p + 1.96 * se, 0, 1), p + 1.96 * se)
    rel = np.where(n < 30, "suppress", np.where(n < 60, "flag", "ok"))
    est = est.drop(columns="frac").assign(
        estimate=p, se=se, ci_low=lo, ci_high=hi, df=np.maximum(n - 30, 10).astype(float), n=n, n_eff=n / 1.4,
        deff=1.4, n_dont_know=(n * 0.04).astype(int), reliability=rel,
        reliability_reason=np.where(rel == "ok", None, np.where(rel == "suppress", "fewer than 30 valid answers",
                                                                "fewer than 60 valid answers")),
        method="taylor; raked weights; logit CI")
    allg = est[(est.group_dim == "all") & (est.area_level != "city")]
    cmp_a = allg[["wave", "area_level", "area", "group_dim", "group", "indicator", "statistic", "reliability",
                  "reliability_reason", "df"]].assign(kind="area_vs_rest", wave_ref=None, area_ref="rest")
    cmp_w = est[(est.group_dim == "all") & (est.wave != WAVES[0])][
        ["wave", "area_level", "area", "group_dim", "group", "indicator", "statistic", "reliability",
         "reliability_reason", "df"]].assign(kind="wave_change", area_ref=lambda d: d["area"])
    cmp_w["wave_ref"] = cmp_w["wave"].map(dict(zip(WAVES[1:], WAVES[:-1], strict=True)))
    cmp_ = pd.concat([cmp_a, cmp_w], ignore_index=True)
    m = len(cmp_)
    d = rng.normal(0, 0.04, m)
    dse = rng.uniform(0.01, 0.06, m)
    pv = np.clip(rng.uniform(0, 1, m) ** 2, 0, 1)
    cmp_ = cmp_.assign(estimate=d, se=dse, ci_low=d - 1.96 * dse, ci_high=d + 1.96 * dse, t=d / dse, p=pv,
                       p_adj=np.minimum(pv * 5, 1), adjust="holm", significant=np.minimum(pv * 5, 1) < 0.05,
                       finding=None)
    top = cmp_[cmp_.significant & (cmp_.reliability == "ok")].head(50).index
    cmp_.loc[top, "finding"] = "A plain-language finding about a reliable difference (95% CI)."
    probs = [(f"problem_{i}", ["police", "public_works", "transportation", "parks"][i % 4]) for i in range(12)]
    pr = areas.merge(pd.DataFrame({"wave": WAVES}), how="cross").merge(
        pd.DataFrame(probs, columns=["problem", "department"]), how="cross")
    pn = np.maximum((pr["frac"].to_numpy() * RESPONSES_PER_WAVE * 0.8).astype(int), 5)
    ps = rng.uniform(0.05, 0.5, len(pr))
    pse = np.sqrt(ps * (1 - ps) / pn)
    pr = pr.drop(columns="frac").assign(
        label_en=lambda d: d["problem"].str.replace("_", " "), label_es=lambda d: d["problem"].str.replace("_", " "),
        estimate=ps, se=pse, ci_low=np.clip(ps - 1.96 * pse, 0, 1), ci_high=np.clip(ps + 1.96 * pse, 0, 1), n=pn,
        n_eff=pn / 1.4, reliability=np.where(pn < 30, "suppress", "ok"),
        reliability_reason=np.where(pn < 30, "fewer than 30 valid answers", None))
    pr["rank"] = pr.groupby(["wave", "area_level", "area"])["estimate"].rank(ascending=False, method="first").astype(int)
    pr["rank_low"] = np.maximum(pr["rank"] - 1, 1)
    pr["rank_high"] = pr["rank"] + 1
    svc = areas[areas.area_level.isin(["city", "district"])].merge(pd.DataFrame({"wave": WAVES}), how="cross").merge(
        pd.DataFrame({"service": [f"service_{i}" for i in range(10)], "department": "public_works"}), how="cross")
    imp, sat = rng.uniform(0.1, 0.7, len(svc)), rng.uniform(0.2, 0.9, len(svc))
    score = imp * (1 - sat)
    svc = svc.drop(columns="frac").assign(
        label_en=lambda d: d["service"], label_es=lambda d: d["service"], importance=imp, importance_se=0.01,
        satisfaction=sat, satisfaction_se=0.01, is_score=score,
        band=np.select([score >= 0.2, score >= 0.1, score >= 0.05], ["highest", "high", "medium"], "low"))
    diag = est[(est.group_dim == "all") & (est.indicator == "sat_police_overall")][["wave", "area_level", "area", "n"]]
    diag = diag.assign(kind="sample", metric="completes", value=diag.pop("n").astype(float), detail=None)
    runs = pd.DataFrame([{"run_id": "bench", "started_at": pd.Timestamp("2026-01-01", tz="UTC"),
                          "finished_at": pd.Timestamp("2026-01-01 00:10", tz="UTC"), "instrument": "resident",
                          "instrument_version": "1.0", "waves": ";".join(WAVES), "settings": "{}"}])
    tables = {"indicators": ind, "estimates": est, "comparisons": cmp_, "priorities": pr,
              "importance_satisfaction": svc, "diagnostics": diag, "runs": runs}
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    for name, df in tables.items():
        con.register("_df", df)
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _df')
        con.unregister("_df")
    con.close()
    (root / "areas.geojson").write_text(json.dumps(_geojson()), encoding="utf-8")
    return {k: len(v) for k, v in tables.items()}


# --- callback payloads -------------------------------------------------------------------------

def _fid(page: str, name: str) -> dict:
    return {"name": name, "page": page, "type": "filter"}


def _sid(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def payloads(data, rng: random.Random) -> dict[str, callable]:
    """Makers of a random, valid request body for each callback, by name."""
    from dash_app.app import build_query
    from dash_app.pages import PAGES
    from dash_app.pages._common import area_options

    waves = data.waves
    inds = data.indicators["indicator"].tolist()
    nb = [f"neighborhood:{a}" for a in data.areas("neighborhood")]
    dist = [f"district:{a}" for a in data.areas("district")]
    prio_areas = ["city", *dist, *nb]
    eq_areas = [o["value"] for o in area_options(data, data.estimates[data.estimates.group_dim != "all"], "en")]
    dims = [d for d in data.estimates["group_dim"].unique() if d != "all"]
    filters = {
        "overview": lambda: {"wave": rng.choice(waves)},
        "priorities": lambda: {"wave": rng.choice(waves), "area": rng.choice(prio_areas),
                               "order": rng.choice(["rank", "department"])},
        "map": lambda: {"wave": rng.choice(waves), "indicator": rng.choice(inds),
                        "level": rng.choice(["neighborhood", "district"])},
        "trends": lambda: {"indicator": rng.choice(inds), "areas": rng.sample(dist + nb, 4)},
        "compare": lambda: {"wave": rng.choice(waves), "indicator": rng.choice(inds),
                            "level": rng.choice(["neighborhood", "district", "beat"])},
        "equity": lambda: {"wave": rng.choice(waves), "indicator": rng.choice(inds), "area": rng.choice(eq_areas),
                           "group": rng.choice(dims)},
        "importance": lambda: {"wave": rng.choice(waves), "area": rng.choice(["city", *dist])},
        "methodology": lambda: {"wave": rng.choice(waves)},
        # the generated store has no comment tables: the page's own defaults, its "no comments" view
        "comments": lambda: {"wave": rng.choice(waves)},
    }
    lang_state = {"id": _fid("shell", "lang"), "property": "value", "value": "en"}
    makers: dict[str, callable] = {}
    for mod in PAGES:
        page = mod.PAGE

        def complete(f: dict, mod=mod) -> dict:
            """The random filters plus the page's own default for any filter not drawn above."""
            st = mod.state(data, {k: ",".join(v) if isinstance(v, list) else v for k, v in f.items()})
            return {**{k: st[k] for k in mod.FILTERS if k in st}, **f}

        def view(page=page, mod=mod, complete=complete):
            f = complete(filters[page]())
            return {"output": f"{page}-view.children", "outputs": {"id": f"{page}-view", "property": "children"},
                    "inputs": [{"id": _fid(page, k), "property": "value", "value": f[k]} for k in mod.FILTERS],
                    "changedPropIds": [_sid(_fid(page, mod.FILTERS[0])) + ".value"], "state": [lang_state]}

        def route(page=page, mod=mod, complete=complete):
            f = complete(filters[page]())
            return {"output": "..shell.children...rendered-view.data..",
                    "outputs": [{"id": "shell", "property": "children"}, {"id": "rendered-view", "property": "data"}],
                    "inputs": [{"id": "url", "property": "pathname", "value": mod.PATH},
                               {"id": "url", "property": "search", "value": build_query({**f, "lang": "en"})}],
                    "changedPropIds": ["url.pathname"],
                    "state": [{"id": "rendered-view", "property": "data", "value": None},
                              {"id": "synced-search", "property": "data", "value": None}]}

        makers[f"view:{page}"] = view
        makers[f"route:{page}"] = route

    def sync():
        f = filters["map"]()
        ids_ = [_fid("map", k) for k in f] + [_fid("shell", "lang")]
        vals = [*f.values(), "en"]
        return {"output": "..url.search...synced-search.data..",
                "outputs": [{"id": "url", "property": "search"}, {"id": "synced-search", "property": "data"}],
                "inputs": [[{"id": i, "property": "value", "value": v} for i, v in zip(ids_, vals, strict=True)]],
                "changedPropIds": [_sid(ids_[0]) + ".value"],
                "state": [[{"id": i, "property": "id", "value": i} for i in ids_],
                          {"id": "url", "property": "search", "value": ""}]}

    makers["sync"] = sync
    for fmt in ("csv", "xlsx"):
        def download(fmt=fmt):
            f = filters["compare"]()
            bid = [{"fmt": x, "page": "compare", "type": "download-button"} for x in ("csv", "xlsx")]
            return {"output": "download.data", "outputs": {"id": "download", "property": "data"},
                    "inputs": [[{"id": b, "property": "n_clicks", "value": 1 if b["fmt"] == fmt else 0} for b in bid]],
                    "changedPropIds": [_sid(bid[0 if fmt == "csv" else 1]) + ".n_clicks"],
                    "state": [{"id": "url", "property": "pathname", "value": "/compare"},
                              {"id": "url", "property": "search", "value": build_query({**f, "lang": "en"})}]}
        makers[f"download:{fmt}"] = download
    return makers


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


BENCH_USER, BENCH_PASSWORD = "bench-analyst", "bench-password-1"


def make_users(folder: Path) -> Path:
    """A users file with one analyst, for ``--sign-in``."""
    from dash_app.auth import add_user

    f = folder / "bench-users.json"
    add_user(f, BENCH_USER, "analyst", BENCH_PASSWORD)
    return f


def serial(project: Path, reps: int, seed: int, users: Path | None = None) -> dict:
    from dash_app import create_app
    from dash_app.auth import AuthConfig, load_users

    app = create_app(project, auth=AuthConfig(users=load_users(users)) if users else None)
    client = app.server.test_client()
    if users:
        r = client.post("/_auth/sign-in", data={"name": BENCH_USER, "password": BENCH_PASSWORD, "next": "/"})
        if r.status_code != 303:
            raise RuntimeError(f"sign-in failed: HTTP {r.status_code}")
    rng = random.Random(seed)
    makers = payloads(app.results.get(), rng)
    out = {}
    for name, make in makers.items():
        times, cpu = [], []
        for _ in range(reps):
            body = make()
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.post("/_dash-update-component", json=body)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)  # this process' CPU: robust to other jobs
            if r.status_code not in (200, 204):
                raise RuntimeError(f"{name}: HTTP {r.status_code}: {r.get_data(as_text=True)[:300]}")
        out[name] = {"p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95), "max_ms": max(times), "n": reps,
                     "cpu_p50_ms": _pct(cpu, 50), "cpu_p95_ms": _pct(cpu, 95), "cpu_mean_ms": float(np.mean(cpu))}
        print(f"  {name:22s} p50 {out[name]['p50_ms']:7.1f} ms  p95 {out[name]['p95_ms']:7.1f} ms  "
              f"max {out[name]['max_ms']:7.1f} ms  (CPU p50 {out[name]['cpu_p50_ms']:6.1f}, "
              f"p95 {out[name]['cpu_p95_ms']:6.1f} ms)", flush=True)
    return out


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its live children (Linux /proc; 0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Other servers, for comparison with `survey-pipeline dashboard` (gunicorn): Flask's threaded
# development server (how the command served before) and waitress (threads in one process;
# `pip install waitress`).
OTHER_SERVERS = {
    "flask": "from dash_app import create_app; create_app(sys.argv[1]).run(host='127.0.0.1', port=int(sys.argv[2]))",
    "waitress": "import waitress; from dash_app import create_app; "
                "waitress.serve(create_app(sys.argv[1]).server, host='127.0.0.1', port=int(sys.argv[2]), "
                "threads=int(sys.argv[3]) if len(sys.argv) > 3 else 4)",
}


def _session_cookie(url: str) -> str:
    """Sign in as the benchmark's analyst; the session cookie ("name=value") a browser would send."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    form = urllib.parse.urlencode({"name": BENCH_USER, "password": BENCH_PASSWORD, "next": "/"}).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        resp = opener.open(urllib.request.Request(url + "/_auth/sign-in", data=form), timeout=10)
    except urllib.error.HTTPError as exc:  # the 303 after signing in
        resp = exc
    cookie = resp.headers.get("Set-Cookie", "")
    if resp.status != 303 or not cookie:
        raise RuntimeError(f"sign-in failed: HTTP {resp.status}")
    return cookie.split(";", 1)[0]


def load(project: Path, clients: int, duration: float, rate: float, seed: int,
         server_args: list[str] | None = None, server_kind: str = "cli", users: Path | None = None) -> dict:
    """Open-loop load: ``rate`` requests/s in total, Poisson arrivals, spread over ``clients`` threads."""
    from dash_app.data import ResultsSource

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if server_kind == "cli":
        cmd = [sys.executable, "-c", "import sys; from survey_pipeline.cli import main; sys.exit(main())",
               "dashboard", "--project", str(project), "--port", str(port), *(server_args or []),
               *(["--auth", str(users)] if users else [])]
    else:
        cmd = [sys.executable, "-c", "import sys; " + OTHER_SERVERS[server_kind], str(project), str(port),
               *(server_args or [])]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(url + ("/_auth/sign-in" if users else "/_dash-layout"), timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the dashboard server did not start")
        headers = {"Content-Type": "application/json"}
        if users:
            headers["Cookie"] = _session_cookie(url)
        data = ResultsSource(project).get()
        lat: dict[str, list[float]] = {}
        errors: list[str] = []
        lock = threading.Lock()
        # every client's payload makers are built before the clock starts: building them reads the
        # results (seconds on a large project), which is the client's cost, not the server's
        rngs = [random.Random(seed + i) for i in range(clients)]
        makers_of = [payloads(data, r) for r in rngs]
        start = time.perf_counter() + 0.5

        def client(i: int) -> None:
            r = rngs[i]
            makers = makers_of[i]
            names = sorted(makers)
            t_next = start + r.expovariate(rate / clients)
            while t_next < start + duration:
                now = time.perf_counter()
                if t_next > now:
                    time.sleep(t_next - now)
                name = r.choice(names)
                body = json.dumps(makers[name]()).encode()
                req = urllib.request.Request(url + "/_dash-update-component", data=body, headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        resp.read()
                        ok = resp.status in (200, 204)
                except Exception as exc:
                    ok = False
                    with lock:
                        errors.append(f"{name}: {exc}")
                done = time.perf_counter()
                with lock:
                    lat.setdefault(name, []).append((done - t_next) * 1000)
                    if not ok and not errors:
                        errors.append(name)
                t_next += r.expovariate(rate / clients)

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
        server_cpu0, client_cpu0, wall0 = _tree_cpu_seconds(server.pid), time.process_time(), time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - wall0
        server_cpu, client_cpu = _tree_cpu_seconds(server.pid) - server_cpu0, time.process_time() - client_cpu0
        every = [x for v in lat.values() for x in v]
        res = {"loadavg_end": os.getloadavg(),
               "server_cores_used": server_cpu / wall, "client_cores_used": client_cpu / wall,
               "server_cpu_ms_per_request": server_cpu * 1000 / max(len(every), 1),
               "requests": len(every), "errors": len(errors), "error_examples": errors[:5],
               "p50_ms": _pct(every, 50), "p95_ms": _pct(every, 95), "p99_ms": _pct(every, 99),
               "max_ms": max(every) if every else None,
               "by_callback": {k: {"n": len(v), "p95_ms": _pct(v, 95)} for k, v in sorted(lat.items())}}
        return res
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    global N_DISTRICTS, RESPONSES_PER_WAVE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--rate", default="10,25", help="total requests per second (open loop); several: 10,25")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-serial", action="store_true")
    ap.add_argument("--project", type=Path, default=None,
                    help="keep the generated project here (reused when it already holds a store)")
    ap.add_argument("--server", choices=["cli", *OTHER_SERVERS], default="cli",
                    help="cli: `survey-pipeline dashboard` (gunicorn); flask: Flask's threaded dev server; "
                         "waitress: waitress with --server-args threads")
    ap.add_argument("--server-args", default="",
                    help="extra `survey-pipeline dashboard` options for the load test, e.g. '--workers 2' "
                         "(with --server waitress: the thread count)")
    ap.add_argument("--sign-in", action="store_true",
                    help="serve with --auth and send a signed-in analyst's session cookie with every request")
    ap.add_argument("--districts", type=int, default=N_DISTRICTS,
                    help=f"districts of the generated program (default {N_DISTRICTS}: 1,000,000 responses)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "dashboard.json")
    args = ap.parse_args()
    if args.districts != N_DISTRICTS:  # the same shape, fewer districts (and responses in proportion)
        RESPONSES_PER_WAVE = RESPONSES_PER_WAVE * args.districts // N_DISTRICTS
        N_DISTRICTS = args.districts
    rates = [float(x) for x in args.rate.split(",") if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project or Path(tmp) / "large"
        if (project / "warehouse.duckdb").exists():
            sizes = {"reused": str(project)}
            print(f"results store: reusing {project}", flush=True)
        else:
            t0 = time.perf_counter()
            sizes = make_large_results(project, args.seed)
            print(f"results store: {sizes} ({time.perf_counter() - t0:.1f} s to generate)", flush=True)
        users = make_users(Path(tmp)) if args.sign_in else None
        if users and args.server != "cli":
            raise SystemExit("--sign-in needs --server cli (the other servers are started without sign-in)")
        res: dict = {"sizes": sizes, "cpus": os.cpu_count(), "server": args.server, "server_args": args.server_args,
                     "sign_in": bool(users), "districts": N_DISTRICTS, "loadavg_before": os.getloadavg()}
        if not args.skip_serial:
            print(f"serial, server-side (Flask test client){', signed in' if users else ''}:", flush=True)
            res["serial"] = serial(project, args.reps, args.seed, users)
        res["load"] = {}
        for rate in [] if args.skip_load else rates:
            print(f"open-loop load: {args.clients} clients, {rate:g} req/s total, {args.duration:g} s, "
                  f"server {args.server} {args.server_args or '(defaults)'}", flush=True)
            ld = load(project, args.clients, args.duration, rate, args.seed, args.server_args.split(), args.server, users)
            res["load"][f"{rate:g}"] = ld
            print(f"  requests {ld['requests']}, errors {ld['errors']}, p50 {ld['p50_ms']:.1f} ms, "
                  f"p95 {ld['p95_ms']:.1f} ms, p99 {ld['p99_ms']:.1f} ms, max {ld['max_ms']:.1f} ms; "
                  f"server {ld['server_cores_used']:.2f} cores ({ld['server_cpu_ms_per_request']:.1f} ms CPU a request), "
                  f"client {ld['client_cores_used']:.2f} cores, load average {ld['loadavg_end'][0]:.1f}", flush=True)
            for k, v in ld["by_callback"].items():
                print(f"    {k:22s} n {v['n']:5d}  p95 {v['p95_ms']:7.1f} ms")
        res["loadavg_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
