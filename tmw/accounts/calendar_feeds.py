"""Partners' private calendar feeds: the secret URL, and the apps that put items in it.

The feed is one VCALENDAR of the partner's channel-review bookings and the community events
they host or attend. ``tmw.accounts`` is the ground floor and reads neither app, so each
app above registers a source (``register_feed_source``) that turns a user into calendar
items; the feed asks every source.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

from tmw import ics

from .models import CalendarFeed, User

FeedSource = Callable[[User], Iterable[ics.Event]]
_SOURCES: list[FeedSource] = []
SALT = "tmw.accounts.calendar-feed"


def register_feed_source(source: FeedSource) -> FeedSource:
    """Add a source of calendar items to every partner's feed (called from an app's ``ready``)."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_of(feed: CalendarFeed) -> str | None:
    """The feed's secret, derived again from its nonce; None when it no longer matches (the key changed)."""
    token = salted_hmac(SALT, f"{feed.user_id}:{feed.nonce}", algorithm="sha256").hexdigest()
    return token if hmac.compare_digest(hash_token(token), feed.token_hash) else None


def feed_url(feed: CalendarFeed) -> str | None:
    token = token_of(feed)
    if token is None:
        return None
    return str(settings.SITE_URL) + reverse("accounts:calendar_feed", args=[token])


def feed_for_token(token: str) -> CalendarFeed | None:
    """The active feed whose secret this is, or None (unknown, regenerated, or its user switched off)."""
    if not token or len(token) > 128:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=hash_token(token)).first()
    if feed is None or not feed.user.is_active:
        return None
    return feed


def feed_calendar(user: User) -> str:
    """The whole feed of one user as iCalendar text (no METHOD: it is subscribed to, not an invitation)."""
    items: list[ics.Event] = []
    for source in _SOURCES:
        items.extend(source(user))
    items.sort(key=lambda item: (item.starts_at, item.uid))
    return ics.calendar(items, method=None, name=f"TMW: {user.get_full_name() or user.email}")
