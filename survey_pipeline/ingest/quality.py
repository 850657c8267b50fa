"""Quality flags, AAPOR dispositions, the exclusion funnel and AAPOR response rates.

Flag, don't delete: every rule records its threshold and the value it saw (``flags`` table), and
``[quality] exclude`` in survey.toml decides which flags keep a response out of analysis.

Rules
-----
speeder
    ``duration_s < speeder_fraction x median(duration_s)`` over the responses of the same mode
    in this export (not in mail mode: there the duration is the staff's keying time).
straightliner
    the same code for every answered item of a grid with at least ``straightline_min_items``
    answered items, in at least ``straightline_grid_share`` (default half) of such grids the
    respondent answered. (One grid alone is a weak signal: on the San Diego file, 68% of
    respondents gave one identical answer to some grid of 5+ items.)
duplicate_id / duplicate_contact / duplicate_answers
    the platform response id, or the salted hash of the e-mail/phone, already seen (earlier in
    the file or in the store); identical answers *and* identical start and end times as an
    earlier row (rows without times are never called duplicates: weighting by replication makes
    identical rows legitimate).
attention_failed
    an ``attention_check`` question answered with a code other than its ``expected`` code.
preview
    Qualtrics status ``Survey Preview`` (1, 17) or distribution channel ``preview`` — **only in
    web mode**. In mail, phone and in-person waves staff key paper or interviewer answers through
    the preview link, so a preview row there is data entry, not a test (recorded as a note).
test
    status ``Survey Test`` (2) or ``test``, or distribution channel ``test``, in every mode; and
    responses *started before the wave's start date* (``wave_start``, from survey.toml): the
    platform was being tried before fieldwork opened (SurveyMonkey and KoboToolbox exports carry
    no test status).
bot
    ``Q_RecaptchaScore < recaptcha_min`` (web mode only) or status ``Spam``/``Preview Spam``/
    ``Imported Spam`` (every mode).
fraud_duplicate / fraud_score
    ``Q_RelevantIDDuplicateScore >= duplicate_score_min``; ``Q_RelevantIDFraudScore >= fraud_score_min``
    (web mode only: in keyed-in modes the browser scores describe the staff's device — on the
    Tampa Bay mail file 51 of 68 keyed rows score >= 75 as "duplicates" of each other).
disposition
    AAPOR by the share of applicable (relevant) questions answered: complete ``>= complete_min``,
    partial ``>= partial_min``, break-off below.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey_pipeline.ingest.recode import Recoded, kind_codes, question_status
from survey_pipeline.instrument.model import Instrument, Role
from survey_pipeline.project import QualityRules

__all__ = ["FileFlags", "aapor_rates", "contact_hash", "disposition", "file_quality_flags", "quality_flags"]

_PREVIEW = {"survey preview", "1", "17", "offline survey preview", "preview"}
_TEST = {"survey test", "2", "test"}
_SPAM = {"spam", "8", "preview spam", "9", "imported spam", "12"}


EMAIL_SHAPE = r"^[^@\s,;<>()]+@[^@\s,;<>()]+\.[a-z]{2,}$"
"""What a contact e-mail must look like to be hashed: ``anonymous``, ``n/a``, ``none``, ``-`` and
any other placeholder is not a contact (Microsoft Forms writes ``anonymous`` for every response to
an "anyone can respond" form: hashed, they would be one contact and every row a duplicate)."""
PHONE_MIN_DIGITS = 7


def contact_hash(email: pd.Series | None, phone: pd.Series | None, salt: bytes) -> pd.Series:
    """Salted SHA-256 of the normalized e-mail (or digits of the phone); None when neither is given.

    Only real contacts are hashed: an e-mail must be e-mail shaped (:data:`EMAIL_SHAPE`), a phone
    must have at least 7 digits, not all the same; anything else (``anonymous``, ``n/a``, ``-``,
    ``0000000``) counts as no contact.
    """
    parts = []
    if email is not None:
        e = email.astype("string").str.strip().str.casefold()
        parts.append(e.where(e.str.match(EMAIL_SHAPE).fillna(False).astype(bool), pd.NA))
    if phone is not None:
        d = phone.astype("string").str.replace(r"\D", "", regex=True).str[-10:]
        ok = (d.str.len() >= PHONE_MIN_DIGITS) & ~d.str.fullmatch(r"(\d)\1*").fillna(False).astype(bool)
        parts.append(d.where(ok.fillna(False).astype(bool), pd.NA))
    if not parts:
        return pd.Series(None, dtype=object)
    key = parts[0]
    for p in parts[1:]:
        key = key.where(key.notna() & (key != ""), p)
    out = key.map(lambda k: None if k is None or k is pd.NA or k == ""
                  else hashlib.sha256(salt + b"\x00" + str(k).encode()).hexdigest()[:32])
    return out.astype(object)


def disposition(rec: Recoded, inst: Instrument, rules: QualityRules,
                status: tuple | None = None) -> tuple[pd.Series, pd.Series]:
    """AAPOR disposition and the share of applicable questions answered, per response.

    ``status``: :func:`~survey_pipeline.ingest.recode.question_status` of ``rec`` when already computed.
    """
    answered, applicable, qs = status if status is not None else question_status(rec, inst)
    if not qs:
        share = pd.Series(0.0, index=rec.codes.index)
    else:
        n_app = applicable.sum(axis=1)
        share = (answered & applicable).sum(axis=1) / n_app.where(n_app > 0, np.nan)
        share = share.fillna(0.0)
    disp = pd.Series(np.where(share >= rules.complete_min, "complete",
                              np.where(share >= rules.partial_min, "partial", "breakoff")), index=share.index)
    return disp, share


def _duplicate_rows(rec: Recoded, times: pd.DataFrame) -> pd.Series:
    """True for a row whose codes, missing kinds and times equal an earlier row's.

    A 64-bit hash per row of the codes and times (numeric matrices, no per-cell strings) finds the
    candidates; each candidate is then compared in full (missing kinds included) with the first
    row of its hash, so a hash collision never flags a row. (Two different rows sharing a hash,
    probability ~n^2/2^64, could hide a later duplicate of the second one: a miss, never a false flag.)
    """
    # the times: equal time, equal code (factorized as datetimes, not as Timestamp objects)
    cols = [rec.codes[c].to_numpy(dtype=float) for c in rec.codes.columns] + \
        [pd.factorize(times[c])[0].astype(float) for c in times.columns]
    # candidates: a random linear hash of the cells' 64-bit patterns (uint64 arithmetic wraps),
    # accumulated column by column (no row x column copy)
    mult = np.random.default_rng(20240415).integers(1, 2**63, len(cols), dtype=np.uint64) | np.uint64(1)
    h = np.zeros(len(rec.codes), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for m, col in zip(mult, cols, strict=True):
            h += np.nan_to_num(col, nan=-1e300).view(np.uint64) * m
    cand = pd.Series(h).duplicated(keep=False).to_numpy()
    out = np.zeros(len(rec.codes), dtype=bool)
    if cand.any():
        idx = np.flatnonzero(cand)
        group, _ = pd.factorize(h[idx])  # groups numbered in order of first appearance
        first = np.unique(group, return_index=True)[1][group]  # position (in idx) of each group's first row
        same = np.ones(len(idx), dtype=bool)
        for col in cols:  # in full, column by column (NaN equals NaN)
            a, b = col[idx], col[idx[first]]
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
        kinds = kind_codes(rec.kinds.iloc[idx])
        same &= (kinds == kinds[first]).all(axis=1)
        out[idx] = same & (np.arange(len(idx)) != first)
    return pd.Series(out, index=rec.codes.index)


def _num(meta: pd.DataFrame, name: str) -> pd.Series:
    if name not in meta:
        return pd.Series(np.nan, index=meta.index)
    return pd.to_numeric(meta[name], errors="coerce").astype(float)


def _status(meta: pd.DataFrame, name: str) -> pd.Series:
    if name not in meta:
        return pd.Series("", index=meta.index)
    return meta[name].astype("string").fillna("").str.strip().str.casefold()


def quality_flags(rec: Recoded, inst: Instrument, meta: pd.DataFrame, mode: str, rules: QualityRules, *,
                  seen_ids: set[str], seen_contacts: set[str],
                  wave_start=None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Compute every flag: :func:`file_quality_flags`, then :meth:`FileFlags.finish` with what the
    store already holds.

    Parameters
    ----------
    meta, wave_start
        As for :func:`file_quality_flags`.
    seen_ids, seen_contacts
        Response ids and contact hashes the store already holds (``duplicate_id``,
        ``duplicate_contact``).

    Returns
    -------
    flags
        Boolean frame, one column per flag.
    detail
        Long frame ``row, rule, threshold, value, detail`` of every flag raised.
    notes
        Sentences for the summary (e.g. preview rows kept as data entry in a mail wave).
    """
    return file_quality_flags(rec, inst, meta, mode, rules, wave_start=wave_start).finish(seen_ids, seen_contacts)


@dataclass
class _SeenCheck:
    """A rule that also depends on the store: rows whose ``key`` is in the store's set are hits too."""

    rule: str
    key: pd.Series  # string dtype, one per row
    within: np.ndarray  # bool: a duplicate within the file
    valid: np.ndarray  # bool: the key is usable
    text: str
    store_set: str  # "ids" or "contacts"


@dataclass
class FileFlags:
    """The flags of one export computed from the file alone (picklable: computed in a worker process).

    ``detail`` holds the detail frames in rule order, with a :class:`_SeenCheck` where a rule also
    needs the store; :meth:`finish` fills those in, giving exactly what :func:`quality_flags` gives.
    """

    flags: pd.DataFrame
    detail: list
    notes: list[str]

    def finish(self, seen_ids: set[str], seen_contacts: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
        """Flags, detail and notes with the store's response ids and contact hashes taken into account."""
        flags = self.flags.copy()
        idx = flags.index
        detail: list[pd.DataFrame] = []
        for part in self.detail:
            if not isinstance(part, _SeenCheck):
                detail.append(part)
                continue
            seen = seen_ids if part.store_set == "ids" else seen_contacts
            hit = pd.Series((part.within | part.key.isin(list(seen)).to_numpy(dtype=bool)) & part.valid, index=idx)
            flags[part.rule] = flags[part.rule] | hit
            if hit.any():
                detail.append(_detail_frame(idx, hit, part.rule, None, pd.Series(np.nan, index=idx), part.text))
        det = pd.concat(detail, ignore_index=True) if detail else pd.DataFrame(columns=["row", "rule", "threshold", "value", "detail"])
        return flags, det, list(self.notes)


def _detail_frame(idx: pd.Index, hit: pd.Series, rule: str, threshold, value, text: str) -> pd.DataFrame:
    val = value[hit] if isinstance(value, pd.Series) else pd.Series(value, index=idx)[hit]
    return pd.DataFrame({"row": idx[hit.to_numpy()], "rule": rule,
                         "threshold": float(threshold) if threshold is not None else np.nan,
                         "value": pd.to_numeric(val, errors="coerce").astype(float).to_numpy(),
                         "detail": text})


def file_quality_flags(rec: Recoded, inst: Instrument, meta: pd.DataFrame, mode: str, rules: QualityRules, *,
                       wave_start=None) -> FileFlags:
    """Compute every flag from the export alone; :meth:`FileFlags.finish` adds what the store knows.

    Parameters
    ----------
    meta
        Standard meta fields by name (``response_id``, ``duration_s``, ``status``, ``start``,
        ``end``, ``recaptcha_score``, ``duplicate_score``, ``fraud_score``,
        ``distribution_channel``, ``contact_hash``, ``uuid``), one row per kept response.
    wave_start
        The wave's first fieldwork day (a date), or None: earlier starts are test rows.

    Returns
    -------
    FileFlags
        The flags, with ``duplicate_id`` (response id) and ``duplicate_contact`` still to check
        against the store.
    """
    idx = rec.codes.index
    flags = pd.DataFrame(False, index=idx, columns=[
        "speeder", "straightliner", "duplicate_id", "duplicate_contact", "duplicate_answers",
        "attention_failed", "preview", "test", "bot", "fraud_duplicate", "fraud_score"])
    detail: list = []
    notes: list[str] = []

    def record(rule: str, hit: pd.Series, threshold, value, text: str = "") -> None:
        hit = hit.fillna(False).astype(bool)
        flags[rule] = flags[rule] | hit
        if hit.any():
            detail.append(_detail_frame(idx, hit, rule, threshold, value, text))

    def bool_array(s: pd.Series) -> np.ndarray:
        return s.fillna(False).astype(bool).to_numpy()

    dur = _num(meta, "duration_s")
    if mode == "mail":
        pass  # a paper form's "duration" is the staff's keying time, not the respondent's
    elif dur.notna().sum() >= 3:
        cut = rules.speeder_fraction * float(dur.median())
        record("speeder", dur < cut, cut, dur, f"duration < {rules.speeder_fraction} x median ({dur.median():.0f} s) in mode {mode}")

    grids: dict[str, list[str]] = {}
    for v in inst.variables():
        if v.type == "grid" and v.name in rec.codes.columns:
            grids.setdefault(v.question, []).append(v.name)
    eligible = pd.Series(0, index=idx)
    straight = pd.Series(0, index=idx)
    for cols in grids.values():
        if len(cols) < rules.straightline_min_items:
            continue
        block = rec.codes[cols].to_numpy(dtype=float)
        ok = (~np.isnan(block)).sum(axis=1) >= rules.straightline_min_items
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
            same = np.nanmax(block, axis=1) == np.nanmin(block, axis=1)
        eligible += ok.astype(int)
        straight += (ok & same).astype(int)
    share = straight / eligible.where(eligible > 0, np.nan)
    record("straightliner", (straight > 0) & (share >= rules.straightline_grid_share), rules.straightline_grid_share,
           share, f"the same answer to every item in at least {rules.straightline_grid_share:.0%} of the grids of "
                  f">= {rules.straightline_min_items} answered items")

    rid = meta.get("response_id")
    if rid is not None:
        r = rid.astype("string")  # a hit: seen earlier in the file, or in the store (finish)
        detail.append(_SeenCheck("duplicate_id", r, r.duplicated().to_numpy(dtype=bool),
                                 bool_array(r.notna() & (r != "")), "response id seen before", "ids"))
    uuid = meta.get("uuid")
    if uuid is not None:  # KoboToolbox/ODK: a re-sent submission has a new _id but the same instance uuid
        u = uuid.astype("string")
        dup = u.duplicated() & u.notna() & (u != "")
        record("duplicate_id", dup, None, pd.Series(np.nan, index=idx), "submission uuid seen before (re-sent form)")
    ch = meta.get("contact_hash")
    if ch is not None:
        c = ch.astype("string")
        detail.append(_SeenCheck("duplicate_contact", c, c.duplicated().to_numpy(dtype=bool), bool_array(c.notna()),
                                 "same e-mail/phone (salted hash) as an earlier response", "contacts"))
    if "start" in meta and "end" in meta and len(rec.codes.columns):
        has_times = meta["start"].notna() & meta["end"].notna()
        answered_any = rec.codes.notna().any(axis=1)
        dup = _duplicate_rows(rec, meta[["start", "end"]]) & has_times & answered_any
        record("duplicate_answers", dup, None, pd.Series(np.nan, index=idx), "identical answers and start/end times as an earlier row")

    for q in inst.questions():
        if q.role == Role.attention_check and q.expected is not None and q.id in rec.codes.columns:
            got = rec.codes[q.id]
            record("attention_failed", got.notna() & (got != q.expected), q.expected, got,
                   f"'{q.id}' answered other than the expected code {q.expected}")

    status = _status(meta, "status")
    channel = _status(meta, "distribution_channel")
    is_preview = status.isin(list(_PREVIEW)) | (channel == "preview")
    if mode == "web":
        record("preview", is_preview, None, pd.Series(np.nan, index=idx), "Qualtrics survey preview in a web wave (a test)")
    elif is_preview.any():
        notes.append(f"{int(is_preview.sum())} row(s) recorded through the survey preview were kept as data entry, "
                     f"not tests: the mode is '{mode}' (paper or interviewer answers keyed in by staff).")
    record("test", status.isin(list(_TEST)) | (channel == "test"), None, pd.Series(np.nan, index=idx), "survey test row")
    if wave_start is not None and meta.get("start") is not None:
        st = pd.to_datetime(meta["start"], errors="coerce", utc=True)
        first = pd.Timestamp(wave_start).tz_localize("UTC")
        early = st.notna() & (st < first - pd.Timedelta(hours=12))  # before the start day in UTC-12..UTC+12
        record("test", early, None, pd.Series(np.nan, index=idx),
               f"started before the wave's start date {wave_start} (a trial before fieldwork)")
    rc = _num(meta, "recaptcha_score")
    ds = _num(meta, "duplicate_score")
    fs = _num(meta, "fraud_score")
    record("bot", status.isin(list(_SPAM)), None, pd.Series(np.nan, index=idx), "platform status spam")
    if mode == "web":
        record("bot", rc < rules.recaptcha_min, rules.recaptcha_min, rc, "Q_RecaptchaScore below the threshold")
        record("fraud_duplicate", ds >= rules.duplicate_score_min, rules.duplicate_score_min, ds, "Q_RelevantIDDuplicateScore at or above the threshold")
        record("fraud_score", fs >= rules.fraud_score_min, rules.fraud_score_min, fs, "Q_RelevantIDFraudScore at or above the threshold")
    else:
        would = int(((rc < rules.recaptcha_min) | (ds >= rules.duplicate_score_min) | (fs >= rules.fraud_score_min)).sum())
        if would:
            notes.append(f"{would} row(s) have browser bot/duplicate/fraud scores past the thresholds but were not flagged: "
                         f"in mode '{mode}' staff key the answers on their own devices, so the scores describe the staff's browser.")
    return FileFlags(flags, detail, notes)


def _rates(I: float, P: float, R: float, NC: float, O: float, U: float, e: float) -> dict[str, float]:  # noqa: E741
    def div(a: float, b: float) -> float:
        return a / b if b > 0 else np.nan

    ip, base = I + P, I + P + R + NC + O
    return {
        "RR1": div(I, base + U), "RR2": div(ip, base + U),
        "RR3": div(I, base + e * U), "RR4": div(ip, base + e * U),
        "RR5": div(I, base), "RR6": div(ip, base),
        "COOP1": div(I, ip + R + O), "COOP2": div(ip, ip + R + O),
        "COOP3": div(I, ip + R), "COOP4": div(ip, ip + R),
        "REF1": div(R, base + U), "REF2": div(R, base + e * U), "REF3": div(R, base),
        "CON1": div(ip + R + O, base + U), "CON2": div(ip + R + O, base + e * U), "CON3": div(ip + R + O, base),
    }


AAPOR_COLUMNS: tuple[str, ...] = ("area_neighborhood", "disposition", "flag_preview", "flag_test", "flag_bot",
                                  "flag_duplicate_id", "flag_duplicate_contact", "flag_duplicate_answers")
"""The columns of ``responses`` that :func:`aapor_rates` counts (read only these from the store)."""


def aapor_rates(responses: pd.DataFrame, invitations: dict[str, int], *, e: float | None = None,
                area_column: str = "area_neighborhood") -> pd.DataFrame:
    """AAPOR (2023) response, cooperation, refusal and contact rates per area and overall.

    Case counts, for a mailed or e-mailed invitation design with one invitation per sampled
    address (AAPOR Standard Definitions, 10th ed., 2023):

    - **I** complete interviews (disposition ``complete``), **P** partials (``partial``);
    - **R** break-offs (``breakoff``: started, then stopped before ``partial_min``) — AAPOR
      counts break-offs among refusals; explicit refusals are not observed in a self-administered
      export, so R is a lower bound;
    - **NC** non-contacts and **O** other non-interviews: not observed (0);
    - **UH/UO** unknown eligibility: invitations with no returned response
      (``invitations - I - P - R``);
    - **e** the share of unknown-eligibility cases that are eligible: given, or estimated as 1
      (no ineligible cases are observed). Test, preview, bot and duplicate rows are not cases.

    Returns one row per area (and ``all``) with the counts and RR1-RR6, COOP1-4, REF1-3, CON1-3.
    """
    ok = ~responses[["flag_preview", "flag_test", "flag_bot", "flag_duplicate_id",
                     "flag_duplicate_contact", "flag_duplicate_answers"]].any(axis=1)
    r = responses[ok]
    rows = []
    e_used = 1.0 if e is None else float(e)
    total = {"I": 0, "P": 0, "R": 0, "invited": 0}
    # cases per (area, disposition), areas matched without regard to case: one pass over the rows
    key = r[area_column].astype("string").str.casefold()
    cases = r.groupby([key.to_numpy(dtype=object), r["disposition"].to_numpy(dtype=object)]).size().to_dict()
    for area, n_inv in invitations.items():
        a = str(area).casefold()
        I, P, R = (int(cases.get((a, d), 0)) for d in ("complete", "partial", "breakoff"))  # noqa: E741
        U = max(n_inv - I - P - R, 0)
        rows.append({"area": area, "invited": n_inv, "I": I, "P": P, "R": R, "NC": 0, "O": 0, "UH_UO": U, "e": e_used,
                     **_rates(I, P, R, 0, 0, U, e_used)})
        for k, v in (("I", I), ("P", P), ("R", R), ("invited", n_inv)):
            total[k] += v
    if rows:
        U = max(total["invited"] - total["I"] - total["P"] - total["R"], 0)
        rows.append({"area": "all", "invited": total["invited"], "I": total["I"], "P": total["P"], "R": total["R"],
                     "NC": 0, "O": 0, "UH_UO": U, "e": e_used,
                     **_rates(total["I"], total["P"], total["R"], 0, 0, U, e_used)})
    return pd.DataFrame(rows)

