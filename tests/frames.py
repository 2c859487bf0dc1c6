"""Facilitator-only client frames: one valid example of each, aimed at real rows (no tests here).

Shared by the tests that send every facilitator-only frame from someone who may not
(tests/test_consumer_rules.py, tests/test_security_ws.py): `EXAMPLES` is the table,
`aim` puts the rows the examples point at into a live session, and `room_snapshot`
is what must not change when they are all refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.models import Member
from facilitator.models import AgendaItem
from record.actions import do_set_goal
from record.models import Goal
from rooms.actions.chat import do_send_chat
from rooms.actions.guests import do_create_invite
from rooms.models import AuditEntry, GroupSession, GuestPass, Message, Participant, Prompt
from tests.security_support import make_guest

# Frames anyone in the room may send (the contract's "Anyone in the room", plus the
# patient's own invitation answer and the keep-alive): every other handled frame is
# facilitator-only and has an example below.
# goal.set and goal.review: a patient for their own goals (record.actions checks whose).
ANYONE = frozenset(
    {"chat.send", "hand.raise", "hand.lower", "floor.yield", "ping", "invite.decline", "goal.set", "goal.review"}
)


@dataclass(frozen=True)
class Targets:
    """The rows the examples aim at; `cookies` signs in as either guest ("admitted guest", "lobby guest")."""

    participant_id: int  # a patient: the one to mute, remove, give the floor, invite a guest for...
    admitted_guest_id: int
    waiting_guest_id: int
    message_id: int
    prompt_id: int
    item_id: int  # an agenda item
    invite_id: int  # a pass not used yet
    goal_id: int = 8  # a goal of the target patient
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Example:
    type: str
    fields: Callable[[Targets], dict[str, Any]]
    variant: str = ""

    @property
    def id(self) -> str:
        return f"{self.type} ({self.variant})" if self.variant else self.type

    def frame(self, targets: Targets) -> dict[str, Any]:
        return {"type": self.type, **self.fields(targets)}


EXAMPLES = (
    Example("session.start", lambda t: {}),
    Example("session.end", lambda t: {}),
    Example("mode.set", lambda t: {"mode": "open"}),
    Example("floor.grant", lambda t: {"participant_id": t.participant_id, "seconds": 60}),
    Example("floor.revoke", lambda t: {}),
    Example("round.next", lambda t: {}),
    Example("prompt.post", lambda t: {"prompt_id": t.prompt_id}),
    Example("prompt.post", lambda t: {"category": "stress", "text": "What stresses you?"}, "custom"),
    Example("participant.mute", lambda t: {"participant_id": t.participant_id}),
    Example("participant.unmute", lambda t: {"participant_id": t.participant_id}),
    Example("participant.remove", lambda t: {"participant_id": t.participant_id, "reason": "testing"}),
    Example("message.remove", lambda t: {"message_id": t.message_id, "reason": "testing"}),
    Example("slowmode.set", lambda t: {"seconds": 30}),
    Example("lobby.admit", lambda t: {"participant_id": t.waiting_guest_id}),
    Example("lobby.deny", lambda t: {"participant_id": t.waiting_guest_id}),
    Example("lobby.return", lambda t: {"participant_id": t.admitted_guest_id}),
    Example("lobby.say", lambda t: {"text": "A note"}),
    Example("invite.create", lambda t: {"for_participant_id": t.participant_id, "name": "Kim"}),
    Example("invite.revoke", lambda t: {"invite_id": t.invite_id}),
    Example("hand.clear", lambda t: {}),
    Example("private.send", lambda t: {"participant_id": t.participant_id, "text": "just between us"}),
    Example("agenda.add", lambda t: {"prompt_id": t.prompt_id}),
    Example("agenda.remove", lambda t: {"item_id": t.item_id}),
    Example("agenda.move", lambda t: {"item_id": t.item_id, "position": 0}),
    Example("agenda.next", lambda t: {}),
    Example("goal.status", lambda t: {"goal_id": t.goal_id, "status": "met"}),
)
FACILITATOR_ONLY = frozenset(example.type for example in EXAMPLES)


def example_id(example: Example) -> str:
    """pytest ids for a parametrization over EXAMPLES."""
    return example.id


def aim(session: GroupSession, lead: Member, target: Member, other: Member) -> Targets:
    """One room message, a library prompt on the agenda, a pending pass for `target`, an admitted
    guest of `target` and a guest of `other` waiting in the lobby: something for every example."""
    now = timezone.now()
    lead_pid = Participant.objects.get(session=session, member=lead).pk
    target_pid = Participant.objects.get(session=session, member=target).pk
    message = do_send_chat(session.pk, lead_pid, "Welcome", now)
    prompt = Prompt.objects.create(category="coping", text="What helped you this week?")
    item = AgendaItem.objects.create(session=session, prompt=prompt, position=0)
    admitted = make_guest(session, target, "Pat", admitted=True)
    waiting = make_guest(session, other, "Robin")
    invite, _ = do_create_invite(session.pk, lead_pid, target_pid, "Kim", now)
    goal = do_set_goal(session.pk, lead_pid, target_pid, "Walk every morning", None, now)
    return Targets(
        participant_id=target_pid,
        admitted_guest_id=admitted.participant.pk,
        waiting_guest_id=waiting.participant.pk,
        message_id=message.pk,
        prompt_id=prompt.pk,
        item_id=item.pk,
        invite_id=invite.pk,
        goal_id=goal.pk,
        cookies={"admitted guest": admitted.cookie, "lobby guest": waiting.cookie},
    )


def room_snapshot(session: GroupSession) -> dict[str, Any]:
    """Everything a facilitator-only frame could change in `session`, to compare before and after."""
    room = GroupSession.objects.get(pk=session.pk)
    return {
        "session": (
            room.status,
            room.mode,
            room.floor_holder_id,
            room.floor_expires_at,
            room.round_seconds,
            room.current_prompt_id,
            room.slowmode_seconds,
            room.last_seq,
        ),
        "participants": list(
            Participant.objects.filter(session=session)
            .order_by("pk")
            .values_list("pk", "role", "muted", "muted_until", "removed_at", "admitted", "hand_raised_at")
        ),
        "messages": list(Message.objects.filter(session=session).order_by("pk").values_list("pk", "removed_at")),
        "agenda": list(
            AgendaItem.objects.filter(session=session).order_by("pk").values_list("pk", "position", "posted_at")
        ),
        "passes": list(
            GuestPass.objects.filter(session=session).order_by("pk").values_list("pk", "revoked_at", "declined")
        ),
        "goals": list(Goal.objects.filter(set_in=session).order_by("pk").values_list("pk", "status")),
        "session prompts": list(Prompt.objects.filter(session=session).values_list("pk", flat=True)),
        "audit entries": AuditEntry.objects.filter(session=session).count(),
    }
