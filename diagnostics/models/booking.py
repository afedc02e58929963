"""Partner availability and channel-review bookings."""

__all__: list[str] = []
