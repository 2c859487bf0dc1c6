"""What messages a participant may read: enforced where the data is read.

Every read of messages for a client (session.state, ?since=, reconnects) goes
through `visible_messages`; the page never filters.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from rooms.models import Audience, GroupSession, GuestAdmission, GuestPass, Message, Participant, ParticipantRole
from rooms.schemas import InviteOut
from rooms.serializers import invites_out


def guest_windows(participant: Participant) -> list[tuple[int, int | None]]:
    return list(GuestAdmission.objects.filter(participant=participant).values_list("from_seq", "until_seq"))


def visible_messages(participant: Participant) -> QuerySet[Message]:
    return readable_messages(participant).filter(removed_at__isnull=True, text_purged_at__isnull=True)


def readable_messages(participant: Participant) -> QuerySet[Message]:
    """The messages `participant` could read, the removed and purged ones included (their ids only may
    be told: removed_message_ids)."""
    messages = Message.objects.filter(session_id=participant.session_id)
    audience = Q(audience=Audience.ROOM) | Q(participant=participant) | Q(recipient=participant)
    if participant.role == ParticipantRole.FACILITATOR:
        audience |= Q(audience=Audience.FACILITATORS)
    messages = messages.filter(audience)
    if participant.role == ParticipantRole.GUEST:
        # A guest in the lobby sees nothing; an admitted one, only their spans.
        windows = guest_windows(participant) if participant.admitted else []
        if not windows:
            return messages.none()
        allowed = Q()
        for from_seq, until_seq in windows:
            span = Q(seq__gt=from_seq)
            if until_seq is not None:
                span &= Q(seq__lte=until_seq)
            allowed |= span
        messages = messages.filter(allowed)
    return messages.select_related("participant", "participant__guest_of")


def readers_of(message: Message) -> dict[str, Any]:
    """The routing (`send_event_on_commit`'s keywords) of an event about `message` that only those who
    could read it may get, as `visible_messages` decides (message.removed, issue 22, class 7): the private
    line's facilitators and its patient; a facilitator's private.send, its sender and recipient; for a
    room message, everyone in the room but the guests whose admission windows never held it."""
    if message.audience == Audience.FACILITATORS:
        return {"to": "facilitators", "ids": [message.participant_id]}
    if message.audience == Audience.PRIVATE:
        return {"to": "none", "ids": [message.participant_id, message.recipient_id]}
    within = Q(from_seq__lt=message.seq) & (Q(until_seq__isnull=True) | Q(until_seq__gte=message.seq))
    readers = GuestAdmission.objects.filter(within, participant__session_id=message.session_id)
    outside = Participant.objects.filter(session_id=message.session_id, role=ParticipantRole.GUEST).exclude(
        pk__in=readers.values("participant_id")
    )
    return {"to": "members", "exclude": list(outside.values_list("pk", flat=True))}


def recent_visible(participant: Participant, *, since: int | None, state_limit: int, since_limit: int) -> list[Message]:
    messages = visible_messages(participant)
    if since is not None:
        return list(messages.filter(seq__gt=since).order_by("seq")[:since_limit])
    newest = list(messages.order_by("-seq")[:state_limit])
    newest.reverse()
    return newest


def visible_participants(viewer: Participant, everyone: list[Participant]) -> list[Participant]:
    """Who a viewer's session.state lists.

    Facilitators: everyone, the lobby included. Members and admitted guests:
    the people in the room (not the lobby). A guest still in the lobby: only
    themselves and the facilitators; they learn nothing about the group
    (who attends is itself confidential) until they are let in.
    """
    if viewer.role == ParticipantRole.FACILITATOR:
        return everyone
    if viewer.role == ParticipantRole.GUEST and not viewer.admitted:
        return [p for p in everyone if p.pk == viewer.pk or p.role == ParticipantRole.FACILITATOR]
    return [p for p in everyone if p.admitted or p.pk == viewer.pk]


def visible_invites(viewer: Participant, session: GroupSession | None = None) -> list[InviteOut] | None:
    """Family invitations: all of the session's for facilitators, a patient's own, none for guests."""
    if viewer.role == ParticipantRole.GUEST:
        return None
    session = session or viewer.session
    passes = GuestPass.objects.filter(session_id=viewer.session_id)
    if viewer.role != ParticipantRole.FACILITATOR:
        passes = passes.filter(for_participant=viewer)
    return invites_out(passes, session.status)
