"""Evaluation of trained models from their results files, no network needed: confusion,
mistakes, ROC, the scan (analysis), every member's test metrics (metrics) and the table of
models (tables)."""
