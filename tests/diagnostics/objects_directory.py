"""Builders for MSP directory and target-list models."""
