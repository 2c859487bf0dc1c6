"""What messages a participant may read: enforced where the data is read.

Every read of messages for a client (session.state, ?since=, reconnects) goes
through `visible_messages`; the page never filters.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from rooms.models import Audience, GuestAdmission, Message, Participant


def guest_windows(participant: Participant) -> list[tuple[int, int | None]]:
    return list(GuestAdmission.objects.filter(participant=participant).values_list("from_seq", "until_seq"))


def visible_messages(participant: Participant) -> QuerySet[Message]:
    messages = Message.objects.filter(
        session_id=participant.session_id, removed_at__isnull=True, text_purged_at__isnull=True
    )
    audience = Q(audience=Audience.ROOM) | Q(participant=participant) | Q(recipient=participant)
    if participant.role == "facilitator":
        audience |= Q(audience=Audience.FACILITATORS)
    messages = messages.filter(audience)
    if participant.role == "guest":
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
    return messages.select_related("participant")


def recent_visible(participant: Participant, *, since: int | None, state_limit: int, since_limit: int) -> list[Message]:
    messages = visible_messages(participant)
    if since is not None:
        return list(messages.filter(seq__gt=since).order_by("seq")[:since_limit])
    newest = list(messages.order_by("-seq")[:state_limit])
    newest.reverse()
    return newest
