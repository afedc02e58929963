"""Builders for diagnostics core models."""
