"""The read side: everything that reads the published results tables, shared by the report and
the dashboard (``docs/results.md``).

- :mod:`~survey_pipeline.results.tables`: reading the results tables of a project (only the rows
  a reader shows), area and district names, the headline picker, the sample funnel, benchmark rows;
- :mod:`~survey_pipeline.results.sentences`: the one writer of finding sentences, in each language
  (the analysis writes the stored ``finding`` column with it; the report and the dashboard write the
  same sentence in the reader's language);
- :mod:`~survey_pipeline.results.funnel`: the words of the sample funnel's steps.

The spreadsheet formula neutraliser is :mod:`survey_pipeline.safe` (ingest and the instrument
exports use it too). Layers: ``report`` and ``dash_app`` read through this package and import
nothing from ``survey_pipeline.analysis``; ``dash_app`` imports nothing from
``survey_pipeline.report``; this package imports neither (``tests/unit/test_layers.py``).
Nothing is imported here at package import, so ``import survey_pipeline.results.sentences`` stays
light for the analysis.
"""
