"""A minimal generic-CSV reader for the ingest tests only (the real readers live in
survey_pipeline.ingest.readers). It follows the RawExport contract: one header row, every cell a
str or None, Qualtrics-style metadata columns recognised by name."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

META = {
    "ResponseId": "response_id", "response_id": "response_id", "StartDate": "start", "EndDate": "end",
    "RecordedDate": "submitted", "Duration (in seconds)": "duration_s", "Status": "status",
    "Finished": "finished", "Progress": "progress", "UserLanguage": "language", "IPAddress": "ip",
    "Email": "email", "email": "email", "Phone": "phone", "RecipientFirstName": "recipient_first",
    "RecipientLastName": "recipient_last", "RecipientEmail": "recipient_email",
    "LocationLatitude": "latitude", "LocationLongitude": "longitude",
    "Q_RecaptchaScore": "recaptcha_score", "Q_RelevantIDDuplicateScore": "duplicate_score",
    "Q_RelevantIDFraudScore": "fraud_score", "DistributionChannel": "distribution_channel",
    "duration_s": "duration_s", "start": "start", "end": "end",
}
OTHER_META = {"Q_RelevantIDDuplicate", "Q_RelevantIDLastStartDate", "ExternalReference"}


@dataclass
class RawColumn:
    name: str
    header: str
    text: str | None
    key: str | None
    sub: str | None
    role: str
    position: int


@dataclass
class RawExport:
    file: Path
    platform: str
    frame: pd.DataFrame
    columns: list[RawColumn]
    source_rows: np.ndarray
    meta: dict[str, str]
    header_rows: int = 1
    encoding: str | None = "utf-8"
    delimiter: str | None = ","
    rejected: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_generic(path: Path, platform: str = "auto") -> RawExport:
    text = Path(path).read_text(encoding="utf-8-sig")
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    df = df.where(df != "", None)
    cols, meta = [], {}
    for i, c in enumerate(df.columns):
        role = "meta" if c in META or c in OTHER_META else "answer"
        if c in META:
            meta.setdefault(META[c], c)
        cols.append(RawColumn(name=c, header=c, text=None, key=c, sub=None, role=role, position=i))
    plat = "qualtrics" if "ResponseId" in df.columns else "generic"
    return RawExport(file=Path(path), platform=plat, frame=df.reset_index(drop=True), columns=cols,
                     source_rows=np.arange(2, len(df) + 2), meta=meta)
