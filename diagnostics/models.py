"""Tables of the diagnostics app."""
