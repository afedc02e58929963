"""Phase One tables: the MSP directory, rubrics, diagnostics and target lists, and channel-review bookings."""

from .booking import *  # noqa: F403
from .core import *  # noqa: F403
from .directory import *  # noqa: F403
from .targeting import *  # noqa: F403
