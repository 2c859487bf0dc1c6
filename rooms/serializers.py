"""Model rows to outbound schemas. The only place that decides what a field shows."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from rooms.models import Connection, GroupSession, GuestPass, Message, Participant, ParticipantRole, Prompt, Status
from rooms.schemas import FloorOut, InviteOut, MessageOut, ParticipantOut, PromptOut, SessionOut


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
        role=participant.role,
        online=bool(online),
        muted=participant.is_muted(now) if now is not None else participant.muted,
        hand_raised=participant.hand_raised_at is not None,
        admitted=participant.admitted,
        guest_of=participant.guest_of_id,
        guest_of_name=guest_of.display_name if guest_of is not None else None,
        relationship=participant.relationship or None,
        label=participant_label(participant),
    )


def message_out(message: Message, as_event: type[MessageOut] = MessageOut) -> MessageOut:
    sender = message.participant
    return as_event(
        message_id=message.pk,
        seq=message.seq,
        participant_id=sender.pk,
        display_name=sender.display_name,
        role=sender.role,
        text=message.text,
        html=message.html,
        sent_at=message.sent_at,
        prompt_id=message.prompt_id,
        audience=message.audience,
        recipient_id=message.recipient_id,
        label=participant_label(sender),
    )


def prompt_out(prompt: Prompt) -> PromptOut:
    return PromptOut(prompt_id=prompt.pk, category=prompt.category, text=prompt.text, texts=prompt.texts)


def session_out(session: GroupSession) -> SessionOut:
    return SessionOut(
        id=session.pk,
        title=session.title,
        kind=session.kind,
        status=session.status,
        mode=session.mode,
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


# ------------------------------------------------------------------ family guests


def participant_label(participant: Participant) -> str:
    """How a person is shown: a guest as "Maria (family of Alex)"."""
    if participant.role == ParticipantRole.GUEST and participant.guest_of is not None:
        return f"{participant.display_name} (family of {participant.guest_of.display_name})"
    return participant.display_name


def invite_state(guest_pass: GuestPass, *, session_status: str, guest_online: bool) -> str:
    guest = guest_pass.guest
    if guest_pass.revoked_at is not None or (guest is not None and guest.removed_at is not None):
        return "revoked"
    if guest_pass.redeemed_at is None or guest is None:
        return "lapsed" if session_status == Status.ENDED else "sent"
    if session_status == Status.ENDED:
        return "redeemed"
    if guest.admitted:
        return "admitted"
    return "in_lobby" if guest_online else "redeemed"


def invite_out(guest_pass: GuestPass, *, session_status: str, guest_online: bool) -> InviteOut:
    """Needs `for_participant` and `guest` loaded (select_related)."""
    guest = guest_pass.guest
    return InviteOut(
        invite_id=guest_pass.pk,
        name=guest_pass.name,
        for_participant_id=guest_pass.for_participant_id,
        for_display_name=guest_pass.for_participant.display_name,
        state=invite_state(guest_pass, session_status=session_status, guest_online=guest_online),
        declined=guest_pass.declined,
        created_at=guest_pass.created_at,
        redeemed_at=guest_pass.redeemed_at,
        revoked_at=guest_pass.revoked_at,
        guest_id=guest.pk if guest is not None else None,
        guest_display_name=guest.display_name if guest is not None else None,
        relationship=(guest.relationship or None) if guest is not None else None,
    )


def invites_out(passes: QuerySet[GuestPass], session_status: str) -> list[InviteOut]:
    rows = list(passes.select_related("for_participant", "guest").order_by("created_at", "pk"))
    guest_ids = [row.guest_id for row in rows if row.guest_id is not None]
    online = (
        set(Connection.objects.filter(participant_id__in=guest_ids).values_list("participant_id", flat=True))
        if guest_ids
        else set()  # the common case at connect: no invitation redeemed yet
    )
    return [invite_out(row, session_status=session_status, guest_online=row.guest_id in online) for row in rows]
