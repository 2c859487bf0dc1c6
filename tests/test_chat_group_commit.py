"""Group commit: several chat.sends stored in one transaction give what each would have alone.

`do_send_chats` (rooms.actions.chat) takes a worker's waiting chat.sends together.
The main test builds the same clinic twice, from the same instants: two live rooms
with a facilitator, patients, an admitted guest holding the floor, a muted patient,
a patient at the rate limit and one in slow mode. It sends one list of requests as
one batch to the first copy and one by one (`do_send_chat`) to the second, then
compares everything that can be seen: each request's outcome, the stored messages,
the rooms' seqs, the participation counts, the audit trail and the events
broadcast. The other tests: a database error stores nothing of the batch, a batch
inside a caller's transaction commits nothing of the caller's, and the batch takes
one request per participant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Member
from facilitator.actions.floor_queue import do_grant_floor
from facilitator.actions.rounds import do_set_mode
from moderation.actions import do_mute, do_set_slowmode
from rooms import broadcast
from rooms.actions.chat import ChatRequest, do_send_chat, do_send_chats
from rooms.actions.guests import do_admit_guest
from rooms.actions.lifecycle import do_schedule_session, do_start_session
from rooms.chat_store import chat_store
from rooms.errors import ActionError
from rooms.models import AuditEntry, GroupSession, Message, Participant
from tests.conftest import on_another_thread
from tests.guests_support import invite_and_redeem

pytestmark = pytest.mark.django_db(transaction=True)

PATIENTS = ["alex", "sam", "jordan", "riley", "casey"]
CRISIS = "Some days I want to kill myself"


@dataclass
class Clinic:
    """One copy of the clinic: room "A" (moderated) and room "B" (open, slow mode)."""

    rooms: dict[str, int]
    people: dict[tuple[str, str], int]  # (room, display name) -> participant id
    audited_before: int  # the last audit entry of the set-up

    def label(self, participant_id: int | None) -> str | None:
        if participant_id is None:
            return None
        return next(f"{room}:{name}" for (room, name), pid in self.people.items() if pid == participant_id)

    def room_label(self, session_id: int) -> str:
        return next((name for name, pk in self.rooms.items() if pk == session_id), "missing")

    def request(self, room: str, who: str, text: str, now: datetime, *, to: str | None = None) -> ChatRequest:
        """`who` is "room:name" (someone of another room); `room` may be "missing" (no such session)."""
        person_room, _, name = who.rpartition(":")
        session_id = self.rooms.get(room, 10**9)
        return ChatRequest(session_id, self.people[(person_room or room, name)], text, now, to=to)


def build_clinic(base: datetime, maria_inviter: Member) -> Clinic:
    """The same clinic, from the same instants, every time it is called."""
    rooms, people = {}, {}
    for room, title in (("A", "Tuesday group"), ("B", "Thursday group")):
        session = do_schedule_session(
            title=title, facilitator="dana", patients=PATIENTS, starts_at=base, allow_guests=True
        )
        rooms[room] = session.pk
        for p in Participant.objects.filter(session=session):
            people[(room, p.display_name)] = p.pk
        do_start_session(session.pk, people[(room, "Dana")], base - timedelta(seconds=60))
    a, b = rooms["A"], rooms["B"]
    lead_a, lead_b = people[("A", "Dana")], people[("B", "Dana")]
    # Room A, moderated: Maria (Alex's guest) is admitted and holds the floor; Jordan is muted.
    _, _, maria = invite_and_redeem(GroupSession.objects.get(pk=a), maria_inviter, "Maria")
    people[("A", "Maria")] = maria.pk
    do_admit_guest(a, lead_a, maria.pk, base - timedelta(seconds=50))
    do_grant_floor(a, lead_a, maria.pk, None, base - timedelta(seconds=40))
    do_mute(a, lead_a, people[("A", "Jordan")], None, base - timedelta(seconds=40))
    # Room B, open: Alex has used up the rate limit, Sam wrote 5 s ago, then slow mode began.
    do_set_mode(b, lead_b, "open", None, base - timedelta(seconds=30))
    for number in range(settings.CIRCLE["RATE_LIMIT_COUNT"]):
        do_send_chat(b, people[("B", "Alex")], f"earlier {number}", base - timedelta(seconds=8 - number))
    do_send_chat(b, people[("B", "Sam")], "earlier", base - timedelta(seconds=5))
    do_set_slowmode(b, lead_b, 30, base - timedelta(seconds=1))
    last_entry = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    return Clinic(rooms, people, audited_before=last_entry or 0)


def requests_for(clinic: Clinic, base: datetime) -> list[ChatRequest]:
    at = iter(base + timedelta(milliseconds=10 * i) for i in range(100))
    return [
        clinic.request("A", "Dana", "Welcome, everyone", next(at)),
        clinic.request("A", "Alex", "hi <b>all</b>", next(at)),  # no floor in moderated mode
        clinic.request("A", "Maria", "Hello from Maria https://example.org", next(at)),  # the guest holds the floor
        clinic.request("A", "Jordan", "am I muted?", next(at)),
        clinic.request("B", "Alex", "one more", next(at)),  # rate limit
        clinic.request("B", "Sam", "again", next(at)),  # slow mode
        clinic.request("B", "Dana", "Slow mode is on", next(at)),  # facilitators are exempt
        clinic.request("A", "Riley", CRISIS, next(at), to="facilitators"),  # the private line; an alert
        clinic.request("A", "Sam", "x" * (settings.CIRCLE["MAX_MESSAGE_CHARS"] + 1), next(at)),
        clinic.request("A", "B:Jordan", "wrong room", next(at)),  # not in this session
        clinic.request("missing", "B:Riley", "nowhere", next(at)),  # no such session
        clinic.request("B", "Casey", "   ", next(at)),  # empty
    ]


def outcome(clinic: Clinic, result: Message | ActionError) -> tuple[Any, ...]:
    if isinstance(result, ActionError):
        return ("refused", result.code, result.message, result.extra)
    return ("stored", clinic.room_label(result.session_id), result.seq, result.audience, result.text, result.html)


def seen(clinic: Clinic) -> dict[str, Any]:
    """Everything stored about the rooms that a later reader sees, in terms of names, not ids."""
    messages = Message.objects.filter(session_id__in=clinic.rooms.values()).order_by("session_id", "seq")
    return {
        "messages": [
            (clinic.room_label(m.session_id), m.seq, clinic.label(m.participant_id), m.text, m.html, m.audience)
            for m in messages
        ],
        "last_seq": {
            clinic.room_label(pk): seq
            for pk, seq in GroupSession.objects.filter(pk__in=clinic.rooms.values()).values_list("pk", "last_seq")
        },
        "counts": {
            clinic.label(pk): (sent, chars)
            for pk, sent, chars in Participant.objects.filter(session_id__in=clinic.rooms.values()).values_list(
                "pk", "room_messages", "room_characters"
            )
        },
        "audit": [
            (clinic.label(e.actor_id), e.action, clinic.label(e.target_id), e.message_seq, e.detail)
            for e in AuditEntry.objects.filter(
                session_id__in=clinic.rooms.values(), pk__gt=clinic.audited_before
            ).order_by("pk")
        ],
    }


def event_seen(clinic: Clinic, envelope: dict[str, Any]) -> tuple[Any, ...]:
    event = json.loads(envelope["text"])
    return (
        clinic.room_label(envelope["session_id"]),
        envelope["to"],
        sorted(clinic.label(pid) or "" for pid in envelope["ids"]),
        envelope["seq"],
        event["type"],
        event.get("seq"),
        clinic.label(event.get("participant_id")),
        event.get("text"),
        event.get("kind"),
    )


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The envelopes the actions hand to the channel layer, in order (on commit)."""
    envelopes: list[dict[str, Any]] = []
    monkeypatch.setattr(broadcast, "publish", envelopes.append)
    return envelopes


def test_a_batch_gives_what_each_request_would_alone(dana, alex, sam, jordan, riley, outsider, published):
    base = timezone.now().replace(microsecond=0)
    batched, alone = build_clinic(base, alex), build_clinic(base, alex)
    published.clear()

    batch_results = do_send_chats(requests_for(batched, base))
    batch_events = [event_seen(batched, envelope) for envelope in published]
    published.clear()
    alone_results: list[Message | ActionError] = []
    for request in requests_for(alone, base):
        try:
            alone_results.append(
                do_send_chat(request.session_id, request.participant_id, request.text, request.now, to=request.to)
            )
        except ActionError as error:
            alone_results.append(error)
    alone_events = [event_seen(alone, envelope) for envelope in published]

    assert [outcome(batched, r) for r in batch_results] == [outcome(alone, r) for r in alone_results]
    assert seen(batched) == seen(alone)
    assert batch_events == alone_events
    # What the comparison covers: stored and refused requests of every kind, in both rooms.
    kinds = [r.code if isinstance(r, ActionError) else "stored" for r in batch_results]
    assert kinds == [
        "stored",
        "no_floor",
        "stored",
        "muted",
        "rate_limited",
        "rate_limited",
        "stored",
        "stored",
        "too_long",
        "not_allowed",
        "not_found",
        "invalid",
    ]
    assert [e[4] for e in batch_events].count("alert") == 1
    stored = [r for r in batch_results if isinstance(r, Message)]
    earlier_in_b = settings.CIRCLE["RATE_LIMIT_COUNT"] + 1  # Alex's and Sam's before the batch
    assert [(batched.room_label(m.session_id), m.seq) for m in stored] == [
        ("A", 1),
        ("A", 2),
        ("B", earlier_in_b + 1),
        ("A", 3),
    ]
    assert all(m.pk is not None and not m._state.adding for m in stored)
    assert Message.objects.filter(pk__in=[m.pk for m in stored]).count() == len(stored)


@pytest.fixture
def clinic(dana, alex, sam, jordan, riley, outsider) -> Clinic:
    return build_clinic(timezone.now().replace(microsecond=0), alex)


def all_stored(results: list[Message | ActionError]) -> list[Message]:
    """The batch's results, every one a stored message (a refusal fails the test)."""
    messages = [result for result in results if isinstance(result, Message)]
    assert len(messages) == len(results), results
    return messages


def accepted_requests(clinic: Clinic) -> list[ChatRequest]:
    now = timezone.now()
    return [
        clinic.request("A", "Dana", "Welcome", now),
        clinic.request("A", "Maria", "Hello", now),
        clinic.request("B", "Dana", "Hi there", now),
    ]


def test_the_batch_commits_what_another_connection_then_reads(clinic, published):
    stored = all_stored(do_send_chats(accepted_requests(clinic)))

    assert not connection.in_atomic_block
    visible = on_another_thread(
        lambda: sorted(Message.objects.filter(pk__in=[m.pk for m in stored]).values_list("text", flat=True))
    )
    assert visible == ["Hello", "Hi there", "Welcome"]
    assert [json.loads(envelope["text"])["text"] for envelope in published] == ["Welcome", "Hello", "Hi there"]


def test_a_database_error_stores_nothing_of_the_batch(clinic, published, monkeypatch):
    before = seen(clinic)
    store = chat_store()
    claim = store.claim_rooms_and_senders

    def claim_with_a_taken_seq(*args, **kwargs):
        rooms, senders = claim(*args, **kwargs)
        rooms[clinic.rooms["B"]].last_seq -= 1  # B's next message takes the seq of its last
        return rooms, senders

    monkeypatch.setattr(store, "claim_rooms_and_senders", claim_with_a_taken_seq)
    with pytest.raises(IntegrityError):
        do_send_chats(accepted_requests(clinic))

    assert seen(clinic) == before
    assert published == []
    monkeypatch.undo()
    assert all(isinstance(result, Message) for result in do_send_chats(accepted_requests(clinic)))


def test_inside_a_callers_transaction_the_batch_commits_nothing(clinic, published):
    before = seen(clinic)

    class Undone(Exception):
        pass

    with pytest.raises(Undone), transaction.atomic():
        stored = all_stored(do_send_chats(accepted_requests(clinic)))
        assert [m.seq for m in stored] == [1, 2, settings.CIRCLE["RATE_LIMIT_COUNT"] + 2]
        raise Undone

    assert seen(clinic) == before
    assert published == []


def test_one_request_per_participant(clinic):
    twice = [clinic.request("A", "Dana", "one", timezone.now()), clinic.request("A", "Dana", "two", timezone.now())]

    with pytest.raises(ValueError, match="one request per participant"):
        do_send_chats(twice)
    assert not Message.objects.filter(text__in=["one", "two"]).exists()
