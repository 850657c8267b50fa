"""Ingestion: platform readers, column mapping, recoding, quality flags, privacy, the ingest pipeline."""
