"""Phase One tables: rubrics, diagnostics, ideal-partner profiles and target lists."""

from .booking import *  # noqa: F403
from .core import *  # noqa: F403
from .targeting import *  # noqa: F403
