"""Model rows to outbound schemas. The only place that decides what a field shows."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from facilitator.models import Prompt
from rooms.models import Connection, GroupSession, Message, Participant
from rooms.schemas import FloorOut, MessageOut, ParticipantOut, PromptOut, SessionOut


def with_online(participants: QuerySet[Participant]) -> QuerySet[Participant]:
    return participants.annotate(is_online=Exists(Connection.objects.filter(participant=OuterRef("pk"))))


def participant_out(participant: Participant, *, online: bool | None = None, now=None) -> ParticipantOut:
    if online is None:
        online = getattr(participant, "is_online", None)
        if online is None:
            online = Connection.objects.filter(participant=participant).exists()
    guest_of = participant.guest_of
    return ParticipantOut(
        participant_id=participant.pk,
        display_name=participant.display_name,
        role=participant.role,  # type: ignore[arg-type]
        online=bool(online),
        muted=participant.is_muted(now) if now is not None else participant.muted,
        hand_raised=participant.hand_raised_at is not None,
        admitted=participant.admitted,
        guest_of=participant.guest_of_id,
        guest_of_name=guest_of.display_name if guest_of is not None else None,
        relationship=participant.relationship or None,
    )


def message_out(message: Message, as_event: type[MessageOut] = MessageOut) -> MessageOut:
    sender = message.participant
    return as_event(
        message_id=message.pk,
        seq=message.seq,
        participant_id=sender.pk,
        display_name=sender.display_name,
        role=sender.role,  # type: ignore[arg-type]
        text=message.text,
        html=message.html,
        sent_at=message.sent_at,
        prompt_id=message.prompt_id,
        audience=message.audience,  # type: ignore[arg-type]
        recipient_id=message.recipient_id,
    )


def prompt_out(prompt: Prompt) -> PromptOut:
    return PromptOut(prompt_id=prompt.pk, category=prompt.category, text=prompt.text)


def session_out(session: GroupSession) -> SessionOut:
    return SessionOut(
        id=session.pk,
        title=session.title,
        kind=session.kind,  # type: ignore[arg-type]
        status=session.status,  # type: ignore[arg-type]
        mode=session.mode,  # type: ignore[arg-type]
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        allow_guests=session.allow_guests,
        round_seconds=session.round_seconds,
        slowmode_seconds=session.slowmode_seconds,
    )


def floor_out(session: GroupSession, now) -> FloorOut:
    expired = session.floor_expires_at is not None and session.floor_expires_at <= now
    if session.floor_holder_id is None or expired:
        return FloorOut(holder=None, expires_at=None)
    return FloorOut(holder=session.floor_holder_id, expires_at=session.floor_expires_at)
