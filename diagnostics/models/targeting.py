"""targeting tables."""

__all__: list[str] = []
