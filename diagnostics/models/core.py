"""MSP directory, rubric, diagnostic, ideal-partner profile, target list, thesis and decision."""

__all__: list[str] = []
