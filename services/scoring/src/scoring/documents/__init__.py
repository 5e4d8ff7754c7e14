"""Renderers of the official documents (CSV, XLSX, PDF) from the pure report model in `scoring.domain.report`."""
