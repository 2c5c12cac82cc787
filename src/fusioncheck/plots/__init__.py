"""Diagnostic plots (matplotlib, Agg backend)."""
