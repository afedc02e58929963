"""Phase One tables: rubrics, diagnostics, ideal-partner profiles and target lists."""

from .core import *  # noqa: F403
from .targeting import *  # noqa: F403
