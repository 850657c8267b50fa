"""Ingestion: platform readers, column mapping, recoding, quality flags and loading into the store."""
