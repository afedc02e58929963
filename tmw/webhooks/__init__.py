"""Signed webhooks: operators' endpoints, the deliveries of events to them, and the guard on where they may point."""
