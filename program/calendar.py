"""A member's private iCalendar feed: /calendar/<token>.ics. The token is shown once; only its SHA-256 is kept
(Member.calendar_token_hash), so a copy of the database cannot be used to read anyone's calendar.

Each event is neutral: the summary `Circle session`, the start, the end, the room's link. No title and no
other person: a calendar is often shared with a household or a work account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from icalendar import Calendar, Event

from accounts.models import Member
from rooms.models import GroupSession, ParticipantRole, Status

RECENT = timedelta(days=30)
COMING = timedelta(days=120)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_turn_calendar_on(member: Member) -> str:
    """A new token (the old address stops working at once); returns the token, never stored."""
    token = secrets.token_urlsafe(24)
    member.calendar_token_hash = token_hash(token)
    member.save(update_fields=["calendar_token_hash"])
    return token


def do_turn_calendar_off(member: Member) -> None:
    member.calendar_token_hash = None
    member.save(update_fields=["calendar_token_hash"])


def feed_member(token: str) -> Member | None:
    if not token:
        return None
    return Member.objects.filter(calendar_token_hash=token_hash(token), is_active=True).first()


def feed_path(token: str) -> str:
    return f"/calendar/{token}.ics"


def feed(member: Member, now: datetime) -> bytes:
    """The member's coming and recent sessions (on the roster, not removed), cancelled ones marked so."""
    sessions = GroupSession.objects.filter(
        participants__member=member,
        participants__removed_at__isnull=True,
        participants__role__in=[ParticipantRole.FACILITATOR, ParticipantRole.PATIENT],
        starts_at__gte=now - RECENT,
        starts_at__lte=now + COMING,
    ).order_by("starts_at")
    calendar = Calendar()
    calendar.add("prodid", "-//Circle//sessions//EN")
    calendar.add("version", "2.0")
    with translation.override(member.language):  # the feed has no reader but the member (issue 26)
        summary = gettext("Circle session")
    for session in sessions:
        event = Event()
        event.add("uid", f"session-{session.pk}@circle")
        event.add("summary", summary)
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("dtstamp", now)
        link = f"{settings.SITE_URL}/sessions/{session.pk}/"
        event.add("url", link)
        event.add("description", link)
        event.add("status", "CANCELLED" if session.status == Status.CANCELLED else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
