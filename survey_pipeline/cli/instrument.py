"""`survey-pipeline instrument ...` commands."""

from __future__ import annotations
