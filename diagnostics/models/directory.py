"""directory tables."""

__all__: list[str] = []
