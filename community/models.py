"""Tables of the community app."""
