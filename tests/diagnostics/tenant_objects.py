"""Builders of one object per tenant-owned diagnostics model (see tests/factories.py)."""

import tests.diagnostics.objects_core  # noqa: F401
import tests.diagnostics.objects_targeting  # noqa: F401
