"""The crisis scan: what patients and guests write is read for signs of risk, and the facilitators are told.

A message-stored hook (rooms.extensions), registered by ModerationConfig.ready():
it runs in the message's transaction, for the room and the private line alike.
"""

from __future__ import annotations

from django.conf import settings

from moderation.lexicon import scan
from rooms.audit import record
from rooms.broadcast import send_event_on_commit
from rooms.models import Message, ParticipantRole
from rooms.schemas import AlertEvent
from rooms.state import crisis_resources


def raise_alert_if_at_risk(message: Message) -> None:
    """Never blocks the message: facilitators alone are told, with the clinic's crisis resources."""
    session, sender = message.session, message.participant
    if sender.role == ParticipantRole.FACILITATOR:
        return
    match = scan(message.text)
    if match is None:
        return
    alert = AlertEvent(
        message_id=message.pk,
        participant_id=sender.pk,
        kind=match.kind,
        excerpt=match.excerpt,
        resources=settings.CIRCLE["CRISIS_RESOURCES"],
        resources_by_language={code: crisis_resources(code) for code, _name in settings.LANGUAGES},
    )
    send_event_on_commit(session.pk, alert, to="facilitators")
    # The session report shows that an alert was raised (kind and message), not the excerpt.
    record(session, None, "alert", message.sent_at, target=sender, message_seq=message.seq, kind=match.kind)
