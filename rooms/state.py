"""Builds `session.state` for one connection: the catch-up read after (re)connecting."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from rooms.broadcast import Viewer
from rooms.errors import NO_SUCH_SESSION, NOT_ON_ROSTER, RoomClosed
from rooms.extensions import state_contributors
from rooms.models import GroupSession, GuestAdmission, Participant, ParticipantRole, RoomClock
from rooms.schemas import FloorOut, SessionState
from rooms.serializers import floor_out, message_out, participant_out, prompt_out, session_out, with_online
from rooms.visibility import readable_messages, recent_visible, visible_invites, visible_participants

# Crisis resources in a language other than LANGUAGE_CODE's: the CIRCLE key that holds them.
CRISIS_RESOURCES_BY_LANGUAGE = {"es": "CRISIS_RESOURCES_ES"}


def crisis_resources(language: str | None) -> str:
    """The clinic's crisis resources in `language` (issue 26), else its default ones."""
    key = CRISIS_RESOURCES_BY_LANGUAGE.get(language or "", "CRISIS_RESOURCES")
    return str(settings.CIRCLE[key])  # type: ignore[literal-required]  # a key of CircleSettings


def load_room(session_id: int) -> GroupSession:
    """The session row with its prompt and its floor/queue version, in one read: one snapshot, so the version
    is the floor's and queue's own (newer events still apply on top of it)."""
    try:
        return GroupSession.objects.select_related("current_prompt", "clock").get(pk=session_id)
    except GroupSession.DoesNotExist:
        raise RoomClosed(NO_SUCH_SESSION) from None


def room_version(session: GroupSession) -> int:
    """The committed floor/queue version of a session read by `load_room` (no clock yet: 0)."""
    try:
        return session.clock.version
    except RoomClock.DoesNotExist:
        return 0


def build_session_state(
    session: GroupSession, everyone: list[Participant], viewer: Participant, *, since: int | None, now: datetime
) -> SessionState:
    """`session` as `load_room` read it; `everyone`: the people not removed, `with_online`, the viewer among them."""
    version = room_version(session)
    is_facilitator = viewer.role == ParticipantRole.FACILITATOR
    facilitator_language = viewer.member.language if is_facilitator and viewer.member else None
    # People in the lobby are not in the room yet: only facilitators see them.
    shown = visible_participants(viewer, everyone)
    if in_lobby(viewer):
        return lobby_state(session, viewer, shown, version, now)
    queue = sorted((p for p in everyone if p.hand_raised_at is not None), key=lambda p: (p.hand_raised_at, p.pk))
    circle = settings.CIRCLE
    # Every message has a seq up to the session's last_seq: when the client has seen that far (a reconnect that
    # missed nothing) or the room has no message yet, there is nothing to read. One committed since the session
    # row was read arrives live (Catchup.last_seq).
    messages = (
        recent_visible(
            viewer, since=since, state_limit=circle["STATE_MESSAGE_LIMIT"], since_limit=circle["SINCE_MESSAGE_LIMIT"]
        )
        if session.last_seq > (since or 0)
        else []
    )
    contributed: dict[str, Any] = {}  # SessionState validates each section
    for contributor in state_contributors:  # the apps' sections: facilitation's round, agenda and stats
        contributed.update(contributor(session, viewer, now))
    return SessionState(
        session=session_out(session),
        me=participant_out(viewer, online=True, now=now),
        participants=[participant_out(p, now=now) for p in shown],
        floor=floor_out(session, now),
        queue=[p.pk for p in queue],
        prompt=prompt_out(session.current_prompt) if session.current_prompt else None,
        messages=[message_out(m) for m in messages],
        # In the facilitator's own language: they are the one who reads them out or passes them on.
        crisis_resources=crisis_resources(facilitator_language) if is_facilitator else None,
        version=version,
        invites=visible_invites(viewer, session),
        removed_message_ids=removed_before(viewer, since) if since is not None else None,
        **contributed,
    )


def in_lobby(viewer: Participant) -> bool:
    return viewer.role == ParticipantRole.GUEST and not viewer.admitted


def lobby_state(
    session: GroupSession, me: Participant, shown: list[Participant], version: int, now: datetime
) -> SessionState:
    """A guest waiting in the lobby learns only what the join page told them (issue 22, class 2): the
    session, the facilitators and themselves. No topic (a custom prompt may name a patient), no floor
    holder or queue, no message nor message id, and none of the apps' sections."""
    return SessionState(
        session=session_out(session),
        me=participant_out(me, online=True, now=now),
        participants=[participant_out(p, now=now) for p in shown],
        floor=FloorOut(holder=None, expires_at=None),
        queue=[],
        prompt=None,
        messages=[],
        version=version,
    )


def removed_before(viewer: Participant, since: int) -> list[int]:
    """Messages a resuming client may still show although they were removed while it was away: only
    ones it could read (the id of someone's private line is not another's to know)."""
    limit = settings.CIRCLE["SINCE_MESSAGE_LIMIT"]
    removed = readable_messages(viewer).filter(seq__lte=since, removed_at__isnull=False).order_by("-seq")
    return list(removed.values_list("pk", flat=True)[:limit])


@dataclass(frozen=True, slots=True)
class Catchup:
    """What a connection needs after (re)connecting or being admitted."""

    viewer: Viewer
    state_text: str
    last_seq: int  # every message up to here is in the state or not visible to this viewer


def load_catchup(session_id: int, participant_id: int, *, since: int | None, now: datetime) -> Catchup:
    """Three reads in the common case (the room, its people, the apps' sections) and the invitations."""
    reading_from = time.time()  # every change committed before now is in what follows (broadcast.Viewer)
    # The session row is read before the messages, so a message committed in
    # between is either in the state (its seq counts) or will arrive live.
    session = load_room(session_id)
    everyone = list(
        with_online(Participant.objects.filter(session=session, removed_at__isnull=True)).select_related("guest_of")
    )
    participant = next((p for p in everyone if p.pk == participant_id), None)
    if participant is None:  # removed since the connection was opened
        raise RoomClosed(NOT_ON_ROSTER)
    for person in everyone:
        person.session = session  # the row just read, not one more read per use
    visible_after = 0
    if participant.role == ParticipantRole.GUEST:
        current = GuestAdmission.objects.filter(participant=participant, until_seq__isnull=True).last()
        visible_after = current.from_seq if current else session.last_seq
    viewer = Viewer(participant.pk, participant.role, participant.admitted, visible_after, reading_from)
    state = build_session_state(session, everyone, participant, since=since, now=now)
    cutoff = max([session.last_seq, *(m.seq for m in state.messages)])
    return Catchup(viewer, state.model_dump_json(), cutoff)
