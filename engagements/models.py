"""Tables of the engagements app."""
